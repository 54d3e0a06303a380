package secret

// The vault: a passphrase-encrypted file that holds secrets when there is no
// OS keyring (headless machines, portable mode, a keyring the user refuses).
//
// File layout (all integers big-endian):
//
//	magic   "SOTTOVLT" (8)
//	version 1 (1)          format version
//	kdf     1 (1)          1 = argon2id
//	time    uint32         argon2id passes
//	memory  uint32         argon2id memory in KiB
//	threads uint8          argon2id lanes
//	salt    16 random bytes
//	nonce   24 random bytes (XChaCha20-Poly1305)
//	sealed  XChaCha20-Poly1305(key, nonce, plaintext, aad = all bytes above)
//
// The header is the AAD, so changing the KDF parameters, salt or version
// makes decryption fail instead of silently using weaker settings.
// plaintext = count uint32, then per entry: len uint32, name, len uint32,
// value; entries sorted by name.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/sotto-im/sotto/internal/atomicfile"
)

const (
	vaultMagic      = "SOTTOVLT"
	vaultVersion    = 1
	vaultKDFArgon2  = 1
	vaultSaltLen    = 16
	vaultIDLen      = len(vaultMagic) + 1 + 1 + 4 + 4 + 1 + vaultSaltLen // the header up to the nonce
	vaultHeaderLen  = vaultIDLen + chacha20poly1305.NonceSizeX
	vaultMaxFile    = 64 << 20
	vaultMinMemKiB  = 8 << 10 // below this argon2id is not worth its name
	vaultMaxMemKiB  = 1 << 20 // 1 GiB: refuse files that would exhaust memory
	vaultMaxTime    = 32
	vaultMaxThreads = 16
)

// KDFParams are the argon2id cost parameters of a vault.
type KDFParams struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32
	Threads   uint8
}

// DefaultKDFParams: argon2id with 3 passes over 64 MiB using 2 lanes.
//
// Trade-off: RFC 9106 §4 recommends t=3, m=64 MiB as its second choice for
// memory-constrained settings (the first, 2 GiB, is far too much for a chat
// client). We use 2 lanes instead of 4 because Sotto targets ordinary
// laptops; lanes change wall time, not the attacker's memory cost. Measured
// on the 2-core build machine under load: 0.27-0.55 s and 64 MiB per
// derivation, paid once per unlock and once per passphrase change, never
// per secret (the derived key is kept while the vault is open). Raising
// MemoryKiB is the most effective knob against GPU guessing if a slower
// unlock is acceptable; OpenVault reads the parameters from the file, so
// they can be raised later without breaking old vaults.
func DefaultKDFParams() KDFParams {
	return KDFParams{Time: 3, MemoryKiB: 64 << 10, Threads: 2}
}

func (p KDFParams) check() error {
	if p.Time < 1 || p.Time > vaultMaxTime || p.MemoryKiB < vaultMinMemKiB ||
		p.MemoryKiB > vaultMaxMemKiB || p.Threads < 1 || p.Threads > vaultMaxThreads {
		return fmt.Errorf("secret: vault key derivation parameters out of range (t=%d, m=%d KiB, p=%d)",
			p.Time, p.MemoryKiB, p.Threads)
	}
	return nil
}

func (p KDFParams) derive(passphrase, salt []byte) []byte {
	return argon2.IDKey(passphrase, salt, p.Time, p.MemoryKiB, p.Threads, chacha20poly1305.KeySize)
}

// VaultOption configures CreateVault.
type VaultOption func(*vaultConfig)

type vaultConfig struct {
	kdf  KDFParams
	rand io.Reader
}

// WithKDFParams sets the argon2id cost (tests use cheap parameters; the
// parameters are stored in the file, so OpenVault needs no option).
func WithKDFParams(p KDFParams) VaultOption { return func(c *vaultConfig) { c.kdf = p } }

// Vault is a Store kept in one encrypted file. It is safe for
// concurrent use within one process; two processes writing the same vault
// would overwrite each other's changes (Sotto runs one instance per
// profile). Secrets are held decrypted in memory while the vault is open;
// Close wipes them and the key.
type Vault struct {
	path string
	rand io.Reader

	mu      sync.Mutex
	kdf     KDFParams
	salt    []byte
	key     []byte // argon2id output; nil after Close
	secrets map[string][]byte
}

// CreateVault creates a new, empty vault at path (its directory is created
// 0700 if missing). It refuses to overwrite an existing file.
func CreateVault(path string, passphrase []byte, opts ...VaultOption) (*Vault, error) {
	cfg := vaultConfig{kdf: DefaultKDFParams(), rand: rand.Reader}
	for _, o := range opts {
		o(&cfg)
	}
	if len(passphrase) == 0 {
		return nil, errors.New("secret: the vault passphrase must not be empty")
	}
	if err := cfg.kdf.check(); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("secret: create vault %s: %w", path, os.ErrExist)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("secret: create vault: %w", err)
	}
	salt := make([]byte, vaultSaltLen)
	if _, err := io.ReadFull(cfg.rand, salt); err != nil {
		return nil, fmt.Errorf("secret: create vault: %w", err)
	}
	v := &Vault{path: path, rand: cfg.rand, kdf: cfg.kdf, salt: salt,
		key: cfg.kdf.derive(passphrase, salt), secrets: map[string][]byte{}}
	if err := v.writeLocked(); err != nil {
		v.Close()
		return nil, err
	}
	return v, nil
}

// OpenVault decrypts the vault at path. A wrong passphrase (or a modified
// file) gives ErrWrongPassphrase; the file is only ever read here.
func OpenVault(path string, passphrase []byte) (*Vault, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("secret: open vault: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, vaultMaxFile+1))
	if err != nil {
		return nil, fmt.Errorf("secret: read vault: %w", err)
	}
	if len(data) > vaultMaxFile {
		return nil, fmt.Errorf("secret: vault %s is larger than %d bytes", path, vaultMaxFile)
	}
	kdf, salt, nonce, sealed, err := parseVaultHeader(data)
	if err != nil {
		return nil, fmt.Errorf("secret: vault %s: %w", path, err)
	}
	key := kdf.derive(passphrase, salt)
	plain, err := openSealed(key, nonce, sealed, data[:vaultHeaderLen])
	if err != nil {
		wipe(key)
		return nil, fmt.Errorf("secret: open vault %s: %w", path, ErrWrongPassphrase)
	}
	defer wipe(plain)
	secrets, err := decodeSecrets(plain)
	if err != nil {
		wipe(key)
		return nil, fmt.Errorf("secret: vault %s: %w", path, err)
	}
	return &Vault{path: path, rand: rand.Reader, kdf: kdf, salt: bytes.Clone(salt),
		key: key, secrets: secrets}, nil
}

func parseVaultHeader(data []byte) (kdf KDFParams, salt, nonce, sealed []byte, err error) {
	if len(data) < vaultHeaderLen+chacha20poly1305.Overhead || string(data[:8]) != vaultMagic {
		return kdf, nil, nil, nil, errors.New("not a sotto vault file (bad header)")
	}
	if data[8] != vaultVersion || data[9] != vaultKDFArgon2 {
		return kdf, nil, nil, nil, fmt.Errorf("unsupported vault format %d/%d", data[8], data[9])
	}
	kdf = KDFParams{
		Time:      binary.BigEndian.Uint32(data[10:14]),
		MemoryKiB: binary.BigEndian.Uint32(data[14:18]),
		Threads:   data[18],
	}
	if err := kdf.check(); err != nil {
		return kdf, nil, nil, nil, err
	}
	salt = data[19 : 19+vaultSaltLen]
	nonce = data[19+vaultSaltLen : vaultHeaderLen]
	return kdf, salt, nonce, data[vaultHeaderLen:], nil
}

func openSealed(key, nonce, sealed, aad []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	return aead.Open(nil, nonce, sealed, aad)
}

// writeLocked seals the secrets with a fresh nonce and replaces the file
// atomically. v.mu must be held (or v not yet shared).
func (v *Vault) writeLocked() error {
	hdr := v.appendID(make([]byte, 0, vaultHeaderLen))
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := io.ReadFull(v.rand, nonce); err != nil {
		return fmt.Errorf("secret: write vault: %w", err)
	}
	hdr = append(hdr, nonce...)
	aead, err := chacha20poly1305.NewX(v.key)
	if err != nil {
		return fmt.Errorf("secret: write vault: %w", err)
	}
	plain := encodeSecrets(v.secrets)
	// dst must not overlap the AAD (cipher.AEAD), so the output gets its own
	// buffer that starts with a copy of the header.
	out := make([]byte, len(hdr), len(hdr)+len(plain)+aead.Overhead())
	copy(out, hdr)
	out = aead.Seal(out, nonce, plain, hdr)
	wipe(plain)
	if err := atomicfile.Write(v.path, out); err != nil {
		return fmt.Errorf("secret: write vault: %w", err)
	}
	return nil
}

func encodeSecrets(m map[string][]byte) []byte {
	names := make([]string, 0, len(m))
	n := 4
	for k, val := range m {
		names = append(names, k)
		n += 8 + len(k) + len(val)
	}
	slices.Sort(names)
	b := make([]byte, 0, n) // sized exactly so append never copies secrets around
	b = binary.BigEndian.AppendUint32(b, uint32(len(names)))
	for _, k := range names {
		b = binary.BigEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(m[k])))
		b = append(b, m[k]...)
	}
	return b
}

func decodeSecrets(b []byte) (map[string][]byte, error) {
	bad := errors.New("decrypted vault contents are malformed")
	field := func() ([]byte, bool) {
		if len(b) < 4 {
			return nil, false
		}
		n := binary.BigEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return nil, false
		}
		f := b[4 : 4+n]
		b = b[4+n:]
		return f, true
	}
	if len(b) < 4 {
		return nil, bad
	}
	count := binary.BigEndian.Uint32(b)
	b = b[4:]
	m := make(map[string][]byte)
	for i := uint32(0); i < count; i++ {
		k, ok1 := field()
		val, ok2 := field()
		if !ok1 || !ok2 {
			wipeAll(m)
			return nil, bad
		}
		m[string(k)] = bytes.Clone(val)
	}
	if len(b) != 0 {
		wipeAll(m)
		return nil, bad
	}
	return m, nil
}

// Path is the vault's file.
func (v *Vault) Path() string { return v.path }

// ID names the vault: its header up to the nonce, i.e. the format, the KDF
// parameters and the 16-byte random salt. It is not secret. It stays the
// same while the vault is written (only the nonce changes then) and when
// the file is copied or moved, and changes only when a new salt is chosen:
// a new vault, or ChangePassphrase. Two vaults share an ID only if one is a
// copy of the other (or the 128-bit salts collide). VaultID reads the same
// bytes from a file without the passphrase.
func (v *Vault) ID() []byte {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.appendID(make([]byte, 0, vaultIDLen))
}

// appendID appends the ID (see ID) to b; v.mu must be held (or v not yet
// shared).
func (v *Vault) appendID(b []byte) []byte {
	b = append(b, vaultMagic...)
	b = append(b, vaultVersion, vaultKDFArgon2)
	b = binary.BigEndian.AppendUint32(b, v.kdf.Time)
	b = binary.BigEndian.AppendUint32(b, v.kdf.MemoryKiB)
	b = append(b, v.kdf.Threads)
	return append(b, v.salt...)
}

// VaultID returns the ID (see Vault.ID) of the vault file at path, without
// decrypting it. It only checks that the file starts like a vault of a
// format this Sotto reads; that a passphrase opens it is for OpenVault.
func VaultID(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("secret: vault id: %w", err)
	}
	defer f.Close()
	id := make([]byte, vaultIDLen)
	if _, err := io.ReadFull(f, id); err != nil {
		return nil, fmt.Errorf("secret: vault id of %s: %w", path, err)
	}
	if string(id[:len(vaultMagic)]) != vaultMagic || id[8] != vaultVersion || id[9] != vaultKDFArgon2 {
		return nil, fmt.Errorf("secret: %s is not a sotto vault of a known format", path)
	}
	return id, nil
}

var errVaultClosed = errors.New("secret: the vault is closed")

// Get implements Store.
func (v *Vault) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.key == nil {
		return nil, errVaultClosed
	}
	val, ok := v.secrets[key]
	if !ok {
		return nil, ErrNotFound
	}
	return bytes.Clone(val), nil
}

// Set implements Store. The file is rewritten before Set returns; if
// that fails the in-memory state is rolled back.
func (v *Vault) Set(ctx context.Context, key string, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.key == nil {
		return errVaultClosed
	}
	old, had := v.secrets[key]
	v.secrets[key] = bytes.Clone(value)
	if err := v.writeLocked(); err != nil {
		wipe(v.secrets[key])
		if had {
			v.secrets[key] = old
		} else {
			delete(v.secrets, key)
		}
		return err
	}
	wipe(old)
	return nil
}

// Delete implements Store.
func (v *Vault) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.key == nil {
		return errVaultClosed
	}
	old, ok := v.secrets[key]
	if !ok {
		return ErrNotFound
	}
	delete(v.secrets, key)
	if err := v.writeLocked(); err != nil {
		v.secrets[key] = old
		return err
	}
	wipe(old)
	return nil
}

// ChangePassphrase re-encrypts the vault under newPass with a fresh salt.
// oldPass must be the current passphrase (ErrWrongPassphrase otherwise, and
// nothing changes). The KDF parameters stay as they are. The caller owns
// both passphrase slices and should wipe them afterwards.
func (v *Vault) ChangePassphrase(oldPass, newPass []byte) error {
	if len(newPass) == 0 {
		return errors.New("secret: the vault passphrase must not be empty")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.key == nil {
		return errVaultClosed
	}
	check := v.kdf.derive(oldPass, v.salt)
	same := subtle.ConstantTimeCompare(check, v.key) == 1
	wipe(check)
	if !same {
		return ErrWrongPassphrase
	}
	salt := make([]byte, vaultSaltLen)
	if _, err := io.ReadFull(v.rand, salt); err != nil {
		return fmt.Errorf("secret: change passphrase: %w", err)
	}
	oldSalt, oldKey := v.salt, v.key
	v.salt, v.key = salt, v.kdf.derive(newPass, salt)
	if err := v.writeLocked(); err != nil {
		wipe(v.key)
		v.salt, v.key = oldSalt, oldKey
		return err
	}
	wipe(oldKey)
	return nil
}

// Close wipes the key and the decrypted secrets. Later calls fail.
func (v *Vault) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	wipe(v.key)
	v.key = nil
	wipeAll(v.secrets)
	v.secrets = nil
	return nil
}

// wipe overwrites b with zeros. It is best effort: the Go runtime may have
// copied the bytes (e.g. when a slice grew) and strings cannot be wiped.
func wipe(b []byte) {
	clear(b)
}

func wipeAll(m map[string][]byte) {
	for _, v := range m {
		wipe(v)
	}
}
