package otr

// The engine's public-key operations counted against the minimum the spec
// needs. The counts are deterministic (they do not depend on timing or on
// the random values), so they are asserted exactly.

import "testing"

// TestAKEOperationCount: per side the spec needs two D-H key pairs (§"Key
// Management": "When starting a private conversation ... generate two DH
// key pairs"), one shared secret g^xy, one DSA signature and one DSA
// verification. The data keys of the first pair come from the same g^xy,
// so the first data message in each direction costs no exponentiation.
func TestAKEOperationCount(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	for _, s := range []*side{p.a, p.b} {
		if got := s.c.ops; got != (opCounts{dh: 3, sign: 1, verify: 1}) {
			t.Errorf("%s after the AKE: %+v, want 3 D-H exponentiations, 1 sign, 1 verify", s.name, got)
		}
	}
	p.send(p.a, "first")
	if p.a.c.ops.dh != 3 || p.b.c.ops.dh != 3 {
		t.Errorf("first message cost exponentiations: alice %d bob %d, want 3 and 3 still",
			p.a.c.ops.dh, p.b.c.ops.dh)
	}
	// Bob's reply uses a new pair (his AKE key, Alice's second key): one
	// g^xy for him; Alice sees her newest key used, so she makes a new key
	// pair (spec "When you receive a Data Message") and derives that pair.
	p.send(p.b, "reply")
	if p.a.c.ops.dh != 5 || p.b.c.ops.dh != 4 {
		t.Errorf("after the reply: alice %d bob %d D-H exponentiations, want 5 and 4",
			p.a.c.ops.dh, p.b.c.ops.dh)
	}
	if p.b.lastPlain() != "first" || p.a.lastPlain() != "reply" {
		t.Fatalf("messages not delivered: %q %q", p.b.lastPlain(), p.a.lastPlain())
	}
}

// TestSMPOperationCount: the spec's SMP needs 29 exponentiations per side
// (see smp.go); a whole run through two Conversations does exactly that.
func TestSMPOperationCount(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	res, err := p.a.c.Authenticate("Where did we meet?", []byte("Zürich"))
	if err != nil {
		t.Fatal(err)
	}
	p.deliver(p.a, res.Send)
	if res, err = p.b.c.RespondSMP([]byte("Zürich")); err != nil {
		t.Fatal(err)
	}
	p.deliver(p.b, res.Send)
	if !p.a.has(EventSMPSucceeded) || !p.b.has(EventSMPSucceeded) {
		t.Fatalf("smp did not succeed: %v / %v", p.a.kinds(), p.b.kinds())
	}
	if p.a.c.smp.exps != 29 || p.b.c.smp.exps != 29 {
		t.Errorf("SMP exponentiations: alice %d bob %d, want 29 each", p.a.c.smp.exps, p.b.c.smp.exps)
	}
	// The four data messages that carry SMP1..SMP4 rotate keys as the spec
	// says: a side whose newest key the peer used makes a new pair (Alice
	// on SMP2 and SMP4, Bob on SMP3), and every (our, their) key pair used
	// for the first time needs its g^xy (Bob sending SMP2, Alice
	// receiving it, Alice sending SMP3, Bob receiving it, Bob sending
	// SMP4, Alice receiving it). SMP1 uses the AKE's pair, already known.
	if p.a.c.ops.dh-3 != 5 || p.b.c.ops.dh-3 != 4 {
		t.Errorf("data-layer D-H exponentiations during SMP: alice %d bob %d, want 5 and 4",
			p.a.c.ops.dh-3, p.b.c.ops.dh-3)
	}
}
