package secret

// Keyring tests run against a real Secret Service. go test cannot wrap
// itself in dbus-run-session, so each test re-executes the test binary as a
// child with a prepared environment and checks that the child passed. The
// child is recognised by an environment variable. keyring.MockInit is never
// used here: it replaces the provider for the whole process.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sotto-im/sotto/internal/testbed"
)

const (
	envInDBus      = "SOTTO_IN_DBUS"       // "1" in the dbus-run-session child
	envKeyringMode = "SOTTO_KEYRING_CHILD" // "unavailable" or "hang" in other children
	envTestPW      = "SOTTO_TEST_KEYRING_PW"
	childOK        = "SOTTO-CHILD-OK"
)

// requireTools skips (or, under CI, fails) when a needed program is absent.
func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required for this test under CI: %v", n, err)
			}
			t.Skipf("%s not installed: %v", n, err)
		}
	}
}

// childEnv is our environment without the variables the child must not
// inherit, plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "HOME",
			envInDBus, envKeyringMode, envTestPW:
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// privateDirs makes run/data/home dirs for a child in a fresh temp dir.
func privateDirs(t *testing.T) (env []string, root string) {
	t.Helper()
	root = t.TempDir()
	for _, d := range []string{"run", "data", "home"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return []string{
		"XDG_RUNTIME_DIR=" + filepath.Join(root, "run"),
		"XDG_DATA_HOME=" + filepath.Join(root, "data"),
		"HOME=" + filepath.Join(root, "home"),
	}, root
}

// runChild runs cmd (which execs this test binary) and asserts that the
// named test passed in it and printed childOK.
func runChild(t *testing.T, cmd *exec.Cmd, name string) string {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("child %s finished in %v", name, time.Since(start).Round(time.Millisecond))
	s := out.String()
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, s)
	}
	if !strings.Contains(s, "--- PASS: "+name) || !strings.Contains(s, childOK) {
		t.Fatalf("child did not pass %s (skipped?):\n%s", name, s)
	}
	t.Logf("child output:\n%s", s)
	return s
}

func selfCommand(ctx context.Context, name string) *exec.Cmd {
	return exec.CommandContext(ctx, os.Args[0], "-test.run", "^"+name+"$", "-test.v")
}

// TestKeyringSecretService round-trips secrets through gnome-keyring in a
// private D-Bus session.
func TestKeyringSecretService(t *testing.T) {
	if os.Getenv(envInDBus) == "1" {
		keyringRoundTrip(t)
		return
	}
	requireTools(t, "dbus-run-session", "gnome-keyring-daemon", "dbus-send", "secret-tool")
	env, _ := privateDirs(t)
	// The daemon returns before it owns org.freedesktop.secrets (FACTS.md),
	// so wait for the name, bounded to ~10 s.
	const script = `printf %s "$` + envTestPW + `" | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 96
i=0
until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; do
	i=$((i+1))
	if [ "$i" -gt 200 ]; then echo 'org.freedesktop.secrets never got an owner' >&2; exit 97; fi
	sleep 0.05
done
exec "$0" -test.run '^TestKeyringSecretService$' -test.v`
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "dbus-run-session", "--", "sh", "-c", script, os.Args[0])
	cmd.Env = childEnv(append(env, envInDBus+"=1", envTestPW+"=sotto test keyring password")...)
	runChild(t, cmd, "TestKeyringSecretService")
}

// keyringRoundTrip runs inside the D-Bus session.
func keyringRoundTrip(t *testing.T) {
	ctx := context.Background()
	service := fmt.Sprintf("sotto-test-%d", os.Getpid())
	k := NewKeyring(service, 10*time.Second)
	key := "xmpp-password:alice@example.org"

	if _, err := k.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Set: %v, want ErrNotFound", err)
	}
	// Binary, with NUL and invalid UTF-8, like a serialized private key.
	val := append([]byte{0, 0xff, 0xfe, 'a', 0}, bytes.Repeat([]byte{0x80, 0x01}, 512)...)
	start := time.Now()
	if err := k.Set(ctx, key, val); err != nil {
		t.Fatalf("Set: %v", err)
	}
	t.Logf("Set of %d bytes took %v", len(val), time.Since(start).Round(time.Microsecond))
	start = time.Now()
	got, err := k.Get(ctx, key)
	t.Logf("Get took %v", time.Since(start).Round(time.Microsecond))
	if err != nil || !bytes.Equal(got, val) {
		t.Fatalf("Get = %x, %v; want the stored value", got[:min(8, len(got))], err)
	}
	// The item really lives in the Secret Service (not in this process).
	out, err := exec.Command("secret-tool", "lookup", "service", service, "username", key).Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		t.Fatalf("secret-tool does not see the item: %v %q", err, out)
	}
	if bytes.Contains(out, val[5:40]) {
		t.Fatal("the keyring holds the raw bytes, not the base64 encoding")
	}
	// Overwrite replaces the value.
	if err := k.Set(ctx, key, []byte("second")); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get(ctx, key); err != nil || string(got) != "second" {
		t.Fatalf("after overwrite Get = %q, %v", got, err)
	}
	if err := k.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := k.Delete(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v, want ErrNotFound", err)
	}
	// A working keyring must never trigger the vault (its passphrase prompt).
	fb := NewFallback(k, func(context.Context) (Store, error) {
		t.Error("vault opened although the keyring works")
		return nil, errors.New("no vault")
	})
	if err := fb.Set(ctx, key, []byte("via fallback")); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get(ctx, key); err != nil || string(got) != "via fallback" {
		t.Fatalf("fallback did not write to the keyring: %q, %v", got, err)
	}
	if _, err := fb.Get(ctx, "absent"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("fallback Get absent: %v", err)
	}
	if err := fb.Delete(ctx, key); err != nil || fb.UsingSecondary() {
		t.Fatalf("fallback Delete: %v (using vault: %v)", err, fb.UsingSecondary())
	}
	if !t.Failed() {
		fmt.Println(childOK)
	}
}

// TestKeyringUnavailable: with the session bus pointing at a socket that
// does not exist, every call fails fast with ErrStoreUnavailable and the
// fallback stores the secret in the vault.
func TestKeyringUnavailable(t *testing.T) {
	if os.Getenv(envKeyringMode) == "unavailable" {
		keyringUnavailableChild(t)
		return
	}
	env, root := privateDirs(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := selfCommand(ctx, "TestKeyringUnavailable")
	cmd.Env = childEnv(append(env, envKeyringMode+"=unavailable",
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(root, "no-such-bus"))...)
	runChild(t, cmd, "TestKeyringUnavailable")
}

func keyringUnavailableChild(t *testing.T) {
	ctx := context.Background()
	k := NewKeyring("sotto-test", 10*time.Second)
	for name, call := range map[string]func() error{
		"get":    func() error { _, err := k.Get(ctx, "k"); return err },
		"set":    func() error { return k.Set(ctx, "k", []byte("v")) },
		"delete": func() error { return k.Delete(ctx, "k") },
	} {
		start := time.Now()
		err := call()
		t.Logf("%s: %v after %v", name, err, time.Since(start).Round(time.Microsecond))
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s took %v; an absent bus must fail fast", name, d)
		}
		if !errors.Is(err, ErrStoreUnavailable) || errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, want ErrStoreUnavailable", name, err)
		} else if !strings.Contains(err.Error(), "no-such-bus") && !strings.Contains(err.Error(), "no such file") {
			t.Errorf("%s: error does not carry the cause: %v", name, err)
		}
	}
	checkFallbackUsesVault(t, k)
	if !t.Failed() {
		fmt.Println(childOK)
	}
}

// checkFallbackUsesVault stores through a Fallback over the broken keyring k
// and checks the secret ends up in the vault file.
func checkFallbackUsesVault(t *testing.T, k Store) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.vault")
	pass := []byte("vault pass phrase")
	var opened atomic.Int32
	fb := NewFallback(k, func(context.Context) (Store, error) {
		opened.Add(1)
		return CreateVault(path, pass, WithKDFParams(testKDF))
	})
	if err := fb.Set(ctx, "pw:alice@example.org", []byte("hunter2")); err != nil {
		t.Fatalf("fallback Set: %v", err)
	}
	if !fb.UsingSecondary() {
		t.Error("UsingSecondary = false after the keyring failed")
	}
	if got, err := fb.Get(ctx, "pw:alice@example.org"); err != nil || string(got) != "hunter2" {
		t.Fatalf("fallback Get = %q, %v", got, err)
	}
	if err := fb.Set(ctx, "pw:bob@example.org", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if n := opened.Load(); n != 1 {
		t.Errorf("vault opened %d times, want once", n)
	}
	v, err := OpenVault(path, pass)
	if err != nil {
		t.Fatalf("reopen vault: %v", err)
	}
	defer v.Close()
	if got, err := v.Get(ctx, "pw:alice@example.org"); err != nil || string(got) != "hunter2" {
		t.Fatalf("secret not in the vault file: %q, %v", got, err)
	}
	if err := fb.Delete(ctx, "pw:alice@example.org"); err != nil {
		t.Fatalf("fallback Delete: %v", err)
	}
	if _, err := fb.Get(ctx, "pw:alice@example.org"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after Delete: %v", err)
	}
}

// checkFallbackWaitsForLockedKeyring: over a keyring that does not answer,
// a Fallback reports ErrLocked and never opens the vault.
func checkFallbackWaitsForLockedKeyring(t *testing.T, k Store) {
	t.Helper()
	ctx := context.Background()
	fb := NewFallback(k, func(context.Context) (Store, error) {
		t.Error("the vault was opened although the keyring is only locked")
		return NewMemory(), nil
	})
	if err := fb.Set(ctx, "pw:alice@example.org", []byte("hunter2")); !errors.Is(err, ErrLocked) {
		t.Errorf("fallback Set: %v, want ErrLocked", err)
	}
	if _, err := fb.Get(ctx, "pw:alice@example.org"); !errors.Is(err, ErrLocked) {
		t.Errorf("fallback Get: %v, want ErrLocked", err)
	}
	if fb.UsingSecondary() {
		t.Error("UsingSecondary = true: the Fallback gave up on a locked keyring")
	}
}

// TestKeyringTimeout: a bus that accepts the connection but never answers
// (what a keyring waiting on an unlock prompt looks like) must not hang the
// caller: every call returns ErrStoreUnavailable after the timeout, and a
// cancelled context returns at once. The timeout means "locked"
// (ErrLocked): the Fallback does not replace the keyring by the vault
// (issue 12, point 4; this test used to expect the vault).
func TestKeyringTimeout(t *testing.T) {
	if os.Getenv(envKeyringMode) == "hang" {
		keyringHangChild(t)
		return
	}
	env, root := privateDirs(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := selfCommand(ctx, "TestKeyringTimeout")
	cmd.Env = childEnv(append(env, envKeyringMode+"=hang",
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(root, "silent-bus"))...)
	runChild(t, cmd, "TestKeyringTimeout")
}

func keyringHangChild(t *testing.T) {
	sock := strings.TrimPrefix(os.Getenv("DBUS_SESSION_BUS_ADDRESS"), "unix:path=")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept and never answer
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	const timeout = 300 * time.Millisecond
	k := NewKeyring("sotto-test", timeout)
	ctx := context.Background()
	for i := range 2 { // the second call queues behind the first, still bounded
		start := time.Now()
		_, err := k.Get(ctx, "k")
		d := time.Since(start)
		t.Logf("call %d: %v after %v", i, err, d.Round(time.Millisecond))
		if !errors.Is(err, ErrStoreUnavailable) || !strings.Contains(err.Error(), "no answer within") {
			t.Errorf("call %d: %v, want a timeout ErrStoreUnavailable", i, err)
		}
		if !errors.Is(err, ErrLocked) {
			t.Errorf("call %d: %v, want ErrLocked (a keyring that does not answer may be waiting to be unlocked)", i, err)
		}
		if d < timeout || d > timeout+2*time.Second {
			t.Errorf("call %d returned after %v, want about %v", i, d, timeout)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	start := time.Now()
	if err := k.Set(cctx, "k", []byte("v")); !errors.Is(err, context.Canceled) || errors.Is(err, ErrStoreUnavailable) {
		t.Errorf("cancelled Set: %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > timeout/2 {
		t.Errorf("cancelled Set took %v", d)
	}
	checkFallbackWaitsForLockedKeyring(t, k)
	if !t.Failed() {
		fmt.Println(childOK)
	}
}

// TestKeyringLocked: a real gnome-keyring whose login collection is
// locked answers neither "not found" nor "no keyring": it says locked, so
// that nothing is replaced and the vault is not opened behind the user's
// back. Unlocked again, the same secret is there.
func TestKeyringLocked(t *testing.T) {
	if !testbed.InKeyring(t) {
		return
	}
	ctx := context.Background()
	k := NewKeyring("sotto-test", 2*time.Second)
	if err := k.Set(ctx, "otr-key:alice@example.org", []byte("the old key")); err != nil {
		t.Fatal(err)
	}
	testbed.LockKeyring(t)
	start := time.Now()
	_, err := k.Get(ctx, "otr-key:alice@example.org")
	t.Logf("Get on a locked keyring: %v after %v", err, time.Since(start).Round(time.Millisecond))
	if !errors.Is(err, ErrLocked) || errors.Is(err, ErrNotFound) {
		t.Fatalf("Get on a locked keyring: %v, want ErrLocked", err)
	}
	fb := NewFallback(k, func(context.Context) (Store, error) {
		t.Error("the vault was opened although the keyring exists (it is only locked)")
		return NewMemory(), nil
	})
	if _, err := fb.Get(ctx, "otr-key:alice@example.org"); !errors.Is(err, ErrLocked) {
		t.Errorf("Fallback Get on a locked keyring: %v, want ErrLocked", err)
	}
	if err := fb.Set(ctx, "otr-key:alice@example.org", []byte("a new key")); !errors.Is(err, ErrLocked) {
		t.Errorf("Fallback Set on a locked keyring: %v, want ErrLocked", err)
	}
	if fb.UsingSecondary() {
		t.Error("the Fallback gave up on a keyring that is only locked")
	}
	testbed.UnlockKeyring(t)
	got, err := fb.Get(ctx, "otr-key:alice@example.org")
	if err != nil || string(got) != "the old key" {
		t.Fatalf("after unlocking: %q, %v; want the old key", got, err)
	}
}
