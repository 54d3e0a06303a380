package account

// Connecting an account: its Settings as the XMPP wire's dial parameters
// (the dial itself is wire.Dial).

import "github.com/sotto-im/sotto/account/internal/wire"

// dialParams is what wire.Dial needs to log s in with password, using the
// Manager's dialer, roots and the account's pinned certificate.
func (m *Manager) dialParams(s Settings, password string) wire.Params {
	return wire.Params{
		JID: s.JID, Resource: s.Resource, Server: s.Server, Port: s.Port,
		DirectTLS: s.DirectTLS, AllowInsecure: s.AllowInsecure, Password: password,
		Dial: m.opt.dial, Roots: m.opt.roots, Pin: m.profile.CertPin(s.JID),
		Resolver: m.opt.resolver, Proxy: proxyParams(s),
	}
}

// CertFingerprint is the SHA-256 of a DER certificate in lower-case hex,
// the form TrustCertificate and CertificateQuestion use.
func CertFingerprint(der []byte) string { return wire.CertFingerprint(der) }
