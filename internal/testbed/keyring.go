package testbed

// A private gnome-keyring for tests: the test binary re-executes itself
// inside dbus-run-session with gnome-keyring-daemon unlocked by a known
// password, and can lock and unlock the login collection from inside, the
// way a desktop's screen lock or an auto-login session leaves it.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	envInKeyring = "SOTTO_IN_TEST_KEYRING" // "1" in the dbus-run-session child
	// KeyringPassword unlocks the private login collection.
	KeyringPassword = "sotto test keyring password"
	keyringOK       = "SOTTO-KEYRING-CHILD-OK"

	secretsName    = "org.freedesktop.secrets"
	secretsPath    = dbus.ObjectPath("/org/freedesktop/secrets")
	loginPath      = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	serviceIface   = "org.freedesktop.Secret.Service"
	gnomeUnlockAPI = "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.UnlockWithMasterPassword"
)

// InKeyring runs the calling test inside a private D-Bus session with an
// unlocked gnome-keyring. In the parent it re-executes the test binary
// for just the test named t.Name(), checks that the child passed, and
// returns false: the caller returns too. In the child it returns true and
// the caller runs the test's body; when the body succeeds the child prints
// a marker the parent looks for, so a skipped child counts as a failure.
//
// The tools (dbus-run-session, gnome-keyring-daemon, dbus-send) must be
// installed; without them the test is skipped, or fails when CI is "true".
func InKeyring(t *testing.T) bool {
	t.Helper()
	if os.Getenv(envInKeyring) == "1" {
		t.Cleanup(func() {
			if !t.Failed() && !t.Skipped() {
				fmt.Println(keyringOK)
			}
		})
		return true
	}
	for _, n := range []string{"dbus-run-session", "gnome-keyring-daemon", "dbus-send"} {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required for this test under CI: %v", n, err)
			}
			t.Skipf("%s not installed: %v", n, err)
		}
	}
	root := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "HOME", "DISPLAY",
			"WAYLAND_DISPLAY", envInKeyring:
			continue
		}
		env = append(env, kv)
	}
	for _, d := range []string{"run", "data", "home"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env = append(env, "XDG_RUNTIME_DIR="+filepath.Join(root, "run"),
		"XDG_DATA_HOME="+filepath.Join(root, "data"), "HOME="+filepath.Join(root, "home"),
		envInKeyring+"=1", "SOTTO_TEST_KEYRING_PW="+KeyringPassword)
	// The daemon returns before it owns org.freedesktop.secrets, so wait
	// for the name, bounded to ~10 s.
	const script = `printf %s "$SOTTO_TEST_KEYRING_PW" | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 96
i=0
until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; do
	i=$((i+1))
	if [ "$i" -gt 200 ]; then echo 'org.freedesktop.secrets never got an owner' >&2; exit 97; fi
	sleep 0.05
done
exec "$0" -test.run "^$1\$" -test.v -test.count=1`
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "dbus-run-session", "--", "sh", "-c", script, os.Args[0], t.Name())
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	s := out.String()
	if err != nil {
		t.Fatalf("keyring child failed: %v\n%s", err, s)
	}
	if !strings.Contains(s, "--- PASS: "+t.Name()) || !strings.Contains(s, keyringOK) {
		t.Fatalf("keyring child did not pass %s (skipped?):\n%s", t.Name(), s)
	}
	t.Logf("keyring child output:\n%s", s)
	return false
}

// LockKeyring locks the login collection of the private keyring, as a
// desktop does at start (auto-login) or on screen lock. Only inside
// InKeyring.
func LockKeyring(t testing.TB) {
	t.Helper()
	conn := keyringBus(t)
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	err := conn.Object(secretsName, secretsPath).Call(serviceIface+".Lock", 0,
		[]dbus.ObjectPath{loginPath}).Store(&locked, &prompt)
	if err != nil || len(locked) != 1 {
		t.Fatalf("locking the keyring: %v (locked %v, prompt %v)", err, locked, prompt)
	}
	if !KeyringLocked(t) {
		t.Fatal("the login collection is still unlocked")
	}
}

// UnlockKeyring unlocks the login collection with KeyringPassword, as the
// user typing it into the desktop's unlock prompt would.
func UnlockKeyring(t testing.TB) {
	t.Helper()
	conn := keyringBus(t)
	svc := conn.Object(secretsName, secretsPath)
	var output dbus.Variant
	var session dbus.ObjectPath
	if err := svc.Call(serviceIface+".OpenSession", 0, "plain", dbus.MakeVariant("")).
		Store(&output, &session); err != nil {
		t.Fatalf("opening a secret service session: %v", err)
	}
	type secretValue struct {
		Session     dbus.ObjectPath
		Parameters  []byte
		Value       []byte
		ContentType string
	}
	pw := secretValue{Session: session, Parameters: []byte{}, Value: []byte(KeyringPassword),
		ContentType: "text/plain"}
	if err := svc.Call(gnomeUnlockAPI, 0, loginPath, pw).Err; err != nil {
		t.Fatalf("unlocking the keyring: %v", err)
	}
	if KeyringLocked(t) {
		t.Fatal("the login collection is still locked")
	}
}

// KeyringLocked reports whether the login collection is locked.
func KeyringLocked(t testing.TB) bool {
	t.Helper()
	v, err := keyringBus(t).Object(secretsName, loginPath).
		GetProperty("org.freedesktop.Secret.Collection.Locked")
	if err != nil {
		t.Fatalf("reading the keyring's lock state: %v", err)
	}
	b, _ := v.Value().(bool)
	return b
}

func keyringBus(t testing.TB) *dbus.Conn {
	t.Helper()
	if os.Getenv(envInKeyring) != "1" {
		t.Fatal("testbed: the keyring helpers work only inside InKeyring")
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatalf("connecting to the test session bus: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}
