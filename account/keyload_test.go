package account

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sotto-im/sotto/internal/testbed"
	"github.com/sotto-im/sotto/secret"
)

// connState waits for the first ConnectionChanged of account at index >=
// from that is not Connecting.
func connState(p *peer, from int, account string) ConnectionChanged {
	p.t.Helper()
	return p.waitFor(from, "a connection outcome for "+account, func(e Event) bool {
		c, ok := e.(ConnectionChanged)
		return ok && c.Account == account && c.State != Connecting
	}).(ConnectionChanged)
}

// clientKey is the fingerprint of the key the account's loop holds ("" if
// none), read through a call round trip.
func clientKey(t *testing.T, m *Manager, account string) string {
	t.Helper()
	fp := ""
	err := m.accountCall(ctxT(t), account, func(c *client, reply func(error)) {
		if c.key != nil {
			fp = c.key.Fingerprint().String()
		}
		reply(nil)
	})
	if err != nil {
		t.Fatalf("call round trip: %v", err)
	}
	return fp
}

// TestLockedKeyringNeverReplacesKey (issue 12, point 4): with the real
// gnome-keyring locked, as an auto-login desktop leaves it, starting the
// account must not open the vault's passphrase window, create a vault, make
// a new OTR key or blame the server: the account waits in KeyringLocked
// and, once the keyring is unlocked, a Retry signs in with the same key.
func TestLockedKeyringNeverReplacesKey(t *testing.T) {
	if !testbed.InKeyring(t) {
		return
	}
	srv := testbed.Start(t)
	var asked atomic.Int32
	secrets := secret.NewProfile(secret.Options{Dir: t.TempDir(),
		Ask: func(context.Context, secret.PassphraseRequest) (secret.PassphraseAnswer, error) {
			// A user who sees a passphrase window types something.
			asked.Add(1)
			return secret.PassphraseAnswer{Passphrase: "a brand new vault passphrase"}, nil
		}})
	a := newPeer(t, srv, "alice", peerOpts{store: secrets, roots: srv.CertPool()})
	ctx := ctxT(t)
	fp, err := a.m.OwnFingerprint(ctx, a.jid)
	if err != nil {
		t.Fatal(err)
	}
	keyring := secret.NewKeyring(secret.KeyringService, 5*time.Second)
	stored, err := keyring.Get(ctx, otrKeyName(a.jid))
	if err != nil {
		t.Fatalf("the key is not in the keyring: %v", err)
	}

	testbed.LockKeyring(t)
	mark := a.rec.mark()
	err = a.m.Connect(ctx, a.jid)
	st := connState(a, mark, a.jid)
	t.Logf("Connect with the keyring locked: %v; state %v %q", err, st.State, st.Err)
	if st.State != KeyringLocked || !strings.Contains(st.Err, "Unlock your keyring") {
		t.Errorf("state %v %q; want KeyringLocked, \"Unlock your keyring to sign in\"", st.State, st.Err)
	}
	if err == nil || !errors.Is(err, secret.ErrLocked) || strings.Contains(err.Error(), "refused") {
		t.Errorf("Connect: %v; want an error that names the locked keyring", err)
	}
	if fp2, err := a.m.OwnFingerprint(ctx, a.jid); err == nil || fp2 != "" {
		t.Errorf("OwnFingerprint with the keyring locked: %q, %v; want ErrLocked", fp2, err)
	} else if !errors.Is(err, secret.ErrLocked) {
		t.Errorf("OwnFingerprint with the keyring locked: %v; want ErrLocked", err)
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("the vault passphrase was asked %d times although a keyring exists", n)
	}
	if _, err := os.Stat(secrets.VaultPath()); err == nil {
		t.Error("a vault was created behind the user's back")
	}
	if secrets.UsingSecondary() {
		t.Error("the store switched to the vault")
	}
	if t.Failed() {
		t.FailNow()
	}

	testbed.UnlockKeyring(t)
	mark = a.rec.mark()
	if err := a.m.Connect(ctx, a.jid); err != nil { // the Retry
		t.Fatalf("Retry after unlocking: %v", err)
	}
	if st := connState(a, mark, a.jid); st.State != Connected {
		t.Fatalf("after the Retry: %v %q, want Connected", st.State, st.Err)
	}
	if got := clientKey(t, a.m, a.jid); got != fp {
		t.Errorf("signed in with key %s, want the stored %s", got, fp)
	}
	if got, err := keyring.Get(ctx, otrKeyName(a.jid)); err != nil || !bytes.Equal(got, stored) {
		t.Errorf("the stored key changed (%v)", err)
	}
	if got, err := a.m.OwnFingerprint(ctx, a.jid); err != nil || got != fp {
		t.Errorf("OwnFingerprint after unlocking: %s, %v; want %s", got, err, fp)
	}
}

// promptStore stands in for a store whose unlock prompt for one secret
// (here: the private key of one account) is open and never answered.
type promptStore struct {
	secret.Store
	stuck string // the Store key whose read waits for the prompt
	once  sync.Once
	asked chan struct{} // closed when the prompt opens
}

func (s *promptStore) Get(ctx context.Context, key string) ([]byte, error) {
	if key == s.stuck {
		s.once.Do(func() { close(s.asked) })
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return s.Store.Get(ctx, key)
}

// TestLoopNotBlockedByPassphrasePrompt (issue 12, point 5): one account's
// private key sits behind a prompt nobody answers. Its loop still answers
// at once (a Send is queued, a call round trip returns), and another
// account of the same Manager signs in, gets its roster, and exchanges
// messages.
func TestLoopNotBlockedByPassphrasePrompt(t *testing.T) {
	srv := testbed.Start(t)
	store := &promptStore{Store: secret.NewMemory(), asked: make(chan struct{})}
	stuck := newPeer(t, srv, "stuck", peerOpts{store: store, roots: srv.CertPool()})
	store.stuck = otrKeyName(stuck.jid)
	other := newPeer(t, srv, "friend", peerOpts{roots: srv.CertPool()})

	bJID, bPW := srv.AddUser(t, "busy")
	if err := stuck.m.AddAccount(ctxT(t), Settings{JID: bJID}, bPW); err != nil {
		t.Fatal(err)
	}
	busy := &peer{t: t, m: stuck.m, jid: bJID, rec: stuck.rec}

	connectCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = stuck.m.Connect(connectCtx, stuck.jid) }()
	select {
	case <-store.asked:
	case <-time.After(30 * time.Second):
		t.Fatal("the key prompt never opened")
	}

	// The stuck account's loop answers.
	quick, cancelQuick := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelQuick()
	mark := stuck.rec.mark()
	id, err := stuck.m.Send(quick, Conversation{Account: stuck.jid, Peer: other.jid}, "wait for me")
	if err != nil {
		t.Fatalf("Send on the account waiting for its key: %v", err)
	}
	stuck.waitFor(mark, "the message queued", msgState(id, Queued))
	if err := stuck.m.accountCall(quick, stuck.jid, func(_ *client, reply func(error)) { reply(nil) }); err != nil {
		t.Fatalf("call round trip on the account waiting for its key: %v", err)
	}

	// Another account signs in, gets its roster and talks.
	busy.connect()
	other.connect()
	befriend(t, busy, other)
	ctx := ctxT(t)
	mo := other.rec.mark()
	if _, err := busy.m.Send(ctx, busy.conv(other), "hello from busy"); err != nil {
		t.Fatal(err)
	}
	other.waitFor(mo, "busy's message", isMsg(busy.jid, "hello from busy"))
	mb := busy.rec.mark()
	if _, err := other.m.Send(ctx, other.conv(busy), "hello busy"); err != nil {
		t.Fatal(err)
	}
	busy.waitFor(mb, "friend's message", isMsg(other.jid, "hello busy"))
	if err := stuck.m.accountCall(ctx, stuck.jid, func(_ *client, reply func(error)) { reply(nil) }); err != nil {
		t.Fatalf("second call round trip: %v", err)
	}
}
