package history

import (
	"bytes"
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

	"github.com/sotto-im/sotto/internal/atomicfile"
)

const (
	// maxBody caps the text kept per message; longer ones are cut (at a
	// rune boundary) and end in "…".
	maxBody = 16 << 10
	// maxLine caps one line on reading: JSON may escape a byte as six
	// (\u0000), so a capped body always fits.
	maxLine = 8*maxBody + 1024
	// maxScan bounds the bytes Read reads from the end of a file (a file
	// full of damaged lines must not make it read gigabytes).
	maxScan = 16 << 20
	// maxLines bounds what one Read call returns.
	maxLines = 5000
	chunk    = 32 << 10
)

// Line is one kept message.
type Line struct {
	Time time.Time
	// Outgoing is true for our own messages.
	Outgoing bool
	Body     string
}

// record is the on-disk shape of one line.
type record struct {
	Time      time.Time `json:"time"`
	Direction string    `json:"direction"` // "in" or "out"
	Body      string    `json:"body"`
}

// Store is the history under one folder. It is safe for concurrent use: it
// serialises appends and clears (reads need no lock: every append is one
// O_APPEND write, and a torn last line is skipped).
type Store struct {
	dir string
	mu  sync.Mutex
}

// New returns the store kept in dir (created, 0700, on the first Append).
func New(dir string) *Store { return &Store{dir: dir} }

// accountDir is the account's folder. The account is a bare JID from the
// profile; it is used as a folder name only if it cannot climb out of the
// history folder or mean something special on any OS.
func (s *Store) accountDir(account string) (string, error) {
	if account == "" || !filepath.IsLocal(account) || strings.ContainsAny(account, `/\:*?"<>|`) ||
		strings.HasPrefix(account, ".") || strings.IndexFunc(account, func(r rune) bool { return r < 0x20 }) >= 0 {
		return "", fmt.Errorf("history: %q cannot name a history folder", account)
	}
	return filepath.Join(s.dir, account), nil
}

// path is the file of one contact (peer: a canonical bare JID).
func (s *Store) path(account, peer string) (string, error) {
	dir, err := s.accountDir(account)
	if err != nil {
		return "", err
	}
	if peer == "" {
		return "", errors.New("history: no contact address")
	}
	sum := sha256.Sum256([]byte(peer))
	return filepath.Join(dir, hex.EncodeToString(sum[:])+".jsonl"), nil
}

// Append writes one line of the conversation of account with peer. The
// caller has checked that the message may be kept.
func (s *Store) Append(account, peer string, out bool, body string, at time.Time) error {
	path, err := s.path(account, peer)
	if err != nil {
		return err
	}
	rec := record{Time: at.UTC(), Direction: "in", Body: capBody(body)}
	if out {
		rec.Direction = "out"
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("history: encode line: %w", err)
	}
	line = append(line, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		if err = atomicfile.PrivateDir(s.dir); err == nil {
			err = atomicfile.PrivateDir(filepath.Dir(path))
		}
		if err == nil {
			f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		}
	}
	if err != nil {
		return fmt.Errorf("history: open: %w", err)
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
		return fmt.Errorf("history: write: %w", err)
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

// capBody cuts body to maxBody bytes at a rune boundary.
func capBody(body string) string {
	if len(body) <= maxBody {
		return body
	}
	cut := maxBody - len("…")
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut--
	}
	return body[:cut] + "…"
}

// Read returns up to max (at most 5000) of the last kept lines with
// peer, oldest first. Only the end of the file is read (at most 16 MiB),
// lines longer than a capped body can make and lines that do not parse are
// skipped. No file is not an error.
func (s *Store) Read(account, peer string, max int) ([]Line, error) {
	path, err := s.path(account, peer)
	if err != nil {
		return nil, err
	}
	max = min(max, maxLines)
	if max <= 0 {
		return nil, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("history: open: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("history: read: %w", err)
	}
	var newest []Line
	err = scanLinesBackward(f, fi.Size(), func(line []byte) bool {
		if l, ok := parseLine(line); ok {
			newest = append(newest, l)
		}
		return len(newest) < max
	})
	if err != nil {
		return nil, fmt.Errorf("history: read: %w", err)
	}
	for i, j := 0, len(newest)-1; i < j; i, j = i+1, j-1 {
		newest[i], newest[j] = newest[j], newest[i]
	}
	return newest, nil
}

func parseLine(line []byte) (Line, bool) {
	var rec record
	if len(bytes.TrimSpace(line)) == 0 || json.Unmarshal(line, &rec) != nil || rec.Time.IsZero() {
		return Line{}, false
	}
	switch rec.Direction {
	case "in":
		return Line{Time: rec.Time, Body: rec.Body}, true
	case "out":
		return Line{Time: rec.Time, Outgoing: true, Body: rec.Body}, true
	}
	return Line{}, false
}

// scanLinesBackward calls each with the lines of r (size bytes), last line
// first, until each returns false, the start is reached or maxScan bytes
// were read. Lines longer than maxLine are not passed on.
func scanLinesBackward(r io.ReaderAt, size int64, each func([]byte) bool) error {
	buf := make([]byte, chunk)
	var pending []byte // the end of a line whose start is not read yet
	long := false      // pending is over maxLine: drop that line
	emit := func(head []byte) bool {
		ok := true
		if !long && len(head)+len(pending) <= maxLine {
			line := append(append([]byte(nil), head...), pending...)
			ok = each(line)
		}
		pending, long = nil, false
		return ok
	}
	pos, read := size, int64(0)
	for pos > 0 && read < maxScan {
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
		if long || end+len(pending) > maxLine {
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

// Clear deletes the kept lines with peer, or with peer "" every contact's
// of that account. Files are unlinked, not overwritten.
func (s *Store) Clear(account, peer string) error {
	target, err := s.accountDir(account)
	if peer != "" && err == nil {
		target, err = s.path(account, peer)
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.RemoveAll(target); err != nil {
		return fmt.Errorf("history: clear: %w", err)
	}
	return nil
}
