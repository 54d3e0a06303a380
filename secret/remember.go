package secret

// "Remember the passphrase on this computer" for a portable Sotto.
//
// A portable Sotto keeps every secret in the vault on the stick and asks
// for its passphrase at each start. If the user ticks the box in the
// unlock window, the passphrase (only the passphrase: keys and passwords
// stay in the vault) is kept in this computer's OS keyring, and the next
// start on this computer opens the vault without asking.
//
// Rules, and why:
//   - Nothing touches the host's keyring until the user has ticked the
//     box once. Even a lookup is not harmless: on Linux it D-Bus-activates
//     gnome-keyring-daemon, which creates ~/.local/share/keyrings on the
//     host (seen here), and a locked desktop keyring pops up its own
//     unlock prompt. So ticking the box also writes a small note,
//     sotto-data/remembered-passphrase, and only a stick with that note
//     ever looks in a keyring. The note holds no secret; it only says
//     that the box was ticked on some computer.
//   - The keyring item is named after the vault, not the computer or the
//     path: "vault-passphrase:" + hex(SHA-256(label || the vault's ID)),
//     i.e. its format, KDF parameters and 16-byte random salt (Vault.ID).
//     Another stick's vault has another salt, so it is never offered this
//     passphrase; the same stick mounted under another drive letter or
//     mount point still finds it (a path in the name would leave a copy of
//     the passphrase behind at every new mount point). The ID leaves out
//     the nonce, which changes at every write. A remembered passphrase
//     that does not open the vault (changed, or a crafted copy of the
//     header) is simply not used: OpenVault only reads the file.
//   - Any failure (no keyring, locked and not answering within
//     rememberTimeout, nothing stored, wrong passphrase) falls back to the
//     unlock window without an error: the keyring is a convenience.
//   - Unlocking with the box unticked deletes this computer's item, so
//     unticking is how one forgets. --forget-passphrase shows the window
//     even when the remembered passphrase works, to get at the box.
//     Forgetting is per computer: the note stays, because other computers
//     may still hold the passphrase and must keep looking so that the user
//     can forget it there too.
//
// Trade-off (also in the README): anyone who can use that computer
// account — or malware running as it — can read the passphrase from the
// keyring and open the vault, and every copy or backup of it, until the
// passphrase is changed.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// rememberTimeout bounds each call to the host's keyring. Short: it runs
// before the unlock window, and a keyring that does not answer quickly
// (locked, waiting for its own prompt) means "ask the user" instead.
const rememberTimeout = 3 * time.Second

// rememberedNote is the file in the portable folder that says the box was
// ticked (see the rules above).
const rememberedNote = "remembered-passphrase"

const rememberNoteText = `This file tells Sotto that the passphrase of vault.sotto was remembered
in the system keyring of at least one computer ("Remember the passphrase
on this computer"), so Sotto looks there before asking. It holds no
secret. To forget the passphrase on a computer, start Sotto there with
--forget-passphrase and unlock with the box unticked.
`

// rememberKey is the keyring item name for the vault whose ID is id.
func rememberKey(id []byte) string {
	h := sha256.New()
	h.Write([]byte("sotto remembered vault passphrase v1\x00"))
	h.Write(id)
	return "vault-passphrase:" + hex.EncodeToString(h.Sum(nil))
}

// rememberKeyOf is rememberKey for the vault file at path.
func rememberKeyOf(path string) (string, error) {
	id, err := VaultID(path)
	if err != nil {
		return "", err
	}
	return rememberKey(id), nil
}

func (p *Profile) notePath() string { return filepath.Join(p.dir, rememberedNote) }

// mayUseKeyring reports whether the host's keyring may be consulted at
// all: portable mode, and the box was ticked before on some computer.
func (p *Profile) mayUseKeyring() bool {
	return p.hostKeyring != nil && fileExists(p.notePath())
}

// openRemembered opens the vault with the passphrase this computer
// remembers, or returns nil (and the caller asks the user).
func (p *Profile) openRemembered(ctx context.Context) *Vault {
	if p.askAnyway || !p.mayUseKeyring() || !fileExists(p.VaultPath()) {
		return nil
	}
	key, err := rememberKeyOf(p.VaultPath())
	if err != nil {
		return nil
	}
	pass, err := p.hostKeyring.Get(ctx, key)
	if err != nil {
		return nil
	}
	defer clear(pass)
	v, err := OpenVault(p.VaultPath(), pass)
	if err != nil {
		return nil
	}
	return v
}

// rememberChoice carries out the box's value after a successful unlock:
// ticked stores the passphrase in this computer's keyring, unticked
// deletes whatever this computer remembered. Failures are not fatal (the
// vault is open); a failed store only means Sotto asks again next time.
func (p *Profile) rememberChoice(ctx context.Context, v *Vault, remember bool, passphrase string) {
	if p.hostKeyring == nil {
		return
	}
	if !remember && !p.mayUseKeyring() {
		return // never ticked: the keyring holds nothing of ours
	}
	key := rememberKey(v.ID())
	if !remember {
		_ = p.hostKeyring.Delete(ctx, key) // not found or no keyring: nothing to forget
		return
	}
	// The note first: a passphrase in a keyring that no start would look
	// at could never be forgotten through Sotto.
	if err := os.WriteFile(p.notePath(), []byte(rememberNoteText), 0o600); err != nil {
		warn("could not remember the passphrase (writing %s): %v", rememberedNote, err)
		return
	}
	pass := []byte(passphrase)
	defer clear(pass)
	if err := p.hostKeyring.Set(ctx, key, pass); err != nil {
		// The keyring's error names the operation and the cause, never
		// the value.
		warn("this computer's keyring did not take the passphrase; Sotto will ask again: %v", err)
	}
}

// warn tells a terminal user why something optional did not happen.
func warn(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "sotto: "+format+"\n", args...)
}
