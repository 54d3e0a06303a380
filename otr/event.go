package otr

import (
	"errors"
	"strconv"
)

// MsgState is the spec's msgstate (§"The protocol state machine").
type MsgState int

// Message states.
const (
	StatePlaintext MsgState = iota
	StateEncrypted
	StateFinished
)

func (s MsgState) String() string {
	switch s {
	case StatePlaintext:
		return "plaintext"
	case StateEncrypted:
		return "encrypted"
	case StateFinished:
		return "finished"
	}
	return "MsgState(" + strconv.Itoa(int(s)) + ")"
}

// TextForAnotherInstance is the Text of an EventInstanceMismatch for a
// message addressed to another instance tag of ours (one we no longer
// have, or another login of the same account).
const TextForAnotherInstance = "message for another instance"

// EventKind says what changed. The zero value is deliberately not a kind,
// so a zero Event is never mistaken for a security event.
type EventKind int

// Event kinds.
const (
	EventGoneSecure         EventKind = iota + 1 // AKE finished: Fingerprint = peer's, Version = 2 or 3
	EventStillSecure                             // AKE refreshed an already-encrypted session
	EventPeerEnded                               // peer sent Disconnected TLV: state is now Finished
	EventSMPQuestion                             // peer started SMP with a question; app must RespondSMP
	EventSMPSecretNeeded                         // peer started SMP without a question; app must RespondSMP
	EventSMPSucceeded                            // SMP finished, secrets equal
	EventSMPFailed                               // SMP finished, secrets differ
	EventSMPAborted                              // peer or we aborted, or an out-of-order message reset it
	EventSMPCheated                              // a proof or group element check failed
	EventUnreadable                              // data message we cannot decrypt; Text explains
	EventMalformed                               // bad base64/structure/MAC/replay; Text explains
	EventErrorReceived                           // "?OTR Error:" from peer; Text = the error text
	EventPlaintextReceived                       // unencrypted message while encrypted/finished or when encryption is required
	EventInstanceMismatch                        // message for another instance or from an unexpected one (ignored)
	EventExtraKey                                // peer sent the extra symmetric key TLV
	EventEncryptionRequired                      // Send refused by policy; a query is in Result.Send
)

var eventNames = [...]string{
	EventGoneSecure:         "gone secure",
	EventStillSecure:        "still secure",
	EventPeerEnded:          "peer ended",
	EventSMPQuestion:        "smp question",
	EventSMPSecretNeeded:    "smp secret needed",
	EventSMPSucceeded:       "smp succeeded",
	EventSMPFailed:          "smp failed",
	EventSMPAborted:         "smp aborted",
	EventSMPCheated:         "smp cheated",
	EventUnreadable:         "unreadable",
	EventMalformed:          "malformed",
	EventErrorReceived:      "error received",
	EventPlaintextReceived:  "plaintext received",
	EventInstanceMismatch:   "instance mismatch",
	EventExtraKey:           "extra key",
	EventEncryptionRequired: "encryption required",
}

func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one security-relevant change reported by the Conversation.
type Event struct {
	Kind        EventKind
	Fingerprint Fingerprint // peer's, for GoneSecure/StillSecure
	Version     int
	Question    string
	Text        string

	ExtraKey     [32]byte
	ExtraUse     uint32
	ExtraUseData []byte
}

// Result is what one call produced.
type Result struct {
	// Plaintext is to be shown to the user; nil if nothing. It never contains
	// OTR control text (tags, queries, encoded messages).
	Plaintext []byte
	// Encrypted is true when Plaintext came out of an authenticated data message.
	Encrypted bool
	// Send are wire messages to deliver to the peer in order, already fragmented.
	Send [][]byte
	// Events are the security-relevant changes, in order.
	Events []Event
}

func (r *Result) event(e Event) { r.Events = append(r.Events, e) }

// Errors callers act on.
var (
	ErrFinished           = errors.New("otr: peer ended the private conversation; end it too or restart it")
	ErrNotEncrypted       = errors.New("otr: conversation is not encrypted")
	ErrEncryptionRequired = errors.New("otr: policy requires encryption; a query was sent")
	ErrSMPInProgress      = errors.New("otr: authentication already in progress")
	ErrNoSMPRequest       = errors.New("otr: peer has not asked to authenticate")
)
