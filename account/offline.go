package account

// Lines for a contact who is offline, in a conversation that must be
// private: they wait (no deadline: the contact is simply away) until the
// contact is online and the conversation is private, then go encrypted.
// They never go in plain.
//
// Not done yet: the wait does not survive a restart of Sotto (the queue
// is in memory), and quitting does not warn about waiting private lines;
// SECURITY.md says so.

// peerOffline reports whether no resource of peer is online.
func (c *client) peerOffline(peer string) bool {
	return c.roster.bestResource(peer) == "" && !c.roster.online(peer, "")
}

// waitReason is the Queued reason for a line that waits for privacy.
func (c *client) waitReason(pc *privConv) string {
	if c.peerOffline(pc.key.peer) {
		return "waits until " + pc.key.peer + " is online and the conversation is private again"
	}
	return ""
}

// offlineCameOnline: peer's resource res came online; a conversation
// kept on the bare address with lines waiting moves to res and starts
// the private conversation those lines need.
func (c *client) offlineCameOnline(peer, res string) {
	bare, ok := c.convs[peerKey{peer, ""}]
	if !ok || len(bare.queue) == 0 || res == "" {
		return
	}
	if _, taken := c.convs[peerKey{peer, res}]; taken {
		return
	}
	pc, err := c.conv(peer, res)
	if err != nil || c.sess == nil {
		return
	}
	if pc.state() != e2eEncrypted {
		c.sendQuery(pc, true)
	}
}

// restartOfflineWaits: peer is online again. A private line that waited
// for it without a deadline (expires) gets the usual time to go from now:
// past its deadline already, it would be given up at the next
// housekeeping, before the private conversation it waited for could be
// set up (TestOfflineContactLineWaitsThenGoesEncrypted failed so, now
// and then). A line still in the queue past its deadline can only be one
// that waited for an offline contact.
func (c *client) restartOfflineWaits(peer string) {
	now := c.nowNanos()
	for k, pc := range c.convs {
		if k.peer != peer {
			continue
		}
		for i := range pc.queue {
			if q := &pc.queue[i]; q.needPrivate && q.since+int64(c.m.opt.privateTimeout) < now {
				q.since = now
			}
		}
	}
}
