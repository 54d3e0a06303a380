package account

// client is one account's loop: a single goroutine that owns the XMPP
// session, roster, presence and OTR conversations and handles every input
// in one select. Public Manager methods reach it through call.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"mellium.im/xmpp"

	"github.com/sotto-im/sotto/account/internal/sm"
	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/otr"
	"github.com/sotto-im/sotto/secret"
)

var errStopped = errors.New("account: the account was removed or the manager stopped")

type connResult struct {
	sess *xmpp.Session
	raw  net.Conn
	key  *otr.PrivateKey
	err  error
}

type client struct {
	m        *Manager
	ctx      context.Context // set by run; ends with the loop
	reqs     chan func()
	quit     chan struct{} // closed by stop
	dead     chan struct{} // closed when run returns
	settings Settings

	// Everything below is owned by the loop goroutine.
	state      ConnState
	wantOnline bool // user wants the account online: reconnect after loss
	certWait   bool // waiting for TrustCertificate
	connecting bool
	connDone   chan connResult
	waiters    []func(error) // Connect calls waiting for the attempt
	backoff    time.Duration
	retry      *time.Timer
	retryC     <-chan time.Time

	rosterSent time.Time   // when the last RosterChanged went out
	rosterDue  *time.Timer // a coalesced RosterChanged is pending (roster.go)

	sess        *xmpp.Session
	raw         net.Conn // under sess (TLS and all)
	sessCancel  context.CancelFunc
	in          chan wire.Inbound
	serveDone   chan error
	connectedAt time.Time
	pendingIQ   map[string]func(*wire.IQ) // nil argument: link lost
	pingID      string
	pingSent    time.Time
	lastPing    time.Time
	lastInbound time.Time // the last stanza or ack from the server (watchdogs)
	serveEnded  bool      // serveDone was received for the current session

	// XEP-0198 (streammgmt.go): kept across connections to resume.
	sm           *sm.Stream
	ackAskedAt   time.Time
	smStats      smStats
	seen         map[string]struct{}    // lines shown, by peer and stanza id
	rosterStale  bool                   // presence kept over a drop, for a resumption
	ending       bool                   // endSession is running
	sending      map[string]*lineTag    // lines shown Sending, by line id
	held         []heldLine             // lines waiting for their predecessor (order.go)
	releasing    bool                   // releaseHeld is running
	releaseAgain bool                   // a line was shown while it ran
	lastShown    map[string]string      // by peer: the id of the last line shown
	notSentLines map[string]notSentLine // lines reported NotSent, for Resend (unsent.go)
	waiting      waitingState           // plain waiting lines kept on disk (waiting.go)

	show   Show
	status string
	roster rosterState

	key         *otr.PrivateKey
	instanceTag uint32
	convs       map[peerKey]*privConv
	notices     map[noticeKey]*noticeMemo // recent notices, see notice

	ext extState // extensions: peer facts, receipts, blocklist (peerinfo.go)
	mam mamState // archive catch-up (mam.go)
}

func newClient(m *Manager, s Settings) *client {
	return &client{
		m:         m,
		reqs:      make(chan func()),
		quit:      make(chan struct{}),
		dead:      make(chan struct{}),
		settings:  s,
		connDone:  make(chan connResult, 1),
		pendingIQ: map[string]func(*wire.IQ){},
		show:      Available,
		roster:    newRosterState(),
		convs:     map[peerKey]*privConv{},
		sm:        sm.New(),
	}
}

func (c *client) account() string { return c.settings.JID }

// call runs f in the loop and waits for f's reply (which f may give later,
// e.g. when an IQ result arrives).
func (c *client) call(ctx context.Context, f func(reply func(error))) error {
	ch := make(chan error, 1)
	req := func() {
		f(func(err error) {
			select {
			case ch <- err:
			default:
			}
		})
	}
	select {
	case c.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.dead:
		return errStopped
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-c.dead:
		return errStopped
	}
}

func (c *client) stop() {
	select {
	case <-c.quit:
	default:
		close(c.quit)
	}
	<-c.dead
}

func (c *client) run(parent context.Context) {
	defer close(c.dead)
	// ctx ends with the Manager or when the account is removed, so a dial
	// in progress is abandoned at once.
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	c.ctx = ctx
	go func() {
		select {
		case <-c.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	hk := newHousekeepingTimer()
	defer hk.stop()
	defer func() {
		if c.rosterDue != nil {
			c.rosterDue.Stop()
		}
	}()
	// The roster the user saw last time is drawn at once, everyone offline
	// until presence comes (as Pidgin draws its buddy list before it has
	// signed in); the login's fetch then asks only for what changed.
	begin := func() {
		if c.loadRosterCache() != "" && len(c.roster.items) > 0 {
			c.sendRoster()
		}
		c.restoreWaiting() // waiting.go: plain lines that waited when Sotto quit
		if c.settings.AutoConnect {
			c.connectRequest(func(error) {})
		}
	}
	gate := c.m.opt.startGate // WithStartAfter
	if gate == nil {
		begin()
	}
	for {
		hk.arm(c.nextHousekeeping())
		// Back-pressure (events.go): while the UI's queue is full, no
		// stanza is taken from the network.
		inC, roomC := c.in, c.m.events.full()
		if roomC != nil {
			inC = nil
		}
		select {
		case <-roomC:
		case <-gate:
			gate = nil
			begin()
		case <-ctx.Done():
			c.shutdown()
			return
		case <-c.quit:
			c.shutdown()
			return
		case f := <-c.reqs:
			f()
		case r := <-c.connDone:
			c.connected(r)
		case v := <-inC:
			c.handleInbound(v)
		case err := <-c.serveDone:
			c.serveEnded = true
			c.linkLost(err)
		case <-c.retryC:
			c.retryC = nil
			c.startConnect()
		case now := <-hk.C():
			hk.fired()
			c.housekeeping(now)
		case <-c.rosterDueC():
			c.sendRoster()
		}
		c.syncWaiting(false) // waiting.go: every event may change what waits
	}
}

// shutdown logs out cleanly (best effort) when the loop ends.
func (c *client) shutdown() {
	// What waits now is what the next start sends: write it before
	// logging out reports those lines NotSent (waiting.go).
	c.syncWaiting(true)
	c.showAllHeld() // order.go
	c.disconnect("", Disconnected)
	if c.connecting {
		// Wait for the dial goroutine so it does not outlive us.
		if r := <-c.connDone; r.sess != nil {
			closeLink(r.sess, r.raw)
		}
	}
	// The loop ends with the app (or the account is removed): wipe every
	// OTR session key now rather than leave them to the garbage collector.
	for _, pc := range c.convs {
		pc.e2e.Forget()
	}
}

func (c *client) setState(s ConnState, reason string, retryIn time.Duration) {
	c.state = s
	c.m.emit(ConnectionChanged{Account: c.account(), State: s, Err: reason, RetryIn: retryIn})
}

// connectRequest is Connect: start an attempt unless online already.
func (c *client) connectRequest(reply func(error)) {
	c.wantOnline = true
	switch {
	case c.sess != nil:
		reply(nil)
		return
	case c.connecting:
		c.waiters = append(c.waiters, reply)
		return
	}
	c.waiters = append(c.waiters, reply)
	c.startConnect()
}

// startConnect dials in a goroutine so the loop stays responsive (Send
// queues while connecting). Secrets are read there too, the private key
// included (the loop itself never reads it): a keyring may block on an
// unlock prompt.
func (c *client) startConnect() {
	if c.connecting || c.sess != nil {
		return
	}
	if c.retry != nil {
		c.retry.Stop()
		c.retryC = nil
	}
	c.connecting = true
	c.setState(Connecting, "", 0)
	p := c.m.dialParams(c.settings, "")
	settings := c.settings
	if !c.m.opt.noSM {
		p.SM = c.sm
	}
	haveKey := c.key != nil
	ctx := c.ctx
	go func() {
		var r connResult
		defer func() { c.connDone <- r }()
		pw, err := c.m.secrets.Get(ctx, passwordKey(p.JID))
		if err != nil {
			r.err = &secretError{what: "password", err: err}
			return
		}
		p.Password = string(pw)
		clear(pw)
		if r.err = c.m.fillProxyPassword(ctx, settings, &p); r.err != nil {
			return
		}
		if !haveKey {
			if r.key, err = c.m.loadKey(ctx, p.JID, false); err != nil {
				r.err = &secretError{what: "private key", err: err}
				return
			}
		}
		r.sess, r.raw, r.err = wire.Dial(ctx, p)
	}()
}

// connected finishes an attempt started by startConnect.
func (c *client) connected(r connResult) {
	c.connecting = false
	if r.key != nil {
		c.keyReady(r.key)
	}
	if r.err == nil && !c.wantOnline {
		// Disconnect was called while dialing.
		closeLink(r.sess, r.raw)
		r.err = errors.New("account: disconnected")
	}
	waiters := c.waiters
	c.waiters = nil
	for _, w := range waiters {
		w(r.err)
	}
	if r.err != nil {
		c.connectFailed(r.err)
		return
	}
	c.backoff = 0
	c.startSession(r.sess, r.raw)
}

// connectFailed decides between asking the user and retrying.
func (c *client) connectFailed(err error) {
	var cp *wire.CertProblem
	var ae *wire.AuthError
	var nt *wire.NoTLSError
	var se *secretError
	var pe *wire.ProxyError
	switch {
	case !c.wantOnline:
		c.setState(Disconnected, "", 0)
	case errors.As(err, &se) && errors.Is(se, secret.ErrLocked):
		// Wait for the user: retrying on a timer would pop the desktop's
		// unlock prompt again and again.
		c.wantOnline = false
		c.setState(KeyringLocked, "Unlock your keyring to sign in", 0)
		c.failQueued("not sent: unlock your keyring to sign in")
	case errors.As(err, &se):
		c.wantOnline = false
		c.setState(Failed, se.Error(), 0)
		c.failQueued("not sent: " + se.Error())
	case errors.As(err, &cp):
		c.certWait = true
		c.wantOnline = false
		c.m.emit(CertificateQuestion{Account: c.account(), Fingerprint: cp.Fingerprint,
			Subject: cp.Subject, Changed: cp.Changed})
		c.setState(Failed, cp.Error(), 0)
		c.failQueued("not connected: the server's certificate needs your decision")
	case errors.As(err, &ae):
		c.wantOnline = false
		c.setState(Failed, ae.Error(), 0)
		c.failQueued("not connected: the server refused the login")
	case errors.As(err, &nt):
		c.wantOnline = false
		c.setState(Failed, nt.Error(), 0)
		c.failQueued("not connected: the server does not offer encryption")
	case errors.As(err, &pe) && pe.Auth:
		c.wantOnline = false
		c.setState(Failed, pe.Error(), 0)
		c.failQueued("not connected: the proxy refused the login")
	default:
		c.scheduleRetry(err.Error())
	}
}

func (c *client) scheduleRetry(reason string) {
	switch {
	case c.backoff == 0:
		c.backoff = c.m.opt.backoffMin
	default:
		c.backoff = min(2*c.backoff, c.m.opt.backoffMax)
	}
	c.retry = time.NewTimer(c.backoff)
	c.retryC = c.retry.C
	c.setState(Reconnecting, reason, c.backoff)
}

// startSession runs Serve for a fresh session and sends what a new
// session needs: carbons on, the roster, our presence.
func (c *client) startSession(sess *xmpp.Session, raw net.Conn) {
	ctx, cancel := context.WithCancel(c.ctx)
	in := make(chan wire.Inbound, 16)
	done := make(chan error, 1)
	c.sess, c.raw, c.sessCancel, c.in, c.serveDone = sess, raw, cancel, in, done
	c.connectedAt = time.Now()
	c.pingID, c.lastPing, c.serveEnded, c.lastInbound = "", time.Now(), false, time.Now()
	st, ext := c.sm, c.extensionHandlers() // read here, in the loop
	h := wire.CountedHandler(ctx, in, st, ext...)
	early := st.TakeEarly() // what the server sent before <enabled/>
	go func() {
		wire.HandleEarly(h, sess.TokenWriter, early)
		done <- sess.Serve(h)
	}()
	c.setState(Connected, "", 0)
	if c.smSessionStarted() {
		// Resumed: the server kept our presence, carbons and roster
		// interest; presences that changed came in the resumed stream.
		c.rosterStale = false
		c.sendOwnPresence() // in case it changed while we were away
		c.sessionResumed()
		return
	}
	if c.rosterStale {
		c.rosterStale = false
		c.roster.allOffline()
		c.emitRoster()
	}
	c.sendIQ(wire.OutIQ{Type: "set", Enable: &wire.Empty{}}, nil) // XEP-0280
	c.fetchRoster()
	c.fetchBlocklist() // blocking.go
	c.sendOwnPresence()
	c.sessionStarted()
	c.omemoSessionStarted() // omemo.go
	c.mamSessionStarted()   // mam.go: after OMEMO, whose state it waits for
}

// endSession closes the current session; it does not change state.
// polite ends the stream (the server then ends the session: no
// resumption); otherwise the link is just dropped, so stream management
// can resume it. Whatever the handler already handed over (and counted
// as handled) is handled here before the session's channel goes.
func (c *client) endSession(polite bool) {
	if c.sess == nil || c.ending {
		return
	}
	c.ending = true
	defer func() { c.ending = false }()
	sess, raw, in, done := c.sess, c.raw, c.in, c.serveDone
	c.sessCancel()
	c.sess, c.raw, c.in, c.serveDone = nil, nil, nil, nil
	if polite {
		closeLink(sess, raw)
	} else {
		_ = raw.Close()
	}
	if !c.serveEnded {
		select {
		case <-done:
		case <-time.After(5 * time.Second): // a Serve stuck past a closed conn: give up on its leftovers
		}
	}
	c.sm.Detach()
	for drained := false; !drained; {
		select {
		case v := <-in:
			c.handleInbound(v)
		default:
			drained = true
		}
	}
	c.mamSave() // mam.go
	for id, f := range c.pendingIQ {
		delete(c.pendingIQ, id)
		if f != nil {
			f(nil)
		}
	}
	if !polite && c.sm.CanResume() {
		// Presence stays as it was: a resumed stream does not send it
		// again. A fresh session clears it (startSession).
		c.rosterStale = true
		return
	}
	c.roster.allOffline()
	c.emitRoster()
}

// linkLost: Serve returned while we wanted to stay online.
func (c *client) linkLost(err error) {
	if c.ending {
		return
	}
	c.endSession(false)
	reason := "the connection to the server was lost"
	if err != nil {
		reason = fmt.Sprintf("%s (%v)", reason, err)
	}
	if c.wantOnline {
		c.scheduleRetry(reason)
		return
	}
	c.setState(Disconnected, "", 0)
}

// disconnect logs out and stops reconnecting.
func (c *client) disconnect(reason string, st ConnState) {
	c.wantOnline = false
	if c.retry != nil {
		c.retry.Stop()
		c.retryC = nil
	}
	if c.sess != nil {
		c.sendPresence(wire.OutPresence{Type: "unavailable"})
	}
	c.endSession(true)
	c.abandonStream()
	c.failQueued("not sent: the account went offline")
	if c.state != st {
		c.setState(st, reason, 0)
	}
}

func (c *client) updateSettings(s Settings) {
	c.settings = s
	if c.sess != nil || c.connecting {
		c.endSession(true)
		c.requeueLost(c.sm.Abandon())
		c.wantOnline = true
		if !c.connecting {
			c.startConnect()
		}
	}
}

// housekeeping: ping watchdog, OTR heartbeats, queued-message deadlines.
func (c *client) housekeeping(now time.Time) {
	if c.sess != nil && c.m.events.full() != nil {
		// We stopped reading (back-pressure): the answers wait unread in
		// the inbound channel. The watchdogs start over once we read again.
		c.pingSent, c.ackAskedAt = now, now
	}
	if c.sess != nil {
		iv := c.m.opt.pingInterval
		switch {
		case c.pingID != "" && now.Sub(later(c.pingSent, c.lastInbound)) > iv:
			// A silent black hole never makes Serve return: give up on
			// the link ourselves (FACTS.md).
			c.linkLost(errors.New("the server stopped answering"))
			return
		case c.ackOverdue(now):
			c.linkLost(errors.New("the server stopped answering"))
			return
		case c.pingID == "" && now.Sub(c.lastPing) >= iv:
			c.ping(now)
		}
	}
	c.e2eHousekeeping(now)
	c.heldHousekeeping(now) // order.go
	c.mamHousekeeping(now)  // mam.go
	c.omemoHousekeeping()   // omemo.go: signed prekey rotation
}

func (c *client) ping(now time.Time) {
	id := randomID()
	c.pingID, c.pingSent, c.lastPing = id, now, now
	c.sendIQ(wire.OutIQ{ID: id, Type: "get", To: jidDomain(c.account()), Ping: &wire.Empty{}}, func(*wire.IQ) {
		if c.pingID == id {
			c.pingID = ""
		}
	})
}

// sendIQ sends an IQ and calls onReply with the result or error stanza
// (nil if the link is lost first).
func (c *client) sendIQ(q wire.OutIQ, onReply func(*wire.IQ)) {
	if q.ID == "" {
		q.ID = randomID()
	}
	if c.sess == nil {
		if onReply != nil {
			onReply(nil)
		}
		return
	}
	c.pendingIQ[q.ID] = onReply
	if err := c.write(q); err != nil {
		delete(c.pendingIQ, q.ID)
		if onReply != nil {
			onReply(nil)
		}
	}
}

// writeTimeout: a write stalled this long means the link is gone.
const writeTimeout = 15 * time.Second

// closeLink ends the stream politely if the link takes it within a second,
// then closes the raw connection (a TLS close_notify could block for 5 s
// on a dead link).
func closeLink(sess *xmpp.Session, raw net.Conn) {
	_ = raw.SetWriteDeadline(time.Now().Add(time.Second))
	_ = sess.Close()
	_ = raw.Close()
}

func (c *client) handleInbound(v wire.Inbound) {
	c.lastInbound = time.Now()
	switch {
	case v.Acked != nil:
		c.acked(v.Acked)
	case v.SMErr != nil:
		c.notice(Conversation{Account: c.account()}, "the server's count of messages disagrees with ours; reconnecting")
		c.requeueLost(c.sm.Abandon())
		c.linkLost(v.SMErr)
	case v.Bad != "":
		c.notice(Conversation{Account: c.account()}, v.Bad)
	case v.IQ != nil:
		c.handleIQ(v.IQ)
	case v.Pres != nil:
		c.handlePresence(v.Pres)
	case v.Msg != nil:
		c.handleMessage(v.Msg)
	}
}

func (c *client) handleIQ(q *wire.IQ) {
	if q.Type == "result" || q.Type == "error" {
		f, ok := c.pendingIQ[q.ID]
		if !ok {
			return
		}
		delete(c.pendingIQ, q.ID)
		if f != nil {
			f(q)
		}
		return
	}
	if q.Type == "set" && q.Roster != nil {
		c.rosterPush(q.Roster)
	}
	if q.Type == "set" && (q.Block != nil || q.Unblock != nil) {
		c.blockPush(q) // blocking.go
	}
}

// iqErr turns an IQ reply into an error for the caller.
func iqErr(q *wire.IQ, what string) error {
	switch {
	case q == nil:
		return fmt.Errorf("account: %s: the connection was lost", what)
	case q.Type == "error":
		return fmt.Errorf("account: %s: the server refused (%s)", what, q.Error.Condition())
	}
	return nil
}

// randomID is a fresh stanza or message id.
func randomID() string { return wire.ID() }
