package account

// OMEMO in the account loop: the account's state (loaded off the loop,
// saved after every change), our device list and bundle on PEP, the
// contacts' lists, the choice of protocol per contact, and OMEMO messages
// in and out (carbons included).
//
// Protocol choice: a contact that publishes an OMEMO device list gets
// OMEMO, in one conversation on its bare JID (all its devices at once);
// everyone else gets OTR as before. An OTR conversation that is private
// keeps being used until it ends. When a new conversation starts with a
// contact whose list we have not seen this session, the list is fetched
// first and what the user types meanwhile waits (privConv.refresh), so a
// first message to an OMEMO contact never goes out in the clear because
// the answer was late.
//
// Trust rule: each line carries the level of the device that sent it
// (Private only for a verified device); the conversation is Private only
// when every device the contact publishes is verified (omemo.Peer.Level).
// A new device of a contact whose conversation was Private is announced
// as loudly as a changed OTR key.

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/omemo"
)

type omemoPhase int

const (
	omemoIdle        omemoPhase = iota // not loaded (yet)
	omemoLoading                       // loadOMEMO runs off the loop
	omemoReady                         // st and key are set
	omemoUnavailable                   // the state could not be read: why says so
)

// maxOMEMOPending bounds what waits for the state to load.
const maxOMEMOPending = 1000

// omemoAccount is the account's OMEMO state, owned by the loop.
type omemoAccount struct {
	phase omemoPhase
	why   string
	st    *omemo.Store
	key   []byte
	lists map[string]omemo.DeviceList // bare JID → its published devices (ours too)
	// fresh: the list was fetched or notified on this session.
	fresh map[string]bool
	// listFetch: a fetch is in flight; probe: conversations wait for it.
	listFetch map[string]bool
	probe     map[string]bool
	pending   []func() // inbound OMEMO that came before the state
	// off: contacts the user talks to with OTR although they publish
	// OMEMO devices (Manager.UseOMEMO); their OMEMO messages are still read.
	off map[string]bool
	// rotateAt: when the signed prekey rotation was last checked.
	rotateAt time.Time
	// held: contacts' devices (omemo.Address.String()) that appeared
	// after their first list and get no messages until the user verifies
	// or accepts them (omemoHoldNew).
	held map[string]bool
	// unsaved: lines from the server's archive were decrypted since the
	// last save (omemoArchivedSaved); saves counts the saves (tests).
	unsaved bool
	saves   int
}

func (c *client) om() *omemoAccount {
	if c.ext.omemo == nil {
		c.ext.omemo = &omemoAccount{lists: map[string]omemo.DeviceList{}, fresh: map[string]bool{},
			listFetch: map[string]bool{}, probe: map[string]bool{}, off: map[string]bool{}, held: map[string]bool{}}
	}
	return c.ext.omemo
}

func (c *client) omemoOn() bool { return c.m.opt.omemo }

// omemoSessionStarted: a new XMPP session. The state is loaded the first
// time (or again after it could not be read); our list and bundle are
// published once it is there.
func (c *client) omemoSessionStarted() {
	if !c.omemoOn() {
		return
	}
	o := c.om()
	o.fresh, o.listFetch, o.probe = map[string]bool{}, map[string]bool{}, map[string]bool{}
	switch o.phase {
	case omemoReady:
		c.omemoPublishOwn()
		c.omemoRefreshConvs()
	case omemoIdle, omemoUnavailable:
		o.phase = omemoLoading
		ctx, account := c.ctx, c.account()
		go func() {
			l := c.m.loadOMEMO(ctx, account)
			select {
			case c.reqs <- func() { c.omemoLoaded(l) }:
			case <-ctx.Done():
				clear(l.key)
			}
		}()
	}
}

func (c *client) omemoLoaded(l omemoLoad) {
	o := c.om()
	acct := Conversation{Account: c.account()}
	if l.unavailable != "" {
		o.phase, o.why = omemoUnavailable, l.unavailable
		c.notice(acct, l.unavailable)
	} else {
		o.phase, o.st, o.key = omemoReady, l.st, l.key
		for j, ids := range l.lists {
			if _, ok := o.lists[j]; !ok {
				o.lists[j] = omemo.DeviceList{Devices: ids}
			}
		}
		for _, j := range l.noOMEMO {
			o.off[j] = true
		}
		for _, a := range l.held {
			o.held[a] = true
		}
		if l.notice != "" {
			c.notice(acct, l.notice)
		}
		if c.sess != nil {
			c.omemoPublishOwn()
		}
	}
	pending := o.pending
	o.pending = nil
	for _, f := range pending {
		f()
	}
	c.omemoRefreshConvs()
	for peer := range o.probe {
		if !o.listFetch[peer] {
			c.omemoProbeDone(peer) // held for the load, and nothing more to wait for
		}
	}
}

// omemoRefreshConvs gives OMEMO to conversations that started before the
// state was there (or while it was unavailable).
func (c *client) omemoRefreshConvs() {
	var todo []*privConv
	for _, pc := range c.convs {
		todo = append(todo, pc)
	}
	for _, pc := range todo {
		if s, ok := pc.e2e.(*omemoSession); ok && s.peer == nil && c.om().phase == omemoReady {
			pc.e2e = c.newOMEMOSession(pc.key.peer)
		}
		c.omemoConvCreated(pc)
	}
}

// omemoWhenReady runs f now, or once the state is loaded.
func (c *client) omemoWhenReady(f func()) {
	o := c.om()
	if o.phase == omemoReady || o.phase == omemoUnavailable {
		f()
		return
	}
	if len(o.pending) < maxOMEMOPending {
		o.pending = append(o.pending, f)
	}
}

// omemoSave writes the state; every caller saves before it sends or shows,
// but for lines from the server's archive (omemoArchivedSaved).
func (c *client) omemoSave() error {
	o := c.om()
	if o.phase != omemoReady {
		return nil
	}
	lists := make(map[string][]uint32, len(o.lists))
	for j, l := range o.lists {
		lists[j] = l.Devices
	}
	var off []string
	for j := range o.off {
		off = append(off, j)
	}
	slices.Sort(off)
	var held []string
	for a := range o.held {
		held = append(held, a)
	}
	slices.Sort(held)
	if err := saveOMEMO(omemoStatePath(c.m.profile.Dir, c.account()), o.key, o.st, lists, off, held); err != nil {
		return err
	}
	o.unsaved = false
	o.saves++
	return nil
}

// omemoArchivedSaved writes the state if lines from the server's archive
// were decrypted since the last save, and reports whether the state on
// disk is now up to date. A catch-up saves once per page, here, before
// the archive mark moves past the page (mamSave), and not once per line:
// each save writes and syncs the whole state, and a catch-up of 1,000
// lines did that 1,000 times. If Sotto stops before this save, the mark
// has not moved either: the same lines are read again at the next
// sign-in, from the state they were first decrypted with.
func (c *client) omemoArchivedSaved() bool {
	if !c.omemoOn() || !c.om().unsaved {
		return true
	}
	if err := c.omemoSave(); err != nil {
		c.notice(Conversation{Account: c.account()}, "the OMEMO state could not be saved: "+plainErr(err)+
			"; the messages read from the server's archive will be read again at the next sign-in")
		return false
	}
	return true
}

// omemoPublishOwn publishes our bundle, then adds this device to our
// list if it is not there (never dropping the others).
func (c *client) omemoPublishOwn() {
	o := c.om()
	acct := Conversation{Account: c.account()}
	c.omemoRotate(false) // a new signed prekey first, if one is due
	c.omemoPublishBundle()
	c.pepFetch(c.account(), omemo.DeviceListNode, func(b []byte, err error) {
		var l omemo.DeviceList
		switch {
		case err == nil:
			if l, err = omemo.ParseDeviceList(b); err != nil {
				c.notice(acct, "your published OMEMO device list is damaged; it is replaced by this device alone")
			}
		case err == errPEPNotFound:
		default:
			// A server without PEP: no OMEMO for this account, and
			// nothing to tell the user (contacts get OTR).
			if err != errPEPLost && err != errPEPUnsupported {
				c.notice(acct, "your OMEMO device list could not be read: "+plainErr(err))
			}
			return
		}
		if o.phase == omemoReady {
			c.omemoListSeen(c.account(), l)
		}
	})
}

// omemoRotateEvery: how often a signed-in account checks whether its
// signed prekey is due (omemo/rotate.go: weekly, the old one kept 30 days).
const omemoRotateEvery = time.Hour

// omemoRotate applies the signed prekey rotation at the account's clock;
// a new key is saved, then (publish) published.
func (c *client) omemoRotate(publish bool) {
	o := c.om()
	if o.phase != omemoReady {
		return
	}
	now := c.m.opt.now()
	o.rotateAt = now
	changed, rotated, err := o.st.RotateSignedPreKey(now.UnixMilli())
	if err == nil && changed {
		err = c.omemoSave()
	}
	if err != nil {
		c.notice(Conversation{Account: c.account()}, "a new OMEMO signed prekey could not be made or saved: "+plainErr(err))
		return
	}
	if rotated && publish && c.sess != nil {
		c.omemoPublishBundle()
	}
}

// omemoHousekeeping: the rotation check while signed in.
func (c *client) omemoHousekeeping() {
	if c.omemoOn() && c.sess != nil && c.m.opt.now().Sub(c.om().rotateAt) >= omemoRotateEvery {
		c.omemoRotate(true)
	}
}

func (c *client) omemoPublishBundle() {
	o := c.om()
	c.pepPublish(omemo.BundleNode(o.st.DeviceID()), o.st.Bundle().Marshal(), func(err error) {
		if err != nil && err != errPEPLost && err != errPEPUnsupported {
			c.notice(Conversation{Account: c.account()}, "your OMEMO keys could not be published: "+plainErr(err))
		}
	})
}

// omemoEvent: a notification of a node of owner.
func (c *client) omemoEvent(owner string, it *wire.PubSubItems) {
	if it.Node != omemo.DeviceListNode {
		return
	}
	b := it.Item("current")
	if b == nil {
		b = it.Item("")
	}
	l, err := omemo.ParseDeviceList(b)
	if b == nil || err != nil {
		return
	}
	c.omemoWhenReady(func() { c.omemoListSeen(owner, l) })
}

// omemoFetchList fetches a contact's device list (once at a time).
func (c *client) omemoFetchList(peer string) {
	o := c.om()
	if o.listFetch[peer] {
		return
	}
	o.listFetch[peer] = true
	c.pepFetch(peer, omemo.DeviceListNode, func(b []byte, err error) {
		delete(o.listFetch, peer)
		var l omemo.DeviceList
		if err == nil {
			l, err = omemo.ParseDeviceList(b)
		}
		if err != nil && err != errPEPNotFound {
			// Unknown: a conversation that waits goes on with the
			// list we had; others treat the contact as not using
			// OMEMO for now (a notification may still come).
			c.omemoProbeDone(peer)
			if pc := c.omemoConvOf(peer); pc != nil {
				if s := pc.e2e.(*omemoSession); s.setup && s.peer != nil {
					o.fresh[peer] = true
					c.omemoSetup(pc, s)
				}
			}
			return
		}
		c.omemoListSeen(peer, l)
	})
}

// omemoListSeen records a device list and applies it.
func (c *client) omemoListSeen(owner string, l omemo.DeviceList) {
	o := c.om()
	o.fresh[owner] = true
	prev, had := o.lists[owner]
	if len(prev.Devices) > 0 {
		c.omemoHoldNew(owner, prev, l)
	}
	o.lists[owner] = l
	if owner == c.account() {
		if o.phase == omemoReady && !slices.Contains(l.Devices, o.st.DeviceID()) {
			mine := omemo.DeviceList{Devices: append(slices.Clone(l.Devices), o.st.DeviceID())}
			c.pepPublish(omemo.DeviceListNode, mine.Marshal(), func(err error) {
				switch {
				case err == nil:
					if !slices.Contains(o.lists[owner].Devices, o.st.DeviceID()) {
						c.omemoListSeen(owner, mine) // the notification may come later
					}
				case err != errPEPLost && err != errPEPUnsupported:
					c.notice(Conversation{Account: c.account()},
						"this device could not be added to your OMEMO devices: "+plainErr(err))
				}
			})
		}
		for _, pc := range c.omemoConvs("") {
			c.omemoApplyList(pc, owner, l)
		}
	} else if pc := c.omemoConvOf(owner); pc != nil {
		c.omemoApplyList(pc, owner, l)
	} else if len(l.Devices) > 0 && c.hasConv(owner) && !c.otrPrivate(owner) && !o.off[owner] {
		c.omemoConv(owner)
	}
	c.omemoProbeDone(owner)
	if !had || !slices.Equal(prev.Devices, l.Devices) {
		if err := c.omemoSave(); err != nil {
			c.notice(Conversation{Account: c.account()}, "the OMEMO state could not be saved: "+plainErr(err))
		}
	}
}

// omemoHoldNew applies the rule for devices a contact, or our own
// account, adds after the first list we saw of it (that first list is
// taken as it is, as OTR's first key is): no blind trust. Such a device
// gets no messages until the user verifies or accepts it (SetOMEMOTrust),
// unless Preferences say to trust new devices of unverified contacts; a
// new device of a contact with a verified device always waits. Our own
// account is held to the same rule: someone who learnt the password could
// otherwise add a device and receive a copy of everything sent from here.
func (c *client) omemoHoldNew(owner string, prev, l omemo.DeviceList) {
	o := c.om()
	if o.st == nil {
		return
	}
	own := owner == c.account()
	verified := false
	for _, d := range o.st.Devices(owner) {
		verified = verified || d.Trust == omemo.Verified
	}
	if !verified && c.m.profile.Prefs().OMEMOTrustNewDevices {
		return
	}
	for _, id := range l.Devices {
		a := omemo.Address{JID: owner, Device: id}
		if slices.Contains(prev.Devices, id) || o.held[a.String()] || own && id == o.st.DeviceID() {
			continue
		}
		o.held[a.String()] = true
		n := strconv.FormatUint(uint64(id), 10)
		if own {
			c.notice(Conversation{Account: c.account()}, "your account has a new OMEMO device ("+n+"); "+
				"it gets no copies of the messages you send from here until you verify it (compare its "+
				"fingerprint in the Fingerprints window) or accept it there unverified. If you did not add "+
				"a device, distrust it there and change your password")
			continue
		}
		c.notice(Conversation{Account: c.account(), Peer: owner}, owner+" has a new OMEMO device ("+n+
			"); it gets none of your messages until you verify it "+
			"(compare its fingerprint in the Fingerprints window) or accept it there unverified")
	}
}

// omemoProbeDone releases the conversations that waited for the list:
// they went to OMEMO (omemoConv moved their lines), or they are plain
// again and what was typed meanwhile goes as the policy says.
func (c *client) omemoProbeDone(peer string) {
	o := c.om()
	if !o.probe[peer] {
		return
	}
	delete(o.probe, peer)
	always := c.policyFor(peer) == Always
	for k, pc := range c.convs {
		if k.peer != peer || !pc.refresh || pc.state() != e2ePlain {
			continue
		}
		if _, ok := pc.e2e.(*omemoSession); ok {
			continue
		}
		pc.refresh, pc.refreshSent = false, false
		for i := range pc.queue {
			pc.queue[i].needPrivate = always
		}
		c.flushQueue(pc)
		if len(pc.queue) > 0 && c.sess != nil {
			c.sendQuery(pc, true) // policy Always: OTR it is
		}
	}
}

// omemoFor reports whether messages to peer go through OMEMO.
func (c *client) omemoFor(peer string) bool {
	if !c.omemoOn() {
		return false
	}
	o := c.om()
	if o.phase != omemoReady && o.phase != omemoUnavailable {
		return false
	}
	return len(o.lists[peer].Devices) > 0 && !c.otrPrivate(peer) && !o.off[peer]
}

// otrPrivate: an OTR conversation with peer is private (or finished).
func (c *client) otrPrivate(peer string) bool {
	for k, pc := range c.convs {
		if _, ok := pc.e2e.(*omemoSession); !ok && k.peer == peer && pc.state() != e2ePlain {
			return true
		}
	}
	return false
}

func (c *client) hasConv(peer string) bool {
	for k := range c.convs {
		if k.peer == peer {
			return true
		}
	}
	return false
}

// newSessionFor is the session of a new privConv: OMEMO for the bare
// JID of a contact that uses it, else what newSession makes.
func (c *client) newSessionFor(peer, res string) (e2eSession, error) {
	if res == "" && c.omemoFor(peer) {
		return c.newOMEMOSession(peer), nil
	}
	return c.newSession(peer)
}

func (c *client) newOMEMOSession(peer string) *omemoSession {
	o := c.om()
	s := &omemoSession{c: c, contact: peer, fetching: map[omemo.Address]bool{}, failed: map[omemo.Address]string{}}
	if o.phase == omemoReady {
		s.peer = omemo.NewPeer(o.st, c.account(), peer)
		s.peer.SetDeviceList(c.account(), o.lists[c.account()])
		s.peer.SetDeviceList(peer, o.lists[peer])
		s.peer.Held = func(a omemo.Address) bool { return o.held[a.String()] }
	}
	return s
}

// omemoConvCreated runs for every new privConv (and again for all once
// the state is loaded): an OMEMO one is set up; for another, the
// contact's list is fetched first when it is not known yet.
func (c *client) omemoConvCreated(pc *privConv) {
	if !c.omemoOn() {
		return
	}
	o := c.om()
	peer := pc.key.peer
	if s, ok := pc.e2e.(*omemoSession); ok {
		if s.peer != nil && c.sess != nil {
			c.omemoSetup(pc, s)
		}
		return
	}
	if o.phase == omemoLoading && c.sess != nil && pc.state() == e2ePlain {
		// Whether the contact uses OMEMO is known once the state is
		// there: hold what is typed until then (omemoLoaded).
		pc.refresh, pc.refreshSent = true, true
		o.probe[peer] = true
		return
	}
	if o.phase != omemoReady && o.phase != omemoUnavailable {
		return
	}
	if c.omemoFor(peer) {
		if pc.key.res == "" && !pc.e2e.AnyPrivate() {
			c.omemoConv(peer)
		}
		return
	}
	if o.fresh[peer] || c.sess == nil || pc.state() != e2ePlain || peer == c.account() {
		return
	}
	pc.refresh, pc.refreshSent = true, true
	o.probe[peer] = true
	c.omemoFetchList(peer)
}

// omemoConvOf is the contact's OMEMO privConv, nil if none.
func (c *client) omemoConvOf(peer string) *privConv {
	if pc, ok := c.convs[peerKey{peer, ""}]; ok {
		if _, ok := pc.e2e.(*omemoSession); ok {
			return pc
		}
	}
	return nil
}

// omemoConvs are the OMEMO privConvs (of peer, or all with "").
func (c *client) omemoConvs(peer string) []*privConv {
	var out []*privConv
	for k, pc := range c.convs {
		if _, ok := pc.e2e.(*omemoSession); ok && (peer == "" || k.peer == peer) {
			out = append(out, pc)
		}
	}
	return out
}

// omemoConv is the contact's OMEMO privConv, made (or turned from a plain
// one) if needed, and set up. Lines that wait in the contact's plain
// conversations move to it. nil when the bare JID's conversation is a
// private OTR one.
func (c *client) omemoConv(peer string) *privConv {
	if pc := c.omemoConvOf(peer); pc != nil {
		return pc
	}
	k := peerKey{peer, ""}
	s := c.newOMEMOSession(peer)
	pc := c.convs[k]
	switch {
	case pc == nil:
		pc = &privConv{key: k, e2e: s}
		c.convs[k] = pc
	case pc.e2e.AnyPrivate():
		return nil
	default:
		pc.e2e.Forget()
		pc.e2e = s
	}
	for k2, o := range c.convs {
		if k2.peer != peer || o == pc || o.e2e.AnyPrivate() || len(o.queue) == 0 {
			continue
		}
		for _, q := range o.queue {
			q.needPrivate = true // it waited for privacy, or for this answer
			pc.queue = append(pc.queue, q)
		}
		o.queue = nil
		o.refresh, o.refreshSent = false, false
	}
	if s.peer != nil && c.sess != nil {
		c.omemoSetup(pc, s)
	}
	return pc
}

// omemoStart is Start: fetch what is missing and build the sessions.
func (c *client) omemoStart(s *omemoSession) {
	pc := c.omemoConvOf(s.contact)
	if pc == nil || pc.e2e != s || s.peer == nil || c.sess == nil {
		return
	}
	c.om().fresh[s.contact] = false
	c.omemoSetup(pc, s)
}

// omemoSetup fetches the contact's list when it is not fresh and the
// bundles of devices without a session; until they are all answered, the
// conversation holds what is typed (refresh), then omemoSettled decides.
func (c *client) omemoSetup(pc *privConv, s *omemoSession) {
	o := c.om()
	if !o.fresh[s.contact] {
		s.setup = true
		pc.refresh, pc.refreshSent = true, true
		c.omemoFetchList(s.contact) // omemoListSeen applies it
		return
	}
	for _, l := range []string{c.account(), s.contact} {
		_, fetch := s.peer.SetDeviceList(l, o.lists[l])
		c.omemoFetchBundles(pc, s, fetch)
	}
	if len(s.fetching) > 0 {
		s.setup = true
		pc.refresh, pc.refreshSent = true, true
		return
	}
	c.omemoSettled(pc, s)
}

// omemoApplyList gives a new list of owner to the contact's session and
// says what changed.
func (c *client) omemoApplyList(pc *privConv, owner string, l omemo.DeviceList) {
	s := pc.e2e.(*omemoSession)
	if s.peer == nil {
		return
	}
	changes, fetch := s.peer.SetDeviceList(owner, l)
	conv := c.convID(pc)
	for _, ch := range changes {
		if ch.Address.JID != s.contact {
			continue
		}
		id := strconv.FormatUint(uint64(ch.Address.Device), 10)
		switch {
		case ch.Added && ch.WasPrivate:
			sc := c.omemoSecurity(pc)
			sc.KeyChanged, sc.NewFingerprint = true, true
			sc.Reason = s.contact + " has a new device (" + id + ") that you have not verified: it gets none of " +
				"your messages until you verify it. Check its fingerprint with " + s.contact + " before you trust this conversation again"
			c.m.emit(sc)
		case !ch.Added:
			c.notice(conv, s.contact+" removed a device ("+id+"); it receives nothing more")
		}
	}
	c.omemoFetchBundles(pc, s, fetch)
	if s.setup {
		// The list the setup waited for: our own devices' bundles too.
		_, own := s.peer.SetDeviceList(c.account(), c.om().lists[c.account()])
		c.omemoFetchBundles(pc, s, own)
	}
	if len(s.fetching) > 0 {
		return
	}
	if s.setup {
		c.omemoSettled(pc, s)
		return
	}
	c.omemoReport(pc, "")
}

// omemoFetchBundles fetches the bundles of devices without a session.
func (c *client) omemoFetchBundles(pc *privConv, s *omemoSession, addrs []omemo.Address) {
	var todo []omemo.Address
	for _, a := range addrs {
		if !s.fetching[a] {
			s.fetching[a] = true
			todo = append(todo, a)
		}
	}
	for _, a := range todo {
		c.pepFetch(a.JID, omemo.BundleNode(a.Device), func(b []byte, err error) {
			delete(s.fetching, a)
			if c.convs[pc.key] != pc || pc.e2e != s {
				return // the conversation changed meanwhile
			}
			var bnd *omemo.Bundle
			if err == nil {
				bnd, err = omemo.ParseBundle(b)
			}
			switch {
			case err == nil && c.om().st.HasSession(a):
				// A message from the device built the session while
				// the bundle was on its way: keep that one (a second
				// would make both sides start over).
			case err == nil:
				err = s.peer.AddBundle(a, bnd)
			}
			if err == nil {
				delete(s.failed, a)
				err = c.omemoSave()
			}
			if err != nil {
				s.failed[a] = plainErr(err)
			}
			if len(s.fetching) == 0 {
				c.omemoSettled(pc, s)
			}
		})
	}
}

// omemoSettled: every fetch was answered. The conversation is private
// (send what waited) or no device can be reached (what waited for
// privacy is not sent, and the user is told why).
func (c *client) omemoSettled(pc *privConv, s *omemoSession) {
	if s.setup {
		s.setup = false
		pc.refresh, pc.refreshSent = false, false
	}
	if pc.state() == e2eEncrypted {
		c.omemoReport(pc, "")
		c.flushQueue(pc)
		return
	}
	why := "none of " + s.contact + "'s OMEMO devices can be reached"
	for _, f := range s.failed {
		why += " (" + f + ")"
		break
	}
	c.failQueue(pc, true, "not sent: "+why)
	c.omemoReport(pc, why)
}

// omemoSecurity is an OMEMO conversation's level for the UI.
func (c *client) omemoSecurity(pc *privConv) SecurityChanged {
	s := pc.e2e.(*omemoSession)
	sc := SecurityChanged{Conv: c.convID(pc), Level: NotPrivate, Protocol: "OMEMO"}
	if pc.state() != e2eEncrypted {
		return sc
	}
	switch s.peer.Level() {
	case omemo.Private:
		sc.Level, sc.Verified = Private, true
	case omemo.Unverified:
		sc.Level = Unverified
	}
	return sc
}

// omemoReport emits the conversation's level when it differs from what
// the UI was told (or with a reason).
func (c *client) omemoReport(pc *privConv, reason string) {
	sc := c.omemoSecurity(pc)
	prev := c.m.Security(sc.Conv)
	if reason == "" && prev.Level == sc.Level && prev.Protocol == sc.Protocol {
		return
	}
	if reason == "" {
		switch sc.Level {
		case Private:
			reason = "private conversation (OMEMO): every device of " + pc.key.peer + " is verified"
		case Unverified:
			reason = "private conversation started (OMEMO); " + pc.key.peer + "'s devices are not all verified yet"
		default:
			reason = "the conversation is not private"
		}
	}
	sc.Reason = reason
	c.m.emit(sc)
}

// receiveOMEMO takes a message with an OMEMO element; false if it has
// none (or OMEMO is off).
func (c *client) receiveOMEMO(m *wire.Message, bare, res string) bool {
	if m.OMEMO == nil || !c.omemoOn() {
		return false
	}
	at := c.nowNanos()
	if t, ok := delayStamp(m); ok {
		at = t.UnixNano()
	}
	from := bare
	if res != "" {
		from += "/" + res
	}
	c.omemoWhenReady(func() {
		if c.seenLine(bare, m.ID) { // streammgmt.go: a line sent again, re-encrypted
			c.acknowledge(m, from)
			return
		}
		if c.omemoIncoming(m, bare, bare, m.ID, at, false) {
			c.markLine(bare, m.ID)
			c.acknowledge(m, from) // receipts.go
		}
	})
	return true
}

// carbonOMEMO takes a carbon of an OMEMO message: received by our other
// device from the contact, or sent by it to the contact (from is then our
// own account).
func (c *client) carbonOMEMO(m *wire.Message, fwd *wire.Message) bool {
	if fwd.OMEMO == nil || !c.omemoOn() {
		return false
	}
	other, sent := fwd.From, false
	if m.Sent != nil {
		other, sent = fwd.To, true
	}
	j, err := jid.Parse(other)
	if err != nil || j.Localpart() == "" {
		return true
	}
	contact := j.Bare().String()
	sender := contact
	if sent {
		sender = c.account()
	}
	at := c.nowNanos()
	c.omemoWhenReady(func() { c.omemoIncoming(fwd, contact, sender, fwd.ID, at, sent) })
	return true
}

// omemoIncoming decrypts one OMEMO element sender sent in the
// conversation with contact, saves the state, then shows it. It reports
// whether a line was shown.
func (c *client) omemoIncoming(m *wire.Message, contact, sender, id string, at int64, sent bool) bool {
	conv := Conversation{Account: c.account(), Peer: contact}
	cannot := sender + "'s message could not be decrypted on this device"
	if sent {
		cannot = "a message you sent from another device could not be decrypted on this device"
	}
	o := c.om()
	if o.phase != omemoReady {
		c.notice(conv, cannot+": "+o.why)
		return false
	}
	e, err := omemo.ParseEncrypted(*m.OMEMO)
	if err != nil {
		c.notice(conv, cannot+" (it is malformed)")
		return false
	}
	if sent && e.SID == o.st.DeviceID() {
		return false // our own message echoed back (or a copy of it): nothing new
	}
	pc := c.omemoConvOf(contact)
	if pc == nil && o.off[contact] {
		// Read, though the user talks to this contact with OTR: the
		// session lives outside the conversations (nothing is sent
		// through it but key transport).
		pc = &privConv{key: peerKey{contact, ""}, e2e: c.newOMEMOSession(contact)}
	} else if pc == nil {
		pc = c.omemoConv(contact)
	}
	if pc == nil {
		c.notice(conv, cannot+": the conversation is private with OTR; end it to use OMEMO")
		return false
	}
	s := pc.e2e.(*omemoSession)
	msg, err := s.peer.Receive(e, sender)
	switch {
	case err == omemo.ErrReplay:
		return false // a copy we already showed (a carbon and the message itself)
	case err == omemo.ErrNotForThisDevice && e.Payload == nil:
		return false // key transport for another device
	case err == omemo.ErrNotForThisDevice:
		c.notice(conv, cannot+": it was not encrypted for this device ("+sender+"'s app may not know it yet)")
		return false
	case err == omemo.ErrNoSession && sender == contact && !sent:
		c.notice(conv, cannot+": there is no private session with the sending device (it was lost); "+
			"a new one is offered, so the next messages can be read")
		c.omemoRepair(pc, s, omemo.Address{JID: sender, Device: e.SID}, false)
		return false
	case errors.Is(err, omemo.ErrUndecryptable) && sender == contact && !sent &&
		o.st.HasSession(omemo.Address{JID: sender, Device: e.SID}):
		// In no state of the session we have: the two sides went apart.
		// Seen when a device restored from a backup rebuilt the session
		// from an old prekey message the archive gave it again (mam.go),
		// which its earlier self had answered already.
		c.notice(conv, cannot+": the private session with the sending device no longer matches this one "+
			"(was this device restored from a backup?); a new one is offered, so the next messages can be read")
		c.omemoRepair(pc, s, omemo.Address{JID: sender, Device: e.SID}, true)
		return false
	case err != nil:
		c.notice(conv, cannot+" ("+plainErr(err)+")")
		return false
	}
	if c.mam.taking {
		o.unsaved = true // saved with the page (omemoArchivedSaved)
	} else if err := c.omemoSave(); err != nil {
		c.notice(conv, cannot+": "+plainErr(err))
		return false
	}
	if msg.BundleChanged {
		c.omemoPublishBundle() // a prekey was used: the bundle has a fresh one
	}
	if msg.NewSession && !sent && sender == contact {
		c.omemoKeyTransport(pc, msg.From)
	}
	if msg.Plaintext == nil {
		return false
	}
	text := string(msg.Plaintext)
	level := Unverified
	if msg.Trust == omemo.Verified {
		level = Private
	}
	if msg.Trust == omemo.Distrusted {
		c.notice(conv, "the next line came from a device of "+sender+" that you distrusted")
	}
	if sent {
		c.m.emit(MessageStateChanged{Conv: conv, ID: "carbon-" + id, Body: text, State: SentEncrypted,
			Time: timeFromNanos(at)})
		return true
	}
	c.m.emit(MessageReceived{Conv: conv, Body: text, Encrypted: true, Level: level, Fingerprint: msg.Fingerprint,
		Protocol: "OMEMO", Time: timeFromNanos(at)})
	return true
}

// omemoRepair builds a new session with a device whose session we lost
// (a restored backup, a damaged state) and sends it a key transport
// element, a PreKeySignalMessage, from which it builds the same session:
// its next messages are readable again. Once per device and conversation
// state, so a stream of forged messages costs one fetch.
//
// force builds the new session even though one exists (it no longer
// decrypts what the device sends); the old one stays as a previous state.
func (c *client) omemoRepair(pc *privConv, s *omemoSession, a omemo.Address, force bool) {
	if s.repaired == nil {
		s.repaired = map[omemo.Address]bool{}
	}
	if s.repaired[a] {
		return
	}
	s.repaired[a] = true
	c.pepFetch(a.JID, omemo.BundleNode(a.Device), func(b []byte, err error) {
		if err != nil || c.convs[pc.key] != pc || pc.e2e != s {
			return
		}
		bnd, err := omemo.ParseBundle(b)
		if err == nil && (force || !c.om().st.HasSession(a)) {
			err = c.om().st.BuildSession(a, bnd)
		}
		if err == nil {
			err = c.omemoSave()
		}
		if err != nil {
			c.notice(c.convID(pc), "a new private session could not be offered to "+a.JID+"'s device: "+plainErr(err))
			return
		}
		c.omemoKeyTransport(pc, a)
	})
}

// omemoKeyTransport answers a message that started a session with an
// empty element, so the sender's next messages are ordinary ones.
func (c *client) omemoKeyTransport(pc *privConv, to omemo.Address) {
	o := c.om()
	e, err := o.st.Encrypt(nil, []omemo.Address{to})
	if err != nil {
		return
	}
	if err := c.omemoSave(); err != nil {
		return
	}
	_ = c.sendWire(pc, string(e.Marshal()), true)
}

// omemoStanza turns the body of an OMEMO conversation's message, an
// <encrypted/> element, into the stanza deployed clients send: the
// element, the store hint, the EME marker and a fallback body (none for
// key transport). Only an OMEMO session's output is turned into XML, and
// only when it is exactly what package omemo writes: text a user typed
// never becomes stanza XML. It reports false for a body it must refuse.
func omemoStanza(pc *privConv, m *wire.OutMessage) bool {
	if _, ok := pc.e2e.(*omemoSession); !ok {
		return true
	}
	e, err := omemo.ParseEncrypted([]byte(m.Body))
	if err != nil || string(e.Marshal()) != m.Body {
		return false
	}
	m.Extra = wire.OMEMOElements([]byte(m.Body))
	m.Body = ""
	if e.Payload != nil {
		m.Body = wire.OMEMOFallback
	}
	return true
}

// plainErr is an error's text without its package prefix.
func plainErr(err error) string {
	s := err.Error()
	for _, p := range []string{"account: ", "omemo: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}
