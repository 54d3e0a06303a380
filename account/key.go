package account

// The account's long-term OTR key: read from the secret.Store off the
// loop, made only when the store says there is none, and a stand-in
// session for conversations that start before the key is there.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sotto-im/sotto/otr"
	"github.com/sotto-im/sotto/secret"
)

// keyLoad is one read (or generation) of an account's key in progress;
// done is closed when key and err are set.
type keyLoad struct {
	done chan struct{}
	key  *otr.PrivateKey
	err  error
}

// loadKey returns the account's OTR key from the secret.Store, generating
// and storing one only if the store answers that there is none
// (secret.ErrNotFound), or if fresh is true. A store that cannot be read
// right now (a locked keyring, one that does not answer, a vault still
// locked) is an error: the key it may hold is never replaced.
//
// It may wait on a keyring's unlock prompt, so it never runs on an
// account's loop (the loop gets the key from startConnect). Calls for the
// same account share one read, so two callers that find nothing do not
// make two keys; calls for other accounts do not wait for it. No lock is
// held while the store or key generation runs, and a caller waiting for
// another's read gives up when its own ctx ends.
func (m *Manager) loadKey(ctx context.Context, account string, fresh bool) (*otr.PrivateKey, error) {
	for {
		m.keysMu.Lock()
		l := m.keyLoads[account]
		if l == nil {
			l = &keyLoad{done: make(chan struct{})}
			if m.keyLoads == nil {
				m.keyLoads = map[string]*keyLoad{}
			}
			m.keyLoads[account] = l
			m.keysMu.Unlock()
			l.key, l.err = m.readOrMakeKey(ctx, account, fresh)
			m.keysMu.Lock()
			delete(m.keyLoads, account)
			m.keysMu.Unlock()
			close(l.done)
			return l.key, l.err
		}
		m.keysMu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("account: waiting for the private key of %s: %w", account, ctx.Err())
		}
		if !fresh && l.err == nil {
			return l.key, nil
		}
		// A new key was asked for, or that read failed (perhaps only
		// its caller's context ended): read again ourselves.
	}
}

func (m *Manager) readOrMakeKey(ctx context.Context, account string, fresh bool) (*otr.PrivateKey, error) {
	if !fresh {
		b, err := m.secrets.Get(ctx, otrKeyName(account))
		if err == nil {
			keys, perr := otr.ParsePrivateKeys(b)
			clear(b)
			if perr != nil || len(keys) != 1 {
				return nil, fmt.Errorf("account: the stored private key of %s is damaged: %v", account, perr)
			}
			return keys[0].Key, nil
		}
		if !errors.Is(err, secret.ErrNotFound) {
			return nil, fmt.Errorf("account: reading the private key: %w", err)
		}
	}
	k, err := otr.GenerateKey(m.opt.rand)
	if err != nil {
		return nil, fmt.Errorf("account: generating a private key: %w", err)
	}
	b := otr.FormatPrivateKeys([]otr.AccountKey{{Account: account, Protocol: "prpl-jabber", Key: k}})
	err = m.secrets.Set(ctx, otrKeyName(account), b)
	clear(b)
	if err != nil {
		return nil, fmt.Errorf("account: saving the private key: %w", err)
	}
	return k, nil
}

// secretError: a secret the account needs to sign in (its password or
// private key) could not be read. The server refused nothing.
type secretError struct {
	what string // "password", "private key"
	err  error
}

func (e *secretError) Error() string {
	switch {
	case errors.Is(e.err, secret.ErrLocked):
		return fmt.Sprintf("account: unlock your keyring to sign in: your saved %s cannot be read while it is locked (%v)", e.what, e.err)
	case errors.Is(e.err, secret.ErrNotFound):
		return fmt.Sprintf("account: no saved %s for this account: enter it in the account's settings", e.what)
	}
	return fmt.Sprintf("account: your saved %s cannot be read: %v", e.what, e.err)
}

func (e *secretError) Unwrap() error { return e.err }

// keyReady makes k the account's key and gives every conversation that
// started without one its real session.
func (c *client) keyReady(k *otr.PrivateKey) {
	c.key = k
	for _, pc := range c.convs {
		if _, ok := pc.e2e.(keylessSession); !ok {
			continue
		}
		if s, err := c.newSession(pc.key.peer); err == nil {
			pc.e2e = s
		}
	}
}

var errNoKeyYet = errors.New("account: your private key is not loaded yet (it is read when the account signs in; is the keyring locked?)")

// keylessSession is the session of a conversation that starts while the
// account's key is not loaded (before signing in, or while the keyring is
// locked): the loop never waits for the keyring. It is plain: a message
// the server delivered in the clear is shown, an OTR message cannot be
// read yet and says so, and nothing is encrypted or sent through it.
// keyReady replaces it by the real session.
type keylessSession struct{}

func (keylessSession) Protocol() string                      { return "OTR" }
func (keylessSession) State() e2eState                       { return e2ePlain }
func (keylessSession) PeerKey() (string, bool)               { return "", false }
func (keylessSession) AnyPrivate() bool                      { return false }
func (keylessSession) Start() []string                       { return nil }
func (keylessSession) Send(string) (e2eOut, error)           { return e2eOut{}, errNoKeyYet }
func (keylessSession) End() (e2eOut, error)                  { return e2eOut{}, errNoKeyYet }
func (keylessSession) Verify(string, string) (e2eOut, error) { return e2eOut{}, errNoKeyYet }
func (keylessSession) Answer(string) (e2eOut, error)         { return e2eOut{}, errNoKeyYet }
func (keylessSession) AbortVerify() (e2eOut, error)          { return e2eOut{}, errNoKeyYet }
func (keylessSession) Tick() []string                        { return nil }
func (keylessSession) NextTick() (time.Time, bool)           { return time.Time{}, false }
func (keylessSession) SetPolicy(Policy) error                { return nil }
func (keylessSession) Forget()                               {}
func (keylessSession) Protected(body string) bool            { return isOTR(body) }

func (keylessSession) Receive(body string) (e2eIn, error) {
	if isOTR(body) {
		return e2eIn{}, errNoKeyYet
	}
	return e2eIn{HasText: true, Text: stripOTRTag(body)}, nil
}
