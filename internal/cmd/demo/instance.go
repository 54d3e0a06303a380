//go:build unix

package main

// One demo Sotto, run inside its own `dbus-run-session`: start an unlocked
// gnome-keyring-daemon (the Secret Service a desktop would have), set up
// the account in the profile the way the first-run wizard would (settings
// and password through account.Manager.AddAccount, certificate pin), then
// run Sotto on that profile.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/sotto-im/sotto/account"
	"github.com/sotto-im/sotto/secret"
)

func instance(args []string) error {
	fs := flag.NewFlagSet("instance", flag.ContinueOnError)
	jid := fs.String("jid", "", "bare JID")
	port := fs.Int("port", 0, "Prosody's STARTTLS port on 127.0.0.1")
	pin := fs.String("pin", "", "SHA-256 of the server certificate")
	profile := fs.String("profile", "", "profile folder")
	sotto := fs.String("sotto", "", "Sotto binary")
	always := fs.Bool("always", false, "the account sends only privately (policy Always)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The account password comes on stdin, never on a command line.
	pw, err := io.ReadAll(io.LimitReader(os.Stdin, 1024))
	if err != nil {
		return err
	}
	gkd, err := startKeyring()
	if err != nil {
		return err
	}
	defer func() { _ = gkd.Process.Kill(); _ = gkd.Wait() }()
	store := secret.NewKeyring(secret.KeyringService, 2*time.Second)
	if err := waitKeyring(store); err != nil {
		return err
	}
	p, err := account.OpenProfile(*profile)
	if err != nil {
		return err
	}
	if err := p.SetCertPin(*jid, *pin); err != nil {
		return err
	}
	s := account.Settings{JID: *jid, Server: "127.0.0.1", Port: *port, AutoConnect: true}
	if *always {
		s.Policy = account.Always
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := account.NewManager(p, store).AddAccount(ctx, s, string(pw)); err != nil {
		return err
	}
	cmd := exec.Command(*sotto, "--profile", *profile)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

// startKeyring runs gnome-keyring-daemon in the foreground (so it stays in
// our process group and dies with the demo), unlocked with a throw-away
// password on stdin.
func startKeyring() (*exec.Cmd, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	cmd := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("gnome-keyring-daemon (apt-get install gnome-keyring): %w", err)
	}
	_, _ = io.WriteString(stdin, hex.EncodeToString(b))
	_ = stdin.Close()
	return cmd, nil
}

// waitKeyring waits until our daemon owns org.freedesktop.secrets, then
// until the Secret Service answers. The daemon often registers the name a
// moment after it starts; asking the Secret Service before that would
// make D-Bus activate a second, locked daemon that prompts for a password.
// NameHasOwner does not activate anything.
func waitKeyring(store secret.Store) error {
	deadline := time.Now().Add(15 * time.Second)
	for !nameHasOwner("org.freedesktop.secrets") {
		if time.Now().After(deadline) {
			return errors.New("gnome-keyring-daemon never registered on the session bus")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := store.Get(ctx, "demo-probe-"+strconv.Itoa(os.Getpid()))
		cancel()
		if errors.Is(err, secret.ErrNotFound) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the keyring never answered: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func nameHasOwner(name string) bool {
	out, err := exec.Command("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
		"/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", "string:"+name).Output()
	return err == nil && strings.Contains(string(out), "boolean true")
}
