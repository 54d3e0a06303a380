package account

// OMEMO state at rest: the account's omemo.Store (identity key, prekeys,
// every session) and the device lists last seen, in one profile file
// encrypted with AES-256-GCM under a random key held in the secret.Store
// (the keyring or the vault), as the OTR key is (key.go).
//
// The rule from key.go holds: a key that could not be READ (a locked
// keyring, one that does not answer) is never replaced, and OMEMO is then
// unavailable (the loop says so in plain words and sends nothing in the
// clear instead). A new key is made only when the store answers that there
// is none. A file that does not decrypt or parse is moved aside (never
// deleted) and this device starts over with new keys.
//
// The file is rewritten (atomicfile: temp file, fsync, rename) after every
// change to the store and before what caused it is sent or shown, so a
// crash never loses the ratchet step of a message that left or was seen.

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sotto-im/sotto/internal/atomicfile"
	"github.com/sotto-im/sotto/omemo"
	"github.com/sotto-im/sotto/secret"
)

const (
	omemoFileMagic   = "SOTTO-OMEMO-1\n"
	omemoDocVersion  = 1
	omemoKeySize     = 32
	maxOMEMOFileSize = 64 << 20
)

func omemoKeyName(jid string) string { return "omemo-key:" + jid }

// omemoStatePath is the account's OMEMO file in the profile directory
// (named by a hash of the JID, like the roster cache).
func omemoStatePath(dir, account string) string {
	sum := sha256.Sum256([]byte(account))
	return filepath.Join(dir, "omemo-"+hex.EncodeToString(sum[:8])+".bin")
}

// omemoDoc is the plaintext of the file (JSON, then encrypted whole).
type omemoDoc struct {
	Version int
	Store   []byte              // omemo.Store.Marshal
	Lists   map[string][]uint32 `json:",omitempty"` // bare JID → devices it published
	NoOMEMO []string            `json:",omitempty"` // contacts the user talks to with OTR (UseOMEMO)
	Held    []string            `json:",omitempty"` // new devices not accepted yet (omemoHoldNew)
}

// omemoLoad is what loadOMEMO found: the state, or why OMEMO is not
// available (unavailable != ""). notice is a plain-words line for the
// user even when the state is usable (a damaged file was moved aside).
type omemoLoad struct {
	st          *omemo.Store
	lists       map[string][]uint32
	noOMEMO     []string
	held        []string
	key         []byte
	notice      string
	unavailable string
}

// loadOMEMO reads (or makes) the account's OMEMO key and state. It may
// wait on the keyring, so it never runs on the loop.
func (m *Manager) loadOMEMO(ctx context.Context, account string) omemoLoad {
	path := omemoStatePath(m.profile.Dir, account)
	key, err := m.secrets.Get(ctx, omemoKeyName(account))
	switch {
	case err == nil && len(key) != omemoKeySize:
		clear(key)
		return omemoLoad{unavailable: "OMEMO is not available: its key in your keyring is damaged"}
	case err == nil:
		data, rerr := readProfileFile(path)
		if rerr != nil {
			clear(key)
			return omemoLoad{unavailable: "OMEMO is not available: its saved state cannot be read (" + rerr.Error() + ")"}
		}
		if data == nil {
			return m.newOMEMO(path, key, "")
		}
		doc, derr := openOMEMO(key, account, data)
		var st *omemo.Store
		if derr == nil {
			st, derr = omemo.UnmarshalStore(doc.Store)
			clear(doc.Store)
		}
		if derr != nil {
			return m.newOMEMO(path, key, moveAsideNotice(path))
		}
		return omemoLoad{st: st, lists: doc.Lists, noOMEMO: doc.NoOMEMO, held: doc.Held, key: key}
	case errors.Is(err, secret.ErrNotFound):
		notice := ""
		if _, serr := os.Stat(path); serr == nil {
			// A state without its key can never be read again.
			notice = moveAsideNotice(path)
		}
		key = make([]byte, omemoKeySize)
		if _, err := rand.Read(key); err != nil {
			return omemoLoad{unavailable: "OMEMO is not available: no randomness for its key"}
		}
		if err := m.secrets.Set(ctx, omemoKeyName(account), key); err != nil {
			clear(key)
			return omemoLoad{unavailable: "OMEMO is not available: its key could not be saved in your keyring (" + err.Error() + ")"}
		}
		return m.newOMEMO(path, key, notice)
	default:
		return omemoLoad{unavailable: "OMEMO is not available: your keyring cannot be read right now (is it locked?); " +
			"nothing was replaced, and OMEMO messages wait until you sign in again with the keyring unlocked"}
	}
}

func moveAsideNotice(path string) string {
	moved, err := atomicfile.MoveAside(path)
	if err != nil {
		return "the saved OMEMO state could not be read, nor kept aside (" + err.Error() + "); this device starts over with new keys"
	}
	return "the saved OMEMO state could not be read (it was kept as " + filepath.Base(moved) +
		"); this device starts over with new keys, and your contacts will see a new device"
}

// newOMEMO makes a new device and saves it at once.
func (m *Manager) newOMEMO(path string, key []byte, notice string) omemoLoad {
	st, err := omemo.NewStore()
	if err == nil {
		err = saveOMEMO(path, key, st, nil, nil, nil)
	}
	if err != nil {
		clear(key)
		return omemoLoad{unavailable: "OMEMO is not available: " + err.Error()}
	}
	return omemoLoad{st: st, key: key, notice: notice}
}

// saveOMEMO writes the state, encrypted. aad binds the file to its name
// (the account), so one account's file cannot be swapped for another's.
func saveOMEMO(path string, key []byte, st *omemo.Store, lists map[string][]uint32, noOMEMO, held []string) error {
	b, err := st.Marshal()
	if err != nil {
		return fmt.Errorf("the encryption state could not be saved: %w", err)
	}
	doc, err := json.Marshal(omemoDoc{Version: omemoDocVersion, Store: b, Lists: lists, NoOMEMO: noOMEMO, Held: held})
	clear(b)
	if err != nil {
		return fmt.Errorf("the encryption state could not be saved: %w", err)
	}
	defer clear(doc)
	aead, err := omemoAEAD(key)
	if err != nil {
		return err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("the encryption state could not be saved: %w", err)
	}
	out := append([]byte(omemoFileMagic), nonce...)
	out = aead.Seal(out, nonce, doc, []byte(omemoFileMagic+filepath.Base(path)))
	if err := atomicfile.Write(path, out); err != nil {
		return fmt.Errorf("the encryption state could not be saved: %w", err)
	}
	return nil
}

func omemoAEAD(key []byte) (cipher.AEAD, error) {
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("the OMEMO key is unusable: %w", err)
	}
	return cipher.NewGCM(blk)
}

// openOMEMO decrypts and decodes a file saveOMEMO wrote.
func openOMEMO(key []byte, account string, data []byte) (*omemoDoc, error) {
	aead, err := omemoAEAD(key)
	if err != nil {
		return nil, err
	}
	n := len(omemoFileMagic) + aead.NonceSize()
	if len(data) > maxOMEMOFileSize || len(data) < n+aead.Overhead() || string(data[:len(omemoFileMagic)]) != omemoFileMagic {
		return nil, errors.New("account: not an OMEMO state file")
	}
	name := filepath.Base(omemoStatePath("", account))
	plain, err := aead.Open(nil, data[len(omemoFileMagic):n], data[n:], []byte(omemoFileMagic+name))
	if err != nil {
		return nil, errors.New("account: the OMEMO state does not decrypt with its key")
	}
	defer clear(plain)
	var doc omemoDoc
	if err := json.Unmarshal(plain, &doc); err != nil || doc.Version != omemoDocVersion {
		return nil, errors.New("account: the OMEMO state is damaged")
	}
	return &doc, nil
}
