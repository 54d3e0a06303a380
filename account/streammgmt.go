package account

// Stream management (XEP-0198, package sm) in the loop: every stanza we
// write is counted and kept until the server acknowledges it; a chat line
// is reported sent only then; after a drop the stream is resumed and
// exactly the unacknowledged stanzas are written again; when it cannot be
// resumed the unacknowledged chat lines go back into their conversation's
// queue (a line that went out encrypted is only ever sent again
// encrypted, in the re-established session: needPrivate is set on it).
//
// Without stream management (a server that has none) a line is reported
// sent when it was written, with Confirmed false, as before: the server
// may still lose it.

import (
	"errors"
	"time"

	"github.com/sotto-im/sotto/account/internal/sm"
	"github.com/sotto-im/sotto/account/internal/wire"
)

// lineTag marks the stanza that carries a chat line (the last one the
// e2e session produced for it).
type lineTag struct {
	pc  *privConv
	q   queued
	enc bool // it went out encrypted
	// sent: reported SentEncrypted or SentPlain already (the peer's
	// receipt came before the server's ack: receipts.go); the ack then
	// changes nothing, and a lost ack does not send it again.
	sent bool
}

// lost is the line as it may go again: only encrypted if it went so.
func (tag *lineTag) lost() queued {
	q := tag.q
	q.needPrivate = q.needPrivate || tag.enc
	return q
}

// smStats counts what stream management did, for tests and diagnostics.
type smStats struct {
	Resumed     int // streams resumed after a drop
	Resent      int // chat lines written again after a resumption
	Requeued    int // chat lines put back in their queue (no resumption)
	Reencrypted int // requeued lines that went out again, encrypted
	Duplicates  int // incoming lines dropped as already received
	Unreceipted int // lines sent again after a new AKE: no receipt yet (unreceipted.go)
	Held        int // incoming lines held until the one before was shown (order.go)
}

// write encodes one stanza (see writeTagged).
func (c *client) write(v interface{}) error {
	_, err := c.writeTagged(v, nil)
	return err
}

// writeTagged writes one stanza and, with stream management, counts it
// under the session's write lock. kept reports that the stanza is in the
// stream's care even if err is set (counted before a write that failed,
// or held while the link is down and the stream may resume): it will be
// resent or handed back as lost, never silently dropped.
//
// A write that fails or stalls means the link is gone; Serve notices
// too, but we close the conn so it does promptly. The stall limit is a
// deadline on the conn, not a context: mellium watches the context of
// each write in a goroutine that, when the context is done, sets a
// deadline in the past and then clears it; a context cancelled just after
// the write returned can still trigger that and break the next write.
func (c *client) writeTagged(v interface{}, tag *lineTag) (kept bool, err error) {
	var t any
	if tag != nil {
		t = tag
	}
	if c.sess == nil {
		if c.sm.CanResume() {
			c.sm.Later(v, t)
			return true, nil
		}
		return false, errors.New("account: not connected")
	}
	kept = c.sm.Enabled()
	_ = c.raw.SetWriteDeadline(time.Now().Add(writeTimeout))
	err = wire.WriteLocked(c.sess, v, func() { c.sm.Sent(v, t) })
	_ = c.raw.SetWriteDeadline(time.Time{})
	if err != nil {
		_ = c.raw.Close()
		return kept, err
	}
	if tag != nil {
		c.requestAck()
	}
	return kept, nil
}

// requestAck sends <r/> unless one is outstanding. Acks are asked for
// only while lines wait for one, never on a timer when idle.
func (c *client) requestAck() {
	if c.sess == nil || !c.sm.Request() {
		return
	}
	c.ackAskedAt = time.Now()
	_ = c.raw.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := wire.WriteSM(c.sess, sm.WriteRequest); err != nil {
		_ = c.raw.Close()
	}
	_ = c.raw.SetWriteDeadline(time.Time{})
}

// acked: the server's <a/> covered items. Their lines are sent now.
func (c *client) acked(items []sm.Item) {
	for _, it := range items {
		if tag, ok := it.Tag.(*lineTag); ok {
			c.lineSent(tag, true)
		}
	}
	if c.sm.Outstanding() > 0 {
		c.requestAck()
	}
	if len(items) > 0 {
		c.sessionResumed() // the window has room again: what waited goes
	}
}

// maxInFlight is how many chat lines may wait for the server's ack at
// once; the rest wait in their queues, in order, and go as acks come.
// Unbounded, every drop under load resent hundreds of lines at once; the
// server took longer than the ack watchdog to work through them, the
// watchdog dropped the link, and the next resumption resent them all
// again (TestLinkCutsThousandMessagesNoLoss: links dropped for 20 s after
// the faults had stopped).
const maxInFlight = 64

// windowFull reports whether maxInFlight lines wait for an ack.
func (c *client) windowFull() bool {
	return c.sm.Enabled() && c.sm.Outstanding() >= maxInFlight
}

// lineSending records a line shown Sending: written, not acknowledged.
func (c *client) lineSending(tag *lineTag) {
	if c.sending == nil {
		c.sending = map[string]*lineTag{}
	}
	c.sending[tag.q.id] = tag
}

// receiptFor: the peer's receipt for line id came. A line still waiting
// for the server's ack is reported sent first (the server evidently had
// it), so the states always go sending → sent → delivered.
func (c *client) receiptFor(id string) {
	if tag, ok := c.sending[id]; ok {
		c.lineSent(tag, true)
	}
}

// lineSent reports a line sent (confirmed: the server acknowledged it),
// once.
func (c *client) lineSent(tag *lineTag, confirmed bool) {
	if c.sending[tag.q.id] == tag {
		delete(c.sending, tag.q.id)
	}
	if tag.sent {
		return
	}
	tag.sent = true
	st := SentPlain
	if tag.enc {
		st = SentEncrypted
	}
	c.emitLine(tag.pc, tag.q.id, tag.q.body, st, "", confirmed)
}

// smSessionStarted applies what the negotiation did. It reports whether
// the stream was resumed (then the server kept our presence, roster
// subscription and carbons, and the e2e sessions need no refresh).
func (c *client) smSessionStarted() bool {
	o := c.sm.TakeOutcome()
	late := c.sm.TakeLater()
	for _, it := range o.Acked {
		if tag, ok := it.Tag.(*lineTag); ok {
			c.lineSent(tag, true)
		}
	}
	if !o.Resumed {
		c.requeueLost(append(o.Lost, late...))
		return false
	}
	c.requeueLost(o.Lost) // from a stream before the one resumed (sm.Outcome)
	c.smStats.Resumed++
	for _, it := range append(o.Resend, late...) {
		if it.Stanza == nil {
			continue // a handler's reply: it belonged to the old exchange
		}
		tag, _ := it.Tag.(*lineTag)
		if tag != nil {
			c.smStats.Resent++
		}
		// If the link is gone again the rest are still written: each is
		// counted before its write, so the stream keeps it for the next
		// resumption (or hands it back as lost). Stopping here lost them.
		_, _ = c.writeTagged(it.Stanza, tag)
	}
	return true
}

// requeueLost puts chat lines the server never acknowledged back at the
// front of their queues, in order; everything else (presence, IQs, OTR
// protocol messages of the old stream) is dropped: the new session
// starts its own. A line that went out encrypted may only go encrypted
// again — after the session is re-established, never as the old
// ciphertext and never in plain.
func (c *client) requeueLost(items []sm.Item) {
	back := map[*privConv][]queued{}
	var order []*privConv
	for _, it := range items {
		tag, ok := it.Tag.(*lineTag)
		if !ok {
			continue
		}
		if c.sending[tag.q.id] == tag {
			delete(c.sending, tag.q.id)
		}
		if tag.sent {
			continue // the peer confirmed it: it arrived
		}
		if _, live := c.convs[tag.pc.key]; !live || c.convs[tag.pc.key] != tag.pc {
			c.notSent(tag.pc, tag.lost(), "not sent: the server did not confirm it and the conversation is gone")
			continue
		}
		q := tag.q
		q.needPrivate = q.needPrivate || tag.enc
		q.since = c.nowNanos()
		q.requeued, q.keep = true, true
		if back[tag.pc] == nil {
			order = append(order, tag.pc)
		}
		back[tag.pc] = append(back[tag.pc], q)
		c.smStats.Requeued++
		c.queuedState(tag.pc, q, "the server did not confirm it; it will be sent again")
	}
	for _, pc := range order {
		pc.queue = append(back[pc], pc.queue...)
	}
}

// abandonStream: we leave on purpose (log out, new settings). Lines the
// server never acknowledged are reported: they may or may not have
// arrived.
func (c *client) abandonStream() {
	for _, it := range c.sm.Abandon() {
		if tag, ok := it.Tag.(*lineTag); ok && !tag.sent {
			delete(c.sending, tag.q.id)
			c.notSent(tag.pc, tag.lost(),
				"not confirmed: the account went offline before the server confirmed this message; it may not have arrived")
		}
	}
}

// ackOverdue: an <r/> unanswered for a ping interval, with nothing else
// from the server in that time either, means the link is dead (a silent
// black hole never makes Serve return). A server still delivering to us
// is alive, only busy: after a drop under load it works through hundreds
// of resent stanzas before it answers the <r/> behind them, and dropping
// the link then made it all start again.
func (c *client) ackOverdue(now time.Time) bool {
	return c.sess != nil && c.sm.Requested() && now.Sub(later(c.ackAskedAt, c.lastInbound)) > c.m.opt.pingInterval
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// seenLine reports whether a chat message with this stanza id from peer
// was already shown (a line resent after a lost acknowledgement); markLine
// records one that was shown. Only ids of Sotto's own shape (wire.ID, 16
// hex digits: the line's id) are remembered; other clients' ids may
// repeat. A message that could not be read is not marked, so its resend
// is shown.
func (c *client) seenLine(peer, id string) bool {
	if !lineID(id) {
		return false
	}
	_, ok := c.seen[peer+"\x00"+id]
	if ok {
		c.smStats.Duplicates++
	}
	return ok
}

func (c *client) markLine(peer, id string) {
	if !lineID(id) {
		return
	}
	if c.seen == nil || len(c.seen) >= maxSeen {
		c.seen = map[string]struct{}{}
	}
	c.seen[peer+"\x00"+id] = struct{}{}
}

func lineID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// maxSeen bounds the duplicate filter (it is cleared when full: a resend
// comes within seconds of the original, not thousands of lines later).
const maxSeen = 4096
