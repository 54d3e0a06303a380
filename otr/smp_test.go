package otr

import (
	"bytes"
	"errors"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"testing"
)

var (
	smpFPA  = Fingerprint{0xa1, 0xa2, 0xa3, 19: 0xaa}
	smpFPB  = Fingerprint{0xb1, 0xb2, 0xb3, 19: 0xbb}
	smpSSID = [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
)

func testRand(seed byte) io.Reader {
	return mrand.NewChaCha8([32]byte{seed})
}

// smpRun is one SMP exchange between an initiator (alice) and a responder
// (bob), with the TLV produced at each step kept for tampering tests.
type smpRun struct {
	t          testing.TB
	alice, bob smpState
	ra, rb     io.Reader
	msg1       tlv
	msg2       tlv
	msg3       tlv
	msg4       tlv
}

func newSMPRun(t testing.TB) *smpRun {
	return &smpRun{t: t, ra: testRand(1), rb: testRand(2)}
}

// step1 starts SMP on alice and delivers SMP1 to bob.
func (r *smpRun) step1(secretA, question string) (smpEventKind, string) {
	r.t.Helper()
	x := smpSecret(smpFPA, smpFPB, smpSSID, []byte(secretA))
	var err error
	r.msg1, err = r.alice.start(r.ra, x, question)
	if err != nil {
		r.t.Fatalf("start: %v", err)
	}
	reply, ev, q := r.bob.receive(r.rb, r.msg1)
	if len(reply) != 0 {
		r.t.Fatalf("bob replied to SMP1 before respond: %v", reply)
	}
	return ev, q
}

// step2 has bob respond and delivers SMP2 to alice, returning SMP3.
func (r *smpRun) step2(secretB string) smpEventKind {
	r.t.Helper()
	y := smpSecret(smpFPA, smpFPB, smpSSID, []byte(secretB))
	var err error
	r.msg2, err = r.bob.respond(r.rb, y)
	if err != nil {
		r.t.Fatalf("respond: %v", err)
	}
	reply, ev, _ := r.alice.receive(r.ra, r.msg2)
	if ev == smpNone {
		if len(reply) != 1 || reply[0].typ != tlvSMP3 {
			r.t.Fatalf("alice's reply to SMP2 = %v, want one SMP3", reply)
		}
		r.msg3 = reply[0]
	}
	return ev
}

// step3 delivers SMP3 to bob, keeping his SMP4.
func (r *smpRun) step3() smpEventKind {
	r.t.Helper()
	reply, ev, _ := r.bob.receive(r.rb, r.msg3)
	if ev == smpSucceeded || ev == smpFailed {
		if len(reply) != 1 || reply[0].typ != tlvSMP4 {
			r.t.Fatalf("bob's reply to SMP3 = %v, want one SMP4", reply)
		}
		r.msg4 = reply[0]
	}
	return ev
}

func (r *smpRun) step4() smpEventKind {
	r.t.Helper()
	reply, ev, _ := r.alice.receive(r.ra, r.msg4)
	if len(reply) != 0 && ev != smpCheated {
		r.t.Fatalf("alice replied to SMP4: %v", reply)
	}
	return ev
}

func TestSMPEqualSecrets(t *testing.T) {
	r := newSMPRun(t)
	if ev, _ := r.step1("pizza", ""); ev != smpSecretNeeded {
		t.Fatalf("bob event = %v, want smpSecretNeeded", ev)
	}
	if !r.alice.inProgress() || !r.bob.inProgress() {
		t.Fatal("both sides should be in progress after SMP1")
	}
	aExps, bExps := r.alice.exps, r.bob.exps
	if aExps != 4 || bExps != 4 {
		t.Errorf("exponentiations after SMP1: alice %d bob %d, want 4 and 4", aExps, bExps)
	}
	if ev := r.step2("pizza"); ev != smpNone {
		t.Fatalf("alice event on SMP2 = %v", ev)
	}
	if r.bob.exps-bExps != 12 || r.alice.exps-aExps != 20 {
		t.Errorf("exponentiations for SMP2: bob %d alice %d, want 12 and 20",
			r.bob.exps-bExps, r.alice.exps-aExps)
	}
	aExps, bExps = r.alice.exps, r.bob.exps
	if ev := r.step3(); ev != smpSucceeded {
		t.Fatalf("bob event on SMP3 = %v, want smpSucceeded", ev)
	}
	if ev := r.step4(); ev != smpSucceeded {
		t.Fatalf("alice event on SMP4 = %v, want smpSucceeded", ev)
	}
	if r.bob.exps-bExps != 13 || r.alice.exps-aExps != 5 {
		t.Errorf("exponentiations for SMP3/4: bob %d alice %d, want 13 and 5",
			r.bob.exps-bExps, r.alice.exps-aExps)
	}
	if r.alice.inProgress() || r.bob.inProgress() {
		t.Fatal("SMP still in progress after SMP4")
	}
	if r.alice.x != nil || r.bob.e3 != nil {
		t.Fatal("secrets kept after the run")
	}
	checkCounts(t, r.msg1, 6, r.msg2, 11, r.msg3, 8, r.msg4, 3)
}

func checkCounts(t *testing.T, args ...any) {
	t.Helper()
	for i := 0; i < len(args); i += 2 {
		m := args[i].(tlv)
		n := args[i+1].(int)
		got, rest, ok := readMPIs(m.value, 100)
		if !ok || len(got) != n || len(rest) != 0 {
			t.Errorf("TLV type %d: %d MPIs (ok=%v, %d trailing), want %d", m.typ, len(got), ok, len(rest), n)
		}
	}
}

func TestSMPDifferentSecrets(t *testing.T) {
	r := newSMPRun(t)
	r.step1("pizza", "")
	if ev := r.step2("pasta"); ev != smpNone {
		t.Fatalf("alice event on SMP2 = %v", ev)
	}
	if ev := r.step3(); ev != smpFailed {
		t.Fatalf("bob event = %v, want smpFailed", ev)
	}
	if ev := r.step4(); ev != smpFailed {
		t.Fatalf("alice event = %v, want smpFailed", ev)
	}
}

// The secret binds the fingerprints' order: swapped roles give a different x.
func TestSMPSecretBindsRoles(t *testing.T) {
	a := smpSecret(smpFPA, smpFPB, smpSSID, []byte("s"))
	b := smpSecret(smpFPB, smpFPA, smpSSID, []byte("s"))
	if a.Cmp(b) == 0 {
		t.Fatal("secret ignores fingerprint order")
	}
	if a.BitLen() > 256 || a.Sign() == 0 {
		t.Fatalf("secret has %d bits", a.BitLen())
	}
}

func TestSMPQuestion(t *testing.T) {
	r := newSMPRun(t)
	ev, q := r.step1("blue", "Favourite colour?")
	if ev != smpQuestion || q != "Favourite colour?" {
		t.Fatalf("bob got %v %q, want smpQuestion with the question", ev, q)
	}
	if r.msg1.typ != tlvSMP1Q || !bytes.HasPrefix(r.msg1.value, []byte("Favourite colour?\x00\x00\x00\x00\x06")) {
		t.Fatalf("SMP1Q layout wrong: type %d value %x", r.msg1.typ, r.msg1.value[:24])
	}
	r.step2("blue")
	if ev := r.step3(); ev != smpSucceeded {
		t.Fatalf("bob event = %v", ev)
	}
	if ev := r.step4(); ev != smpSucceeded {
		t.Fatalf("alice event = %v", ev)
	}
}

func TestSMPAbortMidway(t *testing.T) {
	r := newSMPRun(t)
	r.step1("a", "")
	r.step2("a") // alice now expects SMP4, bob SMP3
	ab := r.alice.abort()
	if ab.typ != tlvSMPAbort || len(ab.value) != 0 || r.alice.inProgress() {
		t.Fatalf("abort TLV %v, alice in progress %v", ab, r.alice.inProgress())
	}
	reply, ev, _ := r.bob.receive(r.rb, ab)
	if ev != smpAborted || len(reply) != 0 || r.bob.inProgress() {
		t.Fatalf("bob on abort: ev %v reply %v inProgress %v", ev, reply, r.bob.inProgress())
	}
	// The stale SMP3 now arrives at an idle bob: out of order.
	reply, ev, _ = r.bob.receive(r.rb, r.msg3)
	if ev != smpAborted || len(reply) != 1 || reply[0].typ != tlvSMPAbort {
		t.Fatalf("stale SMP3: ev %v reply %v", ev, reply)
	}
	// A fresh run works after the abort.
	r2 := &smpRun{t: t, ra: r.ra, rb: r.rb}
	r2.step1("b", "")
	r2.step2("b")
	if r2.step3() != smpSucceeded || r2.step4() != smpSucceeded {
		t.Fatal("run after abort failed")
	}
}

func TestSMPOutOfOrder(t *testing.T) {
	full := newSMPRun(t)
	full.step1("s", "")
	full.step2("s")
	full.step3()
	cases := []struct {
		name  string
		setup func(r *smpRun) *smpState
		msg   tlv
	}{
		{"SMP2 while idle", func(r *smpRun) *smpState { return &r.bob }, full.msg2},
		{"SMP3 while expecting SMP2", func(r *smpRun) *smpState { r.step1("s", ""); return &r.alice }, full.msg3},
		{"SMP1 while expecting SMP2", func(r *smpRun) *smpState { r.step1("s", ""); return &r.alice }, full.msg1},
		{"SMP4 while waiting for the secret", func(r *smpRun) *smpState { r.step1("s", ""); return &r.bob }, full.msg4},
		{"SMP1 while expecting SMP3", func(r *smpRun) *smpState { r.step1("s", ""); r.step2("s"); return &r.bob }, full.msg1},
		{"SMP2 while expecting SMP4", func(r *smpRun) *smpState { r.step1("s", ""); r.step2("s"); return &r.alice }, full.msg2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.setup(newSMPRun(t))
			reply, ev, _ := s.receive(testRand(9), c.msg)
			if ev != smpAborted || len(reply) != 1 || reply[0].typ != tlvSMPAbort {
				t.Fatalf("ev %v reply %v, want smpAborted + abort TLV", ev, reply)
			}
			if s.inProgress() {
				t.Fatal("state not reset")
			}
		})
	}
}

// tamper rewrites MPI i of an SMP TLV (keeping an SMP1Q question).
func tamper(m tlv, i int, f func(x *big.Int) *big.Int) tlv {
	prefix := []byte(nil)
	b := m.value
	if m.typ == tlvSMP1Q {
		n := bytes.IndexByte(b, 0) + 1
		prefix, b = b[:n], b[n:]
	}
	xs, _, _ := readMPIs(b, 100)
	ys := append([]*big.Int(nil), xs...)
	ys[i] = f(new(big.Int).Set(xs[i]))
	return tlv{typ: m.typ, value: appendMPIs(append([]byte(nil), prefix...), ys...)}
}

func setTo(v *big.Int) func(*big.Int) *big.Int { return func(*big.Int) *big.Int { return v } }

func addOne(x *big.Int) *big.Int { return x.Add(x, bigOne) }

// double keeps a group element in range but breaks the proof over it.
func double(x *big.Int) *big.Int { return mulMod(x, bigTwo) }

func TestSMPTamperedIsCheating(t *testing.T) {
	pMin1 := new(big.Int).Sub(groupP, bigOne)
	huge := new(big.Int).Lsh(bigOne, 300)
	// MPI positions: SMP1 g2a c2 D2 g3a c3 D3; SMP2 g2b c2 D2 g3b c3 D3 Pb Qb cP D5 D6;
	// SMP3 Pa Qa cP D5 D6 Ra cR D7; SMP4 Rb cR D7.
	type mut struct {
		msg, idx int
		f        func(*big.Int) *big.Int
	}
	muts := map[string]mut{
		"SMP1 D2 flipped": {1, 2, addOne}, "SMP1 g2a=1": {1, 0, setTo(bigOne)},
		"SMP1 g3a=p-1": {1, 3, setTo(pMin1)}, "SMP1 g2a=p": {1, 0, setTo(groupP)},
		"SMP1 g3a doubled": {1, 3, double}, "SMP1 D3=0": {1, 5, setTo(new(big.Int))},
		"SMP1 D2=q": {1, 2, setTo(groupQ)}, "SMP1 c2 huge": {1, 1, setTo(huge)},
		"SMP2 D2 flipped": {2, 2, addOne}, "SMP2 g3b=1": {2, 3, setTo(bigOne)},
		"SMP2 Pb=p": {2, 6, setTo(groupP)}, "SMP2 Qb doubled": {2, 7, double},
		"SMP2 D6 flipped": {2, 10, addOne}, "SMP2 cP flipped": {2, 8, addOne},
		"SMP3 Pa=p-1": {3, 0, setTo(pMin1)}, "SMP3 Qa doubled": {3, 1, double},
		"SMP3 D5 flipped": {3, 3, addOne}, "SMP3 Ra doubled": {3, 5, double},
		"SMP3 D7 flipped": {3, 7, addOne}, "SMP3 Ra=1": {3, 5, setTo(bigOne)},
		"SMP4 Rb doubled": {4, 0, double}, "SMP4 D7 flipped": {4, 2, addOne},
		"SMP4 Rb=p": {4, 0, setTo(groupP)}, "SMP4 cR huge": {4, 1, setTo(huge)},
	}
	for name, m := range muts {
		t.Run(name, func(t *testing.T) {
			r := newSMPRun(t)
			ev := r.runTampered(m.msg, func(x tlv) tlv { return tamper(x, m.idx, m.f) }, "?")
			if ev != smpCheated {
				t.Fatalf("event %v, want smpCheated", ev)
			}
		})
	}
}

// runTampered runs SMP, passing message n through f, and returns the
// receiver's event for that message. It checks the cheat handling contract.
func (r *smpRun) runTampered(n int, f func(tlv) tlv, question string) smpEventKind {
	r.t.Helper()
	var recv *smpState
	var reply []tlv
	var ev smpEventKind
	x := smpSecret(smpFPA, smpFPB, smpSSID, []byte("s"))
	r.msg1, _ = r.alice.start(r.ra, x, question)
	if n == 1 {
		recv = &r.bob
		reply, ev, _ = r.bob.receive(r.rb, f(r.msg1))
	} else {
		r.bob.receive(r.rb, r.msg1)
		r.msg2, _ = r.bob.respond(r.rb, x)
		if n == 2 {
			recv = &r.alice
			reply, ev, _ = r.alice.receive(r.ra, f(r.msg2))
		} else {
			out, _, _ := r.alice.receive(r.ra, r.msg2)
			r.msg3 = out[0]
			if n == 3 {
				recv = &r.bob
				reply, ev, _ = r.bob.receive(r.rb, f(r.msg3))
			} else {
				out, _, _ = r.bob.receive(r.rb, r.msg3)
				recv = &r.alice
				reply, ev, _ = r.alice.receive(r.ra, f(out[0]))
			}
		}
	}
	if ev == smpCheated && (len(reply) != 1 || reply[0].typ != tlvSMPAbort || recv.inProgress()) {
		r.t.Fatalf("cheat handling: reply %v, in progress %v", reply, recv.inProgress())
	}
	return ev
}

func TestSMPMalformedIsCheating(t *testing.T) {
	cases := map[string]struct {
		msg int
		f   func(tlv) tlv
	}{
		"SMP1Q without NUL": {1, func(m tlv) tlv { return tlv{m.typ, []byte("question")} }},
		"SMP1 short count":  {1, func(m tlv) tlv { return tlv{m.typ, m.value[:3]} }},
		"SMP2 trailing":     {2, func(m tlv) tlv { return tlv{m.typ, append(bytes.Clone(m.value), 0)} }},
		"SMP3 truncated":    {3, func(m tlv) tlv { return tlv{m.typ, m.value[:len(m.value)-1]} }},
		"SMP4 empty":        {4, func(m tlv) tlv { return tlv{m.typ, nil} }},
		"SMP2 wrong count": {2, func(m tlv) tlv {
			xs, _, _ := readMPIs(m.value, 100)
			return tlv{m.typ, appendMPIs(nil, xs[:10]...)}
		}},
		"SMP4 count too big": {4, func(m tlv) tlv { return tlv{m.typ, []byte{0xff, 0xff, 0xff, 0xff}} }},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if ev := newSMPRun(t).runTampered(c.msg, c.f, "q"); ev != smpCheated {
				t.Fatalf("event %v, want smpCheated", ev)
			}
		})
	}
}

func TestSMPUserErrors(t *testing.T) {
	var s smpState
	if _, err := s.respond(testRand(1), big.NewInt(5)); !errors.Is(err, errSMPNotAsked) {
		t.Fatalf("respond while idle: %v", err)
	}
	if _, err := s.start(testRand(1), big.NewInt(5), "a\x00b"); err == nil {
		t.Fatal("question with NUL accepted")
	}
	if _, err := s.start(testRand(1), big.NewInt(5), string(bytes.Repeat([]byte("x"), 70000))); err == nil {
		t.Fatal("oversized question accepted")
	}
	if s.inProgress() {
		t.Fatal("failed start left SMP in progress")
	}
	if _, err := s.start(testRand(1), big.NewInt(5), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.start(testRand(1), big.NewInt(5), ""); !errors.Is(err, errSMPBusy) {
		t.Fatalf("second start: %v", err)
	}
	if ev := s.receiveIgnored(tlv{typ: tlvPadding}); ev != smpNone || !s.inProgress() {
		t.Fatal("non-SMP TLV changed the state")
	}
}

func (s *smpState) receiveIgnored(t tlv) smpEventKind {
	_, ev, _ := s.receive(nil, t)
	return ev
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestSMPRandFailure(t *testing.T) {
	var s smpState
	if _, err := s.start(failReader{}, big.NewInt(5), ""); err == nil || s.inProgress() {
		t.Fatalf("start with failing rand: err %v, in progress %v", err, s.inProgress())
	}
	r := newSMPRun(t)
	r.step1("s", "")
	if _, err := r.bob.respond(failReader{}, big.NewInt(5)); err == nil {
		t.Fatal("respond with failing rand succeeded")
	}
	if r.bob.phase != smpWaitSecret {
		t.Fatal("failed respond dropped the pending request")
	}
	r.msg2, _ = r.bob.respond(r.rb, smpSecret(smpFPA, smpFPB, smpSSID, []byte("s")))
	reply, ev, _ := r.alice.receive(failReader{}, r.msg2)
	if ev != smpAborted || len(reply) != 1 || reply[0].typ != tlvSMPAbort || r.alice.inProgress() {
		t.Fatalf("alice with failing rand: ev %v reply %v", ev, reply)
	}
}

// A new SMP1 while a request waits for the user's answer replaces it, as in
// the spec (that state is still SMPSTATE_EXPECT1).
func TestSMPNewRequestReplacesPending(t *testing.T) {
	r := newSMPRun(t)
	r.step1("old", "old question")
	var alice2 smpState
	m, _ := alice2.start(testRand(7), smpSecret(smpFPA, smpFPB, smpSSID, []byte("new")), "new question")
	reply, ev, q := r.bob.receive(r.rb, m)
	if len(reply) != 0 || ev != smpQuestion || q != "new question" {
		t.Fatalf("got %v %v %q", reply, ev, q)
	}
	r.alice = alice2
	r.step2("new")
	if r.step3() != smpSucceeded || r.step4() != smpSucceeded {
		t.Fatal("replacement run failed")
	}
}

func TestSMPWipe(t *testing.T) {
	r := newSMPRun(t)
	r.step1("s", "")
	r.step2("s")
	e3 := r.alice.e3
	r.alice.wipe()
	if e3.Sign() != 0 || r.alice.inProgress() || r.alice.e3 != nil {
		t.Fatal("wipe left the exponent")
	}
}

// cloneSMP deep-copies a state so a fuzz iteration cannot wipe the template.
func cloneSMP(s *smpState) *smpState {
	c := *s
	for _, p := range []**big.Int{&c.x, &c.e2, &c.e3, &c.g2o, &c.g3o, &c.g2, &c.g3, &c.p, &c.q, &c.pab, &c.qab} {
		if *p != nil {
			*p = new(big.Int).Set(*p)
		}
	}
	return &c
}

func FuzzSMPReceive(f *testing.F) {
	r := newSMPRun(f)
	r.step1("s", "q")
	waiting := cloneSMP(&r.bob)
	r.step2("s")
	states := []*smpState{{}, waiting, cloneSMP(&r.alice), cloneSMP(&r.bob)}
	// Seeds: each real message to each state.
	r.step3()
	for i := range states {
		for _, m := range []tlv{r.msg1, r.msg2, r.msg3, r.msg4, {typ: tlvSMPAbort}} {
			f.Add(byte(i), m.typ, m.value)
		}
	}
	f.Fuzz(func(t *testing.T, which byte, typ uint16, value []byte) {
		s := cloneSMP(states[int(which)%len(states)])
		reply, ev, _ := s.receive(testRand(3), tlv{typ: typ % 10, value: value})
		switch ev {
		case smpCheated, smpAborted:
			if s.inProgress() {
				t.Fatalf("event %v left SMP in progress", ev)
			}
		case smpSucceeded, smpFailed:
			// Only the genuine final messages can complete a run.
			if !bytes.Equal(value, r.msg3.value) && !bytes.Equal(value, r.msg4.value) {
				t.Fatalf("fuzzed input completed SMP: %v", ev)
			}
		}
		for _, x := range reply {
			if x.typ != tlvSMPAbort && x.typ != tlvSMP3 && x.typ != tlvSMP4 {
				t.Fatalf("unexpected reply type %d", x.typ)
			}
		}
	})
}
