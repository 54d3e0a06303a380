package otr

// The Socialist Millionaires' Protocol sub-machine, spec §"Socialist
// Millionaires' Protocol (SMP)" (../shared/spec/otr-protocol-v3.html). The
// conversation feeds it SMP TLVs (types 2..7) that arrived inside
// authenticated data messages and sends whatever TLVs it returns the same way.
//
// Everything is computed in the 1536-bit group (groupP, g1 = groupG) with
// exponent arithmetic mod q = (p-1)/2, exactly as the spec and libotr 4.1.1
// do: random exponents are full 1536-bit numbers, hashes are
// SHA256(version byte || MPI || MPI), and the MPI counts of each message are
// fixed. The number of modular exponentiations is the spec's minimum (see
// the comment on each step; s.exps counts them for the tests):
//
//	initiator: start 4, SMP2 received 20, SMP4 received 5 = 29
//	responder: SMP1 received 4, respond 12, SMP3 received 13 = 29

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
)

// smpEventKind tells the conversation what an SMP step means for the user.
type smpEventKind int

const (
	smpNone         smpEventKind = iota
	smpQuestion                  // peer started SMP with a question; call respond
	smpSecretNeeded              // peer started SMP without a question; call respond
	smpSucceeded                 // the secrets are equal
	smpFailed                    // the secrets differ
	smpAborted                   // aborted by the peer, by us, or by an out-of-order TLV
	smpCheated                   // a received value or proof failed its check
)

// smpPhase is the spec's smpstate, plus smpWaitSecret: a valid SMP1 arrived
// and the user has not answered yet. The spec computes SMP2 at once, so for
// the spec (and libotr) this phase is still SMPSTATE_EXPECT1: a new SMP1
// replaces the pending one.
type smpPhase int

const (
	smpExpect1 smpPhase = iota // idle; the zero value
	smpWaitSecret
	smpExpect2
	smpExpect3
	smpExpect4
)

const (
	smpExpBytes   = 192 // 1536-bit random exponents, as libotr uses
	smpMaxMPIs    = 16  // bound for readMPIs; the largest message has 11
	smpHashMaxLen = 256 // c values are SHA-256 outputs
	maxTLVValue   = 0xffff
)

var (
	errSMPBusy     = errors.New("otr: smp already in progress")
	errSMPNotAsked = errors.New("otr: no smp request to respond to")
)

// smpState is one side of an SMP run. The zero value is idle (expecting
// SMP1). It is owned by a Conversation and, like it, not safe for
// concurrent use.
type smpState struct {
	phase smpPhase
	x     *big.Int // our secret: x for the initiator, y for the responder
	e2    *big.Int // our DH exponent for g2 (a2 or b2)
	e3    *big.Int // our DH exponent for g3 (a3 or b3)
	g2o   *big.Int // the peer's g1^e2 (g2a or g2b)
	g3o   *big.Int // the peer's g1^e3 (g3a or g3b)
	g2    *big.Int
	g3    *big.Int
	p     *big.Int // responder: Pb
	q     *big.Int // responder: Qb
	pab   *big.Int // initiator: Pa/Pb
	qab   *big.Int // initiator: Qa/Qb
	exps  int      // modular exponentiations done so far (for tests)
}

// smpSecret derives the SMP secret from the user's input, spec §"Secret
// information": SHA256(0x01 || initiator fp || responder fp || ssid || secret).
func smpSecret(initiatorFP, responderFP Fingerprint, ssid [8]byte, secret []byte) *big.Int {
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(initiatorFP[:])
	h.Write(responderFP[:])
	h.Write(ssid[:])
	h.Write(secret)
	return new(big.Int).SetBytes(h.Sum(nil))
}

// inProgress reports whether an SMP run has started and not finished,
// including a received request the user has not answered yet.
func (s *smpState) inProgress() bool { return s.phase != smpExpect1 }

// abort resets the state and returns the SMP abort TLV to send, spec
// §"User requests to abort SMP".
func (s *smpState) abort() tlv {
	s.wipe()
	return tlv{typ: tlvSMPAbort}
}

// wipe forgets every secret and returns to SMPSTATE_EXPECT1. big.Int
// copies made inside math/big cannot be reached; this clears what we hold.
func (s *smpState) wipe() {
	for _, x := range []*big.Int{s.x, s.e2, s.e3, s.g2o, s.g3o, s.g2, s.g3, s.p, s.q, s.pab, s.qab} {
		wipeInt(x)
	}
	exps := s.exps
	*s = smpState{exps: exps}
}

func wipeInt(x *big.Int) {
	if x == nil {
		return
	}
	clear(x.Bits())
	x.SetInt64(0)
}

// start begins SMP as the initiator, spec §"User requests to begin SMP".
// x is smpSecret(ours, theirs, ssid, input). A non-empty question makes it
// an SMP1Q: the question's bytes and a NUL precede the MPIs. If a run is in
// progress start fails; the caller aborts first if the user wants to restart.
func (s *smpState) start(rand io.Reader, x *big.Int, question string) (tlv, error) {
	if s.inProgress() {
		return tlv{}, errSMPBusy
	}
	if strings.IndexByte(question, 0) >= 0 {
		return tlv{}, errors.New("otr: smp question must not contain NUL")
	}
	a2, a3, r2, r3, err := randExps4(rand)
	if err != nil {
		return tlv{}, err
	}
	// 4 exponentiations: g2a, g3a and the two proof commitments.
	g2a := s.expG(a2)
	g3a := s.expG(a3)
	c2, d2 := s.proveLog(1, r2, a2)
	c3, d3 := s.proveLog(2, r3, a3)
	t := tlv{typ: tlvSMP1}
	if question != "" {
		t.typ = tlvSMP1Q
		t.value = append([]byte(question), 0)
	}
	t.value = appendMPIs(t.value, g2a, c2, d2, g3a, c3, d3)
	if len(t.value) > maxTLVValue {
		return tlv{}, errors.New("otr: smp question too long")
	}
	s.x = new(big.Int).Set(x)
	s.e2, s.e3 = a2, a3
	s.phase = smpExpect2
	return t, nil
}

// receive handles one SMP TLV (types 2..7); other types are ignored. It
// returns the TLVs to send back, what happened, and the question of an
// SMP1Q.
func (s *smpState) receive(rand io.Reader, t tlv) (reply []tlv, ev smpEventKind, question string) {
	var err error
	switch t.typ {
	case tlvSMPAbort:
		s.wipe()
		return nil, smpAborted, ""
	case tlvSMP1, tlvSMP1Q:
		if s.phase != smpExpect1 && s.phase != smpWaitSecret {
			return s.outOfOrder()
		}
		return s.receive1(t)
	case tlvSMP2:
		if s.phase != smpExpect2 {
			return s.outOfOrder()
		}
		reply, err = s.receive2(rand, t.value)
		if err != nil {
			return s.failed(err)
		}
		return reply, smpNone, ""
	case tlvSMP3:
		if s.phase != smpExpect3 {
			return s.outOfOrder()
		}
		return s.receive3(rand, t.value)
	case tlvSMP4:
		if s.phase != smpExpect4 {
			return s.outOfOrder()
		}
		return s.receive4(t.value)
	}
	return nil, smpNone, ""
}

// errSMPRand marks a failure of our own random source, which is not the
// peer's fault: the run is aborted, not reported as cheating.
var errSMPRand = errors.New("otr: smp random source failed")

// errSMPCheck marks a received value or proof that failed its check.
var errSMPCheck = errors.New("otr: smp check failed")

// outOfOrder implements "If smpstate is not SMPSTATE_EXPECTn: set smpstate
// to SMPSTATE_EXPECT1 and send a type 6 TLV (SMP abort)".
func (s *smpState) outOfOrder() ([]tlv, smpEventKind, string) {
	return []tlv{s.abort()}, smpAborted, ""
}

// failed resets after a failed step and tells the peer with an abort TLV.
func (s *smpState) failed(err error) ([]tlv, smpEventKind, string) {
	if errors.Is(err, errSMPRand) {
		return []tlv{s.abort()}, smpAborted, ""
	}
	return []tlv{s.abort()}, smpCheated, ""
}

// receive1 verifies SMP1/SMP1Q, spec §"Receiving a type 2 TLV". SMP2 is
// only built by respond, once the user has entered the secret.
// 4 exponentiations.
func (s *smpState) receive1(t tlv) ([]tlv, smpEventKind, string) {
	b := t.value
	var question string
	if t.typ == tlvSMP1Q {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return s.failed(errSMPCheck)
		}
		question = strings.ToValidUTF8(string(b[:i]), "\uFFFD")
		b = b[i+1:]
	}
	m, ok := parseSMP(b, 6)
	if !ok {
		return s.failed(errSMPCheck)
	}
	g2a, c2, d2, g3a, c3, d3 := m[0], m[1], m[2], m[3], m[4], m[5]
	if !validElems(g2a, g3a) || !validHashes(c2, c3) || !validExps(d2, d3) ||
		!s.checkLog(1, c2, d2, g2a) || !s.checkLog(2, c3, d3, g3a) {
		return s.failed(errSMPCheck)
	}
	s.wipe() // a new SMP1 replaces a request still waiting for an answer
	s.g2o, s.g3o = g2a, g3a
	s.phase = smpWaitSecret
	if t.typ == tlvSMP1Q {
		return nil, smpQuestion, question
	}
	return nil, smpSecretNeeded, ""
}

// respond answers a received SMP1 with SMP2, spec §"Receiving a type 2 TLV"
// (second half). y is smpSecret(theirs, ours, ssid, input). On a random
// source failure the request stays pending. 12 exponentiations.
func (s *smpState) respond(rand io.Reader, y *big.Int) (tlv, error) {
	if s.phase != smpWaitSecret {
		return tlv{}, errSMPNotAsked
	}
	b2, b3, r2, r3, err := randExps4(rand)
	if err != nil {
		return tlv{}, err
	}
	r4, r5, r6, err := randExps3(rand)
	if err != nil {
		return tlv{}, err
	}
	g2b := s.expG(b2)
	g3b := s.expG(b3)
	c2, d2 := s.proveLog(3, r2, b2)
	c3, d3 := s.proveLog(4, r3, b3)
	s.g2 = s.exp(s.g2o, b2)
	s.g3 = s.exp(s.g3o, b3)
	s.x = new(big.Int).Set(y)
	s.p = s.exp(s.g3, r4)
	s.q = mulMod(s.expG(r4), s.exp(s.g2, y))
	cp, d5, d6 := s.provePQ(5, r4, r5, r6)
	wipeInt(b2)
	s.e3 = b3
	s.phase = smpExpect3
	v := appendMPIs(nil, g2b, c2, d2, g3b, c3, d3, s.p, s.q, cp, d5, d6)
	return tlv{typ: tlvSMP2, value: v}, nil
}

// receive2 verifies SMP2 and builds SMP3, spec §"Receiving a type 3 TLV".
// 11 exponentiations to verify and derive g2, g3; 9 to build SMP3.
func (s *smpState) receive2(rand io.Reader, b []byte) ([]tlv, error) {
	m, ok := parseSMP(b, 11)
	if !ok {
		return nil, errSMPCheck
	}
	g2b, c2, d2, g3b, c3, d3 := m[0], m[1], m[2], m[3], m[4], m[5]
	pb, qb, cp, d5, d6 := m[6], m[7], m[8], m[9], m[10]
	if !validElems(g2b, g3b, pb, qb) || !validHashes(c2, c3, cp) || !validExps(d2, d3, d5, d6) ||
		!s.checkLog(3, c2, d2, g2b) || !s.checkLog(4, c3, d3, g3b) {
		return nil, errSMPCheck
	}
	s.g2 = s.exp(g2b, s.e2)
	s.g3 = s.exp(g3b, s.e3)
	if !s.checkPQ(5, cp, d5, d6, pb, qb) {
		return nil, errSMPCheck
	}
	r4, r5, r6, r7, err := randExps4(rand)
	if err != nil {
		return nil, err
	}
	pa := s.exp(s.g3, r4)
	qa := mulMod(s.expG(r4), s.exp(s.g2, s.x))
	cpA, d5A, d6A := s.provePQ(6, r4, r5, r6)
	s.qab = divMod(qa, qb)
	ra := s.exp(s.qab, s.e3)
	cr, d7 := s.proveR(7, r7, s.e3, s.qab)
	s.pab = divMod(pa, pb)
	s.g3o = g3b
	wipeInt(s.x)
	wipeInt(s.e2)
	s.phase = smpExpect4
	v := appendMPIs(nil, pa, qa, cpA, d5A, d6A, ra, cr, d7)
	return []tlv{{typ: tlvSMP3, value: v}}, nil
}

// receive3 verifies SMP3, answers with SMP4 and decides, spec §"Receiving a
// type 4 TLV". 9 exponentiations to verify, 3 for SMP4, 1 for Rab.
func (s *smpState) receive3(rand io.Reader, b []byte) ([]tlv, smpEventKind, string) {
	m, ok := parseSMP(b, 8)
	if !ok {
		return s.failed(errSMPCheck)
	}
	pa, qa, cp, d5, d6, ra, cr, d7 := m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]
	if !validElems(pa, qa, ra) || !validHashes(cp, cr) || !validExps(d5, d6, d7) ||
		!s.checkPQ(6, cp, d5, d6, pa, qa) {
		return s.failed(errSMPCheck)
	}
	qab := divMod(qa, s.q)
	if !s.checkR(7, cr, d7, s.g3o, qab, ra) {
		return s.failed(errSMPCheck)
	}
	r7, err := randExp(rand)
	if err != nil {
		return s.failed(err)
	}
	rb := s.exp(qab, s.e3)
	crB, d7B := s.proveR(8, r7, s.e3, qab)
	rab := s.exp(ra, s.e3)
	equal := rab.Cmp(divMod(pa, s.p)) == 0
	s.wipe()
	reply := []tlv{{typ: tlvSMP4, value: appendMPIs(nil, rb, crB, d7B)}}
	if equal {
		return reply, smpSucceeded, ""
	}
	return reply, smpFailed, ""
}

// receive4 verifies SMP4 and decides, spec §"Receiving a type 5 TLV".
// 4 exponentiations to verify, 1 for Rab.
func (s *smpState) receive4(b []byte) ([]tlv, smpEventKind, string) {
	m, ok := parseSMP(b, 3)
	if !ok {
		return s.failed(errSMPCheck)
	}
	rb, cr, d7 := m[0], m[1], m[2]
	if !validElems(rb) || !validHashes(cr) || !validExps(d7) ||
		!s.checkR(8, cr, d7, s.g3o, s.qab, rb) {
		return s.failed(errSMPCheck)
	}
	rab := s.exp(rb, s.e3)
	equal := rab.Cmp(s.pab) == 0
	s.wipe()
	if equal {
		return nil, smpSucceeded, ""
	}
	return nil, smpFailed, ""
}

// The zero-knowledge proofs. Each proveX picks nothing itself: the caller
// passes fresh random exponents. Each checkX recomputes the hash from the
// received D and c values and compares it with c. The numbers in the
// comments are the exponentiations each one costs.

// proveLog proves knowledge of e in g1^e: c = h(v, g1^r), D = r - e c mod q. (1)
func (s *smpState) proveLog(v byte, r, e *big.Int) (c, d *big.Int) {
	c = smpHash(v, s.expG(r), nil)
	return c, subMulQ(r, e, c)
}

// checkLog verifies c = h(v, g1^D gx^c). (2)
func (s *smpState) checkLog(v byte, c, d, gx *big.Int) bool {
	return smpHash(v, mulMod(s.expG(d), s.exp(gx, c)), nil).Cmp(c) == 0
}

// provePQ proves P = g3^r4, Q = g1^r4 g2^x: cP = h(v, g3^r5, g1^r5 g2^r6),
// D5 = r5 - r4 cP, D6 = r6 - x cP (mod q). (3)
func (s *smpState) provePQ(v byte, r4, r5, r6 *big.Int) (cp, d5, d6 *big.Int) {
	cp = smpHash(v, s.exp(s.g3, r5), mulMod(s.expG(r5), s.exp(s.g2, r6)))
	return cp, subMulQ(r5, r4, cp), subMulQ(r6, s.x, cp)
}

// checkPQ verifies cP = h(v, g3^D5 P^cP, g1^D5 g2^D6 Q^cP). (5)
func (s *smpState) checkPQ(v byte, cp, d5, d6, p, q *big.Int) bool {
	a := mulMod(s.exp(s.g3, d5), s.exp(p, cp))
	b := mulMod(mulMod(s.expG(d5), s.exp(s.g2, d6)), s.exp(q, cp))
	return smpHash(v, a, b).Cmp(cp) == 0
}

// proveR proves R = qab^e3 uses the e3 of g1^e3: cR = h(v, g1^r7, qab^r7),
// D7 = r7 - e3 cR mod q. (2)
func (s *smpState) proveR(v byte, r7, e3, qab *big.Int) (cr, d7 *big.Int) {
	cr = smpHash(v, s.expG(r7), s.exp(qab, r7))
	return cr, subMulQ(r7, e3, cr)
}

// checkR verifies cR = h(v, g1^D7 g3o^cR, qab^D7 R^cR). (4)
func (s *smpState) checkR(v byte, cr, d7, g3o, qab, r *big.Int) bool {
	a := mulMod(s.expG(d7), s.exp(g3o, cr))
	b := mulMod(s.exp(qab, d7), s.exp(r, cr))
	return smpHash(v, a, b).Cmp(cr) == 0
}

// smpHash is the spec's §"SMP Hash function": SHA256(version || MPI a
// [|| MPI b]), read as an unsigned big-endian integer.
func smpHash(v byte, a, b *big.Int) *big.Int {
	buf := appendMPI([]byte{v}, a)
	if b != nil {
		buf = appendMPI(buf, b)
	}
	sum := sha256.Sum256(buf)
	return new(big.Int).SetBytes(sum[:])
}

func (s *smpState) exp(base, e *big.Int) *big.Int {
	return modExp(&s.exps, base, e)
}

// expG is g1^e from the precomputed tables (fixedbase.go).
func (s *smpState) expG(e *big.Int) *big.Int { return expGSMP(&s.exps, e) }

func mulMod(a, b *big.Int) *big.Int {
	z := new(big.Int).Mul(a, b)
	return z.Mod(z, groupP)
}

// divMod is a / b mod p; b is a checked group element, so it is invertible.
func divMod(a, b *big.Int) *big.Int {
	return mulMod(a, new(big.Int).ModInverse(b, groupP))
}

// subMulQ is r - e c mod q, in [0, q).
func subMulQ(r, e, c *big.Int) *big.Int {
	z := new(big.Int).Mul(e, c)
	z.Sub(r, z)
	return z.Mod(z, groupQ)
}

// parseSMP reads exactly n MPIs (count first) and nothing after them.
func parseSMP(b []byte, n int) ([]*big.Int, bool) {
	m, rest, ok := readMPIs(b, smpMaxMPIs)
	if !ok || len(m) != n || len(rest) != 0 {
		return nil, false
	}
	return m, true
}

func validElems(xs ...*big.Int) bool {
	for _, x := range xs {
		if !validGroupElement(x) {
			return false
		}
	}
	return true
}

// validExps checks the D values of the proofs: 1 <= D < q, as libotr does.
func validExps(xs ...*big.Int) bool {
	for _, x := range xs {
		if !validExponent(x) {
			return false
		}
	}
	return true
}

// validHashes rejects c values longer than a SHA-256 output before we spend
// an exponentiation on them; an honest c always fits.
func validHashes(xs ...*big.Int) bool {
	for _, x := range xs {
		if x.BitLen() > smpHashMaxLen {
			return false
		}
	}
	return true
}

func randExp(rand io.Reader) (*big.Int, error) {
	var buf [smpExpBytes]byte
	if _, err := io.ReadFull(rand, buf[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", errSMPRand, err)
	}
	x := new(big.Int).SetBytes(buf[:])
	clear(buf[:])
	return x, nil
}

func randExps3(rand io.Reader) (a, b, c *big.Int, err error) {
	var xs [3]*big.Int
	for i := range xs {
		if xs[i], err = randExp(rand); err != nil {
			return nil, nil, nil, err
		}
	}
	return xs[0], xs[1], xs[2], nil
}

func randExps4(rand io.Reader) (a, b, c, d *big.Int, err error) {
	if a, b, c, err = randExps3(rand); err != nil {
		return nil, nil, nil, nil, err
	}
	if d, err = randExp(rand); err != nil {
		return nil, nil, nil, nil, err
	}
	return a, b, c, d, nil
}
