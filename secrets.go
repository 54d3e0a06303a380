package main

// Where secrets live. Normally: the OS keyring (Secret Service, Keychain,
// Credential Manager) with a passphrase vault in the profile as fallback
// when no keyring answers. Portable mode: only the vault in sotto-data/, so
// that nothing about the user is left in the host computer's keyring.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sotto-im/sotto/account"
)

// keyringTimeout bounds every keyring call: a locked desktop keyring waits
// for an unlock prompt that may never be answered.
const keyringTimeout = 20 * time.Second

// askFunc asks the user for the vault passphrase (ui.AskPassphrase).
type askFunc func(ctx context.Context, create bool, problem string) (string, error)

type secrets struct {
	loc   location
	ask   askFunc
	fb    *account.Fallback
	store account.SecretStore
}

func newSecrets(loc location, ask askFunc) *secrets {
	s := &secrets{loc: loc, ask: ask}
	var primary account.SecretStore = noKeyring{}
	if !loc.portable {
		primary = account.NewKeyring("Sotto", keyringTimeout)
	}
	s.fb = account.NewFallback(primary, s.openVault)
	s.store = s.fb
	return s
}

// describe says in plain words where keys are kept (shown by the wizard).
func (s *secrets) describe() string {
	if s.loc.portable {
		return "the encrypted vault in the sotto-data folder next to Sotto, locked with your passphrase"
	}
	return "your system keyring (or, if none is available, an encrypted vault in your profile)"
}

// maxPassphraseTries bounds the unlock prompt loop; after that the vault
// stays locked and the caller reports why.
const maxPassphraseTries = 5

// openVault opens the vault file, creating it when there is none, asking
// the user for the passphrase. A wrong passphrase asks again and never
// touches the file.
func (s *secrets) openVault(ctx context.Context) (account.SecretStore, error) {
	problem := ""
	for range maxPassphraseTries {
		exists := fileExists(s.loc.vaultPath())
		pass, err := s.ask(ctx, !exists, problem)
		if err != nil {
			return nil, fmt.Errorf("the vault stays locked: %w", err)
		}
		v, err := s.vault(exists, pass)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, account.ErrWrongPassphrase) {
			return nil, err
		}
		problem = "Wrong passphrase. Try again."
	}
	return nil, fmt.Errorf("the vault stays locked after %d wrong passphrases", maxPassphraseTries)
}

func (s *secrets) vault(exists bool, pass string) (*account.Vault, error) {
	if exists {
		return account.OpenVault(s.loc.vaultPath(), []byte(pass))
	}
	return account.CreateVault(s.loc.vaultPath(), []byte(pass))
}

// useVault is the wizard's hook in portable mode: the passphrase the user
// chose there creates (or opens) the vault before the key is generated.
func (s *secrets) useVault(_ context.Context, passphrase string) error {
	v, err := s.vault(fileExists(s.loc.vaultPath()), passphrase)
	if err != nil {
		return err
	}
	s.fb.UseSecondary(v)
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// noKeyring is the primary store in portable mode: always unavailable, so
// the Fallback goes straight to the vault.
type noKeyring struct{}

var errPortable = fmt.Errorf("portable mode keeps secrets only in the vault: %w", account.ErrStoreUnavailable)

func (noKeyring) Get(context.Context, string) ([]byte, error) { return nil, errPortable }
func (noKeyring) Set(context.Context, string, []byte) error   { return errPortable }
func (noKeyring) Delete(context.Context, string) error        { return errPortable }
