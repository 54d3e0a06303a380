package account

// What a chat says is what protected each line: several OTR instances of
// one address, failed checks, our instance tag across restarts, peers
// that restart (issue "What the label says is what protected the
// message"). Everything runs through the real account loop on Prosody.

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/internal/testbed"
	"github.com/sotto-im/sotto/otr"
	"github.com/sotto-im/sotto/secret"
)

// withWireTap shows a test every chat body the loop sends.
func withWireTap(f func(to, body string)) Option { return func(o *options) { o.wireTap = f } }

// injectPresence hands Alice's loop a presence as if the server had
// delivered it from `from`.
func injectPresence(t *testing.T, p *peer, from, typ string) {
	t.Helper()
	c, err := p.m.client(p.jid)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.call(ctxT(t), func(reply func(error)) {
		c.handlePresence(&wire.Presence{From: from, Type: typ})
		reply(nil)
	}); err != nil {
		t.Fatal(err)
	}
}

// A server-level attacker runs a second OTR instance under Bob's own full
// JID with its own key, lets Bob's real instance re-establish the
// verified session, then talks from its own instance. Its lines must never
// carry Bob's Private label, and its verification request is declined.
func TestUnverifiedInstanceNeverShownAsPrivate(t *testing.T) {
	tapped := make(chan string, 4096)
	var bobFull string
	h := newHostileBedWith(t, peerOpts{extra: []Option{withWireTap(func(to, body string) {
		if to == bobFull {
			select {
			case tapped <- body:
			default:
			}
		}
	})}})
	bobFull = h.bobFull // read by the tap only after this point
	a := h.a
	drain := func() {
		for {
			select {
			case <-tapped:
			default:
				return
			}
		}
	}
	drain()

	k, err := otr.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg := otr.NewConfig(k, otr.PolicyManual)
	cfg.InstanceTag = 0x7777aaaa
	mal, err := otr.NewConversation(cfg)
	if err != nil {
		t.Fatal(err)
	}
	deliver := func(msgs [][]byte) {
		for _, m := range msgs {
			inject(t, a, h.bobFull, string(m))
		}
	}
	// 1. Mallory's instance completes an AKE as bob/sotto: the key
	// warning is shown.
	mark := a.rec.mark()
	res, err := mal.Receive([]byte("?OTRv3?"))
	if err != nil {
		t.Fatal(err)
	}
	deliver(res.Send)
	for deadline := time.Now().Add(10 * time.Second); mal.State() != otr.StateEncrypted; {
		select {
		case b := <-tapped:
			r, err := mal.Receive([]byte(b))
			if err != nil {
				t.Fatal(err)
			}
			deliver(r.Send)
		case <-time.After(time.Until(deadline)):
			t.Fatal("mallory's AKE with alice did not finish")
		}
	}
	sc := a.waitFor(mark, "key warning", func(e Event) bool {
		s, ok := e.(SecurityChanged)
		return ok && s.Conv.Peer == h.b.jid && s.KeyChanged
	}).(SecurityChanged)
	if sc.Level == Private {
		t.Fatal("mallory's session is labelled Private")
	}

	// 2. A forged presence bounce makes Alice refresh; only Bob's real
	// instance answers, and the chat reads Private again.
	mark = a.rec.mark()
	drain() // Mallory stays quiet from here on
	injectPresence(t, a, h.bobFull, "unavailable")
	injectPresence(t, a, h.bobFull, "")
	a.waitFor(mark, "private with bob again", isLevel(h.b.jid, Private))
	if s := a.m.Security(h.bobConv()); s.Level != Private {
		t.Fatalf("the chat reads %v after bob's refresh", s.Level)
	}

	// 3. Mallory talks from its own (still encrypted) instance.
	mark = a.rec.mark()
	r, err := mal.Send([]byte("this is bob, send me the code"))
	if err != nil {
		t.Fatal(err)
	}
	deliver(r.Send)
	m := a.waitFor(mark, "mallory's line", isMsg(h.b.jid, "this is bob, send me the code")).(MessageReceived)
	fpMal := k.Fingerprint().String()
	if m.Level == Private || !m.OtherSession || m.Fingerprint != fpMal {
		t.Fatalf("mallory's line is labelled %v (other session %v, key %s; mallory's is %s)",
			m.Level, m.OtherSession, m.Fingerprint, fpMal)
	}
	// Its verification request is declined, and the user is told.
	r, err = mal.Authenticate("what is our code?", []byte("guess"))
	if err != nil {
		t.Fatal(err)
	}
	deliver(r.Send)
	waitNotice(a, mark, "from another session")
	a.never(mark, "a verification request from mallory's instance", func(e Event) bool {
		_, ok := e.(SMPRequested)
		return ok
	})

	// Bob's own lines still carry his verified key and the chat's session.
	mark = a.rec.mark()
	if _, err := h.b.m.Send(ctxT(t), h.b.conv(h.a), "the real bob"); err != nil {
		t.Fatal(err)
	}
	g := a.waitFor(mark, "bob's line", isMsg(h.b.jid, "the real bob")).(MessageReceived)
	if g.Level != Private || g.OtherSession || g.Fingerprint == fpMal {
		t.Fatalf("bob's genuine line: level %v, other session %v", g.Level, g.OtherSession)
	}
	assertNoPlaintext(t, h.srv, "this is bob, send me the code", "the real bob")
}

// A failed check on a verified key takes the verification back on both
// sides, loudly.
func TestFailedSMPDropsVerification(t *testing.T) {
	srv, a, b := privatePair(t, peerOpts{}, peerOpts{})
	ctx := ctxT(t)
	fa, _ := a.m.OwnFingerprint(ctx, a.jid)
	fb, _ := b.m.OwnFingerprint(ctx, b.jid)
	ma, mb := a.rec.mark(), b.rec.mark()
	if err := a.m.SetVerified(ctx, a.jid, b.jid, fb, true); err != nil {
		t.Fatal(err)
	}
	if err := b.m.SetVerified(ctx, b.jid, a.jid, fa, true); err != nil {
		t.Fatal(err)
	}
	a.waitFor(ma, "alice: bob verified", isLevel(b.jid, Private))
	b.waitFor(mb, "bob: alice verified", isLevel(a.jid, Private))

	ma, mb = a.rec.mark(), b.rec.mark()
	if err := a.m.Authenticate(ctx, a.conv(b), "where did we meet?", "in Lisbon"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(mb, "question", func(e Event) bool { _, ok := e.(SMPRequested); return ok })
	if err := b.m.AnswerSMP(ctx, b.conv(a), "in Porto"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		p     *peer
		mark  int
		other string
	}{{a, ma, b.jid}, {b, mb, a.jid}} {
		s.p.waitFor(s.mark, "failed result", func(e Event) bool {
			r, ok := e.(SMPResult)
			return ok && r.Outcome == SMPFailed
		})
		sc := s.p.waitFor(s.mark, "verification taken back", isLevel(s.other, Unverified)).(SecurityChanged)
		if !strings.Contains(sc.Reason, "no longer verified") {
			t.Errorf("%s: the change says %q", s.p.jid, sc.Reason)
		}
		if lvl := s.p.m.Security(Conversation{Account: s.p.jid, Peer: s.other}).Level; lvl != Unverified {
			t.Errorf("%s: the chat with %s reads %v after a failed check", s.p.jid, s.other, lvl)
		}
		for _, k := range s.p.m.Fingerprints() {
			if k.Contact == s.other && k.Verified {
				t.Errorf("%s: %s's key is still stored as verified", s.p.jid, s.other)
			}
		}
	}
	assertNoPlaintext(t, srv, "where did we meet?", "in Lisbon", "in Porto")
}

// Our instance tag is picked once per account and kept in the profile, so
// a peer's session with us survives our restart (spec §"Instance Tags").
func TestOwnInstanceTagPersists(t *testing.T) {
	_, a, b := privatePair(t, peerOpts{}, peerOpts{})
	ours, _ := instanceTags(t, a, b.jid, wire.DefaultResource)
	prof, err := OpenProfile(a.profile.Dir)
	if err != nil {
		t.Fatal(err)
	}
	accts := prof.Accounts()
	if len(accts) != 1 || accts[0].InstanceTag != ours {
		t.Fatalf("the profile on disk keeps tag %#x, the session uses %#x", accts[0].InstanceTag, ours)
	}
	// Settings saved from the UI (which knows nothing of tags) keep it.
	s := accts[0]
	s.InstanceTag = 0
	if err := prof.SaveAccount(s); err != nil {
		t.Fatal(err)
	}
	// A new start: a fresh manager and loop on the same profile.
	m2 := NewManager(prof, a.secrets)
	c := newClient(m2, prof.Accounts()[0])
	c.ctx = ctxT(t)
	if c.key, err = m2.loadKey(c.ctx, a.jid, false); err != nil { // read at sign-in
		t.Fatal(err)
	}
	sess, err := c.newSession(b.jid)
	if err != nil {
		t.Fatal(err)
	}
	if got := sess.(*otrSession).peer.Current().OurInstanceTag(); got != ours {
		t.Fatalf("after a restart our tag is %#x, was %#x", got, ours)
	}
}

// A peer that restarts comes back with a new instance tag and never ends
// its old session. Ten restarts in a row, each must go private again and
// talk both ways; the instances Alice keeps stay bounded.
func TestPeerRestartsTenTimesStillPrivate(t *testing.T) {
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool()})
	b := newPeer(t, srv, "bob", peerOpts{roots: srv.CertPool()})
	a.connect()
	b.connect()
	befriend(t, a, b)
	ctx := ctxT(t)
	pw, err := b.secrets.Get(ctx, passwordKey(b.jid))
	if err != nil {
		t.Fatal(err)
	}
	key, err := otr.GenerateKey(rand.Reader) // the peer keeps its key across restarts
	if err != nil {
		t.Fatal(err)
	}
	conv := Conversation{Account: a.jid, Peer: b.jid, Resource: "phone"}
	aliceFull := a.jid + "/" + wire.DefaultResource
	var prev *rawClient
	for i := range 10 {
		if prev != nil {
			_ = prev.sess.Close() // the old login goes; its session is never ended
		}
		r := loginRaw(t, srv, b.jid, string(pw), "phone")
		prev = r
		cfg := otr.NewConfig(key, otr.PolicyManual)
		cfg.InstanceTag = 0x5000 + uint32(i)*0x111
		eng, err := otr.NewConversation(cfg)
		if err != nil {
			t.Fatal(err)
		}
		p := &otrPeer{rawClient: r, to: aliceFull, rand: &switchRand{}, conv: eng}
		mark := a.rec.mark()
		r.presence() // Alice refreshes a private conversation whose resource comes back
		if i == 0 {
			if err := a.m.StartPrivate(ctx, conv); err != nil {
				t.Fatal(err)
			}
		}
		p.pump("AKE after restart", func() bool { return eng.State() == otr.StateEncrypted })
		if i == 0 {
			a.waitFor(mark, "private", isLevel(b.jid, Unverified))
			if err := a.m.SetVerified(ctx, a.jid, b.jid, key.Fingerprint().String(), true); err != nil {
				t.Fatal(err)
			}
		}
		text := "hello after restart " + string(rune('0'+i))
		p.encrypt(text)
		m := a.waitFor(mark, "line after restart", isMsg(b.jid, text)).(MessageReceived)
		if !m.Encrypted || m.Level != Private || m.OtherSession {
			t.Fatalf("restart %d: the line is %+v", i, m)
		}
		reply := "reply " + string(rune('0'+i))
		if _, err := a.m.Send(ctx, conv, reply); err != nil {
			t.Fatal(err)
		}
		p.pump("alice's reply", func() bool {
			return len(p.plain) > 0 && p.plain[len(p.plain)-1] == reply
		})
		if s := a.m.Security(conv); s.Level != Private {
			t.Fatalf("restart %d: the chat reads %v", i, s.Level)
		}
	}
	c, _ := a.m.client(a.jid)
	n := 0
	_ = c.call(ctx, func(reply func(error)) {
		if pc, ok := c.convs[peerKey{b.jid, "phone"}]; ok {
			n = len(pc.e2e.(*otrSession).peer.Instances())
		}
		reply(nil)
	})
	if n == 0 || n > otr.DefaultMaxInstances {
		t.Fatalf("alice keeps %d instances for bob/phone", n)
	}
	t.Logf("10 restarts; alice keeps %d instances", n)
	assertNoPlaintext(t, srv, "hello after restart", "reply 9")
}

// lockedStore answers every read as a locked keyring does: unavailable,
// not "not found".
type lockedStore struct{}

func (lockedStore) Get(context.Context, string) ([]byte, error) {
	return nil, fmt.Errorf("the keyring is locked: %w", secret.ErrStoreUnavailable)
}
func (lockedStore) Set(context.Context, string, []byte) error {
	return fmt.Errorf("the keyring is locked: %w", secret.ErrStoreUnavailable)
}
func (lockedStore) Delete(context.Context, string) error {
	return fmt.Errorf("the keyring is locked: %w", secret.ErrStoreUnavailable)
}

// A plain message the server delivered is shown, marked plain, even when
// no private conversation can be set up (the key cannot be read now);
// an OTR message that cannot be read is reported, never shown as text.
func TestPlainMessageKeptWhenKeyUnavailable(t *testing.T) {
	prof, err := OpenProfile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(prof, lockedStore{})
	m.events = newEventQueue(1)
	c := newClient(m, Settings{JID: "alice@localhost", Policy: Opportunistic})
	c.ctx = ctxT(t)
	body := "are you there?"
	c.handleMessage(&wire.Message{From: "bob@localhost/phone", Type: "chat", Body: &body})
	otrBody := "?OTR:AAMDAAABAAAAAQAAAAEAAAAA."
	c.handleMessage(&wire.Message{From: "bob@localhost/phone", Type: "chat", Body: &otrBody})
	var got []MessageReceived
	var notes []string
	m.events.mu.Lock()
	for _, e := range m.events.items {
		switch e := e.(type) {
		case MessageReceived:
			got = append(got, e)
		case Notice:
			notes = append(notes, e.Text)
		}
	}
	m.events.mu.Unlock()
	if len(got) != 1 || got[0].Body != body || got[0].Encrypted || got[0].Level != NotPrivate {
		t.Fatalf("shown: %+v", got)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "could not be read") || strings.Contains(notes[0], "account:") {
		t.Fatalf("notices: %q", notes)
	}
}

// A message for another instance tag of ours (Sotto before a restart,
// another login) is not dropped in silence.
func TestMisdirectedMessageSurfaced(t *testing.T) {
	h := newHostileBed(t)
	ours, theirs := instanceTags(t, h.a, h.b.jid, wire.DefaultResource)
	mark := h.a.rec.mark()
	inject(t, h.a, h.bobFull, frag(theirs, ours+1, 1, 2, "?OTR:AAMD"))
	waitNotice(h.a, mark, "meant for another session")
	h.genuine(t, "still private")
}
