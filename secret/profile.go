package secret

// Where one profile's secrets live, and unlocking the vault. Normally: the
// OS keyring (Secret Service, Keychain, Credential Manager) with a
// passphrase vault in the profile as fallback when no keyring answers.
// Portable mode: only the vault in sotto-data/, so that nothing about the
// user is left in the host computer's keyring — unless the user ticks
// "Remember the passphrase on this computer", which keeps the vault
// passphrase (and nothing else) in that computer's keyring (remember.go).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// VaultFile is the passphrase-encrypted secret store inside a profile
// folder.
const VaultFile = "vault.sotto"

// KeyringService names Sotto's items in the OS keyring (go-keyring's
// service; the item's user is the Store key). Tools that prepare a
// keyring for Sotto, such as the demo, use it too.
const KeyringService = "Sotto"

// PassphraseRequest says what the passphrase window asks for. It has the
// shape of ui.PassphraseRequest, so the program converts one into the
// other without this package knowing the UI.
type PassphraseRequest struct {
	// Create asks twice and checks the length: a new vault.
	Create bool
	// Problem, when not empty, is shown above the field (e.g. "Wrong
	// passphrase").
	Problem string
	// OfferRemember shows the "Remember the passphrase on this computer"
	// box (portable mode only: elsewhere the vault is the fallback for a
	// missing keyring, so there is nowhere to remember it).
	OfferRemember bool
}

// PassphraseAnswer is what the user gave (the shape of
// ui.PassphraseAnswer).
type PassphraseAnswer struct {
	Passphrase string
	// Remember: the user ticked "Remember the passphrase on this
	// computer". Always false unless the request offered it.
	Remember bool
}

// AskFunc asks the user for the vault passphrase and blocks until the
// user answers (an error: cancelled, or ctx ended).
type AskFunc func(ctx context.Context, req PassphraseRequest) (PassphraseAnswer, error)

// Options say where a profile's secrets are kept and how to ask for the
// vault passphrase.
type Options struct {
	// Dir is the profile folder; the vault is Dir/VaultFile.
	Dir string
	// Portable keeps every secret in the vault, never in the OS keyring,
	// and offers to remember the vault passphrase on this computer.
	Portable bool
	// Ask is called when the vault must be unlocked or created.
	Ask AskFunc
	// AskAnyway (--forget-passphrase) skips a remembered passphrase so
	// that the unlock window, and its box, are shown.
	AskAnyway bool
}

// Profile is the Store of one profile folder: a Fallback from the OS
// keyring (none in portable mode) to the vault, which it unlocks on first
// use by asking for the passphrase. Safe for concurrent use.
type Profile struct {
	*Fallback
	dir      string
	portable bool
	ask      AskFunc
	// askAnyway: see Options.AskAnyway.
	askAnyway bool

	// hostKeyring is where a portable Sotto remembers the vault
	// passphrase when the user asks it to (remember.go); nil outside
	// portable mode. A field so that tests can use a fake.
	hostKeyring Store
	// vaultOpts are used when a new vault is created (tests: cheap KDF).
	vaultOpts []VaultOption
}

// NewProfile returns the Store for the profile in o.Dir. Nothing is
// opened, read or asked until the first call.
func NewProfile(o Options) *Profile {
	p := &Profile{dir: o.Dir, portable: o.Portable, ask: o.Ask, askAnyway: o.AskAnyway}
	var primary Store = noKeyring{}
	if !o.Portable {
		primary = NewKeyring(KeyringService, DefaultKeyringTimeout)
	} else {
		p.hostKeyring = NewKeyring(KeyringService, rememberTimeout)
	}
	p.Fallback = NewFallback(primary, p.openVault)
	return p
}

// VaultPath is the profile's vault file.
func (p *Profile) VaultPath() string { return filepath.Join(p.dir, VaultFile) }

// Describe says in plain words where keys are kept (shown by the wizard).
func (p *Profile) Describe() string {
	if p.portable {
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
func (p *Profile) openVault(ctx context.Context) (Store, error) {
	if v := p.openRemembered(ctx); v != nil {
		return v, nil
	}
	problem := ""
	for range maxPassphraseTries {
		exists := fileExists(p.VaultPath())
		a, err := p.ask(ctx, PassphraseRequest{Create: !exists, Problem: problem,
			OfferRemember: p.hostKeyring != nil})
		if err != nil {
			return nil, fmt.Errorf("the vault stays locked: %w", err)
		}
		v, err := p.vault(exists, a.Passphrase)
		if err == nil {
			p.rememberChoice(ctx, v, a.Remember, a.Passphrase)
			return v, nil
		}
		if !errors.Is(err, ErrWrongPassphrase) {
			return nil, err
		}
		problem = "Wrong passphrase. Try again."
	}
	return nil, fmt.Errorf("the vault stays locked after %d wrong passphrases", maxPassphraseTries)
}

func (p *Profile) vault(exists bool, pass string) (*Vault, error) {
	if exists {
		return OpenVault(p.VaultPath(), []byte(pass))
	}
	return CreateVault(p.VaultPath(), []byte(pass), p.vaultOpts...)
}

// UseVault is the wizard's hook in portable mode: the passphrase the user
// chose there creates (or opens) the vault before the key is generated.
func (p *Profile) UseVault(_ context.Context, passphrase string) error {
	v, err := p.vault(fileExists(p.VaultPath()), passphrase)
	if err != nil {
		return err
	}
	p.UseSecondary(v)
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// noKeyring is the primary store in portable mode: always unavailable, so
// the Fallback goes straight to the vault.
type noKeyring struct{}

var errPortable = fmt.Errorf("secret: portable mode keeps secrets only in the vault: %w", ErrStoreUnavailable)

func (noKeyring) Get(context.Context, string) ([]byte, error) { return nil, errPortable }
func (noKeyring) Set(context.Context, string, []byte) error   { return errPortable }
func (noKeyring) Delete(context.Context, string) error        { return errPortable }
