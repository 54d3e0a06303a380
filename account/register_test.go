package account

// In-band registration (XEP-0077) against the real Prosody with
// mod_register_ibr, and against one that does not allow it.

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/internal/testbed"
	"github.com/sotto-im/sotto/secret"
)

// TestInBandRegistration: a new account is created on Prosody and then
// signs in with the chosen password; the same name again is "taken" in
// plain words; a server without registration says it does not allow it.
func TestInBandRegistration(t *testing.T) {
	srv := testbed.Start(t, testbed.WithRegistration())
	prof, err := OpenProfile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(prof, secret.NewMemory(), WithDialer(dialTo(srv.Addr())), WithRootCAs(srv.CertPool()))
	ctx := ctxT(t)
	s := Settings{JID: "newcomer@localhost"}
	pw := testbed.RandomPassword()
	if err := m.Register(ctx, s, pw); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if err := m.TestConnection(ctx, s, pw); err != nil {
		t.Fatalf("the new account does not sign in: %v", err)
	}
	if err := m.TestConnection(ctx, s, pw+"x"); err == nil {
		t.Fatal("the new account signs in with a wrong password")
	}

	err = m.Register(ctx, s, testbed.RandomPassword())
	var re *RegisterError
	if !errors.As(err, &re) || !re.Taken || !strings.Contains(err.Error(), "that name is taken") {
		t.Fatalf("registering a taken name: %v, want the plain 'that name is taken'", err)
	}
	// The first password still works: the second attempt changed nothing.
	if err := m.TestConnection(ctx, s, pw); err != nil {
		t.Fatalf("after the refused second registration: %v", err)
	}

	closed := testbed.Start(t)
	m2 := NewManager(prof, secret.NewMemory(), WithDialer(dialTo(closed.Addr())), WithRootCAs(closed.CertPool()))
	err = m2.Register(ctx, Settings{JID: "stranger@localhost"}, testbed.RandomPassword())
	if !errors.As(err, &re) || !re.NotAllowed || !strings.Contains(err.Error(), "does not allow creating accounts") {
		t.Fatalf("registering where it is off: %v", err)
	}
	t.Logf("closed server: %v", err)
}

// dialTo is a dialer that reaches addr whatever address it is asked for.
func dialTo(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}
