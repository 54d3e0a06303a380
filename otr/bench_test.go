package otr

// In-package benchmarks of the engine's costly operations. They report the
// public-key operations each run does next to ns/op (dh-exp/op, smp-exp/op,
// dsa-sign/op, dsa-verify/op), so scripts/bench.sh can compare them with the
// spec's minimum. The paired libotr comparison is internal/libotr.

import (
	"crypto/rand"
	"strings"
	"testing"
)

var benchMsg1K = []byte(strings.Repeat("0123456789abcdef", 64))

// opsOf sums the public-key operations both sides of p have done.
func opsOf(p *pair) (dh, smp, sign, verify int) {
	for _, s := range []*side{p.a, p.b} {
		dh += s.c.ops.dh
		smp += s.c.smp.exps
		sign += s.c.ops.sign
		verify += s.c.ops.verify
	}
	return
}

func reportOps(b *testing.B, p0 [4]int, p *pair, n int) {
	dh, smp, sign, verify := opsOf(p)
	per := func(now, before int) float64 { return float64(now-before) / float64(n) }
	b.ReportMetric(per(dh, p0[0]), "dh-exp/op")
	b.ReportMetric(per(smp, p0[1]), "smp-exp/op")
	b.ReportMetric(per(sign, p0[2]), "dsa-sign/op")
	b.ReportMetric(per(verify, p0[3]), "dsa-verify/op")
}

func snapshotOps(p *pair) [4]int {
	dh, smp, sign, verify := opsOf(p)
	return [4]int{dh, smp, sign, verify}
}

func BenchmarkKeyGen(b *testing.B) {
	for b.Loop() {
		if _, err := GenerateKey(rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAKE is one whole v3 AKE, both sides, from the query to both
// sides encrypted.
func BenchmarkAKE(b *testing.B) {
	testKey(b, 1)
	var dh, sign, verify int
	n := 0
	for b.Loop() {
		b.StopTimer()
		p := newPair(b, PolicyManual, PolicyManual, 0)
		b.StartTimer()
		p.secure(p.a)
		b.StopTimer()
		d, _, s, v := opsOf(p)
		dh, sign, verify, n = dh+d, sign+s, verify+v, n+1
		b.StartTimer()
	}
	b.ReportMetric(float64(dh)/float64(n), "dh-exp/op")
	b.ReportMetric(float64(sign)/float64(n), "dsa-sign/op")
	b.ReportMetric(float64(verify)/float64(n), "dsa-verify/op")
}

// BenchmarkData1K is one 1 KiB message encrypted by Alice and decrypted
// by Bob, in a steady state (no key rotation).
func BenchmarkData1K(b *testing.B) {
	p := newPair(b, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	p.send(p.a, "warm up")
	p.send(p.b, "warm up")
	before := snapshotOps(p)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		res, err := p.a.c.Send(benchMsg1K)
		if err != nil || len(res.Send) != 1 {
			b.Fatal(err)
		}
		r, err := p.b.c.Receive(res.Send[0])
		if err != nil || len(r.Plaintext) != len(benchMsg1K) {
			b.Fatal("not decrypted", err)
		}
		n++
	}
	reportOps(b, before, p, n)
}

// BenchmarkSMP is one whole SMP run with a question, both sides,
// including the data messages that carry it (and their key rotation).
func BenchmarkSMP(b *testing.B) {
	p := newPair(b, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	before := snapshotOps(p)
	n := 0
	for b.Loop() {
		res, err := p.a.c.Authenticate("Where did we meet?", []byte("Zürich"))
		if err != nil {
			b.Fatal(err)
		}
		p.deliver(p.a, res.Send)
		res, err = p.b.c.RespondSMP([]byte("Zürich"))
		if err != nil {
			b.Fatal(err)
		}
		p.deliver(p.b, res.Send)
		if !p.a.has(EventSMPSucceeded) {
			b.Fatal("smp failed")
		}
		p.a.reset()
		p.b.reset()
		n++
	}
	reportOps(b, before, p, n)
}
