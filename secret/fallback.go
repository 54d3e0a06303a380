package secret

// Fallback: the OS keyring first, the passphrase vault once the keyring
// does not answer.

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Fallback is a Store that uses Primary (normally the OS keyring) and,
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
	primary Store
	open    func(ctx context.Context) (Store, error)

	mu          sync.Mutex
	secondary   Store
	primaryDown bool
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

// secondaryStore returns the secondary, opening it if needed. The mutex is
// held across open so that concurrent callers cause one prompt, not several.
func (f *Fallback) secondaryStore(ctx context.Context, cause error) (Store, error) {
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
		return nil, fmt.Errorf("secret: keyring unavailable (%v) and the vault could not be opened: %w", cause, err)
	}
	f.secondary = s
	return s, nil
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
		case errors.Is(err, ErrStoreUnavailable):
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
