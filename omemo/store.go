package omemo

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/serialize"
	"go.mau.fi/libsignal/state/record"
)

// Address names one device of one user.
type Address struct {
	JID    string // the bare JID, normalised by the caller
	Device uint32
}

// String is the key sessions and identities are stored under. It is
// libsignal's form (name:device); the device id is decimal, so the last
// colon splits it even for a JID with colons.
func (a Address) String() string { return a.signal().String() }

func (a Address) signal() *protocol.SignalAddress { return protocol.NewSignalAddress(a.JID, a.Device) }

// Trust is what the user decided about a device's identity key.
type Trust int

const (
	Undecided  Trust = iota // seen, not verified: messages flow, the contact shows as Unverified
	Verified                // the user compared the fingerprint
	Distrusted              // the user rejected the key: nothing is encrypted for the device
)

// PreKeyCount is how many one-time prekeys the store keeps published.
const PreKeyCount = 100

const (
	storeVersion      = 1
	signedPreKeyID    = 1
	maxRegistrationID = 16380
)

// Store is one device's OMEMO state: our identity key pair, device and
// registration ids, signed prekey, one-time prekeys, and for every
// remote device its identity key, the user's trust decision and the
// Signal session.
//
// The account layer keeps it encrypted at rest: call Marshal after every
// call that changes it (NewStore, BuildSession, Encrypt, Decrypt,
// SetTrust, Forget) and save the bytes before the result goes on the
// wire or is shown, so a crash never leaves a sent message's ratchet
// step unsaved.
//
// A Store is not safe for concurrent use.
type Store struct {
	deviceID       uint32
	registrationID uint32
	identity       *identity.KeyPair
	signedPreKey   *record.SignedPreKey
	// oldSignedPreKeys: replaced ones still kept (rotate.go), oldest first.
	oldSignedPreKeys []oldSignedPreKey
	preKeys          map[uint32]*record.PreKey
	nextPreKeyID     uint32
	devices          map[string]*device // by Address.String()
	ser              *serialize.Serializer
}

type device struct {
	addr     Address
	identity []byte // 33 bytes; nil while unknown
	trust    Trust
	session  []byte // libsignal's serialized session record; nil if none
}

// NewStore generates a new device: identity key, ids, signed prekey and
// PreKeyCount prekeys, all from crypto/rand.
func NewStore() (*Store, error) {
	s := &Store{
		preKeys:      map[uint32]*record.PreKey{},
		devices:      map[string]*device{},
		nextPreKeyID: 1,
		ser:          serialize.NewProtoBufSerializer(),
	}
	var err error
	if s.deviceID, err = randomID(maxDeviceID); err != nil {
		return nil, err
	}
	if s.registrationID, err = randomID(maxRegistrationID); err != nil {
		return nil, err
	}
	kp, err := ecc.GenerateKeyPair()
	if err != nil {
		return nil, fmt.Errorf("omemo: generating the identity key: %w", err)
	}
	s.identity = identity.NewKeyPair(identity.NewKey(kp.PublicKey()), kp.PrivateKey())
	spk, err := ecc.GenerateKeyPair()
	if err != nil {
		return nil, fmt.Errorf("omemo: generating the signed prekey: %w", err)
	}
	sig := ecc.CalculateSignature(s.identity.PrivateKey(), spk.PublicKey().Serialize())
	// Timestamp 0: the package does not read the clock; the first
	// RotateSignedPreKey stamps it (rotate.go).
	s.signedPreKey = record.NewSignedPreKey(signedPreKeyID, 0, spk, sig, s.ser.SignedPreKeyRecord)
	if err := s.refill(); err != nil {
		return nil, err
	}
	return s, nil
}

// randomID returns a uniform id in 1..max from crypto/rand.
func randomID(max uint32) (uint32, error) {
	var b [4]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, fmt.Errorf("omemo: reading randomness: %w", err)
		}
		// Rejection sampling over the smallest power-of-two mask.
		mask := uint32(1)
		for mask < max {
			mask = mask<<1 | 1
		}
		v := binary.BigEndian.Uint32(b[:]) & mask
		if v >= 1 && v <= max {
			return v, nil
		}
	}
}

// refill tops the one-time prekeys up to PreKeyCount, with fresh ids.
func (s *Store) refill() error {
	for len(s.preKeys) < PreKeyCount {
		id := s.nextPreKeyID
		s.nextPreKeyID++
		if s.nextPreKeyID > maxPreKeyID {
			s.nextPreKeyID = 1
		}
		if _, used := s.preKeys[id]; used {
			continue
		}
		kp, err := ecc.GenerateKeyPair()
		if err != nil {
			return fmt.Errorf("omemo: generating a prekey: %w", err)
		}
		s.preKeys[id] = record.NewPreKey(id, kp, s.ser.PreKeyRecord)
	}
	return nil
}

// DeviceID is this device's OMEMO id (1..2³¹−1), published in the device list.
func (s *Store) DeviceID() uint32 { return s.deviceID }

// IdentityKey is our public identity key, 33 bytes.
func (s *Store) IdentityKey() []byte { return s.identity.PublicKey().Serialize() }

// Fingerprint is our identity key's fingerprint, 64 hex digits.
func (s *Store) Fingerprint() string { return Fingerprint(s.IdentityKey()) }

// Bundle is what to publish at BundleNode(DeviceID()).
func (s *Store) Bundle() *Bundle {
	sig := s.signedPreKey.Signature()
	b := &Bundle{
		SignedPreKeyID:        s.signedPreKey.ID(),
		SignedPreKey:          s.signedPreKey.KeyPair().PublicKey().Serialize(),
		SignedPreKeySignature: append([]byte(nil), sig[:]...),
		IdentityKey:           s.IdentityKey(),
	}
	for _, id := range sortedIDs(s.preKeys) {
		b.PreKeys = append(b.PreKeys, PreKey{ID: id, Key: s.preKeys[id].KeyPair().PublicKey().Serialize()})
	}
	return b
}

func sortedIDs(m map[uint32]*record.PreKey) []uint32 {
	ids := make([]uint32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// DeviceInfo describes a remote device as the store knows it.
type DeviceInfo struct {
	Address     Address
	Fingerprint string // "" while the key is unknown
	Trust       Trust
	HasSession  bool
}

// Devices lists the devices of jid the store knows, by device id.
func (s *Store) Devices(jid string) []DeviceInfo {
	var out []DeviceInfo
	for _, d := range s.devices {
		if d.addr.JID != jid {
			continue
		}
		info := DeviceInfo{Address: d.addr, Trust: d.trust, HasSession: d.session != nil}
		if d.identity != nil {
			info.Fingerprint = Fingerprint(d.identity)
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address.Device < out[j].Address.Device })
	return out
}

// HasSession reports whether messages can be encrypted for the device.
func (s *Store) HasSession(a Address) bool {
	d := s.devices[a.String()]
	return d != nil && d.session != nil
}

// SetTrust records the user's decision about a device's key. The
// fingerprint must be the one the user saw, so a key that changed in
// between is never marked verified.
func (s *Store) SetTrust(a Address, fingerprint string, t Trust) error {
	d := s.devices[a.String()]
	if d == nil || d.identity == nil || t < Undecided || t > Distrusted {
		return ErrUnknownDevice
	}
	want, err := ParseFingerprint(fingerprint)
	if err != nil || subtle.ConstantTimeCompare(want, d.identity[1:]) != 1 {
		return ErrUnknownDevice
	}
	d.trust = t
	return nil
}

// Forget drops everything known about a device: its key, trust and
// session (e.g. after the user accepts a changed key).
func (s *Store) Forget(a Address) { delete(s.devices, a.String()) }

func (s *Store) device(a Address) *device {
	k := a.String()
	d := s.devices[k]
	if d == nil {
		d = &device{addr: a}
		s.devices[k] = d
	}
	return d
}

// Stored form. Keys are raw bytes (base64 in the JSON); sessions are
// libsignal's own JSON records, kept opaque.
type storedState struct {
	Version         int                `json:"version"`
	DeviceID        uint32             `json:"device_id"`
	RegistrationID  uint32             `json:"registration_id"`
	IdentityPrivate []byte             `json:"identity_private"`
	IdentityPublic  []byte             `json:"identity_public"`
	SignedPreKey    storedSignedPreKey `json:"signed_prekey"`
	// Replaced signed prekeys still kept (rotate.go); absent before rotation.
	OldSignedPreKeys []storedSignedPreKey `json:"old_signed_prekeys,omitempty"`
	PreKeys          []storedPreKey       `json:"prekeys"`
	NextPreKeyID     uint32               `json:"next_prekey_id"`
	Devices          []storedDevice       `json:"devices"`
}

type storedSignedPreKey struct {
	ID        uint32 `json:"id"`
	Private   []byte `json:"private"`
	Public    []byte `json:"public"`
	Signature []byte `json:"signature"`
	Timestamp int64  `json:"timestamp,omitempty"` // made at (Unix ms); 0: unknown
	Retired   int64  `json:"retired,omitempty"`   // replaced at (Unix ms); old ones only
}

func storeSignedPreKey(r *record.SignedPreKey, retired int64) storedSignedPreKey {
	priv := r.KeyPair().PrivateKey().Serialize()
	sig := r.Signature()
	return storedSignedPreKey{ID: r.ID(), Private: priv[:], Public: r.KeyPair().PublicKey().Serialize(),
		Signature: sig[:], Timestamp: r.Timestamp(), Retired: retired}
}

// loadSignedPreKey checks one stored signed prekey: its key pair, and its
// signature by the identity key.
func (s *Store) loadSignedPreKey(st storedSignedPreKey, identity ecc.ECPublicKeyable) (*record.SignedPreKey, error) {
	if st.ID == 0 || st.ID > maxPreKeyID || st.Timestamp < 0 || st.Retired < 0 {
		return nil, errBadState("a signed prekey id or time is out of range")
	}
	spk, err := loadKeyPair("signed prekey", st.Private, st.Public)
	if err != nil {
		return nil, err
	}
	if len(st.Signature) != signatureLen {
		return nil, errBadState("the signed prekey signature is not 64 bytes")
	}
	var sig [64]byte
	copy(sig[:], st.Signature)
	if !ecc.VerifySignature(identity, st.Public, sig) {
		return nil, errBadState("the signed prekey signature does not verify")
	}
	return record.NewSignedPreKey(st.ID, st.Timestamp, spk, sig, s.ser.SignedPreKeyRecord), nil
}

type storedPreKey struct {
	ID      uint32 `json:"id"`
	Private []byte `json:"private"`
	Public  []byte `json:"public"`
}

type storedDevice struct {
	JID      string `json:"jid"`
	Device   uint32 `json:"device"`
	Identity []byte `json:"identity,omitempty"`
	Trust    Trust  `json:"trust"`
	Session  []byte `json:"session,omitempty"`
}

// Marshal serializes the whole store, private keys included. The bytes
// are secret: the caller encrypts them before they touch a disk.
func (s *Store) Marshal() ([]byte, error) {
	priv := s.identity.PrivateKey().Serialize()
	st := storedState{
		Version:         storeVersion,
		DeviceID:        s.deviceID,
		RegistrationID:  s.registrationID,
		IdentityPrivate: priv[:],
		IdentityPublic:  s.IdentityKey(),
		SignedPreKey:    storeSignedPreKey(s.signedPreKey, 0),
		NextPreKeyID:    s.nextPreKeyID,
	}
	for _, o := range s.oldSignedPreKeys {
		st.OldSignedPreKeys = append(st.OldSignedPreKeys, storeSignedPreKey(o.rec, o.retired))
	}
	for _, id := range sortedIDs(s.preKeys) {
		kp := s.preKeys[id].KeyPair()
		p := kp.PrivateKey().Serialize()
		st.PreKeys = append(st.PreKeys, storedPreKey{ID: id, Private: p[:], Public: kp.PublicKey().Serialize()})
	}
	keys := make([]string, 0, len(s.devices))
	for k := range s.devices {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d := s.devices[k]
		st.Devices = append(st.Devices, storedDevice{JID: d.addr.JID, Device: d.addr.Device,
			Identity: d.identity, Trust: d.trust, Session: d.session})
	}
	return json.Marshal(st)
}

// UnmarshalStore reads what Marshal wrote. Every key is checked (each
// public key must be the one its private key gives, the signed prekey's
// signature must verify) and every session record must load, so a
// damaged state is refused here rather than failing mid-conversation.
func UnmarshalStore(b []byte) (s *Store, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, errBadState("a record could not be read")
		}
	}()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var st storedState
	if err := dec.Decode(&st); err != nil {
		return nil, errBadState("it is not valid JSON")
	}
	if dec.More() {
		return nil, errBadState("it has trailing data")
	}
	if st.Version != storeVersion {
		return nil, errBadState(fmt.Sprintf("version %d is not %d", st.Version, storeVersion))
	}
	if st.DeviceID == 0 || st.DeviceID > maxDeviceID {
		return nil, errBadState("the device id is out of range")
	}
	if st.RegistrationID == 0 || st.RegistrationID > maxRegistrationID {
		return nil, errBadState("the registration id is out of range")
	}
	if st.NextPreKeyID == 0 || st.NextPreKeyID > maxPreKeyID {
		return nil, errBadState("the next prekey id is out of range")
	}
	s = &Store{
		deviceID:       st.DeviceID,
		registrationID: st.RegistrationID,
		preKeys:        map[uint32]*record.PreKey{},
		devices:        map[string]*device{},
		nextPreKeyID:   st.NextPreKeyID,
		ser:            serialize.NewProtoBufSerializer(),
	}
	kp, err := loadKeyPair("identity key", st.IdentityPrivate, st.IdentityPublic)
	if err != nil {
		return nil, err
	}
	s.identity = identity.NewKeyPair(identity.NewKey(kp.PublicKey()), kp.PrivateKey())
	if st.SignedPreKey.Retired != 0 {
		return nil, errBadState("the current signed prekey is marked replaced")
	}
	if s.signedPreKey, err = s.loadSignedPreKey(st.SignedPreKey, kp.PublicKey()); err != nil {
		return nil, err
	}
	if len(st.OldSignedPreKeys) > maxOldSignedPreKeys {
		return nil, errBadState("it keeps too many replaced signed prekeys")
	}
	for _, o := range st.OldSignedPreKeys {
		if s.signedPreKeyByID(o.ID) != nil || o.Retired == 0 {
			return nil, errBadState("a replaced signed prekey is repeated or has no time")
		}
		r, err := s.loadSignedPreKey(o, kp.PublicKey())
		if err != nil {
			return nil, err
		}
		s.oldSignedPreKeys = append(s.oldSignedPreKeys, oldSignedPreKey{rec: r, retired: o.Retired})
	}
	if len(st.PreKeys) > maxPreKeys {
		return nil, errBadState("it has too many prekeys")
	}
	for _, p := range st.PreKeys {
		if p.ID == 0 || p.ID > maxPreKeyID || s.preKeys[p.ID] != nil {
			return nil, errBadState("a prekey id is out of range or repeated")
		}
		pkp, err := loadKeyPair("prekey", p.Private, p.Public)
		if err != nil {
			return nil, err
		}
		s.preKeys[p.ID] = record.NewPreKey(p.ID, pkp, s.ser.PreKeyRecord)
	}
	for _, sd := range st.Devices {
		if err := s.loadDevice(sd); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Store) loadDevice(sd storedDevice) error {
	a := Address{JID: sd.JID, Device: sd.Device}
	if a.JID == "" || a.Device == 0 || a.Device > maxDeviceID {
		return errBadState("a device address is invalid")
	}
	if s.devices[a.String()] != nil {
		return errBadState("a device appears twice")
	}
	if sd.Identity != nil && (len(sd.Identity) != keyLen || sd.Identity[0] != djbType) {
		return errBadState("a device's identity key is not 33 bytes")
	}
	if sd.Trust < Undecided || sd.Trust > Distrusted {
		return errBadState("a device's trust is out of range")
	}
	if sd.Session != nil {
		if sd.Identity == nil {
			return errBadState("a session has no identity key")
		}
		rec, err := record.NewSessionFromBytes(sd.Session, s.ser.Session, s.ser.State)
		if err != nil {
			return errBadState("a session record could not be read")
		}
		if err := checkRecord(rec, sd.Identity); err != nil {
			return err
		}
	}
	s.devices[a.String()] = &device{addr: a, identity: sd.Identity, trust: sd.Trust, session: sd.Session}
	return nil
}

// checkRecord refuses a session record whose current state is not a
// working session with the device's recorded identity key.
func checkRecord(rec *record.Session, ident []byte) error {
	st := rec.SessionState()
	if st == nil || !st.HasSenderChain() || st.RemoteIdentityKey() == nil ||
		!bytes.Equal(st.RemoteIdentityKey().Serialize(), ident) {
		return errBadState("a session record is not a working session with the device's key")
	}
	return nil
}

func loadKeyPair(what string, priv, pub []byte) (*ecc.ECKeyPair, error) {
	if len(priv) != 32 || len(pub) != keyLen || pub[0] != djbType {
		return nil, errBadState("the " + what + " has the wrong size")
	}
	kp := ecc.CreateKeyPair(priv) // clamps and derives the public key
	got := kp.PublicKey().Serialize()
	if !bytes.Equal(got, pub) {
		return nil, errBadState("the " + what + "'s public part does not match its private part")
	}
	return kp, nil
}

// ErrBadState is wrapped by UnmarshalStore's errors.
var ErrBadState = errors.New("omemo: the saved encryption state is damaged")

func errBadState(detail string) error { return fmt.Errorf("%w (%s)", ErrBadState, detail) }
