package secret

// Store over the operating system's keyring through go-keyring: the
// Secret Service over D-Bus on Linux/BSD, the Keychain on macOS, the
// Credential Manager on Windows.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// DefaultKeyringTimeout bounds one keyring call. A healthy Secret Service
// answers in ~10 ms; a locked desktop keyring waits for the user to type the
// unlock password, which can take a while, but the app must not hang forever.
const DefaultKeyringTimeout = 20 * time.Second

// keyringStore is the go-keyring adapter. Items are stored with service =
// the configured service name and user = the Store key.
type keyringStore struct {
	service string
	timeout time.Duration
}

// NewKeyring returns a Store backed by the OS keyring under service
// (e.g. "sotto"). Every call is bounded by timeout (<= 0 means
// DefaultKeyringTimeout) and by the caller's context.
//
// Values are stored base64-encoded: go-keyring passes secrets as strings and
// the Secret Service labels them "text/plain; charset=utf8", while private
// keys are binary. The encoding is ours alone; only Sotto reads these items.
//
// Errors: keyring.ErrNotFound becomes ErrNotFound. A keyring that exists
// but is locked (its unlock prompt was dismissed or could not be shown) or
// does not answer within the timeout (its unlock prompt is waiting for the
// user) is ErrLocked, which is also ErrStoreUnavailable; everything else
// (no D-Bus, no Secret Service) is ErrStoreUnavailable alone. Both carry
// the cause.
//
// Trade-off: go-keyring calls cannot be cancelled, so on timeout the call
// keeps running in its goroutine until the keyring answers (or never, if the
// prompt is never answered). That goroutine holds only the encoded value.
// Go strings cannot be wiped, so copies of the secret handed to go-keyring
// stay in memory until the garbage collector reuses them.
func NewKeyring(service string, timeout time.Duration) Store {
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}
	return &keyringStore{service: service, timeout: timeout}
}

// call runs fn in its own goroutine and waits for it, the timeout or ctx.
func (k *keyringStore) call(ctx context.Context, op string, fn func() (string, error)) (string, error) {
	type result struct {
		v   string
		err error
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("secret: keyring %s: %w", op, err)
	}
	ch := make(chan result, 1) // buffered: a late answer must not block the goroutine
	go func() {
		v, err := fn()
		ch <- result{v, err}
	}()
	timer := time.NewTimer(k.timeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.err == nil {
			return r.v, nil
		}
		if errors.Is(r.err, keyring.ErrNotFound) {
			return "", ErrNotFound
		}
		if lockedCause(r.err) {
			return "", &lockedError{op: op, cause: r.err.Error()}
		}
		return "", fmt.Errorf("%w: keyring %s: %w", ErrStoreUnavailable, op, r.err)
	case <-timer.C:
		return "", &lockedError{op: op, cause: fmt.Sprintf(
			"no answer within %v: it is probably waiting for you to unlock it", k.timeout)}
	case <-ctx.Done():
		return "", fmt.Errorf("secret: keyring %s: %w", op, ctx.Err())
	}
}

// lockedCause reports whether a go-keyring error means "the keyring is
// there but locked": on the Secret Service go-keyring asks to unlock the
// collection before every call and says "failed to unlock correct
// collection" when the unlock prompt is dismissed or cannot be shown (no
// prompter); a service may also answer with its IsLocked error.
func lockedCause(err error) bool {
	s := err.Error()
	return strings.Contains(s, "failed to unlock") || strings.Contains(s, "IsLocked")
}

// lockedError is ErrLocked (and so ErrStoreUnavailable) with its cause.
type lockedError struct{ op, cause string }

func (e *lockedError) Error() string {
	return "secret: the keyring is locked (keyring " + e.op + ": " + e.cause + ")"
}

func (e *lockedError) Is(target error) bool {
	return target == ErrLocked || target == ErrStoreUnavailable
}

// Get implements Store.
func (k *keyringStore) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	s, err := k.call(ctx, "get", func() (string, error) { return keyring.Get(k.service, key) })
	if err != nil {
		return nil, err
	}
	v, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("secret: keyring item %q was not written by sotto (not base64)", key)
	}
	return v, nil
}

// Set implements Store.
func (k *keyringStore) Set(ctx context.Context, key string, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	enc := base64.StdEncoding.EncodeToString(value)
	_, err := k.call(ctx, "set", func() (string, error) { return "", keyring.Set(k.service, key, enc) })
	return err
}

// Delete implements Store.
func (k *keyringStore) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := k.call(ctx, "delete", func() (string, error) { return "", keyring.Delete(k.service, key) })
	return err
}
