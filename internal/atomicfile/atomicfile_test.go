package atomicfile

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestWriteReplaces: Write creates the file 0600, replaces it whole, and
// leaves no temporary file behind.
func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	for _, want := range []string{"first, longer contents", "second"} {
		if err := Write(path, []byte(want)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Fatalf("read back %q, %v; want %q", got, err, want)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("want only the file in its folder, got %v", entries)
	}
}

// TestWriteFailsCleanly: a folder that does not exist is an error, not a
// panic or a stray file.
func TestWriteFailsCleanly(t *testing.T) {
	if err := Write(filepath.Join(t.TempDir(), "missing", "f"), []byte("x")); err == nil {
		t.Fatal("Write into a missing folder succeeded")
	}
}

// TestMoveAsideNeverOverwrites: two damaged files moved aside in the same
// second keep both copies.
func TestMoveAsideNeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "accounts.json")
	var moved []string
	for _, s := range []string{"one", "two"} {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		dst, err := MoveAside(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(dst, path+".corrupt-") {
			t.Errorf("moved to %s", dst)
		}
		moved = append(moved, dst)
	}
	if moved[0] == moved[1] {
		t.Fatal("the second copy took the first one's name")
	}
	for i, want := range []string{"one", "two"} {
		if got, err := os.ReadFile(moved[i]); err != nil || string(got) != want {
			t.Errorf("copy %d: %q, %v", i, got, err)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the original is still there: %v", err)
	}
}
