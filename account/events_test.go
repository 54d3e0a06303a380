package account

import (
	"context"
	"testing"
	"time"
)

// A slow reader sees only the latest roster and connection state per
// account, but every message, in order.
func TestEventQueueCoalescesSnapshotsNeverMessages(t *testing.T) {
	q := newEventQueue(1)
	for i := 0; i < 5; i++ {
		q.push(RosterChanged{Account: "a@x", Contacts: make([]Contact, i)})
		q.push(MessageReceived{Conv: Conversation{Account: "a@x"}, Body: string(rune('0' + i))})
		q.push(ConnectionChanged{Account: "a@x", State: ConnState(i % 4)})
		q.push(RosterChanged{Account: "b@x", Contacts: make([]Contact, 10+i)})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.pump(ctx)
	var got []Event
	timeout := time.After(5 * time.Second)
	for len(got) < 8 {
		select {
		case e := <-q.out:
			got = append(got, e)
		case <-timeout:
			t.Fatalf("only %d events: %+v", len(got), got)
		}
	}
	var bodies string
	rosters := map[string]int{}
	for _, e := range got {
		switch e := e.(type) {
		case MessageReceived:
			bodies += e.Body
		case RosterChanged:
			rosters[e.Account]++
			if want := map[string]int{"a@x": 4, "b@x": 14}[e.Account]; len(e.Contacts) != want {
				t.Fatalf("stale roster for %s: %d contacts, want %d", e.Account, len(e.Contacts), want)
			}
		case ConnectionChanged:
			if e.State != ConnState(0) {
				t.Fatalf("stale connection state %v", e.State)
			}
		}
	}
	if bodies != "01234" {
		t.Fatalf("messages %q, want all five in order", bodies)
	}
	if rosters["a@x"] != 1 || rosters["b@x"] != 1 {
		t.Fatalf("rosters %v, want one per account", rosters)
	}
}
