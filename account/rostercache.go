package account

// Roster versioning (XEP-0237, now RFC 6121 §2.6): the roster and its
// version are kept in the profile, one file per account
// ("roster-<hash of the account>.json", 0600 like every profile file), so
// a reconnect asks "anything newer than ver?" and a server with nothing
// new answers with an empty result instead of every contact again.
//
// The cache holds what the server sends anyway (addresses, names, groups,
// subscription states): no message text, no secret. A cache that cannot
// be read is ignored (the fetch then asks for the whole roster) and
// rewritten; one that cannot be written costs only the saving.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/internal/atomicfile"
)

type rosterCacheDoc struct {
	Version int
	Account string
	Ver     string
	Items   []wire.RosterItem
}

func (c *client) rosterCachePath() string { return rosterCachePath(c.m.profile.Dir, c.account()) }

func rosterCachePath(dir, account string) string {
	sum := sha256.Sum256([]byte(account))
	return filepath.Join(dir, "roster-"+hex.EncodeToString(sum[:8])+".json")
}

// loadRosterCache reads the cached roster into c.roster.items (only when
// the loop has none yet) and returns the cached version, "" if none.
func (c *client) loadRosterCache() string {
	if c.ext.rosterLoaded {
		return c.ext.rosterVer
	}
	c.ext.rosterLoaded = true
	items, ver := readRosterCache(c.m.profile.Dir, c.account())
	for bare, it := range items {
		c.roster.items[bare] = it
	}
	c.ext.rosterVer = ver
	return ver
}

// readRosterCache reads account's cached roster: the items by bare JID and
// the version, or nothing when there is no cache or it is unreadable.
func readRosterCache(dir, account string) (map[string]wire.RosterItem, string) {
	data, err := os.ReadFile(rosterCachePath(dir, account))
	if err != nil || len(data) > maxProfileFile {
		return nil, ""
	}
	var doc rosterCacheDoc
	if json.Unmarshal(data, &doc) != nil || doc.Version != profileVersion || doc.Account != account || doc.Ver == "" {
		return nil, ""
	}
	items := make(map[string]wire.RosterItem, len(doc.Items))
	for _, it := range doc.Items {
		if bare, ok := bareJID(it.JID); ok {
			it.JID = bare
			items[bare] = it
		}
	}
	return items, doc.Ver
}

// CachedRoster is the roster account had when Sotto last saw it (from the
// profile's roster cache), everyone offline, sorted as RosterChanged's;
// false when there is none. It reads the file itself, without the
// account's loop, so a window can show it before its first frame; the
// loop sends the same as a RosterChanged when it starts.
func (m *Manager) CachedRoster(account string) ([]Contact, bool) {
	m.preloadMu.Lock()
	pl := m.preloaded[account]
	delete(m.preloaded, account) // used once: later calls read the file again
	m.preloadMu.Unlock()
	if pl != nil {
		<-pl.done
		return pl.contacts, pl.ok
	}
	return cachedRoster(m.profile.Dir, account)
}

func cachedRoster(dir, account string) ([]Contact, bool) {
	items, ver := readRosterCache(dir, account)
	if ver == "" || len(items) == 0 {
		return nil, false
	}
	r := newRosterState()
	r.items = items
	return r.snapshot(), true
}

// rosterPreload is a CachedRoster read started by PreloadCachedRosters.
type rosterPreload struct {
	done     chan struct{}
	contacts []Contact
	ok       bool
}

// PreloadCachedRosters starts reading every account's roster cache in the
// background, so that the first CachedRoster of each account (the window's
// first frame) finds it parsed and sorted instead of doing it then: the
// program calls it right after NewManager, and the work overlaps with the
// toolkit's start-up (issue 17's cold start).
func (m *Manager) PreloadCachedRosters() {
	m.preloadMu.Lock()
	defer m.preloadMu.Unlock()
	if m.preloaded == nil {
		m.preloaded = map[string]*rosterPreload{}
	}
	for _, s := range m.profile.Accounts() {
		if _, ok := m.preloaded[s.JID]; ok {
			continue
		}
		pl := &rosterPreload{done: make(chan struct{})}
		m.preloaded[s.JID] = pl
		go func(jid string) {
			defer close(pl.done)
			pl.contacts, pl.ok = cachedRoster(m.profile.Dir, jid)
		}(s.JID)
	}
}

// saveRosterCache writes the roster with version ver ("" = the server
// does not version rosters: nothing is kept).
func (c *client) saveRosterCache(ver string) {
	c.ext.rosterVer = ver
	path := c.rosterCachePath()
	if ver == "" {
		_ = os.Remove(path)
		return
	}
	doc := rosterCacheDoc{Version: profileVersion, Account: c.account(), Ver: ver,
		Items: make([]wire.RosterItem, 0, len(c.roster.items))}
	for _, it := range c.roster.items {
		doc.Items = append(doc.Items, it)
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return
	}
	_ = atomicfile.Write(path, data)
}

// rosterVersioned reports whether the server offers roster versioning
// (RFC 6121 §2.6.1: only then may a fetch carry ver).
func (c *client) rosterVersioned() bool {
	if c.sess == nil {
		return false
	}
	_, ok := c.sess.Feature(wire.NSRosterVer)
	return ok
}
