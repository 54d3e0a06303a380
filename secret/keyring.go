package secret

// Store over the operating system's keyring through go-keyring: the
// Secret Service over D-Bus on Linux/BSD, the Keychain on macOS, the
// Credential Manager on Windows.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
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
// Errors: keyring.ErrNotFound becomes ErrNotFound; everything else
// (no D-Bus, no Secret Service, locked collection, timeout) is wrapped in
// ErrStoreUnavailable together with the cause.
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
		return "", fmt.Errorf("%w: keyring %s: %w", ErrStoreUnavailable, op, r.err)
	case <-timer.C:
		return "", fmt.Errorf("%w: keyring %s: no answer within %v (is the keyring locked?)",
			ErrStoreUnavailable, op, k.timeout)
	case <-ctx.Done():
		return "", fmt.Errorf("secret: keyring %s: %w", op, ctx.Err())
	}
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
