package account

import (
	"errors"
	"strings"
	"testing"
)

// TestUnsentListsWaitingLines: a private line that waits (policy Always,
// and the scripted server never answers the query) is what Unsent
// reports, and QuitWarning asks about it; a plain line that left is not.
func TestUnsentListsWaitingLines(t *testing.T) {
	p, fs := pipeAccount(t)
	fs.waitGot("carbons enable", func(s string) bool { return strings.Contains(s, "urn:xmpp:carbons:2") })
	ctx := ctxT(t)
	bob := Conversation{Account: p.jid, Peer: "bob@localhost"}
	carol := Conversation{Account: p.jid, Peer: "carol@localhost"}
	if u, err := p.m.Unsent(ctx); err != nil || len(u) != 0 || QuitWarning(u) != "" {
		t.Fatalf("nothing sent yet: Unsent %+v, %v; warning %q", u, err, QuitWarning(u))
	}
	if err := p.m.SetPolicy(ctx, p.jid, bob.Peer, Always); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"private one", "private two"} {
		id, err := p.m.Send(ctx, bob, body)
		if err != nil {
			t.Fatal(err)
		}
		p.waitFor(0, "queued", msgState(id, Queued))
	}
	plain, err := p.m.Send(ctx, carol, "plain, gone")
	if err != nil {
		t.Fatal(err)
	}
	p.waitFor(0, "plain sent", msgState(plain, SentPlain))
	u, err := p.m.Unsent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(u) != 1 || u[0].Conv.Peer != bob.Peer || u[0].Lines != 2 || u[0].Private != 2 {
		t.Fatalf("Unsent = %+v, want 2 private lines to bob", u)
	}
	w := QuitWarning(u)
	if !strings.Contains(w, "2 messages to bob@localhost are not sent yet") || !strings.Contains(w, "never saved") {
		t.Fatalf("warning %q", w)
	}
	// Sentinel: the plain line went out after the private ones; once the
	// server has it, it has everything written before it.
	fs.waitGot("the plain line", func(s string) bool { return strings.Contains(s, "plain, gone") })
	fs.mu.Lock()
	got := append([]string(nil), fs.got...)
	fs.mu.Unlock()
	for _, s := range got {
		if strings.Contains(s, "private one") || strings.Contains(s, "private two") {
			t.Fatalf("a waiting private line reached the server: %s", s)
		}
	}
}

// TestResendNotSentLine: bob ends the private conversation, so alice's
// line is NotSent; Resend refuses while the conversation is Finished.
// Alice ends it too (now plain): Resend must not send the line in plain
// (it needed privacy) — it waits, the query goes out, the AKE runs, and
// the line goes encrypted in the new session, with its id; bob gets it
// once. An unknown id is refused. The server never saw the text.
func TestResendNotSentLine(t *testing.T) {
	srv, a, b := privatePair(t, peerOpts{}, peerOpts{})
	ctx := ctxT(t)
	ma, mb := a.rec.mark(), b.rec.mark()
	if err := b.m.EndPrivate(ctx, b.conv(a)); err != nil {
		t.Fatal(err)
	}
	a.waitFor(ma, "Finished", isLevel(b.jid, Finished))
	secret := "resend me, but only encrypted"
	id, err := a.m.Send(ctx, a.conv(b), secret)
	if err != nil {
		t.Fatal(err)
	}
	a.waitFor(ma, "not sent", msgState(id, NotSent))
	m1 := a.rec.mark()
	if err := a.m.Resend(ctx, a.conv(b), id); err != nil {
		t.Fatal(err)
	}
	a.waitFor(m1, "still not sent while Finished", msgState(id, NotSent))

	if err := a.m.EndPrivate(ctx, a.conv(b)); err != nil {
		t.Fatal(err)
	}
	a.waitFor(ma, "NotPrivate", isLevel(b.jid, NotPrivate))
	m2 := a.rec.mark()
	if err := a.m.Resend(ctx, a.conv(b), id); err != nil {
		t.Fatal(err)
	}
	a.waitFor(m2, "queued until private", msgState(id, Queued))
	a.waitFor(m2, "private again", isLevel(b.jid, Unverified))
	a.waitFor(m2, "resent encrypted", msgState(id, SentEncrypted))
	if m := b.waitFor(mb, "the resent line", isMsg(a.jid, secret)).(MessageReceived); !m.Encrypted {
		t.Fatalf("bob got %+v, want Encrypted", m)
	}
	a.never(ma, "the line sent in plain", msgState(id, SentPlain))
	if err := a.m.Resend(ctx, a.conv(b), id); !errors.Is(err, ErrNothingToResend) {
		t.Fatalf("Resend of a sent line: %v, want ErrNothingToResend", err)
	}
	if err := a.m.Resend(ctx, a.conv(b), "0123456789abcdef"); !errors.Is(err, ErrNothingToResend) {
		t.Fatalf("Resend of an unknown id: %v, want ErrNothingToResend", err)
	}
	// Sentinel: a line after everything; then bob had the resent one once.
	if _, err := a.m.Send(ctx, a.conv(b), "after"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(mb, "after", isMsg(a.jid, "after"))
	n := 0
	for _, e := range b.rec.all()[mb:] {
		if m, ok := e.(MessageReceived); ok && m.Body == secret {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("bob got the resent line %d times", n)
	}
	assertNoPlaintext(t, srv, secret)
}
