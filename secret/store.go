package secret

// The interface every secret store implements, and its sentinel errors.

import (
	"context"
	"errors"
)

// Store holds passwords and private keys. Implementations are safe for
// concurrent use. Get returns a fresh copy the caller may wipe.
type Store interface {
	// Get returns the secret stored under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key, replacing any previous value.
	Set(ctx context.Context, key string, value []byte) error
	// Delete removes key; ErrNotFound if it was not there.
	Delete(ctx context.Context, key string) error
}

var (
	// ErrNotFound: the store works but holds nothing under that key.
	ErrNotFound = errors.New("secret: not found")
	// ErrStoreUnavailable: the store could not be reached (no Secret
	// Service, D-Bus down, keyring locked, ...). The wrapped error says
	// why. When it is not also ErrLocked there is no keyring to wait for,
	// and callers typically fall back to the vault (see Fallback).
	ErrStoreUnavailable = errors.New("secret: store unavailable")
	// ErrLocked: the keyring exists but is locked, or did not answer in
	// time (its unlock prompt is waiting, or was dismissed). Nothing was
	// read or written. It is a kind of ErrStoreUnavailable, but not a
	// reason to fall back to the vault or to replace what the keyring
	// holds: the caller waits until the user unlocks the keyring and tries
	// again.
	ErrLocked = errors.New("secret: the keyring is locked")
	// ErrWrongPassphrase: the vault passphrase does not decrypt the vault
	// (or the vault file was tampered with: the AEAD cannot tell the two
	// apart).
	ErrWrongPassphrase = errors.New("secret: wrong passphrase")
)

// checkKey rejects empty keys, which every backend would treat differently.
func checkKey(key string) error {
	if key == "" {
		return errors.New("secret: empty key")
	}
	return nil
}
