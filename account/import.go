package account

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sotto-im/sotto/account/internal/pidgin"
	"github.com/sotto-im/sotto/otr"
	"github.com/sotto-im/sotto/secret"
)

// DefaultPidginDir is where Pidgin keeps its files: ~/.purple, or
// %APPDATA%\.purple on Windows.
func DefaultPidginDir() (string, error) { return pidgin.DefaultDir() }

// ImportPidgin brings a Pidgin profile (dir, e.g. ~/.purple) into Sotto:
// its XMPP accounts (without passwords, which Pidgin keeps in plain text
// and we never read), their OTR private keys into the secret.Store, and the
// contacts' known fingerprints with their trust. Accounts already set up
// are left as they are, and so is a key we already hold for an account: an
// import never replaces an identity the user's contacts may have verified.
// It returns the accounts it added.
func (m *Manager) ImportPidgin(ctx context.Context, dir string) ([]Settings, error) {
	imp, err := pidgin.Read(dir)
	if err != nil {
		return nil, err
	}
	var added []Settings
	var errs []error
	for _, a := range imp.Accounts {
		s := pidginSettings(a)
		if slices.ContainsFunc(m.profile.Accounts(), func(a Settings) bool { return a.JID == s.JID }) {
			continue
		}
		if err := m.AddAccount(ctx, s, ""); err != nil {
			errs = append(errs, err)
			continue
		}
		added = append(added, s)
	}
	for jid, k := range imp.Keys {
		errs = append(errs, m.importKey(ctx, jid, k))
	}
	for _, f := range imp.Fingerprints {
		if err := m.profile.SetFingerprint(pidginFingerprint(f)); err != nil {
			errs = append(errs, err)
		}
	}
	return added, errors.Join(errs...)
}

// importKey stores k as jid's OTR key unless one is already stored.
func (m *Manager) importKey(ctx context.Context, jid string, k *otr.PrivateKey) error {
	old, err := m.secrets.Get(ctx, otrKeyName(jid))
	if err == nil {
		clear(old)
		return nil
	}
	if !errors.Is(err, secret.ErrNotFound) {
		return fmt.Errorf("account: reading the private key of %s: %w", jid, err)
	}
	b := otr.FormatPrivateKeys([]otr.AccountKey{{Account: jid, Protocol: "prpl-jabber", Key: k}})
	defer clear(b)
	if err := m.secrets.Set(ctx, otrKeyName(jid), b); err != nil {
		return fmt.Errorf("account: saving the imported key of %s: %w", jid, err)
	}
	return nil
}

// pidginSettings is an imported account; what Pidgin's files do not say
// gets Sotto's defaults (Policy Opportunistic, AllowInsecure off).
func pidginSettings(a pidgin.Account) Settings {
	return Settings{JID: a.JID, Resource: a.Resource, Server: a.Server, Port: a.Port,
		DirectTLS: a.DirectTLS, AutoConnect: a.AutoConnect, Policy: Opportunistic}
}

func pidginFingerprint(f pidgin.Fingerprint) KnownFingerprint {
	return KnownFingerprint{Account: f.Account, Contact: f.Contact, Fingerprint: f.Fingerprint,
		Verified: f.Verified, How: f.How}
}
