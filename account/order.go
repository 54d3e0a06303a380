package account

// Lines shown in the order they were typed (issue 16). XMPP keeps the
// order of one stream, but not across a change of streams: when a peer's
// stream cannot be resumed the server hands what it held for the old one
// to the new one late (offline storage, rerouting), after lines sent
// later went straight through; a line whose ciphertext arrived for a
// session the receiver had already replaced comes again only after the
// next AKE (unreceipted.go). Either way a later line arrives first.
//
// So every chat line Sotto sends names the line typed before it in that
// conversation (<follows xmlns='urn:sotto-im:order:0' id='…'/>, next to the
// stanza id that is the line's own id; set once, when the line first goes
// out, and kept on every resend). A receiver that has shown lines from the
// peer in this run holds a line whose predecessor it has not shown, until
// that one is shown (then both go, in order) or for lineHold (then it is
// shown anyway: a predecessor that never left its sender must not hide
// the rest for long). A held line is kept as it came, still encrypted
// (heldLine says why), in memory only; its receipt goes when it is shown,
// and when the loop ends every held line is read and shown first.
//
// What the server learns: which line follows which — it sees their order
// anyway. What a server can do with it: name a predecessor that does not
// exist, and delay a line by lineHold; never hide, change or reorder the
// text (the body is end-to-end encrypted; the id and follows are not).

import (
	"time"

	"github.com/sotto-im/sotto/account/internal/wire"
)

// lineHold is how long a line waits for its predecessor by default.
const lineHold = 10 * time.Second

// maxHeld bounds the held lines of one account; past it the oldest is
// taken at once.
const maxHeld = 512

// heldLine is a line that came before its predecessor, held as it came:
// still encrypted. It is decrypted only when its turn comes, because OTR
// refuses a data message whose counter is lower than the last one it
// opened with the same keys: the earlier line, opened second, would be
// taken for a replay and dropped (seen in TestLinkCutsThousandMessagesNoLoss).
type heldLine struct {
	peer, res, from string
	m               *wire.Message
	at              int64     // when it arrived (manager clock)
	prev            string    // the line it follows
	until           time.Time // taken anyway then (wall clock)
}

// takeOrHold is handleMessage's last step for a chat line from
// peer: read and shown now, or held until its predecessor was shown.
func (c *client) takeOrHold(peer, res, from string, m *wire.Message, at int64) {
	prev := ""
	if m.Follows != nil {
		prev = m.Follows.ID
	}
	if c.mustHold(peer, prev) && lineID(m.ID) {
		if len(c.held) >= maxHeld {
			c.takeHeld(0)
		}
		c.held = append(c.held, heldLine{peer: peer, res: res, from: from, m: m, at: at, prev: prev,
			until: time.Now().Add(c.m.opt.lineHold)})
		c.smStats.Held++
		return
	}
	c.take(peer, res, from, m, at, prev)
}

// take reads one line and acknowledges it if it was shown (receipts.go).
func (c *client) take(peer, res, from string, m *wire.Message, at int64, prev string) {
	if c.receiveChat(peer, res, *m.Body, at, m.ID, prev) {
		c.acknowledge(m, from)
	}
}

// mustHold reports whether a line from peer that follows prev must wait:
// only when this run has shown a line from peer already (after a restart
// the predecessor may have been shown before it) and prev is neither the
// last line shown from peer nor one shown before, or is itself held.
func (c *client) mustHold(peer, prev string) bool {
	if prev == "" || !lineID(prev) {
		return false
	}
	last, any := c.lastShown[peer]
	if !any || prev == last {
		return false
	}
	for _, h := range c.held {
		if h.peer == peer && h.m.ID == prev {
			return true
		}
	}
	_, shown := c.seen[peer+"\x00"+prev]
	return !shown
}

// lineShown records a line shown from peer (receiveChat) and takes what
// waited for it.
func (c *client) lineShown(peer, id string) {
	c.markLine(peer, id)
	if c.lastShown == nil {
		c.lastShown = map[string]string{}
	}
	c.lastShown[peer] = id
	c.releaseHeld()
}

// takeHeld takes the held line at i out of the list and reads it (unless
// a copy was shown meanwhile: then it is only acknowledged again).
func (c *client) takeHeld(i int) {
	h := c.held[i]
	c.held = append(c.held[:i:i], c.held[i+1:]...)
	if c.seenLine(h.peer, h.m.ID) {
		c.acknowledge(h.m, h.from)
		return
	}
	c.take(h.peer, h.res, h.from, h.m, h.at, h.prev)
}

// releaseHeld takes every held line whose predecessor is shown now, in
// the order they came, until none is left to take. Taking one shows it,
// which calls releaseHeld again: the inner call returns at once and this
// loop looks again.
func (c *client) releaseHeld() {
	if c.releasing {
		c.releaseAgain = true
		return
	}
	c.releasing = true
	defer func() { c.releasing = false }()
	for again := true; again; {
		again, c.releaseAgain = false, false
		for i, h := range c.held {
			if !c.mustHold(h.peer, h.prev) {
				c.takeHeld(i)
				again = true
				break
			}
		}
		again = again || c.releaseAgain
	}
}

// heldHousekeeping takes the lines that waited lineHold (the oldest
// first), and what was waiting for them.
func (c *client) heldHousekeeping(now time.Time) {
	for len(c.held) > 0 && !now.Before(c.held[0].until) {
		c.takeHeld(0)
		c.releaseHeld()
	}
}

// nextHeld is when heldHousekeeping has work, if ever.
func (c *client) nextHeld() (time.Time, bool) {
	if len(c.held) == 0 {
		return time.Time{}, false
	}
	return c.held[0].until, true // held in arrival order, all with the same wait
}

// showAllHeld: the loop ends; nothing received stays unread.
func (c *client) showAllHeld() {
	for len(c.held) > 0 {
		c.takeHeld(0)
	}
}
