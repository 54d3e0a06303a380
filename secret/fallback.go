package secret

// Fallback: the OS keyring first, the passphrase vault when there is no
// keyring.

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Fallback is a Store that uses Primary (normally the OS keyring) and,
// once Primary reports that there is no keyring (ErrStoreUnavailable that
// is not ErrLocked), a secondary store (normally the vault) that it opens
// lazily through Open.
//
// Policy, and why:
//   - Open is called at most once successfully, and only when the primary is
//     unavailable, because opening the vault usually means asking the user for
//     a passphrase; a working keyring must never cause that prompt.
//   - A keyring that is there but locked, or that does not answer in time
//     (ErrLocked: its unlock prompt is waiting for the user), is not
//     "unavailable": the call fails with ErrLocked and nothing else
//     happens. Falling back would open a passphrase window next to the
//     desktop's unlock prompt, create a vault the user never chose, and
//     answer "not found" for the password and the private key that are in
//     the keyring, so that a new key would replace the user's identity.
//     The caller waits for the user to unlock the keyring and tries again.
//   - After the first ErrStoreUnavailable the primary is skipped for the rest
//     of the Fallback's life. Switching back and forth would scatter
//     secrets over two stores.
//   - Get also consults the secondary when the primary answers "not found"
//     but only if the secondary is already open (see UseSecondary): a secret
//     saved to the vault during an earlier keyring outage is still found.
//   - Set through a working primary removes a stale copy from an open
//     secondary, so an old password cannot resurface later.
//   - No lock is held while Open runs (it waits for the user): callers
//     that need the secondary meanwhile wait for that one Open, each only
//     as long as its own context allows, and UsingSecondary never waits.
type Fallback struct {
	primary Store
	open    func(ctx context.Context) (Store, error)

	mu          sync.Mutex
	secondary   Store
	primaryDown bool
	opening     chan struct{} // non-nil while an Open runs; closed when it ends
}

// NewFallback returns a Fallback over primary. open is called (at most until
// it succeeds) the first time the secondary store is needed; it may prompt
// the user. open may be nil when there is no secondary.
func NewFallback(primary Store, open func(ctx context.Context) (Store, error)) *Fallback {
	return &Fallback{primary: primary, open: open}
}

// UseSecondary attaches an already opened secondary store, for example a
// vault the app unlocked at start-up because its file exists.
func (f *Fallback) UseSecondary(s Store) {
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
func (f *Fallback) state() (down bool, sec Store) {
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

// primaryGone reports whether err from the primary means "no keyring":
// fall back. A locked keyring is not gone (see the policy above).
func primaryGone(err error) bool {
	return errors.Is(err, ErrStoreUnavailable) && !errors.Is(err, ErrLocked)
}

// secondaryStore returns the secondary, opening it if needed. Concurrent
// callers share one Open (one prompt, not several); none holds f.mu while
// it runs.
func (f *Fallback) secondaryStore(ctx context.Context, cause error) (Store, error) {
	for {
		f.mu.Lock()
		if f.secondary != nil {
			s := f.secondary
			f.mu.Unlock()
			return s, nil
		}
		if f.open == nil {
			f.mu.Unlock()
			return nil, cause
		}
		wait := f.opening
		if wait == nil {
			done := make(chan struct{})
			f.opening = done
			f.mu.Unlock()
			s, err := f.open(ctx)
			f.mu.Lock()
			if err == nil {
				f.secondary = s
			}
			f.opening = nil
			f.mu.Unlock()
			close(done)
			if err != nil {
				return nil, fmt.Errorf("secret: keyring unavailable (%v) and the vault could not be opened: %w", cause, err)
			}
			return s, nil
		}
		f.mu.Unlock()
		select {
		case <-wait: // opened, or failed: look again (and maybe ask again)
		case <-ctx.Done():
			return nil, fmt.Errorf("secret: waiting for the vault to be unlocked: %w", ctx.Err())
		}
	}
}

// Get implements Store.
func (f *Fallback) Get(ctx context.Context, key string) ([]byte, error) {
	down, sec := f.state()
	if !down {
		v, err := f.primary.Get(ctx, key)
		switch {
		case err == nil:
			return v, nil
		case errors.Is(err, ErrNotFound):
			if sec == nil {
				return nil, err
			}
			return sec.Get(ctx, key)
		case !primaryGone(err):
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

// Set implements Store.
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
		if !primaryGone(err) {
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

// Delete implements Store. It deletes from both stores where they are
// reachable, and reports ErrNotFound only if neither had the key.
func (f *Fallback) Delete(ctx context.Context, key string) error {
	down, sec := f.state()
	found := false
	if !down {
		err := f.primary.Delete(ctx, key)
		switch {
		case err == nil:
			found = true
		case primaryGone(err):
			f.markDown()
			if sec, err = f.secondaryStore(ctx, err); err != nil {
				return err
			}
		case !errors.Is(err, ErrNotFound):
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
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	if !found {
		return ErrNotFound
	}
	return nil
}
