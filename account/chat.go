package account

// Chat messages: incoming stanzas (with XEP-0280 carbons), the outgoing
// pipeline with its queue, and what a new or lost session means for
// waiting messages and private conversations.

import (
	"errors"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/sotto-im/sotto/account/internal/wire"
)

func (c *client) nowNanos() int64 { return c.m.opt.now().UnixNano() }

func timeFromNanos(n int64) time.Time { return time.Unix(0, n) }

func (c *client) handleMessage(m *wire.Message) {
	if m.MAM != nil {
		c.mamResult(m) // mam.go: from our archive, asked for
		return
	}
	if m.Event != nil {
		c.pepEvent(m) // pep.go: from our account too, so before the checks below
		return
	}
	if m.Received != nil || m.Sent != nil {
		c.handleCarbon(m)
		return
	}
	from, err := jid.Parse(m.From)
	if err != nil || from.Localpart() == "" {
		return // from the server (or blanked: from ourselves)
	}
	c.mamNoteLive(m) // mam.go: its archived copy is not shown again
	bare, res := from.Bare().String(), from.Resourcepart()
	switch m.Type {
	case "error":
		cond := m.Error.Condition()
		c.notice(Conversation{Account: c.account(), Peer: bare, Resource: res},
			"a message could not be delivered ("+cond+")")
		return
	case "groupchat", "headline":
		return
	}
	if bare == c.account() {
		return // a message from our own other device
	}
	if c.handleSignals(m, bare, res) || c.receiveOMEMO(m, bare, res) || m.Body == nil {
		return // receipts and chat states (receipts.go); a blocked sender
	}
	at := c.nowNanos()
	if t, ok := delayStamp(m); ok {
		at = t.UnixNano()
	}
	if c.receiveOtherEncrypted(m, bare, res, at) { // eme.go
		return
	}
	if c.seenLine(bare, m.ID) { // streammgmt.go
		// A line resent after its acknowledgement was lost: shown
		// already. Confirm it again: our first receipt may have been lost
		// with the same link.
		c.acknowledge(m, from.String())
		return
	}
	c.takeOrHold(bare, res, from.String(), m, at) // order.go
}

func delayStamp(m *wire.Message) (time.Time, bool) {
	if m.Delay == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, m.Delay.Stamp)
	return t, err == nil
}

// handleCarbon shows carbons of plain messages. Carbons are only valid
// from our own bare JID (mellium blanks that from to ""): anyone else
// could forge "you received" or "you sent" (CVE-2017-5589 class). Carbons
// of OTR messages are ignored: they belong to another device's session and
// feeding them to ours would break it.
func (c *client) handleCarbon(m *wire.Message) {
	if m.From != "" && m.From != c.account() {
		return
	}
	w := m.Received
	if w == nil {
		w = m.Sent
	}
	fwd := w.Forwarded.Message
	c.mamNoteLive(fwd)
	if fwd != nil && c.carbonOMEMO(m, fwd) { // omemo.go
		return
	}
	if fwd == nil || fwd.Body == nil || isOTR(*fwd.Body) {
		return
	}
	if otherEncryption(fwd) != "" {
		return // another protocol's fallback text (eme.go): not a plain line
	}
	body := stripOTRTag(*fwd.Body)
	if m.Received != nil {
		from, err := jid.Parse(fwd.From)
		if err != nil || from.Localpart() == "" {
			return
		}
		conv := Conversation{Account: c.account(), Peer: from.Bare().String(), Resource: from.Resourcepart()}
		now := c.m.opt.now()
		c.keepPlain(conv, false, body, now)
		c.m.emit(MessageReceived{Conv: conv, Body: body, Time: now})
		return
	}
	to, err := jid.Parse(fwd.To)
	if err != nil || to.Localpart() == "" {
		return
	}
	// Sent from our other device: shown as our own message.
	conv := Conversation{Account: c.account(), Peer: to.Bare().String(), Resource: to.Resourcepart()}
	now := c.m.opt.now()
	c.keepPlain(conv, true, body, now)
	c.m.emit(MessageStateChanged{Conv: conv, ID: "carbon-" + fwd.ID, Body: body, State: SentPlain, Time: now})
}

// sendWire sends one message body to the peer. needPrivate bodies must be
// the session's protocol text: this is the last guard before plaintext
// could leave.
func (c *client) sendWire(pc *privConv, body string, needPrivate bool) error {
	_, err := c.sendWireTagged(pc, body, needPrivate, nil)
	return err
}

// sendWireTagged is sendWire for the stanza that carries a chat line the
// user typed (tag != nil): its stanza id is the line's id (so a receiver
// can drop a resend it already showed, and the peer's receipt names the
// line), it asks for a receipt and says we are active (receipts.go), and
// it is tracked until the server acknowledges it (kept: see writeTagged).
func (c *client) sendWireTagged(pc *privConv, body string, needPrivate bool, tag *lineTag) (kept bool, err error) {
	if needPrivate && !pc.e2e.Protected(body) {
		return false, errors.New("account: refused to send an unencrypted message")
	}
	k := pc.key
	to := k.peer
	if k.res != "" {
		to += "/" + k.res
	}
	m := wire.OutMessage{ID: randomID(), To: to, Type: "chat", Body: body}
	if !omemoStanza(pc, &m) { // omemo.go: an OMEMO element goes as elements, with a fallback body
		return false, errors.New("account: refused to send a damaged OMEMO message")
	}
	if tag != nil {
		m.ID = tag.q.id
		if tag.q.prev != "" {
			m.Follows = &wire.LineRef{ID: tag.q.prev} // order.go
		}
	}
	if isOTR(body) {
		// XEP-0334: servers should not archive OTR messages; XEP-0280:
		// nor copy them to our other devices, which cannot read them.
		m.NoCopy, m.NoStore, m.Private = &wire.Empty{}, &wire.Empty{}, &wire.Empty{}
	}
	if tag != nil {
		c.signalsFor(&m, &pendingReceipt{pc: k, id: tag.q.id, body: tag.q.body})
	}
	if c.m.opt.wireTap != nil {
		c.m.opt.wireTap(to, body)
	}
	return c.writeTagged(m, tag)
}

func (c *client) msgState(pc *privConv, id, body string, st OutState, reason string) {
	c.emitLine(pc, id, body, st, reason, false)
}

func (c *client) emitLine(pc *privConv, id, body string, st OutState, reason string, confirmed bool) {
	e := MessageStateChanged{Conv: c.convID(pc), ID: id, Body: body, State: st,
		Reason: reason, Confirmed: confirmed, Time: c.m.opt.now()}
	if st == SentPlain {
		c.keepPlain(e.Conv, true, body, e.Time) // history.go decides; never other states
	}
	c.m.emit(e)
}

// send is Manager.Send in the loop. Every outcome is a MessageStateChanged.
func (c *client) send(conv Conversation, body string) (string, error) {
	if body == "" {
		return "", errors.New("account: empty message")
	}
	pc, err := c.lookup(conv)
	if err != nil {
		return "", err
	}
	if alt := c.privateSibling(pc); alt != nil {
		pc = alt
	}
	id := randomID()
	c.sendLine(pc, id, body, false)
	return id, nil
}

// sendLine runs a line the user typed (or asked to resend: unsent.go)
// through the pipeline. mustBePrivate: it needed privacy before, whatever
// the conversation is now.
func (c *client) sendLine(pc *privConv, id, body string, mustBePrivate bool) {
	pc.active = c.nowNanos()
	st := pc.state()
	needPrivate := mustBePrivate || c.policyFor(pc.key.peer) == Always || st != e2ePlain || pc.refresh
	switch {
	case st == e2eFinished:
		c.notSent(pc, queued{id: id, body: body, needPrivate: needPrivate}, "not sent: "+pc.key.peer+
			" ended the private conversation; end it too or start it again")
	case c.sess == nil && !c.wantOnline:
		c.notSent(pc, queued{id: id, body: body, needPrivate: needPrivate}, "not sent: the account is offline")
	case c.sess == nil || pc.refresh || (needPrivate && st != e2eEncrypted) || len(pc.queue) > 0 || c.windowFull():
		// A line never overtakes one that waits (order is kept).
		q := queued{id: id, body: body, since: c.nowNanos(), needPrivate: needPrivate, keep: true, typed: c.nowNanos()}
		pc.queue = append(pc.queue, q)
		c.queuedState(pc, q, c.waitReason(pc))
		if c.sess != nil && !pc.refresh {
			c.flushQueue(pc)
			if len(pc.queue) > 0 && pc.state() != e2eEncrypted {
				c.sendQuery(pc, false) // policy Always: start the AKE
			}
		}
	default:
		c.sendNow(pc, queued{id: id, body: body, needPrivate: needPrivate, typed: c.nowNanos()})
	}
}

// sendNow runs one message through the session and onto the wire.
func (c *client) sendNow(pc *privConv, q queued) {
	enc := pc.state() == e2eEncrypted
	if q.needPrivate && !enc {
		c.notSent(pc, q, "not sent: the conversation is no longer private")
		return
	}
	r, err := pc.e2e.Send(c.textOut(pc.key.peer, q.body, enc))
	if err != nil {
		c.notSent(pc, q, "not sent: "+err.Error())
		return
	}
	if !q.chained { // order.go
		q.prev, q.chained, pc.lastLine = pc.lastLine, true, q.id
	}
	tag := &lineTag{pc: pc, q: q, enc: enc}
	counted := c.sm.Enabled()
	for i, w := range r.Send {
		var t *lineTag
		if i == len(r.Send)-1 { // the last fragment completes the message
			t = tag
		}
		kept, err := c.sendWireTagged(pc, w, enc || q.needPrivate, t)
		if err != nil && !kept {
			c.notSent(pc, q, "not sent: "+err.Error())
			return
		}
		// An error with kept: in the stream's care, resent or requeued
		// after the reconnect; the remaining fragments are too (each is
		// counted before its write), so the tagged last one is never
		// dropped.
	}
	c.resentNotice(pc, q)
	if enc {
		pc.lastSent, pc.lastSentAt = q, c.nowNanos()
		if q.requeued {
			c.smStats.Reencrypted++
		}
		c.awaitReceipt(pc, q) // unreceipted.go
	}
	c.e2eEvents(pc, r.Events)
	if counted || c.sess == nil {
		c.lineSending(tag) // streammgmt.go
		c.msgState(pc, q.id, q.body, Sending, "")
		return
	}
	c.lineSent(tag, false)
}

// flushQueue sends what waited, now that the link is up and (for
// needPrivate messages) the conversation is encrypted.
//
// Order is kept: the first line that must wait holds back the ones
// behind it.
func (c *client) flushQueue(pc *privConv) {
	if c.sess == nil || pc.refresh {
		return
	}
	enc := pc.state() == e2eEncrypted
	for len(pc.queue) > 0 && c.sess != nil {
		q := pc.queue[0]
		if q.needPrivate && !enc || c.windowFull() {
			return
		}
		pc.queue = pc.queue[1:]
		c.sendNow(pc, q)
	}
}

// failQueue reports queued messages NotSent (only the needPrivate ones if
// onlyPrivate).
func (c *client) failQueue(pc *privConv, onlyPrivate bool, reason string) {
	keep := pc.queue[:0]
	for _, q := range pc.queue {
		if onlyPrivate && !q.needPrivate {
			keep = append(keep, q)
			continue
		}
		c.notSent(pc, q, reason)
	}
	pc.queue = keep
}

func (c *client) failQueued(reason string) {
	for _, pc := range c.convs {
		c.failQueue(pc, false, reason)
	}
}

// sessionStarted: private conversations are re-established (the peer may
// have lost its session while we were away) before queued private
// messages go out; plain ones go now.
func (c *client) sessionStarted() {
	for _, pc := range c.convs {
		pc.queryRetries = 0
		if pc.state() == e2eEncrypted {
			pc.refresh, pc.refreshSent = true, false
		}
		if !pc.refresh {
			c.flushQueue(pc)
			if len(pc.queue) > 0 {
				c.sendQuery(pc, true) // Always policy messages wait for an AKE
			}
		}
	}
}

// sessionResumed: the stream came back with everything the server held;
// the e2e sessions are as they were, so what waited goes now.
func (c *client) sessionResumed() {
	for _, pc := range c.convs {
		if !pc.refresh {
			c.flushQueue(pc)
		}
	}
}

// peerCameOnline: a resource became available. A private conversation
// with it is refreshed (it may have restarted and lost its keys).
func (c *client) peerCameOnline(peer, res string) {
	c.restartOfflineWaits(peer) // offline.go
	pc, ok := c.convs[peerKey{peer, res}]
	if !ok {
		c.offlineCameOnline(peer, res) // offline.go
		return
	}
	if len(pc.queue) > 0 && pc.state() != e2eEncrypted && !pc.refresh {
		c.sendQuery(pc, true) // lines waited for this contact to come online
	}
	if pc.state() == e2eEncrypted && !pc.refresh {
		pc.refresh, pc.refreshSent, pc.queryRetries = true, false, 0
	}
	if pc.refresh && !pc.refreshSent {
		pc.refreshSent = true
		c.sendQuery(pc, true)
	}
}

// e2eHousekeeping: heartbeats, refresh fallback, queue deadlines.
func (c *client) e2eHousekeeping(now time.Time) {
	deadline := now.Add(-c.m.opt.privateTimeout).UnixNano()
	for _, pc := range c.convs {
		if c.sess != nil {
			c.sendResult(pc, pc.e2e.Tick())
			// The peer's presence never came (not subscribed, or it was
			// online all along from the server's view): query anyway.
			if pc.refresh && !pc.refreshSent && now.Sub(c.connectedAt) > 2*time.Second {
				pc.refreshSent = true
				c.sendQuery(pc, true)
			}
			// A private line still waits: the query or the answer may
			// have been lost with a dropped link; offer again.
			if at, ok := c.queryRetryDue(pc); ok && now.UnixNano() >= at {
				pc.queryRetries++
				c.sendQuery(pc, true)
			}
		}
		expired := false
		keep := pc.queue[:0]
		offline := c.peerOffline(pc.key.peer)
		for _, q := range pc.queue {
			if q.since < deadline && expires(q, offline) {
				expired = true
				c.notSent(pc, q, "not sent: a private conversation could not be established in time")
				continue
			}
			keep = append(keep, q)
		}
		pc.queue = keep
		if expired && pc.refresh && c.sess != nil {
			// The refresh got no answer; stop holding new messages back.
			pc.refresh, pc.refreshSent = false, false
		}
		if expired {
			c.flushQueue(pc) // plain lines behind the expired ones go now
		}
	}
}

// expires reports whether a queued line has a deadline. Only a line that
// waits for privacy has one, and not when the contact is offline
// (offline.go); a plain line waits for the link or for room in the stream
// until it leaves or the user removes it (issue 16: never lose a
// message). nextHousekeeping and e2eHousekeeping must agree on this, or
// the timer would keep firing for a deadline that never acts.
func expires(q queued, peerOffline bool) bool { return q.needPrivate && !peerOffline }
