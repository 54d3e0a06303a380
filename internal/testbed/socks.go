package testbed

// A SOCKS5 proxy (microsocks) on 127.0.0.1 for tests of connecting
// through a proxy. microsocks resolves the names clients ask for itself,
// with the system resolver (getaddrinfo), as Tor would do remotely.

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SOCKS is one running microsocks.
type SOCKS struct {
	dir   string
	out   string
	hosts string // private /etc/hosts, "" = the system's
	port  int
	proc  *process
}

// SOCKSOptions configure StartSOCKS.
type SOCKSOptions struct {
	User, Password string // both "" = no authentication
	// Hosts are names only the proxy can resolve (name -> IP). They are
	// given to microsocks as its own /etc/hosts, bind-mounted in a
	// private mount namespace (unshare -m), so a test can prove the
	// client never resolved the name itself: neither the system resolver
	// nor the test's DNS server knows it.
	Hosts map[string]string
}

// StartSOCKS runs microsocks on a free loopback port and kills it in
// t.Cleanup. Without microsocks (or unshare, for Hosts) the test is
// skipped, or failed under CI=true.
func StartSOCKS(t testing.TB, o SOCKSOptions) *SOCKS {
	t.Helper()
	requireTool(t, "microsocks", "microsocks")
	s := &SOCKS{dir: t.TempDir()}
	s.out = filepath.Join(s.dir, "microsocks.out")
	if len(o.Hosts) > 0 {
		requireTool(t, "unshare", "util-linux")
		hosts := "127.0.0.1 localhost\n::1 localhost\n"
		for name, ip := range o.Hosts {
			hosts += ip + " " + name + "\n"
		}
		s.hosts = filepath.Join(s.dir, "hosts")
		if err := os.WriteFile(s.hosts, []byte(hosts), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = s.start(o.User, o.Password); err == nil || !errors.Is(err, errPortBusy) {
			break
		}
	}
	if s.proc != nil {
		t.Cleanup(func() { s.proc.stop(0) })
	}
	if err != nil {
		t.Fatalf("testbed: microsocks: %v\n%s", err, s.Log())
	}
	t.Logf("testbed: microsocks on %s", s.Addr())
	return s
}

func (s *SOCKS) start(user, password string) error {
	_, port, err := freePorts()
	if err != nil {
		return err
	}
	s.port = port
	args := []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port)}
	if user != "" {
		args = append(args, "-u", user, "-P", password)
	}
	out, err := os.OpenFile(s.out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command("microsocks", args...)
	if s.hosts != "" {
		// unshare execs sh, which execs microsocks: one process, so the
		// death signal and Kill reach microsocks itself. As a normal user
		// a user namespace (-r) is needed to mount.
		ns := []string{"-m", "--propagation", "private"}
		if os.Geteuid() != 0 {
			ns = append([]string{"-r"}, ns...)
		}
		script := `mount --bind "$0" /etc/hosts && exec microsocks "$@"`
		cmd = exec.Command("unshare", append(append(ns, "sh", "-c", script, s.hosts), args...)...)
	}
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = out, out
	p, err := launch(cmd)
	if err != nil {
		return fmt.Errorf("start microsocks: %w", err)
	}
	s.proc = p
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if p.exited() {
			s.proc = nil
			if strings.Contains(s.Log(), "in use") {
				return errPortBusy
			}
			return errors.New("microsocks exited during start")
		}
		if listening(s.Addr()) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.stop(0)
	s.proc = nil
	return fmt.Errorf("microsocks not listening after %v", startTimeout)
}

// Addr is the proxy's address, "127.0.0.1:port".
func (s *SOCKS) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Host and Port are Addr's parts.
func (s *SOCKS) Host() string { return "127.0.0.1" }
func (s *SOCKS) Port() int    { return s.port }

// Log is what microsocks printed (it names each destination it connected
// a client to).
func (s *SOCKS) Log() string {
	b, _ := os.ReadFile(s.out)
	return string(b)
}
