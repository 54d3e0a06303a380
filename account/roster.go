package account

// The roster (RFC 6121 §2): fetch on login, pushes, add/remove/rename, and
// the snapshot the UI gets in RosterChanged.

import (
	"slices"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/sotto-im/sotto/account/internal/wire"
)

type rosterState struct {
	items map[string]wire.RosterItem     // bare JID -> item
	pres  map[string]map[string]Resource // bare JID -> resource -> presence
}

func newRosterState() rosterState {
	return rosterState{items: map[string]wire.RosterItem{}, pres: map[string]map[string]Resource{}}
}

// allOffline forgets every presence (the link is gone; the server sends
// fresh presences after we log in again).
func (r *rosterState) allOffline() { clear(r.pres) }

// online reports whether the contact's resource is available.
func (r *rosterState) online(bare, res string) bool {
	_, ok := r.pres[bare][res]
	return ok
}

// bestResource is the resource messages to the bare contact should go to,
// "" if none is online.
func (r *rosterState) bestResource(bare string) string {
	res := sortedResources(r.pres[bare])
	if len(res) == 0 {
		return ""
	}
	return res[0].Name
}

// snapshot is a copy the UI may keep, sorted by display name.
func (r *rosterState) snapshot() []Contact {
	out := make([]Contact, 0, len(r.items))
	for bare, it := range r.items {
		out = append(out, Contact{
			JID:          bare,
			Name:         it.Name,
			Groups:       slices.Clone(it.Groups),
			Subscription: subscriptionOrNone(it.Subscription),
			Pending:      it.Ask == "subscribe",
			Resources:    sortedResources(r.pres[bare]),
		})
	}
	// Sorted by lower-case display name, then JID; the names are lowered
	// once each, not in every comparison (2,000 contacts at start-up).
	type keyed struct {
		name string
		i    int
	}
	ks := make([]keyed, len(out))
	for i := range out {
		ks[i] = keyed{strings.ToLower(out[i].DisplayName()), i}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(out[a.i].JID, out[b.i].JID)
	})
	sorted := make([]Contact, len(out))
	for j, k := range ks {
		sorted[j] = out[k.i]
	}
	return sorted
}

func subscriptionOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// showRank orders presences for "best first": higher is better.
func showRank(s Show) int {
	return [...]int{Offline: 0, Available: 4, Chat: 5, Away: 3, XA: 2, DND: 1}[s]
}

// sortedResources: highest priority first, then the more available show,
// then by name so the order is stable.
func sortedResources(m map[string]Resource) []Resource {
	out := make([]Resource, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Resource) int {
		switch {
		case a.Priority != b.Priority:
			return b.Priority - a.Priority
		case showRank(a.Show) != showRank(b.Show):
			return showRank(b.Show) - showRank(a.Show)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// rosterEvery bounds how often a RosterChanged goes out. Each one is a
// full snapshot, and right after login a server sends a presence for
// every contact: with 2,000 contacts that was ~2,000 snapshots of 2,000
// contacts (538 still reached the UI after the event queue coalesced
// them), 2 GB allocated in two seconds, and 25 MB more resident memory
// (BENCHMARKS.md). A change within the interval after a snapshot is
// folded into one snapshot at the interval's end; an isolated change
// goes out at once.
const rosterEvery = 100 * time.Millisecond

// emitRoster sends the roster to the UI, or schedules it (see rosterEvery).
func (c *client) emitRoster() {
	if c.rosterDue != nil {
		return // the pending snapshot will include this change
	}
	if wait := rosterEvery - time.Since(c.rosterSent); wait > 0 {
		c.rosterDue = time.NewTimer(wait)
		return
	}
	c.sendRoster()
}

func (c *client) sendRoster() {
	if c.rosterDue != nil {
		c.rosterDue.Stop()
		c.rosterDue = nil
	}
	c.rosterSent = time.Now()
	c.m.emit(RosterChanged{Account: c.account(), Contacts: c.roster.snapshot()})
}

// rosterDueC is the pending snapshot's timer channel, nil if none.
func (c *client) rosterDueC() <-chan time.Time {
	if c.rosterDue == nil {
		return nil
	}
	return c.rosterDue.C
}

func (c *client) fetchRoster() {
	q := &wire.RosterQuery{}
	versioned := c.rosterVersioned()
	if versioned {
		ver := c.loadRosterCache() // "" asks for the whole roster and a version
		q.Ver = &ver
	}
	c.sendIQ(wire.OutIQ{Type: "get", Roster: q}, func(q *wire.IQ) {
		if q == nil || q.Type != "result" {
			return
		}
		if q.Roster == nil {
			// RFC 6121 §2.6.3: nothing changed since our version; the
			// roster we have stands and changes come as pushes.
			if versioned {
				c.emitRoster()
			}
			return
		}
		clear(c.roster.items)
		for _, it := range q.Roster.Items {
			if bare, ok := bareJID(it.JID); ok && it.Subscription != "remove" {
				it.JID = bare
				c.roster.items[bare] = it
			}
		}
		if versioned {
			c.saveRosterCache(deref(q.Roster.Ver))
		}
		c.emitRoster()
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// rosterPush applies a push (the handler checked it came from our server
// and already answered it).
func (c *client) rosterPush(q *wire.RosterQuery) {
	for _, it := range q.Items {
		bare, ok := bareJID(it.JID)
		if !ok {
			continue
		}
		if it.Subscription == "remove" {
			delete(c.roster.items, bare)
			delete(c.roster.pres, bare)
			continue
		}
		it.JID = bare
		c.roster.items[bare] = it
	}
	if q.Ver != nil && c.rosterVersioned() {
		c.saveRosterCache(*q.Ver)
	}
	c.emitRoster()
}

func (c *client) rosterSet(it wire.RosterItem, what string, then func(error)) {
	if c.sess == nil {
		then(errNotConnected)
		return
	}
	c.sendIQ(wire.OutIQ{Type: "set", Roster: &wire.RosterQuery{Items: []wire.RosterItem{it}}}, func(q *wire.IQ) {
		then(iqErr(q, what))
	})
}

func (c *client) addContact(contact, name string, groups []string, reply func(error)) {
	bare, ok := bareJID(contact)
	if !ok || bare == c.account() {
		reply(errBadContact(contact))
		return
	}
	c.rosterSet(wire.RosterItem{JID: bare, Name: name, Groups: groups}, "adding "+bare, func(err error) {
		if err == nil {
			err = c.sendPresence(wire.OutPresence{To: bare, Type: "subscribe"})
		}
		reply(err)
	})
}

func (c *client) removeContact(contact string, reply func(error)) {
	bare, ok := bareJID(contact)
	if !ok {
		reply(errBadContact(contact))
		return
	}
	c.rosterSet(wire.RosterItem{JID: bare, Subscription: "remove"}, "removing "+bare, reply)
}

func (c *client) renameContact(contact, name string, groups []string, reply func(error)) {
	bare, ok := bareJID(contact)
	if !ok {
		reply(errBadContact(contact))
		return
	}
	if _, known := c.roster.items[bare]; !known {
		reply(errBadContact(contact))
		return
	}
	// The subscription attribute is the server's to set; leave it out.
	c.rosterSet(wire.RosterItem{JID: bare, Name: name, Groups: groups}, "renaming "+bare, reply)
}

// bareJID parses s and returns its canonical bare form.
func bareJID(s string) (string, bool) {
	j, err := jid.Parse(s)
	if err != nil || j.Localpart() == "" {
		return "", false
	}
	return j.Bare().String(), true
}

// jidDomain is the domain of a bare JID string.
func jidDomain(s string) string {
	j, err := jid.Parse(s)
	if err != nil {
		return ""
	}
	return j.Domainpart()
}
