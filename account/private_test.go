package account

// OTR behaviour end to end through a real Prosody: the server's stanza log
// proves what it saw.

import (
	"strings"
	"testing"
	"time"

	"github.com/sotto-im/sotto/internal/testbed"
	"github.com/sotto-im/sotto/otr"
)

// privatePair logs in two friends and takes them private; it returns
// after both sides report Unverified.
func privatePair(t *testing.T, pa, pb peerOpts) (*testbed.Server, *peer, *peer) {
	t.Helper()
	srv := testbed.Start(t)
	a, b := privatePairOn(t, srv, pa, pb)
	return srv, a, b
}

// privatePairOn is privatePair on a given server (Prosody or ejabberd).
func privatePairOn(t *testing.T, srv testbed.XMPP, pa, pb peerOpts) (*peer, *peer) {
	t.Helper()
	pa.roots, pb.roots = srv.CertPool(), srv.CertPool()
	a := newPeer(t, srv, "alice", pa)
	b := newPeer(t, srv, "bob", pb)
	a.connect()
	b.connect()
	befriend(t, a, b)
	start := time.Now()
	ma, mb := a.rec.mark(), b.rec.mark()
	if err := a.m.StartPrivate(ctxT(t), a.conv(b)); err != nil {
		t.Fatalf("StartPrivate: %v", err)
	}
	sa := a.waitFor(ma, "alice private", isLevel(b.jid, Unverified)).(SecurityChanged)
	sb := b.waitFor(mb, "bob private", isLevel(a.jid, Unverified)).(SecurityChanged)
	t.Logf("AKE through %s took %v", srv.Name(), time.Since(start).Round(time.Millisecond))
	fa, _ := a.m.OwnFingerprint(ctxT(t), a.jid)
	fb, _ := b.m.OwnFingerprint(ctxT(t), b.jid)
	if sa.Fingerprint != fb || sb.Fingerprint != fa {
		t.Fatalf("fingerprints: alice sees %q (bob's is %q), bob sees %q (alice's is %q)", sa.Fingerprint, fb, sb.Fingerprint, fa)
	}
	if !sa.NewFingerprint || sa.Verified {
		t.Fatalf("first AKE: %+v, want NewFingerprint and not Verified", sa)
	}
	return a, b
}

func TestGoingPrivateMessagesEncryptedOnTheWire(t *testing.T) {
	forEachServer(t, testGoingPrivateMessagesEncryptedOnTheWire)
}

func testGoingPrivateMessagesEncryptedOnTheWire(t *testing.T, srv testbed.XMPP) {
	a, b := privatePairOn(t, srv, peerOpts{}, peerOpts{})
	ctx := ctxT(t)
	secrets := []string{"the eagle lands at noon", "ack, bring the cake", "third secret message"}
	id, err := a.m.Send(ctx, a.conv(b), secrets[0])
	if err != nil {
		t.Fatal(err)
	}
	a.waitFor(0, "sent encrypted", msgState(id, SentEncrypted))
	m := b.waitFor(0, "decrypted message", isMsg(a.jid, secrets[0])).(MessageReceived)
	if !m.Encrypted {
		t.Fatalf("bob got %+v, want Encrypted", m)
	}
	if _, err := b.m.Send(ctx, b.conv(a), secrets[1]); err != nil {
		t.Fatal(err)
	}
	if m := a.waitFor(0, "reply", isMsg(b.jid, secrets[1])).(MessageReceived); !m.Encrypted {
		t.Fatalf("alice got %+v, want Encrypted", m)
	}
	if _, err := a.m.Send(ctx, a.conv(b), secrets[2]); err != nil {
		t.Fatal(err)
	}
	b.waitFor(0, "third", isMsg(a.jid, secrets[2]))

	assertNoPlaintext(t, srv, secrets...) // flushes the server's log first
	log := srv.StanzaLog()
	// Non-OTR bodies only on lines naming both alice and bob: the shared
	// ejabberd's log holds other tests' stanzas too (plain ones among
	// them). Prosody logs what a client sends without its from, so the
	// OTR count is over the whole log.
	otrN, _ := otrBodies(log)
	_, other := otrBodiesBetween(log, a.jid, b.jid)
	t.Logf("server saw %d OTR bodies and %d other bodies between alice and bob", otrN, other)
	if otrN < 2*5 { // AKE (4+query) and 3 data messages, each RECV and SEND
		t.Fatalf("only %d OTR bodies in the stanza log", otrN)
	}
	if other != 0 {
		t.Fatalf("%d non-OTR bodies between alice and bob in the stanza log", other)
	}
	if !strings.Contains(log, "no-permanent-store") || !strings.Contains(log, "urn:xmpp:carbons:2") {
		t.Fatal("OTR messages lack the XEP-0334/XEP-0280 hints")
	}

	// The key lives in the secret.Store in libotr's format and survives.
	raw, err := a.secrets.Get(ctx, "otr-key:"+a.jid)
	if err != nil {
		t.Fatalf("no otr-key:<jid> secret: %v", err)
	}
	keys, err := otr.ParsePrivateKeys(raw)
	if err != nil || len(keys) != 1 {
		t.Fatalf("stored key: %v (%d keys)", err, len(keys))
	}
	if fp, _ := a.m.OwnFingerprint(ctx, a.jid); keys[0].Key.Fingerprint().String() != fp {
		t.Fatalf("stored key fingerprint %s, OwnFingerprint %s", keys[0].Key.Fingerprint(), fp)
	}
}

func TestManualVerificationAndForget(t *testing.T) {
	_, a, b := privatePair(t, peerOpts{}, peerOpts{})
	ctx := ctxT(t)
	fb, _ := b.m.OwnFingerprint(ctx, b.jid)
	mark := a.rec.mark()
	if err := a.m.SetVerified(ctx, a.jid, b.jid, fb, true); err != nil {
		t.Fatal(err)
	}
	s := a.waitFor(mark, "Private after manual verification", isLevel(b.jid, Private)).(SecurityChanged)
	if !s.Verified || s.Fingerprint != fb {
		t.Fatalf("%+v", s)
	}
	if fps := a.m.Fingerprints(); len(fps) != 1 || fps[0].How != "manual" {
		t.Fatalf("fingerprints %+v", fps)
	}
	mark = a.rec.mark()
	if err := a.m.ForgetFingerprint(ctx, a.jid, b.jid, fb); err != nil {
		t.Fatal(err)
	}
	a.waitFor(mark, "Unverified after forgetting", isLevel(b.jid, Unverified))
	if fps := a.m.Fingerprints(); len(fps) != 0 {
		t.Fatalf("fingerprints after forget %+v", fps)
	}
}

func TestSMPVerifiesBothWays(t *testing.T) {
	forEachServer(t, func(t *testing.T, srv testbed.XMPP) {
		a, b := privatePairOn(t, srv, peerOpts{}, peerOpts{})
		smpBothWays(t, a, b)
	})
}

// smpBothWays: alice verifies bob by SMP with a question, then bob alice;
// each side is Private and Verified only after its own question.
func smpBothWays(t *testing.T, a, b *peer) {
	ctx := ctxT(t)
	verify := func(asker, answerer *peer) {
		t.Helper()
		ma, mb := asker.rec.mark(), answerer.rec.mark()
		start := time.Now()
		if err := asker.m.Authenticate(ctx, asker.conv(answerer), "Where did we meet?", "Lisbon"); err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		req := answerer.waitFor(mb, "SMP request", func(e Event) bool { _, ok := e.(SMPRequested); return ok }).(SMPRequested)
		if req.Question != "Where did we meet?" {
			t.Fatalf("question %q", req.Question)
		}
		if err := answerer.m.AnswerSMP(ctx, req.Conv, "Lisbon"); err != nil {
			t.Fatalf("AnswerSMP: %v", err)
		}
		r := asker.waitFor(ma, "SMP result", func(e Event) bool { _, ok := e.(SMPResult); return ok }).(SMPResult)
		if r.Outcome != SMPSucceeded || !r.WeAsked {
			t.Fatalf("asker result %+v", r)
		}
		r = answerer.waitFor(mb, "SMP result", func(e Event) bool { _, ok := e.(SMPResult); return ok }).(SMPResult)
		if r.Outcome != SMPSucceeded || r.WeAsked {
			t.Fatalf("answerer result %+v", r)
		}
		asker.waitFor(ma, "Private", isLevel(answerer.jid, Private))
		t.Logf("%s verified %s in %v", asker.jid, answerer.jid, time.Since(start).Round(time.Millisecond))
	}
	verify(a, b)
	if s := b.m.Security(b.conv(a)); s.Level != Unverified {
		t.Fatalf("answering alone verified: bob sees %v", s.Level)
	}
	verify(b, a)
	if s := a.m.Security(a.conv(b)); s.Level != Private || !s.Verified {
		t.Fatalf("alice: %+v", s)
	}
	if s := b.m.Security(b.conv(a)); s.Level != Private || !s.Verified {
		t.Fatalf("bob: %+v", s)
	}
	fps := a.m.Fingerprints()
	if len(fps) != 1 || !fps[0].Verified || fps[0].How != "smp" {
		t.Fatalf("alice's stored fingerprints: %+v", fps)
	}
}

func TestSMPWrongAnswerFails(t *testing.T) {
	forEachServer(t, testSMPWrongAnswerFails)
}

func testSMPWrongAnswerFails(t *testing.T, srv testbed.XMPP) {
	a, b := privatePairOn(t, srv, peerOpts{}, peerOpts{})
	ctx := ctxT(t)
	if err := a.m.Authenticate(ctx, a.conv(b), "Favourite colour?", "blue"); err != nil {
		t.Fatal(err)
	}
	req := b.waitFor(0, "SMP request", func(e Event) bool { _, ok := e.(SMPRequested); return ok }).(SMPRequested)
	if err := b.m.AnswerSMP(ctx, req.Conv, "green"); err != nil {
		t.Fatal(err)
	}
	r := a.waitFor(0, "SMP result", func(e Event) bool { _, ok := e.(SMPResult); return ok }).(SMPResult)
	if r.Outcome != SMPFailed {
		t.Fatalf("alice: %+v, want failed", r)
	}
	r = b.waitFor(0, "SMP result", func(e Event) bool { _, ok := e.(SMPResult); return ok }).(SMPResult)
	if r.Outcome != SMPFailed {
		t.Fatalf("bob: %+v, want failed", r)
	}
	if s := a.m.Security(a.conv(b)); s.Level != Unverified || s.Verified {
		t.Fatalf("after a failed SMP alice sees %+v", s)
	}
	for _, f := range a.m.Fingerprints() {
		if f.Verified {
			t.Fatalf("fingerprint verified after a wrong answer: %+v", f)
		}
	}
}

func TestPeerEndsFinishedRefusesSend(t *testing.T) {
	srv, a, b := privatePair(t, peerOpts{}, peerOpts{})
	ctx := ctxT(t)
	ma := a.rec.mark()
	if err := b.m.EndPrivate(ctx, b.conv(a)); err != nil {
		t.Fatal(err)
	}
	b.waitFor(0, "bob not private", isLevel(a.jid, NotPrivate))
	fin := a.waitFor(ma, "Finished", isLevel(b.jid, Finished)).(SecurityChanged)
	if fin.Reason == "" {
		t.Fatal("Finished without a reason")
	}
	secret := "this must never reach the server"
	id, err := a.m.Send(ctx, a.conv(b), secret)
	if err != nil {
		t.Fatal(err)
	}
	st := a.waitFor(ma, "refused", func(e Event) bool {
		m, ok := e.(MessageStateChanged)
		return ok && m.ID == id
	}).(MessageStateChanged)
	if st.State != NotSent || st.Reason == "" {
		t.Fatalf("send in Finished: %+v", st)
	}

	// Ending from Finished returns to NotPrivate.
	if err := a.m.EndPrivate(ctx, a.conv(b)); err != nil {
		t.Fatal(err)
	}
	a.waitFor(ma, "NotPrivate", isLevel(b.jid, NotPrivate))

	// The sentinel: a plain message sent after the refused one, on the same
	// stream. Once bob has it, the server has passed on (and logged), and
	// bob's loop has handled, everything alice sent before it — the refused
	// message too, had it left (or had ending the session released it).
	const sentinel = "sentinel after the refused message"
	if _, err := a.m.Send(ctx, a.conv(b), sentinel); err != nil {
		t.Fatal(err)
	}
	b.waitFor(0, "the sentinel", isMsg(a.jid, sentinel))
	if !strings.Contains(srv.StanzaLog(), sentinel) {
		t.Fatal("server log does not show the sentinel: stanza log not working")
	}
	assertNoPlaintext(t, srv, secret)
	b.never(0, "the refused message", isMsg(a.jid, secret))
}

func TestAlwaysPolicyQueuesUntilPrivate(t *testing.T) {
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), policy: Always})
	b := newPeer(t, srv, "bob", peerOpts{roots: srv.CertPool()})
	a.connect()
	b.connect()
	befriend(t, a, b)
	ctx := ctxT(t)
	secret := "queued until the AKE is done"
	id, err := a.m.Send(ctx, a.conv(b), secret)
	if err != nil {
		t.Fatal(err)
	}
	a.waitFor(0, "queued", msgState(id, Queued))
	a.waitFor(0, "sent encrypted", msgState(id, SentEncrypted))
	if m := b.waitFor(0, "delivered", isMsg(a.jid, secret)).(MessageReceived); !m.Encrypted {
		t.Fatalf("bob got %+v, want Encrypted", m)
	}
	assertNoPlaintext(t, srv, secret)
	a.never(0, "sent plain", func(e Event) bool {
		m, ok := e.(MessageStateChanged)
		return ok && m.State == SentPlain
	})
}

// dhCommits counts v3 D-H Commit messages (bytes 00 03 02, base64 AAMC)
// the server relayed.
func dhCommits(srv *testbed.Server) int { return strings.Count(srv.StanzaLog(), "?OTR:AAMC") }

func TestServerRestartMidConversation(t *testing.T) {
	for _, how := range []string{"stop", "kill"} {
		t.Run(how, func(t *testing.T) { testServerRestart(t, how == "kill") })
	}
}

// testServerRestart: Prosody goes away (clean shutdown, or killed like a
// crash) and comes back on the same port with the same data.
func testServerRestart(t *testing.T, kill bool) {
	srv, a, b := privatePair(t, peerOpts{}, peerOpts{})
	ctx := ctxT(t)
	if _, err := a.m.Send(ctx, a.conv(b), "before the outage"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(0, "before", isMsg(a.jid, "before the outage"))

	ma, mb := a.rec.mark(), b.rec.mark()
	commits := dhCommits(srv)
	if kill {
		srv.Kill()
	} else {
		srv.Stop()
	}
	lost := func(e Event) bool {
		c, ok := e.(ConnectionChanged)
		return ok && c.State == Reconnecting
	}
	a.waitFor(ma, "alice reconnecting", lost)
	b.waitFor(mb, "bob reconnecting", lost)
	secret := "sent while the server was down"
	id, err := a.m.Send(ctx, a.conv(b), secret)
	if err != nil {
		t.Fatal(err)
	}
	a.waitFor(ma, "queued during outage", msgState(id, Queued))
	srv.Restart(t)
	start := time.Now()
	up := func(e Event) bool {
		c, ok := e.(ConnectionChanged)
		return ok && c.State == Connected
	}
	a.waitFor(ma, "alice back", up)
	b.waitFor(mb, "bob back", up)
	t.Logf("both reconnected %v after restart", time.Since(start).Round(time.Millisecond))
	fate := a.waitFor(ma, "fate of the outage message", func(e Event) bool {
		m, ok := e.(MessageStateChanged)
		return ok && m.ID == id && (m.State == SentEncrypted || m.State == NotSent || m.State == SentPlain)
	}).(MessageStateChanged)
	t.Logf("outage message: %v %s after %v", fate.State, fate.Reason, time.Since(start).Round(time.Millisecond))
	switch fate.State {
	case SentEncrypted:
		if m := b.waitFor(mb, "outage message delivered", isMsg(a.jid, secret)).(MessageReceived); !m.Encrypted {
			t.Fatalf("delivered unencrypted: %+v", m)
		}
	case NotSent:
		if fate.Reason == "" {
			t.Fatal("NotSent without a reason")
		}
	default:
		t.Fatalf("outage message %v", fate.State)
	}
	if s := a.m.Security(a.conv(b)); s.Level != Unverified {
		t.Fatalf("after reconnect alice sees %v", s.Level)
	}
	if n := dhCommits(srv); n <= commits {
		t.Fatalf("no new AKE after the reconnect (%d D-H commits before, %d after)", commits, n)
	}
	// And the conversation works afterwards in both directions.
	if _, err := b.m.Send(ctx, b.conv(a), "after the outage"); err != nil {
		t.Fatal(err)
	}
	if m := a.waitFor(ma, "after", isMsg(b.jid, "after the outage")).(MessageReceived); !m.Encrypted {
		t.Fatalf("after restart: %+v", m)
	}
	assertNoPlaintext(t, srv, secret, "before the outage", "after the outage")
}
