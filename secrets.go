package main

// Where secrets live. Normally: the OS keyring (Secret Service, Keychain,
// Credential Manager) with a passphrase vault in the profile as fallback
// when no keyring answers. Portable mode: only the vault in sotto-data/, so
// that nothing about the user is left in the host computer's keyring —
// unless the user ticks "Remember the passphrase on this computer", which
// keeps the vault passphrase (and nothing else) in that computer's keyring
// (remember.go).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sotto-im/sotto/account"
	"github.com/sotto-im/sotto/ui"
)

// keyringTimeout bounds every keyring call: a locked desktop keyring waits
// for an unlock prompt that may never be answered.
const keyringTimeout = 20 * time.Second

// askFunc asks the user for the vault passphrase (ui.AskPassphrase).
type askFunc func(ctx context.Context, req ui.PassphraseRequest) (ui.PassphraseAnswer, error)

type secrets struct {
	loc   location
	ask   askFunc
	fb    *account.Fallback
	store account.SecretStore

	// hostKeyring is where a portable Sotto remembers the vault
	// passphrase when the user asks it to (remember.go); nil outside
	// portable mode. A field so that tests can use a fake.
	hostKeyring account.SecretStore
	// askAnyway (--forget-passphrase) skips the remembered passphrase so
	// that the unlock window, and its box, are shown.
	askAnyway bool
	// vaultOpts are used when a new vault is created (tests: cheap KDF).
	vaultOpts []account.VaultOption
}

func newSecrets(loc location, ask askFunc) *secrets {
	s := &secrets{loc: loc, ask: ask}
	var primary account.SecretStore = noKeyring{}
	if !loc.portable {
		primary = account.NewKeyring("Sotto", keyringTimeout)
	} else {
		s.hostKeyring = account.NewKeyring("Sotto", rememberTimeout)
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
// the user for the passphrase unless this computer remembers it
// (portable mode, remember.go). A wrong passphrase asks again and never
// touches the file.
func (s *secrets) openVault(ctx context.Context) (account.SecretStore, error) {
	if v := s.openRemembered(ctx); v != nil {
		return v, nil
	}
	problem := ""
	for range maxPassphraseTries {
		exists := fileExists(s.loc.vaultPath())
		a, err := s.ask(ctx, ui.PassphraseRequest{Create: !exists, Problem: problem,
			OfferRemember: s.hostKeyring != nil})
		if err != nil {
			return nil, fmt.Errorf("the vault stays locked: %w", err)
		}
		v, err := s.vault(exists, a.Passphrase)
		if err == nil {
			s.rememberChoice(ctx, a.Remember, a.Passphrase)
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
	return account.CreateVault(s.loc.vaultPath(), []byte(pass), s.vaultOpts...)
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
