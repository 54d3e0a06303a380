package account

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/otr"
	"github.com/sotto-im/sotto/secret"
)

const (
	fpA = "0123456789abcdef0123456789abcdef01234567"
	fpB = "89ABCDEF 01234567 89ABCDEF 01234567 89ABCDEF"
)

var pinHex = strings.Repeat("ab", 32)

func openTestProfile(t *testing.T, dir string) *Profile {
	t.Helper()
	p, err := OpenProfile(dir)
	if err != nil {
		t.Fatalf("OpenProfile: %v", err)
	}
	return p
}

// fillProfile stores one of everything.
func fillProfile(t *testing.T, p *Profile) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(p.SaveAccount(Settings{JID: "alice@example.org", Resource: "laptop", AutoConnect: true}))
	must(p.SaveAccount(Settings{JID: "alice@work.example", Server: "xmpp.work.example", Port: 5223, DirectTLS: true, Policy: Always}))
	must(p.SetFingerprint(KnownFingerprint{Account: "alice@example.org", Contact: "bob@example.net", Fingerprint: fpA, Verified: true, How: "smp"}))
	must(p.SetFingerprint(KnownFingerprint{Account: "alice@example.org", Contact: "carol@example.net", Fingerprint: fpB}))
	must(p.SetContactPolicy("alice@example.org", "bob@example.net", Manual))
	must(p.SavePrefs(Prefs{PlainHistory: true}))
	must(p.SetUIState([]byte(`{"Theme":"dark","WindowW":800}`)))
	must(p.SetCertPin("alice@example.org", pinHex))
}

func checkModes(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestProfileRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "profile")
	p := openTestProfile(t, dir)
	fillProfile(t, p)
	// Updating an account replaces it in place.
	if err := p.SaveAccount(Settings{JID: "alice@example.org", Resource: "desktop"}); err != nil {
		t.Fatal(err)
	}
	// Same fingerprint in another spelling updates, not duplicates.
	if err := p.SetFingerprint(KnownFingerprint{Account: "alice@example.org", Contact: "carol@example.net",
		Fingerprint: strings.ToLower(strings.ReplaceAll(fpB, " ", "")), Verified: true, How: "manual"}); err != nil {
		t.Fatal(err)
	}
	q := openTestProfile(t, dir)
	if !reflect.DeepEqual(p.Accounts(), q.Accounts()) || len(q.Accounts()) != 2 ||
		q.Accounts()[0].Resource != "desktop" || !q.Accounts()[1].DirectTLS {
		t.Errorf("accounts after reopen: %+v", q.Accounts())
	}
	fps := q.Fingerprints()
	if len(fps) != 2 || fps[0].Fingerprint != "01234567 89ABCDEF 01234567 89ABCDEF 01234567" ||
		!fps[1].Verified || fps[1].How != "manual" {
		t.Errorf("fingerprints after reopen: %+v", fps)
	}
	if pol, ok := q.ContactPolicy("alice@example.org", "bob@example.net"); !ok || pol != Manual {
		t.Errorf("ContactPolicy = %v, %v", pol, ok)
	}
	if _, ok := q.ContactPolicy("alice@example.org", "carol@example.net"); ok {
		t.Error("policy for a contact that has none")
	}
	if pr := q.Prefs(); !pr.PlainHistory {
		t.Errorf("prefs after reopen: %+v", pr)
	}
	if got := string(q.UIState()); got != `{"Theme":"dark","WindowW":800}` {
		t.Errorf("UI state after reopen: %q", got)
	}
	if got := q.CertPin("alice@example.org"); got != pinHex {
		t.Errorf("CertPin = %q", got)
	}
	checkModes(t, dir)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 6 {
		t.Errorf("profile dir holds %d entries, want the 6 files (temp files left?)", len(entries))
	}
}

func TestProfileRemoveAndForget(t *testing.T) {
	dir := t.TempDir()
	p := openTestProfile(t, dir)
	fillProfile(t, p)
	if err := p.RemoveAccount("alice@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := p.RemoveAccount("nobody@example.org"); err != nil {
		t.Errorf("removing an unknown account: %v", err)
	}
	q := openTestProfile(t, dir)
	if a := q.Accounts(); len(a) != 1 || a[0].JID != "alice@work.example" {
		t.Errorf("accounts: %+v", a)
	}
	if _, ok := q.ContactPolicy("alice@example.org", "bob@example.net"); ok {
		t.Error("policy of a removed account survived")
	}
	if q.CertPin("alice@example.org") != "" {
		t.Error("cert pin of a removed account survived")
	}
	if len(q.Fingerprints()) != 2 {
		t.Error("fingerprints should survive removing the account")
	}
	if err := q.ForgetFingerprint("alice@example.org", "bob@example.net", strings.ToUpper(fpA)); err != nil {
		t.Fatal(err)
	}
	if err := q.SetCertPin("alice@work.example", ""); err != nil {
		t.Fatal(err)
	}
	if err := q.ClearContactPolicy("alice@work.example", "x@y.z"); err != nil {
		t.Fatal(err)
	}
	r := openTestProfile(t, dir)
	if f := r.Fingerprints(); len(f) != 1 || f[0].Contact != "carol@example.net" {
		t.Errorf("after ForgetFingerprint: %+v", f)
	}
}

func TestProfileValidation(t *testing.T) {
	p := openTestProfile(t, t.TempDir())
	for _, jid := range []string{"", "alice", "alice@example.org/res", "@example.org", "alice@", "a b@c.d", "a@b@c"} {
		if err := p.SaveAccount(Settings{JID: jid}); err == nil {
			t.Errorf("SaveAccount(%q) accepted", jid)
		}
	}
	if err := p.SaveAccount(Settings{JID: "a@b.c", Port: 70000}); err == nil {
		t.Error("port 70000 accepted")
	}
	if err := p.SetFingerprint(KnownFingerprint{Account: "a@b.c", Contact: "d@e.f", Fingerprint: "1234"}); err == nil {
		t.Error("short fingerprint accepted")
	}
	if err := p.SetCertPin("a@b.c", "abcd"); err == nil {
		t.Error("short cert pin accepted")
	}
	if err := p.SetContactPolicy("a@b.c", "d@e.f", Policy(7)); err == nil {
		t.Error("unknown policy accepted")
	}
	if len(p.Accounts())+len(p.Fingerprints()) != 0 {
		t.Error("a rejected value was stored")
	}
}

func TestProfileCorruptFileMovedAside(t *testing.T) {
	dir := t.TempDir()
	fillProfile(t, openTestProfile(t, dir))
	garbage := []byte(`{"Version":1,"Accounts":[{"JID":"alice@example.org"},` + "\x00")
	path := filepath.Join(dir, accountsFile)
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := OpenProfile(dir)
	var ce *CorruptFileError
	if !errors.As(err, &ce) || p == nil {
		t.Fatalf("OpenProfile = %v, %v; want a profile and a *CorruptFileError", p, err)
	}
	if !strings.Contains(err.Error(), accountsFile) || !strings.Contains(err.Error(), ".corrupt-") {
		t.Errorf("error does not name the file and where it went: %v", err)
	}
	if kept, rerr := os.ReadFile(ce.MovedTo); rerr != nil || !bytes.Equal(kept, garbage) {
		t.Errorf("damaged file not kept verbatim at %s: %v", ce.MovedTo, rerr)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("damaged file still in place: %v", err)
	}
	if len(p.Accounts()) != 0 {
		t.Errorf("a partial decode leaked into the profile: %+v", p.Accounts())
	}
	if len(p.Fingerprints()) != 2 || p.CertPin("alice@example.org") == "" {
		t.Error("the undamaged files were not loaded")
	}
	if err := p.SaveAccount(Settings{JID: "new@example.org"}); err != nil {
		t.Fatal(err)
	}
	q := openTestProfile(t, dir) // no error now
	if len(q.Accounts()) != 1 {
		t.Errorf("accounts after recovery: %+v", q.Accounts())
	}
	// A second corruption in the same second must not overwrite the first copy.
	os.WriteFile(path, []byte("nope"), 0o600)
	_, err = OpenProfile(dir)
	var ce2 *CorruptFileError
	if !errors.As(err, &ce2) || ce2.MovedTo == ce.MovedTo {
		t.Fatalf("second corruption: %v", err)
	}
	if kept, _ := os.ReadFile(ce.MovedTo); !bytes.Equal(kept, garbage) {
		t.Error("the first corrupt copy was overwritten")
	}
}

func TestProfileNewerVersionIsNotTouched(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, prefsFile)
	data := []byte(`{"Version": 99, "Prefs": {"Theme": "future"}}`)
	os.WriteFile(path, data, 0o600)
	if _, err := OpenProfile(dir); err == nil || errors.As(err, new(*CorruptFileError)) {
		t.Fatalf("OpenProfile = %v, want a plain 'newer version' error", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Error("file from a newer version was modified")
	}
}

func TestProfileTightensPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, prefsFile), []byte(`{"Version":1}`), 0o644)
	openTestProfile(t, dir)
	checkModes(t, dir)
}

func TestDefaultProfileDir(t *testing.T) {
	base := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", base)
	d, err := DefaultProfileDir()
	if err != nil || d != filepath.Join(base, "sotto") {
		t.Errorf("DefaultProfileDir = %q, %v", d, err)
	}
}

// testKDF is the cheapest argon2id cost a vault accepts (the default
// costs ~2 s per derivation under -race).
var testKDF = secret.KDFParams{Time: 1, MemoryKiB: 8 << 10, Threads: 1}

// TestProfileDirHoldsNoSecrets writes a profile and a vault with a
// password and a private key into one directory, then searches every file
// for the secrets in raw, hex and base64 form.
func TestProfileDirHoldsNoSecrets(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "sotto")
	p := openTestProfile(t, dir)
	fillProfile(t, p)
	password := []byte("Tr0ub4dor&3-sotto-test-password")
	passphrase := []byte("vault passphrase for the scan test")
	key, err := otr.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x := key.X.Bytes()
	v, err := secret.CreateVault(filepath.Join(dir, "secrets.vault"), passphrase, secret.WithKDFParams(testKDF))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var blob []byte // a plausible private key serialization containing raw x
	for _, n := range [][]byte{key.P.Bytes(), key.Q.Bytes(), key.G.Bytes(), key.Y.Bytes(), x} {
		blob = append(append(blob, byte(len(n))), n...)
	}
	if err := v.Set(ctx, "password:alice@example.org", password); err != nil {
		t.Fatal(err)
	}
	if err := v.Set(ctx, "otrkey:alice@example.org", blob); err != nil {
		t.Fatal(err)
	}
	needles := map[string][]byte{}
	for name, s := range map[string][]byte{"password": password, "passphrase": passphrase, "x": x} {
		needles[name+" raw"] = s
		needles[name+" hex"] = []byte(hex.EncodeToString(s))
		needles[name+" HEX"] = []byte(strings.ToUpper(hex.EncodeToString(s)))
		needles[name+" base64"] = []byte(base64.StdEncoding.EncodeToString(s))
	}
	// The scanner finds what it looks for (guards against a vacuous pass).
	if !containsAny(append([]byte("..."), needles["x hex"]...), needles) {
		t.Fatal("scanner is broken")
	}
	files := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for name, n := range needles {
			if bytes.Contains(data, n) {
				t.Errorf("%s found in %s", name, filepath.Base(path))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files != 7 {
		t.Errorf("scanned %d files, want 7 (6 profile files + vault)", files)
	}
	checkModes(t, dir)
}

func containsAny(data []byte, needles map[string][]byte) bool {
	for _, n := range needles {
		if bytes.Contains(data, n) {
			return true
		}
	}
	return false
}
