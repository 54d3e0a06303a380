package account

// The history of plain chats: an opt-in (Prefs.PlainHistory) local log of
// messages that travelled in the clear anyway. The files are kept by
// internal/history (where its doc.go describes them); this file decides
// what may go there.
//
// What is written, and why only that. The server, and anyone it shares
// with, can already read a message that was not private; keeping a copy on
// the user's own disk adds little exposure. A private conversation is the
// opposite: OTR's promise (spec §"Introduction": deniability, perfect
// forward secrecy) is that once the session keys are gone nobody can
// recover the text — a file on disk would silently break that promise for
// every message the user believed gone. So a line is written only when ALL
// of these hold, checked in the account loop at the moment the message is
// shown or its fate is known:
//
//   - the user turned PlainHistory on (checked per message, so switching it
//     off stops writing at once; existing files stay until ClearHistory);
//   - incoming: it arrived as plain text (MessageReceived.Encrypted false),
//     and the conversation was plain before and after it was processed;
//   - outgoing: its final state is SentPlain (never Queued, NotSent or
//     SentEncrypted; a message that waited for privacy is never SentPlain);
//   - every conversation the account has with that contact — all its
//     resources and OTR instances — is plain: none is Unverified, Private,
//     Finished or being re-established after a reconnect, and the level the
//     UI was last told for the contact is NotPrivate. A plain line arriving
//     while any of them is private (an attacker, or the peer's other device)
//     is shown with a warning but not kept: the user sees that chat as
//     private.
//
// On disk: <profile>/history/<account>/<hex sha256(peer bare JID)>.jsonl,
// directories 0700, files 0600 (internal/history/doc.go).
//
// The same opt-in and the same "every conversation is plain" rule decide
// whether a plain line that still waits to be sent is kept on disk across
// a restart (waiting.go); a line that needs privacy never is.

import (
	"context"
	"path/filepath"
	"time"

	"github.com/sotto-im/sotto/account/internal/history"
)

// HistoryLine is one kept message of a plain conversation.
type HistoryLine struct {
	Time time.Time
	// Outgoing is true for our own messages.
	Outgoing bool
	Body     string
}

// newHistory is the store in the profile's "history" folder.
func newHistory(p *Profile) *history.Store { return history.New(filepath.Join(p.Dir, "history")) }

// historyPeer is the canonical bare JID the store files peer under (a
// resource is dropped: one file per contact).
func historyPeer(peer string) (string, error) {
	bare, ok := bareJID(peer)
	if !ok {
		return "", errBadContact(peer)
	}
	return bare, nil
}

// appendHistory writes one line. The caller has checked the rules above.
func (m *Manager) appendHistory(account, peer string, out bool, body string, at time.Time) error {
	bare, err := historyPeer(peer)
	if err != nil {
		return err
	}
	return m.hist.Append(account, bare, out, body, at)
}

// History returns up to max of the last kept lines with peer, oldest
// first. Only the end of the file is read (at most 16 MiB), lines that are
// too long or do not parse are skipped. No file is not an error.
func (m *Manager) History(account, peer string, max int) ([]HistoryLine, error) {
	bare, err := historyPeer(peer)
	if err != nil {
		return nil, err
	}
	ls, err := m.hist.Read(account, bare, max)
	if err != nil || len(ls) == 0 {
		return nil, err
	}
	out := make([]HistoryLine, len(ls))
	for i, l := range ls {
		out[i] = HistoryLine{Time: l.Time, Outgoing: l.Outgoing, Body: l.Body}
	}
	return out, nil
}

// ClearHistory deletes the kept lines with peer, or with peer "" every
// contact's of that account. Files are unlinked, not overwritten.
func (m *Manager) ClearHistory(ctx context.Context, account, peer string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if peer != "" {
		bare, err := historyPeer(peer)
		if err != nil {
			return err
		}
		peer = bare
	}
	return m.hist.Clear(account, peer)
}

// peerPlain reports whether every conversation with peer (every resource,
// every OTR instance) is plain and none is being re-established.
func (c *client) peerPlain(peer string) bool {
	for k, pc := range c.convs {
		if k.peer != peer {
			continue
		}
		if pc.refresh || pc.e2e.AnyPrivate() {
			return false
		}
	}
	return c.m.Security(Conversation{Account: c.account(), Peer: peer}).Level == NotPrivate
}

// keepPlain appends a message to the history if the rules at the top of
// this file allow it. Callers pass only messages that were plain on the
// wire (received unencrypted, or SentPlain); the rest is checked here.
func (c *client) keepPlain(conv Conversation, out bool, body string, at time.Time) {
	if !c.m.profile.Prefs().PlainHistory || !c.peerPlain(conv.Peer) {
		return
	}
	if err := c.m.appendHistory(c.account(), conv.Peer, out, body, at); err != nil {
		c.notice(conv, "this message could not be added to the history: "+err.Error())
	}
}
