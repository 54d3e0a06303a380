package account

// Resend until the peer's receipt (issue 16). Stream management covers a
// dropped link while the server keeps our stream; it cannot cover what the
// server itself loses (a restart drops the messages it held in memory for
// a contact whose link was down, and the receipts on their way back). So
// an encrypted line stays on its conversation's unreceipted list, in the
// order sent, until the peer's receipt (XEP-0184) names it; whenever the
// private conversation is established again (a new AKE: after our
// reconnect, the peer's, or the server's restart) the lines still on the
// list go again, first, in order, re-encrypted in the new session — never
// as the old ciphertext and never in plain. The receiver drops a copy of a
// line it already showed (same line id: streammgmt.go's seenLine) and
// confirms it again.
//
// Only for a peer that has sent us a receipt: a client without receipts
// would get every line again after each new AKE. A client with receipts
// that does not drop repeated ids (not Sotto) may show a line twice when
// its receipt was in flight during the new AKE; a lost line is worse.

// maxUnreceipted bounds a conversation's list (a peer that stopped
// confirming): the oldest are forgotten.
const maxUnreceipted = maxPendingReceipts

// awaitReceipt puts a line that went out encrypted, asking for a
// receipt, on pc's list: at the end, once (a line sent again leaves its
// old place, so the list stays in the order the lines last went out).
func (c *client) awaitReceipt(pc *privConv, q queued) {
	if !c.signalsOn() {
		return
	}
	pc.unreceipted = dropID(pc.unreceipted, q.id, false)
	if len(pc.unreceipted) >= maxUnreceipted {
		pc.unreceipted = pc.unreceipted[1:]
	}
	pc.unreceipted = append(pc.unreceipted, q)
}

// receipted: the peer confirmed line id. It leaves the list, and the
// queue if it was waiting there to go again.
func (c *client) receipted(peer, id string) {
	c.peerInfo(peer).receipts = true
	for _, pc := range c.convs {
		if pc.key.peer != peer {
			continue
		}
		pc.unreceipted = dropID(pc.unreceipted, id, false)
		pc.queue = dropID(pc.queue, id, true)
	}
}

// dropID removes the line id from qs (only a requeued one if requeued).
func dropID(qs []queued, id string, requeued bool) []queued {
	for i, q := range qs {
		if q.id == id && (q.requeued || !requeued) {
			return append(qs[:i:i], qs[i+1:]...)
		}
	}
	return qs
}

// resendUnreceipted: pc is encrypted in a new session. Every line the
// peer has not confirmed goes again, re-encrypted, at the front of the
// queue, in the order sent, ahead of everything else that waits (flushQueue
// sends them next); a line already queued again moves there too. Also a
// line the stream still holds (Sending): its old ciphertext, written before
// the new session, may reach the peer after the peer switched keys and be
// unreadable; leaving it out while an earlier line went again put it
// behind a later one, or lost it (it was dropped from the list). The old
// stanza's ack then changes nothing (its tag is done); the peer drops
// whichever copy comes second (same line id).
func (c *client) resendUnreceipted(pc *privConv) {
	if len(pc.unreceipted) == 0 || !c.peerInfo(pc.key.peer).receipts {
		return
	}
	again := make([]queued, 0, len(pc.unreceipted)+len(pc.queue))
	in := map[string]bool{}
	for _, q := range pc.unreceipted {
		if in[q.id] {
			continue
		}
		in[q.id] = true
		if tag := c.sending[q.id]; tag != nil {
			tag.sent = true // superseded: this copy's fate no longer reports the line
			delete(c.sending, q.id)
		}
		q.needPrivate, q.requeued, q.since = true, true, c.nowNanos()
		again = append(again, q)
		c.smStats.Unreceipted++
		c.msgState(pc, q.id, q.body, Queued, pc.key.peer+" has not confirmed it yet; it is sent again in the new private conversation")
	}
	for _, q := range pc.queue {
		if !in[q.id] {
			again = append(again, q)
		}
	}
	pc.unreceipted = nil
	pc.queue = again
}
