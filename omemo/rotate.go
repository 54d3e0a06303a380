package omemo

// Signed prekey rotation (X3DH §2.2 as libsignal clients do it): a new
// signed prekey is made and published every SignedPreKeyRotation; the
// ones it replaced are kept SignedPreKeyKeep after that, so a prekey
// message a contact built from an older bundle (it fetched the bundle,
// then sent later, or the message waited in offline storage or an
// archive) still decrypts, and are then deleted: a stolen state no longer
// opens sessions started from them.
//
// The package never reads the clock (nor imports time): the caller says
// what time it is, in Unix milliseconds.

import (
	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/state/record"
)

const (
	day = 24 * 60 * 60 * 1000 // milliseconds
	// SignedPreKeyRotation is how long one signed prekey is published (ms).
	SignedPreKeyRotation = 7 * day
	// SignedPreKeyKeep is how long a replaced signed prekey is kept (ms).
	SignedPreKeyKeep = 30 * day
	// maxOldSignedPreKeys bounds the replaced ones kept (30 days of weekly
	// rotations is five; more only if the clock jumps about).
	maxOldSignedPreKeys = 8
)

// oldSignedPreKey is a replaced signed prekey and when it was replaced.
type oldSignedPreKey struct {
	rec     *record.SignedPreKey
	retired int64 // Unix milliseconds
}

// RotateSignedPreKey applies the rotation rule at now (Unix ms). changed: the
// store changed (save it); rotated: the bundle has a new signed prekey
// (publish it). A signed prekey without a time (a new store, or one saved
// before rotation existed) gets now as its time: its week starts now.
func (s *Store) RotateSignedPreKey(now int64) (changed, rotated bool, err error) {
	ms := now
	kept := s.oldSignedPreKeys[:0:0]
	for _, o := range s.oldSignedPreKeys {
		if ms-o.retired < SignedPreKeyKeep {
			kept = append(kept, o)
		}
	}
	if len(kept) != len(s.oldSignedPreKeys) {
		s.oldSignedPreKeys, changed = kept, true
	}
	cur := s.signedPreKey
	if cur.Timestamp() == 0 {
		s.signedPreKey = record.NewSignedPreKey(cur.ID(), ms, cur.KeyPair(), cur.Signature(), s.ser.SignedPreKeyRecord)
		return true, false, nil
	}
	if ms-cur.Timestamp() < SignedPreKeyRotation {
		return changed, false, nil // not due (or the clock went back)
	}
	kp, err := ecc.GenerateKeyPair()
	if err != nil {
		return changed, false, err
	}
	id := cur.ID() + 1
	if id > maxPreKeyID {
		id = 1
	}
	sig := ecc.CalculateSignature(s.identity.PrivateKey(), kp.PublicKey().Serialize())
	s.oldSignedPreKeys = append(s.oldSignedPreKeys, oldSignedPreKey{rec: cur, retired: ms})
	if n := len(s.oldSignedPreKeys); n > maxOldSignedPreKeys {
		s.oldSignedPreKeys = s.oldSignedPreKeys[n-maxOldSignedPreKeys:]
	}
	s.signedPreKey = record.NewSignedPreKey(id, ms, kp, sig, s.ser.SignedPreKeyRecord)
	return true, true, nil
}

// signedPreKeyByID is the current or a kept signed prekey, nil if none.
func (s *Store) signedPreKeyByID(id uint32) *record.SignedPreKey {
	if s.signedPreKey.ID() == id {
		return s.signedPreKey
	}
	for _, o := range s.oldSignedPreKeys {
		if o.rec.ID() == id {
			return o.rec
		}
	}
	return nil
}
