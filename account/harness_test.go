package account

// Test harness: a Manager per account against the real Prosody from
// internal/testbed, an in-memory secret.Store, and an event recorder.

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sotto-im/sotto/internal/testbed"
	"github.com/sotto-im/sotto/secret"
)

func TestMain(m *testing.M) { testbed.Main(m) }

// recorder keeps every event a Manager published.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

// add records e.
func (r *recorder) add(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

func (r *recorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// peer is one test account: its Manager, JID and events.
type peer struct {
	t       testing.TB
	m       *Manager
	jid     string
	rec     *recorder
	profile *Profile
	secrets *secret.Memory
	// stop ends the Manager (as quitting Sotto does) and waits for Run
	// to return; the test's cleanup calls it too.
	stop  func()
	opts  []Option     // the Manager's, for a restart on the same profile
	store secret.Store // the Manager's secrets, likewise
}

type peerOpts struct {
	roots    *x509.CertPool
	policy   Policy
	direct   bool
	password string // overrides the registered one
	extra    []Option
	store    secret.Store // instead of a fresh secret.Memory (peer.secrets is then nil)
	// host registers the user on this virtual host (testbed.WithHost).
	host string
	// realDial uses the Manager's own dialer (DNS, SRV, proxy) instead
	// of one that dials the test server whatever the address.
	realDial bool
	settings func(*Settings) // changes the account's settings
}

// newPeer registers user on srv and runs a Manager for it.
func newPeer(t *testing.T, srv testbed.XMPP, user string, po peerOpts) *peer {
	t.Helper()
	var jid, pw string
	if po.host != "" {
		jid, pw = srv.(*testbed.Server).AddUserAt(t, user, po.host)
	} else {
		jid, pw = srv.AddUser(t, user)
	}
	if po.password != "" {
		pw = po.password
	}
	prof, err := OpenProfile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	if po.direct {
		addr = srv.DirectTLSAddr()
	}
	dialer := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	opts := []Option{WithPingInterval(2 * time.Second),
		WithReconnectBackoff(100*time.Millisecond, time.Second), WithPrivateTimeout(30 * time.Second)}
	if !po.realDial {
		opts = append(opts, WithDialer(dialer))
	}
	opts = append(opts, po.extra...)
	if po.roots != nil {
		opts = append(opts, WithRootCAs(po.roots))
	}
	secrets := secret.NewMemory()
	var store secret.Store = secrets
	if po.store != nil {
		store, secrets = po.store, nil
	}
	p := runPeer(t, prof, store, jid, opts)
	p.secrets = secrets
	ctx := ctxT(t)
	s := Settings{JID: jid, Policy: po.policy, DirectTLS: po.direct}
	if po.settings != nil {
		po.settings(&s)
	}
	if err := p.m.AddAccount(ctx, s, pw); err != nil {
		t.Fatalf("AddAccount: %v", err)
	}
	return p
}

// runPeer runs a Manager on prof (whose accounts it starts) for the
// account jid and records its events.
func runPeer(t *testing.T, prof *Profile, store secret.Store, jid string, opts []Option) *peer {
	t.Helper()
	m := NewManager(prof, store, opts...)
	p := &peer{t: t, m: m, jid: jid, rec: &recorder{}, profile: prof, opts: opts, store: store}
	_, stop := runManager(m, p.rec.add)
	var once sync.Once
	p.stop = func() {
		once.Do(func() {
			if !stop() {
				t.Errorf("%s: Manager.Run did not return", jid)
			}
		})
	}
	t.Cleanup(p.stop)
	return p
}

func (p *peer) connect() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	if err := p.m.Connect(ctx, p.jid); err != nil {
		p.t.Fatalf("%s: Connect: %v", p.jid, err)
	}
	p.t.Logf("%s connected in %v", p.jid, time.Since(start).Round(time.Millisecond))
}

// waitFor returns the first event at index >= from matching pred.
func (p *peer) waitFor(from int, what string, pred func(Event) bool) Event {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		evs := p.rec.all()
		for _, e := range evs[min(from, len(evs)):] {
			if pred(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: timed out waiting for %s; events:\n%s", p.jid, what, dump(evs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// never fails if any event at index >= from matches pred.
func (p *peer) never(from int, what string, pred func(Event) bool) {
	p.t.Helper()
	evs := p.rec.all()
	for _, e := range evs[min(from, len(evs)):] {
		if pred(e) {
			p.t.Fatalf("%s: unexpected %s: %#v", p.jid, what, e)
		}
	}
}

func dump(evs []Event) string {
	var b strings.Builder
	for i, e := range evs {
		if rc, ok := e.(RosterChanged); ok {
			fmt.Fprintf(&b, "  %d RosterChanged %d contacts\n", i, len(rc.Contacts))
			continue
		}
		fmt.Fprintf(&b, "  %d %T %+v\n", i, e, e)
	}
	return b.String()
}

func (p *peer) conv(other *peer) Conversation {
	return Conversation{Account: p.jid, Peer: other.jid}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// befriend makes a and b subscribe to each other and waits until each
// sees the other online.
// runManager runs m and hands each of its events to sink until stop,
// which reports whether Run returned within 20 s; ctx is Run's.
func runManager(m *Manager, sink func(Event)) (ctx context.Context, stop func() bool) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Run(ctx)
	}()
	go func() {
		for e := range m.Events() {
			sink(e)
		}
	}()
	return ctx, func() bool {
		cancel()
		select {
		case <-done:
			return true
		case <-time.After(20 * time.Second):
			return false
		}
	}
}

// privateFriends connects a and b, makes them friends and takes them into
// a private (Unverified) OTR conversation started by a.
func privateFriends(t *testing.T, a, b *peer) {
	t.Helper()
	a.connect()
	b.connect()
	befriend(t, a, b)
	if err := a.m.StartPrivate(ctxT(t), a.conv(b)); err != nil {
		t.Fatal(err)
	}
	a.waitFor(0, "alice private", isLevel(b.jid, Unverified))
	b.waitFor(0, "bob private", isLevel(a.jid, Unverified))
}

func befriend(t *testing.T, a, b *peer) {
	t.Helper()
	ctx := ctxT(t)
	ma, mb := a.rec.mark(), b.rec.mark()
	if err := a.m.AddContact(ctx, a.jid, b.jid, "Bob", []string{"Friends"}); err != nil {
		t.Fatalf("AddContact: %v", err)
	}
	b.waitFor(mb, "subscription request", func(e Event) bool {
		s, ok := e.(SubscriptionRequest)
		return ok && s.From == a.jid
	})
	if err := b.m.AnswerSubscription(ctx, b.jid, a.jid, true); err != nil {
		t.Fatalf("AnswerSubscription: %v", err)
	}
	// b subscribes back; a asked first, so a approves that by itself
	// (presence.go) without a SubscriptionRequest.
	waitOnline(a, b, ma)
	waitOnline(b, a, mb)
}

// waitOnline waits until p's roster shows other with subscription both
// and an online resource.
func waitOnline(p, other *peer, from int) Contact {
	p.t.Helper()
	e := p.waitFor(from, other.jid+" online in roster", func(e Event) bool {
		rc, ok := e.(RosterChanged)
		if !ok {
			return false
		}
		for _, c := range rc.Contacts {
			if c.JID == other.jid && c.Subscription == "both" && c.Show() != Offline {
				return true
			}
		}
		return false
	})
	for _, c := range e.(RosterChanged).Contacts {
		if c.JID == other.jid {
			return c
		}
	}
	return Contact{}
}

func isMsg(from, body string) func(Event) bool {
	return func(e Event) bool {
		m, ok := e.(MessageReceived)
		return ok && m.Conv.Peer == from && m.Body == body
	}
}

func msgState(id string, st OutState) func(Event) bool {
	return func(e Event) bool {
		m, ok := e.(MessageStateChanged)
		return ok && m.ID == id && m.State == st
	}
}

func isLevel(peer string, lvl Security) func(Event) bool {
	return func(e Event) bool {
		s, ok := e.(SecurityChanged)
		return ok && s.Conv.Peer == peer && s.Level == lvl
	}
}

// assertNoPlaintext fails if the server ever saw body.
func assertNoPlaintext(t *testing.T, srv testbed.XMPP, bodies ...string) {
	t.Helper()
	srv.Flush(t)
	log := srv.StanzaLog()
	for _, b := range bodies {
		if strings.Contains(log, b) {
			t.Fatalf("the server saw %q in the clear", b)
		}
	}
}

// otrBodies counts message bodies in the stanza log that are OTR and that
// are not (the tests' servers have only the test's users).
func otrBodies(log string) (otrCount, other int) {
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, "<message") || !strings.Contains(line, "<body>") {
			continue
		}
		i := strings.Index(line, "<body>") + len("<body>")
		if strings.HasPrefix(line[i:], "?OTR") {
			otrCount++
		} else {
			other++
		}
	}
	return
}

func srvFingerprint(t *testing.T, srv testbed.XMPP) string {
	t.Helper()
	blk, _ := pem.Decode(srv.CertPEM())
	if blk == nil {
		t.Fatal("testbed certificate is not PEM")
	}
	return CertFingerprint(blk.Bytes)
}
