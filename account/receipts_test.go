package account

import (
	"strings"
	"testing"
)

// TestReceiptsMarkDelivered: a private message is reported Delivered
// once Bob's Sotto confirmed it (XEP-0184), with the same id; a plain one
// too; with Bob's preference off he confirms nothing, and the receipts
// never carry the text.
func TestReceiptsMarkDelivered(t *testing.T) {
	srv, a, b := privatePair(t, peerOpts{}, peerOpts{})
	ctx := ctxT(t)
	secret := "the receipt must not carry this"
	id, err := a.m.Send(ctx, a.conv(b), secret)
	if err != nil {
		t.Fatal(err)
	}
	a.waitFor(0, "sent encrypted", msgState(id, SentEncrypted))
	b.waitFor(0, "bob shows it", isMsg(a.jid, secret))
	d := a.waitFor(0, "delivered", msgState(id, Delivered)).(MessageStateChanged)
	if d.Body != secret || d.Conv.Peer != b.jid {
		t.Fatalf("delivered event %+v", d)
	}
	assertNoPlaintext(t, srv, secret)
	for _, line := range strings.Split(srv.StanzaLog(), "\n") {
		if strings.Contains(line, "urn:xmpp:receipts") && strings.Contains(line, "<received") && strings.Contains(line, "<body") {
			t.Fatalf("a receipt with a body: %s", line)
		}
	}

	// Bob turns receipts and typing off: he confirms nothing. His reply is
	// the sentinel: a receipt would have left before it.
	if err := b.profile.SavePrefs(Prefs{NoTypingOrReceipts: true}); err != nil {
		t.Fatal(err)
	}
	mark := a.rec.mark()
	id2, err := a.m.Send(ctx, a.conv(b), "second")
	if err != nil {
		t.Fatal(err)
	}
	b.waitFor(0, "bob shows the second", isMsg(a.jid, "second"))
	if _, err := b.m.Send(ctx, b.conv(a), "sentinel from bob"); err != nil {
		t.Fatal(err)
	}
	a.waitFor(mark, "bob's sentinel", isMsg(b.jid, "sentinel from bob"))
	a.never(mark, "a receipt from bob with receipts off", msgState(id2, Delivered))
	// Bob's own message asked for no receipt either.
	for _, line := range strings.Split(srv.StanzaLog(), "\n") {
		if strings.Contains(line, "RECV: <message") && strings.Contains(line, "from='"+b.jid) &&
			strings.Contains(line, "urn:xmpp:receipts") {
			t.Fatalf("bob sent a receipt or a request with receipts off: %s", line)
		}
	}
}

// TestChatStatesTyping: once Alice's message showed Bob that she speaks
// XEP-0085, his typing reaches her as composing and paused; before it,
// nothing is sent; with her preference off she sends none.
func TestChatStatesTyping(t *testing.T) {
	srv, a, b := privatePair(t, peerOpts{}, peerOpts{})
	ctx := ctxT(t)
	isState := func(peer string, st ChatState) func(Event) bool {
		return func(e Event) bool {
			c, ok := e.(ChatStateChanged)
			return ok && c.Conv.Peer == peer && c.State == st
		}
	}
	// Alice has not told Bob anything: his typing stays with him.
	if err := b.m.SetChatState(ctx, b.conv(a), StateComposing); err != nil {
		t.Fatal(err)
	}
	if _, err := b.m.Send(ctx, b.conv(a), "hello alice"); err != nil {
		t.Fatal(err)
	}
	a.waitFor(0, "bob's hello", isMsg(b.jid, "hello alice"))
	a.never(0, "bob typing before he knew alice supports it", isState(b.jid, StateComposing))
	a.waitFor(0, "bob active with his message", isState(b.jid, StateActive))

	// Alice's message came with <active/>: Bob's Sotto knows now.
	if _, err := a.m.Send(ctx, a.conv(b), "hi bob"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(0, "alice's hi", isMsg(a.jid, "hi bob"))
	mark := a.rec.mark()
	if err := b.m.SetChatState(ctx, b.conv(a), StateComposing); err != nil {
		t.Fatal(err)
	}
	a.waitFor(mark, "bob typing", isState(b.jid, StateComposing))
	if err := b.m.SetChatState(ctx, b.conv(a), StatePaused); err != nil {
		t.Fatal(err)
	}
	a.waitFor(mark, "bob paused", isState(b.jid, StatePaused))
	for _, line := range strings.Split(srv.StanzaLog(), "\n") {
		if strings.Contains(line, "<composing") && strings.Contains(line, "<body") {
			t.Fatalf("a typing notification with a body: %s", line)
		}
	}

	// Alice turns them off: her typing is not sent (her message after it
	// is the sentinel) and her messages carry no chat state.
	if err := a.profile.SavePrefs(Prefs{NoTypingOrReceipts: true}); err != nil {
		t.Fatal(err)
	}
	mb := b.rec.mark()
	if err := a.m.SetChatState(ctx, a.conv(b), StateComposing); err != nil {
		t.Fatal(err)
	}
	if _, err := a.m.Send(ctx, a.conv(b), "quiet sentinel"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(mb, "alice's sentinel", isMsg(a.jid, "quiet sentinel"))
	b.never(mb, "alice's chat state with her preference off", func(e Event) bool { _, ok := e.(ChatStateChanged); return ok })
}
