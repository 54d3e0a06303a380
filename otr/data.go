package otr

// Data messages and their keys, spec §"Data Message", §"Key Management",
// §"Computing AES keys, MAC keys, and the secure session id", §"Extra
// symmetric key" and §"Revealing MAC keys".

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"hash"
	"math/big"
	"slices"
)

// flagIgnoreUnreadable is the only data message flag.
const flagIgnoreUnreadable byte = 0x01

// sessionKeys are the keys for one (our keyid, their keyid) pair. The
// counters live exactly as long as the pair, so a counter value is never
// reused with the same keys.
type sessionKeys struct {
	ourID, theirID   uint32
	sendAES, recvAES [16]byte
	sendMAC, recvMAC [20]byte
	extra            [32]byte
	sendCtr, recvCtr uint64 // top halves of the CTR-mode counters
	recvMACUsed      bool   // reveal recvMAC when the pair is forgotten

	// The expanded AES keys and keyed HMACs, made on first use and kept
	// while the pair lives, so a message costs no key schedule or HMAC
	// key setup (libotr keeps its gcrypt handles the same way). Their
	// internal copies of the keys cannot be wiped, but neither could the
	// per-message ones they replace, which were left to the collector.
	sendBlock, recvBlock cipher.Block
	sendHMAC, recvHMAC   hash.Hash
}

func (s *sessionKeys) wipe() {
	wipeBytes(s.sendAES[:], s.recvAES[:], s.sendMAC[:], s.recvMAC[:], s.extra[:])
	s.sendBlock, s.recvBlock, s.sendHMAC, s.recvHMAC = nil, nil, nil, nil
}

// sendCipher returns the sending AES key schedule and keyed HMAC.
func (s *sessionKeys) sendCipher() (cipher.Block, hash.Hash) {
	if s.sendBlock == nil {
		s.sendBlock, s.sendHMAC = newAES(s.sendAES[:]), hmac.New(sha1.New, s.sendMAC[:])
	}
	return s.sendBlock, s.sendHMAC
}

// recvCipher returns the receiving AES key schedule and keyed HMAC.
func (s *sessionKeys) recvCipher() (cipher.Block, hash.Hash) {
	if s.recvBlock == nil {
		s.recvBlock, s.recvHMAC = newAES(s.recvAES[:]), hmac.New(sha1.New, s.recvMAC[:])
	}
	return s.recvBlock, s.recvHMAC
}

// keyState is the spec's our_dh[], their_y[], our_keyid, their_keyid plus
// the derived session keys and the old MAC keys waiting to be revealed.
type keyState struct {
	ourKeyID            uint32
	ourCur, ourPrev     dhPair // keyids ourKeyID and ourKeyID-1
	theirKeyID          uint32
	theirCur, theirPrev *big.Int // keyids theirKeyID and theirKeyID-1 (prev may be nil)
	sessions            []*sessionKeys
	oldMACs             []byte
	exps                *int // the conversation's opCounts.dh

	// ourCurMPI is ourCur.pub as an MPI, made once per key instead of once
	// per message (public; reset when ourCur changes). sealBuf is reused
	// for the binary data message, which the caller encodes at once.
	ourCurMPI []byte
	sealBuf   []byte
}

type dhPair struct{ priv, pub *big.Int }

// newKeyState sets up the keys after an AKE: our AKE key becomes
// our_dh[1] with a fresh our_dh[2], and their AKE key their_y[their_keyid].
// The keys for (our_dh[1], their_y[their_keyid]), the pair our first data
// message uses, come from the AKE's shared secret, which is the same g^xy:
// computing it again would cost an exponentiation for nothing.
func newKeyState(r *akeResult, next dhPair, exps *int) *keyState {
	k := &keyState{
		ourKeyID:   akeKeyID + 1,
		ourPrev:    dhPair{r.ourPriv, r.ourPub},
		ourCur:     next,
		theirKeyID: r.theirKeyID,
		theirCur:   r.theirPub,
		exps:       exps,
	}
	if r.sess != nil {
		r.sess.ourID, r.sess.theirID = akeKeyID, r.theirKeyID
		k.sessions = append(k.sessions, r.sess)
	}
	return k
}

func (k *keyState) wipe() {
	if k == nil {
		return
	}
	clear(k.sealBuf)
	for _, s := range k.sessions {
		s.wipe()
	}
	wipeInts(k.ourCur.priv, k.ourPrev.priv, k.ourCur.pub, k.ourPrev.pub, k.theirCur, k.theirPrev)
	wipeBytes(k.oldMACs)
	*k = keyState{}
}

// session returns (computing once) the keys for a pair of keyids, which
// the caller has already checked are live.
func (k *keyState) session(ourID, theirID uint32) *sessionKeys {
	for _, s := range k.sessions {
		if s.ourID == ourID && s.theirID == theirID {
			return s
		}
	}
	our := k.ourCur
	if ourID != k.ourKeyID {
		our = k.ourPrev
	}
	their := k.theirCur
	if theirID != k.theirKeyID {
		their = k.theirPrev
	}
	s := deriveSessionKeys(our, their, k.exps)
	s.ourID, s.theirID = ourID, theirID
	k.sessions = append(k.sessions, s)
	return s
}

func deriveSessionKeys(our dhPair, their *big.Int, exps *int) *sessionKeys {
	secret := modExp(exps, their, our.priv)
	defer wipeInts(secret)
	return sessionKeysFromSecret(secret, our.pub, their)
}

// sessionKeysFromSecret derives the data-message keys from the shared
// secret s = g^xy of our D-H key ourPub and their theirPub, spec
// §"Computing AES keys, MAC keys, and the secure session id".
func sessionKeysFromSecret(secret, ourPub, theirPub *big.Int) *sessionKeys {
	sec := appendMPI(nil, secret)
	defer clear(sec)
	sendByte, recvByte := byte(0x02), byte(0x01) // we are the "low" end
	if ourPub.Cmp(theirPub) > 0 {
		sendByte, recvByte = 0x01, 0x02
	}
	s := new(sessionKeys)
	h := h1(sendByte, sec)
	copy(s.sendAES[:], h[:16])
	s.sendMAC = sha1.Sum(s.sendAES[:])
	h = h1(recvByte, sec)
	copy(s.recvAES[:], h[:16])
	s.recvMAC = sha1.Sum(s.recvAES[:])
	clear(h[:])
	s.extra = h2(0xff, sec)
	return s
}

// h1 is SHA1(b || secbytes).
func h1(b byte, secbytes []byte) [20]byte {
	h := sha1.New()
	h.Write([]byte{b})
	h.Write(secbytes)
	var out [20]byte
	h.Sum(out[:0])
	return out
}

// forget drops every session that uses the given keyid on one side,
// queueing receiving MAC keys that were used for revelation.
func (k *keyState) forget(ours bool, id uint32) {
	kept := k.sessions[:0]
	for _, s := range k.sessions {
		if (ours && s.ourID == id) || (!ours && s.theirID == id) {
			if s.recvMACUsed {
				k.oldMACs = append(k.oldMACs, s.recvMAC[:]...)
			}
			s.wipe()
			continue
		}
		kept = append(kept, s)
	}
	clear(k.sessions[len(kept):])
	k.sessions = kept
}

// dataMessage is a parsed data message.
type dataMessage struct {
	flags           byte
	senderKeyID     uint32
	recipientKeyID  uint32
	nextDH          []byte // MPI value bytes; made a big.Int only when used
	ctr             [8]byte
	encrypted       []byte
	authenticated   []byte // version .. encrypted message, the MAC input
	mac             []byte
	revealedMACKeys []byte
}

// parseDataMessage parses everything after the header; whole is the full
// binary message, needed because the MAC starts at the protocol version.
func parseDataMessage(whole, body []byte) (*dataMessage, bool) {
	d := new(dataMessage)
	var ok bool
	rest := body
	if d.flags, rest, ok = readByte(rest); !ok {
		return nil, false
	}
	if d.senderKeyID, rest, ok = readInt(rest); !ok {
		return nil, false
	}
	if d.recipientKeyID, rest, ok = readInt(rest); !ok {
		return nil, false
	}
	if d.nextDH, rest, ok = readData(rest); !ok {
		return nil, false
	}
	if len(rest) < 8 {
		return nil, false
	}
	copy(d.ctr[:], rest[:8])
	if d.encrypted, rest, ok = readData(rest[8:]); !ok {
		return nil, false
	}
	d.authenticated = whole[:len(whole)-len(rest)]
	if len(rest) < 20 {
		return nil, false
	}
	d.mac, rest = rest[:20], rest[20:]
	if d.revealedMACKeys, rest, ok = readData(rest); !ok || len(rest) != 0 {
		return nil, false
	}
	return d, true
}

var errNoKeys = errors.New("otr: no session keys")

// headerLen is the length appendHeader writes for h.
func headerLen(h header) int {
	if h.version == 3 {
		return 2 + 1 + 4 + 4
	}
	return 2 + 1
}

// sealParts builds a data message carrying msg and tlvs, using
// our_dh[our_keyid-1] and their_y[their_keyid] as the spec says, and
// reveals queued MAC keys. The message is built in one buffer of the exact
// size and the plaintext is encrypted in place there.
func (k *keyState) sealParts(h header, flags byte, msg []byte, tlvs []tlv) ([]byte, *sessionKeys, error) {
	if k == nil || k.theirCur == nil || k.ourPrev.priv == nil {
		return nil, nil, errNoKeys
	}
	s := k.session(k.ourKeyID-1, k.theirKeyID)
	if s.sendCtr == ^uint64(0) {
		return nil, nil, errors.New("otr: counter exhausted; restart the conversation")
	}
	s.sendCtr++
	var ctr [8]byte
	binary.BigEndian.PutUint64(ctr[:], s.sendCtr)
	h.typ = msgData
	plainLen := plaintextLen(msg, tlvs)
	if k.ourCurMPI == nil {
		k.ourCurMPI = appendMPI(nil, k.ourCur.pub)
	}
	out := slices.Grow(k.sealBuf[:0], headerLen(h)+1+4+4+len(k.ourCurMPI)+len(ctr)+
		4+plainLen+sha1.Size+4+len(k.oldMACs))
	out = appendHeader(out, h)
	out = appendByte(out, flags)
	out = appendInt(out, k.ourKeyID-1)
	out = appendInt(out, k.theirKeyID)
	out = append(out, k.ourCurMPI...)
	out = append(out, ctr[:]...)
	out = appendInt(out, uint32(plainLen))
	start := len(out)
	out = appendPlaintext(out, msg, tlvs)
	block, mac := s.sendCipher()
	ctrStream(block, ctr[:]).XORKeyStream(out[start:], out[start:])
	mac.Reset()
	mac.Write(out)
	out = mac.Sum(out)
	out = appendData(out, k.oldMACs)
	k.oldMACs = nil
	k.sealBuf = out
	return out, s, nil
}

// openResult says why a data message could not be opened.
type openProblem int

const (
	openOK         openProblem = iota
	openUnreadable             // keys we do not have
	openBadMAC
	openReplay
	openBadDH
)

// open verifies and decrypts a data message, then rotates keys. It changes
// no state unless the message is authentic, fresh and well-formed. It
// decrypts d.encrypted in place and returns that slice.
func (k *keyState) open(d *dataMessage, rand func() (dhPair, error)) ([]byte, *sessionKeys, openProblem, error) {
	if k == nil || !k.live(d.recipientKeyID, d.senderKeyID) {
		return nil, nil, openUnreadable, nil
	}
	s := k.session(d.recipientKeyID, d.senderKeyID)
	block, mac := s.recvCipher()
	mac.Reset()
	mac.Write(d.authenticated)
	var sum [sha1.Size]byte
	if subtle.ConstantTimeCompare(mac.Sum(sum[:0]), d.mac) != 1 {
		return nil, nil, openBadMAC, nil
	}
	ctr := binary.BigEndian.Uint64(d.ctr[:])
	if ctr <= s.recvCtr {
		return nil, nil, openReplay, nil
	}
	rotateTheirs := d.senderKeyID == k.theirKeyID
	var nextDH *big.Int
	if rotateTheirs {
		if nextDH = new(big.Int).SetBytes(d.nextDH); !validGroupElement(nextDH) {
			return nil, nil, openBadDH, nil
		}
	}
	var next dhPair
	if d.recipientKeyID == k.ourKeyID {
		var err error
		if next, err = rand(); err != nil {
			return nil, nil, openOK, err
		}
	}
	s.recvCtr = ctr
	s.recvMACUsed = true
	plain := d.encrypted // decrypted in place: the buffer is ours (see decode)
	ctrStream(block, d.ctr[:]).XORKeyStream(plain, plain)
	if d.recipientKeyID == k.ourKeyID {
		// He has seen our newest key: forget the previous one.
		k.forget(true, k.ourKeyID-1)
		wipeInts(k.ourPrev.priv)
		k.ourPrev, k.ourCur = k.ourCur, next
		k.ourCurMPI = nil
		k.ourKeyID++
	}
	if rotateTheirs {
		k.forget(false, k.theirKeyID-1)
		k.theirPrev, k.theirCur = k.theirCur, nextDH
		k.theirKeyID++
	}
	return plain, s, openOK, nil
}

// live reports whether both keyids name keys we still hold.
func (k *keyState) live(ourID, theirID uint32) bool {
	ourOK := ourID != 0 && (ourID == k.ourKeyID || (ourID == k.ourKeyID-1 && k.ourPrev.priv != nil))
	theirOK := theirID != 0 && (theirID == k.theirKeyID || (theirID == k.theirKeyID-1 && k.theirPrev != nil))
	return ourOK && theirOK
}

// splitPlaintext separates the human-readable part from the TLVs that
// follow a NUL. Malformed TLV data is dropped rather than shown.
func splitPlaintext(p []byte) ([]byte, []tlv) {
	i := bytes.IndexByte(p, 0) // vectorised; a byte loop was 7% of a receive
	if i < 0 {
		return p, nil
	}
	tlvs, ok := parseTLVs(p[i+1:])
	if !ok {
		tlvs = nil
	}
	return p[:i], tlvs
}

// plaintextLen is the length of the plaintext appendPlaintext writes.
func plaintextLen(msg []byte, tlvs []tlv) int {
	n := len(msg)
	if len(tlvs) > 0 {
		n++
		for _, t := range tlvs {
			n += 4 + len(t.value)
		}
	}
	return n
}

// appendPlaintext is the inverse of splitPlaintext: msg, then a NUL and
// the TLVs if there are any.
func appendPlaintext(out, msg []byte, tlvs []tlv) []byte {
	out = append(out, msg...)
	if len(tlvs) == 0 {
		return out
	}
	out = append(out, 0)
	for _, t := range tlvs {
		out = appendTLV(out, t)
	}
	return out
}
