package ui

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/sotto-im/sotto/account"
)

// Options tune the UI. The zero value is usable.
type Options struct {
	// Prefs stores the plain history setting and the UI's own state
	// (theme, window size, open chats); main passes the profile. nil =
	// kept in memory for this run only.
	Prefs PrefsStore
	// KeyStorage says in plain words where private keys are kept, e.g.
	// "your system keyring" or "the portable vault file". Shown by the
	// wizard; "" = "your system keyring".
	KeyStorage string
	// UseVault, when set (portable mode), makes the wizard ask for the
	// passphrase of the vault that will hold the keys: it is
	// called (off the UI goroutine) with the chosen passphrase before the
	// key is generated, and must switch the secret store to the vault.
	UseVault func(ctx context.Context, passphrase string) error
	// Timeout bounds each backend call; 0 = 45 s (TestConnection really
	// logs in, and a locked keyring may prompt).
	Timeout time.Duration
	// Now is the clock for message times; nil = time.Now.
	Now func() time.Time
	// StateFile, when set, is where the UI writes what is on screen for
	// the first-run test (teststate.go). Off by default.
	StateFile string
	// HasTray reports whether a system tray will show Sotto's icon;
	// nil = only on Windows and macOS (notify.go).
	HasTray func() bool
}

// UI owns the windows. All its methods except Run must be called on the
// Fyne goroutine.
type UI struct {
	app  fyne.App
	b    Backend
	opts Options

	// post runs f on the Fyne goroutine. It is fyne.Do in production;
	// tests replace it with a queue they drain on their own goroutine,
	// because the test driver's fyne.Do runs f on the calling goroutine.
	post   func(f func())
	ctx    context.Context
	cancel context.CancelFunc

	store PrefsStore
	prefs account.Prefs
	state uiState

	roster   *rosterWindow
	chats    *chatWindow
	wizard   *wizard
	fps      *fingerprintsWindow
	prefsWin *prefsWindow

	// contacts by account, then bare JID; kept for display names.
	contacts map[string]map[string]account.Contact
	// foreground is false while the app has lost focus; new messages
	// then raise a notification.
	foreground bool
	hasTray    bool
	// inflight counts background calls whose result is not yet posted
	// (tests wait for it to reach zero).
	inflight atomic.Int64
	// ordered holds the calls of doInOrder that wait for the one before
	// them with the same key (ui goroutine only).
	ordered map[string][]func()
}

// New builds the UI; nothing is shown until Start.
func New(a fyne.App, b Backend, opts Options) *UI {
	if opts.Timeout == 0 {
		opts.Timeout = 45 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.KeyStorage == "" {
		opts.KeyStorage = "your system keyring"
	}
	store := opts.Prefs
	if store == nil {
		store = &memStore{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	u := &UI{
		app: a, b: b, opts: opts, post: fyne.Do, ctx: ctx, cancel: cancel,
		store: store, contacts: map[string]map[string]account.Contact{},
		foreground: true,
	}
	u.prefs = store.Prefs()
	u.state = decodeState(store.UIState())
	applyTheme(a, u.state.Theme)
	a.Lifecycle().SetOnEnteredForeground(u.enteredForeground)
	a.Lifecycle().SetOnExitedForeground(func() { u.foreground = false })
	u.chats = newChatWindow(u)
	fonts := loadFonts()
	win := a.NewWindow("Sotto") // the driver's first window: GLFW starts, meanwhile the fonts load
	<-fonts                     // before any text is measured here: font faces are not safe for concurrent use
	u.roster = newRosterWindow(u, win)
	return u
}

// loadFonts loads, on another goroutine, the theme's font faces the
// roster window's first frame uses (regular and bold, and the system
// fallback fonts Fyne looks up with them), so that they are parsed while
// the Fyne goroutine waits for GLFW's initialisation rather than after it
// (about 20–30 ms of a cold start, issue 17). The channel is closed when
// they are loaded. The caller must not measure or draw text before that.
func loadFonts() <-chan struct{} {
	done := make(chan struct{})
	size := theme.TextSize()
	go func() {
		defer close(done)
		for _, st := range []fyne.TextStyle{{}, {Bold: true}} {
			fyne.MeasureText("Sotto", size, st)
		}
	}()
	return done
}

// Start shows the first-run wizard when there is no account, the roster
// otherwise, and reopens the chats that were open last time.
func (u *UI) Start() {
	u.setupTray()
	if u.opts.StateFile != "" {
		u.startStateFile(u.opts.StateFile)
	}
	if len(u.b.Accounts()) == 0 {
		u.showWizard()
		return
	}
	// The contacts seen last time are in the window's first frame, not
	// one frame after the account's loop has read the same cache.
	for _, s := range u.b.Accounts() {
		if cs, ok := u.b.CachedRoster(s.JID); ok {
			u.roster.setContacts(s.JID, cs)
		}
	}
	u.roster.show()
	for _, c := range u.state.OpenChats {
		u.chats.open(c.conv(), false)
	}
}

// Run forwards account events to the windows until ctx is done or events
// is closed. It may be called from any goroutine; each event is applied on
// the Fyne goroutine.
func (u *UI) Run(ctx context.Context, events <-chan account.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			u.post(func() { u.Handle(ev) })
		}
	}
}

// Stop cancels background calls still running.
func (u *UI) Stop() { u.cancel() }

// Handle applies one event. Call it on the Fyne goroutine.
func (u *UI) Handle(ev account.Event) {
	switch e := ev.(type) {
	case account.ConnectionChanged:
		if u.roster.isRemoved(e.Account) {
			return // the removed account's loop saying it stopped
		}
		u.roster.setConnection(e)
	case account.RosterChanged:
		if u.roster.isRemoved(e.Account) {
			return
		}
		m := make(map[string]account.Contact, len(e.Contacts))
		for _, c := range e.Contacts {
			m[c.JID] = c
		}
		u.contacts[e.Account] = m
		u.roster.setContacts(e.Account, e.Contacts)
		u.chats.rosterChanged()
	case account.SubscriptionRequest:
		u.roster.addRequest(e)
	case account.MessageReceived:
		u.chats.received(e)
		u.notify(e)
	case account.MessageStateChanged:
		u.chats.messageState(e)
	case account.ChatStateChanged:
		u.chats.chatState(e)
	case account.BlocklistChanged:
		u.roster.setBlocked(e)
	case account.SecurityChanged:
		u.chats.security(e)
	case account.SMPRequested:
		u.chats.smpRequested(e)
	case account.SMPResult:
		u.chats.smpResult(e)
	case account.CertificateQuestion:
		if u.wizard != nil && u.wizard.signingIn == e.Account {
			return // the wizard asks it itself, from TestConnection's error
		}
		u.roster.certificateQuestion(e)
	case account.Notice:
		if e.Conv.Peer != "" {
			u.chats.notice(e)
		} else {
			u.roster.setNotice(e.Text)
		}
	}
}

// do runs work off the UI goroutine with a timeout, then done(err) on it.
func (u *UI) do(work func(ctx context.Context) error, done func(error)) {
	u.inflight.Add(1)
	go func() {
		defer u.inflight.Add(-1) // after post: the result is queued by then
		ctx, cancel := context.WithTimeout(u.ctx, u.opts.Timeout)
		err := work(ctx)
		cancel()
		if done != nil {
			u.post(func() { done(err) })
		}
	}()
}

// doInOrder is do for calls whose order matters, such as the messages of
// one conversation: calls with the same key run one after the other, in
// the order they were made, each after the previous one's done. Separate
// goroutines per call (do) would race to the account loop and could put
// typed messages on the wire out of order.
func (u *UI) doInOrder(key string, work func(ctx context.Context) error, done func(error)) {
	if u.ordered == nil {
		u.ordered = map[string][]func(){}
	}
	run := func() {
		u.do(work, func(err error) {
			if done != nil {
				done(err)
			}
			q := u.ordered[key][1:]
			if len(q) == 0 {
				delete(u.ordered, key)
				return
			}
			u.ordered[key] = q
			q[0]()
		})
	}
	q := append(u.ordered[key], run)
	u.ordered[key] = q
	if len(q) == 1 {
		run()
	}
}

// name is how a contact is shown: the roster name, else the JID.
func (u *UI) name(acct, jid string) string {
	if c, ok := u.contacts[acct][jid]; ok {
		return c.DisplayName()
	}
	return jid
}

// contact returns the roster entry, if any.
func (u *UI) contact(acct, jid string) (account.Contact, bool) {
	c, ok := u.contacts[acct][jid]
	return c, ok
}

// enteredForeground: Sotto has the focus again. The chat tab on screen
// is being read, so its unread count goes (it stayed on the tab being
// read until another tab was picked).
func (u *UI) enteredForeground() {
	u.foreground = true
	if c := u.chats; c.shown && c.tabs != nil {
		if v := c.viewOf(c.tabs.Selected()); v != nil {
			c.markRead(v)
		}
	}
}

// withoutPrefix drops the package prefix GUIDE.md puts on error strings
// ("account: …"): people read the rest.
func withoutPrefix(s string) string {
	for _, p := range []string{"account: ", "ui: ", "otr: ", "secret: ", "pidgin: ", "history: ", "atomicfile: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

// plain turns an error into a sentence for people: no package prefix,
// capitalised, and timeouts explained.
func plain(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "This took too long. Check your network connection and try again."
	}
	if errors.Is(err, context.Canceled) {
		return "Cancelled."
	}
	s := withoutPrefix(err.Error())
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
