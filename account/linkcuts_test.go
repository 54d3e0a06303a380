package account

// Issue 16's proof: a private conversation that loses nothing while the
// links are cut over and over and the server restarts once.

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/sotto-im/sotto/internal/testbed"
)

// linkCutLines is how many lines each side sends.
const linkCutLines = 1000

// TestLinkCutsThousandMessagesNoLoss: Alice and Bob, each behind a link
// cutter, exchange 1,000 private lines each way while the links are cut
// at random points (abrupt resets, at least 20 in all, some within a
// second of the reconnect, and two silent black holes) and Prosody is
// restarted once halfway. Every line arrives exactly once, in order,
// encrypted, on both sides; every line ends Delivered and none NotSent;
// the server never saw one in the clear. The test prints what stream
// management did (resumed, resent, requeued, re-encrypted, duplicates).
func TestLinkCutsThousandMessagesNoLoss(t *testing.T) {
	t0 := time.Now()
	srv := testbed.Start(t)
	cutA, cutB := newCutter(t, srv.Addr()), newCutter(t, srv.Addr())
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), extra: []Option{cutA.dialer()}})
	b := newPeer(t, srv, "bob", peerOpts{roots: srv.CertPool(), extra: []Option{cutB.dialer()}})
	privateFriends(t, a, b)
	ma, mb := a.rec.mark(), b.rec.mark()

	const aFmt, bFmt = "alice line %04d", "bob line %04d"
	var wg sync.WaitGroup
	var aIDs, bIDs []string
	sendAll := func(p, other *peer, format string, ids *[]string) {
		defer wg.Done()
		for i := 0; i < linkCutLines; i++ {
			// A fresh context per line: ctxT's 30 s cover the whole test.
			id, err := p.m.Send(ctxT(t), p.conv(other), fmt.Sprintf(format, i))
			if err != nil {
				t.Errorf("%s: Send %d: %v", p.jid, i, err)
				return
			}
			*ids = append(*ids, id)
			time.Sleep(8 * time.Millisecond)
		}
	}
	wg.Add(2)
	start := time.Now()
	go sendAll(a, b, aFmt, &aIDs)
	go sendAll(b, a, bFmt, &bIDs)

	// The faults, while the lines flow: a reset every 300–700 ms on one
	// link or both, two black holes, and one server restart.
	var resets, holes int
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 16))
	for i := 0; i < 24; i++ {
		time.Sleep(time.Duration(300+rng.IntN(400)) * time.Millisecond)
		switch {
		case i == 12:
			srv.Restart(t)
		case i == 5 || i == 17:
			[]*cutter{cutA, cutB}[i%2].blackhole()
			holes++
		default:
			cs := [][]*cutter{{cutA}, {cutB}, {cutA, cutB}}[rng.IntN(3)]
			for _, c := range cs {
				c.sever()
				resets++
			}
		}
	}
	wg.Wait()
	sent := time.Since(start)
	waitLines(t, b, mb, a, ma, aFmt, aIDs)
	waitLines(t, a, ma, b, mb, bFmt, bIDs)
	// Sentinel: one more line each way after everything; then count.
	if _, err := a.m.Send(ctxT(t), a.conv(b), "alice after"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.m.Send(ctxT(t), b.conv(a), "bob after"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(mb, "alice after", isMsg(a.jid, "alice after"))
	a.waitFor(ma, "bob after", isMsg(b.jid, "bob after"))
	all := time.Since(start)

	checkOnceInOrder(t, b, mb, a.jid, aFmt, linkCutLines)
	checkOnceInOrder(t, a, ma, b.jid, bFmt, linkCutLines)
	checkDelivered(t, a, ma, aIDs)
	checkDelivered(t, b, mb, bIDs)
	delivered := time.Since(start)
	// Every line starts "alice line " or "bob line ": one search each
	// covers all 2,000 (one per line took seconds under -race).
	tc := time.Now()
	assertNoPlaintext(t, srv, "alice line ", "bob line ", "alice after", "bob after")
	checked := time.Since(tc)
	sa, sb := smStatsOf(t, a), smStatsOf(t, b)
	t.Logf("%d resets, %d black holes, 1 restart; sent in %v, all arrived after %v, all delivered after %v (setup %v)",
		resets, holes, sent.Round(time.Millisecond), all.Round(time.Millisecond), delivered.Round(time.Millisecond),
		start.Sub(t0).Round(time.Millisecond))
	t.Logf("stanza log checked in %v", checked.Round(time.Millisecond))
	t.Logf("alice: %+v; bob: %+v; lost 0", sa, sb)
	if resets+holes < 20 {
		t.Fatalf("only %d link cuts", resets+holes)
	}
}

// waitLines waits until p has every line format %d from peer, failing
// only when none came for stall.
func waitLines(t *testing.T, p *peer, from int, sender *peer, sfrom int, format string, ids []string) {
	t.Helper()
	peerJID := sender.jid
	const stall = 30 * time.Second
	want := map[string]bool{}
	for i := 0; i < linkCutLines; i++ {
		want[fmt.Sprintf(format, i)] = true
	}
	got, last, lastAt := map[string]bool{}, 0, time.Now()
	for len(got) < linkCutLines {
		evs := p.rec.all()
		for _, e := range evs[min(from, len(evs)):] {
			if m, ok := e.(MessageReceived); ok && m.Conv.Peer == peerJID && want[m.Body] {
				got[m.Body] = true
			}
		}
		from = len(evs)
		if len(got) > last {
			last, lastAt = len(got), time.Now()
		}
		if time.Since(lastAt) > stall {
			// What the sender last said about the missing lines.
			last := map[string]string{}
			sevs := sender.rec.all()
			for _, e := range sevs[min(sfrom, len(sevs)):] {
				if m, ok := e.(MessageStateChanged); ok {
					last[m.ID] += fmt.Sprintf(" %v/%v", m.State, m.Confirmed)
				}
			}
			var missing []string
			for i := 0; i < linkCutLines && len(missing) < 10; i++ {
				if !got[fmt.Sprintf(format, i)] {
					missing = append(missing, fmt.Sprintf("%d:%s", i, last[ids[i]]))
				}
			}
			t.Logf("sender %+v", smStatsOf(t, sender))
			t.Fatalf("%s: %d of %d lines arrived, none for %v; missing %v …", p.jid, len(got), linkCutLines, stall, missing)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkDelivered waits until each of ids is Delivered (the peer's
// receipt), failing when none became so for 30 s or when one was ever
// NotSent.
func checkDelivered(t *testing.T, p *peer, from int, ids []string) {
	t.Helper()
	const stall = 30 * time.Second
	last, done, lastAt := map[string]OutState{}, 0, time.Now()
	for {
		evs := p.rec.all()
		for _, e := range evs[min(from, len(evs)):] {
			if m, ok := e.(MessageStateChanged); ok {
				if m.State == NotSent {
					t.Fatalf("%s: line %s not sent: %s", p.jid, m.ID, m.Reason)
				}
				last[m.ID] = m.State
			}
		}
		from = len(evs)
		n := 0
		for _, id := range ids {
			if last[id] == Delivered {
				n++
			}
		}
		if n == len(ids) {
			return
		}
		if n > done {
			done, lastAt = n, time.Now()
		}
		if time.Since(lastAt) > stall {
			t.Fatalf("%s: %d of %d lines delivered, none more for %v", p.jid, n, len(ids), stall)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
