package account

// The history of plain chats: an opt-in (Prefs.PlainHistory) local log of
// messages that travelled in the clear anyway.
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
// directories 0700, files 0600, one JSON object per line
// {"time":…,"direction":"in"|"out","body":…}. The peer is hashed so a
// directory listing does not name every contact (accounts.json names the
// account already). Appends are one write(2) each with O_APPEND and no
// fsync: the account loop must not wait on a slow disk for more than a
// small append, and losing the last lines in a crash is acceptable for a
// convenience log. ClearHistory unlinks the files; it does not (cannot
// reliably, on journalled file systems and SSDs) overwrite the blocks.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

const (
	historyDirName = "history"
	// maxHistoryBody caps the text kept per message; longer ones are cut
	// (at a rune boundary) and end in "…".
	maxHistoryBody = 16 << 10
	// maxHistoryLine caps one line on reading: JSON may escape a byte as
	// six (\u0000), so a capped body always fits.
	maxHistoryLine = 8*maxHistoryBody + 1024
	// maxHistoryScan bounds the bytes History reads from the end of a file
	// (a file full of damaged lines must not make it read gigabytes).
	maxHistoryScan = 16 << 20
	// maxHistoryLines bounds what one History call returns.
	maxHistoryLines = 5000
	historyChunk    = 32 << 10
)

// HistoryLine is one kept message of a plain conversation.
type HistoryLine struct {
	Time time.Time
	// Outgoing is true for our own messages.
	Outgoing bool
	Body     string
}

// historyRecord is the on-disk shape of one line.
type historyRecord struct {
	Time      time.Time `json:"time"`
	Direction string    `json:"direction"` // "in" or "out"
	Body      string    `json:"body"`
}

// historyStore serialises appends and clears (reads need no lock: every
// append is one O_APPEND write, and a torn last line is skipped).
type historyStore struct{ mu sync.Mutex }

func (m *Manager) historyRoot() string { return filepath.Join(m.profile.Dir, historyDirName) }

// historyAccountDir is the account's folder. The account is a bare JID
// from the profile; it is used as a folder name only if it cannot climb
// out of the history folder or mean something special on any OS.
func (m *Manager) historyAccountDir(account string) (string, error) {
	if account == "" || !filepath.IsLocal(account) || strings.ContainsAny(account, `/\:*?"<>|`) ||
		strings.HasPrefix(account, ".") || strings.IndexFunc(account, func(r rune) bool { return r < 0x20 }) >= 0 {
		return "", fmt.Errorf("account: %q cannot name a history folder", account)
	}
	return filepath.Join(m.historyRoot(), account), nil
}

// historyPath is the file of one contact.
func (m *Manager) historyPath(account, peer string) (string, error) {
	dir, err := m.historyAccountDir(account)
	if err != nil {
		return "", err
	}
	bare, ok := bareJID(peer)
	if !ok {
		return "", errBadContact(peer)
	}
	sum := sha256.Sum256([]byte(bare))
	return filepath.Join(dir, hex.EncodeToString(sum[:])+".jsonl"), nil
}

// appendHistory writes one line. The caller has checked the rules above.
func (m *Manager) appendHistory(account, peer string, out bool, body string, at time.Time) error {
	path, err := m.historyPath(account, peer)
	if err != nil {
		return err
	}
	rec := historyRecord{Time: at.UTC(), Direction: "in", Body: capBody(body)}
	if out {
		rec.Direction = "out"
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("account: encode history line: %w", err)
	}
	line = append(line, '\n')
	m.hist.mu.Lock()
	defer m.hist.mu.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		if err = ensurePrivateDir(m.historyRoot()); err == nil {
			err = ensurePrivateDir(filepath.Dir(path))
		}
		if err == nil {
			f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		}
	}
	if err != nil {
		return fmt.Errorf("account: open history: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		if fi.Mode().Perm()&0o077 != 0 {
			_ = f.Chmod(0o600) // someone loosened it
		}
		if fi.Size() > 0 && !endsInNewline(path, fi.Size()) {
			// A crash tore the last line: end it, so this one stays whole.
			line = append([]byte{'\n'}, line...)
		}
	}
	if _, err := f.Write(line); err != nil {
		return fmt.Errorf("account: write history: %w", err)
	}
	return nil
}

func endsInNewline(path string, size int64) bool {
	r, err := os.Open(path) // the append handle is write-only
	if err != nil {
		return true
	}
	defer r.Close()
	var b [1]byte
	_, err = r.ReadAt(b[:], size-1)
	return err != nil || b[0] == '\n'
}

// capBody cuts body to maxHistoryBody bytes at a rune boundary.
func capBody(body string) string {
	if len(body) <= maxHistoryBody {
		return body
	}
	cut := maxHistoryBody - len("…")
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut--
	}
	return body[:cut] + "…"
}

// History returns up to max of the last kept lines with peer, oldest
// first. Only the end of the file is read (at most maxHistoryScan bytes),
// lines longer than maxHistoryLine and lines that do not parse are
// skipped. No file is not an error.
func (m *Manager) History(account, peer string, max int) ([]HistoryLine, error) {
	path, err := m.historyPath(account, peer)
	if err != nil {
		return nil, err
	}
	max = min(max, maxHistoryLines)
	if max <= 0 {
		return nil, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("account: open history: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("account: read history: %w", err)
	}
	var newest []HistoryLine
	err = scanLinesBackward(f, fi.Size(), func(line []byte) bool {
		if l, ok := parseHistoryLine(line); ok {
			newest = append(newest, l)
		}
		return len(newest) < max
	})
	if err != nil {
		return nil, fmt.Errorf("account: read history: %w", err)
	}
	for i, j := 0, len(newest)-1; i < j; i, j = i+1, j-1 {
		newest[i], newest[j] = newest[j], newest[i]
	}
	return newest, nil
}

func parseHistoryLine(line []byte) (HistoryLine, bool) {
	var rec historyRecord
	if len(bytes.TrimSpace(line)) == 0 || json.Unmarshal(line, &rec) != nil || rec.Time.IsZero() {
		return HistoryLine{}, false
	}
	switch rec.Direction {
	case "in":
		return HistoryLine{Time: rec.Time, Body: rec.Body}, true
	case "out":
		return HistoryLine{Time: rec.Time, Outgoing: true, Body: rec.Body}, true
	}
	return HistoryLine{}, false
}

// scanLinesBackward calls each with the lines of r (size bytes), last line
// first, until each returns false, the start is reached or maxHistoryScan
// bytes were read. Lines longer than maxHistoryLine are not passed on.
func scanLinesBackward(r io.ReaderAt, size int64, each func([]byte) bool) error {
	buf := make([]byte, historyChunk)
	var pending []byte // the end of a line whose start is not read yet
	long := false      // pending is over maxHistoryLine: drop that line
	emit := func(head []byte) bool {
		ok := true
		if !long && len(head)+len(pending) <= maxHistoryLine {
			line := append(append([]byte(nil), head...), pending...)
			ok = each(line)
		}
		pending, long = nil, false
		return ok
	}
	pos, read := size, int64(0)
	for pos > 0 && read < maxHistoryScan {
		n := min(int64(len(buf)), pos)
		pos -= n
		b := buf[:n]
		if _, err := r.ReadAt(b, pos); err != nil {
			return err
		}
		read += n
		end := len(b)
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] == '\n' {
				if !emit(b[i+1 : end]) {
					return nil
				}
				end = i
			}
		}
		if long || end+len(pending) > maxHistoryLine {
			pending, long = nil, true
		} else {
			pending = append(append([]byte(nil), b[:end]...), pending...)
		}
	}
	if pos == 0 {
		emit(nil) // the file's first line
	}
	return nil
}

// ClearHistory deletes the kept lines with peer, or with peer "" every
// contact's of that account. Files are unlinked, not overwritten.
func (m *Manager) ClearHistory(ctx context.Context, account, peer string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	target, err := m.historyAccountDir(account)
	if peer != "" && err == nil {
		target, err = m.historyPath(account, peer)
	}
	if err != nil {
		return err
	}
	m.hist.mu.Lock()
	defer m.hist.mu.Unlock()
	if err := os.RemoveAll(target); err != nil {
		return fmt.Errorf("account: clear history: %w", err)
	}
	return nil
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
