package otr

// Long-term DSA keys and fingerprints, spec §"Public keys, signatures, and
// fingerprints".

import (
	"crypto/dsa" //nolint:staticcheck // OTR v2/v3 mandate DSA-1024; there is no alternative.
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"strings"
	"sync/atomic"
)

// PrivateKey is a long-term OTR authentication key (DSA, 1024-bit p, 160-bit q).
type PrivateKey struct {
	dsa.PrivateKey
	// gTable is the fixed-base table for g^k when signing (dsasign.go),
	// made on the first signature. A PrivateKey is used by pointer.
	gTable atomic.Pointer[comb]
}

// PublicKey is the public half of a PrivateKey.
type PublicKey struct {
	dsa.PublicKey
}

// Fingerprint is the SHA-1 hash of a public key's serialization.
type Fingerprint [20]byte

// GenerateKey makes a new DSA-1024 key with randomness from rand.
func GenerateKey(rand io.Reader) (*PrivateKey, error) {
	k := new(PrivateKey)
	if err := dsa.GenerateParameters(&k.Parameters, rand, dsa.L1024N160); err != nil {
		return nil, err
	}
	if err := dsa.GenerateKey(&k.PrivateKey, rand); err != nil {
		return nil, err
	}
	return k, nil
}

// Public returns the public key.
func (k *PrivateKey) Public() *PublicKey { return &PublicKey{k.PublicKey} }

// Fingerprint returns the fingerprint of the key's public half.
func (k *PrivateKey) Fingerprint() Fingerprint { return k.Public().Fingerprint() }

// Serialize returns the PUBKEY encoding: type 0x0000 then p, q, g, y as MPIs.
func (pk *PublicKey) Serialize() []byte {
	b := appendShort(nil, 0)
	b = appendMPI(b, pk.P)
	b = appendMPI(b, pk.Q)
	b = appendMPI(b, pk.G)
	return appendMPI(b, pk.Y)
}

// Fingerprint hashes the serialization without the two leading type bytes,
// as the spec requires for type 0x0000.
func (pk *PublicKey) Fingerprint() Fingerprint {
	return sha1.Sum(pk.Serialize()[2:])
}

// readPubKey parses a PUBKEY. It rejects key types other than DSA and
// parameters outside the sizes OTR uses.
func readPubKey(b []byte) (*PublicKey, []byte, bool) {
	typ, rest, ok := readShort(b)
	if !ok || typ != 0 {
		return nil, b, false
	}
	pk := new(PublicKey)
	var xs [4]*big.Int
	for i := range xs {
		xs[i], rest, ok = readMPI(rest)
		if !ok {
			return nil, b, false
		}
	}
	pk.P, pk.Q, pk.G, pk.Y = xs[0], xs[1], xs[2], xs[3]
	if pk.P.BitLen() > 4096 || pk.Q.BitLen() != 160 || pk.G.Sign() <= 0 || pk.Y.Sign() <= 0 ||
		pk.G.Cmp(pk.P) >= 0 || pk.Y.Cmp(pk.P) >= 0 {
		return nil, b, false
	}
	return pk, rest, true
}

// String shows the fingerprint the way users compare it: five groups of
// eight upper-case hex digits.
func (f Fingerprint) String() string {
	h := strings.ToUpper(hex.EncodeToString(f[:]))
	return h[0:8] + " " + h[8:16] + " " + h[16:24] + " " + h[24:32] + " " + h[32:40]
}

// Hex is the fingerprint as 40 lower-case hex digits (libotr's file format).
func (f Fingerprint) Hex() string { return hex.EncodeToString(f[:]) }

// ParseFingerprint accepts 40 hex digits with optional spaces.
func ParseFingerprint(s string) (Fingerprint, error) {
	var f Fingerprint
	s = strings.ReplaceAll(s, " ", "")
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(f) {
		return f, errors.New("otr: fingerprint must be 40 hex digits")
	}
	copy(f[:], b)
	return f, nil
}
