package otr

// White-box checks that session secrets are overwritten, not merely
// dropped, when a session ends (spec §"User requests to end an OTR
// conversation": forget the session keys) or is replaced.

import (
	"math/big"
	"testing"
)

// secretRefs aliases the memory of every secret a Conversation holds, so a
// test can look at it after the Conversation has let go of it.
type secretRefs struct {
	words map[string][]big.Word // big.Int backing arrays
	bytes map[string][]byte     // key arrays
}

func newSecretRefs() *secretRefs {
	return &secretRefs{words: map[string][]big.Word{}, bytes: map[string][]byte{}}
}

func (r *secretRefs) int(name string, x *big.Int) {
	if x != nil && x.Sign() != 0 {
		r.words[name] = x.Bits()
	}
}

// capture records the session keys, D-H private keys, AKE keys and SMP
// secrets c holds right now.
func (r *secretRefs) capture(prefix string, c *Conversation) {
	if k := c.keys; k != nil {
		r.int(prefix+"our_dh[cur].priv", k.ourCur.priv)
		r.int(prefix+"our_dh[prev].priv", k.ourPrev.priv)
		for i, s := range k.sessions {
			n := prefix + "session" + string(rune('0'+i))
			r.bytes[n+".sendAES"] = s.sendAES[:]
			r.bytes[n+".recvAES"] = s.recvAES[:]
			r.bytes[n+".sendMAC"] = s.sendMAC[:]
			r.bytes[n+".recvMAC"] = s.recvMAC[:]
			r.bytes[n+".extra"] = s.extra[:]
		}
	}
	a := &c.ake
	r.int(prefix+"ake.priv", a.priv)
	if len(a.r) > 0 {
		r.bytes[prefix+"ake.r"] = a.r
	}
	if a.keys.c != ([16]byte{}) {
		r.bytes[prefix+"ake.c"] = a.keys.c[:]
		r.bytes[prefix+"ake.m1"] = a.keys.m1[:]
	}
	s := &c.smp
	for n, x := range map[string]*big.Int{"x": s.x, "e2": s.e2, "e3": s.e3, "g2": s.g2,
		"g3": s.g3, "p": s.p, "q": s.q, "pab": s.pab, "qab": s.qab} {
		r.int(prefix+"smp."+n, x)
	}
}

// mustBeWiped fails for every captured secret that is not all zero.
func (r *secretRefs) mustBeWiped(t *testing.T) {
	t.Helper()
	if len(r.words)+len(r.bytes) == 0 {
		t.Fatal("nothing was captured: the test is not looking at anything")
	}
	for n, w := range r.words {
		for _, x := range w {
			if x != 0 {
				t.Errorf("%s not wiped", n)
				break
			}
		}
	}
	for n, b := range r.bytes {
		for _, x := range b {
			if x != 0 {
				t.Errorf("%s not wiped", n)
				break
			}
		}
	}
}

// busyPair is an encrypted pair that exchanged messages both ways (so
// several session key pairs exist) and has an SMP run half done: Alice
// waits for SMP2, Bob has answered and waits for SMP3... unless stopAt
// says otherwise.
func busyPair(t *testing.T) *pair {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	p.send(p.a, "one")
	p.send(p.b, "two")
	p.send(p.a, "three")
	res, err := p.a.c.Authenticate("q", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	p.deliver(p.a, res.Send)
	if !p.b.c.SMPInProgress() || !p.a.c.SMPInProgress() {
		t.Fatal("SMP not in progress")
	}
	return p
}

func TestEndWipesSessionKeys(t *testing.T) {
	p := busyPair(t)
	refs := newSecretRefs()
	refs.capture("alice.", p.a.c)
	if len(p.a.c.keys.sessions) < 2 {
		t.Fatalf("only %d session key pairs: the test wants several", len(p.a.c.keys.sessions))
	}
	t.Logf("captured %d big.Int secrets and %d key arrays", len(refs.words), len(refs.bytes))
	res, err := p.a.c.End()
	if err != nil || len(res.Send) != 1 {
		t.Fatalf("End: %v, %d messages", err, len(res.Send))
	}
	refs.mustBeWiped(t)
	if p.a.c.keys != nil || p.a.c.SMPInProgress() || p.a.c.smp.x != nil {
		t.Fatal("End kept references to session state")
	}
	// The Disconnected message still reaches Bob, who wipes his side too.
	refs = newSecretRefs()
	refs.capture("bob.", p.b.c)
	p.deliver(p.a, res.Send)
	if p.b.c.State() != StateFinished || !p.b.has(EventPeerEnded) {
		t.Fatalf("bob: %v %v", p.b.c.State(), p.b.kinds())
	}
	refs.mustBeWiped(t)
	if p.b.c.keys != nil || p.b.c.SMPInProgress() {
		t.Fatal("peer end kept session state")
	}
	// Finished refuses to send; ending again returns to plaintext.
	if _, err := p.b.c.Send([]byte("x")); err != ErrFinished {
		t.Fatalf("send in Finished: %v", err)
	}
}

func TestEndMidSMPResponderWipes(t *testing.T) {
	p := busyPair(t)
	res, err := p.b.c.RespondSMP([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	_ = res // not delivered: Bob ends while waiting for SMP3
	refs := newSecretRefs()
	refs.capture("bob.", p.b.c)
	if _, ok := refs.words["bob.smp.x"]; !ok {
		t.Fatal("bob holds no SMP secret after responding")
	}
	if _, err := p.b.c.End(); err != nil {
		t.Fatal(err)
	}
	refs.mustBeWiped(t)
}

func TestEndMidAKEWipes(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	// Alice's query makes Bob send a D-H Commit: Bob now holds x and r.
	q := p.a.c.Query()
	res, err := p.b.c.Receive(q.Send[0])
	if err != nil || len(res.Send) != 1 {
		t.Fatalf("bob: %v %d", err, len(res.Send))
	}
	// Alice answers with a D-H Key; Bob computes the AKE keys and sends
	// his Reveal Signature, then both stop.
	res, err = p.a.c.Receive(res.Send[0])
	if err != nil || len(res.Send) != 1 {
		t.Fatalf("alice: %v %d", err, len(res.Send))
	}
	res, err = p.b.c.Receive(res.Send[0])
	if err != nil || len(res.Send) != 1 {
		t.Fatalf("bob: %v %d", err, len(res.Send))
	}
	refs := newSecretRefs()
	refs.capture("bob.", p.b.c)
	refs.capture("alice.", p.a.c)
	for _, n := range []string{"bob.ake.priv", "bob.ake.r", "bob.ake.c", "alice.ake.priv"} {
		if _, ok := refs.words[n]; !ok {
			if _, ok := refs.bytes[n]; !ok {
				t.Fatalf("%s not captured: the AKE is not where the test expects", n)
			}
		}
	}
	p.a.c.End()
	p.b.c.End()
	refs.mustBeWiped(t)
}

func TestReAKEWipesOldSessionKeys(t *testing.T) {
	p := busyPair(t)
	refs := newSecretRefs()
	refs.capture("alice.", p.a.c)
	// A fresh AKE replaces every key of the old session. (The SMP secret is
	// kept on a refresh with the same peer key, so only keys are checked.)
	for n := range refs.words {
		if len(n) > 10 && n[6:10] == "smp." {
			delete(refs.words, n)
		}
	}
	p.secure(p.b)
	if !p.a.has(EventStillSecure) {
		t.Fatalf("alice: %v", p.a.kinds())
	}
	refs.mustBeWiped(t)
	p.send(p.a, "after the refresh")
	if p.b.lastPlain() != "after the refresh" {
		t.Fatal("session broken after the refresh")
	}
}

func TestKeyRotationWipesForgottenKeys(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	p.send(p.a, "one") // Alice sends with her keyid 1: session pair (1, 1)
	k := p.a.c.keys
	if len(k.sessions) != 1 || k.sessions[0].ourID != 1 || k.ourKeyID != 2 {
		t.Fatalf("unexpected key state: %d sessions, our keyid %d", len(k.sessions), k.ourKeyID)
	}
	refs := newSecretRefs()
	refs.int("our_dh[1].priv", k.ourPrev.priv)
	s := k.sessions[0]
	refs.bytes["session(1,1).sendAES"] = s.sendAES[:]
	refs.bytes["session(1,1).sendMAC"] = s.sendMAC[:]
	refs.bytes["session(1,1).extra"] = s.extra[:]
	// Bob's reply is addressed to Alice's keyid 2: she forgets keyid 1 and
	// every session built on it (spec §"Receiving a Data Message").
	p.send(p.b, "two")
	if p.a.c.keys.ourKeyID != 3 {
		t.Fatalf("alice did not rotate: our keyid %d", p.a.c.keys.ourKeyID)
	}
	refs.mustBeWiped(t)
	p.send(p.a, "three")
	if p.b.lastPlain() != "three" {
		t.Fatal("conversation broken after rotation")
	}
}

// Forget (the app quitting without End) wipes the same secrets and sends
// nothing; the conversation is then plain and a new AKE can start.
func TestForgetWipesWithoutSending(t *testing.T) {
	p := busyPair(t)
	refs := newSecretRefs()
	refs.capture("alice.", p.a.c)
	p.a.c.Forget()
	refs.mustBeWiped(t)
	if p.a.c.keys != nil || p.a.c.SMPInProgress() || p.a.c.State() != StatePlaintext {
		t.Fatalf("after Forget: keys %v, smp %v, state %v", p.a.c.keys != nil, p.a.c.SMPInProgress(), p.a.c.State())
	}
	if _, err := p.a.c.Send([]byte("after forget")); err != nil && p.a.c.cfg.Policy&RequireEncryption == 0 {
		t.Fatalf("a forgotten conversation must behave as a new plain one: %v", err)
	}
}
