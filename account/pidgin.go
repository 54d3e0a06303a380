package account

// Import from Pidgin (libpurple + pidgin-otr): XMPP accounts from
// accounts.xml, OTR keys from otr.private_key and known fingerprints from
// otr.fingerprints. Only prpl-jabber entries are taken. Pidgin keeps
// passwords in plain text in accounts.xml; we never read them (the user
// types the password again and it goes to the SecretStore).

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/sotto-im/sotto/otr"
)

const (
	pidginJabber  = "prpl-jabber"
	maxPidginFile = 16 << 20
)

// PidginImport is what ImportPidgin found. Nothing is stored until the
// caller saves it (Profile.SaveAccount, SetFingerprint; keys to the
// SecretStore).
type PidginImport struct {
	Accounts []Settings
	// Keys are the OTR private keys by bare JID. Each was checked to be a
	// consistent DSA key (y = g^x); its fingerprint is computed from the key
	// itself, never taken from a file.
	Keys map[string]*otr.PrivateKey
	// Fingerprints are the contacts' known keys. Pidgin's "smp" trust is
	// kept as How "smp", "verified" as "manual", any other non-empty trust
	// (which libotr treats as trusted) as "imported".
	Fingerprints []KnownFingerprint
	// Notes are plain-language remarks for the user: entries skipped and
	// settings not carried over. They never contain secrets.
	Notes []string
}

// DefaultPidginDir is where Pidgin keeps its files: ~/.purple, or
// %APPDATA%\.purple on Windows.
func DefaultPidginDir() (string, error) {
	if runtime.GOOS == "windows" {
		if d := os.Getenv("APPDATA"); d != "" {
			return filepath.Join(d, ".purple"), nil
		}
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("account: no home directory: %w", err)
	}
	return filepath.Join(h, ".purple"), nil
}

// ImportPidgin reads Pidgin's files in dir. Missing files are fine (a user
// may have no OTR keys), but at least one must exist. A file that cannot be
// parsed at all is an error; single bad entries are skipped with a Note.
func ImportPidgin(dir string) (PidginImport, error) {
	imp := PidginImport{Keys: map[string]*otr.PrivateKey{}}
	found := 0
	steps := []struct {
		name  string
		parse func(*PidginImport, []byte) error
	}{
		{"accounts.xml", (*PidginImport).addAccounts},
		{"otr.private_key", (*PidginImport).addKeys},
		{"otr.fingerprints", (*PidginImport).addFingerprints},
	}
	for _, s := range steps {
		data, err := readSmallFile(filepath.Join(dir, s.name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return PidginImport{}, fmt.Errorf("account: import from Pidgin: %w", err)
		}
		found++
		err = s.parse(&imp, data)
		clear(data) // accounts.xml holds plain-text passwords
		if err != nil {
			return PidginImport{}, fmt.Errorf("account: import from Pidgin: %s: %w", s.name, err)
		}
	}
	if found == 0 {
		return PidginImport{}, fmt.Errorf("account: no Pidgin data in %s (looked for accounts.xml, otr.private_key, otr.fingerprints)", dir)
	}
	return imp, nil
}

func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPidginFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxPidginFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", filepath.Base(path), maxPidginFile)
	}
	return data, nil
}

// splitPidginName turns Pidgin's "user@domain/Resource" (or "user@domain/")
// into the bare JID and the resource.
func splitPidginName(name string) (bare, resource string) {
	bare, resource, _ = strings.Cut(strings.TrimSpace(name), "/")
	return bare, resource
}

// accounts.xml, as libpurple writes it: <account version='1.0'> holding
// one <account> per account (old Gaim used <accounts>; the root name is not
// checked). The <password> element is deliberately not mapped.
type (
	pidginAccountsXML struct {
		Accounts []pidginAccountXML `xml:"account"`
	}
	pidginAccountXML struct {
		Protocol string              `xml:"protocol"`
		Name     string              `xml:"name"`
		Settings []pidginSettingsXML `xml:"settings"`
	}
	pidginSettingsXML struct {
		UI      string `xml:"ui,attr"`
		Setting []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:",chardata"`
		} `xml:"setting"`
	}
)

// settings returns the protocol settings (ui == "") or one UI's settings.
func (a pidginAccountXML) settings(ui string) map[string]string {
	m := map[string]string{}
	for _, s := range a.Settings {
		if s.UI != ui {
			continue
		}
		for _, kv := range s.Setting {
			m[kv.Name] = strings.TrimSpace(kv.Value)
		}
	}
	return m
}

func (imp *PidginImport) addAccounts(data []byte) error {
	var doc pidginAccountsXML
	if err := xml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("not a Pidgin accounts file: %w", err)
	}
	seen := map[string]bool{}
	for _, a := range doc.Accounts {
		if strings.TrimSpace(a.Protocol) != pidginJabber {
			continue
		}
		s, ok := imp.convertAccount(a)
		if !ok {
			continue
		}
		if seen[s.JID] {
			imp.note("%s appears twice in accounts.xml; the first entry was imported", s.JID)
			continue
		}
		seen[s.JID] = true
		imp.Accounts = append(imp.Accounts, s)
	}
	return nil
}

// convertAccount maps one prpl-jabber account onto Settings.
//
// Pidgin's connection_security is "require_starttls" (2.x) or
// "require_tls" (3.x), "opportunistic_tls" or "old_ssl" (direct TLS);
// accounts older than that setting have the booleans old_ssl/require_tls.
// "opportunistic_tls" and auth_plain_in_clear are NOT carried over: Sotto
// never falls back to an unencrypted connection unless the user opts in
// explicitly, and an import is not an explicit choice.
func (imp *PidginImport) convertAccount(a pidginAccountXML) (Settings, bool) {
	bare, res := splitPidginName(a.Name)
	if err := checkBareJID("account", bare); err != nil {
		imp.note("skipped XMPP account %q: not an address like user@example.org", a.Name)
		return Settings{}, false
	}
	ps := a.settings("")
	s := Settings{JID: bare, Resource: res, Server: ps["connect_server"], Policy: Opportunistic}
	switch sec := ps["connection_security"]; {
	case sec == "old_ssl", sec == "" && ps["old_ssl"] == "1":
		s.DirectTLS = true
	case sec == "opportunistic_tls", sec == "" && ps["require_tls"] == "0", ps["auth_plain_in_clear"] == "1":
		imp.note("%s: Pidgin allowed an unencrypted connection; Sotto requires TLS (you can change this in the account settings)", bare)
	}
	if p := ps["port"]; p != "" {
		n, err := strconv.Atoi(p)
		switch {
		case err != nil || n <= 0 || n > 65535:
			imp.note("%s: ignored port %q", bare, p)
		case s.DirectTLS && n == 5223, !s.DirectTLS && n == 5222:
			// the default for the mode: leave 0
		default:
			s.Port = n
		}
	}
	s.AutoConnect = a.settings("gtk-gaim")["auto-login"] == "1"
	return s, true
}

func (imp *PidginImport) addKeys(data []byte) error {
	keys, err := otr.ParsePrivateKeys(data)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Protocol != pidginJabber || k.Key == nil {
			continue
		}
		bare, _ := splitPidginName(k.Account)
		if checkBareJID("account", bare) != nil {
			imp.note("skipped the OTR key of %q: not an address like user@example.org", k.Account)
			continue
		}
		if _, dup := imp.Keys[bare]; dup {
			// Pidgin keys accounts by full name, so two resources of one
			// JID can have two keys; Sotto has one key per bare JID.
			imp.note("%s has more than one OTR key in Pidgin; the first one (%s) was imported",
				bare, imp.Keys[bare].Fingerprint())
			continue
		}
		imp.Keys[bare] = k.Key
	}
	return nil
}

func (imp *PidginImport) addFingerprints(data []byte) error {
	entries, err := otr.ParseFingerprints(data)
	if err != nil {
		if len(entries) == 0 && len(strings.TrimSpace(string(data))) > 0 {
			return err
		}
		imp.note("some lines of otr.fingerprints could not be read and were skipped (%v)", err)
	}
	seen := map[[3]string]bool{}
	for _, e := range entries {
		if e.Protocol != pidginJabber {
			continue
		}
		acct, _ := splitPidginName(e.Account)
		contact, _ := splitPidginName(e.Remote)
		if checkBareJID("account", acct) != nil || checkBareJID("contact", contact) != nil {
			imp.note("skipped a fingerprint of %q for %q: not XMPP addresses", e.Remote, e.Account)
			continue
		}
		k := KnownFingerprint{Account: acct, Contact: contact, Fingerprint: e.Fingerprint.String(),
			Verified: e.Trusted(), How: pidginHow(e.Trust)}
		id := [3]string{acct, contact, k.Fingerprint}
		if seen[id] {
			continue
		}
		seen[id] = true
		imp.Fingerprints = append(imp.Fingerprints, k)
	}
	return nil
}

// pidginHow maps pidgin-otr's trust string onto KnownFingerprint.How.
func pidginHow(trust string) string {
	switch trust {
	case "":
		return ""
	case "smp":
		return "smp"
	case "verified":
		return "manual"
	default:
		return "imported"
	}
}

func (imp *PidginImport) note(format string, args ...any) {
	imp.Notes = append(imp.Notes, fmt.Sprintf(format, args...))
}
