package account

// End-to-end measurements through the real Prosody on loopback: going
// private, message round trips, and a burst of 1,000 messages. The
// benchmarks report percentiles with b.ReportMetric and assert nothing
// about time; TestBurst1000InOrder is a correctness test (every message
// arrives, in order, encrypted) with no timing in it.
//
//	go test ./account/ -run '^$' -bench . -benchtime 50x     # StartPrivate
//	go test ./account/ -run '^$' -bench RoundTrip -benchtime 1000x
//
// scripts/bench.sh runs both and puts the numbers in BENCHMARKS.md.

import (
	"context"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/sotto-im/sotto/internal/testbed"
	"github.com/sotto-im/sotto/secret"
)

// timedEvent is an event and when the Manager's channel delivered it.
type timedEvent struct {
	at time.Time
	e  Event
}

// e2ePeer is a Manager whose events arrive on a channel with their
// arrival time, so a benchmark can wait for one without polling.
type e2ePeer struct {
	tb  testing.TB
	m   *Manager
	jid string
	ev  chan timedEvent
}

func newE2EPeer(tb testing.TB, srv *testbed.Server, user string) *e2ePeer {
	tb.Helper()
	jid, pw := srv.AddUser(tb, user)
	prof, err := OpenProfile(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	addr := srv.Addr()
	dialer := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	m := NewManager(prof, secret.NewMemory(), WithDialer(dialer), WithRootCAs(srv.CertPool()),
		WithPrivateTimeout(30*time.Second))
	p := &e2ePeer{tb: tb, m: m, jid: jid, ev: make(chan timedEvent, 1<<16)}
	ctx, stop := runManager(m, func(e Event) { p.ev <- timedEvent{time.Now(), e} })
	tb.Cleanup(func() {
		if !stop() {
			tb.Errorf("%s: Manager.Run did not return", user)
		}
	})
	if err := m.AddAccount(ctx, Settings{JID: jid}, pw); err != nil {
		tb.Fatalf("AddAccount: %v", err)
	}
	if err := m.Connect(ctxT(tb), jid); err != nil {
		tb.Fatalf("Connect: %v", err)
	}
	// Make the OTR key now: DSA generation (0.1-0.3 s) is not part of
	// going private.
	if _, err := m.GenerateKey(ctxT(tb), jid); err != nil {
		tb.Fatalf("GenerateKey: %v", err)
	}
	return p
}

// await returns the next event matching pred, dropping the others.
func (p *e2ePeer) await(what string, pred func(Event) bool) timedEvent {
	p.tb.Helper()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case te := <-p.ev:
			if pred(te.e) {
				return te
			}
		case <-timeout.C:
			p.tb.Fatalf("%s: timed out waiting for %s", p.jid, what)
		}
	}
}

func (p *e2ePeer) conv(other *e2ePeer) Conversation {
	return Conversation{Account: p.jid, Peer: other.jid}
}

// e2eFriends starts Prosody with two accounts that are each other's
// contacts and online.
func e2eFriends(tb testing.TB, opts ...testbed.Option) (*e2ePeer, *e2ePeer) {
	tb.Helper()
	return e2eFriendsOn(tb, testbed.Start(tb, opts...))
}

// e2eFriendsOn is e2eFriends on a server the caller started.
func e2eFriendsOn(tb testing.TB, srv *testbed.Server) (*e2ePeer, *e2ePeer) {
	tb.Helper()
	a, b := newE2EPeer(tb, srv, "alice"), newE2EPeer(tb, srv, "bob")
	ctx := ctxT(tb)
	if err := a.m.AddContact(ctx, a.jid, b.jid, "Bob", nil); err != nil {
		tb.Fatal(err)
	}
	subFrom := func(jid string) func(Event) bool {
		return func(e Event) bool { s, ok := e.(SubscriptionRequest); return ok && s.From == jid }
	}
	b.await("subscription request", subFrom(a.jid))
	if err := b.m.AnswerSubscription(ctx, b.jid, a.jid, true); err != nil {
		tb.Fatal(err)
	}
	// b subscribes back; a asked first and approves that by itself.
	online := func(jid string) func(Event) bool {
		return func(e Event) bool {
			rc, ok := e.(RosterChanged)
			if !ok {
				return false
			}
			for _, c := range rc.Contacts {
				if c.JID == jid && c.Subscription == "both" && c.Show() != Offline {
					return true
				}
			}
			return false
		}
	}
	a.await("bob online", online(b.jid))
	b.await("alice online", online(a.jid))
	return a, b
}

// goPrivate has a start private with b and returns when both sides report
// an encrypted session, with the time the later of the two arrived.
func goPrivate(tb testing.TB, a, b *e2ePeer) time.Time {
	tb.Helper()
	if err := a.m.StartPrivate(ctxT(tb), a.conv(b)); err != nil {
		tb.Fatalf("StartPrivate: %v", err)
	}
	ta := a.await("alice encrypted", isLevel(b.jid, Unverified))
	tbb := b.await("bob encrypted", isLevel(a.jid, Unverified))
	if tbb.at.After(ta.at) {
		return tbb.at
	}
	return ta.at
}

// endPrivate takes both sides back to plaintext.
func endPrivate(tb testing.TB, a, b *e2ePeer) {
	tb.Helper()
	if err := a.m.EndPrivate(ctxT(tb), a.conv(b)); err != nil {
		tb.Fatal(err)
	}
	a.await("alice plaintext", isLevel(b.jid, NotPrivate))
	b.await("bob finished", isLevel(a.jid, Finished))
	if err := b.m.EndPrivate(ctxT(tb), b.conv(a)); err != nil {
		tb.Fatal(err)
	}
	b.await("bob plaintext", isLevel(a.jid, NotPrivate))
}

// reportPercentiles adds p50/p99/max in milliseconds.
func reportPercentiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	pct := func(p float64) float64 {
		i := int(p*float64(len(s)) + 0.5)
		i = min(max(i-1, 0), len(s)-1)
		return float64(s[i].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(s[len(s)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(len(s)), "samples")
}

// BenchmarkStartPrivate: from Manager.StartPrivate (the user's "start
// private") to both sides' SecurityChanged(Unverified) through Prosody:
// query, the four AKE messages and both engines' work.
func BenchmarkStartPrivate(b *testing.B) {
	a, c := e2eFriends(b)
	var ds []time.Duration
	for b.Loop() {
		start := time.Now()
		done := goPrivate(b, a, c)
		ds = append(ds, done.Sub(start))
		b.StopTimer()
		endPrivate(b, a, c)
		b.StartTimer()
	}
	reportPercentiles(b, ds)
}

// BenchmarkRoundTrip: alice sends an encrypted message, bob's Manager
// decrypts it (MessageReceived), bob replies, alice's decrypts the reply.
// One iteration is one round trip; run it with -benchtime 1000x.
//
// Sub-benchmarks: through the test bed's Prosody, which writes every
// stanza to its debug log (testbed-log), and through one logging as a
// production server does (production-log).
func BenchmarkRoundTrip(b *testing.B) {
	b.Run("testbed-log", func(b *testing.B) { benchRoundTrip(b) })
	b.Run("production-log", func(b *testing.B) { benchRoundTrip(b, testbed.WithProductionLog()) })
}

func benchRoundTrip(b *testing.B, opts ...testbed.Option) {
	srv := testbed.Start(b, opts...)
	a, c := e2eFriendsOn(b, srv)
	goPrivate(b, a, c)
	// Where the time goes: CPU of the server and of this process (both
	// clients) over the round trips, per round trip.
	srv0, self0 := procTicks(b, srv.PID()), selfCPU()
	// The whole run, not one round trip: 1,000 of them on a busy 2-core
	// machine can take longer than ctxT's 30 s.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var ds []time.Duration
	i := 0
	for b.Loop() {
		ping, pong := fmt.Sprintf("ping %d", i), fmt.Sprintf("pong %d", i)
		i++
		start := time.Now()
		if _, err := a.m.Send(ctx, a.conv(c), ping); err != nil {
			b.Fatal(err)
		}
		if m := c.await("ping", isMsg(a.jid, ping)).e.(MessageReceived); !m.Encrypted {
			b.Fatal("ping arrived unencrypted")
		}
		if _, err := c.m.Send(ctx, c.conv(a), pong); err != nil {
			b.Fatal(err)
		}
		got := a.await("pong", isMsg(c.jid, pong))
		if !got.e.(MessageReceived).Encrypted {
			b.Fatal("pong arrived unencrypted")
		}
		ds = append(ds, got.at.Sub(start))
	}
	b.StopTimer()
	n := float64(len(ds))
	b.ReportMetric(float64(procTicks(b, srv.PID())-srv0)*10/n, "server-cpu-ms/op")
	b.ReportMetric(float64(selfCPU()-self0)/1e6/n, "clients-cpu-ms/op")
	reportPercentiles(b, ds)
}

// TestBurst1000InOrder: 1,000 messages sent back to back in a private
// conversation all arrive, decrypted, exactly once and in order.
func TestBurst1000InOrder(t *testing.T) {
	const n = 1000
	a, b := e2eFriends(t)
	goPrivate(t, a, b)
	ctx := ctxT(t)
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := a.m.Send(ctx, a.conv(b), fmt.Sprintf("burst %04d", i)); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	for i := 0; i < n; i++ {
		te := b.await(fmt.Sprintf("message %d of %d", i+1, n), func(e Event) bool {
			m, ok := e.(MessageReceived)
			return ok && m.Conv.Peer == a.jid
		})
		m := te.e.(MessageReceived)
		if want := fmt.Sprintf("burst %04d", i); m.Body != want || !m.Encrypted {
			t.Fatalf("message %d: got %q (encrypted %v), want %q encrypted", i, m.Body, m.Encrypted, want)
		}
	}
	t.Logf("%d messages arrived complete and in order in %v", n, time.Since(start).Round(time.Millisecond))
	// Nothing more from alice may follow (no duplicates).
	select {
	case te := <-b.ev:
		if m, ok := te.e.(MessageReceived); ok && m.Conv.Peer == a.jid {
			t.Fatalf("extra message after the burst: %q", m.Body)
		}
	case <-time.After(200 * time.Millisecond):
	}
}
