package omemo

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/keys/prekey"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/session"
	"go.mau.fi/libsignal/signalerror"
	"go.mau.fi/libsignal/state/record"
	"go.mau.fi/libsignal/util/optional"
)

// OMEMO's payload encryption (XEP-0384 0.3 as deployed): AES-128-GCM with
// a random 16-byte key and 12-byte IV; the <payload> is the ciphertext
// without the tag, and each device's Signal message carries key ‖ tag
// (32 bytes).
const (
	aesKeyLen  = 16
	gcmTagLen  = 16
	keyMatLen  = aesKeyLen + gcmTagLen
	archiveMax = 40 // previous session states kept, as libsignal does
)

// BuildSession starts a session with a remote device from its published
// bundle, using one of its prekeys chosen at random. The first message
// Encrypt produces for the device is then a PreKeySignalMessage. A
// session that existed is kept as a previous state, so its late messages
// still decrypt.
func (s *Store) BuildSession(a Address, b *Bundle) (err error) {
	if a.JID == "" || a.Device == 0 || a.Device > maxDeviceID {
		return malformed("the device address is invalid")
	}
	if b == nil {
		return malformed("there is no bundle")
	}
	if d := s.devices[a.String()]; d != nil && d.identity != nil && !bytes.Equal(d.identity, b.IdentityKey) {
		return ErrKeyChanged
	}
	// ParseBundle checked these; a Bundle built in code may not have been.
	for _, k := range [][]byte{b.IdentityKey, b.SignedPreKey} {
		if err := checkPoint("key", k); err != nil {
			return err
		}
	}
	if len(b.SignedPreKeySignature) != signatureLen {
		return malformed("the signed prekey signature is not 64 bytes")
	}
	var sig [64]byte
	copy(sig[:], b.SignedPreKeySignature)
	ik := identity.NewKey(ecc.NewDjbECPublicKey([32]byte(b.IdentityKey[1:])))
	spk := ecc.NewDjbECPublicKey([32]byte(b.SignedPreKey[1:]))
	if !ecc.VerifySignature(ik.PublicKey(), b.SignedPreKey, sig) {
		return ErrBadSignature
	}
	preKeyID := optional.NewEmptyUint32()
	var preKey ecc.ECPublicKeyable
	if n := len(b.PreKeys); n > 0 {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
		if err != nil {
			return fmt.Errorf("omemo: reading randomness: %w", err)
		}
		p := b.PreKeys[i.Int64()]
		if p.ID == 0 || p.ID > maxPreKeyID {
			return malformed("a prekey id is out of range")
		}
		if err := checkPoint("prekey", p.Key); err != nil {
			return err
		}
		preKeyID = optional.NewOptionalUint32(p.ID)
		preKey = ecc.NewDjbECPublicKey([32]byte(p.Key[1:]))
	}
	// OMEMO bundles carry no registration id; 0 stands for "unknown".
	bundle := prekey.NewBundle(0, a.Device, preKeyID, b.SignedPreKeyID, preKey, spk, sig, ik)

	// The builder stores the new record through signalStore; keep the
	// old one to put back if it fails half-way.
	prev := s.snapshot(a)
	st := signalStore{s}
	err = guard("bundle", func() error {
		return session.NewBuilder(st, st, st, st, a.signal(), s.ser).ProcessBundle(context.Background(), bundle)
	})
	if err != nil {
		s.restore(a, prev)
		switch {
		case errors.Is(err, signalerror.ErrUntrustedIdentity):
			return ErrKeyChanged
		case errors.Is(err, signalerror.ErrInvalidSignature):
			return ErrBadSignature
		}
		return wrap(fmt.Errorf("omemo: a private session with the device could not be set up"), err)
	}
	s.saveIdentity(a, b.IdentityKey)
	return nil
}

func (s *Store) snapshot(a Address) *device {
	if d := s.devices[a.String()]; d != nil {
		c := *d
		return &c
	}
	return nil
}

func (s *Store) restore(a Address, d *device) {
	if d == nil {
		delete(s.devices, a.String())
		return
	}
	s.devices[a.String()] = d
}

func (s *Store) saveIdentity(a Address, key []byte) {
	d := s.device(a)
	if d.identity == nil {
		d.identity = append([]byte(nil), key...)
		d.trust = Undecided
	}
}

// Encrypt encrypts plaintext for every device in to (the contact's
// devices and our own other devices) and returns the <encrypted/>
// element. A nil plaintext makes a key-transport element (no payload),
// which moves sessions forward, e.g. to answer a PreKeySignalMessage.
//
// Every device must have a session (BuildSession) and not be
// Distrusted, or nothing is encrypted; this device itself, if listed,
// is left out. The caller chooses the devices: which of them must be
// verified is the account layer's rule, not this package's.
func (s *Store) Encrypt(plaintext []byte, to []Address) (*Encrypted, error) {
	var rcpt []Address
	seen := map[string]bool{}
	for _, a := range to {
		if a.Device == s.deviceID || seen[a.String()] {
			continue
		}
		seen[a.String()] = true
		d := s.devices[a.String()]
		if d == nil || d.session == nil {
			return nil, fmt.Errorf("%w (%s)", ErrNoSessionWith, a)
		}
		if d.trust == Distrusted {
			return nil, fmt.Errorf("%w (%s)", ErrDistrusted, a)
		}
		rcpt = append(rcpt, a)
	}
	if len(rcpt) == 0 {
		return nil, errors.New("omemo: there is no device to encrypt for")
	}
	e := &Encrypted{SID: s.deviceID, IV: make([]byte, ivLen)}
	keyMat := make([]byte, keyMatLen)
	defer clear(keyMat) // the message key and tag: not needed once encrypted for every device
	if _, err := rand.Read(e.IV); err != nil {
		return nil, fmt.Errorf("omemo: reading randomness: %w", err)
	}
	if _, err := rand.Read(keyMat[:aesKeyLen]); err != nil {
		return nil, fmt.Errorf("omemo: reading randomness: %w", err)
	}
	if plaintext != nil {
		gcm, err := newGCM(keyMat[:aesKeyLen])
		if err != nil {
			return nil, err
		}
		sealed := gcm.Seal(nil, e.IV, plaintext, nil)
		e.Payload = sealed[:len(sealed)-gcmTagLen]
		copy(keyMat[aesKeyLen:], sealed[len(sealed)-gcmTagLen:])
	} else if _, err := rand.Read(keyMat[aesKeyLen:]); err != nil {
		return nil, fmt.Errorf("omemo: reading randomness: %w", err)
	}
	st := signalStore{s}
	for _, a := range rcpt {
		var msg protocol.CiphertextMessage
		err := guard("session", func() (err error) {
			c := session.NewCipherFromSession(a.signal(), st, st, st, s.ser.PreKeySignalMessage, s.ser.SignalMessage)
			msg, err = c.Encrypt(context.Background(), keyMat)
			return err
		})
		if err != nil {
			if errors.Is(err, signalerror.ErrUntrustedIdentity) {
				return nil, fmt.Errorf("%w (%s)", ErrKeyChanged, a)
			}
			return nil, wrap(fmt.Errorf("omemo: the message could not be encrypted for device %d", a.Device), err)
		}
		e.Keys = append(e.Keys, Key{RID: a.Device, PreKey: msg.Type() == protocol.PREKEY_TYPE, Data: msg.Serialize()})
	}
	return e, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("omemo: %w", err)
	}
	return cipher.NewGCM(blk) // 12-byte nonce, 16-byte tag
}

// Message is what Decrypt produced.
type Message struct {
	// Plaintext is the message; nil for a key-transport element.
	Plaintext []byte
	// From is the sending device; Fingerprint its identity key's
	// fingerprint; Trust the user's decision about it.
	From        Address
	Fingerprint string
	Trust       Trust
	// NewSession: the message was a PreKeySignalMessage that started a
	// session (a new device, or the sender rebuilt its session). The
	// caller should answer with a key-transport element (Encrypt(nil))
	// if it has nothing else to send soon, so the sender stops sending
	// PreKeySignalMessages.
	NewSession bool
	// BundleChanged: a one-time prekey was used and replaced; publish
	// Bundle() again.
	BundleChanged bool
}

// Decrypt decrypts an <encrypted/> element that jid's device e.SID sent.
// It changes the store only when the whole message decrypts and
// authenticates, so a forged, replayed or damaged message leaves every
// session as it was.
func (s *Store) Decrypt(e *Encrypted, jid string) (*Message, error) {
	if e == nil || jid == "" || e.SID == 0 || e.SID > maxDeviceID {
		return nil, malformed("the message has no valid sender")
	}
	if len(e.IV) != ivLen {
		return nil, malformed("the IV is not %d bytes", ivLen)
	}
	from := Address{JID: jid, Device: e.SID}
	var lastErr error = ErrNotForThisDevice
	for _, k := range e.Keys {
		if k.RID != s.deviceID {
			continue
		}
		m, err := s.decryptKey(from, k, e)
		if err == nil {
			return m, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// pending is a decrypted message not yet committed to the store.
type pending struct {
	rec        *record.Session
	identity   []byte
	usedPreKey *optional.Uint32
	keyMat     []byte
}

func (s *Store) decryptKey(from Address, k Key, e *Encrypted) (*Message, error) {
	var p *pending
	var err error
	if k.PreKey {
		p, err = s.decryptPreKey(from, k.Data)
	} else {
		p, err = s.decryptSignal(from, k.Data)
	}
	if err != nil {
		return nil, err
	}
	plaintext, err := openPayload(p.keyMat, e)
	clear(p.keyMat)
	if err != nil {
		return nil, err
	}
	// Commit: the session, the identity (first use), the used prekey.
	d := s.device(from)
	if d.identity == nil {
		d.identity = p.identity
		d.trust = Undecided
	}
	d.session = p.rec.Serialize()
	m := &Message{Plaintext: plaintext, From: from, Fingerprint: Fingerprint(d.identity), Trust: d.trust, NewSession: k.PreKey}
	if p.usedPreKey != nil && !p.usedPreKey.IsEmpty {
		if _, ok := s.preKeys[p.usedPreKey.Value]; ok {
			delete(s.preKeys, p.usedPreKey.Value)
			if err := s.refill(); err != nil {
				return nil, err
			}
			m.BundleChanged = true
		}
	}
	return m, nil
}

// openPayload decrypts the AES-GCM payload with key material from the
// Signal message: key ‖ tag (32 bytes), or the older 16-byte key with the
// tag at the end of the payload.
func openPayload(keyMat []byte, e *Encrypted) ([]byte, error) {
	if e.Payload == nil {
		if len(keyMat) != keyMatLen && len(keyMat) != aesKeyLen {
			return nil, ErrUndecryptable
		}
		return nil, nil // key transport
	}
	var sealed []byte
	switch len(keyMat) {
	case keyMatLen:
		sealed = append(append([]byte(nil), e.Payload...), keyMat[aesKeyLen:]...)
	case aesKeyLen:
		if len(e.Payload) < gcmTagLen {
			return nil, ErrUndecryptable
		}
		sealed = e.Payload
	default:
		return nil, ErrUndecryptable
	}
	gcm, err := newGCM(keyMat[:aesKeyLen])
	if err != nil {
		return nil, err
	}
	pt, err := gcm.Open(nil, e.IV, sealed, nil)
	if err != nil {
		return nil, ErrUndecryptable
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

func (s *Store) decryptSignal(from Address, data []byte) (*pending, error) {
	msg, err := parseSignalMessage(s.ser, data)
	if err != nil {
		return nil, wrap(ErrUndecryptable, err)
	}
	d := s.devices[from.String()]
	if d == nil || d.session == nil {
		return nil, ErrNoSession
	}
	var p *pending
	err = guard("session", func() error {
		rec, err := s.loadRecord(from.String())
		if err != nil {
			return err
		}
		km, rec, err := s.trialDecrypt(from, rec, msg)
		if err != nil {
			return err
		}
		p = &pending{rec: rec, identity: d.identity, keyMat: km}
		return nil
	})
	if err != nil {
		return nil, decryptErr(err)
	}
	return p, nil
}

func (s *Store) decryptPreKey(from Address, data []byte) (*pending, error) {
	msg, err := parsePreKeySignalMessage(s.ser, data)
	if err != nil {
		return nil, wrap(ErrUndecryptable, err)
	}
	ident := msg.IdentityKey().Serialize()
	if d := s.devices[from.String()]; d != nil && d.identity != nil && !bytes.Equal(d.identity, ident) {
		return nil, ErrKeyChanged
	}
	var p *pending
	err = guard("session", func() error {
		rec, err := s.loadRecord(from.String()) // a fresh copy: nothing reaches the store before commit
		if err != nil {
			return err
		}
		st := signalStore{s}
		b := session.NewBuilder(st, st, st, st, from.signal(), s.ser)
		used, err := b.Process(context.Background(), rec, msg)
		if err != nil {
			return err
		}
		km, rec, err := s.trialDecrypt(from, rec, msg.WhisperMessage())
		if err != nil {
			return err
		}
		p = &pending{rec: rec, identity: ident, usedPreKey: used, keyMat: km}
		return nil
	})
	if err != nil {
		return nil, decryptErr(err)
	}
	return p, nil
}

func decryptErr(err error) error {
	switch {
	case errors.Is(err, ErrReplay), errors.Is(err, ErrUndecryptable):
		return err
	case errors.Is(err, signalerror.ErrOldCounter):
		return wrap(ErrReplay, err)
	case errors.Is(err, signalerror.ErrUntrustedIdentity):
		return ErrKeyChanged
	}
	return wrap(ErrUndecryptable, err)
}

// trialDecrypt decrypts msg with the record's current state or, failing
// that, one of its previous states, each tried on a copy (FACTS.md,
// OMEMO trap 1: the library's DecryptWithRecord tries them on the live
// states, so a failed try leaves a bogus ratchet step behind). It
// returns a new record in which the winning state is current and every
// other state is exactly as it was loaded.
func (s *Store) trialDecrypt(from Address, rec *record.Session, msg *protocol.SignalMessage) ([]byte, *record.Session, error) {
	st := signalStore{s}
	c := session.NewCipherFromSession(from.signal(), st, st, st, s.ser.PreKeySignalMessage, s.ser.SignalMessage)
	states := append([]*record.State{rec.SessionState()}, rec.PreviousSessionStates()...)
	replay := false
	for i, state := range states {
		if state == nil || !state.HasSenderChain() {
			continue
		}
		cp, err := record.NewStateFromBytes(state.Serialize(), s.ser.State)
		if err != nil {
			return nil, nil, err
		}
		pt, _, err := c.DecryptWithState(context.Background(), cp, msg)
		if errors.Is(err, signalerror.ErrOldCounter) {
			replay = true
			continue
		}
		if err != nil {
			continue
		}
		out, err := s.promote(states, i, cp)
		if err != nil {
			return nil, nil, err
		}
		return pt, out, nil
	}
	if replay {
		return nil, nil, ErrReplay
	}
	return nil, nil, ErrUndecryptable
}

// promote builds a record whose current state is won (the copy of
// states[i] that decrypted) and whose previous states are the others, in
// their order, the old current state first. This is the order
// libsignal-protocol-c and -java leave.
func (s *Store) promote(states []*record.State, i int, won *record.State) (*record.Session, error) {
	structure := func(st *record.State) (*record.StateStructure, error) {
		return s.ser.State.Deserialize(st.Serialize())
	}
	cur, err := structure(won)
	if err != nil {
		return nil, err
	}
	ss := &record.SessionStructure{SessionState: cur}
	order := states[1:]
	if i > 0 {
		order = append([]*record.State{states[0]}, states[1:i]...)
		order = append(order, states[i+1:]...)
	}
	for _, st := range order {
		if len(ss.PreviousStates) == archiveMax {
			break
		}
		if st == nil || !st.HasSenderChain() {
			continue // an empty placeholder, nothing to keep
		}
		p, err := structure(st)
		if err != nil {
			return nil, err
		}
		ss.PreviousStates = append(ss.PreviousStates, p)
	}
	return record.NewSessionFromStructure(ss, s.ser.Session, s.ser.State)
}
