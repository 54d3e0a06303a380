package account

// Value types that account hands to the UI. They are plain copies: the UI
// may keep them, nothing in them points into state the account loop owns.

import (
	"time"
)

// Security is the privacy level of one conversation, as the UI shows it.
type Security int

const (
	// NotPrivate: messages travel in the clear (the server can read them).
	NotPrivate Security = iota
	// Unverified: encrypted, but the peer's key has not been verified.
	Unverified
	// Private: encrypted and the peer's fingerprint is verified.
	Private
	// Finished: the peer ended the private conversation; nothing is sent
	// until the user restarts or ends it.
	Finished
)

func (s Security) String() string {
	switch s {
	case Unverified:
		return "Unverified"
	case Private:
		return "Private"
	case Finished:
		return "Finished"
	default:
		return "Not private"
	}
}

// Policy is how eagerly a conversation goes private.
type Policy int

const (
	// Opportunistic advertises OTR and starts it when the peer supports it.
	// It is the default (the zero value).
	Opportunistic Policy = iota
	// Manual starts OTR only when the user asks.
	Manual
	// Always refuses to send anything unencrypted.
	Always
)

func (p Policy) String() string {
	switch p {
	case Manual:
		return "Manual"
	case Always:
		return "Always"
	default:
		return "Opportunistic"
	}
}

// Show is a presence state.
type Show int

const (
	Offline Show = iota
	Available
	Chat
	Away
	XA
	DND
)

func (s Show) String() string {
	return [...]string{"Offline", "Available", "Free to chat", "Away", "Extended away", "Do not disturb"}[s]
}

// ConnState is the state of an account's connection.
type ConnState int

const (
	Disconnected ConnState = iota
	Connecting
	Connected
	// Reconnecting: the link was lost; a retry is scheduled.
	Reconnecting
	// Failed: connecting failed in a way that retrying will not fix
	// (bad password, certificate refused); the user must act.
	Failed
	// KeyringLocked: the keyring that holds the account's password or
	// private key is locked, or did not answer (its unlock prompt may be
	// waiting). Nothing was replaced and the server was not asked; Connect
	// again (Retry) once the user has unlocked it.
	KeyringLocked
)

func (c ConnState) String() string {
	return [...]string{"Offline", "Connecting…", "Online", "Reconnecting…", "Failed", "Keyring locked"}[c]
}

// Settings describe one account as the user configured it. They never
// contain the password (that lives in the secret.Store).
type Settings struct {
	JID      string // bare JID, user@domain
	Resource string // our resource name; "" = "sotto"
	// Server is the host to dial; "" = found through DNS SRV records of
	// the JID's domain (falling back to the domain itself). A Server or a
	// Port set here skips the SRV lookup.
	Server string
	Port   int // 0 = from SRV, else 5222 (STARTTLS) or 5223 (direct TLS)
	// DirectTLS dials TLS at once instead of STARTTLS.
	DirectTLS bool
	// AllowInsecure allows a server without TLS. Off unless the user
	// explicitly opts in; even then PLAIN auth is never used without TLS.
	AllowInsecure bool
	Policy        Policy
	AutoConnect   bool
	// InstanceTag is our OTR instance tag on this account, picked at the
	// first private conversation and kept, as the spec intends (§"Instance
	// Tags"): a peer's session with us survives our restart. 0 until then;
	// saving settings with 0 keeps the stored tag.
	InstanceTag uint32 `json:",omitempty"`
	// ProxyHost, when set, sends the connection through a SOCKS5 proxy
	// (e.g. Tor at 127.0.0.1:9050); the proxy resolves the server's name
	// and no DNS query is made (proxy.go). ProxyPort 0 = 1080.
	ProxyHost string `json:",omitempty"`
	ProxyPort int    `json:",omitempty"`
	ProxyUser string `json:",omitempty"`
	// ProxyPassword is only ever passed in: AddAccount and UpdateAccount
	// move it to the secret store ("" keeps the stored one) and it is
	// never written to the profile nor returned by Accounts.
	ProxyPassword string `json:"-"`
}

// Resource is one connected device of a contact.
type Resource struct {
	Name     string
	Show     Show
	Status   string
	Priority int
}

// Contact is one roster entry with its presence.
type Contact struct {
	JID          string // bare JID
	Name         string // user-chosen name; "" = show the JID
	Groups       []string
	Subscription string // none, to, from, both
	// Pending is true while our subscription request is unanswered.
	Pending   bool
	Resources []Resource // online resources, best first
}

// Show returns the contact's best presence.
func (c Contact) Show() Show {
	if len(c.Resources) == 0 {
		return Offline
	}
	return c.Resources[0].Show
}

// Status returns the status text of the best resource.
func (c Contact) Status() string {
	if len(c.Resources) == 0 {
		return ""
	}
	return c.Resources[0].Status
}

// DisplayName is the name if set, the JID otherwise.
func (c Contact) DisplayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.JID
}

// OutState is the delivery state of one outgoing message.
type OutState int

const (
	SentEncrypted OutState = iota
	SentPlain
	// Queued: held until the conversation is private, then sent encrypted.
	Queued
	// NotSent: refused or failed; Reason says why. The text is kept so the
	// user can retry.
	NotSent
	// Delivered: the peer's client confirmed it (XEP-0184), after
	// SentEncrypted or SentPlain; how it was sent does not change.
	Delivered
	// Sending: written to the server, which has not confirmed it yet
	// (XEP-0198 stream management); SentEncrypted or SentPlain follows
	// once it does, with Confirmed set.
	Sending
	// Removed: the user took a Queued line back (Manager.RemoveQueued);
	// it never leaves.
	Removed
)

func (o OutState) String() string {
	return [...]string{"sent encrypted", "sent in plain", "queued until private", "not sent", "delivered", "sending", "removed"}[o]
}

// SMPOutcome is how an authentication attempt ended.
type SMPOutcome int

const (
	SMPSucceeded SMPOutcome = iota
	SMPFailed
	SMPAborted
	SMPCheated
)

func (o SMPOutcome) String() string {
	return [...]string{"succeeded", "failed", "aborted", "cheated"}[o]
}

// KnownFingerprint is a fingerprint stored in the profile.
type KnownFingerprint struct {
	Account     string // our bare JID
	Contact     string // peer bare JID
	Fingerprint string // 5 groups of 8 hex
	Verified    bool
	// How records how it was verified: "smp", "manual", "imported", "".
	How string
}

// Conversation identifies a chat: our account and the peer's bare JID.
// Resource is set when the conversation is bound to one of the peer's devices.
type Conversation struct {
	Account  string
	Peer     string
	Resource string
}

// Event is anything the account layer publishes. The concrete types below
// are the only implementations.
type Event interface{ isEvent() }

// ConnectionChanged reports the state of an account's connection.
type ConnectionChanged struct {
	Account string
	State   ConnState
	Err     string // plain-language reason when Failed, Reconnecting or KeyringLocked
	RetryIn time.Duration
}

// RosterChanged carries the whole roster of an account.
type RosterChanged struct {
	Account  string
	Contacts []Contact
}

// SubscriptionRequest: someone asks to see our presence.
type SubscriptionRequest struct {
	Account string
	From    string
}

// MessageReceived is a message shown to the user, with the protection
// it had — never the conversation's current level applied to it.
type MessageReceived struct {
	Conv Conversation
	Body string
	// Encrypted is true only when the message arrived inside an
	// authenticated end-to-end message (OTR data message).
	Encrypted bool
	// Level is what protected this line: NotPrivate for a plain one;
	// Private when the session that decrypted it has a key the user
	// verified; Unverified otherwise.
	Level Security
	// Fingerprint is the peer key of the session that decrypted it.
	Fingerprint string
	// OtherSession: the line came through a session other than the one
	// the chat shows and sends to (another device or login of the
	// contact, or someone forging its address); the UI labels it so.
	OtherSession bool
	// OtherEncryption names the end-to-end protocol of a message Sotto
	// cannot read ("OMEMO", "OpenPGP", …; XEP-0380). Body is then only
	// the sender's fallback text and must not be shown as what the peer
	// wrote.
	OtherEncryption string `json:",omitempty"`
	Time            time.Time
	// Protocol names the end-to-end protocol of an Encrypted line
	// ("OTR", "OMEMO"); "" for a plain one.
	Protocol string `json:",omitempty"`
}

// MessageStateChanged reports the fate of an outgoing message (ID from Send).
type MessageStateChanged struct {
	Conv   Conversation
	ID     string
	Body   string
	State  OutState
	Reason string
	// Confirmed: for SentEncrypted and SentPlain, the server acknowledged
	// the message (XEP-0198). False when the server has no stream
	// management: then "sent" means written to the connection, and the
	// server may still lose it.
	Confirmed bool
	// Kept: for Queued, the line is a plain one kept on disk while it
	// waits, so it is sent even if Sotto quits first (waiting.go).
	Kept bool
	Time time.Time
}

// SecurityChanged reports a conversation's privacy level.
type SecurityChanged struct {
	Conv        Conversation
	Level       Security
	Fingerprint string // peer's, 5 groups of 8 hex; "" when NotPrivate
	Verified    bool
	// NewFingerprint: this key was never seen for this contact before.
	NewFingerprint bool
	// KeyChanged: a contact with a verified key showed up with a different one.
	KeyChanged bool
	// Reason is a short system line for the chat ("bob ended the private
	// conversation", ...).
	Reason string
	// Protocol is the conversation's end-to-end protocol ("OTR",
	// "OMEMO"). With OMEMO, Fingerprint is "" (every device has its own:
	// Manager.OMEMODevices) and Private means every device of the
	// contact is verified.
	Protocol string
}

// SMPRequested: the peer wants to authenticate; the UI asks for the answer.
type SMPRequested struct {
	Conv     Conversation
	Question string // "" = shared secret
}

// SMPResult: an authentication attempt finished.
type SMPResult struct {
	Conv    Conversation
	Outcome SMPOutcome
	// WeAsked is true when we started this attempt. After a success where
	// the peer asked, the UI offers to verify the peer too.
	WeAsked bool
}

// CertificateQuestion: a server presented a certificate the system does
// not trust (trust on first use), or a pinned certificate changed. The
// connection waits in Failed state until the user calls TrustCertificate.
type CertificateQuestion struct {
	Account     string
	Fingerprint string // SHA-256 of the certificate, hex
	Subject     string
	Changed     bool // a different certificate was pinned before: loud warning
}

// Notice is a line for the chat or a status bar: unreadable message, an
// OTR error from the peer, a malformed stanza, a refused action.
type Notice struct {
	Conv Conversation
	Text string
}

func (ConnectionChanged) isEvent()   {}
func (RosterChanged) isEvent()       {}
func (SubscriptionRequest) isEvent() {}
func (MessageReceived) isEvent()     {}
func (MessageStateChanged) isEvent() {}
func (SecurityChanged) isEvent()     {}
func (SMPRequested) isEvent()        {}
func (SMPResult) isEvent()           {}
func (CertificateQuestion) isEvent() {}
func (Notice) isEvent()              {}
