//go:build libotr

package libotr

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/sotto-im/sotto/otr"
)

// TestInteropOurKeyFileInLibotr: libotr loads the otr.private_key we write
// (two accounts) and computes the same fingerprints.
func TestInteropOurKeyFileInLibotr(t *testing.T) {
	key := sharedOurKey(t)
	other := libotrKeyAsOurs(t, "other@example.org")
	file := otr.FormatPrivateKeys([]otr.AccountKey{
		{Account: libName, Protocol: proto, Key: key},
		{Account: "other@example.org", Protocol: proto, Key: other},
	})
	path := filepath.Join(t.TempDir(), "otr.private_key")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		account string
		key     *otr.PrivateKey
	}{{libName, key}, {"other@example.org", other}} {
		p, err := NewPeer(c.account, proto)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if err := p.ReadPrivateKeyFile(path); err != nil {
			t.Fatalf("libotr cannot read our key file: %v\n%s", err, file)
		}
		if got, want := p.Fingerprint(), c.key.Fingerprint().Hex(); got != want {
			t.Fatalf("%s: libotr fingerprint %s, ours %s", c.account, got, want)
		}
	}
}

// libotrKeyAsOurs generates a key with libotr and parses it with our reader.
func libotrKeyAsOurs(t testing.TB, account string) *otr.PrivateKey {
	t.Helper()
	p := newLibotrPeer(t, account)
	keys, err := otr.ParsePrivateKeys(p.PrivateKeyFile())
	if err != nil || len(keys) != 1 {
		t.Fatalf("parsing libotr's key file: %v (%d keys)", err, len(keys))
	}
	return keys[0].Key
}

// TestInteropLibotrKeyFileInOurs: we parse libotr's generated
// otr.private_key to the same fingerprint, and write it back byte for byte.
func TestInteropLibotrKeyFileInOurs(t *testing.T) {
	p, err := NewPeer(libName, proto)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	path := filepath.Join(t.TempDir(), "otr.private_key")
	if err := p.GenerateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := otr.ParsePrivateKeys(raw)
	if err != nil {
		t.Fatalf("ParsePrivateKeys(libotr file): %v\n%s", err, raw)
	}
	if len(keys) != 1 || keys[0].Account != libName || keys[0].Protocol != proto {
		t.Fatalf("parsed %+v", keys)
	}
	if got, want := keys[0].Key.Fingerprint().Hex(), p.Fingerprint(); got != want {
		t.Fatalf("our fingerprint of libotr's key %s, libotr's %s", got, want)
	}
	if back := otr.FormatPrivateKeys(keys); !bytes.Equal(back, raw) {
		t.Fatalf("FormatPrivateKeys differs from libotr's file:\n--- libotr\n%s\n--- ours\n%s", raw, back)
	}
}

// TestInteropSwappedKeys: each side authenticates with a key the other
// implementation generated and serialized, so parsed keys are usable, not
// just readable (libgcrypt DSA parameters signed by crypto/dsa and vice
// versa).
func TestInteropSwappedKeys(t *testing.T) {
	libKey := libotrKeyAsOurs(t, "swap-lib@example.org")
	ourGenerated := sharedOurKey(t)
	lib, err := NewPeer(libName, proto)
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	if err := lib.SetPrivateKey(otr.FormatPrivateKeys([]otr.AccountKey{{Account: libName, Protocol: proto, Key: ourGenerated}})); err != nil {
		t.Fatal(err)
	}
	lib.SetPolicy(PolicyManual)
	o := newOursWithKey(t, libKey, otr.PolicyManual, 0)
	for _, start := range []func(*testing.T, *Peer, *ourSide){libQuery, ourQuery} {
		start(t, lib, o)
		pump(t, lib, o)
		if lib.MessageState(ourName) != "encrypted" || o.conv.State() != otr.StateEncrypted {
			t.Fatalf("not encrypted: libotr %s ours %v (libotr events %v, ours %v)",
				lib.MessageState(ourName), o.conv.State(), lib.Events(), o.Events())
		}
		if fp, _ := o.conv.PeerFingerprint(); fp != ourGenerated.Fingerprint() {
			t.Fatalf("ours sees %s", fp)
		}
		if lib.PeerFingerprint(ourName) != libKey.Fingerprint().Hex() {
			t.Fatalf("libotr sees %s", lib.PeerFingerprint(ourName))
		}
		noTrouble(t, lib, lib.Events(), o, o.Events())
		exchange(t, lib, o, "swapped", "keys")
	}
}

// TestInteropFingerprintsFile: libotr's otr.fingerprints parses to what
// libotr knows and formats back byte for byte; a file we write loads into
// libotr with the same fingerprints and trust.
func TestInteropFingerprintsFile(t *testing.T) {
	lib, o := goSecure(t, akeCases[0], 0)
	if err := lib.SetTrust(ourName, "verified"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "otr.fingerprints")
	if err := lib.WriteFingerprintsFile(path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	entries, err := otr.ParseFingerprints(raw)
	if err != nil || len(entries) != 1 {
		t.Fatalf("ParseFingerprints: %v %+v\n%q", err, entries, raw)
	}
	e := entries[0]
	if e.Remote != ourName || e.Account != libName || e.Protocol != proto ||
		e.Fingerprint != o.key.Fingerprint() || e.Trust != "verified" || !e.Trusted() {
		t.Fatalf("entry %+v", e)
	}
	if back := otr.FormatFingerprints(entries); !bytes.Equal(back, raw) {
		t.Fatalf("FormatFingerprints:\n%q\nlibotr wrote\n%q", back, raw)
	}

	// Our file, several remotes and trust levels, into a fresh libotr.
	fpA, fpB := o.key.Fingerprint(), libotrKeyAsOurs(t, "fp-b@example.org").Fingerprint()
	ours := []otr.FingerprintEntry{
		{Remote: "alice@example.org", Account: libName, Protocol: proto, Fingerprint: fpA, Trust: "smp"},
		{Remote: "bob@example.org", Account: libName, Protocol: proto, Fingerprint: fpB, Trust: ""},
		{Remote: "carol@example.org", Account: libName, Protocol: proto, Fingerprint: fpB, Trust: "verified"},
	}
	ourPath := filepath.Join(dir, "ours.fingerprints")
	ourRaw := otr.FormatFingerprints(ours)
	if err := os.WriteFile(ourPath, ourRaw, 0o600); err != nil {
		t.Fatal(err)
	}
	fresh, err := NewPeer(libName, proto)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := fresh.ReadFingerprintsFile(ourPath); err != nil {
		t.Fatalf("libotr cannot read our fingerprints: %v\n%s", err, ourRaw)
	}
	for _, e := range ours {
		if got := fresh.PeerFingerprint(e.Remote); got != e.Fingerprint.Hex() {
			t.Fatalf("%s: libotr loaded %s, want %s", e.Remote, got, e.Fingerprint.Hex())
		}
		if got := fresh.Trust(e.Remote); got != e.Trust {
			t.Fatalf("%s: libotr trust %q, want %q", e.Remote, got, e.Trust)
		}
	}
	// And libotr writes the same lines back (it keeps contexts sorted).
	again := filepath.Join(dir, "again.fingerprints")
	if err := fresh.WriteFingerprintsFile(again); err != nil {
		t.Fatal(err)
	}
	againRaw, _ := os.ReadFile(again)
	if sortedLines(againRaw) != sortedLines(ourRaw) {
		t.Fatalf("libotr rewrote our file as\n%q\nwe wrote\n%q", againRaw, ourRaw)
	}
}

func sortedLines(b []byte) string {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	sort.Slice(lines, func(i, j int) bool { return bytes.Compare(lines[i], lines[j]) < 0 })
	return string(bytes.Join(lines, []byte("\n")))
}
