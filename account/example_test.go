package account_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/sotto-im/sotto/account"
	"github.com/sotto-im/sotto/internal/testbed"
	"github.com/sotto-im/sotto/secret"
)

// Two accounts on a private Prosody (the test bed): alice adds bob as a
// contact, goes private with him and sends a message; both read what
// happened from their Manager's events.
func ExampleManager() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "sotto-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	srv, err := testbed.StartServer(filepath.Join(dir, "prosody"))
	if srv != nil {
		defer srv.Close()
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	alice, err := startAccount(ctx, srv, dir, "alice")
	if alice != nil {
		defer alice.stop()
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	bob, err := startAccount(ctx, srv, dir, "bob")
	if bob != nil {
		defer bob.stop()
	}
	if err != nil {
		fmt.Println(err)
		return
	}

	// Contacts: alice asks, bob accepts and asks back; alice's Manager
	// approves that at once, since she asked first.
	if err := alice.m.AddContact(ctx, alice.jid, bob.jid, "Bob", nil); err != nil {
		fmt.Println(err)
		return
	}
	for _, step := range []struct{ who, from *example }{{bob, alice}} {
		req, err := next(ctx, step.who, func(s account.SubscriptionRequest) bool { return s.From == step.from.jid })
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %s asks to see our presence\n", step.who.jid, req.From)
		if err := step.who.m.AnswerSubscription(ctx, step.who.jid, step.from.jid, true); err != nil {
			fmt.Println(err)
			return
		}
	}
	if _, err := next(ctx, alice, online(bob.jid)); err != nil {
		fmt.Println(err)
		return
	}

	// A conversation is our account and the peer's address. Going private
	// runs OTR's key exchange; the level changes arrive as events.
	conv := account.Conversation{Account: alice.jid, Peer: bob.jid}
	if err := alice.m.StartPrivate(ctx, conv); err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range []*example{alice, bob} {
		s, err := next(ctx, p, func(s account.SecurityChanged) bool { return s.Level != account.NotPrivate })
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: the conversation with %s is %v\n", p.jid, s.Conv.Peer, s.Level)
	}

	id, err := alice.m.Send(ctx, conv, "hello, privately")
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := next(ctx, alice, func(m account.MessageStateChanged) bool {
		return m.ID == id && m.State != account.Queued && m.State != account.Sending
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %q %v\n", alice.jid, st.Body, st.State)
	msg, err := next(ctx, bob, func(account.MessageReceived) bool { return true })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %s wrote %q (encrypted: %v)\n", bob.jid, msg.Conv.Peer, msg.Body, msg.Encrypted)

	// Output:
	// bob@localhost: alice@localhost asks to see our presence
	// alice@localhost: the conversation with bob@localhost is Unverified
	// bob@localhost: the conversation with alice@localhost is Unverified
	// alice@localhost: "hello, privately" sent encrypted
	// bob@localhost: alice@localhost wrote "hello, privately" (encrypted: true)
}

// example is one account of ExampleManager.
type example struct {
	m    *account.Manager
	jid  string
	stop func() // ends Run and waits for it
}

// startAccount registers name on srv and runs a Manager for it, with its
// profile in dir and its secrets in memory, connected.
func startAccount(ctx context.Context, srv *testbed.Server, dir, name string) (*example, error) {
	password := testbed.RandomPassword()
	jid, err := srv.Register(name, password)
	if err != nil {
		return nil, err
	}
	prof, err := account.OpenProfile(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Addr())
	}
	m := account.NewManager(prof, secret.NewMemory(),
		account.WithDialer(dial), account.WithRootCAs(srv.CertPool()))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Run(runCtx)
	}()
	p := &example{m: m, jid: jid, stop: func() { cancel(); <-done }}
	if err := m.AddAccount(ctx, account.Settings{JID: jid}, password); err != nil {
		return p, err
	}
	if err := m.Connect(ctx, jid); err != nil { // returns once logged in
		return p, err
	}
	return p, nil
}

// next reads p's events until one of type E matches.
func next[E account.Event](ctx context.Context, p *example, match func(E) bool) (E, error) {
	for {
		select {
		case e := <-p.m.Events():
			if e, ok := e.(E); ok && match(e) {
				return e, nil
			}
		case <-ctx.Done():
			var zero E
			return zero, fmt.Errorf("%s: waiting for a %T: %w", p.jid, zero, ctx.Err())
		}
	}
}

// online matches a roster in which jid is a mutual contact with a device
// online.
func online(jid string) func(account.RosterChanged) bool {
	return func(rc account.RosterChanged) bool {
		for _, c := range rc.Contacts {
			if c.JID == jid && c.Subscription == "both" && c.Show() != account.Offline {
				return true
			}
		}
		return false
	}
}
