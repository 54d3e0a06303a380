package account

// Secret storage: the interface the rest of account uses for passwords and
// private keys, its sentinel errors, and Fallback, which prefers the OS
// keyring and falls back to the passphrase vault when there is none.

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// SecretStore holds passwords and private keys. Implementations are safe for
// concurrent use. Get returns a fresh copy the caller may wipe.
type SecretStore interface {
	// Get returns the secret stored under key, or ErrSecretNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key, replacing any previous value.
	Set(ctx context.Context, key string, value []byte) error
	// Delete removes key; ErrSecretNotFound if it was not there.
	Delete(ctx context.Context, key string) error
}

var (
	// ErrSecretNotFound: the store works but holds nothing under that key.
	ErrSecretNotFound = errors.New("account: secret not found")
	// ErrStoreUnavailable: the store could not be reached (no Secret
	// Service, D-Bus down, keyring locked and the unlock prompt timed out,
	// ...). The wrapped error says why. Callers typically fall back to the
	// vault (see Fallback).
	ErrStoreUnavailable = errors.New("account: secret store unavailable")
	// ErrWrongPassphrase: the vault passphrase does not decrypt the vault
	// (or the vault file was tampered with: the AEAD cannot tell the two
	// apart).
	ErrWrongPassphrase = errors.New("account: wrong passphrase")
)

// checkKey rejects empty keys, which every backend would treat differently.
func checkKey(key string) error {
	if key == "" {
		return errors.New("account: empty secret key")
	}
	return nil
}

// Fallback is a SecretStore that uses Primary (normally the OS keyring) and,
// once Primary reports ErrStoreUnavailable, a secondary store (normally the
// vault) that it opens lazily through Open.
//
// Policy, and why:
//   - Open is called at most once successfully, and only when the primary is
//     unavailable, because opening the vault usually means asking the user for
//     a passphrase; a working keyring must never cause that prompt.
//   - After the first ErrStoreUnavailable the primary is skipped for the rest
//     of the Fallback's life. A locked keyring costs a full timeout per call;
//     paying it on every Get would freeze the app repeatedly, and switching
//     back and forth would scatter secrets over two stores.
//   - Get also consults the secondary when the primary answers "not found"
//     but only if the secondary is already open (see UseSecondary): a secret
//     saved to the vault during an earlier keyring outage is still found.
//   - Set through a working primary removes a stale copy from an open
//     secondary, so an old password cannot resurface later.
type Fallback struct {
	primary SecretStore
	open    func(ctx context.Context) (SecretStore, error)

	mu          sync.Mutex
	secondary   SecretStore
	primaryDown bool
}

// NewFallback returns a Fallback over primary. open is called (at most until
// it succeeds) the first time the secondary store is needed; it may prompt
// the user. open may be nil when there is no secondary.
func NewFallback(primary SecretStore, open func(ctx context.Context) (SecretStore, error)) *Fallback {
	return &Fallback{primary: primary, open: open}
}

// UseSecondary attaches an already opened secondary store, for example a
// vault the app unlocked at start-up because its file exists.
func (f *Fallback) UseSecondary(s SecretStore) {
	f.mu.Lock()
	f.secondary = s
	f.mu.Unlock()
}

// UsingSecondary reports whether the primary was found unavailable and
// calls now go to the secondary store (the UI can say "secrets are kept in
// Sotto's encrypted vault because no keyring is available").
func (f *Fallback) UsingSecondary() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.primaryDown
}

// state returns whether the primary is skipped and the open secondary.
func (f *Fallback) state() (down bool, sec SecretStore) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.primaryDown, f.secondary
}

// markDown records that the primary is unavailable.
func (f *Fallback) markDown() {
	f.mu.Lock()
	f.primaryDown = true
	f.mu.Unlock()
}

// secondaryStore returns the secondary, opening it if needed. The mutex is
// held across open so that concurrent callers cause one prompt, not several.
func (f *Fallback) secondaryStore(ctx context.Context, cause error) (SecretStore, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.secondary != nil {
		return f.secondary, nil
	}
	if f.open == nil {
		return nil, cause
	}
	s, err := f.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: keyring unavailable (%v) and the vault could not be opened: %w", cause, err)
	}
	f.secondary = s
	return s, nil
}

// Get implements SecretStore.
func (f *Fallback) Get(ctx context.Context, key string) ([]byte, error) {
	down, sec := f.state()
	if !down {
		v, err := f.primary.Get(ctx, key)
		switch {
		case err == nil:
			return v, nil
		case errors.Is(err, ErrSecretNotFound):
			if sec == nil {
				return nil, err
			}
			return sec.Get(ctx, key)
		case !errors.Is(err, ErrStoreUnavailable):
			return nil, err
		}
		f.markDown()
		if sec, err = f.secondaryStore(ctx, err); err != nil {
			return nil, err
		}
		return sec.Get(ctx, key)
	}
	sec, err := f.secondaryStore(ctx, ErrStoreUnavailable)
	if err != nil {
		return nil, err
	}
	return sec.Get(ctx, key)
}

// Set implements SecretStore.
func (f *Fallback) Set(ctx context.Context, key string, value []byte) error {
	down, sec := f.state()
	if !down {
		err := f.primary.Set(ctx, key, value)
		if err == nil {
			if sec != nil {
				// Best effort: a failure here leaves an older copy in the
				// vault, which Get never prefers over the keyring.
				_ = sec.Delete(ctx, key)
			}
			return nil
		}
		if !errors.Is(err, ErrStoreUnavailable) {
			return err
		}
		f.markDown()
		if sec, err = f.secondaryStore(ctx, err); err != nil {
			return err
		}
		return sec.Set(ctx, key, value)
	}
	sec, err := f.secondaryStore(ctx, ErrStoreUnavailable)
	if err != nil {
		return err
	}
	return sec.Set(ctx, key, value)
}

// Delete implements SecretStore. It deletes from both stores where they are
// reachable, and reports ErrSecretNotFound only if neither had the key.
func (f *Fallback) Delete(ctx context.Context, key string) error {
	down, sec := f.state()
	found := false
	if !down {
		err := f.primary.Delete(ctx, key)
		switch {
		case err == nil:
			found = true
		case errors.Is(err, ErrStoreUnavailable):
			f.markDown()
			if sec, err = f.secondaryStore(ctx, err); err != nil {
				return err
			}
		case !errors.Is(err, ErrSecretNotFound):
			return err
		}
	} else {
		var err error
		if sec, err = f.secondaryStore(ctx, ErrStoreUnavailable); err != nil {
			return err
		}
	}
	if sec != nil {
		err := sec.Delete(ctx, key)
		if err == nil {
			found = true
		} else if !errors.Is(err, ErrSecretNotFound) {
			return err
		}
	}
	if !found {
		return ErrSecretNotFound
	}
	return nil
}
