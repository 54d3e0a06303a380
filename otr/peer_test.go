package otr

import (
	"testing"
	"time"
)

// peerRig is Alice as a Peer talking to any number of Bob instances, each
// a plain Conversation with its own instance tag (and maybe its own key).
type peerRig struct {
	t     *testing.T
	clock *testClock
	alice *Peer
	// last is the instance of Alice's Peer that handled the last message
	// a Bob instance sent, and got what it decrypted.
	last     *Conversation
	lastText []string
}

func newPeerRig(t *testing.T, max int) *peerRig {
	clock := &testClock{t: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
	cfg := testConfig(t, 0, PolicyOpportunistic, clock)
	cfg.InstanceTag = 0x1234a
	p, err := NewPeer(cfg, max)
	if err != nil {
		t.Fatal(err)
	}
	return &peerRig{t: t, clock: clock, alice: p}
}

// bob makes a Bob instance with key k and instance tag tag.
func (r *peerRig) bob(k int, tag uint32) *Conversation {
	cfg := testConfig(r.t, k, PolicyOpportunistic, r.clock)
	cfg.Rand = detRand(uint64(tag))
	cfg.InstanceTag = tag
	c, err := NewConversation(cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

// run delivers msgs from bob to Alice and everything that follows in both
// directions until both are quiet. Alice's replies go to bob only (a real
// server delivers them to the instance they are addressed to).
func (r *peerRig) run(bob *Conversation, fromBob [][]byte) {
	r.t.Helper()
	for round := 0; len(fromBob) > 0; round++ {
		if round > 20 {
			r.t.Fatal("no quiescence")
		}
		var toBob [][]byte
		for _, m := range fromBob {
			res, in, err := r.alice.Receive(m)
			if err != nil {
				r.t.Fatalf("alice: %v", err)
			}
			r.last = in
			if res.Plaintext != nil {
				r.lastText = append(r.lastText, string(res.Plaintext))
			}
			toBob = append(toBob, res.Send...)
		}
		fromBob = nil
		for _, m := range toBob {
			res, err := bob.Receive(m)
			if err != nil {
				r.t.Fatalf("bob: %v", err)
			}
			fromBob = append(fromBob, res.Send...)
		}
	}
}

// goPrivate runs an AKE that bob's instance starts: Alice queries (as
// the account does when a resource comes online) and bob's D-H commit,
// tagged with its instance, finds or makes its instance at Alice. (A query
// *from* a new instance is answered by Alice's current instance, whose
// D-H commit is addressed to the instance it is bound to.)
func (r *peerRig) goPrivate(bob *Conversation) {
	r.t.Helper()
	res, err := bob.Receive(r.alice.Current().Query().Send[0])
	if err != nil {
		r.t.Fatal(err)
	}
	r.run(bob, res.Send)
	if bob.State() != StateEncrypted {
		r.t.Fatalf("bob instance %#x is %v after the AKE", bob.OurInstanceTag(), bob.State())
	}
}

func (r *peerRig) say(bob *Conversation, text string) {
	r.t.Helper()
	res, err := bob.Send([]byte(text))
	if err != nil {
		r.t.Fatal(err)
	}
	r.run(bob, res.Send)
}

func TestPeerRoutesEachInstanceAndReportsWhichDecrypted(t *testing.T) {
	r := newPeerRig(t, 0)
	bob := r.bob(1, 0x5678b)
	r.goPrivate(bob)
	first := r.alice.Current()
	if fp, _ := first.PeerFingerprint(); fp != testKey(t, 1).Fingerprint() {
		t.Fatal("the first instance is not bound to bob's key")
	}

	// A second instance under the same address, with another key (a
	// second login, or a server-level attacker) completes its own AKE.
	mallory := r.bob(2, 0x9999c)
	r.goPrivate(mallory)
	if len(r.alice.Instances()) != 2 {
		t.Fatalf("%d instances, want 2", len(r.alice.Instances()))
	}
	if r.alice.Current() == first {
		t.Fatal("the instance whose AKE finished last did not become current")
	}

	// bob's old instance still decrypts; the Peer says it was that one.
	r.say(bob, "from bob")
	if r.last != first || r.lastText[len(r.lastText)-1] != "from bob" {
		t.Fatalf("bob's message went through %p (first is %p): %q", r.last, first, r.lastText)
	}
	if fp, _ := r.last.PeerFingerprint(); fp != testKey(t, 1).Fingerprint() {
		t.Fatal("the decrypting instance does not carry bob's fingerprint")
	}
	r.say(mallory, "from mallory")
	if r.last != r.alice.Current() {
		t.Fatal("mallory's message was not handled by the current instance")
	}
	if fp, _ := r.last.PeerFingerprint(); fp != testKey(t, 2).Fingerprint() {
		t.Fatal("the current instance does not carry mallory's fingerprint")
	}
}

func TestPeerRestartsTenTimesStillPrivateAndBounded(t *testing.T) {
	r := newPeerRig(t, 4)
	var prev []*Conversation
	for i := range 10 {
		// A peer that restarts comes back with a new instance tag and
		// never ends its old session.
		bob := r.bob(1, 0x5678b+uint32(i)*0x1000)
		r.goPrivate(bob)
		r.say(bob, "hello")
		if r.last != r.alice.Current() || r.alice.Current().State() != StateEncrypted {
			t.Fatalf("restart %d: the new instance is not the current private one", i)
		}
		if n := len(r.alice.Instances()); n > 4 {
			t.Fatalf("restart %d: %d instances kept, bound is 4", i, n)
		}
		prev = append(prev, r.last)
	}
	// Evicted instances were wiped, not just dropped.
	kept := map[*Conversation]bool{}
	for _, in := range r.alice.Instances() {
		kept[in] = true
	}
	wiped := 0
	for _, in := range prev {
		if !kept[in] {
			if in.State() != StatePlaintext || in.keys != nil {
				t.Fatal("an evicted instance still holds its session")
			}
			wiped++
		}
	}
	if wiped != 6 {
		t.Fatalf("%d instances evicted and wiped, want 6", wiped)
	}
}

func TestPeerEvictsNotEncryptedFirst(t *testing.T) {
	r := newPeerRig(t, 3)
	ended := r.bob(1, 0x5678b)
	r.goPrivate(ended)
	endedInst := r.alice.Current()
	live := r.bob(1, 0x6789c)
	r.goPrivate(live)
	liveInst := r.alice.Current()
	// The first instance ends after the second went private: it is now
	// the most recently used one, but Finished.
	res, err := ended.End()
	if err != nil {
		t.Fatal(err)
	}
	r.run(ended, res.Send)
	if endedInst.State() != StateFinished {
		t.Fatalf("the ended instance is %v", endedInst.State())
	}
	r.goPrivate(r.bob(1, 0x789ad))
	r.goPrivate(r.bob(1, 0x89abe)) // over the bound: one must go
	kept := map[*Conversation]bool{}
	for _, in := range r.alice.Instances() {
		kept[in] = true
	}
	if kept[endedInst] || !kept[liveInst] {
		t.Fatalf("evicted the live session instead of the ended one (ended kept %v, live kept %v)",
			kept[endedInst], kept[liveInst])
	}
}

func TestPeerResetForgetsEveryInstance(t *testing.T) {
	r := newPeerRig(t, 0)
	bob := r.bob(1, 0x5678b)
	r.goPrivate(bob)
	old := r.alice.Current()
	if err := r.alice.Reset(PolicyAlways); err != nil {
		t.Fatal(err)
	}
	if old.keys != nil || old.State() != StatePlaintext {
		t.Fatal("Reset left the old session's keys in memory")
	}
	cur := r.alice.Current()
	if cur == old || len(r.alice.Instances()) != 1 || cur.State() != StatePlaintext {
		t.Fatal("Reset did not start over with one plaintext instance")
	}
	if cur.OurInstanceTag() != 0x1234a {
		t.Fatalf("our instance tag changed to %#x", cur.OurInstanceTag())
	}
	if _, err := cur.Send([]byte("x")); err != ErrEncryptionRequired {
		t.Fatalf("the new policy does not apply: %v", err)
	}
}

func TestNewInstanceTagIsValid(t *testing.T) {
	// A source whose first words are below 0x100 must be skipped.
	src := detRand(7)
	for range 100 {
		tag, err := NewInstanceTag(src)
		if err != nil || tag < minInstanceTag {
			t.Fatalf("tag %#x, %v", tag, err)
		}
	}
}
