package account

// XEP-0198 against the real server: a link that goes silent loses
// nothing in either direction.

import (
	"fmt"
	"testing"
	"time"

	"github.com/sotto-im/sotto/internal/testbed"
)

// smStatsOf reads an account's stream-management counters in its loop.
func smStatsOf(t *testing.T, p *peer) smStats {
	t.Helper()
	c, err := p.m.client(p.jid)
	if err != nil {
		t.Fatal(err)
	}
	var st smStats
	if err := c.call(ctxT(t), func(reply func(error)) { st = c.smStats; reply(nil) }); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestResumeAfterDropResendsUnacked: in a private conversation Alice's
// link turns into a silent black hole. Lines she types meanwhile are
// shown Sending (never sent: the server did not get them); lines Bob
// sends meanwhile are acknowledged by the server, which writes them into
// the dead link. Alice's watchdog drops the link, she resumes the stream
// (no new bind, no new AKE), resends exactly her unacknowledged lines,
// and the server resends Bob's: each side gets every line once, in
// order, encrypted, and the server never saw one in the clear. Against
// Prosody (mod_smacks) and ejabberd (mod_stream_mgmt, its default
// resume_timeout of 300 s).
func TestResumeAfterDropResendsUnacked(t *testing.T) {
	t.Run("prosody", func(t *testing.T) {
		resumeAfterDrop(t, testbed.Start(t, testbed.WithHibernation(60*time.Second)))
	})
	t.Run("ejabberd", func(t *testing.T) { resumeAfterDrop(t, testbed.SharedEjabberd(t)) })
}

func resumeAfterDrop(t *testing.T, srv testbed.XMPP) {
	cut := newCutter(t, srv.Addr())
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), extra: []Option{cut.dialer()}})
	b := newPeer(t, srv, "bob", peerOpts{roots: srv.CertPool()})
	privateFriends(t, a, b)
	ctx := ctxT(t)

	const k = 5
	ma, mb := a.rec.mark(), b.rec.mark()
	cut.blackhole()
	start := time.Now()
	var aIDs []string
	var secrets []string
	for i := 0; i < k; i++ {
		body := fmt.Sprintf("alice in the hole %d", i)
		id, err := a.m.Send(ctx, a.conv(b), body)
		if err != nil {
			t.Fatal(err)
		}
		aIDs, secrets = append(aIDs, id), append(secrets, body)
	}
	for i := 0; i < k; i++ {
		body := fmt.Sprintf("bob into the hole %d", i)
		id, err := b.m.Send(ctx, b.conv(a), body)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, body)
		// The server acknowledged it: it has it and owes it to Alice.
		b.waitFor(mb, "bob's line confirmed", func(e Event) bool {
			m, ok := e.(MessageStateChanged)
			return ok && m.ID == id && m.State == SentEncrypted && m.Confirmed
		})
	}
	a.waitFor(ma, "alice's watchdog drops the silent link", isConn(Reconnecting))
	lost := time.Since(start)
	for _, id := range aIDs {
		a.never(ma, "a line shown sent before the server had it", msgState(id, SentEncrypted))
	}
	a.waitFor(ma, "alice back", isConn(Connected))
	for _, id := range aIDs {
		a.waitFor(ma, "alice's line confirmed after the resumption", func(e Event) bool {
			m, ok := e.(MessageStateChanged)
			return ok && m.ID == id && m.State == SentEncrypted && m.Confirmed
		})
	}
	back := time.Since(start)
	for i := 0; i < k; i++ {
		b.waitFor(mb, "alice's line", isMsg(a.jid, fmt.Sprintf("alice in the hole %d", i)))
		a.waitFor(ma, "bob's line", isMsg(b.jid, fmt.Sprintf("bob into the hole %d", i)))
	}
	// Sentinel: one more line each way after everything; then count.
	ia, _ := a.m.Send(ctx, a.conv(b), "alice after")
	ib, _ := b.m.Send(ctx, b.conv(a), "bob after")
	b.waitFor(mb, "alice after", isMsg(a.jid, "alice after"))
	a.waitFor(ma, "bob after", isMsg(b.jid, "bob after"))
	_, _ = ia, ib
	checkOnceInOrder(t, a, ma, b.jid, "bob into the hole %d", k)
	checkOnceInOrder(t, b, mb, a.jid, "alice in the hole %d", k)
	a.never(ma, "a new private session (the resumption needs none)", isLevel(b.jid, NotPrivate))
	st := smStatsOf(t, a)
	t.Logf("link silent → dropped after %v, lines confirmed %v after the hole; alice: resumed %d, resent %d, requeued %d, re-encrypted %d",
		lost.Round(time.Millisecond), back.Round(time.Millisecond), st.Resumed, st.Resent, st.Requeued, st.Reencrypted)
	if st.Resumed < 1 || st.Resent != k || st.Requeued != 0 {
		t.Fatalf("stream management did not resume and resend exactly the %d lines: %+v", k, st)
	}
	// Resent exactly once: Alice resent k lines (above) and Bob never
	// got one twice (he would drop the copy, counted).
	if bs := smStatsOf(t, b); bs.Duplicates != 0 {
		t.Errorf("bob dropped %d copies: the server delivered a line twice", bs.Duplicates)
	}
	assertNoPlaintext(t, srv, secrets...)
}

// checkOnceInOrder: p received the k lines format %d from peer exactly
// once each and in order (after event from).
func checkOnceInOrder(t *testing.T, p *peer, from int, peerJID, format string, k int) {
	t.Helper()
	want := map[string]int{}
	for i := 0; i < k; i++ {
		want[fmt.Sprintf(format, i)] = i
	}
	next := 0
	evs := p.rec.all()
	for _, e := range evs[min(from, len(evs)):] {
		m, ok := e.(MessageReceived)
		if !ok || m.Conv.Peer != peerJID {
			continue
		}
		i, ok := want[m.Body]
		if !ok {
			continue
		}
		if i != next {
			t.Fatalf("%s: got line %d when line %d was due (duplicate or out of order)", p.jid, i, next)
		}
		if !m.Encrypted {
			t.Fatalf("%s: line %d arrived unencrypted", p.jid, i)
		}
		next++
	}
	if next != k {
		t.Fatalf("%s: %d of %d lines arrived", p.jid, next, k)
	}
}
