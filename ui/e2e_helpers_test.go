package ui

// Harness for the end-to-end tests: real account.Managers logged in on
// the Prosody test bed, each feeding its own UI. Every UI callback (events
// from UI.Run and results of background calls) goes into one queue that
// the test goroutine drains, so the test goroutine plays the Fyne
// goroutine for both UIs and no widget is touched from two goroutines.

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
	"github.com/sotto-im/sotto/internal/testbed"
	"github.com/sotto-im/sotto/secret"
)

// e2eTimeout bounds each wait. On an idle 2-core box with -race the AKE
// takes ~0.1 s and the SMP ~0.6 s; with other builds running (load 10)
// the SMP was seen to take 17 s, hence the wide margin.
const e2eTimeout = 60 * time.Second

// e2eWorld is one Prosody, one test app and the shared callback queue.
type e2eWorld struct {
	t     *testing.T
	srv   *testbed.Server
	app   fyne.App
	queue chan func()
	sides []*e2eSide
	// laps are the phase timings for the log; mark is the last lap.
	laps []string
	mark time.Time
}

// e2eSide is one person: a real Manager and the UI on top of it.
type e2eSide struct {
	name string
	jid  string
	m    *account.Manager
	u    *UI
}

// newE2E starts Prosody and one test app. Both UIs share the app: the
// test driver has one current app (fyne.CurrentApp is global), and a
// second NewTempApp would make the first UI's popups look up windows in
// the second app's driver.
func newE2E(t *testing.T) *e2eWorld {
	t.Helper()
	srv := testbed.Start(t)
	return &e2eWorld{t: t, srv: srv, app: test.NewTempApp(t), queue: make(chan func(), 1<<16), mark: time.Now()}
}

// lap records how long the phase since the last lap took.
func (w *e2eWorld) lap(phase string) {
	now := time.Now()
	w.laps = append(w.laps, phase+" "+now.Sub(w.mark).Round(time.Millisecond).String())
	w.mark = now
}

// addSide registers user on Prosody, runs a Manager for it with an
// account of OTR policy pol, builds its UI and pumps the Manager's events
// into the UI. The account is set up but not connected; the UI is not
// started.
func (w *e2eWorld) addSide(user string, pol account.Policy) *e2eSide {
	t := w.t
	t.Helper()
	jid, pw := w.srv.AddUser(t, user)
	prof, err := account.OpenProfile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	addr := w.srv.Addr()
	dialer := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	m := account.NewManager(prof, secret.NewMemory(),
		account.WithDialer(dialer), account.WithRootCAs(w.srv.CertPool()),
		account.WithPingInterval(5*time.Second), account.WithPrivateTimeout(30*time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Run(ctx)
	}()
	if err := m.AddAccount(ctx, account.Settings{JID: jid, Policy: pol}, pw); err != nil {
		t.Fatalf("%s: AddAccount: %v", user, err)
	}
	u := New(w.app, m, Options{Prefs: &memPrefs{}, Timeout: e2eTimeout})
	u.post = func(f func()) { w.queue <- f }
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		u.Run(ctx, m.Events())
	}()
	t.Cleanup(func() {
		u.Stop()
		cancel()
		for _, c := range []chan struct{}{done, pumped} {
			select {
			case <-c:
			case <-time.After(20 * time.Second):
				t.Errorf("%s: Manager.Run or UI.Run did not return", user)
			}
		}
	})
	s := &e2eSide{name: user, jid: jid, m: m, u: u}
	w.sides = append(w.sides, s)
	return s
}

// settle runs queued UI callbacks on the test goroutine until cond holds.
func (w *e2eWorld) settle(what string, cond func() bool) time.Duration {
	w.t.Helper()
	start := time.Now()
	deadline := time.After(e2eTimeout)
	for !cond() {
		select {
		case f := <-w.queue:
			f()
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			w.t.Fatalf("timed out after %v waiting for %s", e2eTimeout, what)
		}
	}
	return time.Since(start)
}

// drain runs queued callbacks until no UI has a background call in
// flight and the queue is empty.
func (w *e2eWorld) drain() {
	w.t.Helper()
	w.settle("background calls to finish", func() bool {
		for _, s := range w.sides {
			if s.u.inflight.Load() != 0 {
				return false
			}
		}
		return len(w.queue) == 0
	})
}

// view is the side's open conversation with peer, or nil.
func (s *e2eSide) view(peer *e2eSide) *convView {
	return s.u.chats.views[convKey{s.jid, peer.jid}]
}

// sees reports whether s's roster shows peer subscribed both ways and
// online.
func (s *e2eSide) sees(peer *e2eSide) bool {
	c, ok := s.u.contact(s.jid, peer.jid)
	return ok && c.Subscription == "both" && c.Show() != account.Offline
}

// chooseFromStatusMenu taps the status button, then the menu entry named
// label, as a user would.
func chooseFromStatusMenu(t *testing.T, s *statusButton, label string) {
	t.Helper()
	test.Tap(s.Button)
	if s.menu == nil || !s.menu.Visible() {
		t.Fatal("tapping the status button showed no menu")
	}
	items := s.menuItems()
	if len(items) != len(s.menu.Items) {
		t.Fatalf("menu shows %d entries, want %d", len(s.menu.Items), len(items))
	}
	var labels []string
	for i, it := range items {
		labels = append(labels, it.Label)
		if it.Label == label {
			if it.Disabled {
				t.Fatalf("%q is disabled in the %v menu", label, s.level)
			}
			test.Tap(s.menu.Items[i].(fyne.Tappable))
			return
		}
	}
	t.Fatalf("no %q in the status menu %q", label, strings.Join(labels, ", "))
}

// loginThroughRosters starts every UI and taps Connect on its account row.
func (w *e2eWorld) loginThroughRosters() {
	w.t.Helper()
	for _, s := range w.sides {
		s.u.Start()
		row := s.u.roster.acctRows[s.jid]
		if row == nil || row.toggle.Text != "Connect" {
			w.t.Fatalf("%s: the roster shows no Connect button for the account", s.name)
		}
		test.Tap(row.toggle)
	}
	w.settle("every account connected", func() bool {
		for _, s := range w.sides {
			if s.u.roster.acctRows[s.jid].conn != account.Connected {
				return false
			}
		}
		return true
	})
}

// befriendThroughRosters: a adds b (what the Add contact form does); each
// taps Accept on the other's request card.
func (w *e2eWorld) befriendThroughRosters(a, b *e2eSide) {
	w.t.Helper()
	a.u.roster.addContact(a.jid, b.jid, strings.ToUpper(b.name[:1])+b.name[1:], "Friends")
	w.acceptRequest(b)
	// Bob's acceptance subscribes back; Alice asked first, so her Sotto
	// approves that by itself (account/presence.go) and shows no card.
	w.settle("each sees the other online", func() bool { return a.sees(b) && b.sees(a) })
}

// acceptRequest waits for a subscription card in s's roster and taps its
// Accept button.
func (w *e2eWorld) acceptRequest(s *e2eSide) {
	w.t.Helper()
	var accept *widget.Button
	w.settle(s.name+"'s subscription request card", func() bool {
		accept = findButton(s.u.roster.requests, "Accept")
		return accept != nil
	})
	test.Tap(accept)
}

// assertFingerprintShown checks that v's security state carries peer's
// real OTR fingerprint (what the Authenticate dialog shows).
func assertFingerprintShown(t *testing.T, v *convView, peer *e2eSide) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	fp, err := peer.m.OwnFingerprint(ctx, peer.jid)
	if err != nil {
		t.Fatal(err)
	}
	if v.sec.Fingerprint != fp {
		t.Errorf("%s's chat shows fingerprint %q, %s's is %q", v.conv.Account, v.sec.Fingerprint, peer.name, fp)
	}
}

// rosterRowFor is a roster row bound to peer's entry, as the list would
// create it on screen.
func rosterRowFor(t *testing.T, s, peer *e2eSide) *rosterRow {
	t.Helper()
	r := s.u.roster
	for id, it := range r.items {
		if it.e != nil && it.e.acct == s.jid && it.e.c.JID == peer.jid {
			row := newRosterRow(r.list)
			row.set(id, it)
			return row
		}
	}
	t.Fatalf("%s's roster has no row for %s", s.name, peer.jid)
	return nil
}
