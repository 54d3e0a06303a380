package account

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/ping"

	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/internal/testbed"
)

// addRosterItems puts n contacts on user's roster through a raw login,
// pipelined, and waits for the server to have handled them all.
func addRosterItems(t *testing.T, srv *testbed.Server, user, pw string, from, n int) {
	t.Helper()
	r := loginRaw(t, srv, user, pw, "setup")
	for i := from; i < from+n; i++ {
		q := wire.OutIQ{ID: fmt.Sprintf("add%d", i), Type: "set", Roster: &wire.RosterQuery{Items: []wire.RosterItem{
			{JID: fmt.Sprintf("contact%04d@example.org", i), Name: fmt.Sprintf("Contact %d", i), Groups: []string{"Many"}}}}}
		if err := r.sess.Encode(r.ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// One round trip after them: the server handles a stream in order.
	if err := ping.Send(r.ctx, r.sess, jid.MustParse("localhost")); err != nil {
		t.Fatal(err)
	}
	_ = r.sess.Close()
}

// writeProsodyRoster writes user's roster in Prosody's internal storage
// (the format Prosody 0.12 itself writes, seen in its data directory):
// n contacts, roster version 1. The user must not be logged in.
func writeProsodyRoster(t *testing.T, srv *testbed.Server, user string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("return {\n\t[false] = { [\"version\"] = 1; [\"pending\"] = {}; };\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\t[\"contact%04d@example.org\"] = { [\"subscription\"] = \"none\"; [\"name\"] = \"Contact %d\"; [\"groups\"] = { [\"Many\"] = true; }; };\n", i, i)
	}
	b.WriteString("};\n")
	dir := filepath.Join(srv.Dir(), "data", "localhost", "roster")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, user+".dat"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

var iqIDRE = regexp.MustCompile(`id=['"]([^'"]+)['"]`)

// rosterReplyItems waits until the stanza log from off on has the roster
// get the client sent and the server's reply to it; it returns the ver
// the client sent ("(none)" without one) and the items in that reply.
func rosterReplyItems(t *testing.T, srv *testbed.Server, off int) (ver string, items int) {
	t.Helper()
	verRE := regexp.MustCompile(`ver=['"]([^'"]*)['"]`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		lines := strings.Split(srv.StanzaLog()[off:], "\n")
		for i, l := range lines {
			if !strings.Contains(l, "RECV: <iq") || !strings.Contains(l, "jabber:iq:roster") || !strings.Contains(l, "type='get'") {
				continue
			}
			id := iqIDRE.FindStringSubmatch(l)[1]
			ver = "(none)"
			if m := verRE.FindStringSubmatch(l); m != nil {
				ver = m[1]
			}
			for _, r := range lines[i+1:] {
				if strings.Contains(r, "SEND: <iq") && strings.Contains(r, "id='"+id+"'") {
					return ver, strings.Count(r, "<item ")
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no roster get and reply in the log:\n%s", srv.StanzaLog()[off:])
	return "", 0
}

// loopRoster is the number of contacts in the loop's roster once a ping
// sent from the loop now has come back (so every stanza the server sent
// before it, such as a roster reply, has been handled).
func loopRoster(t *testing.T, p *peer) int {
	t.Helper()
	c, _ := p.m.client(p.jid)
	n := -1
	err := c.call(ctxT(t), func(reply func(error)) {
		c.sendIQ(wire.OutIQ{Type: "get", To: "localhost", Ping: &wire.Empty{}}, func(*wire.IQ) {
			n = len(c.roster.items)
			reply(nil)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRosterVersioning: with 2,000 contacts, a reconnect sends the cached
// version and the server's reply has no items; the roster shown is still
// all 2,000 contacts. A change made while offline comes back whole.
func TestRosterVersioning(t *testing.T) {
	const n = 2000
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool()})
	pw, _ := a.secrets.Get(context.Background(), passwordKey(a.jid))
	// Through the protocol, 2,000 roster sets take minutes (Prosody
	// rewrites the whole roster file for each): write its roster file.
	writeProsodyRoster(t, srv, "alice", n)
	count := rosterOf

	off := len(srv.StanzaLog())
	mark := a.rec.mark()
	a.connect()
	a.waitFor(mark, "the whole roster", count(n))
	if ver, items := rosterReplyItems(t, srv, off); ver != "" || items != n {
		t.Fatalf("first fetch sent ver %q and got %d items, want ver \"\" and %d", ver, items, n)
	}
	c, _ := a.m.client(a.jid)
	fi, err := os.Stat(c.rosterCachePath())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("roster cache: %v, mode %v; want a 0600 file", err, fi.Mode())
	}

	reconnect := func() {
		t.Helper()
		if err := a.m.Disconnect(ctxT(t), a.jid); err != nil {
			t.Fatal(err)
		}
		off = len(srv.StanzaLog())
		mark = a.rec.mark()
		a.connect()
	}
	reconnect()
	ver, items := rosterReplyItems(t, srv, off)
	if ver == "" || ver == "(none)" || items != 0 {
		t.Fatalf("reconnect sent ver %q and got %d items, want our version and 0 items", ver, items)
	}
	if got := loopRoster(t, a); got != n {
		t.Fatalf("after the empty reply the roster has %d contacts, want the %d cached", got, n)
	}
	a.waitFor(mark, "the cached roster shown", count(n))

	// Offline, another device adds a contact: the next login gets it.
	if err := a.m.Disconnect(ctxT(t), a.jid); err != nil {
		t.Fatal(err)
	}
	addRosterItems(t, srv, a.jid, string(pw), n, 1)
	reconnect()
	if ver, items := rosterReplyItems(t, srv, off); items != n+1 {
		t.Fatalf("after a change made offline, ver %q got %d items, want %d", ver, items, n+1)
	}
	a.waitFor(mark, "the roster with the contact added offline", count(n+1))

	// The app restarts: a new Manager on the same profile reads the cache.
	if err := a.m.Disconnect(ctxT(t), a.jid); err != nil {
		t.Fatal(err)
	}
	b := restartedPeer(t, srv, a)
	off = len(srv.StanzaLog())
	b.connect()
	ver, items = rosterReplyItems(t, srv, off)
	if ver == "" || ver == "(none)" || items != 0 {
		t.Fatalf("after a restart: sent ver %q and got %d items, want the cached version and 0 items", ver, items)
	}
	if got := loopRoster(t, b); got != n+1 {
		t.Fatalf("after a restart the roster has %d contacts, want the %d cached", got, n+1)
	}
	b.waitFor(0, "the cached roster shown after a restart", count(n+1))
}

// restartedPeer is p's account in a new Manager on the same profile and
// secrets, as after restarting the app (p must be offline).
func restartedPeer(t *testing.T, srv *testbed.Server, p *peer, opts ...Option) *peer {
	t.Helper()
	dialer := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Addr())
	}
	m := NewManager(p.profile, p.secrets, append([]Option{WithDialer(dialer), WithRootCAs(srv.CertPool())}, opts...)...)
	q := &peer{t: t, m: m, jid: p.jid, rec: &recorder{}, profile: p.profile, secrets: p.secrets}
	_, stop := runManager(m, q.rec.add)
	t.Cleanup(func() {
		if !stop() {
			t.Errorf("%s: Manager.Run did not return", p.jid)
		}
	})
	return q
}

// signedInOnceWithRoster: alice, with n contacts on a server of her own,
// has signed in once (so her profile holds the roster cache) and out.
func signedInOnceWithRoster(t *testing.T, n int) (*testbed.Server, *peer) {
	t.Helper()
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool()})
	writeProsodyRoster(t, srv, "alice", n)
	a.connect()
	a.waitFor(0, "the whole roster", rosterOf(n))
	if err := a.m.Disconnect(ctxT(t), a.jid); err != nil {
		t.Fatal(err)
	}
	return srv, a
}

// rosterOf matches a RosterChanged with want contacts.
func rosterOf(want int) func(Event) bool {
	return func(e Event) bool { rc, ok := e.(RosterChanged); return ok && len(rc.Contacts) == want }
}

// TestRosterFromCacheBeforeSignIn: after a restart the roster seen last
// time is shown before any connection, everyone offline; the login then
// fills in presence without fetching the roster again.
func TestRosterFromCacheBeforeSignIn(t *testing.T) {
	const n = 50
	srv, a := signedInOnceWithRoster(t, n)
	count := rosterOf

	// The network is down: the dialer blocks until it is let through.
	gate := make(chan struct{})
	var dials atomic.Int32
	slow := func(ctx context.Context, network, _ string) (net.Conn, error) {
		dials.Add(1)
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Addr())
	}
	b := restartedPeer(t, srv, a, WithDialer(slow))
	off := len(srv.StanzaLog())
	ctx := ctxT(t)
	go func() { _ = b.m.Connect(ctx, b.jid) }()
	rc := b.waitFor(0, "the cached roster before sign-in", count(n)).(RosterChanged)
	for _, c := range rc.Contacts {
		if len(c.Resources) > 0 {
			t.Fatalf("%s shown online from the cache", c.JID)
		}
	}
	b.rec.mu.Lock()
	for _, e := range b.rec.events {
		if isConn(Connected)(e) {
			t.Fatal("connected while the dial was held")
		}
	}
	b.rec.mu.Unlock()
	close(gate)
	b.waitFor(0, "connected", isConn(Connected))
	if ver, items := rosterReplyItems(t, srv, off); ver == "" || items != 0 {
		t.Fatalf("the login after the cached roster sent ver %q and got %d items; want the cached version and none", ver, items)
	}
	if dials.Load() == 0 {
		t.Fatal("no dial happened")
	}
}
