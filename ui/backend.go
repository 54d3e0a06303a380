package ui

import (
	"context"

	"github.com/sotto-im/sotto/account"
)

// The interfaces below are the slices of *account.Manager each window
// needs. Their method sets are copied from account.Manager (the API and
// its documentation are in package account, manager.go) so the manager
// satisfies Backend as is (manager_test.go checks it); tests use a fake.

// Sender sends chat messages.
type Sender interface {
	// Send returns the message id; its fate arrives as MessageStateChanged.
	Send(ctx context.Context, conv account.Conversation, body string) (string, error)
	// Resend sends a NotSent line again, under the same id (a line that
	// needed privacy still only goes encrypted); account.ErrNothingToResend
	// when it is not waiting to be resent (sent meanwhile, or from before
	// a restart).
	Resend(ctx context.Context, conv account.Conversation, id string) error
	// RemoveQueued takes back a Queued line: it is reported Removed and
	// never sent; account.ErrNotWaiting when it left meanwhile.
	RemoveQueued(ctx context.Context, conv account.Conversation, id string) error
}

// Privacy drives OTR for one conversation.
type Privacy interface {
	StartPrivate(ctx context.Context, conv account.Conversation) error
	EndPrivate(ctx context.Context, conv account.Conversation) error
	// UseOMEMO chooses OMEMO (true, the default) or OTR for one contact
	// that publishes OMEMO devices; UsesOMEMO reads the choice.
	UseOMEMO(ctx context.Context, acct, contact string, use bool) error
	UsesOMEMO(ctx context.Context, acct, contact string) (bool, error)
	Authenticate(ctx context.Context, conv account.Conversation, question, secret string) error
	AnswerSMP(ctx context.Context, conv account.Conversation, secret string) error
	AbortSMP(ctx context.Context, conv account.Conversation) error
	Security(conv account.Conversation) account.SecurityChanged
	// Policy is the policy that applies to a conversation: the contact's
	// own, else the account's. It reads no network or keyring, so it may
	// be called on the UI goroutine.
	Policy(acct, contact string) account.Policy
	SetPolicy(ctx context.Context, acct, contact string, p account.Policy) error
}

// Keys manages our own keys and the fingerprints of contacts.
type Keys interface {
	SetVerified(ctx context.Context, acct, contact, fingerprint string, verified bool) error
	Fingerprints() []account.KnownFingerprint
	ForgetFingerprint(ctx context.Context, acct, contact, fingerprint string) error
	OwnFingerprint(ctx context.Context, acct string) (string, error)
	GenerateKey(ctx context.Context, acct string) (fingerprint string, err error)
}

// OMEMO lists devices and their fingerprints and records the user's
// trust decisions (account/omemoapi.go). Every method asks the account's
// loop: call them off the UI goroutine.
type OMEMO interface {
	// OMEMODevices: jid's devices (a contact, or acct itself for ours).
	OMEMODevices(ctx context.Context, acct, jid string) ([]account.OMEMODevice, error)
	// SetOMEMOTrust: fingerprint is the one the user compared.
	SetOMEMOTrust(ctx context.Context, acct, jid string, device uint32, fingerprint string, t account.OMEMOTrust) error
	OwnOMEMO(ctx context.Context, acct string) (account.OMEMOIdentity, error)
	// VerifyOMEMOURI returns how many devices it verified.
	VerifyOMEMOURI(ctx context.Context, acct, uri string) (int, error)
	RemoveOMEMODevice(ctx context.Context, acct string, device uint32) error
}

// Roster changes contacts and presence.
type Roster interface {
	SetPresence(ctx context.Context, acct string, show account.Show, status string) error
	AddContact(ctx context.Context, acct, jid, name string, groups []string) error
	RemoveContact(ctx context.Context, acct, jid string) error
	// RenameContact sets a roster entry's name and groups.
	RenameContact(ctx context.Context, acct, jid, name string, groups []string) error
	AnswerSubscription(ctx context.Context, acct, from string, accept bool) error
}

// Accounts adds, removes and connects accounts.
type Accounts interface {
	Accounts() []account.Settings
	AddAccount(ctx context.Context, s account.Settings, password string) error
	// UpdateAccount changes settings; password "" keeps the stored one.
	UpdateAccount(ctx context.Context, s account.Settings, password string) error
	RemoveAccount(ctx context.Context, jid string) error
	Connect(ctx context.Context, jid string) error
	Disconnect(ctx context.Context, jid string) error
	TestConnection(ctx context.Context, s account.Settings, password string) error
	TrustCertificate(ctx context.Context, acct, sha256hex string) error
	// Unsent lists the conversations with lines that have not reached
	// the server: those lost if Sotto quits now, and those kept on disk.
	Unsent(ctx context.Context) ([]account.UnsentLines, error)
	// CachedRoster is the roster acct had last time, everyone offline,
	// read without waiting for the account (false: none).
	CachedRoster(acct string) ([]account.Contact, bool)
}

// Importer imports accounts, OTR keys and fingerprints from a Pidgin
// profile folder (~/.purple). It stores what it found (passwords are not
// imported) and returns the accounts it added. The account helper provides
// it on *account.Manager.
type Importer interface {
	ImportPidgin(ctx context.Context, dir string) ([]account.Settings, error)
}

// PlainHistory reads and clears the local history of chats that were not
// private (kept only while account.Prefs.PlainHistory is on; private
// conversations are never written). History reads a file: call it off the UI goroutine.
type PlainHistory interface {
	// History returns up to max of the last kept lines, oldest first.
	History(acct, peer string, max int) ([]account.HistoryLine, error)
	// ClearHistory deletes the kept lines with peer, or with peer "" all
	// of the account's.
	ClearHistory(ctx context.Context, acct, peer string) error
}

// Signals are the chat extensions besides messages: our typing state,
// and blocking addresses (XEP-0085, XEP-0191).
type Signals interface {
	// SetChatState tells the peer we are typing (or not); it sends
	// nothing when the preference is off or the peer cannot use it.
	SetChatState(ctx context.Context, conv account.Conversation, st account.ChatState) error
	Block(ctx context.Context, acct, addr string) error
	Unblock(ctx context.Context, acct, addr string) error
}

// Backend is everything the UI asks of the account layer.
type Backend interface {
	Signals
	Sender
	Privacy
	Keys
	OMEMO
	Roster
	Accounts
	Importer
	PlainHistory
}
