package otr

// The message state machine, spec §"The protocol state machine": user
// actions (send, start, end) and the glue between the AKE, data messages,
// fragments and SMP. Receiving is in receive.go.

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// A Conversation is one OTR session with one peer instance. It is a pure
// state machine: every method returns the messages to send and the events
// to report, and nothing happens in between calls.
//
// A Conversation is not safe for concurrent use.
type Conversation struct {
	cfg     Config
	ourTag  uint32
	peerTag uint32

	state   MsgState
	version int // of the current (or last, while Finished) session
	ake     ake
	keys    *keyState
	frag    reassembler

	peerKey      *PublicKey
	peerFP       Fingerprint
	ssid         [8]byte
	ssidFirst    bool // we sent the Reveal Signature: the first half is ours
	stopWSTag    bool // a plaintext or AKE message arrived: stop advertising
	lastSent     time.Time
	unansweredRx bool // a data message arrived since our last data message

	smp smpState
	ops opCounts // public-key operations, for tests and benchmarks
}

// NewConversation starts a conversation in MSGSTATE_PLAINTEXT.
func NewConversation(cfg Config) (*Conversation, error) {
	if cfg.Key == nil || cfg.Key.X == nil || cfg.Key.Q == nil {
		return nil, errors.New("otr: config has no private key")
	}
	if cfg.Rand == nil || cfg.Now == nil {
		return nil, errors.New("otr: config needs Rand and Now (use NewConfig)")
	}
	c := &Conversation{cfg: cfg, ourTag: cfg.InstanceTag}
	if c.ourTag != 0 && c.ourTag < minInstanceTag {
		return nil, fmt.Errorf("otr: instance tag %#x is below %#x", c.ourTag, minInstanceTag)
	}
	if c.ourTag == 0 {
		t, err := NewInstanceTag(cfg.Rand)
		if err != nil {
			return nil, err
		}
		c.ourTag = t
	}
	return c, nil
}

// State is the current message state.
func (c *Conversation) State() MsgState { return c.state }

// Version is the protocol version of the current session, 0 before an AKE.
func (c *Conversation) Version() int { return c.version }

// PeerFingerprint is the fingerprint of the key the peer authenticated
// with in the last AKE; ok is false if no AKE has finished.
func (c *Conversation) PeerFingerprint() (Fingerprint, bool) {
	return c.peerFP, c.peerKey != nil
}

// SSID is the secure session id of the current session.
func (c *Conversation) SSID() [8]byte { return c.ssid }

// SSIDHighlightFirst reports whether the first four bytes of the SSID are
// the half our user should read aloud (we sent the Reveal Signature).
func (c *Conversation) SSIDHighlightFirst() bool { return c.ssidFirst }

// OurInstanceTag is our instance tag.
func (c *Conversation) OurInstanceTag() uint32 { return c.ourTag }

// PeerInstanceTag is the peer's instance tag, 0 until a v3 message arrives.
func (c *Conversation) PeerInstanceTag() uint32 { return c.peerTag }

// Query returns an OTR Query Message offering the versions the policy allows.
func (c *Conversation) Query() Result {
	q := queryMessage(c.cfg.Policy)
	if q == nil {
		return Result{}
	}
	return Result{Send: [][]byte{q}}
}

// Send prepares a user message, spec "User types a message to be sent".
// In Plaintext with RequireEncryption it returns ErrEncryptionRequired and
// a query in Result.Send; the caller keeps msg and sends it again after
// EventGoneSecure. In Finished it returns ErrFinished and sends nothing.
func (c *Conversation) Send(msg []byte) (Result, error) {
	var res Result
	if !c.cfg.Policy.enabled() {
		res.Send = [][]byte{bytes.Clone(msg)}
		return res, nil
	}
	switch c.state {
	case StateFinished:
		return res, ErrFinished
	case StateEncrypted:
		if bytes.IndexByte(msg, 0) >= 0 {
			return res, errors.New("otr: message contains a NUL byte")
		}
		err := c.sendData(&res, 0, msg, nil)
		return res, err
	}
	if c.cfg.Policy.has(RequireEncryption) {
		res.Send = [][]byte{queryMessage(c.cfg.Policy)}
		res.event(Event{Kind: EventEncryptionRequired})
		return res, ErrEncryptionRequired
	}
	out := bytes.Clone(msg)
	if c.cfg.Policy.has(SendWhitespaceTag) && !c.stopWSTag {
		out = append(out, whitespaceTag(c.cfg.Policy)...)
	}
	res.Send = [][]byte{out}
	return res, nil
}

// End ends the private conversation, spec "User requests to end an OTR
// conversation": Encrypted sends a Disconnected TLV; every state goes to
// Plaintext and forgets the session keys.
func (c *Conversation) End() (Result, error) {
	var res Result
	var err error
	if c.state == StateEncrypted {
		err = c.sendData(&res, flagIgnoreUnreadable, nil, []tlv{{typ: tlvDisconnected}})
	}
	c.wipeSession()
	c.state = StatePlaintext
	c.version = 0
	c.stopWSTag = false
	return res, err
}

// Tick sends a heartbeat if a data message arrived and we have sent
// nothing for HeartbeatInterval, so the peer's new D-H key gets used.
func (c *Conversation) Tick() Result {
	var res Result
	if c.state == StateEncrypted && c.unansweredRx && c.heartbeatDue() {
		_ = c.sendData(&res, flagIgnoreUnreadable, nil, nil)
	}
	return res
}

// NextTick reports when Tick will next have a heartbeat to send (by the
// Config's clock), so a caller can sleep until then instead of polling;
// false: not until a data message arrives.
func (c *Conversation) NextTick() (time.Time, bool) {
	if c.state != StateEncrypted || !c.unansweredRx {
		return time.Time{}, false
	}
	return c.lastSent.Add(c.cfg.heartbeat()), true
}

func (c *Conversation) heartbeatDue() bool {
	return c.cfg.Now().Sub(c.lastSent) >= c.cfg.heartbeat()
}

// ExtraSymmetricKey sends the extra symmetric key TLV (spec §"Extra
// symmetric key", version 3 only) and returns the key both sides derive
// from the keys of the data message that carries it.
func (c *Conversation) ExtraSymmetricKey(use uint32, useData []byte) ([32]byte, Result, error) {
	var res Result
	var key [32]byte
	if c.state != StateEncrypted {
		return key, res, ErrNotEncrypted
	}
	if c.version != 3 {
		return key, res, errors.New("otr: extra symmetric key needs protocol version 3")
	}
	if len(useData) > 0xffff-4 {
		return key, res, errors.New("otr: extra key use data too long")
	}
	v := appendInt(nil, use)
	v = append(v, useData...)
	s, err := c.sealAndQueue(&res, flagIgnoreUnreadable, nil, []tlv{{typ: tlvExtraSymKey, value: v}})
	if err != nil {
		return key, res, err
	}
	return s.extra, res, nil
}

// sendData encrypts one data message into res.Send.
func (c *Conversation) sendData(res *Result, flags byte, msg []byte, tlvs []tlv) error {
	_, err := c.sealAndQueue(res, flags, msg, tlvs)
	return err
}

func (c *Conversation) sealAndQueue(res *Result, flags byte, msg []byte, tlvs []tlv) (*sessionKeys, error) {
	h := header{version: c.version, sender: c.ourTag, receiver: c.peerTag}
	bin, s, err := c.keys.sealParts(h, flags, msg, tlvs)
	if err != nil {
		return nil, err
	}
	c.queue(res, bin)
	c.lastSent = c.cfg.Now()
	c.unansweredRx = false
	return s, nil
}

// queue encodes a binary message and appends its fragments to res.Send.
func (c *Conversation) queue(res *Result, bin []byte) {
	v := c.version
	if h, _, ok := parseHeader(bin); ok {
		v = h.version
	}
	enc := encode(bin)
	if size := c.cfg.FragmentSize; size <= 0 || len(enc) <= size {
		res.Send = append(res.Send, enc) // the usual case: no fragments
		return
	}
	res.Send = append(res.Send, fragmentMessage(enc, c.cfg.FragmentSize, v, c.ourTag, c.peerTag)...)
}

// Forget wipes every secret the conversation holds (session keys, AKE
// and SMP state) without sending anything, and leaves it in plaintext
// state. The application calls it when it drops a conversation without
// ending it, e.g. when the program quits or evicts an instance. The peer
// is not told: its session stays open until its next data message, which
// we can no longer read, so we answer it with an OTR error (spec
// §"Receiving a Data Message" in plaintext state) and it re-runs the AKE
// or reports the session lost. No key outlives its use in our memory.
func (c *Conversation) Forget() {
	c.wipeSession()
	c.state = StatePlaintext
}

// wipeSession forgets all key material of the session and any AKE and SMP
// in progress.
func (c *Conversation) wipeSession() {
	c.keys.wipe()
	c.keys = nil
	c.ake.wipe()
	c.smp.wipe()
	c.unansweredRx = false
}

// goSecure installs the keys of a finished AKE, spec "Upon completing the
// AKE": every AKE uses fresh D-H keys on both sides, so the old keys are
// always replaced.
func (c *Conversation) goSecure(res *Result, r *akeResult) error {
	next, err := c.newDHPair()
	if err != nil {
		return err
	}
	wasEncrypted := c.state == StateEncrypted
	sameKey := c.peerKey != nil && r.theirKey.Fingerprint() == c.peerFP
	c.keys.wipe()
	if !wasEncrypted || !sameKey {
		c.smp.wipe() // the SMP secret binds the session; a new peer key restarts it
	}
	c.keys = newKeyState(r, next, &c.ops.dh)
	c.state = StateEncrypted
	c.version = r.version
	c.peerKey = r.theirKey
	c.peerFP = r.theirKey.Fingerprint()
	c.ssid = r.ssid
	c.ssidFirst = r.sentReveal
	c.stopWSTag = true
	c.lastSent = c.cfg.Now()
	kind := EventGoneSecure
	if wasEncrypted {
		kind = EventStillSecure
	}
	res.event(Event{Kind: kind, Fingerprint: c.peerFP, Version: c.version})
	return nil
}

func (c *Conversation) newDHPair() (dhPair, error) {
	priv, pub, err := newDH(c.cfg.Rand, &c.ops.dh)
	return dhPair{priv, pub}, err
}

// Authenticate starts the Socialist Millionaires' Protocol with an optional
// question (spec §"User requests to begin SMP"). If a run is already in
// progress it returns ErrSMPInProgress; call AbortSMP first to restart.
func (c *Conversation) Authenticate(question string, secret []byte) (Result, error) {
	var res Result
	if c.state != StateEncrypted {
		return res, ErrNotEncrypted
	}
	if c.smp.inProgress() {
		return res, ErrSMPInProgress
	}
	x := smpSecret(c.cfg.Key.Fingerprint(), c.peerFP, c.ssid, secret)
	t, err := c.smp.start(c.cfg.Rand, x, question)
	if errors.Is(err, errSMPBusy) {
		return res, ErrSMPInProgress
	}
	if err != nil {
		return res, err
	}
	return res, c.sendData(&res, flagIgnoreUnreadable, nil, []tlv{t})
}

// RespondSMP answers the peer's SMP request (after EventSMPQuestion or
// EventSMPSecretNeeded) with our secret.
func (c *Conversation) RespondSMP(secret []byte) (Result, error) {
	var res Result
	if c.state != StateEncrypted {
		return res, ErrNotEncrypted
	}
	y := smpSecret(c.peerFP, c.cfg.Key.Fingerprint(), c.ssid, secret)
	t, err := c.smp.respond(c.cfg.Rand, y)
	if errors.Is(err, errSMPNotAsked) {
		return res, ErrNoSMPRequest
	}
	if err != nil {
		return res, err
	}
	return res, c.sendData(&res, flagIgnoreUnreadable, nil, []tlv{t})
}

// AbortSMP abandons any SMP run and tells the peer (spec §"User requests to
// abort SMP").
func (c *Conversation) AbortSMP() (Result, error) {
	var res Result
	was := c.smp.inProgress()
	t := c.smp.abort()
	if c.state != StateEncrypted {
		return res, nil
	}
	if was {
		res.event(Event{Kind: EventSMPAborted, Text: "aborted by us"})
	}
	return res, c.sendData(&res, flagIgnoreUnreadable, nil, []tlv{t})
}

// SMPInProgress reports whether an SMP run has started and not finished,
// including a peer's request we have not answered yet.
func (c *Conversation) SMPInProgress() bool { return c.smp.inProgress() }

// receiveSMP feeds one SMP TLV of an authentic data message to the SMP
// state machine and sends its reply.
func (c *Conversation) receiveSMP(res *Result, t tlv) error {
	if c.state != StateEncrypted {
		return nil
	}
	reply, ev, question := c.smp.receive(c.cfg.Rand, t)
	switch ev {
	case smpQuestion:
		res.event(Event{Kind: EventSMPQuestion, Question: question})
	case smpSecretNeeded:
		res.event(Event{Kind: EventSMPSecretNeeded})
	case smpSucceeded:
		res.event(Event{Kind: EventSMPSucceeded, Fingerprint: c.peerFP})
	case smpFailed:
		res.event(Event{Kind: EventSMPFailed, Fingerprint: c.peerFP})
	case smpAborted:
		res.event(Event{Kind: EventSMPAborted})
	case smpCheated:
		res.event(Event{Kind: EventSMPCheated})
	}
	if len(reply) == 0 {
		return nil
	}
	return c.sendData(res, flagIgnoreUnreadable, nil, reply)
}
