package history

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	histAcct = "alice@example.org"
	histPeer = "bob@example.org"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	return New(filepath.Join(t.TempDir(), "history"))
}

func histFile(s *Store, acct, peer string) string {
	sum := sha256.Sum256([]byte(peer))
	return filepath.Join(s.dir, acct, hex.EncodeToString(sum[:])+".jsonl")
}

func mustRead(t *testing.T, s *Store, acct, peer string, max int) []Line {
	t.Helper()
	got, err := s.Read(acct, peer, max)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return got
}

func bodies(ls []Line) string {
	var b []string
	for _, l := range ls {
		d := "<"
		if l.Outgoing {
			d = ">"
		}
		b = append(b, d+l.Body)
	}
	return strings.Join(b, "|")
}

func TestAppendReadModes(t *testing.T) {
	s := newStore(t)
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	for i, body := range []string{"one", "two", "three", "four"} {
		if err := s.Append(histAcct, histPeer, i%2 == 1, body, t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	got := mustRead(t, s, histAcct, histPeer, 3)
	if want := ">two|<three|>four"; bodies(got) != want {
		t.Fatalf("got %q, want %q", bodies(got), want)
	}
	if !got[2].Time.Equal(t0.Add(3 * time.Minute)) {
		t.Fatalf("time %v", got[2].Time)
	}
	// The peer's address is hashed; modes are private.
	path := histFile(s, histAcct, histPeer)
	for p, want := range map[string]fs.FileMode{path: 0o600, filepath.Dir(path): 0o700,
		filepath.Dir(filepath.Dir(path)): 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
	raw, _ := os.ReadFile(path)
	if n := bytes.Count(raw, []byte("\n")); n != 4 || !bytes.Contains(raw, []byte(`"direction":"out"`)) {
		t.Fatalf("file has %d lines:\n%s", n, raw)
	}
	// Unknown contact: nothing, no error (account's TestHistoryPeerAddress:
	// a resource is ignored).
	if got := mustRead(t, s, histAcct, "carol@example.org", 10); len(got) != 0 {
		t.Fatalf("carol: %v", got)
	}
}

func TestSkipsDamagedLines(t *testing.T) {
	s := newStore(t)
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	if err := s.Append(histAcct, histPeer, false, "first", t0); err != nil {
		t.Fatal(err)
	}
	path := histFile(s, histAcct, histPeer)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	long := `{"time":"2025-03-01T10:00:00Z","direction":"in","body":"` + strings.Repeat("x", maxLine) + `"}`
	junk := []string{"not json", `{"time":"2025-03-01T10:00:00Z","direction":"sideways","body":"x"}`,
		`{"direction":"in","body":"no time"}`, "", long, `{"time":"2025-03-01T10:01:00Z","direc`} // torn
	if _, err := f.WriteString(strings.Join(junk, "\n")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// The next append ends the torn line first, so it stays readable.
	if err := s.Append(histAcct, histPeer, true, "after the tear", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := bodies(mustRead(t, s, histAcct, histPeer, 100)); got != "<first|>after the tear" {
		t.Fatalf("got %q", got)
	}
	// Over-long bodies are cut when written.
	big := strings.Repeat("é", maxBody)
	if err := s.Append(histAcct, histPeer, false, big, t0); err != nil {
		t.Fatal(err)
	}
	got := mustRead(t, s, histAcct, histPeer, 1)
	if len(got) != 1 || len(got[0].Body) > maxBody || !strings.HasSuffix(got[0].Body, "é…") {
		t.Fatalf("long body kept as %d bytes", len(got[0].Body))
	}
}

// Read reads from the end and stops after maxScan bytes: a huge
// file costs a bounded read.
func TestBoundedRead(t *testing.T) {
	s := newStore(t)
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	if err := s.Append(histAcct, histPeer, false, "buried", t0); err != nil {
		t.Fatal(err)
	}
	path := histFile(s, histAcct, histPeer)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	junk := bytes.Repeat([]byte(strings.Repeat("z", 1000)+"\n"), (maxScan+(1<<20))/1000)
	if _, err := f.Write(junk); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for i := range 300 {
		if err := s.Append(histAcct, histPeer, true, "recent", t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	got := mustRead(t, s, histAcct, histPeer, 200)
	t.Logf("200 lines from a %d MiB file in %v", (len(junk)>>20)+1, time.Since(start))
	if len(got) != 200 || got[199].Body != "recent" || !got[199].Time.Equal(t0.Add(299*time.Second)) {
		t.Fatalf("got %d lines, last %+v", len(got), got[len(got)-1])
	}
	// Asking for more than is within reach: the buried line is past the
	// scan budget and is not read.
	if got := mustRead(t, s, histAcct, histPeer, 1000); len(got) != 300 {
		t.Fatalf("got %d lines, want the 300 within the scan budget", len(got))
	}
}

func TestClear(t *testing.T) {
	s := newStore(t)
	now := time.Now()
	for _, p := range []string{histPeer, "carol@example.org"} {
		if err := s.Append(histAcct, p, false, "hi "+p, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Append("other@example.org", histPeer, false, "other account", now); err != nil {
		t.Fatal(err)
	}
	if err := s.Clear(histAcct, histPeer); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(histFile(s, histAcct, histPeer)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("bob's file still there: %v", err)
	}
	if len(mustRead(t, s, histAcct, histPeer, 10)) != 0 || len(mustRead(t, s, histAcct, "carol@example.org", 10)) != 1 {
		t.Fatal("clearing bob touched the wrong files")
	}
	if err := s.Clear(histAcct, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.dir, histAcct)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("account folder still there: %v", err)
	}
	if len(mustRead(t, s, "other@example.org", histPeer, 10)) != 1 {
		t.Fatal("clearing one account cleared another")
	}
	if err := s.Clear(histAcct, ""); err != nil {
		t.Fatalf("clearing twice: %v", err)
	}
	for _, bad := range []string{"../evil", "..", "a/b@c", "", `c:\x`} {
		if err := s.Clear(bad, ""); err == nil {
			t.Errorf("Clear(%q) accepted", bad)
		}
		if _, err := s.Read(bad, histPeer, 1); err == nil {
			t.Errorf("Read(%q) accepted", bad)
		}
	}
}
