package account

// Profile: the non-secret, on-disk settings of one Sotto user. Passwords and
// private keys live in a secret.Store, message text nowhere here; the types
// stored below have no field that could hold them.

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/sotto-im/sotto/internal/atomicfile"
	"github.com/sotto-im/sotto/otr"
)

// Prefs are the application-wide preferences account itself acts on. The
// OTR policy is not one of them: it is set per account (Settings.Policy)
// and per contact (SetContactPolicy), and Manager.Policy says which applies.
// The UI's own state (theme, window size, open chats) is not here either:
// the UI keeps it as an opaque blob (UIState). A prefs.json written before
// that split still loads: its DefaultPolicy is ignored, and its UI fields
// are handed to the UI once (see UIState).
type Prefs struct {
	// PlainHistory keeps a local log of conversations that were not private
	// (history.go says exactly what is written; private ones never are).
	PlainHistory bool
	// HideVersion: do not tell other clients which Sotto version runs
	// (XEP-0092 queries are refused). Off by default, as clients do.
	HideVersion bool `json:",omitempty"`
	// NoTypingOrReceipts: send no typing notifications (XEP-0085) and no
	// delivery receipts (XEP-0184), and ask for none.
	NoTypingOrReceipts bool `json:",omitempty"`
	// OMEMOTrustNewDevices: a device a contact (or our own account)
	// adds later gets messages at once, if none of that account's
	// devices is verified. Off: no blind trust, it waits until the user
	// verifies (or accepts) it. A new device of an account with a
	// verified device always waits.
	OMEMOTrustNewDevices bool `json:",omitempty"`
}

// Files in the profile directory. Each concern has its own file so that a
// damaged file costs only that concern.
const (
	accountsFile     = "accounts.json"
	fingerprintsFile = "fingerprints.json"
	contactsFile     = "contacts.json"
	prefsFile        = "prefs.json"
	certPinsFile     = "certpins.json"
	// uiStateFile is the UI's own state, opaque to account (the UI
	// happens to write JSON).
	uiStateFile = "ui.json"

	profileVersion = 1
	maxProfileFile = 16 << 20
)

type contactPolicy struct {
	Account, Contact string
	Policy           Policy
}

// On-disk shapes. Version lets a future Sotto migrate; a file from a newer
// version is refused rather than rewritten (and is not "corrupt").
type (
	accountsDoc struct {
		Version  int
		Accounts []Settings
	}
	fingerprintsDoc struct {
		Version      int
		Fingerprints []KnownFingerprint
	}
	contactsDoc struct {
		Version  int
		Policies []contactPolicy
	}
	prefsDoc struct {
		Version int
		Prefs   Prefs
	}
	certPinsDoc struct {
		Version int
		Pins    map[string]string // account -> SHA-256 hex of the certificate
	}
)

// Profile is one user's settings directory. Methods are safe for concurrent
// use; each change is written to disk before the method returns.
type Profile struct {
	Dir string

	mu       sync.Mutex
	accounts accountsDoc
	fps      fingerprintsDoc
	contacts contactsDoc
	prefs    prefsDoc
	pins     certPinsDoc
	marks    archiveDoc // archivemark.go
	ui       []byte
	// uiLegacy: ui came from an old prefs.json and is not yet in its own
	// file (see legacyUIState).
	uiLegacy bool
}

// CorruptFileError reports a profile file that could not be parsed. The
// file was renamed to MovedTo (never deleted) and defaults are used instead.
type CorruptFileError struct {
	Path    string
	MovedTo string
	Err     error
}

func (e *CorruptFileError) Error() string {
	return fmt.Sprintf("account: settings file %s was damaged (%v); it was kept as %s and defaults are used",
		filepath.Base(e.Path), e.Err, filepath.Base(e.MovedTo))
}

func (e *CorruptFileError) Unwrap() error { return e.Err }

// DefaultProfileDir is the "sotto" directory in the user's configuration
// directory ($XDG_CONFIG_HOME or ~/.config on Linux, %AppData% on Windows).
func DefaultProfileDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("account: no configuration directory: %w", err)
	}
	return filepath.Join(d, "sotto"), nil
}

// OpenProfile opens (creating if needed) the profile in dir, which is made
// 0700. If some files were damaged it returns a usable profile together with
// an error that wraps one *CorruptFileError per file (errors.As finds them):
// the caller should tell the user and may carry on. Any other error comes
// with a nil profile.
func OpenProfile(dir string) (*Profile, error) {
	if err := atomicfile.PrivateDir(dir); err != nil {
		return nil, fmt.Errorf("account: the profile folder: %w", err)
	}
	p := &Profile{Dir: dir}
	var corrupt []error
	for _, err := range []error{
		loadJSON(filepath.Join(dir, accountsFile), &p.accounts),
		loadJSON(filepath.Join(dir, fingerprintsFile), &p.fps),
		loadJSON(filepath.Join(dir, contactsFile), &p.contacts),
		loadJSON(filepath.Join(dir, prefsFile), &p.prefs),
		loadJSON(filepath.Join(dir, certPinsFile), &p.pins),
		loadJSON(filepath.Join(dir, archiveFile), &p.marks),
		p.loadUIState(),
	} {
		var ce *CorruptFileError
		if errors.As(err, &ce) {
			corrupt = append(corrupt, err)
		} else if err != nil {
			return nil, err
		}
	}
	// Whatever the files said, we write the current format from now on.
	p.accounts.Version, p.fps.Version, p.contacts.Version = profileVersion, profileVersion, profileVersion
	p.prefs.Version, p.pins.Version, p.marks.Version = profileVersion, profileVersion, profileVersion
	if p.pins.Pins == nil {
		p.pins.Pins = map[string]string{}
	}
	return p, errors.Join(corrupt...)
}

// readProfileFile reads one profile file (at most maxProfileFile+1 bytes)
// and tightens its mode to 0600. A missing file is (nil, nil).
func readProfileFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("account: open %s: %w", filepath.Base(path), err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxProfileFile+1))
	if fi, serr := f.Stat(); serr == nil && fi.Mode().Perm()&0o077 != 0 {
		_ = os.Chmod(path, 0o600) // tighten files a user or older tool loosened
	}
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("account: read %s: %w", filepath.Base(path), err)
	}
	if data == nil {
		data = []byte{} // present but empty: not "missing"
	}
	return data, nil
}

// loadJSON decodes path into doc. A missing file leaves doc alone. A file
// that does not parse is moved aside and reported as *CorruptFileError,
// leaving doc untouched (a partial decode never leaks into the profile).
func loadJSON[T any](path string, doc *T) error {
	data, err := readProfileFile(path)
	if data == nil || err != nil {
		return err
	}
	var perr error
	if len(data) > maxProfileFile {
		perr = errors.New("file too large")
	} else {
		var probe struct{ Version int }
		if perr = json.Unmarshal(data, &probe); perr == nil && probe.Version > profileVersion {
			return fmt.Errorf("account: %s was written by a newer Sotto (format %d); not touching it",
				filepath.Base(path), probe.Version)
		}
		if perr == nil {
			var tmp T
			if perr = json.Unmarshal(data, &tmp); perr == nil {
				*doc = tmp
				return nil
			}
		}
	}
	moved, err := atomicfile.MoveAside(path)
	if err != nil {
		return fmt.Errorf("account: %s is damaged (%v) and could not be moved aside: %w",
			filepath.Base(path), perr, err)
	}
	return &CorruptFileError{Path: path, MovedTo: moved, Err: perr}
}

// save writes one document; the caller holds p.mu.
func (p *Profile) save(name string, doc any) error {
	data, err := json.MarshalIndent(doc, "", "\t")
	if err != nil {
		return fmt.Errorf("account: encode %s: %w", name, err)
	}
	if err := atomicfile.Write(filepath.Join(p.Dir, name), append(data, '\n')); err != nil {
		return fmt.Errorf("account: save %s: %w", name, err)
	}
	return nil
}

// checkBareJID accepts user@domain without a resource or spaces.
func checkBareJID(what, jid string) error {
	at := strings.IndexByte(jid, '@')
	if at <= 0 || at == len(jid)-1 || strings.ContainsAny(jid, "/ \t\r\n") ||
		strings.Count(jid, "@") != 1 {
		return fmt.Errorf("account: %s %q is not an address like user@example.org", what, jid)
	}
	return nil
}

// Accounts returns a copy of the configured accounts, in the order added.
func (p *Profile) Accounts() []Settings {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.accounts.Accounts)
}

// SaveAccount adds s, or replaces the account with the same JID.
func (p *Profile) SaveAccount(s Settings) error {
	if err := checkBareJID("account", s.JID); err != nil {
		return err
	}
	if s.Port < 0 || s.Port > 65535 {
		return fmt.Errorf("account: port %d is out of range", s.Port)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := slices.Clone(p.accounts.Accounts)
	i := slices.IndexFunc(p.accounts.Accounts, func(a Settings) bool { return a.JID == s.JID })
	if i >= 0 {
		if s.InstanceTag == 0 {
			s.InstanceTag = old[i].InstanceTag
		}
		p.accounts.Accounts[i] = s
	} else {
		p.accounts.Accounts = append(p.accounts.Accounts, s)
	}
	if err := p.save(accountsFile, &p.accounts); err != nil {
		p.accounts.Accounts = old
		return err
	}
	return nil
}

// SetInstanceTag records the account's OTR instance tag (Settings).
func (p *Profile) SetInstanceTag(account string, tag uint32) error {
	for _, s := range p.Accounts() {
		if s.JID == account {
			s.InstanceTag = tag
			return p.SaveAccount(s)
		}
	}
	return fmt.Errorf("account: no account %s", account)
}

// RemoveAccount removes the account, its per-contact policies and its
// certificate pin. It is not an error if the account does not exist.
// Known fingerprints are kept on purpose: they record verification work
// that should survive removing and re-adding an account; use
// ForgetFingerprint to drop them.
func (p *Profile) RemoveAccount(jid string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	accts := slices.DeleteFunc(slices.Clone(p.accounts.Accounts), func(a Settings) bool { return a.JID == jid })
	if len(accts) != len(p.accounts.Accounts) {
		old := p.accounts.Accounts
		p.accounts.Accounts = accts
		if err := p.save(accountsFile, &p.accounts); err != nil {
			p.accounts.Accounts = old
			return err
		}
	}
	pols := slices.DeleteFunc(slices.Clone(p.contacts.Policies), func(c contactPolicy) bool { return c.Account == jid })
	if len(pols) != len(p.contacts.Policies) {
		old := p.contacts.Policies
		p.contacts.Policies = pols
		if err := p.save(contactsFile, &p.contacts); err != nil {
			p.contacts.Policies = old
			return err
		}
	}
	if pin, ok := p.pins.Pins[jid]; ok {
		delete(p.pins.Pins, jid)
		if err := p.save(certPinsFile, &p.pins); err != nil {
			p.pins.Pins[jid] = pin
			return err
		}
	}
	return p.dropArchiveMark(jid)
}

// Fingerprints returns a copy of all known fingerprints.
func (p *Profile) Fingerprints() []KnownFingerprint {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.fps.Fingerprints)
}

// normFingerprint accepts 40 hex digits with or without spaces and returns
// the display form (five groups of eight upper-case hex digits).
func normFingerprint(fp string) (string, error) {
	f, err := otr.ParseFingerprint(fp)
	if err != nil {
		return "", fmt.Errorf("account: fingerprint %q: %w", fp, err)
	}
	return f.String(), nil
}

// SetFingerprint adds or updates (by account, contact, fingerprint) a known
// fingerprint. The fingerprint is stored in display form.
func (p *Profile) SetFingerprint(k KnownFingerprint) error {
	if err := checkBareJID("account", k.Account); err != nil {
		return err
	}
	if err := checkBareJID("contact", k.Contact); err != nil {
		return err
	}
	fp, err := normFingerprint(k.Fingerprint)
	if err != nil {
		return err
	}
	k.Fingerprint = fp
	p.mu.Lock()
	defer p.mu.Unlock()
	old := slices.Clone(p.fps.Fingerprints)
	i := slices.IndexFunc(p.fps.Fingerprints, func(e KnownFingerprint) bool {
		return e.Account == k.Account && e.Contact == k.Contact && e.Fingerprint == fp
	})
	if i >= 0 {
		p.fps.Fingerprints[i] = k
	} else {
		p.fps.Fingerprints = append(p.fps.Fingerprints, k)
	}
	if err := p.save(fingerprintsFile, &p.fps); err != nil {
		p.fps.Fingerprints = old
		return err
	}
	return nil
}

// ForgetFingerprint removes one known fingerprint; not an error if absent.
func (p *Profile) ForgetFingerprint(account, contact, fingerprint string) error {
	fp, err := normFingerprint(fingerprint)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := slices.DeleteFunc(slices.Clone(p.fps.Fingerprints), func(e KnownFingerprint) bool {
		return e.Account == account && e.Contact == contact && e.Fingerprint == fp
	})
	if len(kept) == len(p.fps.Fingerprints) {
		return nil
	}
	old := p.fps.Fingerprints
	p.fps.Fingerprints = kept
	if err := p.save(fingerprintsFile, &p.fps); err != nil {
		p.fps.Fingerprints = old
		return err
	}
	return nil
}

// ContactPolicy returns the policy set for one contact, if any.
func (p *Profile) ContactPolicy(account, contact string) (Policy, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.contacts.Policies {
		if c.Account == account && c.Contact == contact {
			return c.Policy, true
		}
	}
	return 0, false
}

// effectivePolicy is the one rule for the OTR policy of account's
// conversation with contact: the contact's own policy if one is set, else
// accountPolicy (the account's Settings.Policy). The account loop
// (client.policyFor) and Manager.Policy both ask it.
func (p *Profile) effectivePolicy(account, contact string, accountPolicy Policy) Policy {
	if pol, ok := p.ContactPolicy(account, contact); ok {
		return pol
	}
	return accountPolicy
}

// SetContactPolicy sets the policy for one contact of an account.
func (p *Profile) SetContactPolicy(account, contact string, pol Policy) error {
	if pol < Opportunistic || pol > Always {
		return fmt.Errorf("account: unknown policy %d", pol)
	}
	if account == "" || contact == "" {
		return errors.New("account: a contact policy needs an account and a contact")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := slices.Clone(p.contacts.Policies)
	i := slices.IndexFunc(p.contacts.Policies, func(c contactPolicy) bool {
		return c.Account == account && c.Contact == contact
	})
	if i >= 0 {
		p.contacts.Policies[i].Policy = pol
	} else {
		p.contacts.Policies = append(p.contacts.Policies, contactPolicy{account, contact, pol})
	}
	if err := p.save(contactsFile, &p.contacts); err != nil {
		p.contacts.Policies = old
		return err
	}
	return nil
}

// ClearContactPolicy removes a contact's own policy, so the account's
// policy applies again.
func (p *Profile) ClearContactPolicy(account, contact string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := slices.DeleteFunc(slices.Clone(p.contacts.Policies), func(c contactPolicy) bool {
		return c.Account == account && c.Contact == contact
	})
	if len(kept) == len(p.contacts.Policies) {
		return nil
	}
	old := p.contacts.Policies
	p.contacts.Policies = kept
	if err := p.save(contactsFile, &p.contacts); err != nil {
		p.contacts.Policies = old
		return err
	}
	return nil
}

// Prefs returns the preferences.
func (p *Profile) Prefs() Prefs {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.prefs.Prefs
}

// SavePrefs replaces the preferences.
func (p *Profile) SavePrefs(pr Prefs) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Rewriting prefs.json drops the UI fields of an old one: keep them
	// in their own file first.
	if err := p.persistLegacyUIState(); err != nil {
		return err
	}
	old := p.prefs.Prefs
	p.prefs.Prefs = pr
	if err := p.save(prefsFile, &p.prefs); err != nil {
		p.prefs.Prefs = old
		return err
	}
	return nil
}

// UIState returns a copy of what the UI last stored with SetUIState (nil if
// nothing). Account does not interpret it; it only keeps it in the profile
// folder, so the folder (and a portable stick) holds everything.
//
// Until the UI stores its state for the first time, UIState returns the
// UI fields of a prefs.json written before the split (Theme, WindowW,
// WindowH, OpenChats, under those names), so an upgrade keeps them once.
func (p *Profile) UIState() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.ui)
}

// SetUIState replaces the UI's state (at most 16 MiB) in its own file,
// written atomically with mode 0600.
func (p *Profile) SetUIState(b []byte) error {
	if len(b) > maxProfileFile {
		return fmt.Errorf("account: UI state of %d bytes is too large", len(b))
	}
	b = slices.Clone(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := atomicfile.Write(filepath.Join(p.Dir, uiStateFile), b); err != nil {
		return fmt.Errorf("account: save %s: %w", uiStateFile, err)
	}
	p.ui, p.uiLegacy = b, false
	return nil
}

// loadUIState reads the UI's file, or failing that the UI fields of an old
// prefs.json (which must be loaded already, so a damaged one is gone).
func (p *Profile) loadUIState() error {
	path := filepath.Join(p.Dir, uiStateFile)
	data, err := readProfileFile(path)
	if err != nil {
		return err
	}
	if len(data) > maxProfileFile {
		moved, err := atomicfile.MoveAside(path)
		if err != nil {
			return fmt.Errorf("account: %s is too large and could not be moved aside: %w", uiStateFile, err)
		}
		return &CorruptFileError{Path: path, MovedTo: moved, Err: errors.New("file too large")}
	}
	if data != nil {
		p.ui = data
		return nil
	}
	p.ui = legacyUIState(filepath.Join(p.Dir, prefsFile))
	p.uiLegacy = p.ui != nil
	return nil
}

// legacyUIState returns the fields of an old prefs.json's Prefs object
// other than account's own (PlainHistory, and the DefaultPolicy no longer
// used), as a JSON object; nil if there are none.
func legacyUIState(path string) []byte {
	data, err := readProfileFile(path)
	if err != nil || data == nil {
		return nil
	}
	var doc struct{ Prefs map[string]json.RawMessage }
	if json.Unmarshal(data, &doc) != nil {
		return nil
	}
	delete(doc.Prefs, "PlainHistory")
	delete(doc.Prefs, "DefaultPolicy")
	delete(doc.Prefs, "HideVersion")
	delete(doc.Prefs, "NoTypingOrReceipts")
	if len(doc.Prefs) == 0 {
		return nil
	}
	b, err := json.Marshal(doc.Prefs)
	if err != nil {
		return nil
	}
	return b
}

// persistLegacyUIState writes UI state taken from an old prefs.json to its
// own file; the caller holds p.mu.
func (p *Profile) persistLegacyUIState() error {
	if !p.uiLegacy {
		return nil
	}
	if err := atomicfile.Write(filepath.Join(p.Dir, uiStateFile), p.ui); err != nil {
		return fmt.Errorf("account: save %s: %w", uiStateFile, err)
	}
	p.uiLegacy = false
	return nil
}

// CertPin returns the pinned server certificate (SHA-256, lower-case hex)
// for an account, or "".
func (p *Profile) CertPin(account string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pins.Pins[account]
}

// SetCertPin pins the SHA-256 (64 hex digits) of an account's server
// certificate; "" removes the pin.
func (p *Profile) SetCertPin(account, sha256hex string) error {
	if account == "" {
		return errors.New("account: a certificate pin needs an account")
	}
	pin := strings.ToLower(strings.ReplaceAll(sha256hex, ":", ""))
	if b, err := hex.DecodeString(pin); pin != "" && (err != nil || len(b) != 32) {
		return fmt.Errorf("account: certificate pin %q is not a SHA-256 in hex", sha256hex)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old, had := p.pins.Pins[account]
	if pin == "" {
		delete(p.pins.Pins, account)
	} else {
		p.pins.Pins[account] = pin
	}
	if err := p.save(certPinsFile, &p.pins); err != nil {
		if had {
			p.pins.Pins[account] = old
		} else {
			delete(p.pins.Pins, account)
		}
		return err
	}
	return nil
}
