package account

// A peer floods while the UI reads nothing: memory stays bounded
// (events.go: back-pressure on the network reader) and nothing is lost.

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sotto-im/sotto/account/internal/wire"
)

// floodBound is the stated bound: the heap grows by less than this while
// 100,000 messages of ~300 bytes are sent to a UI that does not read
// (queued unbounded, they take over 50 MiB).
const floodBound = 24 << 20

// floodStall: no message for this long while reading means they stopped.
const floodStall = 30 * time.Second

func heapNow() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestFloodWithSlowUIBoundedMemory: the server writes 100,000 messages
// from bob while the UI does not read. Once the event queue is full the
// account stops reading the link: the heap stays under floodBound above
// where it started, the writer is held back (it could not write them
// all), and once the UI reads, every message arrives, once, in order.
//
// The server is the pipe-level fake (pipe_test.go) so the flood costs
// seconds; through Prosody its buffering for a client that does not read
// made the same test take three minutes (the bound held there too: 0.7
// MiB).
func TestFloodWithSlowUIBoundedMemory(t *testing.T) {
	const n = 100_000
	p, fs := pipeAccountUI(t, false)
	base := heapNow()
	pad := strings.Repeat("x", 280)
	var written atomic.Int64
	werr := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			msg := wire.OutMessage{ID: randomID(), To: "alice@localhost/sotto", Type: "chat",
				Body: fmt.Sprintf("%06d %s", i, pad)}
			if err := fs.sess.Encode(context.Background(), struct {
				wire.OutMessage
				From string `xml:"from,attr"`
			}{msg, "bob@localhost/x"}); err != nil {
				werr <- fmt.Errorf("message %d: %v", i, err)
				return
			}
			written.Add(1)
		}
		werr <- nil
	}()

	deadline := time.Now().Add(60 * time.Second)
	for p.m.events.full() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the event queue never filled: %d waiting", p.m.events.waiting())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A round trip through the loop and the link: the account is alive
	// and answering while it holds the flood back.
	if err := p.m.SetPresence(ctxT(t), p.jid, Away, "busy"); err != nil {
		t.Fatal(err)
	}
	fs.waitGot("presence while held back", func(s string) bool { return strings.Contains(s, "busy") })
	grown := int64(heapNow()) - int64(base)
	waiting, w := p.m.events.waiting(), written.Load()
	t.Logf("UI not reading: %d events wait, %d of %d written, heap grew %.1f MiB (bound %d MiB)",
		waiting, w, n, float64(grown)/(1<<20), floodBound>>20)
	if grown >= floodBound {
		t.Fatalf("heap grew %d bytes with %d events waiting; bound %d", grown, waiting, floodBound)
	}
	if waiting > queueHigh+64 || w >= n {
		t.Fatalf("%d events wait and %d of %d were written: the flood was not held back", waiting, w, n)
	}

	// No deadline on the whole read (under -race on a busy machine it
	// took 116 s of a former 120 s limit; 16 s without -race): the test
	// fails only when the messages stop coming.
	start := time.Now()
	next := 0
	stall := time.NewTimer(floodStall)
	defer stall.Stop()
	for next < n {
		select {
		case e := <-p.m.Events():
			mr, ok := e.(MessageReceived)
			if !ok {
				continue
			}
			var k int
			if _, err := fmt.Sscanf(mr.Body, "%06d", &k); err != nil || k != next {
				t.Fatalf("message %d arrived as %q", next, mr.Body[:min(10, len(mr.Body))])
			}
			next++
			stall.Reset(floodStall)
		case err := <-werr:
			if err != nil {
				t.Fatal(err)
			}
		case <-stall.C:
			t.Fatalf("only %d of %d messages arrived, then none for %v", next, n, floodStall)
		}
	}
	t.Logf("all %d read in order in %v", n, time.Since(start).Round(time.Millisecond))
}
