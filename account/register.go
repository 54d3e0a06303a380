package account

// Creating a new account on a server (XEP-0077 in-band registration);
// the protocol is wire.Register.

import (
	"context"
	"errors"

	"github.com/sotto-im/sotto/account/internal/wire"
)

// RegisterError is a server's refusal to create an account, in plain
// words (Error). Taken: the name is in use, choose another. NotAllowed:
// the server does not let apps create accounts. NeedsMore: what its form
// asks for beyond a name and a password (e.g. "a CAPTCHA", "Email"),
// which Sotto cannot fill in.
type RegisterError = wire.RegisterError

// Register creates the account s.JID (its local part is the new user
// name) with password on the server that s leads to: the same DNS SRV,
// manual server, proxy and certificate rules as signing in, over a fresh
// encrypted connection, before any login. It saves nothing: on success
// the caller adds the account (AddAccount) and signs in. An untrusted
// certificate is reported as for TestConnection (an error and a
// CertificateQuestion event).
func (m *Manager) Register(ctx context.Context, s Settings, password string) error {
	p := m.dialParams(s, "")
	if err := m.fillProxyPassword(ctx, s, &p); err != nil {
		return err
	}
	err := wire.Register(ctx, p, password)
	var cp *wire.CertProblem
	if errors.As(err, &cp) {
		m.emit(CertificateQuestion{Account: s.JID, Fingerprint: cp.Fingerprint, Subject: cp.Subject, Changed: cp.Changed})
	}
	return err
}
