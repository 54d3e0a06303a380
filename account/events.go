package account

// The event queue between the account loops and the UI.
//
// Policy when the UI reads slowly: events wait in a queue in order. State
// snapshots are coalesced: a RosterChanged or ConnectionChanged still
// waiting for the same account is dropped when a newer one arrives (the
// newer one is appended at the end, so the UI never sees an older state
// after a newer one). Messages, message states, security changes, SMP and
// certificate questions and notices are never dropped or merged.
//
// The queue is bounded by back-pressure, not by dropping: once queueHigh
// events wait, the account loops stop taking stanzas from the network
// (client.run does not read its inbound channel; Serve then blocks, TCP
// fills and the server holds the rest) until the UI has read the queue
// down to queueLow. Events that do not come from the network (answers to
// the UI's own calls, timers) are still queued: the loop must never block
// on the UI, which may be waiting for the loop. So the queue holds at most
// queueHigh events plus what one stanza and the UI's own calls produce.

import (
	"context"
	"sync"
)

// queueHigh and queueLow: back-pressure starts at queueHigh waiting
// events and ends at queueLow.
const (
	queueHigh = 1024
	queueLow  = 512
)

type eventQueue struct {
	mu      sync.Mutex
	items   []Event
	room    chan struct{} // while full: closed when the queue drains to queueLow
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

// full returns nil while there is room for network events, else a
// channel that is closed once the UI has read the queue down to queueLow.
func (q *eventQueue) full() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.room == nil && (len(q.items) < queueHigh || q.stopped) {
		return nil
	}
	if q.room == nil {
		q.room = make(chan struct{})
	}
	return q.room
}

// waiting is how many events wait (tests).
func (q *eventQueue) waiting() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
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
		if q.room != nil {
			close(q.room)
			q.room = nil
		}
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
			if len(q.items) == 0 {
				q.items = nil // let the backing array go after a burst
			}
			if q.room != nil && len(q.items) <= queueLow {
				close(q.room)
				q.room = nil
			}
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
