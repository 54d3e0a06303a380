package account

// When the account loop wakes up by itself. It used to look at pings,
// OTR heartbeats and queued messages every 500 ms, 120 wake-ups a minute
// per account with nothing to do (issue 17). Now one timer is set for the
// earliest thing that is actually due, and none at all when nothing is:
//
//   - the next ping (Options' ping interval after the last one), or the
//     watchdog that gives up on a link whose ping got no answer;
//   - an OTR heartbeat, when a session owes the peer one (otr NextTick);
//   - the refresh query of a session that never saw the peer's presence;
//   - the deadline of a message queued until a private conversation is up
//     (none for a private line waiting for an offline contact), and the
//     query re-sent while it waits (privConv.queryRetryDue);
//   - the XEP-0198 ack watchdog: an <r/> unanswered for a ping interval
//     (a black hole that swallowed our lines; streammgmt.go);
//   - a coalesced write of the plain waiting lines kept on disk
//     (waiting.go).
//
// The loop re-arms the timer after every event it handles (the events are
// what change these deadlines), which costs a walk over the open
// conversations, not the roster.

import "time"

// minHousekeeping bounds how soon the timer fires again: a clock that does
// not move (a test clock) must not make the loop spin on a deadline that
// stays in the past.
const minHousekeeping = 50 * time.Millisecond

// housekeepingTimer is one timer re-armed for the next deadline.
type housekeepingTimer struct {
	t  *time.Timer
	at time.Time // when it fires; zero when stopped
}

func newHousekeepingTimer() *housekeepingTimer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &housekeepingTimer{t: t}
}

func (h *housekeepingTimer) C() <-chan time.Time { return h.t.C }

// fired records that the timer's value was received.
func (h *housekeepingTimer) fired() { h.at = time.Time{} }

func (h *housekeepingTimer) stop() { h.t.Stop() }

// arm sets the timer for next (real time), or stops it for a zero next.
// (Since Go 1.23 Stop and Reset leave no stale value in the channel.)
func (h *housekeepingTimer) arm(next time.Time) {
	if next.IsZero() {
		if !h.at.IsZero() {
			h.t.Stop()
			h.at = time.Time{}
		}
		return
	}
	if now := time.Now(); next.Before(now.Add(minHousekeeping)) {
		next = now.Add(minHousekeeping)
	}
	if h.at.Equal(next) {
		return
	}
	h.at = next
	h.t.Reset(time.Until(next))
}

// nextHousekeeping is the real time of the earliest deadline, zero if
// none. Deadlines kept by the manager's clock (OTR heartbeats, queued
// messages) are converted through their distance from that clock's now.
func (c *client) nextHousekeeping() time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if c.sess != nil {
		iv := c.m.opt.pingInterval
		if c.pingID != "" {
			consider(later(c.pingSent, c.lastInbound).Add(iv))
		} else {
			consider(c.lastPing.Add(iv))
		}
		if c.sm.Requested() {
			// The XEP-0198 ack watchdog (streammgmt.go ackOverdue): an
			// <r/> unanswered for a ping interval drops the link.
			consider(later(c.ackAskedAt, c.lastInbound).Add(iv + time.Millisecond))
		}
	}
	if t, ok := c.nextHeld(); ok { // order.go
		consider(t)
	}
	if !c.waiting.due.IsZero() { // a coalesced write of the waiting lines (waiting.go)
		consider(c.waiting.due)
	}
	now, clock := time.Now(), c.m.opt.now()
	for _, pc := range c.convs {
		if c.sess != nil {
			if t, ok := pc.e2e.NextTick(); ok {
				consider(now.Add(t.Sub(clock)))
			}
			if pc.refresh && !pc.refreshSent {
				consider(c.connectedAt.Add(2*time.Second + time.Millisecond))
			}
			if at, ok := c.queryRetryDue(pc); ok {
				consider(now.Add(time.Duration(at - clock.UnixNano())))
			}
		}
		offline := c.peerOffline(pc.key.peer)
		for _, q := range pc.queue {
			if !expires(q, offline) {
				continue
			}
			consider(now.Add(time.Duration(q.since + int64(c.m.opt.privateTimeout) - clock.UnixNano())))
		}
	}
	return next
}
