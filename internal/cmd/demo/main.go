//go:build unix

// Command demo is what `make demo` runs: a private Prosody on 127.0.0.1
// with two accounts, alice and bob, who are each other's contacts, and two
// Sotto windows already signed in to them, so that a newcomer can try
// going private and authenticating without an account anywhere.
//
// Nothing in Sotto is special-cased for the demo. Each Sotto runs as it
// would on a desktop: with its own profile folder (--profile), its own
// HOME and its own D-Bus session in which a gnome-keyring-daemon holds the
// account password, stored there through account.Manager.AddAccount just
// before Sotto starts (see instance.go). The server's self-signed
// certificate is pinned in each profile, as if the user had accepted it.
//
// Everything lives in one temporary folder that is removed at the end.
// Ctrl-C (SIGINT/SIGTERM) stops both Sottos, their D-Bus sessions and
// keyring daemons (each instance runs in its own process group) and
// Prosody; the demo also ends by itself when both windows are closed.
//
//	demo -sotto build/sotto
package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sotto-im/sotto/account"
	"github.com/sotto-im/sotto/internal/testbed"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "instance" {
		if err := instance(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "demo instance:", err)
			os.Exit(1)
		}
		return
	}
	sotto := flag.String("sotto", "build/sotto", "the Sotto binary to start")
	flag.IntVar(&extraContacts, "contacts", 0, "extra contacts in alice's roster (scripts/idle.sh measures with 2000)")
	flag.BoolVar(&secondBob, "second-bob", false, "on SIGUSR1, start a second Sotto signed in as bob (a new device of his)")
	flag.BoolVar(&pep, "pep", false, "load Prosody's mod_pep and mod_offline, so the two Sottos talk OMEMO instead of OTR")
	flag.StringVar(&alwaysPrivate, "always", "", "a demo user (alice or bob) whose account sends only privately (policy Always; scripts/resend-session.sh)")
	flag.Parse()
	if err := run(*sotto); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// extraContacts is how many more contacts alice has (contact0001@localhost
// …), none of them online: a roster of realistic size for measurements.
var extraContacts int

// pep: the demo's Prosody publishes OMEMO devices (-pep).
var pep bool

// secondBob: SIGUSR1 starts a second device of bob's (-second-bob).
var secondBob bool

// alwaysPrivate is the user whose account has policy Always (-always).
var alwaysPrivate string

// user is one demo account.
type user struct{ name, display, peer, peerDisplay string }

var users = []user{
	{"alice", "Alice", "bob", "Bob"},
	{"bob", "Bob", "alice", "Alice"},
}

func run(sottoPath string) error {
	sotto, err := filepath.Abs(sottoPath)
	if err != nil {
		return err
	}
	if _, err := os.Stat(sotto); err != nil {
		return fmt.Errorf("no Sotto binary (run `make build`): %w", err)
	}
	dir, err := os.MkdirTemp("", "sotto-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	srvDir := filepath.Join(dir, "prosody") // StartServer makes it, 0700
	var mods []testbed.Option
	if pep {
		mods = append(mods, testbed.WithModules("pep", "offline"))
	}
	srv, err := testbed.StartServer(srvDir, mods...)
	if srv != nil {
		defer srv.Close()
	}
	if err != nil {
		return err
	}
	pin, err := certPin(srv.CertPEM())
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(srv.Addr())
	passwords := map[string]string{}
	for _, u := range users {
		passwords[u.name] = testbed.RandomPassword()
		if _, err := srv.Register(u.name, passwords[u.name]); err != nil {
			return err
		}
		if err := writeRoster(srvDir, u); err != nil {
			return err
		}
	}
	fmt.Printf("demo: Prosody on %s with alice@localhost and bob@localhost (folder %s)\n", srv.Addr(), dir)

	var insts []*exec.Cmd
	defer func() { stopAll(insts) }()
	for _, u := range users {
		cmd, err := startInstance(dir, sotto, u, port, pin, passwords[u.name])
		if err != nil {
			return err
		}
		insts = append(insts, cmd)
	}
	if secondBob {
		// A second device of bob's, on SIGUSR1: with OMEMO (-pep), alice
		// sees a new device of a contact she may have verified.
		usr1 := make(chan os.Signal, 1)
		signal.Notify(usr1, syscall.SIGUSR1)
		var mu sync.Mutex
		var bob2 *exec.Cmd
		defer func() {
			mu.Lock()
			defer mu.Unlock()
			if bob2 != nil {
				stopAll([]*exec.Cmd{bob2})
			}
		}()
		go func() {
			<-usr1
			cmd, err := startInstanceIn(dir, "bob2", sotto, users[1], port, pin, passwords["bob"])
			if err != nil {
				fmt.Fprintln(os.Stderr, "demo: bob's second device:", err)
				return
			}
			mu.Lock()
			bob2 = cmd
			mu.Unlock()
			fmt.Println("demo: bob's second device is starting")
		}()
	}
	fmt.Println("demo: two Sotto windows are opening (alice and bob). Double-click the other one in the list,")
	fmt.Println("demo: then use the padlock menu to go private and authenticate. Ctrl-C stops everything.")
	return waitAll(insts)
}

// certPin is the SHA-256 of the server certificate, the form
// Profile.SetCertPin takes.
func certPin(pemBytes []byte) (string, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return "", errors.New("server certificate is not PEM")
	}
	if _, err := x509.ParseCertificate(b.Bytes); err != nil {
		return "", err
	}
	return account.CertFingerprint(b.Bytes), nil
}

// writeRoster makes u and its peer mutual contacts (subscription "both")
// by writing Prosody's internal roster store before either logs in, which
// spares the demo a subscription dance. The format is Prosody 0.12's
// keyval "roster" store: [false] holds the metadata, then one entry per
// contact with groups as a set.
func writeRoster(srvDir string, u user) error {
	d := filepath.Join(srvDir, "data", "localhost", "roster")
	if err := os.MkdirAll(d, 0o700); err != nil {
		return err
	}
	var extra strings.Builder
	for i := 1; u.name == "alice" && i <= extraContacts; i++ {
		fmt.Fprintf(&extra, "\t[\"contact%04d@localhost\"] = { [\"subscription\"] = \"both\"; [\"name\"] = \"Contact %04d\"; [\"groups\"] = { [\"Many\"] = true; }; };\n", i, i)
	}
	lua := fmt.Sprintf(`return {
	[false] = { ["version"] = 1; ["pending"] = {}; };
	[%q] = { ["subscription"] = "both"; ["name"] = %q; ["groups"] = { ["Demo"] = true; }; };
%s};
`, u.peer+"@localhost", u.peerDisplay, extra.String())
	return os.WriteFile(filepath.Join(d, u.name+".dat"), []byte(lua), 0o600)
}

// startInstance runs `dbus-run-session -- <this binary> instance ...` in
// its own process group, with a private HOME and runtime dir under dir so
// that neither the keyring daemon nor Sotto touches the user's own.
func startInstance(dir, sotto string, u user, port, pin, password string) (*exec.Cmd, error) {
	return startInstanceIn(dir, u.name, sotto, u, port, pin, password)
}

// startInstanceIn is startInstance with its own folder name under dir: a
// second device of the same account (-second-bob) has its own profile.
func startInstanceIn(dir, name, sotto string, u user, port, pin, password string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	home := filepath.Join(dir, name)
	for _, d := range []string{"home", "run", "profile"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			return nil, err
		}
	}
	args := []string{"--", self, "instance",
		"-jid", u.name + "@localhost", "-port", port, "-pin", pin,
		"-profile", filepath.Join(home, "profile"), "-sotto", sotto}
	if u.name == alwaysPrivate {
		args = append(args, "-always")
	}
	cmd := exec.Command("dbus-run-session", args...)
	cmd.Env = instanceEnv(filepath.Join(home, "home"), filepath.Join(home, "run"))
	if d := os.Getenv("DEMO_STATE_DIR"); d != "" {
		// For a script that drives the windows (scripts/omemo-session.sh):
		// each Sotto writes what it shows (ui/teststate.go).
		cmd.Env = append(cmd.Env, "SOTTO_TEST_STATE="+filepath.Join(d, name+".json"))
	}
	cmd.Stdin = strings.NewReader(password)
	cmd.Stdout = &prefixWriter{prefix: "[" + name + "] ", w: os.Stdout}
	cmd.Stderr = &prefixWriter{prefix: "[" + name + "] ", w: os.Stderr}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (is dbus installed?): %w", u.name, err)
	}
	return cmd, nil
}

// instanceEnv is our environment with a private HOME, XDG folders and
// runtime dir, and no inherited D-Bus session. The X display stays the
// user's: XAUTHORITY is pinned to the real HOME's cookie when unset,
// because Xlib would otherwise look for it in the new HOME.
func instanceEnv(home, runtime string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "HOME", k == "DBUS_SESSION_BUS_ADDRESS", k == "XDG_RUNTIME_DIR",
			strings.HasPrefix(k, "XDG_") && strings.HasSuffix(k, "_HOME"):
			continue
		}
		env = append(env, kv)
	}
	if os.Getenv("XAUTHORITY") == "" {
		if h, err := os.UserHomeDir(); err == nil {
			if xa := filepath.Join(h, ".Xauthority"); fileExists(xa) {
				env = append(env, "XAUTHORITY="+xa)
			}
		}
	}
	return append(env, "HOME="+home, "XDG_RUNTIME_DIR="+runtime,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"))
}

// waitAll returns when every instance has exited or on SIGINT/SIGTERM.
func waitAll(insts []*exec.Cmd) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range insts {
		wg.Go(func() { _ = c.Wait() })
	}
	go func() { wg.Wait(); close(done) }()
	select {
	case s := <-sig:
		fmt.Printf("\ndemo: %v, stopping\n", s)
		stopAll(insts)
		<-done
	case <-done:
		fmt.Println("demo: both windows closed, stopping")
	}
	return nil
}

// stopAll ends each instance's whole process group (dbus-run-session,
// dbus-daemon, gnome-keyring-daemon, Sotto): SIGTERM, then SIGKILL.
func stopAll(insts []*exec.Cmd) {
	for _, c := range insts {
		if c.Process != nil {
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for _, c := range insts {
		if c.Process == nil {
			continue
		}
		for syscall.Kill(-c.Process.Pid, 0) == nil && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// prefixWriter tags each line of an instance's output with its user.
type prefixWriter struct {
	mu     sync.Mutex
	prefix string
	w      io.Writer
	mid    bool // in the middle of a line
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []byte
	for _, c := range b {
		if !p.mid {
			out = append(out, p.prefix...)
		}
		out = append(out, c)
		p.mid = c != '\n'
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}
