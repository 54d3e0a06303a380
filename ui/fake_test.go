package ui

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/sotto-im/sotto/account"
)

// fakeBackend records every call and answers from canned values. Its
// methods run on the UI's worker goroutines, hence the mutex.
type fakeBackend struct {
	mu       sync.Mutex
	calls    []call
	accounts []account.Settings
	fps      []account.KnownFingerprint
	sec      map[convKey]account.SecurityChanged
	// policies are the contacts' own policies (set by SetPolicy); the
	// account's is in accounts.
	policies map[convKey]account.Policy
	errs     map[string]error
	ownFP    string
	genFP    string
	imported []account.Settings
	nextID   int
	// block, when set, makes GenerateKey wait until it is closed, so a
	// test can see the progress indicator.
	block chan struct{}
	// hist is the kept plain-chat history per conversation.
	hist map[convKey][]account.HistoryLine
	// cached is CachedRoster's answer per account.
	cached map[string][]account.Contact
	// otrFor: contacts the user switched to OTR (UseOMEMO false).
	otrFor map[string]bool
	// unsent is Unsent's answer.
	unsent []account.UnsentLines
	// omemo is OMEMODevices' answer per jid (our own account included);
	// SetOMEMOTrust and RemoveOMEMODevice change it. ownOMEMO is OwnOMEMO's.
	omemo    map[string][]account.OMEMODevice
	ownOMEMO account.OMEMOIdentity
	// uriVerified is VerifyOMEMOURI's count.
	uriVerified int
}

type call struct {
	name string
	args []any
}

func newFake() *fakeBackend {
	return &fakeBackend{sec: map[convKey]account.SecurityChanged{}, errs: map[string]error{},
		omemo:    map[string][]account.OMEMODevice{},
		policies: map[convKey]account.Policy{},
		ownFP:    "AAAAAAAA11111111BBBBBBBB22222222CCCCCCCC",
		genFP:    "0123456789ABCDEF0123456789ABCDEF01234567"}
}

func (f *fakeBackend) rec(name string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{name, args})
	return f.errs[name]
}

// called returns the recorded calls of one method.
func (f *fakeBackend) called(name string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.name == name {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeBackend) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeBackend) setErr(name string, err error) {
	f.mu.Lock()
	f.errs[name] = err
	f.mu.Unlock()
}

func (f *fakeBackend) Send(_ context.Context, conv account.Conversation, body string) (string, error) {
	err := f.rec("Send", conv, body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	return fmt.Sprintf("m%d", f.nextID), err
}
func (f *fakeBackend) Resend(_ context.Context, conv account.Conversation, id string) error {
	return f.rec("Resend", conv, id)
}
func (f *fakeBackend) RemoveQueued(_ context.Context, conv account.Conversation, id string) error {
	return f.rec("RemoveQueued", conv, id)
}
func (f *fakeBackend) SetChatState(_ context.Context, c account.Conversation, st account.ChatState) error {
	return f.rec("SetChatState", c, st)
}
func (f *fakeBackend) Block(_ context.Context, a, j string) error   { return f.rec("Block", a, j) }
func (f *fakeBackend) Unblock(_ context.Context, a, j string) error { return f.rec("Unblock", a, j) }

func (f *fakeBackend) StartPrivate(_ context.Context, c account.Conversation) error {
	return f.rec("StartPrivate", c)
}
func (f *fakeBackend) EndPrivate(_ context.Context, c account.Conversation) error {
	return f.rec("EndPrivate", c)
}
func (f *fakeBackend) UseOMEMO(_ context.Context, a, c string, use bool) error {
	err := f.rec("UseOMEMO", a, c, use)
	if err == nil {
		f.mu.Lock()
		if f.otrFor == nil {
			f.otrFor = map[string]bool{}
		}
		f.otrFor[c] = !use
		f.mu.Unlock()
	}
	return err
}
func (f *fakeBackend) UsesOMEMO(_ context.Context, a, c string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.otrFor[c], nil
}
func (f *fakeBackend) Authenticate(_ context.Context, c account.Conversation, q, s string) error {
	return f.rec("Authenticate", c, q, s)
}
func (f *fakeBackend) AnswerSMP(_ context.Context, c account.Conversation, s string) error {
	return f.rec("AnswerSMP", c, s)
}
func (f *fakeBackend) AbortSMP(_ context.Context, c account.Conversation) error {
	return f.rec("AbortSMP", c)
}
func (f *fakeBackend) Security(c account.Conversation) account.SecurityChanged {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sec[keyOf(c)]
	s.Conv = c
	return s
}

// Policy follows account.Manager.Policy: the contact's own, else the
// account's.
func (f *fakeBackend) Policy(a, c string) account.Policy {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.policies[convKey{a, c}]; ok && c != "" {
		return p
	}
	for _, s := range f.accounts {
		if s.JID == a {
			return s.Policy
		}
	}
	return account.Opportunistic
}
func (f *fakeBackend) SetPolicy(_ context.Context, a, c string, p account.Policy) error {
	err := f.rec("SetPolicy", a, c, p)
	if err == nil {
		f.mu.Lock()
		if c != "" {
			f.policies[convKey{a, c}] = p
		}
		for i := range f.accounts {
			if f.accounts[i].JID == a && c == "" {
				f.accounts[i].Policy = p
			}
		}
		f.mu.Unlock()
	}
	return err
}
func (f *fakeBackend) SetVerified(_ context.Context, a, c, fp string, v bool) error {
	err := f.rec("SetVerified", a, c, fp, v)
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.fps {
		if f.fps[i].Account == a && f.fps[i].Contact == c && f.fps[i].Fingerprint == fp {
			f.fps[i].Verified = v
		}
	}
	return err
}
func (f *fakeBackend) Fingerprints() []account.KnownFingerprint {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]account.KnownFingerprint(nil), f.fps...)
}
func (f *fakeBackend) ForgetFingerprint(_ context.Context, a, c, fp string) error {
	err := f.rec("ForgetFingerprint", a, c, fp)
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.fps[:0]
	for _, k := range f.fps {
		if !(k.Account == a && k.Contact == c && k.Fingerprint == fp) {
			out = append(out, k)
		}
	}
	f.fps = out
	return err
}
func (f *fakeBackend) OwnFingerprint(_ context.Context, a string) (string, error) {
	return f.ownFP, f.rec("OwnFingerprint", a)
}
func (f *fakeBackend) GenerateKey(_ context.Context, a string) (string, error) {
	f.mu.Lock()
	block := f.block
	f.mu.Unlock()
	if block != nil {
		<-block
	}
	return f.genFP, f.rec("GenerateKey", a)
}
func (f *fakeBackend) OMEMODevices(_ context.Context, a, j string) ([]account.OMEMODevice, error) {
	err := f.rec("OMEMODevices", a, j)
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.omemo[j]), err
}
func (f *fakeBackend) SetOMEMOTrust(_ context.Context, a, j string, d uint32, fp string, t account.OMEMOTrust) error {
	err := f.rec("SetOMEMOTrust", a, j, d, fp, t)
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, dev := range f.omemo[j] {
		if err == nil && dev.Device == d && dev.Fingerprint == fp {
			f.omemo[j][i].Trust = t
		}
	}
	return err
}
func (f *fakeBackend) OwnOMEMO(_ context.Context, a string) (account.OMEMOIdentity, error) {
	err := f.rec("OwnOMEMO", a)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ownOMEMO, err
}
func (f *fakeBackend) VerifyOMEMOURI(_ context.Context, a, uri string) (int, error) {
	err := f.rec("VerifyOMEMOURI", a, uri)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.uriVerified, err
}
func (f *fakeBackend) RemoveOMEMODevice(_ context.Context, a string, d uint32) error {
	err := f.rec("RemoveOMEMODevice", a, d)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		f.omemo[a] = slices.DeleteFunc(f.omemo[a], func(dev account.OMEMODevice) bool { return dev.Device == d })
	}
	return err
}
func (f *fakeBackend) SetPresence(_ context.Context, a string, s account.Show, st string) error {
	return f.rec("SetPresence", a, s, st)
}
func (f *fakeBackend) AddContact(_ context.Context, a, j, n string, g []string) error {
	return f.rec("AddContact", a, j, n, g)
}
func (f *fakeBackend) RemoveContact(_ context.Context, a, j string) error {
	return f.rec("RemoveContact", a, j)
}
func (f *fakeBackend) RenameContact(_ context.Context, a, j, n string, g []string) error {
	return f.rec("RenameContact", a, j, n, g)
}
func (f *fakeBackend) AnswerSubscription(_ context.Context, a, from string, ok bool) error {
	return f.rec("AnswerSubscription", a, from, ok)
}
func (f *fakeBackend) Accounts() []account.Settings {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]account.Settings(nil), f.accounts...)
}
func (f *fakeBackend) AddAccount(_ context.Context, s account.Settings, pw string) error {
	err := f.rec("AddAccount", s, pw)
	if err == nil {
		f.mu.Lock()
		f.accounts = append(f.accounts, s)
		f.mu.Unlock()
	}
	return err
}
func (f *fakeBackend) UpdateAccount(_ context.Context, s account.Settings, pw string) error {
	err := f.rec("UpdateAccount", s, pw)
	if err == nil {
		f.mu.Lock()
		for i := range f.accounts {
			if f.accounts[i].JID == s.JID {
				f.accounts[i] = s
			}
		}
		f.mu.Unlock()
	}
	return err
}
func (f *fakeBackend) RemoveAccount(_ context.Context, j string) error {
	err := f.rec("RemoveAccount", j)
	if err == nil {
		f.mu.Lock()
		f.accounts = slices.DeleteFunc(f.accounts, func(s account.Settings) bool { return s.JID == j })
		f.mu.Unlock()
	}
	return err
}
func (f *fakeBackend) Connect(_ context.Context, j string) error    { return f.rec("Connect", j) }
func (f *fakeBackend) Disconnect(_ context.Context, j string) error { return f.rec("Disconnect", j) }
func (f *fakeBackend) TestConnection(_ context.Context, s account.Settings, pw string) error {
	return f.rec("TestConnection", s, pw)
}
func (f *fakeBackend) TrustCertificate(_ context.Context, a, fp string) error {
	return f.rec("TrustCertificate", a, fp)
}
func (f *fakeBackend) Unsent(context.Context) ([]account.UnsentLines, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.unsent, nil
}
func (f *fakeBackend) CachedRoster(a string) ([]account.Contact, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cs, ok := f.cached[a]
	return cs, ok
}
func (f *fakeBackend) ImportPidgin(_ context.Context, dir string) ([]account.Settings, error) {
	err := f.rec("ImportPidgin", dir)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.imported, err
}

func (f *fakeBackend) History(a, peer string, n int) ([]account.HistoryLine, error) {
	err := f.rec("History", a, peer, n)
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.hist[convKey{a, peer}]
	return append([]account.HistoryLine(nil), h[max(0, len(h)-n):]...), err
}
func (f *fakeBackend) ClearHistory(_ context.Context, a, peer string) error {
	err := f.rec("ClearHistory", a, peer)
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.hist {
		if k.acct == a && (peer == "" || k.peer == peer) {
			delete(f.hist, k)
		}
	}
	return err
}

var _ Backend = (*fakeBackend)(nil)

// harness is a UI on the test app with a fake backend. Callbacks that the
// UI posts back from its worker goroutines queue up and run on the test
// goroutine in settle, as they would on the Fyne goroutine.
type harness struct {
	t     *testing.T
	app   fyne.App
	b     *fakeBackend
	u     *UI
	queue chan func()
	prefs *memPrefs
}

const me = "me@example.org"

var bobConv = account.Conversation{Account: me, Peer: "bob@example.org"}

type memPrefs struct {
	mu sync.Mutex
	p  account.Prefs
	ui []byte
	n  int
}

func (m *memPrefs) Prefs() account.Prefs { m.mu.Lock(); defer m.mu.Unlock(); return m.p }
func (m *memPrefs) SavePrefs(p account.Prefs) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.p, m.n = p, m.n+1
	return nil
}
func (m *memPrefs) UIState() []byte { m.mu.Lock(); defer m.mu.Unlock(); return m.ui }
func (m *memPrefs) SetUIState(b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ui = append([]byte(nil), b...)
	return nil
}

// state decodes the stored UI state.
func (m *memPrefs) state() uiState { return decodeState(m.UIState()) }

func newHarness(t *testing.T) *harness {
	t.Helper()
	a := test.NewTempApp(t)
	b := newFake()
	b.accounts = []account.Settings{{JID: me, AutoConnect: true}}
	h := &harness{t: t, app: a, b: b, queue: make(chan func(), 4096), prefs: &memPrefs{}}
	clock := time.Date(2025, 11, 26, 14, 30, 0, 0, time.UTC)
	h.u = New(a, b, Options{Prefs: h.prefs, Now: func() time.Time { return clock }})
	h.u.post = func(f func()) { h.queue <- f }
	t.Cleanup(h.u.Stop)
	return h
}

// withBob starts the UI with bob online in the roster.
func (h *harness) withBob() *harness {
	h.u.Start()
	h.u.Handle(account.RosterChanged{Account: me, Contacts: []account.Contact{{
		JID: "bob@example.org", Name: "bob", Subscription: "both",
		Resources: []account.Resource{{Name: "laptop", Show: account.Available}}}}})
	return h
}

// settle runs posted callbacks until cond holds (or fails after 5 s).
func (h *harness) settle(cond func() bool) {
	h.t.Helper()
	deadline := time.After(5 * time.Second)
	for !cond() {
		select {
		case f := <-h.queue:
			f()
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			h.t.Fatal("condition not reached within 5 s")
		}
	}
}

// drain runs posted callbacks until no background call is in flight and
// nothing is queued. (GenerateKey blocked by the test counts as in flight;
// tests that block it use settle instead.)
func (h *harness) drain() {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		select {
		case f := <-h.queue:
			f()
			continue
		default:
		}
		if h.u.inflight.Load() == 0 && len(h.queue) == 0 {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatal("background calls still running after 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// calls waits until method has been called n times and returns the calls.
func (h *harness) calls(method string, n int) []call {
	h.t.Helper()
	h.settle(func() bool { return len(h.b.called(method)) >= n })
	h.drain()
	return h.b.called(method)
}

// sec pushes a SecurityChanged for bob.
func (h *harness) sec(level account.Security, fp string, mod ...func(*account.SecurityChanged)) {
	e := account.SecurityChanged{Conv: bobConv, Level: level, Fingerprint: fp, Verified: level == account.Private}
	for _, m := range mod {
		m(&e)
	}
	h.u.Handle(e)
}

// systemLines returns the text of bob's system lines.
func systemLines(v *convView) []string {
	var out []string
	for _, l := range v.msgs.lines {
		if l.kind == lineSystem {
			out = append(out, l.body)
		}
	}
	return out
}
