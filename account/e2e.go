package account

// The seam between the account loop and an end-to-end protocol. The loop
// (private.go, security.go, chat.go) decides what may be sent and what the
// user is told; a protocol session only encrypts, decrypts, authenticates
// and reports what changed. OTR is the one protocol today (otrsession.go);
// a second one (OMEMO) implements the same interface.
//
// The rule the interface exists for: every line a session decrypts comes
// back with the level and key of the session that decrypted it (e2eIn), so
// the loop labels that line with the protection it had — never with the
// level of whatever session happens to be current.

import "time"

// e2eState is a protocol session's state as the loop needs it.
type e2eState int

const (
	e2ePlain     e2eState = iota // no end-to-end session: text goes in the clear
	e2eEncrypted                 // messages go encrypted to the current session
	e2eFinished                  // the peer ended it: nothing may be sent until the user acts
)

// e2eKind says what a protocol session reports.
type e2eKind int

const (
	evPrivate        e2eKind = iota + 1 // a session was set up (Renewed: it replaced a private one)
	evPeerEnded                         // the peer ended the session: Finished
	evVerifyAsked                       // the peer asks us to prove we know a secret (Question may be "")
	evVerifyDone                        // a verification finished: Outcome
	evUnreadable                        // a message for a session we do not have
	evMalformed                         // a message that failed a check and was dropped
	evPeerError                         // the peer's client reported a protocol error
	evPlainWhilePriv                    // a plain message arrived where privacy was expected
	evMisdirected                       // a message for another session of ours (e.g. from before a restart)
)

// e2eEvent is one change in a protocol session.
type e2eEvent struct {
	Kind e2eKind
	// Key is the fingerprint of the peer's key in the session the event
	// is about ("" if it has none).
	Key string
	// Current is true when the event is about the session outgoing
	// messages go to (a peer may run several, one per device).
	Current  bool
	Renewed  bool       // evPrivate: the session replaced a private one
	Question string     // evVerifyAsked
	Outcome  SMPOutcome // evVerifyDone
	Text     string     // evUnreadable, evMalformed, evPeerError: the detail
}

// e2eOut is what a call on a session produced: protocol messages to put
// on the wire, and events.
type e2eOut struct {
	Send   []string
	Events []e2eEvent
}

// e2eIn is what receiving one message produced.
type e2eIn struct {
	e2eOut
	// Text is the message to show, if the body carried one.
	Text    string
	HasText bool
	// Encrypted is true only for text that was decrypted and
	// authenticated; Key is then the key of the session that did it, and
	// Current says whether that session is the current one.
	Encrypted bool
	Key       string
	Current   bool
}

// e2eSession is one end-to-end protocol's state with one peer address
// (a contact's resource), owned by the account loop. It does no I/O and
// is not safe for concurrent use.
type e2eSession interface {
	// Protocol names the protocol for the user ("OTR").
	Protocol() string
	// State and PeerKey describe the current session (the one outgoing
	// messages go to).
	State() e2eState
	PeerKey() (string, bool)
	// AnyPrivate reports whether any of its sessions, not only the
	// current one, is encrypted or finished.
	AnyPrivate() bool
	// Start offers a private session to the peer.
	Start() []string
	// Send prepares one message typed by the user for the current
	// session: encrypted when State is e2eEncrypted, else as the protocol
	// sends plain text (the loop decides whether that is allowed).
	Send(text string) (e2eOut, error)
	Receive(body string) (e2eIn, error)
	// End ends the current session and tells the peer.
	End() (e2eOut, error)
	// Verify asks the peer to prove it knows secret; Answer answers the
	// peer's request; AbortVerify gives up a verification in progress.
	Verify(question, secret string) (e2eOut, error)
	Answer(secret string) (e2eOut, error)
	AbortVerify() (e2eOut, error)
	// Tick returns what the protocol sends by itself (heartbeats).
	Tick() []string
	// NextTick is when Tick will next have something to send (by the
	// manager's clock); false: nothing until a message comes or goes.
	NextTick() (time.Time, bool)
	// SetPolicy makes a new policy apply; a session that is not private
	// starts over, forgetting its state.
	SetPolicy(Policy) error
	// Forget wipes every secret without sending anything.
	Forget()
	// Protected reports whether a wire body is this protocol's own text
	// (ciphertext or protocol message), never a user's plain text.
	Protected(body string) bool
}
