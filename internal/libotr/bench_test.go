//go:build libotr

package libotr

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/otr"
)

// Paired benchmarks: BenchmarkLibotrX and BenchmarkOursX do the same work
// with libotr and with our engine, in the same run, so a script can put
// them side by side (strip the Libotr/Ours prefix to pair them). Each also
// reports cpu-ns/op, the CPU time of the thread doing the work (see
// cpuMeter); scripts/bench.sh computes the ratios from that.
//
//	go test -tags libotr -run '^$' -bench . -benchtime 20x ./internal/libotr/

func BenchmarkLibotrKeyGen(b *testing.B) {
	m, n := newCPUMeter(b), 0
	for b.Loop() {
		n++
		m.pause()
		p, err := NewPeer("bench@example.org", proto)
		if err != nil {
			b.Fatal(err)
		}
		m.resume()
		if err := p.GenerateKey(); err != nil {
			b.Fatal(err)
		}
		m.pause()
		p.Close()
		m.resume()
	}
	m.report(n)
}

func BenchmarkOursKeyGen(b *testing.B) {
	m, n := newCPUMeter(b), 0
	for b.Loop() {
		n++
		if _, err := otr.GenerateKey(rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
	m.report(n)
}

// libotrPairNoAKE makes two libotr peers with cached keys, no session.
func libotrPairNoAKE(b *testing.B) (x, y *Peer) {
	x = newLibotrPeer(b, "alice@example.org/laptop")
	y = newLibotrPeer(b, "bob@example.org/desk")
	return x, y
}

// oursPair makes two conversations of our engine with distinct keys.
func oursPair(b *testing.B, x, y *otr.PrivateKey) (*ourSide, *ourSide) {
	return newOursWithKey(b, x, otr.PolicyManual, 0), newOursWithKey(b, y, otr.PolicyManual, 0)
}

// pumpOurs delivers between two of our conversations until quiet.
func pumpOurs(tb testing.TB, a, c *ourSide) {
	for round := 0; round < 100; round++ {
		ao, co := a.Outbox(), c.Outbox()
		if len(ao) == 0 && len(co) == 0 {
			return
		}
		for _, m := range ao {
			c.receive(string(m))
		}
		for _, m := range co {
			a.receive(string(m))
		}
	}
	tb.Fatal("pumpOurs: never quiet")
}

func benchKeys(b *testing.B) (*otr.PrivateKey, *otr.PrivateKey) {
	return sharedOurKey(b), libotrKeyAsOurs(b, "bench-second@example.org")
}

func BenchmarkLibotrAKE(b *testing.B) {
	newLibotrPeer(b, "alice@example.org/laptop") // warm the key cache
	newLibotrPeer(b, "bob@example.org/desk")
	m, n := newCPUMeter(b), 0
	for b.Loop() {
		n++
		m.pause()
		x, y := libotrPairNoAKE(b)
		x.outbox = append(x.outbox, x.Query())
		m.resume()
		pumpLibotr(b, x, y)
		m.pause()
		if x.MessageState(y.Account()) != "encrypted" || y.MessageState(x.Account()) != "encrypted" {
			b.Fatal("libotr AKE did not finish")
		}
		x.Close()
		y.Close()
		m.resume()
	}
	m.report(n)
}

func BenchmarkOursAKE(b *testing.B) {
	kx, ky := benchKeys(b)
	m, n := newCPUMeter(b), 0
	for b.Loop() {
		n++
		m.pause()
		x, y := oursPair(b, kx, ky)
		m.resume()
		x.take(x.conv.Query(), nil)
		pumpOurs(b, x, y)
		m.pause()
		if x.conv.State() != otr.StateEncrypted || y.conv.State() != otr.StateEncrypted {
			b.Fatal("our AKE did not finish")
		}
		m.resume()
	}
	m.report(n)
}

var msg1K = strings.Repeat("0123456789abcdef", 64)

func BenchmarkLibotrData1K(b *testing.B) {
	x, y := libotrPair(b, PolicyManual)
	m, n := newCPUMeter(b), 0
	for b.Loop() {
		n++
		w, err := x.Send(y.Account(), msg1K)
		if err != nil || len(w) != 1 {
			b.Fatal(err)
		}
		if s, _, _ := y.Receive(x.Account(), w[0]); len(s) != len(msg1K) {
			b.Fatal("libotr: not decrypted")
		}
		x.Outbox()
		y.Outbox()
	}
	m.report(n)
}

func BenchmarkOursData1K(b *testing.B) {
	kx, ky := benchKeys(b)
	x, y := oursPair(b, kx, ky)
	x.take(x.conv.Query(), nil)
	pumpOurs(b, x, y)
	m, n := newCPUMeter(b), 0
	for b.Loop() {
		n++
		res, err := x.conv.Send([]byte(msg1K))
		if err != nil || len(res.Send) != 1 {
			b.Fatal(err)
		}
		r, err := y.conv.Receive(res.Send[0])
		if err != nil || len(r.Plaintext) != len(msg1K) {
			b.Fatal("ours: not decrypted", err)
		}
	}
	m.report(n)
}

func BenchmarkLibotrSMP(b *testing.B) {
	x, y := libotrPair(b, PolicyManual)
	m, n := newCPUMeter(b), 0
	for b.Loop() {
		n++
		if err := x.InitiateSMP(y.Account(), "Where did we meet?", "Zürich"); err != nil {
			b.Fatal(err)
		}
		pumpLibotr(b, x, y)
		if err := y.RespondSMP(x.Account(), "Zürich"); err != nil {
			b.Fatal(err)
		}
		pumpLibotr(b, x, y)
		if _, ok := hasEvent(x.Events(), EventSMPSuccess); !ok {
			b.Fatal("libotr SMP failed")
		}
		y.Events()
	}
	m.report(n)
}

func BenchmarkOursSMP(b *testing.B) {
	kx, ky := benchKeys(b)
	x, y := oursPair(b, kx, ky)
	x.take(x.conv.Query(), nil)
	pumpOurs(b, x, y)
	m, n := newCPUMeter(b), 0
	for b.Loop() {
		n++
		x.must(x.conv.Authenticate("Where did we meet?", []byte("Zürich")))
		pumpOurs(b, x, y)
		y.must(y.conv.RespondSMP([]byte("Zürich")))
		pumpOurs(b, x, y)
		if _, ok := hasOurEvent(x.Events(), otr.EventSMPSucceeded); !ok {
			b.Fatal("our SMP failed")
		}
		y.Events()
	}
	m.report(n)
}
