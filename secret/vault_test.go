package secret

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// testKDF is the cheapest argon2id cost a vault accepts; the default costs
// ~2 s per derivation under -race (TestVaultDefaultParams pays it once).
var testKDF = KDFParams{Time: 1, MemoryKiB: vaultMinMemKiB, Threads: 1}

func newTestVault(t *testing.T, pass string) (*Vault, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secrets.vault")
	v, err := CreateVault(path, []byte(pass), WithKDFParams(testKDF))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v, path
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVaultRoundTrip(t *testing.T) {
	ctx := context.Background()
	v, path := newTestVault(t, "correct horse")
	want := map[string][]byte{
		"pw:alice@example.org":  []byte("hunter2"),
		"key:alice@example.org": {0, 1, 2, 0xff, 0},
		"empty":                 {},
	}
	for k, val := range want {
		if err := v.Set(ctx, k, val); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Set(ctx, "", []byte("x")); err == nil {
		t.Error("Set with an empty key succeeded")
	}
	got, _ := v.Get(ctx, "pw:alice@example.org")
	got[0] = 'X' // Get hands out a copy
	if again, _ := v.Get(ctx, "pw:alice@example.org"); string(again) != "hunter2" {
		t.Errorf("mutating Get's result changed the vault: %q", again)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("vault file mode: %v %v", fi.Mode(), err)
	}
	v2, err := OpenVault(path, []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	for k, val := range want {
		if got, err := v2.Get(ctx, k); err != nil || !bytes.Equal(got, val) {
			t.Errorf("reopened Get(%q) = %x, %v; want %x", k, got, err, val)
		}
	}
	if err := v2.Delete(ctx, "pw:alice@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := v2.Delete(ctx, "pw:alice@example.org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: %v", err)
	}
	v3, err := OpenVault(path, []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	defer v3.Close()
	if _, err := v3.Get(ctx, "pw:alice@example.org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted secret still in the file: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the vault (temp files left?)", len(entries))
	}
}

func TestVaultWrongPassphraseLeavesFileUntouched(t *testing.T) {
	v, path := newTestVault(t, "right")
	if err := v.Set(context.Background(), "k", []byte("secret value")); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, path)
	fi1, _ := os.Stat(path)
	for _, pass := range []string{"wrong", "", "righ", "right "} {
		if _, err := OpenVault(path, []byte(pass)); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("OpenVault(%q) = %v, want ErrWrongPassphrase", pass, err)
		}
	}
	fi2, _ := os.Stat(path)
	if !bytes.Equal(before, readFile(t, path)) || !fi1.ModTime().Equal(fi2.ModTime()) {
		t.Error("a failed open modified the vault file")
	}
}

func TestVaultRejectsTampering(t *testing.T) {
	_, path := newTestVault(t, "pw")
	orig := readFile(t, path)
	mutate := func(f func(b []byte) []byte) string {
		p := filepath.Join(t.TempDir(), "v")
		if err := os.WriteFile(p, f(bytes.Clone(orig)), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Any bit of the sealed part or of the header (the AAD) fails the tag.
	// The KDF fields are changed to other in-range values (t 1->3,
	// m 8192->8193 KiB, p 1->3): a downgrade or upgrade is still caught.
	for _, f := range []struct {
		off  int
		mask byte
	}{{13, 2}, {17, 1}, {18, 2}, {19, 1}, {vaultHeaderLen - 1, 1}, {vaultHeaderLen, 1}, {len(orig) - 1, 0x80}} {
		p := mutate(func(b []byte) []byte { b[f.off] ^= f.mask; return b })
		if _, err := OpenVault(p, []byte("pw")); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("flipped byte %d: %v, want ErrWrongPassphrase", f.off, err)
		}
	}
	// Malformed files are reported as such, not as a wrong passphrase.
	for name, f := range map[string]func([]byte) []byte{
		"truncated": func(b []byte) []byte { return b[:vaultHeaderLen] },
		"empty":     func(b []byte) []byte { return nil },
		"magic":     func(b []byte) []byte { b[0] = 'X'; return b },
		"version":   func(b []byte) []byte { b[8] = 9; return b },
		"huge-memory": func(b []byte) []byte { // must be refused before allocating 4 GiB
			binary.BigEndian.PutUint32(b[14:], 0xffffffff)
			return b
		},
		"zero-threads": func(b []byte) []byte { b[18] = 0; return b },
	} {
		_, err := OpenVault(mutate(f), []byte("pw"))
		if err == nil || errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("%s: %v, want a format error", name, err)
		}
	}
	if _, err := OpenVault(filepath.Join(t.TempDir(), "none"), []byte("pw")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestVaultChangePassphrase(t *testing.T) {
	ctx := context.Background()
	v, path := newTestVault(t, "old pass")
	if err := v.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, path)
	if err := v.ChangePassphrase([]byte("not it"), []byte("new pass")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("ChangePassphrase with a wrong old passphrase: %v", err)
	}
	if !bytes.Equal(before, readFile(t, path)) {
		t.Fatal("a refused passphrase change modified the file")
	}
	if err := v.ChangePassphrase([]byte("old pass"), nil); err == nil {
		t.Fatal("empty new passphrase accepted")
	}
	if err := v.ChangePassphrase([]byte("old pass"), []byte("new pass")); err != nil {
		t.Fatal(err)
	}
	after := readFile(t, path)
	if bytes.Equal(before[19:19+vaultSaltLen], after[19:19+vaultSaltLen]) {
		t.Error("the salt did not change with the passphrase")
	}
	if _, err := OpenVault(path, []byte("old pass")); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("old passphrase still opens the vault: %v", err)
	}
	v2, err := OpenVault(path, []byte("new pass"))
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	if got, err := v2.Get(ctx, "k"); err != nil || string(got) != "v" {
		t.Errorf("after change Get = %q, %v", got, err)
	}
	// The open vault keeps working under the new key.
	if err := v.Set(ctx, "k2", []byte("w")); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenVault(path, []byte("new pass")); err != nil {
		t.Errorf("write after change: %v", err)
	}
}

func TestVaultCreateRefusesExisting(t *testing.T) {
	_, path := newTestVault(t, "a")
	before := readFile(t, path)
	if _, err := CreateVault(path, []byte("b"), WithKDFParams(testKDF)); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("CreateVault over an existing vault: %v", err)
	}
	if !bytes.Equal(before, readFile(t, path)) {
		t.Fatal("existing vault was modified")
	}
	if _, err := CreateVault(filepath.Join(t.TempDir(), "v"), nil, WithKDFParams(testKDF)); err == nil {
		t.Error("empty passphrase accepted")
	}
	if _, err := CreateVault(filepath.Join(t.TempDir(), "v"), []byte("x"),
		WithKDFParams(KDFParams{Time: 1, MemoryKiB: 1024, Threads: 1})); err == nil {
		t.Error("1 MiB argon2id accepted")
	}
}

func TestVaultFreshNonceEveryWrite(t *testing.T) {
	v, path := newTestVault(t, "p")
	ctx := context.Background()
	_ = v.Set(ctx, "k", []byte("same"))
	a := readFile(t, path)
	_ = v.Set(ctx, "k", []byte("same"))
	b := readFile(t, path)
	if bytes.Equal(a[vaultHeaderLen-24:vaultHeaderLen], b[vaultHeaderLen-24:vaultHeaderLen]) || bytes.Equal(a, b) {
		t.Error("two writes used the same nonce")
	}
}

func TestVaultCloseWipes(t *testing.T) {
	v, _ := newTestVault(t, "p")
	ctx := context.Background()
	_ = v.Set(ctx, "k", []byte("wipe me"))
	stored, key := v.secrets["k"], v.key
	v.Close()
	if !bytes.Equal(stored, make([]byte, len(stored))) || !bytes.Equal(key, make([]byte, len(key))) {
		t.Errorf("Close left secret %q / key %x in memory", stored, key)
	}
	if _, err := v.Get(ctx, "k"); err == nil {
		t.Error("Get after Close succeeded")
	}
	if err := v.Set(ctx, "k", []byte("x")); err == nil {
		t.Error("Set after Close succeeded")
	}
}

func TestVaultConcurrent(t *testing.T) {
	v, path := newTestVault(t, "p")
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := string(rune('a' + i))
			if err := v.Set(ctx, k, []byte(k)); err != nil {
				t.Error(err)
			}
			if got, err := v.Get(ctx, k); err != nil || string(got) != k {
				t.Errorf("Get(%s) = %q, %v", k, got, err)
			}
		}()
	}
	wg.Wait()
	v2, err := OpenVault(path, []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	if len(v2.secrets) != 8 {
		t.Errorf("file holds %d secrets, want 8 (lost update)", len(v2.secrets))
	}
}

func TestVaultDefaultParams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secrets.vault")
	v, err := CreateVault(path, []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	b := readFile(t, path)
	tm, mem, th := binary.BigEndian.Uint32(b[10:]), binary.BigEndian.Uint32(b[14:]), b[18]
	if tm != 3 || mem != 64*1024 || th != 2 {
		t.Errorf("header says t=%d m=%d p=%d, want 3/65536/2", tm, mem, th)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("created directory mode %v, %v", fi.Mode(), err)
	}
}

func TestDecodeSecretsNeverPanics(t *testing.T) {
	good := encodeSecrets(map[string][]byte{"a": []byte("1"), "bb": []byte("22")})
	for i := range len(good) {
		_, _ = decodeSecrets(good[:i]) // must not panic on any prefix
	}
	for _, b := range [][]byte{{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff}, {0xff, 0xff, 0xff, 0xff}} {
		if _, err := decodeSecrets(b); err == nil {
			t.Errorf("decodeSecrets(%x) accepted garbage", b)
		}
	}
	m, err := decodeSecrets(good)
	if err != nil || string(m["bb"]) != "22" || len(m) != 2 {
		t.Errorf("decodeSecrets(good) = %v, %v", m, err)
	}
}

// TestVaultID: the ID is what the file starts with up to the nonce (the
// format, the KDF parameters and the salt, which remember.go names a
// remembered passphrase after and which was once copied there by hand as
// 35 bytes); it survives writes and reopening, and a new passphrase (a new
// salt) or another vault gives another ID.
func TestVaultID(t *testing.T) {
	ctx := context.Background()
	v, path := newTestVault(t, "p")
	id := v.ID()
	if len(id) != 35 || !bytes.Equal(id, readFile(t, path)[:35]) {
		t.Fatalf("ID %x is not the file's first 35 bytes", id)
	}
	if err := v.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if got, err := VaultID(path); err != nil || !bytes.Equal(got, id) {
		t.Fatalf("VaultID after a write = %x, %v; want %x", got, err, id)
	}
	v2, err := OpenVault(path, []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v2.ID(), id) {
		t.Error("reopening changed the ID")
	}
	v2.Close()
	if err := v.ChangePassphrase([]byte("p"), []byte("q")); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(v.ID(), id) {
		t.Error("a new passphrase (new salt) kept the ID")
	}
	if got, _ := VaultID(path); !bytes.Equal(got, v.ID()) {
		t.Error("VaultID and ID disagree after ChangePassphrase")
	}
	if other, _ := newTestVault(t, "p"); bytes.Equal(other.ID(), v.ID()) {
		t.Error("two vaults share an ID")
	}
}

// TestVaultIDRejectsOtherFiles: a file that is not a vault (or is too
// short to name one) has no ID.
func TestVaultIDRejectsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"short":  []byte(vaultMagic),
		"other":  bytes.Repeat([]byte("x"), 100),
		"future": append([]byte(vaultMagic), bytes.Repeat([]byte{9}, 60)...),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if id, err := VaultID(path); err == nil {
			t.Errorf("%s: VaultID = %x, want an error", name, id)
		}
	}
	if _, err := VaultID(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
