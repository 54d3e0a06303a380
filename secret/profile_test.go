package secret

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// location stands for the profile folder package main picks (its
// location type): where the vault lives and whether Sotto is portable.
type location struct {
	dir      string
	portable bool
}

func (l location) vaultPath() string { return filepath.Join(l.dir, VaultFile) }

func newSecrets(loc location, ask AskFunc) *Profile {
	return NewProfile(Options{Dir: loc.dir, Portable: loc.portable, Ask: ask})
}

// errCancelled is what the UI's prompt returns when the window is closed.
var errCancelled = errors.New("test: passphrase not given")

// TestPortableSecretsUseOnlyTheVault: in portable mode the first secret
// creates the vault with the passphrase the user gives; a restart with a
// wrong passphrase is asked again with a plain problem line and the file
// is left as it was.
func TestPortableSecretsUseOnlyTheVault(t *testing.T) {
	loc := location{dir: t.TempDir(), portable: true}
	ctx := context.Background()
	var asked []string
	answers := []string{"a long passphrase"}
	ask := func(_ context.Context, req PassphraseRequest) (PassphraseAnswer, error) {
		asked = append(asked, req.Problem)
		if len(answers) == 0 {
			return PassphraseAnswer{}, errors.New("cancelled")
		}
		a := answers[0]
		answers = answers[1:]
		if req.Create != (len(asked) == 1 && !fileExists(loc.vaultPath())) {
			t.Errorf("ask %d: create=%v", len(asked), req.Create)
		}
		if !req.OfferRemember {
			t.Errorf("ask %d: portable mode must offer the remember box", len(asked))
		}
		return PassphraseAnswer{Passphrase: a}, nil
	}
	s := newSecrets(loc, ask)
	if err := s.Set(ctx, "password:alice@example.org", []byte("hunter2")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(loc.vaultPath())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("vault file: %v %v", fi, err)
	}
	before, _ := os.ReadFile(loc.vaultPath())

	// A fresh start: wrong passphrase first, then the right one.
	asked, answers = nil, []string{"wrong guess!", "a long passphrase"}
	s2 := newSecrets(loc, ask)
	got, err := s2.Get(ctx, "password:alice@example.org")
	if err != nil || string(got) != "hunter2" {
		t.Fatalf("get after unlock: %q %v", got, err)
	}
	if len(asked) != 2 || asked[0] != "" || asked[1] == "" {
		t.Fatalf("want a second prompt that names the problem, got %q", asked)
	}
	after, _ := os.ReadFile(loc.vaultPath())
	if string(before) != string(after) {
		t.Error("a wrong passphrase changed the vault file")
	}

	// The user gives up: a clear error, the secret is not lost.
	asked, answers = nil, nil
	s3 := newSecrets(loc, ask)
	if _, err := s3.Get(ctx, "password:alice@example.org"); err == nil {
		t.Fatal("a cancelled prompt must not unlock the vault")
	}
	if _, err := os.Stat(loc.vaultPath()); err != nil {
		t.Fatal("vault file lost")
	}
}

func TestNoKeyringIsUnavailable(t *testing.T) {
	if _, err := (noKeyring{}).Get(context.Background(), "x"); !errors.Is(err, ErrStoreUnavailable) {
		t.Fatalf("got %v", err)
	}
}

// fakeKeyring stands in for the host's OS keyring (go-keyring's MockInit
// would replace the provider for the whole test binary).
type fakeKeyring struct {
	mu                  sync.Mutex
	items               map[string][]byte
	down                bool // every call: ErrStoreUnavailable
	gets, sets, deletes int
}

func newFakeKeyring() *fakeKeyring { return &fakeKeyring{items: map[string][]byte{}} }

var errFakeDown = fmt.Errorf("%w: no secret service (fake)", ErrStoreUnavailable)

func (k *fakeKeyring) Get(_ context.Context, key string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gets++
	if k.down {
		return nil, errFakeDown
	}
	v, ok := k.items[key]
	if !ok {
		return nil, ErrNotFound
	}
	return bytes.Clone(v), nil
}

func (k *fakeKeyring) Set(_ context.Context, key string, v []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sets++
	if k.down {
		return errFakeDown
	}
	k.items[key] = bytes.Clone(v)
	return nil
}

func (k *fakeKeyring) Delete(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.deletes++
	if k.down {
		return errFakeDown
	}
	if _, ok := k.items[key]; !ok {
		return ErrNotFound
	}
	delete(k.items, key)
	return nil
}

func (k *fakeKeyring) calls() (gets, sets, deletes int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.gets, k.sets, k.deletes
}

// prompter answers the unlock window from a script and records what it
// was asked.
type prompter struct {
	reqs    []PassphraseRequest
	answers []PassphraseAnswer
}

func (p *prompter) ask(_ context.Context, req PassphraseRequest) (PassphraseAnswer, error) {
	p.reqs = append(p.reqs, req)
	if len(p.answers) == 0 {
		return PassphraseAnswer{}, errCancelled
	}
	a := p.answers[0]
	p.answers = p.answers[1:]
	return a, nil
}

const testVaultPass = "correct horse battery"

// start is one run of a portable Sotto: a fresh Profile over the same
// stick and the same host keyring, scripted answers to the unlock window.
func start(loc location, kr *fakeKeyring, answers ...PassphraseAnswer) (*Profile, *prompter) {
	p := &prompter{answers: answers}
	s := newSecrets(loc, p.ask)
	s.hostKeyring = kr
	s.vaultOpts = []VaultOption{WithKDFParams(KDFParams{Time: 1, MemoryKiB: 8 << 10, Threads: 1})}
	return s, p
}

func mustGet(t *testing.T, s *Profile, key, want string) {
	t.Helper()
	got, err := s.Get(context.Background(), key)
	if err != nil || string(got) != want {
		t.Fatalf("get %s: %q, %v", key, got, err)
	}
}

// TestPortableRememberUnlocksWithoutPrompt: ticking the box (here when the
// vault is created) stores the passphrase under the vault's name, and the
// next start on this computer unlocks without the window.
func TestPortableRememberUnlocksWithoutPrompt(t *testing.T) {
	loc := location{dir: t.TempDir(), portable: true}
	kr := newFakeKeyring()
	ctx := context.Background()
	s, p := start(loc, kr, PassphraseAnswer{Passphrase: testVaultPass, Remember: true})
	if err := s.Set(ctx, "password:alice@example.org", []byte("hunter2")); err != nil {
		t.Fatal(err)
	}
	if len(p.reqs) != 1 || !p.reqs[0].Create || !p.reqs[0].OfferRemember {
		t.Fatalf("first start: want one create window with the box, got %+v", p.reqs)
	}
	// The Set above rewrote the vault (new nonce): the name must not move.
	key, err := rememberKeyOf(loc.vaultPath())
	if err != nil {
		t.Fatal(err)
	}
	if len(kr.items) != 1 || string(kr.items[key]) != testVaultPass {
		t.Fatalf("keyring: want only %s = the passphrase, got %d items", key, len(kr.items))
	}
	if !fileExists(filepath.Join(loc.dir, rememberedNote)) {
		t.Fatal("ticking the box must leave the note that makes later starts look")
	}

	s2, p2 := start(loc, kr) // no answers: a prompt would fail the Get
	mustGet(t, s2, "password:alice@example.org", "hunter2")
	if len(p2.reqs) != 0 {
		t.Fatalf("second start asked %d times", len(p2.reqs))
	}
	if _, sets, _ := kr.calls(); sets != 1 {
		t.Fatalf("keyring Set called %d times, want 1", sets)
	}
}

// TestPortableRememberOffTouchesNoKeyring: never ticking the box means not
// one keyring call (not even a lookup: on Linux that starts the keyring
// daemon, which writes to the host), and no note on the stick.
func TestPortableRememberOffTouchesNoKeyring(t *testing.T) {
	loc := location{dir: t.TempDir(), portable: true}
	kr := newFakeKeyring()
	s, _ := start(loc, kr, PassphraseAnswer{Passphrase: testVaultPass})
	if err := s.Set(context.Background(), "password:a@b", []byte("pw")); err != nil {
		t.Fatal(err)
	}
	s2, p2 := start(loc, kr, PassphraseAnswer{Passphrase: testVaultPass})
	mustGet(t, s2, "password:a@b", "pw")
	if len(p2.reqs) != 1 || p2.reqs[0].Problem != "" {
		t.Fatalf("second start: want one plain prompt, got %+v", p2.reqs)
	}
	if g, st, d := kr.calls(); g+st+d != 0 {
		t.Fatalf("keyring touched without the box: %d gets, %d sets, %d deletes", g, st, d)
	}
	if fileExists(filepath.Join(loc.dir, rememberedNote)) {
		t.Fatal("a note was written without the box")
	}
	if n := newSecrets(location{dir: t.TempDir()}, nil); n.hostKeyring != nil {
		t.Fatal("normal mode must not offer to remember the vault passphrase")
	}
}

// TestPortableRememberUntickForgets: unlocking with the box unticked (here
// after --forget-passphrase showed the window) deletes the remembered
// passphrase and stores nothing; the next start asks again.
func TestPortableRememberUntickForgets(t *testing.T) {
	loc := location{dir: t.TempDir(), portable: true}
	kr := newFakeKeyring()
	s, _ := start(loc, kr, PassphraseAnswer{Passphrase: testVaultPass, Remember: true})
	if err := s.Set(context.Background(), "password:a@b", []byte("pw")); err != nil {
		t.Fatal(err)
	}
	if len(kr.items) != 1 {
		t.Fatal("setup: nothing remembered")
	}

	s2, p2 := start(loc, kr, PassphraseAnswer{Passphrase: testVaultPass})
	s2.askAnyway = true
	mustGet(t, s2, "password:a@b", "pw")
	if len(p2.reqs) != 1 {
		t.Fatalf("--forget-passphrase: want the window, got %d prompts", len(p2.reqs))
	}
	if _, sets, deletes := kr.calls(); sets != 1 || deletes != 1 || len(kr.items) != 0 {
		t.Fatalf("untick: want the item deleted and nothing stored (sets %d, deletes %d, items %d)",
			sets, deletes, len(kr.items))
	}

	s3, p3 := start(loc, kr, PassphraseAnswer{Passphrase: testVaultPass})
	mustGet(t, s3, "password:a@b", "pw")
	if len(p3.reqs) != 1 || p3.reqs[0].Problem != "" {
		t.Fatalf("after forgetting: want one plain prompt, got %+v", p3.reqs)
	}
	if _, sets, _ := kr.calls(); sets != 1 {
		t.Fatalf("an unticked unlock stored the passphrase (sets %d)", sets)
	}
}

// TestPortableRememberKeyringUnavailable: the box was ticked before, but
// this computer has no keyring: the window comes as before, with no
// problem line, and ticking again does not stop the unlock.
func TestPortableRememberKeyringUnavailable(t *testing.T) {
	loc := location{dir: t.TempDir(), portable: true}
	kr := newFakeKeyring()
	s, _ := start(loc, kr, PassphraseAnswer{Passphrase: testVaultPass, Remember: true})
	if err := s.Set(context.Background(), "password:a@b", []byte("pw")); err != nil {
		t.Fatal(err)
	}
	kr.down = true
	s2, p2 := start(loc, kr, PassphraseAnswer{Passphrase: testVaultPass, Remember: true})
	mustGet(t, s2, "password:a@b", "pw")
	if len(p2.reqs) != 1 || p2.reqs[0].Problem != "" || p2.reqs[0].Create {
		t.Fatalf("keyring down: want one plain unlock prompt, got %+v", p2.reqs)
	}
	if gets, _, _ := kr.calls(); gets != 1 {
		t.Fatalf("want one lookup before asking, got %d", gets)
	}
}

// TestPortableRememberWrongStoredPassphrase: a remembered passphrase that
// no longer opens the vault leads to the window without an error shown;
// unlocking with the box ticked replaces it.
func TestPortableRememberWrongStoredPassphrase(t *testing.T) {
	loc := location{dir: t.TempDir(), portable: true}
	kr := newFakeKeyring()
	s, _ := start(loc, kr, PassphraseAnswer{Passphrase: testVaultPass, Remember: true})
	if err := s.Set(context.Background(), "password:a@b", []byte("pw")); err != nil {
		t.Fatal(err)
	}
	key, _ := rememberKeyOf(loc.vaultPath())
	kr.items[key] = []byte("an old passphrase")
	before, _ := os.ReadFile(loc.vaultPath())

	s2, p2 := start(loc, kr, PassphraseAnswer{Passphrase: testVaultPass, Remember: true})
	mustGet(t, s2, "password:a@b", "pw")
	if len(p2.reqs) != 1 || p2.reqs[0].Problem != "" {
		t.Fatalf("stale remembered passphrase: want one plain prompt, got %+v", p2.reqs)
	}
	if after, _ := os.ReadFile(loc.vaultPath()); !bytes.Equal(before, after) {
		t.Fatal("trying the remembered passphrase changed the vault")
	}
	if string(kr.items[key]) != testVaultPass {
		t.Fatal("the ticked unlock did not replace the stale passphrase")
	}
	s3, p3 := start(loc, kr)
	mustGet(t, s3, "password:a@b", "pw")
	if len(p3.reqs) != 0 {
		t.Fatal("third start should not ask")
	}
}

// TestPortableRememberKeyNamesTheVault: the keyring item follows the
// vault (same name after writes and on another mount point), and another
// vault at the same place gets another name, so one stick's remembered
// passphrase is never offered to another stick's vault.
func TestPortableRememberKeyNamesTheVault(t *testing.T) {
	ctx := context.Background()
	cheap := WithKDFParams(KDFParams{Time: 1, MemoryKiB: 8 << 10, Threads: 1})
	path := filepath.Join(t.TempDir(), "vault.sotto")
	v, err := CreateVault(path, []byte("one passphrase"), cheap)
	if err != nil {
		t.Fatal(err)
	}
	k1, err := rememberKeyOf(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Set(ctx, "x", []byte("y")); err != nil {
		t.Fatal(err)
	}
	v.Close()
	if k, _ := rememberKeyOf(path); k != k1 {
		t.Fatal("the name changed when the vault was written")
	}
	data, _ := os.ReadFile(path)
	moved := filepath.Join(t.TempDir(), "elsewhere", "vault.sotto")
	os.MkdirAll(filepath.Dir(moved), 0o700)
	os.WriteFile(moved, data, 0o600)
	if k, _ := rememberKeyOf(moved); k != k1 {
		t.Fatal("the name changed with the mount point")
	}
	os.Remove(path)
	if _, err := CreateVault(path, []byte("one passphrase"), cheap); err != nil {
		t.Fatal(err)
	}
	if k, _ := rememberKeyOf(path); k == k1 || !strings.HasPrefix(k, "vault-passphrase:") {
		t.Fatalf("another vault at the same path: %q vs %q", k, k1)
	}
}
