package account

import (
	"slices"
	"testing"

	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/internal/testbed"
)

// TestBlockContact: after Alice blocks mallory, neither his messages nor
// his subscription requests reach her (the server drops them, and so
// does the loop when a message gets through anyway); a sentinel from
// carol sent after them arrives. Unblocking lets him through again.
func TestBlockContact(t *testing.T) {
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool()})
	a.connect()
	_, mpw := srv.AddUser(t, "mallory")
	_, cpw := srv.AddUser(t, "carol")
	mallory := loginRaw(t, srv, "mallory@localhost", mpw, "spam")
	carol := loginRaw(t, srv, "carol@localhost", cpw, "phone")
	to := a.jid + "/" + wire.DefaultResource
	ctx := ctxT(t)
	fromMallory := func(e Event) bool {
		switch e := e.(type) {
		case MessageReceived:
			return e.Conv.Peer == "mallory@localhost"
		case SubscriptionRequest:
			return e.From == "mallory@localhost"
		}
		return false
	}

	mallory.mustSend(to, "buy now")
	a.waitFor(0, "mallory before the block", isMsg("mallory@localhost", "buy now"))

	if err := a.m.Block(ctx, a.jid, "mallory@localhost"); err != nil {
		t.Fatalf("Block: %v", err)
	}
	if got, err := a.m.Blocked(ctx, a.jid); err != nil || !slices.Equal(got, []string{"mallory@localhost"}) {
		t.Fatalf("Blocked: %q, %v", got, err)
	}
	mark := a.rec.mark()
	mallory.mustSend(to, "buy more")
	if err := mallory.sess.Encode(mallory.ctx, wire.OutPresence{To: a.jid, Type: "subscribe"}); err != nil {
		t.Fatal(err)
	}
	inject(t, a, "mallory@localhost/other", "through a server that does not block")
	carol.mustSend(to, "sentinel from carol")
	a.waitFor(mark, "carol's sentinel", isMsg("carol@localhost", "sentinel from carol"))
	a.never(mark, "mallory's message or request after the block", fromMallory)

	// A new login fetches the blocklist from the server.
	if err := a.m.Disconnect(ctx, a.jid); err != nil {
		t.Fatal(err)
	}
	a.connect()
	a.waitFor(mark, "the blocklist after a new login", func(e Event) bool {
		b, ok := e.(BlocklistChanged)
		return ok && slices.Equal(b.Blocked, []string{"mallory@localhost"})
	})
	mark = a.rec.mark()
	inject(t, a, "mallory@localhost/spam", "still blocked")
	carol.mustSend(to, "second sentinel")
	a.waitFor(mark, "carol's second sentinel", isMsg("carol@localhost", "second sentinel"))
	a.never(mark, "mallory after a new login", fromMallory)

	if err := a.m.Unblock(ctx, a.jid, "mallory@localhost"); err != nil {
		t.Fatalf("Unblock: %v", err)
	}
	mallory.mustSend(to, "after unblock")
	a.waitFor(mark, "mallory after unblocking", isMsg("mallory@localhost", "after unblock"))
}
