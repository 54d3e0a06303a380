package otr

// Authenticated key exchange, spec §"Authenticated Key Exchange (AKE)", the
// four AKE messages of §"Encoded messages", §"Computing AES keys, MAC keys,
// and the secure session id", and the authstate transitions of §"The
// protocol state machine". Bob sends D-H Commit and Reveal Signature; Alice
// sends D-H Key and Signature. Version 2 and 3 differ only in the header.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"math/big"
)

type authState int

const (
	authNone authState = iota
	authAwaitingDHKey
	authAwaitingRevealSig
	authAwaitingSig
)

// akeKeyID is the keyid we give our D-H key in the AKE. Every AKE uses a
// fresh D-H key, and on completion both sides reset their key ids (spec
// §"Key Management", "Upon completing the AKE"), so 1 is always right.
const akeKeyID = 1

// dhSecretBytes is the length of a D-H private exponent: 320 bits, the
// minimum the spec requires and what libotr uses.
const dhSecretBytes = 40

// ake is the state of one run of the AKE.
type ake struct {
	state   authState
	version int

	priv, pub *big.Int // our x (Bob) or y (Alice) and its public value
	r         []byte   // Bob: AES key hiding g^x in the commit
	hashedGx  []byte   // SHA256 of gxmpi: Bob's own, or the one Alice received
	encGx     []byte   // Alice: Bob's encrypted g^x from his commit
	theirPub  *big.Int // Bob: g^y
	lastMsg   []byte   // binary message to retransmit in this state
	keys      akeKeys

	// yielded is our own D-H Commit after it lost a commit collision; see
	// handleDHCommit for why it is kept.
	yielded *yieldedCommit
}

// yieldedCommit is what we need to finish an AKE as Bob for a commit we
// already sent: x, g^x, r and the hash the peer holds.
type yieldedCommit struct {
	version     int
	priv, pub   *big.Int
	r, hashedGx []byte
}

// akeKeys are the values the spec derives from the shared secret s, plus
// the data-message keys of the same secret (handed to the data layer).
type akeKeys struct {
	ssid             [8]byte
	c, cp            [16]byte
	m1, m2, m1p, m2p [32]byte
	data             *sessionKeys
}

func (k *akeKeys) wipe() {
	wipeBytes(k.ssid[:], k.c[:], k.cp[:], k.m1[:], k.m2[:], k.m1p[:], k.m2p[:])
	if k.data != nil {
		k.data.wipe()
	}
}

// akeResult is what a finished AKE hands to the data-message layer.
type akeResult struct {
	version    int
	ourPriv    *big.Int
	ourPub     *big.Int
	theirPub   *big.Int
	theirKeyID uint32
	theirKey   *PublicKey
	ssid       [8]byte
	sentReveal bool         // we were Bob: the first half of the ssid is ours to read
	sess       *sessionKeys // data keys for the two AKE keys (see newKeyState)
}

func (a *ake) wipe() {
	if y := a.yielded; y != nil {
		wipeInts(y.priv, y.pub)
		wipeBytes(y.r, y.hashedGx)
	}
	wipeInts(a.priv, a.pub, a.theirPub)
	wipeBytes(a.r, a.hashedGx, a.encGx, a.lastMsg)
	a.keys.wipe()
	*a = ake{}
}

func wipeBytes(bs ...[]byte) {
	for _, b := range bs {
		clear(b)
	}
}

func wipeInts(xs ...*big.Int) {
	for _, x := range xs {
		if x != nil {
			clear(x.Bits())
			x.SetInt64(0)
		}
	}
}

// newDH picks a 320-bit private exponent and its public value g^x mod p.
func newDH(rand io.Reader, count *int) (priv, pub *big.Int, err error) {
	var b [dhSecretBytes]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return nil, nil, fmt.Errorf("otr: reading randomness: %w", err)
	}
	priv = new(big.Int).SetBytes(b[:])
	clear(b[:])
	pub = expGDH(count, priv)
	if !validGroupElement(pub) { // only if the random source is broken
		return nil, nil, fmt.Errorf("otr: degenerate D-H key from random source")
	}
	return priv, pub, nil
}

// aesCTR encrypts or decrypts b with AES-128 in counter mode; the initial
// counter is top (8 bytes, or nil for zero) followed by 8 zero bytes.
func aesCTR(key, top, b []byte) []byte {
	out := make([]byte, len(b))
	ctrStream(newAES(key), top).XORKeyStream(out, b)
	return out
}

func newAES(key []byte) cipher.Block {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("otr: bad AES key length") // keys are always 16 bytes here
	}
	return block
}

// ctrStream is AES-CTR with the initial counter top || 8 zero bytes.
func ctrStream(block cipher.Block, top []byte) cipher.Stream {
	var iv [aes.BlockSize]byte
	copy(iv[:8], top)
	return cipher.NewCTR(block, iv[:])
}

func hmacSHA256(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// h2 is SHA256(b || secbytes), spec §"Computing AES keys...".
func h2(b byte, secbytes []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{b})
	h.Write(secbytes)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func deriveAKEKeys(s, ourPub, theirPub *big.Int) akeKeys {
	sec := appendMPI(nil, s)
	defer clear(sec)
	var k akeKeys
	k.data = sessionKeysFromSecret(s, ourPub, theirPub)
	h := h2(0x00, sec)
	copy(k.ssid[:], h[:8])
	h = h2(0x01, sec)
	copy(k.c[:], h[:16])
	copy(k.cp[:], h[16:])
	k.m1 = h2(0x02, sec)
	k.m2 = h2(0x03, sec)
	k.m1p = h2(0x04, sec)
	k.m2p = h2(0x05, sec)
	clear(h[:])
	return k
}

// akeHeader is the header of our next AKE message.
func (c *Conversation) akeHeader(typ byte) []byte {
	return appendHeader(nil, header{version: c.ake.version, typ: typ,
		sender: c.ourTag, receiver: c.peerTag})
}

// startAKE sends a D-H Commit Message and enters AUTHSTATE_AWAITING_DHKEY.
func (c *Conversation) startAKE(version int) ([]byte, error) {
	c.ake.wipe()
	a := &c.ake
	a.version = version
	var err error
	if a.priv, a.pub, err = newDH(c.cfg.Rand, &c.ops.dh); err != nil {
		return nil, err
	}
	a.r = make([]byte, 16)
	if _, err := io.ReadFull(c.cfg.Rand, a.r); err != nil {
		return nil, fmt.Errorf("otr: reading randomness: %w", err)
	}
	gxmpi := appendMPI(nil, a.pub)
	h := sha256.Sum256(gxmpi)
	a.hashedGx = h[:]
	msg := c.akeHeader(msgDHCommit)
	msg = appendData(msg, aesCTR(a.r, nil, gxmpi))
	msg = appendData(msg, a.hashedGx)
	a.state, a.lastMsg = authAwaitingDHKey, msg
	return msg, nil
}

// sendDHKey answers a commit with a fresh D-H Key Message and enters
// AUTHSTATE_AWAITING_REVEALSIG.
func (c *Conversation) sendDHKey(version int, encGx, hashedGx []byte) ([]byte, error) {
	c.ake.wipe()
	a := &c.ake
	a.version = version
	var err error
	if a.priv, a.pub, err = newDH(c.cfg.Rand, &c.ops.dh); err != nil {
		return nil, err
	}
	a.encGx = bytes.Clone(encGx)
	a.hashedGx = bytes.Clone(hashedGx)
	msg := appendMPI(c.akeHeader(msgDHKey), a.pub)
	a.state, a.lastMsg = authAwaitingRevealSig, msg
	return msg, nil
}

// handleDHCommit implements "Receiving a D-H Commit Message".
func (c *Conversation) handleDHCommit(h header, body []byte) ([]byte, string, error) {
	encGx, rest, ok := readData(body)
	if !ok {
		return nil, "truncated D-H commit", nil
	}
	hashedGx, rest, ok := readData(rest)
	if !ok || len(rest) != 0 || len(hashedGx) != sha256.Size || len(encGx) == 0 {
		return nil, "malformed D-H commit", nil
	}
	a := &c.ake
	switch a.state {
	case authAwaitingDHKey:
		// Commit collision: the higher hashed g^x wins and keeps its commit.
		if a.version == h.version && bytes.Compare(a.hashedGx, hashedGx) > 0 {
			return a.lastMsg, "", nil
		}
		if a.version == 2 && h.version == 2 {
			// We lost and answer the peer's commit as Alice, as the spec
			// says. libotr 4.1.1 does not compare hashes in a master
			// context, and a v2 session only has the master context: it
			// always yields too, answers OUR commit with a D-H Key and
			// ignores ours, which would leave both sides waiting for a
			// Reveal Signature forever. Keep our commit so handleDHKey can
			// finish that exchange instead. (In v3 libotr's per-instance
			// context takes our D-H Key and continues as Bob itself, so
			// there we must not switch.)
			y := &yieldedCommit{version: a.version, priv: a.priv, pub: a.pub, r: a.r, hashedGx: a.hashedGx}
			a.priv, a.pub, a.r, a.hashedGx = nil, nil, nil, nil
			msg, err := c.sendDHKey(h.version, encGx, hashedGx)
			c.ake.yielded = y
			return msg, "", err
		}
	case authAwaitingRevealSig:
		if a.version == h.version {
			// Resend the same D-H Key, but remember the new commit.
			a.encGx, a.hashedGx = bytes.Clone(encGx), bytes.Clone(hashedGx)
			return a.lastMsg, "", nil
		}
	}
	// AUTHSTATE_NONE, AWAITING_SIG, or a lost collision: start afresh as Alice.
	msg, err := c.sendDHKey(h.version, encGx, hashedGx)
	return msg, "", err
}

// handleDHKey implements "Receiving a D-H Key Message".
func (c *Conversation) handleDHKey(h header, body []byte) ([]byte, string, error) {
	gy, rest, ok := readMPI(body)
	if !ok || len(rest) != 0 {
		return nil, "malformed D-H key message", nil
	}
	if !validGroupElement(gy) {
		return nil, "D-H key message: g^y out of range", nil
	}
	a := &c.ake
	if a.version != h.version {
		return nil, "", nil
	}
	if a.state == authAwaitingRevealSig && a.yielded != nil && a.yielded.version == h.version {
		// The peer answered the commit we yielded in a collision (libotr
		// does, see handleDHCommit): a spec-following peer that won never
		// answers our commit, so this D-H Key can only be for it. Go back
		// to being Bob for our commit.
		y := a.yielded
		a.yielded = nil
		a.wipe()
		a.version, a.priv, a.pub, a.r, a.hashedGx = y.version, y.priv, y.pub, y.r, y.hashedGx
		a.state = authAwaitingDHKey
	}
	switch a.state {
	case authAwaitingDHKey:
		a.theirPub = gy
		s := modExp(&c.ops.dh, gy, a.priv)
		a.keys = deriveAKEKeys(s, a.pub, gy)
		wipeInts(s)
		encSig, err := c.signedBlock(a.keys.m1[:], a.keys.c[:], a.pub, gy)
		if err != nil {
			return nil, "", err
		}
		msg := appendData(c.akeHeader(msgRevealSig), a.r)
		msg = appendData(msg, encSig)
		msg = append(msg, macSig(a.keys.m2[:], encSig)...)
		a.state, a.lastMsg = authAwaitingSig, msg
		return msg, "", nil
	case authAwaitingSig:
		if gy.Cmp(a.theirPub) == 0 {
			return a.lastMsg, "", nil
		}
	}
	return nil, "", nil
}

// handleRevealSig implements "Receiving a Reveal Signature Message". On
// failure the message is ignored and the AKE stays where it was, so a forged
// message cannot abort a genuine exchange.
func (c *Conversation) handleRevealSig(h header, body []byte) ([]byte, *akeResult, string, error) {
	r, rest, ok := readData(body)
	if !ok || len(r) != 16 {
		return nil, nil, "malformed reveal signature message", nil
	}
	encSig, rest, ok := readData(rest)
	if !ok || len(rest) != 20 {
		return nil, nil, "malformed reveal signature message", nil
	}
	mac := rest
	a := &c.ake
	if a.state != authAwaitingRevealSig || a.version != h.version {
		return nil, nil, "", nil
	}
	gxmpi := aesCTR(r, nil, a.encGx)
	sum := sha256.Sum256(gxmpi)
	if subtle.ConstantTimeCompare(sum[:], a.hashedGx) != 1 {
		return nil, nil, "reveal signature: revealed key does not match commit hash", nil
	}
	gx, tail, ok := readMPI(gxmpi)
	if !ok || len(tail) != 0 {
		return nil, nil, "reveal signature: malformed g^x", nil
	}
	if !validGroupElement(gx) {
		return nil, nil, "reveal signature: g^x out of range", nil
	}
	s := modExp(&c.ops.dh, gx, a.priv)
	keys := deriveAKEKeys(s, a.pub, gx)
	wipeInts(s)
	defer keys.wipe() // only the ssid (copied) outlives this message
	pub, keyID, problem := c.verifySignedBlock(keys.m1[:], keys.c[:], keys.m2[:], encSig, mac, gx, a.pub)
	if problem != "" {
		return nil, nil, "reveal signature: " + problem, nil
	}
	encOurs, err := c.signedBlock(keys.m1p[:], keys.cp[:], a.pub, gx)
	if err != nil {
		return nil, nil, "", err
	}
	msg := appendData(c.akeHeader(msgSig), encOurs)
	msg = append(msg, macSig(keys.m2p[:], encOurs)...)
	res := &akeResult{version: a.version, ourPriv: a.priv, ourPub: a.pub, theirPub: gx,
		theirKeyID: keyID, theirKey: pub, ssid: keys.ssid, sess: keys.data}
	keys.data = nil          // handed over, not wiped
	a.priv, a.pub = nil, nil // handed over to the data layer, not wiped
	a.wipe()
	return msg, res, "", nil
}

// handleSig implements "Receiving a Signature Message".
func (c *Conversation) handleSig(h header, body []byte) (*akeResult, string) {
	encSig, rest, ok := readData(body)
	if !ok || len(rest) != 20 {
		return nil, "malformed signature message"
	}
	a := &c.ake
	if a.state != authAwaitingSig || a.version != h.version {
		return nil, ""
	}
	pub, keyID, problem := c.verifySignedBlock(a.keys.m1p[:], a.keys.cp[:], a.keys.m2p[:],
		encSig, rest, a.theirPub, a.pub)
	if problem != "" {
		return nil, "signature message: " + problem
	}
	res := &akeResult{version: a.version, ourPriv: a.priv, ourPub: a.pub, theirPub: a.theirPub,
		theirKeyID: keyID, theirKey: pub, ssid: a.keys.ssid, sentReveal: true, sess: a.keys.data}
	a.keys.data = nil // handed over, not wiped
	a.priv, a.pub, a.theirPub = nil, nil, nil
	a.wipe()
	return res, ""
}

// macSig is SHA256-HMAC-160 of the encrypted signature field including its
// four-byte length.
func macSig(key, encSig []byte) []byte {
	return hmacSHA256(key, appendData(nil, encSig))[:20]
}

// signedBlock builds AES_c(X) where X = pub, keyid, sig(M) and
// M = HMAC_m(ours, theirs, pub, keyid).
func (c *Conversation) signedBlock(mKey, aesKey []byte, ours, theirs *big.Int) ([]byte, error) {
	pub := c.cfg.Key.Public().Serialize()
	kid := appendInt(nil, akeKeyID)
	m := hmacSHA256(mKey, appendMPI(nil, ours), appendMPI(nil, theirs), pub, kid)
	c.ops.sign++
	r, s, err := c.cfg.sign(m)
	if err != nil {
		return nil, fmt.Errorf("otr: signing: %w", err)
	}
	qLen := (c.cfg.Key.Q.BitLen() + 7) / 8
	if r.Sign() <= 0 || s.Sign() <= 0 || len(r.Bytes()) > qLen || len(s.Bytes()) > qLen {
		return nil, fmt.Errorf("otr: signer returned an invalid signature")
	}
	x := append(pub, kid...)
	x = append(x, r.FillBytes(make([]byte, qLen))...)
	x = append(x, s.FillBytes(make([]byte, qLen))...)
	defer clear(x)
	return aesCTR(aesKey, nil, x), nil
}

// verifySignedBlock checks the MAC of an encrypted signature field, decrypts
// it and verifies the peer's signature over HMAC_m(theirs, ours, pub, keyid).
// It returns the peer's long-term key and D-H keyid, or a problem.
func (c *Conversation) verifySignedBlock(mKey, aesKey, macKey, encSig, mac []byte, theirs, ours *big.Int) (*PublicKey, uint32, string) {
	if subtle.ConstantTimeCompare(macSig(macKey, encSig), mac) != 1 {
		return nil, 0, "bad MAC"
	}
	x := aesCTR(aesKey, nil, encSig)
	pub, rest, ok := readPubKey(x)
	if !ok {
		return nil, 0, "bad public key"
	}
	pubBytes := x[:len(x)-len(rest)]
	keyID, rest, ok := readInt(rest)
	if !ok || keyID == 0 {
		return nil, 0, "bad D-H keyid"
	}
	qLen := (pub.Q.BitLen() + 7) / 8
	if len(rest) != 2*qLen {
		return nil, 0, "bad signature length"
	}
	r := new(big.Int).SetBytes(rest[:qLen])
	s := new(big.Int).SetBytes(rest[qLen:])
	// MAC over the key bytes as sent: a peer with a non-minimal MPI in its
	// key still signed exactly those bytes.
	m := hmacSHA256(mKey, appendMPI(nil, theirs), appendMPI(nil, ours), pubBytes, appendInt(nil, keyID))
	c.ops.verify++
	if !verifyDSA(&pub.PublicKey, m, r, s) {
		return nil, 0, "bad signature"
	}
	return pub, keyID, ""
}
