package account

// The event queue between the account loops and the UI.
//
// Policy when the UI reads slowly: events wait in an unbounded queue in
// order. Only state snapshots are coalesced: a RosterChanged or
// ConnectionChanged still waiting for the same account is dropped when a
// newer one arrives (the newer one is appended at the end, so the UI never
// sees an older state after a newer one). Messages, message states,
// security changes, SMP and certificate questions and notices are never
// dropped or merged.

import (
	"context"
	"sync"
)

type eventQueue struct {
	mu      sync.Mutex
	items   []Event
	wake    chan struct{} // 1-buffered: "items is not empty"
	out     chan Event
	stopped bool
}

func newEventQueue(buffer int) *eventQueue {
	return &eventQueue{wake: make(chan struct{}, 1), out: make(chan Event, buffer)}
}

// push never blocks.
func (q *eventQueue) push(e Event) {
	q.mu.Lock()
	if q.stopped {
		q.mu.Unlock()
		return
	}
	if acct, kind := coalesceKey(e); kind != 0 {
		for i, old := range q.items {
			if a, k := coalesceKey(old); k == kind && a == acct {
				q.items = append(q.items[:i], q.items[i+1:]...)
				break
			}
		}
	}
	q.items = append(q.items, e)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// coalesceKey says which events replace older ones: kind 0 = never.
func coalesceKey(e Event) (string, int) {
	switch e := e.(type) {
	case RosterChanged:
		return e.Account, 1
	case ConnectionChanged:
		return e.Account, 2
	}
	return "", 0
}

// pump moves events to out until ctx ends, then closes out.
func (q *eventQueue) pump(ctx context.Context) {
	defer func() {
		q.mu.Lock()
		q.stopped = true
		q.mu.Unlock()
		close(q.out)
	}()
	for {
		q.mu.Lock()
		var next Event
		if len(q.items) > 0 {
			next = q.items[0]
			q.items[0] = nil
			q.items = q.items[1:]
		}
		q.mu.Unlock()
		if next == nil {
			select {
			case <-q.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		select {
		case q.out <- next:
		case <-ctx.Done():
			return
		}
	}
}
