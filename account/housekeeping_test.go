package account

import (
	"testing"
	"time"
)

// TestHousekeepingSleepsWhenNothingIsDue: an account with no link and no
// queued message sets no timer at all (it used to wake every 500 ms); a
// line queued until private arms it for exactly the line's deadline; a
// plain line waiting for the link has no deadline (it waits until it
// leaves or the user removes it).
func TestHousekeepingSleepsWhenNothingIsDue(t *testing.T) {
	clock := time.Now()
	c := &client{
		m:      &Manager{opt: options{now: func() time.Time { return clock }, pingInterval: time.Minute, privateTimeout: 30 * time.Second}},
		convs:  map[peerKey]*privConv{},
		roster: newRosterState(),
	}
	// bob is online: a private line for an offline contact has no
	// deadline either (offline.go).
	c.roster.pres["bob@example.org"] = map[string]Resource{"phone": {Name: "phone", Show: Available}}
	if next := c.nextHousekeeping(); !next.IsZero() {
		t.Fatalf("idle account wakes at %v, want never", next)
	}
	c.convs[peerKey{peer: "bob@example.org"}] = &privConv{key: peerKey{peer: "bob@example.org"}, queue: []queued{{id: "0", since: clock.UnixNano()}}}
	if next := c.nextHousekeeping(); !next.IsZero() {
		t.Fatalf("plain waiting line: wakes at %v, want never", next)
	}
	c.convs[peerKey{peer: "bob@example.org"}] = &privConv{key: peerKey{peer: "bob@example.org"}, queue: []queued{{id: "1", since: clock.UnixNano(), needPrivate: true}}}
	next := c.nextHousekeeping()
	want := time.Now().Add(30 * time.Second)
	if d := next.Sub(want); d < -time.Second || d > time.Second {
		t.Fatalf("queued message: wakes at %v, want its deadline %v", next, want)
	}
	h := newHousekeepingTimer()
	defer h.stop()
	h.arm(time.Time{})
	select {
	case <-h.C():
		t.Fatal("a stopped housekeeping timer fired")
	default:
	}
	h.arm(time.Now()) // due now: fires after minHousekeeping
	<-h.C()
}
