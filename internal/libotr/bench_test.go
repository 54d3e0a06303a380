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
// them side by side (strip the Libotr/Ours prefix to pair them).
//
//	go test -tags libotr -run '^$' -bench . -benchtime 20x ./internal/libotr/

func BenchmarkLibotrKeyGen(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		p, err := NewPeer("bench@example.org", proto)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := p.GenerateKey(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		p.Close()
		b.StartTimer()
	}
}

func BenchmarkOursKeyGen(b *testing.B) {
	for b.Loop() {
		if _, err := otr.GenerateKey(rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
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
	for b.Loop() {
		b.StopTimer()
		x, y := libotrPairNoAKE(b)
		x.outbox = append(x.outbox, x.Query())
		b.StartTimer()
		pumpLibotr(b, x, y)
		b.StopTimer()
		if x.MessageState(y.Account()) != "encrypted" || y.MessageState(x.Account()) != "encrypted" {
			b.Fatal("libotr AKE did not finish")
		}
		x.Close()
		y.Close()
		b.StartTimer()
	}
}

func BenchmarkOursAKE(b *testing.B) {
	kx, ky := benchKeys(b)
	for b.Loop() {
		b.StopTimer()
		x, y := oursPair(b, kx, ky)
		b.StartTimer()
		x.take(x.conv.Query(), nil)
		pumpOurs(b, x, y)
		b.StopTimer()
		if x.conv.State() != otr.StateEncrypted || y.conv.State() != otr.StateEncrypted {
			b.Fatal("our AKE did not finish")
		}
		b.StartTimer()
	}
}

var msg1K = strings.Repeat("0123456789abcdef", 64)

func BenchmarkLibotrData1K(b *testing.B) {
	x, y := libotrPair(b, PolicyManual)
	for b.Loop() {
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
}

func BenchmarkOursData1K(b *testing.B) {
	kx, ky := benchKeys(b)
	x, y := oursPair(b, kx, ky)
	x.take(x.conv.Query(), nil)
	pumpOurs(b, x, y)
	for b.Loop() {
		res, err := x.conv.Send([]byte(msg1K))
		if err != nil || len(res.Send) != 1 {
			b.Fatal(err)
		}
		r, err := y.conv.Receive(res.Send[0])
		if err != nil || len(r.Plaintext) != len(msg1K) {
			b.Fatal("ours: not decrypted", err)
		}
	}
}

func BenchmarkLibotrSMP(b *testing.B) {
	x, y := libotrPair(b, PolicyManual)
	for b.Loop() {
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
}

func BenchmarkOursSMP(b *testing.B) {
	kx, ky := benchKeys(b)
	x, y := oursPair(b, kx, ky)
	x.take(x.conv.Query(), nil)
	pumpOurs(b, x, y)
	for b.Loop() {
		x.must(x.conv.Authenticate("Where did we meet?", []byte("Zürich")))
		pumpOurs(b, x, y)
		y.must(y.conv.RespondSMP([]byte("Zürich")))
		pumpOurs(b, x, y)
		if _, ok := hasOurEvent(x.Events(), otr.EventSMPSucceeded); !ok {
			b.Fatal("our SMP failed")
		}
		y.Events()
	}
}
