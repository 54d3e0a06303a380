package account

// Resend after a broken session, as libotr clients do: when the peer
// answers with an OTR error (it could not read what we sent: it lost its
// session, restarted, or the message was for an old key), the private
// conversation is re-established and the last line we sent encrypted goes
// again, once, in the new session — never in plain. The user is told
// ("the last message to bob was resent"). If the peer did read it after
// all, the receiver drops the copy (same line id, streammgmt.go).

// resendAfterPeerError queues pc's last encrypted line again, at the
// front, and re-runs the AKE. Only a line sent within the private
// timeout, and only once.
func (c *client) resendAfterPeerError(pc *privConv) {
	q := pc.lastSent
	if q.id == "" || q.resent || c.nowNanos()-pc.lastSentAt > int64(c.m.opt.privateTimeout) {
		return
	}
	pc.lastSent = queued{}
	q.resent, q.needPrivate, q.since = true, true, c.nowNanos()
	pc.queue = append([]queued{q}, pc.queue...)
	c.msgState(pc, q.id, q.body, Queued, pc.key.peer+" could not read it; it will be resent once the private conversation is re-established")
	pc.refresh, pc.refreshSent, pc.queryRetries = true, true, 0
	if c.sess != nil {
		c.sendQuery(pc, true)
	}
}

// resentNotice tells the user a line went again.
func (c *client) resentNotice(pc *privConv, q queued) {
	if q.resent {
		c.notice(c.convID(pc), "the last message to "+pc.key.peer+" was resent")
	}
}
