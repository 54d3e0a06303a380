// Package secret keeps Sotto's passwords and private keys.
//
// Everything that holds a secret implements Store (Get, Set, Delete by
// name; ErrNotFound, ErrStoreUnavailable, and ErrLocked for a keyring
// that is there but locked). The implementations:
//
//   - NewKeyring: the operating system's keyring through go-keyring (the
//     Secret Service on Linux and the BSDs, the Keychain on macOS, the
//     Credential Manager on Windows), every call bounded by a timeout
//     (DefaultKeyringTimeout) because a locked keyring may wait forever
//     on its unlock prompt (keyring.go);
//   - Vault: one passphrase-encrypted file, argon2id and
//     XChaCha20-Poly1305, for machines without a keyring and for portable
//     mode (vault.go). Vault.ID and VaultID name a vault without reading
//     its header by hand;
//   - Fallback: the keyring first and the vault, opened on demand, when
//     there is no keyring; a locked keyring is waited for, never replaced
//     (fallback.go);
//   - Memory: this process's memory only, for tests, demos and scenes
//     (memory.go).
//
// Profile puts them together for one profile folder the way the program
// uses them (profile.go): the keyring with the vault as fallback, or in
// portable mode the vault alone; the vault is unlocked on first use by
// asking for the passphrase through an AskFunc the caller supplies (the
// UI's window), again after a wrong one, and at most a few times. In
// portable mode the passphrase can be remembered in the host computer's
// keyring, under rules written down in remember.go.
//
// A Profile is used like any Store:
//
//	secrets := secret.NewProfile(secret.Options{Dir: dir, Ask: ask})
//	mgr := account.NewManager(profile, secrets)
//
// The package has no goroutines of its own except the one that carries a
// keyring call past its timeout (go-keyring calls cannot be cancelled).
package secret
