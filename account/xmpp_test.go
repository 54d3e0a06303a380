package account

// XMPP behaviour against a real Prosody: login, roster, presence, plain
// messages, certificates, bad passwords.

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/internal/testbed"
)

func TestLoginRosterPresenceAndPlainMessages(t *testing.T) {
	forEachServer(t, testLoginRosterPresenceAndPlainMessages)
}

func testLoginRosterPresenceAndPlainMessages(t *testing.T, srv testbed.XMPP) {
	start := time.Now()
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), policy: Manual})
	b := newPeer(t, srv, "bob", peerOpts{roots: srv.CertPool(), policy: Manual})
	a.connect()
	b.connect()
	befriend(t, a, b)
	// SCRAM is preferred over PLAIN (Prosody offers SCRAM-SHA-1 and PLAIN).
	srv.Flush(t)
	if mechs := authMechanisms(srv.StanzaLog()); len(mechs) == 0 || slices.ContainsFunc(mechs, func(m string) bool { return !strings.HasPrefix(m, "SCRAM-SHA-1") }) {
		t.Fatalf("accounts logged in with %q, want SCRAM-SHA-1 only", mechs)
	}
	c := waitOnline(a, b, 0)
	if c.Name != "Bob" || len(c.Groups) != 1 || c.Groups[0] != "Friends" {
		t.Fatalf("roster entry = %+v, want name Bob in Friends", c)
	}
	if c.Resources[0].Name != wire.DefaultResource {
		t.Fatalf("bob's resource %q, want our own bind %q", c.Resources[0].Name, wire.DefaultResource)
	}

	ctx := ctxT(t)
	if err := b.m.SetPresence(ctx, b.jid, Away, "lunch"); err != nil {
		t.Fatal(err)
	}
	a.waitFor(0, "bob away", func(e Event) bool {
		rc, ok := e.(RosterChanged)
		if !ok {
			return false
		}
		for _, c := range rc.Contacts {
			if c.JID == b.jid && c.Show() == Away && c.Status() == "lunch" {
				return true
			}
		}
		return false
	})

	id, err := a.m.Send(ctx, a.conv(b), "hello bob, in plain")
	if err != nil {
		t.Fatal(err)
	}
	a.waitFor(0, "sent plain", msgState(id, SentPlain))
	e := b.waitFor(0, "message from alice", isMsg(a.jid, "hello bob, in plain")).(MessageReceived)
	if e.Encrypted || e.Conv.Resource != wire.DefaultResource {
		t.Fatalf("got %+v, want unencrypted from resource %s", e, wire.DefaultResource)
	}
	if _, err := b.m.Send(ctx, b.conv(a), "hi alice"); err != nil {
		t.Fatal(err)
	}
	a.waitFor(0, "reply", isMsg(b.jid, "hi alice"))
	// The test is only meaningful if plain really is plain on the server.
	srv.Flush(t)
	if !strings.Contains(srv.StanzaLog(), "hello bob, in plain") {
		t.Fatal("server log does not show the plain message: stanza log not working")
	}

	// Rename and remove.
	if err := a.m.RenameContact(ctx, a.jid, b.jid, "Robert", []string{"Work"}); err != nil {
		t.Fatal(err)
	}
	a.waitFor(0, "renamed", func(e Event) bool {
		rc, ok := e.(RosterChanged)
		return ok && len(rc.Contacts) == 1 && rc.Contacts[0].Name == "Robert" && rc.Contacts[0].Groups[0] == "Work"
	})
	if err := a.m.RemoveContact(ctx, a.jid, b.jid); err != nil {
		t.Fatal(err)
	}
	a.waitFor(0, "removed", func(e Event) bool {
		rc, ok := e.(RosterChanged)
		return ok && len(rc.Contacts) == 0
	})
	t.Logf("whole test %v", time.Since(start).Round(time.Millisecond))
}

func TestDirectTLSLogin(t *testing.T) {
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), direct: true})
	a.connect()
	a.waitFor(0, "connected", func(e Event) bool {
		c, ok := e.(ConnectionChanged)
		return ok && c.State == Connected
	})
}

func TestWrongPasswordFailsWithoutRetry(t *testing.T) {
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), password: "wrong"})
	err := a.m.Connect(ctxT(t), a.jid)
	if err == nil {
		t.Fatal("connected with a wrong password")
	}
	t.Logf("error: %v", err)
	a.waitFor(0, "Failed", func(e Event) bool {
		c, ok := e.(ConnectionChanged)
		return ok && c.State == Failed
	})
	// The sentinel: a round trip through the account loop, which handled
	// the failed attempt before it. A retry would be a timer armed by that
	// handler (or an attempt already under way); neither may exist, so no
	// waiting for a backoff is needed to know none will come.
	c, err := a.m.client(a.jid)
	if err != nil {
		t.Fatal(err)
	}
	var armed, dialing bool
	if err := c.call(ctxT(t), func(reply func(error)) {
		armed, dialing = c.retryC != nil, c.connecting
		reply(nil)
	}); err != nil {
		t.Fatal(err)
	}
	if armed || dialing {
		t.Fatalf("after a refused password: retry timer armed %v, dialing %v", armed, dialing)
	}
	a.never(0, "reconnect after a refused password", func(e Event) bool {
		c, ok := e.(ConnectionChanged)
		return ok && c.State == Reconnecting
	})
}

func TestUntrustedCertificateAskedThenPinned(t *testing.T) {
	srv := testbed.Start(t)
	// No root pool: the system roots do not know the test certificate.
	a := newPeer(t, srv, "alice", peerOpts{})
	if err := a.m.Connect(ctxT(t), a.jid); err == nil {
		t.Fatal("connected to a server with an untrusted certificate")
	}
	q := a.waitFor(0, "certificate question", func(e Event) bool {
		_, ok := e.(CertificateQuestion)
		return ok
	}).(CertificateQuestion)
	want := srvFingerprint(t, srv)
	if q.Fingerprint != want || q.Changed {
		t.Fatalf("question %+v, want fingerprint %s, not changed", q, want)
	}
	a.waitFor(0, "Failed", func(e Event) bool {
		c, ok := e.(ConnectionChanged)
		return ok && c.State == Failed
	})
	mark := a.rec.mark()
	if err := a.m.TrustCertificate(ctxT(t), a.jid, q.Fingerprint); err != nil {
		t.Fatalf("TrustCertificate: %v", err)
	}
	a.waitFor(mark, "connected after trusting", func(e Event) bool {
		c, ok := e.(ConnectionChanged)
		return ok && c.State == Connected
	})
}

func TestChangedCertificateRefused(t *testing.T) {
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{})
	// A different certificate was trusted before.
	if err := a.profile.SetCertPin(a.jid, strings.Repeat("ab", 32)); err != nil {
		t.Fatal(err)
	}
	if err := a.m.Connect(ctxT(t), a.jid); err == nil {
		t.Fatal("connected although the pinned certificate changed")
	}
	q := a.waitFor(0, "certificate question", func(e Event) bool {
		_, ok := e.(CertificateQuestion)
		return ok
	}).(CertificateQuestion)
	if !q.Changed {
		t.Fatalf("question %+v, want Changed", q)
	}
	a.never(0, "connected", func(e Event) bool {
		c, ok := e.(ConnectionChanged)
		return ok && c.State == Connected
	})
	if strings.Contains(srv.Log(), "Authenticated as alice") {
		t.Fatal("logged in over a refused certificate")
	}
}

// blackhole is a TCP proxy to the server whose live connections can be
// frozen: bytes are swallowed in both directions and nothing is closed,
// like a NAT box that forgot the connection.
type blackhole struct {
	ln     net.Listener
	target string
	frozen atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newBlackhole(t *testing.T, target string) *blackhole {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{ln: ln, target: target}
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, c := range b.conns {
			c.Close()
		}
	})
	go b.accept()
	return b
}

func (b *blackhole) accept() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", b.target)
		if err != nil {
			c.Close()
			continue
		}
		b.mu.Lock()
		b.conns = append(b.conns, c, s)
		b.mu.Unlock()
		go b.pipe(c, s)
		go b.pipe(s, c)
	}
}

// pipe copies until frozen, then reads and drops everything.
func (b *blackhole) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		if !b.frozen.Load() {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
	}
}

// unfreeze lets new connections through (frozen ones stay dead).
func (b *blackhole) unfreeze() {
	b.mu.Lock()
	conns := b.conns
	b.conns = nil
	b.mu.Unlock()
	b.frozen.Store(false)
	_ = conns // left open on purpose: the client must give up on its own
}

func TestPingWatchdogReconnectsSilentLink(t *testing.T) {
	srv := testbed.Start(t)
	bh := newBlackhole(t, srv.Addr())
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, bh.ln.Addr().String())
	}
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(),
		extra: []Option{WithDialer(dial), WithPingInterval(300 * time.Millisecond)}})
	a.connect()
	mark := a.rec.mark()
	bh.frozen.Store(true)
	start := time.Now()
	lost := a.waitFor(mark, "watchdog gives up", func(e Event) bool {
		c, ok := e.(ConnectionChanged)
		return ok && c.State == Reconnecting
	}).(ConnectionChanged)
	t.Logf("silent link detected after %v: %s", time.Since(start).Round(time.Millisecond), lost.Err)
	if !strings.Contains(lost.Err, "stopped answering") {
		t.Fatalf("reason %q", lost.Err)
	}
	bh.unfreeze()
	a.waitFor(mark, "reconnected", func(e Event) bool {
		c, ok := e.(ConnectionChanged)
		return ok && c.State == Connected
	})
}

func TestTestConnection(t *testing.T) {
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool()})
	pw, err := a.secrets.Get(context.Background(), "password:"+a.jid)
	if err != nil {
		t.Fatalf("password not stored under password:<jid>: %v", err)
	}
	s := Settings{JID: a.jid}
	if err := a.m.TestConnection(ctxT(t), s, string(pw)); err != nil {
		t.Fatalf("TestConnection: %v", err)
	}
	if err := a.m.TestConnection(ctxT(t), s, "nope"); err == nil {
		t.Fatal("TestConnection accepted a wrong password")
	}
}
