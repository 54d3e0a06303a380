package omemo

import (
	"bytes"
	"context"

	"go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/state/record"
)

// signalStore adapts a Store to the store interfaces go.mau.fi/libsignal
// calls into. Two of the library's traps are closed here:
//
//   - LoadSession deserializes a fresh record on every call (never a
//     shared pointer, never nil), so whatever the library does to a
//     record it loaded stays out of the Store until StoreSession.
//   - SaveIdentity does nothing: the session builder calls it before the
//     message it processes has been authenticated, so Store saves
//     identities itself, once a message or bundle has been accepted.
//
// Sessions are keyed by Address.String(), never by pointer.
type signalStore struct{ s *Store }

// IdentityKey

func (a signalStore) GetIdentityKeyPair() *identity.KeyPair { return a.s.identity }
func (a signalStore) GetLocalRegistrationID() uint32        { return a.s.registrationID }

func (a signalStore) SaveIdentity(context.Context, *protocol.SignalAddress, *identity.Key) error {
	return nil
}

// IsTrustedIdentity binds an identity key to a device on first use: a
// device we know may not switch keys. (Whether the user trusts the key
// is a separate decision, Trust, which the account layer acts on.)
func (a signalStore) IsTrustedIdentity(_ context.Context, addr *protocol.SignalAddress, key *identity.Key) (bool, error) {
	d := a.s.devices[addr.String()]
	if d == nil || d.identity == nil {
		return true, nil
	}
	return key != nil && bytes.Equal(d.identity, key.Serialize()), nil
}

// PreKey

func (a signalStore) LoadPreKey(_ context.Context, id uint32) (*record.PreKey, error) {
	return a.s.preKeys[id], nil // nil: the builder reports the key missing
}

func (a signalStore) StorePreKey(_ context.Context, id uint32, r *record.PreKey) error {
	a.s.preKeys[id] = r
	return nil
}

func (a signalStore) ContainsPreKey(_ context.Context, id uint32) (bool, error) {
	return a.s.preKeys[id] != nil, nil
}

func (a signalStore) RemovePreKey(_ context.Context, id uint32) error {
	delete(a.s.preKeys, id)
	return nil
}

// SignedPreKey

func (a signalStore) LoadSignedPreKey(_ context.Context, id uint32) (*record.SignedPreKey, error) {
	return a.s.signedPreKeyByID(id), nil // rotate.go: the current one or a kept one
}

func (a signalStore) LoadSignedPreKeys(context.Context) ([]*record.SignedPreKey, error) {
	out := []*record.SignedPreKey{a.s.signedPreKey}
	for _, o := range a.s.oldSignedPreKeys {
		out = append(out, o.rec)
	}
	return out, nil
}

func (a signalStore) StoreSignedPreKey(_ context.Context, _ uint32, r *record.SignedPreKey) error {
	a.s.signedPreKey = r
	return nil
}

func (a signalStore) ContainsSignedPreKey(_ context.Context, id uint32) (bool, error) {
	return a.s.signedPreKeyByID(id) != nil, nil
}

func (a signalStore) RemoveSignedPreKey(context.Context, uint32) error { return nil }

// Session

func (a signalStore) LoadSession(_ context.Context, addr *protocol.SignalAddress) (*record.Session, error) {
	return a.s.loadRecord(addr.String())
}

func (a signalStore) GetSubDeviceSessions(_ context.Context, name string) ([]uint32, error) {
	var ids []uint32
	for _, d := range a.s.devices {
		if d.addr.JID == name && d.session != nil {
			ids = append(ids, d.addr.Device)
		}
	}
	return ids, nil
}

func (a signalStore) StoreSession(_ context.Context, addr *protocol.SignalAddress, r *record.Session) error {
	a.s.device(Address{JID: addr.Name(), Device: addr.DeviceID()}).session = r.Serialize()
	return nil
}

func (a signalStore) ContainsSession(_ context.Context, addr *protocol.SignalAddress) (bool, error) {
	d := a.s.devices[addr.String()]
	return d != nil && d.session != nil, nil
}

func (a signalStore) DeleteSession(_ context.Context, addr *protocol.SignalAddress) error {
	if d := a.s.devices[addr.String()]; d != nil {
		d.session = nil
	}
	return nil
}

func (a signalStore) DeleteAllSessions(context.Context) error {
	for _, d := range a.s.devices {
		d.session = nil
	}
	return nil
}

// loadRecord deserializes the device's session record afresh, or returns
// a new empty record if there is none.
func (s *Store) loadRecord(key string) (*record.Session, error) {
	d := s.devices[key]
	if d == nil || d.session == nil {
		return record.NewSession(s.ser.Session, s.ser.State), nil
	}
	return record.NewSessionFromBytes(d.session, s.ser.Session, s.ser.State)
}
