package omemo

import (
	"errors"
	"slices"
)

// Peer is OMEMO with one contact, shaped for the account loop's e2e
// seam: it knows the devices the contact and our own account publish,
// decides which of them a message goes to, and says how private the
// conversation is. It does no I/O — the loop feeds it device lists and
// bundles and puts what it returns on the wire — and it keeps no secret
// of its own: keys and sessions are in the Store, which several Peers
// may share. Not safe for concurrent use.
type Peer struct {
	st      *Store
	own     string
	contact string
	lists   map[string][]uint32 // bare JID → its published device ids
	// Held, if set, names devices that get no messages for now although
	// they are listed and not distrusted: new devices the user has not
	// accepted yet (the caller's rule; no blind trust of new devices).
	Held func(Address) bool
}

func (p *Peer) held(a Address) bool { return p.Held != nil && p.Held(a) }

// NewPeer makes the Peer for contact, for the account own, over st.
func NewPeer(st *Store, own, contact string) *Peer {
	return &Peer{st: st, own: own, contact: contact, lists: map[string][]uint32{}}
}

// Level is how private the conversation with the contact is.
type Level int

const (
	// NotPrivate: no device of the contact can be encrypted to (none
	// published, none with a session, or all distrusted).
	NotPrivate Level = iota
	// Unverified: messages are encrypted, but some device of the contact
	// that receives them is not verified.
	Unverified
	// Private: every published device of the contact is verified (or
	// distrusted, and so receives nothing), and at least one is verified
	// with a session.
	Private
)

// DeviceChange is what a new device list changed.
type DeviceChange struct {
	Address Address
	Added   bool // false: the device left the list and receives nothing more
	// WasPrivate: the conversation was Private before this list came; a
	// new device then is announced as loudly as a changed key.
	WasPrivate bool
}

// SetDeviceList records the device list jid published (the contact's or
// our own account's). It returns what changed and the devices that have
// no session yet: fetch their bundles and give them to AddBundle. Our own
// device is never among them.
func (p *Peer) SetDeviceList(jid string, l DeviceList) (changes []DeviceChange, fetch []Address) {
	if jid != p.own && jid != p.contact {
		return nil, nil
	}
	was := p.Level() == Private
	old := p.lists[jid]
	var now []uint32
	for _, id := range l.Devices {
		if jid == p.own && id == p.st.DeviceID() {
			continue
		}
		now = append(now, id)
		a := Address{JID: jid, Device: id}
		if !slices.Contains(old, id) {
			changes = append(changes, DeviceChange{Address: a, Added: true, WasPrivate: was})
		}
		if !p.st.HasSession(a) && p.trust(a) != Distrusted {
			fetch = append(fetch, a)
		}
	}
	for _, id := range old {
		if !slices.Contains(now, id) {
			changes = append(changes, DeviceChange{Address: Address{JID: jid, Device: id}, WasPrivate: was})
		}
	}
	p.lists[jid] = now
	return changes, fetch
}

// AddBundle builds the session with a listed device from its bundle.
func (p *Peer) AddBundle(a Address, b *Bundle) error {
	if !slices.Contains(p.lists[a.JID], a.Device) {
		return errors.New("omemo: that device is not in the published list")
	}
	return p.st.BuildSession(a, b)
}

func (p *Peer) trust(a Address) Trust {
	if d := p.st.devices[a.String()]; d != nil {
		return d.trust
	}
	return Undecided
}

// Recipients are the devices a message goes to now: every listed device
// of the contact and of our own account (but this one) that has a session
// and is neither distrusted nor held.
func (p *Peer) Recipients() []Address {
	var out []Address
	for _, jid := range []string{p.contact, p.own} {
		for _, id := range p.lists[jid] {
			a := Address{JID: jid, Device: id}
			if p.st.HasSession(a) && p.trust(a) != Distrusted && !p.held(a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// Pending are listed devices (the contact's and our own) that would
// receive messages but have no session yet: their bundles are missing.
func (p *Peer) Pending() []Address {
	var out []Address
	for _, jid := range []string{p.contact, p.own} {
		for _, id := range p.lists[jid] {
			a := Address{JID: jid, Device: id}
			if !p.st.HasSession(a) && p.trust(a) != Distrusted && !p.held(a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// Level applies the rule: Private only when every listed device of the
// contact is verified or distrusted and one verified device has a
// session. (Our own other devices are not part of the rule; Devices
// shows them with their trust.)
func (p *Peer) Level() Level {
	level := Private
	reachable := false
	for _, id := range p.lists[p.contact] {
		a := Address{JID: p.contact, Device: id}
		t := p.trust(a)
		switch {
		case t == Distrusted:
		case t == Verified && p.st.HasSession(a):
			reachable = true
		case p.held(a):
			level = Unverified // it gets nothing, but the user has not decided
		default:
			if p.st.HasSession(a) {
				reachable = true
			}
			level = Unverified
		}
	}
	if !reachable {
		return NotPrivate
	}
	return level
}

// ErrNoDevice: the contact has no device a message can be encrypted for.
var ErrNoDevice = errors.New("omemo: the contact has no OMEMO device this message can be encrypted for")

// Send encrypts text for Recipients. The caller checks Level and Pending
// first: whether to wait for a missing bundle is its rule.
func (p *Peer) Send(text string) (*Encrypted, error) {
	rs := p.Recipients()
	if !slices.ContainsFunc(rs, func(a Address) bool { return a.JID == p.contact }) {
		return nil, ErrNoDevice
	}
	return p.st.Encrypt([]byte(text), rs)
}

// Receive decrypts an element the contact sent, or that our own other
// device sent to the contact (a carbon: from is then our own JID).
func (p *Peer) Receive(e *Encrypted, from string) (*Message, error) {
	if from != p.contact && from != p.own {
		return nil, errors.New("omemo: the message is not from this conversation")
	}
	return p.st.Decrypt(e, from)
}
