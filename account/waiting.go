package account

// Plain waiting lines across a restart (issue 16).
//
// A line that waits (Queued: the link is down, the stream is full) lives
// in the account loop's memory. When Sotto quits before it leaves, it
// would be lost. A line whose text may be stored anyway is therefore kept
// on disk while it waits and put back in its queue when Sotto starts
// again; once the server acknowledges it (or it is reported sent without
// stream management, NotSent, or the user removes it) the disk copy goes.
//
// "May be stored" is the rule of the plain-chat history (history.go),
// checked again every time the set of kept lines is worked out, so a line
// stops being kept the moment it no longer qualifies:
//
//   - the user turned Prefs.PlainHistory on;
//   - the line does not need privacy (needPrivate is false: the
//     conversation was plain when it was typed, the policy is not Always,
//     it never went out encrypted) and the contact's policy is not Always
//     now;
//   - every conversation with the contact is plain (peerPlain).
//
// A private line is never written, whatever happens: it is not counted as
// kept, and the quit warning still asks about it (unsent.go).
//
// Only lines that waited are kept: a line written at once and waiting
// only for the server's ack is not (that would be two disk writes per
// message); the quit warning counts it. A kept line that was written
// before the quit but not acknowledged is sent again after the restart
// with the same id: a receiver that still remembers it drops the copy,
// one that restarted too may show it twice — a duplicate rather than a
// loss.
//
// On disk: <profile>/waiting-<hash of the account>.json (the naming of
// the roster cache, rostercache.go), 0600, replaced whole through
// internal/atomicfile (written, fsynced, renamed), removed when nothing
// waits. Writes are coalesced: at most one per waitingWriteGap, and the
// pending one is written before the loop ends, so a burst of lines (a
// stream full of a thousand) costs a few writes, not one each.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/sotto-im/sotto/internal/atomicfile"
)

// waitingWriteGap is the least time between two writes of the file.
const waitingWriteGap = 200 * time.Millisecond

// maxWaitingBody caps a kept line (longer ones are not kept: cutting a
// message the user typed would send something else).
const maxWaitingBody = 64 << 10

type waitingDoc struct {
	Version int
	Account string
	Lines   []waitingLine
}

// waitingLine is one kept line. Lines are in the order they were typed
// per contact; they go to the contact's bare address after a restart.
type waitingLine struct {
	ID    string
	Peer  string
	Body  string
	Typed time.Time
}

func waitingPath(dir, account string) string {
	sum := sha256.Sum256([]byte(account))
	return filepath.Join(dir, "waiting-"+hex.EncodeToString(sum[:8])+".json")
}

// waitingState is what the loop knows of the file.
type waitingState struct {
	onDisk  []string // ids in the file, in its order
	written time.Time
	due     time.Time // a write held back by waitingWriteGap
	failed  bool      // the last write failed (told once)
}

// queuedState reports q Queued, saying whether it is kept on disk.
func (c *client) queuedState(pc *privConv, q queued, reason string) {
	e := MessageStateChanged{Conv: c.convID(pc), ID: q.id, Body: q.body, State: Queued, Reason: reason,
		Kept: q.keep && !q.needPrivate && c.mayKeepFor(pc.key.peer), Time: c.m.opt.now()}
	c.m.emit(e)
}

// mayKeepFor: lines to peer may be kept on disk now (the rules at the
// top, but for the line's own needPrivate).
func (c *client) mayKeepFor(peer string) bool {
	return c.m.profile.Prefs().PlainHistory && c.policyFor(peer) != Always && c.peerPlain(peer)
}

// keptLines is what the file should hold now, in order.
func (c *client) keptLines() []waitingLine {
	type entry struct {
		l   waitingLine
		seq int
	}
	var out []entry
	allowed := map[string]bool{}
	may := func(peer string) bool {
		ok, seen := allowed[peer]
		if !seen {
			ok = c.mayKeepFor(peer)
			allowed[peer] = ok
		}
		return ok
	}
	add := func(pc *privConv, q queued, seq int) {
		if !q.keep || q.needPrivate || len(q.body) > maxWaitingBody || !may(pc.key.peer) {
			return
		}
		out = append(out, entry{waitingLine{ID: q.id, Peer: pc.key.peer, Body: q.body, Typed: timeFromNanos(q.typed).UTC()}, seq})
	}
	for _, tag := range c.sending {
		if !tag.sent && !tag.enc {
			add(tag.pc, tag.q, -1)
		}
	}
	for _, pc := range c.convs {
		for i, q := range pc.queue {
			add(pc, q, i)
		}
	}
	if len(out) == 0 {
		return nil
	}
	// By contact, then in the order typed (lines in flight before the
	// ones still queued: they went first).
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.l.Peer != b.l.Peer {
			return a.l.Peer < b.l.Peer
		}
		if (a.seq < 0) != (b.seq < 0) {
			return a.seq < 0
		}
		if !a.l.Typed.Equal(b.l.Typed) {
			return a.l.Typed.Before(b.l.Typed)
		}
		return a.seq < b.seq
	})
	lines := make([]waitingLine, len(out))
	for i, e := range out {
		lines[i] = e.l
	}
	return lines
}

// syncWaiting brings the file in line with the lines that may be kept;
// now is false only when the write may wait for waitingWriteGap. It runs
// after every event the loop handles (client.run), which is what changes
// the set; when history is off and nothing is on disk it costs nothing.
func (c *client) syncWaiting(now bool) {
	w := &c.waiting
	if len(w.onDisk) == 0 && !c.m.profile.Prefs().PlainHistory {
		return
	}
	lines := c.keptLines()
	ids := make([]string, len(lines))
	for i, l := range lines {
		ids[i] = l.ID
	}
	if slices.Equal(ids, w.onDisk) {
		w.due = time.Time{}
		return
	}
	t := time.Now()
	if !now && t.Sub(w.written) < waitingWriteGap {
		w.due = w.written.Add(waitingWriteGap)
		return
	}
	w.written, w.due = t, time.Time{}
	if err := c.writeWaiting(lines); err != nil {
		if !w.failed && len(lines) > 0 {
			w.failed = true
			c.notice(Conversation{Account: c.account(), Peer: lines[0].Peer},
				"waiting messages could not be saved, so they are lost if Sotto quits before they are sent: "+err.Error())
		}
		return
	}
	w.failed = false
	w.onDisk = ids
}

// writeWaiting replaces the file with lines (removes it for none).
func (c *client) writeWaiting(lines []waitingLine) error {
	path := waitingPath(c.m.profile.Dir, c.account())
	if len(lines) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	data, err := json.Marshal(waitingDoc{Version: profileVersion, Account: c.account(), Lines: lines})
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data)
}

// restoreWaiting puts the lines kept by the last run back in their queues
// (Queued, their ids unchanged) before the account connects. They go to
// the contact's bare address, in the order typed, once the link is up.
// A file that cannot be read is moved aside (it holds the user's text),
// never silently dropped.
func (c *client) restoreWaiting() {
	path := waitingPath(c.m.profile.Dir, c.account())
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	var doc waitingDoc
	if err != nil || len(data) > maxProfileFile || json.Unmarshal(data, &doc) != nil ||
		doc.Version != profileVersion || doc.Account != c.account() {
		_, _ = atomicfile.MoveAside(path)
		return
	}
	now := c.nowNanos()
	for _, l := range doc.Lines {
		peer, ok := bareJID(l.Peer)
		if !ok || l.Body == "" || len(l.Body) > maxWaitingBody || !utf8.ValidString(l.Body) {
			continue
		}
		pc, err := c.conv(peer, "")
		if err != nil {
			continue
		}
		id := l.ID
		if !lineID(id) || c.waitingHas(id) {
			id = randomID()
		}
		typed := l.Typed.UnixNano()
		if l.Typed.IsZero() {
			typed = now
		}
		q := queued{id: id, body: l.Body, since: now, keep: true, typed: typed,
			needPrivate: c.policyFor(peer) == Always} // a policy made stricter meanwhile wins
		pc.queue = append(pc.queue, q)
		c.waiting.onDisk = append(c.waiting.onDisk, id)
		c.queuedState(pc, q, "kept from before Sotto was restarted")
	}
	c.syncWaiting(true) // what no longer qualifies leaves the disk now
}

// waitingHas reports whether a queue already holds line id.
func (c *client) waitingHas(id string) bool {
	for _, pc := range c.convs {
		for _, q := range pc.queue {
			if q.id == id {
				return true
			}
		}
	}
	return false
}

// kept reports whether line id is in the file (as last written).
func (c *client) kept(id string) bool { return slices.Contains(c.waiting.onDisk, id) }
