package account

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sotto-im/sotto/internal/testbed"
)

// TestOfflineContactLineWaitsThenGoesEncrypted: Alice (policy Always)
// types to Bob while he is offline. The line waits visibly, does not
// expire while he is away (her clock is set two hours on when she types
// it, so any deadline has passed; a later ping of hers in the server log
// shows her housekeeping ran since), is never sent in plain, and goes out
// encrypted once Bob is back and the conversation is private.
func TestOfflineContactLineWaitsThenGoesEncrypted(t *testing.T) {
	srv := testbed.Start(t)
	var offset atomic.Int64
	clock := WithClock(func() time.Time { return time.Now().Add(time.Duration(offset.Load())) })
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), policy: Always,
		extra: []Option{clock, WithPrivateTimeout(time.Second)}})
	b := newPeer(t, srv, "bob", peerOpts{roots: srv.CertPool()})
	a.connect()
	b.connect()
	befriend(t, a, b)
	ctx := ctxT(t)
	ma := a.rec.mark()
	if err := b.m.Disconnect(ctx, b.jid); err != nil {
		t.Fatal(err)
	}
	a.waitFor(ma, "bob offline", func(e Event) bool {
		rc, ok := e.(RosterChanged)
		if !ok {
			return false
		}
		for _, c := range rc.Contacts {
			if c.JID == b.jid && c.Show() == Offline {
				return true
			}
		}
		return false
	})
	secret := "for bob when he is back"
	offset.Store(int64(-2 * time.Hour))
	id, err := a.m.Send(ctx, a.conv(b), secret)
	offset.Store(0)
	if err != nil {
		t.Fatal(err)
	}
	q := a.waitFor(ma, "queued", msgState(id, Queued)).(MessageStateChanged)
	if !strings.Contains(q.Reason, "waits until "+b.jid+" is online") {
		t.Fatalf("queued with reason %q", q.Reason)
	}
	// Sentinel: two pings of Alice's reach the server after the line was
	// queued; her housekeeping (ping, then queue deadlines) ran between.
	pings := func() int { return strings.Count(srv.StanzaLog(), "urn:xmpp:ping") }
	p0 := pings()
	deadline := time.Now().Add(20 * time.Second)
	for pings() < p0+2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	a.never(ma, "the waiting line given up while bob is offline", msgState(id, NotSent))
	assertNoPlaintext(t, srv, secret)

	mb := b.rec.mark()
	b.connect()
	a.waitFor(ma, "private with bob", isLevel(b.jid, Unverified))
	a.waitFor(ma, "sent encrypted", msgState(id, SentEncrypted))
	if m := b.waitFor(mb, "the line", isMsg(a.jid, secret)).(MessageReceived); !m.Encrypted {
		t.Fatalf("arrived as %+v", m)
	}
	assertNoPlaintext(t, srv, secret)
}
