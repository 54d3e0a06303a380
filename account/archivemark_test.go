package account

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArchiveMark: the mark survives reopening the profile, holds only
// the id, is refused when too long, and goes with the account.
func TestArchiveMark(t *testing.T) {
	dir := t.TempDir()
	p, err := OpenProfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.ArchiveMark("alice@localhost"); ok {
		t.Fatal("a new profile has a mark")
	}
	if err := p.SaveAccount(Settings{JID: "alice@localhost"}); err != nil {
		t.Fatal(err)
	}
	if err := p.SetArchiveMark("alice@localhost", "1-r-YaFvvTLXBnCbvku2Fjbs"); err != nil {
		t.Fatal(err)
	}
	if err := p.SetArchiveMark("alice@localhost", strings.Repeat("x", maxArchiveMark+1)); err == nil {
		t.Fatal("a mark longer than the limit was kept")
	}
	p, err = OpenProfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if mk, ok := p.ArchiveMark("alice@localhost"); !ok || mk != "1-r-YaFvvTLXBnCbvku2Fjbs" {
		t.Fatalf("after reopening: %q %v", mk, ok)
	}
	b, err := os.ReadFile(filepath.Join(dir, archiveFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, archiveFile)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s is %v", archiveFile, fi.Mode())
	}
	if want := "{\n\t\"Version\": 1,\n\t\"Marks\": {\n\t\t\"alice@localhost\": \"1-r-YaFvvTLXBnCbvku2Fjbs\"\n\t}\n}\n"; string(b) != want {
		t.Fatalf("%s holds\n%s\nwant only the id:\n%s", archiveFile, b, want)
	}
	if err := p.RemoveAccount("alice@localhost"); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.ArchiveMark("alice@localhost"); ok {
		t.Fatal("the mark outlived its account")
	}
}
