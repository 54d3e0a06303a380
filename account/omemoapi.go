package account

// The OMEMO part of the Manager's API: turning it on, the devices of a
// contact (or of our own account) with their fingerprints and trust,
// verifying or distrusting one, our own devices as the xmpp: URI
// Conversations shows as a QR code (and verifying from such a URI), and
// removing one of our old devices from the published list.

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/sotto-im/sotto/omemo"
)

// WithOMEMO turns OMEMO on: the account publishes its device and a
// contact that publishes OMEMO devices is talked to with OMEMO instead of
// OTR (README). Off by default for now.
func WithOMEMO(on bool) Option { return func(o *options) { o.omemo = on } }

// OMEMOTrust is what the user decided about one OMEMO device.
type OMEMOTrust int

const (
	// OMEMOUndecided: messages go to the device; the contact counts as
	// Unverified while one of its devices is undecided.
	OMEMOUndecided OMEMOTrust = iota
	// OMEMOVerified: the user compared the fingerprint.
	OMEMOVerified
	// OMEMODistrusted: the user rejected the device; nothing is
	// encrypted for it.
	OMEMODistrusted
)

func (t OMEMOTrust) String() string {
	return [...]string{"not verified", "verified", "distrusted"}[t]
}

// OMEMODevice is one OMEMO device of a contact or of our own account.
type OMEMODevice struct {
	JID    string
	Device uint32
	// Fingerprint is 64 lowercase hex digits ("" while its key is not
	// known yet); FormatFingerprint groups it for reading aloud.
	Fingerprint string
	Trust       OMEMOTrust
	// Active: the device is in the list its owner publishes (it gets
	// messages); a device no longer listed is kept for its trust.
	Active     bool
	HasSession bool
	// Held: a device the contact added later that gets no messages
	// until it is verified, or accepted with SetOMEMOTrust(…,
	// OMEMOUndecided) (Prefs.OMEMOTrustNewDevices says when).
	Held bool
	// This is the device Sotto runs as (only in our own list).
	This bool
}

// OMEMOIdentity is this device as others see it.
type OMEMOIdentity struct {
	Device      uint32
	Fingerprint string
	// URI is xmpp:<account>?omemo-sid-<id>=<fingerprint>;… with this
	// device and our other verified ones: show it as a QR code for
	// Conversations to scan, or paste it into VerifyOMEMOURI elsewhere.
	URI string
}

// FormatFingerprint groups an OMEMO fingerprint in eight blocks of eight.
func FormatFingerprint(fp string) string { return omemo.FormatFingerprint(fp) }

var errOMEMOOff = errors.New("account: OMEMO is not on for this account")

// omemoCall runs f in the account's loop with its OMEMO state.
func (m *Manager) omemoCall(ctx context.Context, account string, f func(c *client, o *omemoAccount) error) error {
	return m.accountCall(ctx, account, func(c *client, reply func(error)) {
		o := c.om()
		switch {
		case !c.omemoOn():
			reply(errOMEMOOff)
		case o.phase == omemoUnavailable:
			reply(errors.New("account: " + o.why))
		case o.phase != omemoReady:
			reply(errors.New("account: OMEMO is not loaded yet (it is read when the account signs in)"))
		default:
			reply(f(c, o))
		}
	})
}

// OMEMODevices lists the OMEMO devices of jid (a contact, or account
// itself for our own) that this device knows, by device id.
func (m *Manager) OMEMODevices(ctx context.Context, account, jid string) ([]OMEMODevice, error) {
	var out []OMEMODevice
	err := m.omemoCall(ctx, account, func(c *client, o *omemoAccount) error {
		listed := o.lists[jid].Devices
		seen := map[uint32]bool{}
		for _, d := range o.st.Devices(jid) {
			seen[d.Address.Device] = true
			out = append(out, OMEMODevice{JID: jid, Device: d.Address.Device, Fingerprint: d.Fingerprint,
				Trust: OMEMOTrust(d.Trust), Active: slices.Contains(listed, d.Address.Device), HasSession: d.HasSession,
				Held: o.held[d.Address.String()]})
		}
		for _, id := range listed {
			if !seen[id] && !(jid == account && id == o.st.DeviceID()) {
				out = append(out, OMEMODevice{JID: jid, Device: id, Active: true,
					Held: o.held[omemo.Address{JID: jid, Device: id}.String()]})
			}
		}
		if jid == account {
			out = append(out, OMEMODevice{JID: jid, Device: o.st.DeviceID(), Fingerprint: o.st.Fingerprint(),
				Trust: OMEMOVerified, Active: slices.Contains(listed, o.st.DeviceID()), This: true})
		}
		slices.SortFunc(out, func(a, b OMEMODevice) int { return int(int64(a.Device) - int64(b.Device)) })
		return nil
	})
	return out, err
}

// SetOMEMOTrust records the user's decision about one device of jid.
// fingerprint must be the one the user compared (a key that changed in
// between is never marked verified). Any decision ends the wait of a held
// new device (OMEMODevice.Held): OMEMOUndecided accepts it unverified.
func (m *Manager) SetOMEMOTrust(ctx context.Context, account, jid string, device uint32, fingerprint string, t OMEMOTrust) error {
	return m.omemoCall(ctx, account, func(c *client, o *omemoAccount) error {
		a := omemo.Address{JID: jid, Device: device}
		if err := o.st.SetTrust(a, fingerprint, omemo.Trust(t)); err != nil {
			return err
		}
		// Any decision ends the wait of a new device (omemoHoldNew):
		// verified or accepted it gets messages, distrusted it never does.
		delete(o.held, a.String())
		if err := c.omemoSave(); err != nil {
			return err
		}
		c.omemoTrustChanged(jid, device, t)
		return nil
	})
}

// omemoTrustChanged re-reports the conversation with jid (or all, when
// one of our own devices changed).
func (c *client) omemoTrustChanged(jid string, device uint32, t OMEMOTrust) {
	who := jid + "'s device " + strconv.FormatUint(uint64(device), 10)
	for _, pc := range c.omemoConvs("") {
		if pc.key.peer != jid && jid != c.account() {
			continue
		}
		reason := ""
		if pc.key.peer == jid {
			reason = "you marked " + who + " " + t.String()
		}
		c.omemoReport(pc, reason)
	}
}

// OwnOMEMO is this device's id and fingerprint, and the URI to show.
func (m *Manager) OwnOMEMO(ctx context.Context, account string) (OMEMOIdentity, error) {
	var id OMEMOIdentity
	err := m.omemoCall(ctx, account, func(c *client, o *omemoAccount) error {
		id.Device, id.Fingerprint = o.st.DeviceID(), o.st.Fingerprint()
		devs := []omemo.DeviceFingerprint{{Device: id.Device, Fingerprint: id.Fingerprint}}
		for _, d := range o.st.Devices(account) {
			if d.Trust == omemo.Verified && d.Fingerprint != "" {
				devs = append(devs, omemo.DeviceFingerprint{Device: d.Address.Device, Fingerprint: d.Fingerprint})
			}
		}
		id.URI = omemo.BuildURI(account, devs)
		return nil
	})
	return id, err
}

// VerifyOMEMOURI marks verified every device in a scanned or pasted
// xmpp: URI whose fingerprint matches the key this device knows for it.
// It returns how many were verified; a device whose key differs is an
// error (and is left as it was).
func (m *Manager) VerifyOMEMOURI(ctx context.Context, account, uri string) (int, error) {
	j, devs, err := omemo.ParseURI(uri)
	if err != nil {
		return 0, err
	}
	bare, ok := bareJID(j)
	if !ok {
		return 0, errBadContact(j)
	}
	n := 0
	err = m.omemoCall(ctx, account, func(c *client, o *omemoAccount) error {
		var bad error
		for _, d := range devs {
			a := omemo.Address{JID: bare, Device: d.Device}
			if err := o.st.SetTrust(a, d.Fingerprint, omemo.Verified); err != nil {
				bad = errors.New("account: device " + strconv.FormatUint(uint64(d.Device), 10) + " of " + bare +
					" does not have the fingerprint in that code, or is not known yet: it was not verified")
				continue
			}
			delete(o.held, a.String())
			n++
		}
		if n > 0 {
			if err := c.omemoSave(); err != nil {
				return err
			}
			for _, d := range devs {
				c.omemoTrustChanged(bare, d.Device, OMEMOVerified)
			}
		}
		return bad
	})
	return n, err
}

// RemoveOMEMODevice removes one of our other devices from the published
// list (a lost phone, an old installation): contacts stop encrypting to
// it. A device that is still running adds itself back when it signs in.
func (m *Manager) RemoveOMEMODevice(ctx context.Context, account string, device uint32) error {
	return m.omemoCall(ctx, account, func(c *client, o *omemoAccount) error {
		if device == o.st.DeviceID() {
			return errors.New("account: this device cannot remove itself")
		}
		if c.sess == nil {
			return errNotConnected
		}
		cur := o.lists[account].Devices
		l := omemo.DeviceList{Devices: slices.DeleteFunc(slices.Clone(cur), func(id uint32) bool { return id == device })}
		c.pepPublish(omemo.DeviceListNode, l.Marshal(), func(err error) {
			if err != nil {
				c.notice(Conversation{Account: account}, "the device could not be removed: "+plainErr(err))
			}
		})
		return nil
	})
}

// UseOMEMO chooses the protocol for one contact: false talks to it with
// OTR even though it publishes OMEMO devices (its OMEMO messages are still
// read); true (the default) uses OMEMO whenever it publishes devices (a
// private OTR conversation with it is kept until it ends).
func (m *Manager) UseOMEMO(ctx context.Context, account, contact string, use bool) error {
	peer, ok := bareJID(contact)
	if !ok {
		return errBadContact(contact)
	}
	return m.omemoCall(ctx, account, func(c *client, o *omemoAccount) error {
		if o.off[peer] == !use {
			return nil
		}
		if use {
			delete(o.off, peer)
		} else {
			o.off[peer] = true
		}
		if err := c.omemoSave(); err != nil {
			return err
		}
		pc := c.omemoConvOf(peer)
		switch {
		case !use && pc != nil:
			s, err := c.newSession(peer)
			if err != nil {
				return err
			}
			pc.e2e = s
			c.emitSecurity(pc, "OTR is used with "+peer+" from now on")
		case use && c.hasConv(peer) && c.omemoFor(peer):
			c.omemoConv(peer)
		}
		return nil
	})
}

// UsesOMEMO reports the choice UseOMEMO made for contact (true unless it
// was switched off).
func (m *Manager) UsesOMEMO(ctx context.Context, account, contact string) (bool, error) {
	use := false
	err := m.omemoCall(ctx, account, func(c *client, o *omemoAccount) error {
		use = !o.off[contact]
		return nil
	})
	return use, err
}
