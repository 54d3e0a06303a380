package account

// Server and network faults: the link cut in the middle of an AKE and of
// an SMP run, and a server that offers no TLS. (Server restarts, changed
// certificates and silent links are in private_test.go and xmpp_test.go.)

import (
	"bufio"
	"context"
	"encoding/base64"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/internal/testbed"
	"github.com/sotto-im/sotto/otr"
	"github.com/sotto-im/sotto/secret"
)

// cutter is a TCP proxy in front of the server whose live connections the
// test can sever at any moment (both ends closed, like a lost link).
type cutter struct {
	ln     net.Listener
	target string
	down   atomic.Bool // refuse new connections (the link stays cut)
	mu     sync.Mutex
	conns  []net.Conn
	holes  []*atomic.Bool // per connection pair: swallow everything (a silent black hole)
	cuts   int
}

func newCutter(t *testing.T, target string) *cutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); c.sever() })
	go func() {
		for {
			a, err := ln.Accept()
			if err != nil {
				return
			}
			if c.down.Load() {
				a.Close()
				continue
			}
			b, err := net.Dial("tcp", target)
			if err != nil {
				a.Close()
				continue
			}
			hole := new(atomic.Bool)
			c.mu.Lock()
			c.conns = append(c.conns, a, b)
			c.holes = append(c.holes, hole)
			c.mu.Unlock()
			go pipeHole(a, b, hole)
			go pipeHole(b, a, hole)
		}
	}()
	return c
}

func pipeConn(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			dst.Close()
			return
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			src.Close()
			return
		}
	}
}

// pipeHole is pipeConn that drops what it reads while hole is set.
func pipeHole(dst, src net.Conn, hole *atomic.Bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			dst.Close()
			return
		}
		if hole.Load() {
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			src.Close()
			return
		}
	}
}

// blackhole makes every live connection silent both ways (nothing
// closes: only a watchdog notices); new connections are not affected.
func (c *cutter) blackhole() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range c.holes {
		h.Store(true)
	}
	c.holes = nil
}

// sever closes every connection through the proxy.
func (c *cutter) sever() {
	c.mu.Lock()
	conns := c.conns
	c.conns = nil
	c.cuts++
	c.mu.Unlock()
	for _, x := range conns {
		x.Close()
	}
}

func (c *cutter) dialer() Option {
	return WithDialer(func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, c.ln.Addr().String())
	})
}

func isConn(st ConnState) func(Event) bool {
	return func(e Event) bool {
		c, ok := e.(ConnectionChanged)
		return ok && c.State == st
	}
}

// TestFaultCutMidSMP: Alice asks Bob to authenticate; her link is cut
// after Bob got the question and before his answer reaches her. Nobody
// may be left waiting forever without being told, no plaintext may reach
// the server, and both can authenticate afterwards.
func TestFaultCutMidSMP(t *testing.T) {
	srv := testbed.Start(t)
	cut := newCutter(t, srv.Addr())
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), extra: []Option{cut.dialer()}})
	b := newPeer(t, srv, "bob", peerOpts{roots: srv.CertPool()})
	privateFriends(t, a, b)
	ctx := ctxT(t)

	ma, mb := a.rec.mark(), b.rec.mark()
	if err := a.m.Authenticate(ctx, a.conv(b), "Our first pet?", "Rex the dog"); err != nil {
		t.Fatal(err)
	}
	req := b.waitFor(mb, "SMP request", func(e Event) bool { _, ok := e.(SMPRequested); return ok }).(SMPRequested)
	cut.down.Store(true)
	cut.sever()
	a.waitFor(ma, "alice lost the link", isConn(Reconnecting))
	// Bob answers while Alice is away. Prosody (mod_offline is always
	// loaded) stores his SMP2 and delivers it when Alice is back, before
	// her session refresh; either outcome must be reported to both.
	b.waitFor(mb, "alice offline for bob", func(e Event) bool {
		rc, ok := e.(RosterChanged)
		if !ok {
			return false
		}
		for _, c := range rc.Contacts {
			if c.JID == a.jid && c.Show() == Offline {
				return true
			}
		}
		return false
	})
	if err := b.m.AnswerSMP(ctx, req.Conv, "Rex the dog"); err != nil {
		t.Fatal(err)
	}
	secret := "typed while the link was down"
	id, err := a.m.Send(ctx, a.conv(b), secret)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	cut.down.Store(false)
	a.waitFor(ma, "alice back", isConn(Connected))
	// Alice must learn what became of her question.
	r := a.waitFor(ma, "alice's SMP outcome", func(e Event) bool { _, ok := e.(SMPResult); return ok }).(SMPResult)
	t.Logf("alice's SMP after the cut: %v (we asked %v)", r.Outcome, r.WeAsked)
	if r.Outcome == SMPSucceeded {
		// Possible only if Bob's answer was delivered after all; then
		// the verification must be real.
		a.waitFor(ma, "Private", isLevel(b.jid, Private))
	}
	rb := b.waitFor(mb, "bob's SMP outcome", func(e Event) bool { _, ok := e.(SMPResult); return ok }).(SMPResult)
	t.Logf("bob's SMP after the cut: %v", rb.Outcome)
	fate := a.waitFor(ma, "fate of the message", func(e Event) bool {
		m, ok := e.(MessageStateChanged)
		return ok && m.ID == id && m.State != Queued && m.State != Sending
	}).(MessageStateChanged)
	t.Logf("message typed during the cut: %v %s", fate.State, fate.Reason)
	switch fate.State {
	case SentEncrypted:
		if m := b.waitFor(mb, "delivered", isMsg(a.jid, secret)).(MessageReceived); !m.Encrypted {
			t.Fatalf("delivered as %+v", m)
		}
	case NotSent:
		if fate.Reason == "" {
			t.Fatal("NotSent without a reason")
		}
	default:
		t.Fatalf("message typed in a private chat: %v", fate.State)
	}
	// A fresh run works.
	ma, mb = a.rec.mark(), b.rec.mark()
	if err := a.m.Authenticate(ctx, a.conv(b), "Our first pet?", "Rex the dog"); err != nil {
		t.Fatalf("authenticating again after the cut: %v", err)
	}
	req = b.waitFor(mb, "SMP request again", func(e Event) bool { _, ok := e.(SMPRequested); return ok }).(SMPRequested)
	if err := b.m.AnswerSMP(ctx, req.Conv, "Rex the dog"); err != nil {
		t.Fatal(err)
	}
	r = a.waitFor(ma, "second SMP outcome", func(e Event) bool { _, ok := e.(SMPResult); return ok }).(SMPResult)
	if r.Outcome != SMPSucceeded {
		t.Fatalf("second SMP: %v", r.Outcome)
	}
	a.waitFor(ma, "Private", isLevel(b.jid, Private))
	assertNoPlaintext(t, srv, secret, "Rex the dog", "Our first pet?")
}

// TestFaultCutMidAKE: Bob (a raw client with our OTR engine, so the test
// controls every step) and Alice are halfway through the AKE when Alice's
// link is cut. Alice never claims to be private with a half-done AKE, and
// after she is back the two go private and talk.
func TestFaultCutMidAKE(t *testing.T) {
	srv := testbed.Start(t)
	cut := newCutter(t, srv.Addr())
	// Without stream management: with it, the D-H Key below is not lost
	// but delivered after the resumption (TestResumeAfterDropResendsUnacked
	// covers that); this test is about an AKE message the link did lose.
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), policy: Always,
		extra: []Option{cut.dialer(), WithoutStreamManagement()}})
	a.connect()
	_, bpw := srv.AddUser(t, "bob")
	braw := loginRaw(t, srv, "bob@localhost", bpw, "raw")
	aliceFull := a.jid + "/" + wire.DefaultResource
	bob := newOTRPeer(t, braw, aliceFull)
	ctx := ctxT(t)
	t.Cleanup(func() { // it flaked once in CI: say what was on the wire
		if t.Failed() {
			t.Logf("bob's engine: %v; the stanza log's OTR lines:\n%s", bob.conv.State(), otrLines(srv.StanzaLog(), 40))
		}
	})

	// Alice (policy Always) queues a message and queries; Bob starts the
	// AKE; we cut Alice's link after Bob sent his D-H Key, before her
	// Reveal Signature reaches him.
	secret := "sent only once the AKE is done"
	id, err := a.m.Send(ctx, Conversation{Account: a.jid, Peer: "bob@localhost", Resource: "raw"}, secret)
	if err != nil {
		t.Fatal(err)
	}
	a.waitFor(0, "queued", msgState(id, Queued))
	bob.pump("alice's query", func() bool { return strings.Contains(srv.StanzaLog(), "?OTRv") })
	bob.sendAll(bob.conv.Query().Send)
	var commit []wire.Message
	deadline := time.Now().Add(10 * time.Second)
	for len(commit) == 0 && time.Now().Before(deadline) {
		for _, m := range bob.next(&bob.seen) {
			if strings.HasPrefix(*m.Body, "?OTR:AAMC") {
				commit = append(commit, m)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(commit) == 0 {
		t.Fatal("alice sent no D-H commit")
	}
	res, err := bob.conv.Receive([]byte(*commit[0].Body))
	if err != nil || len(res.Send) != 1 {
		t.Fatalf("bob: %v, %d", err, len(res.Send))
	}
	ma := a.rec.mark()
	cut.sever()
	bob.sendAll(res.Send) // the D-H Key meets a dead link or an offline Alice
	a.waitFor(ma, "alice lost the link", isConn(Reconnecting))
	a.never(0, "private with a half-done AKE", func(e Event) bool {
		s, ok := e.(SecurityChanged)
		return ok && s.Level != NotPrivate
	})
	a.waitFor(ma, "alice back", isConn(Connected))
	// Back online, Alice's queued message still waits; Bob starts over.
	bob.sendAll(bob.conv.Query().Send)
	bob.pump("AKE after the cut", func() bool { return bob.conv.State() == otr.StateEncrypted })
	a.waitFor(ma, "alice private", isLevel("bob@localhost", Unverified))
	a.waitFor(ma, "queued message sent", msgState(id, SentEncrypted))
	bob.pump("the queued message", func() bool { return slices.Contains(bob.plain, secret) })
	assertNoPlaintext(t, srv, secret)
}

// TestFaultServerWithoutTLSRefused: a server that offers no STARTTLS is
// refused by default with a clear reason, and never sees the password in
// any form a passive listener could use.
func TestFaultServerWithoutTLSRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	var heard strings.Builder
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				r := bufio.NewReader(c)
				buf := make([]byte, 4096)
				features := `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>` +
					`<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>`
				sent := false
				for {
					_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
					n, err := r.Read(buf)
					mu.Lock()
					heard.Write(buf[:n])
					mu.Unlock()
					if err != nil {
						return
					}
					if !sent && strings.Contains(string(buf[:n]), "stream") {
						sent = true
						_, _ = c.Write([]byte(features))
					}
					// Asked for TLS anyway (RFC 7590), it says no, as RFC
					// 6120 §5.4.2.2 describes.
					if strings.Contains(string(buf[:n]), "<starttls") {
						_, _ = c.Write([]byte(`<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>`))
					}
				}
			}(c)
		}
	}()
	prof, err := OpenProfile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const pw = "hunter2-never-in-clear"
	m := NewManager(prof, secret.NewMemory(), WithDialer(func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, ln.Addr().String())
	}), WithReconnectBackoff(time.Hour, time.Hour))
	p := &peer{t: t, m: m, jid: "alice@localhost", rec: &recorder{}, profile: prof}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.Run(runCtx) }()
	go func() {
		for e := range m.Events() {
			p.rec.mu.Lock()
			p.rec.events = append(p.rec.events, e)
			p.rec.mu.Unlock()
		}
	}()
	defer func() { cancel(); <-done }()
	ctx := ctxT(t)
	if err := m.AddAccount(ctx, Settings{JID: p.jid}, pw); err != nil {
		t.Fatal(err)
	}
	err = m.Connect(ctx, p.jid)
	if err == nil {
		t.Fatal("connected to a server without TLS")
	}
	t.Logf("connect: %v", err)
	st := p.waitFor(0, "connection state", func(e Event) bool {
		c, ok := e.(ConnectionChanged)
		return ok && (c.State == Failed || c.State == Reconnecting)
	}).(ConnectionChanged)
	if st.State != Failed {
		t.Fatalf("state %v: a server without TLS is not a transient fault", st.State)
	}
	t.Logf("state %v: %s", st.State, st.Err)
	if !strings.Contains(strings.ToLower(err.Error()+st.Err), "encrypt") && !strings.Contains(strings.ToLower(err.Error()+st.Err), "tls") {
		t.Fatalf("the reason does not mention encryption/TLS: %q / %q", err, st.Err)
	}
	mu.Lock()
	got := heard.String()
	mu.Unlock()
	for _, leak := range []string{pw, base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + pw)), "<auth"} {
		if strings.Contains(got, leak) {
			t.Fatalf("the plaintext server heard %q:\n%s", leak, got)
		}
	}
	// The explicit test path refuses too.
	if err := m.TestConnection(ctx, Settings{JID: p.jid}, pw); err == nil {
		t.Fatal("TestConnection accepted a server without TLS")
	}
}

// TestQueryOfferedAgainWhileLineWaits: a line that must be private waits
// for an AKE; when the first offer gets no answer (lost with a link, or a
// peer that was not ready), Sotto offers again, twice at most, and the
// line goes out encrypted as soon as the peer answers. A peer that never
// answers sees exactly three offers for the line, then it is not sent.
func TestQueryOfferedAgainWhileLineWaits(t *testing.T) {
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), policy: Always,
		extra: []Option{WithQueryRetry(300 * time.Millisecond), WithPrivateTimeout(3 * time.Second)}})
	a.connect()
	_, bpw := srv.AddUser(t, "bob")
	braw := loginRaw(t, srv, "bob@localhost", bpw, "raw")
	aliceFull := a.jid + "/" + wire.DefaultResource
	braw.presenceTo(aliceFull) // online: offers are retried only then
	bob := newOTRPeer(t, braw, aliceFull)
	ctx := ctxT(t)
	conv := Conversation{Account: a.jid, Peer: "bob@localhost", Resource: "raw"}
	queries := func(ms []wire.Message) (n int) {
		for _, m := range ms {
			if strings.HasPrefix(*m.Body, "?OTRv") {
				n++
			}
		}
		return n
	}

	// Bob ignores the first offer and answers the second.
	secret := "waited for the second offer"
	id, err := a.m.Send(ctx, conv, secret)
	if err != nil {
		t.Fatal(err)
	}
	var ignored []wire.Message
	deadline := time.Now().Add(10 * time.Second)
	for queries(ignored) < 2 && time.Now().Before(deadline) {
		ignored = append(ignored, bob.next(&bob.seen)...)
		time.Sleep(10 * time.Millisecond)
	}
	if queries(ignored) < 2 {
		t.Fatalf("alice offered OTR %d times in 10 s while a private line waited", queries(ignored))
	}
	// Answer the latest offer.
	res, err := bob.conv.Receive([]byte(*ignored[len(ignored)-1].Body))
	if err != nil {
		t.Fatal(err)
	}
	bob.sendAll(res.Send)
	bob.pump("AKE on the second offer", func() bool { return bob.conv.State() == otr.StateEncrypted })
	a.waitFor(0, "line sent", msgState(id, SentEncrypted))
	bob.pump("the line", func() bool { return slices.Contains(bob.plain, secret) })

	// Carol has no OTR at all: three offers, then NotSent, and no fourth.
	_, cpw := srv.AddUser(t, "carol")
	craw := loginRaw(t, srv, "carol@localhost", cpw, "raw")
	craw.presenceTo(aliceFull) // online: a waiting line then expires
	cconv := Conversation{Account: a.jid, Peer: "carol@localhost", Resource: "raw"}
	id, err = a.m.Send(ctx, cconv, "never in the clear")
	if err != nil {
		t.Fatal(err)
	}
	a.waitFor(0, "carol's line expired", msgState(id, NotSent))
	// Sentinel: a plain line sent after the expiry arrives after every
	// offer Alice made before it (one stream, in order).
	if err := a.m.SetPolicy(ctx, a.jid, "carol@localhost", Manual); err != nil {
		t.Fatal(err)
	}
	if _, err := a.m.Send(ctx, cconv, "sentinel"); err != nil {
		t.Fatal(err)
	}
	var seen int
	var got []wire.Message
	deadline = time.Now().Add(10 * time.Second)
	for !slices.ContainsFunc(got, func(m wire.Message) bool { return *m.Body == "sentinel" }) {
		if time.Now().After(deadline) {
			t.Fatal("the sentinel never reached carol")
		}
		got = append(got, craw.next(&seen)...)
		time.Sleep(10 * time.Millisecond)
	}
	if n := queries(got); n != 1+maxQueryRetries {
		t.Fatalf("carol saw %d OTR offers for one waiting line, want %d", n, 1+maxQueryRetries)
	}
	assertNoPlaintext(t, srv, secret, "never in the clear")
}

// otrLines is the last n lines of a stanza log that carry OTR, each cut
// to the stanza's addresses and the OTR message type (OTR bodies are ciphertext; nothing private).
func otrLines(log string, n int) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if i := strings.Index(l, "?OTR"); i >= 0 {
			out = append(out, l[max(0, i-140):min(len(l), i+24)])
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return strings.Join(out, "\n")
}
