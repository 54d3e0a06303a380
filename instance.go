package main

// One Sotto per profile. Two instances on one profile would both sign in
// (with the same resource, fighting over it) and both write the same
// files. The first instance holds a lock on sotto.lock in the profile and
// listens on the socket sotto.sock next to it; a second start finds the
// lock taken, asks the first over the socket to raise its window, and
// exits.

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// errRunning: another Sotto already runs with this profile.
var errRunning = errors.New("sotto: already running with this profile")

// instance is the first instance's hold on its profile.
type instance struct {
	lock *os.File
	ln   net.Listener
	sock string
}

// claimProfile takes the profile for this process. It returns errRunning
// (after asking the running one to show itself) when another instance
// holds it.
func claimProfile(dir string) (*instance, error) {
	sock := filepath.Join(dir, "sotto.sock")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sotto: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "sotto.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sotto: %w", err)
	}
	if !tryLock(f) {
		f.Close()
		askToShow(sock)
		return nil, errRunning
	}
	// Where there is no flock (lock_other.go) the socket answering is
	// what tells that another instance runs.
	if askToShow(sock) {
		f.Close()
		return nil, errRunning
	}
	// The lock is ours: a socket left by a crashed instance is stale.
	_ = os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		// Raising is a convenience; the lock alone keeps one instance.
		fmt.Fprintln(os.Stderr, "sotto: cannot listen for a second start:", err)
		ln = nil
	}
	return &instance{lock: f, ln: ln, sock: sock}, nil
}

// serve calls show for every later start, until close.
func (in *instance) serve(show func()) {
	if in.ln == nil {
		return
	}
	go func() {
		for {
			c, err := in.ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			if line == "show\n" {
				show()
				_, _ = c.Write([]byte("ok\n"))
			}
			c.Close()
		}
	}()
}

func (in *instance) close() {
	if in.ln != nil {
		in.ln.Close()
		_ = os.Remove(in.sock)
	}
	in.lock.Close()
}

// askToShow asks the running instance to raise its window; it gives up
// after two seconds.
func askToShow(sock string) bool {
	c, err := net.DialTimeout("unix", sock, 2*time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("show\n")); err != nil {
		return false
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	return line == "ok\n"
}
