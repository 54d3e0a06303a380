package account

// Manager: the registry of account loops and the public, synchronous API.
// Every method that touches an account hands a closure to that account's
// loop (client.call) and waits for its answer; nothing here reads or
// writes loop state directly.

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/sotto-im/sotto/account/internal/history"
	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/secret"
)

// Option configures a Manager.
type Option func(*options)

type options struct {
	dial           func(ctx context.Context, network, addr string) (net.Conn, error)
	resolver       *net.Resolver
	roots          *x509.CertPool
	now            func() time.Time
	rand           io.Reader
	pingInterval   time.Duration
	backoffMin     time.Duration
	backoffMax     time.Duration
	privateTimeout time.Duration
	queryRetry     time.Duration
	lineHold       time.Duration // order.go
	eventBuffer    int
	version        string // XEP-0092, see WithSoftwareVersion
	noSM           bool   // never use XEP-0198 (tests of the fallback)
	// wireTap, tests only: sees every chat body the loop sends.
	wireTap func(to, body string)
	omemo   bool // WithOMEMO (omemoapi.go)
	// startGate, when set, holds each loop's start-up work (roster cache,
	// first connect) until it is closed: WithStartAfter.
	startGate <-chan struct{}
	// emitTap, tests only: sees every event on the loop, as it is emitted.
	emitTap func(Event)
	// Tests only (mam.go): the archive's page size and bound a sign-in.
	mamPage, mamMax int
}

// WithDialer replaces the TCP dialer (tests dial the loopback server).
func WithDialer(d func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(o *options) { o.dial = d }
}

// WithRootCAs verifies server certificates against pool instead of the
// system roots.
func WithRootCAs(pool *x509.CertPool) Option { return func(o *options) { o.roots = pool } }

// WithClock sets the clock for timestamps and OTR heartbeats.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithRand sets the randomness for OTR and key generation (tests). It is
// read from several goroutines, so it must be safe for concurrent use.
func WithRand(r io.Reader) Option { return func(o *options) { o.rand = r } }

// WithPingInterval sets how often the server is pinged; a ping unanswered
// for one more interval closes the connection (and reconnects).
func WithPingInterval(d time.Duration) Option { return func(o *options) { o.pingInterval = d } }

// WithReconnectBackoff sets the first and the longest wait between
// reconnect attempts (doubling in between).
func WithReconnectBackoff(min, max time.Duration) Option {
	return func(o *options) { o.backoffMin, o.backoffMax = min, max }
}

// WithPrivateTimeout sets how long a message waits for a private
// conversation (policy Always, or re-establishing after a reconnect)
// before it is reported NotSent.
func WithPrivateTimeout(d time.Duration) Option { return func(o *options) { o.privateTimeout = d } }

// WithQueryRetry sets how long a message waiting for a private
// conversation waits before the OTR query is offered again (doubling for
// the second retry; there is no third).
func WithQueryRetry(d time.Duration) Option { return func(o *options) { o.queryRetry = d } }

// WithLineHold sets how long a line that arrived before the one typed
// ahead of it waits for that one before it is shown anyway (order.go).
func WithLineHold(d time.Duration) Option { return func(o *options) { o.lineHold = d } }

// WithStartAfter holds every account's start-up work — reading its
// roster cache and the first connect — until gate is closed; the loops
// answer calls meanwhile. The program closes it once its window has
// painted its first frame, so signing in does not compete with that frame
// for the CPU (issue 17's cold start); the window has the cached roster
// already (CachedRoster).
func WithStartAfter(gate <-chan struct{}) Option { return func(o *options) { o.startGate = gate } }

// WithoutStreamManagement turns XEP-0198 off (tests of the behaviour
// with a server that has none).
func WithoutStreamManagement() Option { return func(o *options) { o.noSM = true } }

// Manager runs all accounts of one profile. Its methods are safe for
// concurrent use.
type Manager struct {
	profile *Profile
	secrets secret.Store
	opt     options
	events  *eventQueue

	mu      sync.Mutex
	clients map[string]*client
	runCtx  context.Context // nil until Run
	started chan struct{}   // closed once Run has started the loops
	wg      sync.WaitGroup

	secMu    sync.Mutex
	security map[Conversation]SecurityChanged // latest per conversation

	hist *history.Store // the history of plain chats (history.go)

	keysMu   sync.Mutex          // guards keyLoads only, never held across I/O
	keyLoads map[string]*keyLoad // per account: a key read in progress (key.go)

	preloadMu sync.Mutex
	preloaded map[string]*rosterPreload // PreloadCachedRosters' reads, used once (rostercache.go)
}

// NewManager makes a Manager for the accounts in p. Nothing connects
// until Run.
func NewManager(p *Profile, secrets secret.Store, opts ...Option) *Manager {
	o := options{
		dial:           (&net.Dialer{Timeout: 20 * time.Second}).DialContext,
		now:            time.Now,
		rand:           rand.Reader,
		pingInterval:   60 * time.Second,
		backoffMin:     2 * time.Second,
		backoffMax:     5 * time.Minute,
		privateTimeout: 60 * time.Second,
		queryRetry:     10 * time.Second,
		lineHold:       lineHold,
		eventBuffer:    64,
		version:        "dev",
	}
	for _, f := range opts {
		f(&o)
	}
	return &Manager{
		profile:  p,
		secrets:  secrets,
		opt:      o,
		events:   newEventQueue(o.eventBuffer),
		clients:  map[string]*client{},
		security: map[Conversation]SecurityChanged{},
		started:  make(chan struct{}),
		hist:     newHistory(p),
	}
}

// Events is the stream of everything the accounts publish; see events.go
// for what happens when the reader is slow. It is closed when Run returns.
func (m *Manager) Events() <-chan Event { return m.events.out }

func (m *Manager) emit(e Event) {
	if m.opt.emitTap != nil {
		m.opt.emitTap(e)
	}
	if sc, ok := e.(SecurityChanged); ok {
		m.secMu.Lock()
		m.security[sc.Conv] = sc
		bare := sc.Conv
		bare.Resource = ""
		m.security[bare] = sc
		m.secMu.Unlock()
	}
	m.events.push(e)
}

// Run starts every account's loop, connects those with AutoConnect, and
// returns when ctx is done and all loops have ended.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.runCtx != nil {
		m.mu.Unlock()
		return errors.New("account: manager is already running")
	}
	m.runCtx = ctx
	for _, s := range m.profile.Accounts() {
		m.startClientLocked(s)
	}
	m.mu.Unlock()
	close(m.started)
	go m.events.pump(ctx)
	<-ctx.Done()
	m.wg.Wait()
	return nil
}

// startClientLocked starts the loop for s; m.mu must be held.
func (m *Manager) startClientLocked(s Settings) *client {
	c := newClient(m, s)
	m.clients[s.JID] = c
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		c.run(m.runCtx)
	}()
	return c
}

// runningClient waits (bounded by ctx) until Run has started, then
// returns the account's loop. The app starts Run in a goroutine and the
// UI may ask for a connection at once; without the wait that first call
// would race Run and fail with "not running yet".
func (m *Manager) runningClient(ctx context.Context, jid string) (*client, error) {
	select {
	case <-m.started:
	case <-ctx.Done():
		return nil, fmt.Errorf("account: not running yet: %w", ctx.Err())
	}
	return m.client(jid)
}

func (m *Manager) client(jid string) (*client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.runCtx == nil {
		return nil, errors.New("account: not running yet")
	}
	c, ok := m.clients[jid]
	if !ok {
		return nil, fmt.Errorf("account: no account %s", jid)
	}
	return c, nil
}

// Accounts returns the configured accounts.
func (m *Manager) Accounts() []Settings { return m.profile.Accounts() }

// AddAccount saves a new account and its password and, when running,
// starts it (connecting if AutoConnect).
func (m *Manager) AddAccount(ctx context.Context, s Settings, password string) error {
	if slices.ContainsFunc(m.profile.Accounts(), func(a Settings) bool { return a.JID == s.JID }) {
		return fmt.Errorf("account: %s is already set up", s.JID)
	}
	if err := m.saveProxyPassword(ctx, &s); err != nil {
		return err
	}
	if err := m.profile.SaveAccount(s); err != nil {
		return err
	}
	if password != "" {
		if err := m.secrets.Set(ctx, passwordKey(s.JID), []byte(password)); err != nil {
			return fmt.Errorf("account: saving the password: %w", err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.runCtx != nil {
		m.startClientLocked(s)
	}
	return nil
}

// UpdateAccount changes an account's settings (and password unless "").
// A connected account reconnects with the new settings.
func (m *Manager) UpdateAccount(ctx context.Context, s Settings, password string) error {
	if !slices.ContainsFunc(m.profile.Accounts(), func(a Settings) bool { return a.JID == s.JID }) {
		return fmt.Errorf("account: no account %s", s.JID)
	}
	if err := m.saveProxyPassword(ctx, &s); err != nil {
		return err
	}
	if err := m.profile.SaveAccount(s); err != nil {
		return err
	}
	if password != "" {
		if err := m.secrets.Set(ctx, passwordKey(s.JID), []byte(password)); err != nil {
			return fmt.Errorf("account: saving the password: %w", err)
		}
	}
	c, err := m.client(s.JID)
	if err != nil {
		return nil // not running: the new settings apply at Run
	}
	return c.call(ctx, func(reply func(error)) { c.updateSettings(s); reply(nil) })
}

// RemoveAccount disconnects and forgets an account and its password. The
// OTR private key stays in the secret store (losing it by accident would
// cost every contact's verification); GenerateKey replaces it.
func (m *Manager) RemoveAccount(ctx context.Context, jid string) error {
	m.mu.Lock()
	c := m.clients[jid]
	delete(m.clients, jid)
	m.mu.Unlock()
	if c != nil {
		c.stop()
	}
	if err := m.profile.RemoveAccount(jid); err != nil {
		return err
	}
	_ = os.Remove(rosterCachePath(m.profile.Dir, jid)) // rostercache.go
	_ = os.Remove(waitingPath(m.profile.Dir, jid))     // waiting.go
	if err := m.secrets.Delete(ctx, passwordKey(jid)); err != nil && !errors.Is(err, secret.ErrNotFound) {
		return fmt.Errorf("account: removing the password: %w", err)
	}
	if err := m.secrets.Delete(ctx, proxyPasswordKey(jid)); err != nil && !errors.Is(err, secret.ErrNotFound) {
		return fmt.Errorf("account: removing the proxy password: %w", err)
	}
	return nil
}

// Connect logs the account in and returns when the first attempt has
// succeeded or failed. It keeps reconnecting after a lost link until
// Disconnect.
func (m *Manager) Connect(ctx context.Context, jid string) error {
	c, err := m.runningClient(ctx, jid)
	if err != nil {
		return err
	}
	return c.call(ctx, c.connectRequest)
}

// Disconnect logs the account out and stops reconnecting.
func (m *Manager) Disconnect(ctx context.Context, jid string) error {
	c, err := m.runningClient(ctx, jid)
	if err != nil {
		return err
	}
	return c.call(ctx, func(reply func(error)) { c.disconnect("", Disconnected); reply(nil) })
}

// TestConnection logs in with s and password and logs out again, without
// touching the saved accounts. An untrusted certificate is reported as a
// *CertificateError (and a CertificateQuestion event), a refused password
// as an error wrapping ErrPasswordRefused, so that a wizard can ask again.
func (m *Manager) TestConnection(ctx context.Context, s Settings, password string) error {
	p := m.dialParams(s, password)
	if err := m.fillProxyPassword(ctx, s, &p); err != nil {
		return err
	}
	sess, raw, err := wire.Dial(ctx, p)
	var cp *wire.CertProblem
	var ae *wire.AuthError
	switch {
	case errors.As(err, &cp):
		q := CertificateQuestion{Account: s.JID, Fingerprint: cp.Fingerprint, Subject: cp.Subject, Changed: cp.Changed}
		m.emit(q)
		return &CertificateError{Question: q, msg: cp.Error()}
	case errors.As(err, &ae):
		return fmt.Errorf("%w (%v)", ErrPasswordRefused, ae.Err)
	case err != nil:
		return err
	}
	closeLink(sess, raw)
	return nil
}

// TrustCertificate pins a server certificate (SHA-256 hex, as in
// CertificateQuestion) and, if the account was waiting for that decision,
// connects it.
func (m *Manager) TrustCertificate(ctx context.Context, account, sha256hex string) error {
	if err := m.profile.SetCertPin(account, sha256hex); err != nil {
		return err
	}
	c, err := m.client(account)
	if err != nil {
		return nil
	}
	return c.call(ctx, func(reply func(error)) {
		if c.certWait {
			c.certWait = false
			c.connectRequest(reply)
			return
		}
		reply(nil)
	})
}

// Fingerprints returns every known fingerprint of every account.
func (m *Manager) Fingerprints() []KnownFingerprint { return m.profile.Fingerprints() }

// ForgetFingerprint removes a known fingerprint (and its verification).
func (m *Manager) ForgetFingerprint(ctx context.Context, account, contact, fingerprint string) error {
	if err := m.profile.ForgetFingerprint(account, contact, fingerprint); err != nil {
		return err
	}
	if c, err := m.client(account); err == nil {
		return c.call(ctx, func(reply func(error)) { c.trustChanged(contact); reply(nil) })
	}
	return nil
}

// Security returns the latest SecurityChanged of a conversation (with
// Resource "" the most recent one of any of the peer's resources).
func (m *Manager) Security(conv Conversation) SecurityChanged {
	m.secMu.Lock()
	defer m.secMu.Unlock()
	if sc, ok := m.security[conv]; ok {
		return sc
	}
	return SecurityChanged{Conv: conv, Level: NotPrivate}
}

// accountCall runs f in the account's loop.
func (m *Manager) accountCall(ctx context.Context, account string, f func(c *client, reply func(error))) error {
	c, err := m.runningClient(ctx, account)
	if err != nil {
		return err
	}
	return c.call(ctx, func(reply func(error)) { f(c, reply) })
}

// SetPresence sets our presence; Offline disconnects.
func (m *Manager) SetPresence(ctx context.Context, account string, show Show, status string) error {
	return m.accountCall(ctx, account, func(c *client, reply func(error)) { reply(c.setPresence(show, status)) })
}

// AddContact adds (or updates) a roster entry and asks for the contact's
// presence.
func (m *Manager) AddContact(ctx context.Context, account, jid, name string, groups []string) error {
	return m.accountCall(ctx, account, func(c *client, reply func(error)) { c.addContact(jid, name, groups, reply) })
}

// RemoveContact removes a roster entry (the server also cancels both
// subscriptions).
func (m *Manager) RemoveContact(ctx context.Context, account, jid string) error {
	return m.accountCall(ctx, account, func(c *client, reply func(error)) { c.removeContact(jid, reply) })
}

// RenameContact changes a roster entry's name and groups.
func (m *Manager) RenameContact(ctx context.Context, account, jid, name string, groups []string) error {
	return m.accountCall(ctx, account, func(c *client, reply func(error)) { c.renameContact(jid, name, groups, reply) })
}

// AnswerSubscription accepts (and subscribes back) or refuses a request.
func (m *Manager) AnswerSubscription(ctx context.Context, account, from string, accept bool) error {
	return m.accountCall(ctx, account, func(c *client, reply func(error)) { reply(c.answerSubscription(from, accept)) })
}

// Send sends body in conv. The returned id appears in the
// MessageStateChanged events that report what happened to it.
func (m *Manager) Send(ctx context.Context, conv Conversation, body string) (string, error) {
	var id string
	err := m.accountCall(ctx, conv.Account, func(c *client, reply func(error)) {
		var err error
		id, err = c.send(conv, body)
		reply(err)
	})
	return id, err
}

// StartPrivate starts (or refreshes) OTR with the peer.
func (m *Manager) StartPrivate(ctx context.Context, conv Conversation) error {
	return m.accountCall(ctx, conv.Account, func(c *client, reply func(error)) { reply(c.startPrivate(conv)) })
}

// EndPrivate ends OTR; from Finished it returns to NotPrivate.
func (m *Manager) EndPrivate(ctx context.Context, conv Conversation) error {
	return m.accountCall(ctx, conv.Account, func(c *client, reply func(error)) { reply(c.endPrivate(conv)) })
}

// Authenticate starts SMP; question "" means a shared secret.
func (m *Manager) Authenticate(ctx context.Context, conv Conversation, question, secret string) error {
	return m.accountCall(ctx, conv.Account, func(c *client, reply func(error)) { reply(c.authenticate(conv, question, secret)) })
}

// AnswerSMP answers the peer's SMP request.
func (m *Manager) AnswerSMP(ctx context.Context, conv Conversation, secret string) error {
	return m.accountCall(ctx, conv.Account, func(c *client, reply func(error)) { reply(c.answerSMP(conv, secret)) })
}

// AbortSMP aborts a running SMP.
func (m *Manager) AbortSMP(ctx context.Context, conv Conversation) error {
	return m.accountCall(ctx, conv.Account, func(c *client, reply func(error)) { reply(c.abortSMP(conv)) })
}

// SetVerified marks a fingerprint verified (or not) by hand.
func (m *Manager) SetVerified(ctx context.Context, account, contact, fingerprint string, verified bool) error {
	how := ""
	if verified {
		how = "manual"
	}
	if err := m.profile.SetFingerprint(KnownFingerprint{Account: account, Contact: contact,
		Fingerprint: fingerprint, Verified: verified, How: how}); err != nil {
		return err
	}
	if c, err := m.client(account); err == nil {
		return c.call(ctx, func(reply func(error)) { c.trustChanged(contact); reply(nil) })
	}
	return nil
}

// OwnFingerprint returns the account's OTR fingerprint, generating the key
// on first use.
func (m *Manager) OwnFingerprint(ctx context.Context, account string) (string, error) {
	k, err := m.loadKey(ctx, account, false)
	if err != nil {
		return "", err
	}
	return k.Fingerprint().String(), nil
}

// GenerateKey makes and stores a new OTR key for the account. Running
// private conversations keep the old key until they are restarted.
func (m *Manager) GenerateKey(ctx context.Context, account string) (string, error) {
	k, err := m.loadKey(ctx, account, true)
	if err != nil {
		return "", err
	}
	if c, err := m.client(account); err == nil {
		_ = c.call(ctx, func(reply func(error)) { c.keyReady(k); reply(nil) })
	}
	return k.Fingerprint().String(), nil
}

// Policy is the OTR policy that applies to account's conversation with
// contact: the contact's own policy if one is set, else the account's
// (Settings.Policy); with contact "" the account's. An unknown account has
// the default, Opportunistic. It reads the profile only (no call into the
// account's loop), so the UI may ask it on its own goroutine.
func (m *Manager) Policy(account, contact string) Policy {
	var acct Policy // Opportunistic, the zero Settings' policy
	accts := m.profile.Accounts()
	if i := slices.IndexFunc(accts, func(a Settings) bool { return a.JID == account }); i >= 0 {
		acct = accts[i].Policy
	}
	if contact == "" {
		return acct
	}
	return m.profile.effectivePolicy(account, contact, acct)
}

// SetPolicy sets the OTR policy of one contact, or with contact "" the
// account's default.
func (m *Manager) SetPolicy(ctx context.Context, account, contact string, p Policy) error {
	if contact == "" {
		i := slices.IndexFunc(m.profile.Accounts(), func(a Settings) bool { return a.JID == account })
		if i < 0 {
			return fmt.Errorf("account: no account %s", account)
		}
		s := m.profile.Accounts()[i]
		s.Policy = p
		if err := m.profile.SaveAccount(s); err != nil {
			return err
		}
	} else if err := m.profile.SetContactPolicy(account, contact, p); err != nil {
		return err
	}
	c, err := m.client(account)
	if err != nil {
		return nil // not running: the profile has it for Run
	}
	return c.call(ctx, func(reply func(error)) {
		if contact == "" {
			c.settings.Policy = p
		}
		c.policyChanged(contact)
		reply(nil)
	})
}

func passwordKey(jid string) string { return "password:" + jid }
func otrKeyName(jid string) string  { return "otr-key:" + jid }
