package pidgin

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
	jabber  = "prpl-jabber"
	maxFile = 16 << 20
)

// Account is one prpl-jabber account of accounts.xml, with the settings
// Sotto carries over.
type Account struct {
	JID      string // bare
	Resource string
	Server   string // connect_server; "" means the JID's domain
	// Port is 0 when Pidgin's port is the default of the connection mode.
	Port        int
	DirectTLS   bool
	AutoConnect bool
}

// Fingerprint is one contact key of otr.fingerprints.
type Fingerprint struct {
	Account     string // our bare JID
	Contact     string // the contact's bare JID
	Fingerprint string // 5 groups of 8 hex
	Verified    bool
	// How is "smp" for Pidgin's "smp" trust, "manual" for "verified",
	// "imported" for any other non-empty trust (which libotr treats as
	// trusted), "" for none.
	How string
}

// Import is what Read found.
type Import struct {
	Accounts []Account
	// Keys are the OTR private keys by bare JID. Each was checked to be a
	// consistent DSA key (y = g^x); its fingerprint is computed from the key
	// itself, never taken from a file.
	Keys map[string]*otr.PrivateKey
	// Fingerprints are the contacts' known keys.
	Fingerprints []Fingerprint
	// Notes are plain-language remarks for the user: entries skipped and
	// settings not carried over. They never contain secrets.
	Notes []string
}

// DefaultDir is where Pidgin keeps its files: ~/.purple, or
// %APPDATA%\.purple on Windows.
func DefaultDir() (string, error) {
	if runtime.GOOS == "windows" {
		if d := os.Getenv("APPDATA"); d != "" {
			return filepath.Join(d, ".purple"), nil
		}
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("pidgin: no home directory: %w", err)
	}
	return filepath.Join(h, ".purple"), nil
}

// Read reads Pidgin's files in dir. Missing files are fine (a user may have
// no OTR keys), but at least one must exist. A file that cannot be parsed
// at all is an error; single bad entries are skipped with a Note.
func Read(dir string) (Import, error) {
	imp := Import{Keys: map[string]*otr.PrivateKey{}}
	found := 0
	steps := []struct {
		name  string
		parse func(*Import, []byte) error
	}{
		{"accounts.xml", (*Import).addAccounts},
		{"otr.private_key", (*Import).addKeys},
		{"otr.fingerprints", (*Import).addFingerprints},
	}
	for _, s := range steps {
		data, err := readSmallFile(filepath.Join(dir, s.name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return Import{}, fmt.Errorf("pidgin: %w", err)
		}
		found++
		err = s.parse(&imp, data)
		clear(data) // accounts.xml holds plain-text passwords (best effort)
		if err != nil {
			return Import{}, fmt.Errorf("pidgin: %s: %w", s.name, err)
		}
	}
	if found == 0 {
		return Import{}, fmt.Errorf("pidgin: no Pidgin data in %s (looked for accounts.xml, otr.private_key, otr.fingerprints)", dir)
	}
	return imp, nil
}

func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", filepath.Base(path), maxFile)
	}
	return data, nil
}

// splitName turns Pidgin's "user@domain/Resource" (or "user@domain/")
// into the bare JID and the resource.
func splitName(name string) (bare, resource string) {
	bare, resource, _ = strings.Cut(strings.TrimSpace(name), "/")
	return bare, resource
}

// accounts.xml, as libpurple writes it: <account version='1.0'> holding
// one <account> per account (old Gaim used <accounts>; the root name is not
// checked). The <password> element is deliberately not mapped.
type (
	accountsXML struct {
		Accounts []accountXML `xml:"account"`
	}
	accountXML struct {
		Protocol string        `xml:"protocol"`
		Name     string        `xml:"name"`
		Settings []settingsXML `xml:"settings"`
	}
	settingsXML struct {
		UI      string `xml:"ui,attr"`
		Setting []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:",chardata"`
		} `xml:"setting"`
	}
)

// settings returns the protocol settings (ui == "") or one UI's settings.
func (a accountXML) settings(ui string) map[string]string {
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

func (imp *Import) addAccounts(data []byte) error {
	var doc accountsXML
	if err := xml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("not a Pidgin accounts file: %w", err)
	}
	seen := map[string]bool{}
	for _, a := range doc.Accounts {
		if strings.TrimSpace(a.Protocol) != jabber {
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

// convertAccount maps one prpl-jabber account onto Account.
//
// Pidgin's connection_security is "require_starttls" (2.x) or
// "require_tls" (3.x), "opportunistic_tls" or "old_ssl" (direct TLS);
// accounts older than that setting have the booleans old_ssl/require_tls.
// "opportunistic_tls" and auth_plain_in_clear are NOT carried over: Sotto
// never falls back to an unencrypted connection unless the user opts in
// explicitly, and an import is not an explicit choice.
func (imp *Import) convertAccount(a accountXML) (Account, bool) {
	bare, res := splitName(a.Name)
	if !isBareJID(bare) {
		imp.note("skipped XMPP account %q: not an address like user@example.org", a.Name)
		return Account{}, false
	}
	ps := a.settings("")
	s := Account{JID: bare, Resource: res, Server: ps["connect_server"]}
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

func (imp *Import) addKeys(data []byte) error {
	keys, err := otr.ParsePrivateKeys(data)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Protocol != jabber || k.Key == nil {
			continue
		}
		bare, _ := splitName(k.Account)
		if !isBareJID(bare) {
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

func (imp *Import) addFingerprints(data []byte) error {
	entries, err := otr.ParseFingerprints(data)
	if err != nil {
		if len(entries) == 0 && len(strings.TrimSpace(string(data))) > 0 {
			return err
		}
		imp.note("some lines of otr.fingerprints could not be read and were skipped (%v)", err)
	}
	seen := map[[3]string]bool{}
	for _, e := range entries {
		if e.Protocol != jabber {
			continue
		}
		acct, _ := splitName(e.Account)
		contact, _ := splitName(e.Remote)
		if !isBareJID(acct) || !isBareJID(contact) {
			imp.note("skipped a fingerprint of %q for %q: not XMPP addresses", e.Remote, e.Account)
			continue
		}
		k := Fingerprint{Account: acct, Contact: contact, Fingerprint: e.Fingerprint.String(),
			Verified: e.Trusted(), How: trustHow(e.Trust)}
		id := [3]string{acct, contact, k.Fingerprint}
		if seen[id] {
			continue
		}
		seen[id] = true
		imp.Fingerprints = append(imp.Fingerprints, k)
	}
	return nil
}

// trustHow maps pidgin-otr's trust string onto Fingerprint.How.
func trustHow(trust string) string {
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

func (imp *Import) note(format string, args ...any) {
	imp.Notes = append(imp.Notes, fmt.Sprintf(format, args...))
}

// isBareJID accepts user@domain without a resource or spaces: the rule
// account.Profile applies to what it stores (checkBareJID in
// account/profile.go), so an imported address is one the profile accepts.
func isBareJID(jid string) bool {
	at := strings.IndexByte(jid, '@')
	return at > 0 && at < len(jid)-1 && !strings.ContainsAny(jid, "/ \t\r\n") &&
		strings.Count(jid, "@") == 1
}
