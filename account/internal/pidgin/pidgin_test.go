package pidgin

// Fixtures in testdata: accounts.xml is hand-written in the format
// Pidgin 2.14 saves; otr.private_key and otr.fingerprints were written by
// libotr 4.1.1 itself (mkfixtures.c, see README.md there), and expected.txt
// holds the fingerprints libotr computed for the generated keys.

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/otr"
)

const fixtures = "testdata"

// libotrFingerprints reads expected.txt: account, protocol, fingerprint.
func libotrFingerprints(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures, "expected.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) == 3 {
			m[parts[0]+" "+parts[1]] = parts[2]
		}
	}
	return m
}

func TestRead(t *testing.T) {
	imp, err := Read(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	wantAccounts := []Account{
		{JID: "alice@example.org", Resource: "Laptop", AutoConnect: true},
		{JID: "alice@work.example", Server: "xmpp.work.example", DirectTLS: true},
		{JID: "bob@chat.example", Resource: "Home", Server: "10.0.0.5", Port: 5280},
	}
	if !reflect.DeepEqual(imp.Accounts, wantAccounts) {
		t.Errorf("accounts:\n got %+v\nwant %+v", imp.Accounts, wantAccounts)
	}

	// Keys: only the two XMPP ones, and their fingerprints (computed by us
	// from the key) equal what libotr computed when it generated them.
	libotr := libotrFingerprints(t)
	wantKeys := map[string]string{
		"alice@example.org":  libotr["alice@example.org/Laptop prpl-jabber"],
		"alice@work.example": libotr["alice@work.example/ prpl-jabber"],
	}
	if len(imp.Keys) != len(wantKeys) {
		t.Errorf("imported %d keys, want %d", len(imp.Keys), len(wantKeys))
	}
	for jid, fp := range wantKeys {
		k := imp.Keys[jid]
		if k == nil || fp == "" {
			t.Errorf("no key for %s (or no libotr fingerprint)", jid)
			continue
		}
		if got := k.Fingerprint().String(); got != fp {
			t.Errorf("%s: fingerprint %s, libotr says %s", jid, got, fp)
		}
	}

	wantFPs := []Fingerprint{
		{"alice@example.org", "bob@example.net", "10213243 54657687 98A9BACB DCEDFE0F 20314253", true, "smp"},
		{"alice@example.org", "carol@example.net", "20314253 64758697 A8B9CADB ECFD0E1F 30415263", true, "manual"},
		{"alice@example.org", "dave@example.net", "30415263 748596A7 B8C9DAEB FC0D1E2F 40516273", false, ""},
		{"alice@work.example", "eve@work.example", "40516273 8495A6B7 C8D9EAFB 0C1D2E3F 50617283", true, "manual"},
	}
	if !reflect.DeepEqual(imp.Fingerprints, wantFPs) {
		t.Errorf("fingerprints:\n got %+v\nwant %+v", imp.Fingerprints, wantFPs)
	}

	if n := strings.Join(imp.Notes, "\n"); !strings.Contains(n, "bob@chat.example") || !strings.Contains(n, "unencrypted") {
		t.Errorf("no note about bob's insecure Pidgin setting: %q", imp.Notes)
	}
	// Pidgin's plain-text passwords are never picked up.
	dump := fmt.Sprintf("%+v %+v %q", imp.Accounts, imp.Fingerprints, imp.Notes)
	if strings.Contains(dump, "pidgin-plaintext-password") {
		t.Error("a Pidgin password leaked into the import")
	}
}

func copyFixtures(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(fixtures, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReadPartialAndBroken(t *testing.T) {
	if _, err := Read(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no Pidgin data") {
		t.Errorf("empty dir: %v", err)
	}
	// Only the key file: keys, no accounts, no error.
	imp, err := Read(copyFixtures(t, "otr.private_key"))
	if err != nil || len(imp.Keys) != 2 || len(imp.Accounts) != 0 {
		t.Errorf("key file alone: %d keys, %d accounts, %v", len(imp.Keys), len(imp.Accounts), err)
	}
	for name, content := range map[string]string{
		"accounts.xml":    "<account version='1.0'><account><protocol>prpl-jabber",
		"otr.private_key": "(privkeys (account (name \"a@b.c/\") (protocol prpl-jabber) (private-key (dsa (p #00#)))))",
	} {
		dir := copyFixtures(t)
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600)
		if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("broken %s: %v, want an error naming the file", name, err)
		}
	}
	// One bad fingerprint line costs only that line.
	dir := copyFixtures(t, "otr.fingerprints")
	f, _ := os.OpenFile(filepath.Join(dir, "otr.fingerprints"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("zed@example.net\talice@example.org/\tprpl-jabber\tnothex\tverified\n")
	f.Close()
	imp, err = Read(dir)
	if err != nil || len(imp.Fingerprints) != 4 || len(imp.Notes) != 1 {
		t.Errorf("bad fingerprint line: %d fingerprints, notes %q, %v", len(imp.Fingerprints), imp.Notes, err)
	}
}

func TestReadDuplicateKeys(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtures, "otr.private_key"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := otr.ParsePrivateKeys(data)
	if err != nil || len(keys) != 3 {
		t.Fatalf("fixture: %d keys, %v", len(keys), err)
	}
	var laptop, work *otr.PrivateKey
	for _, k := range keys {
		switch k.Account {
		case "alice@example.org/Laptop":
			laptop = k.Key
		case "alice@work.example/":
			work = k.Key
		}
	}
	// Two resources of one JID with different keys: the first wins.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "otr.private_key"), otr.FormatPrivateKeys([]otr.AccountKey{
		{Account: "alice@example.org/Laptop", Protocol: "prpl-jabber", Key: laptop},
		{Account: "alice@example.org/Phone", Protocol: "prpl-jabber", Key: work},
		{Account: "not-a-jid", Protocol: "prpl-jabber", Key: work},
	}), 0o600)
	imp, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(imp.Keys) != 1 || imp.Keys["alice@example.org"].Fingerprint() != laptop.Fingerprint() {
		t.Errorf("keys: %v", imp.Keys)
	}
	if len(imp.Notes) != 2 {
		t.Errorf("notes: %q", imp.Notes)
	}
}

func TestSplitName(t *testing.T) {
	for _, c := range []struct{ in, bare, res string }{
		{"alice@example.org/Laptop", "alice@example.org", "Laptop"},
		{"alice@example.org/", "alice@example.org", ""},
		{"alice@example.org", "alice@example.org", ""},
		{"alice@example.org/a/b", "alice@example.org", "a/b"},
	} {
		if b, r := splitName(c.in); b != c.bare || r != c.res {
			t.Errorf("splitName(%q) = %q, %q", c.in, b, r)
		}
	}
}

func FuzzPidginAccounts(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join(fixtures, "accounts.xml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("<account><account><protocol>prpl-jabber</protocol><name>/</name></account></account>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var imp Import
		if imp.addAccounts(data) == nil {
			for _, a := range imp.Accounts {
				if !isBareJID(a.JID) {
					t.Fatalf("imported an invalid JID %q", a.JID)
				}
			}
		}
	})
}
