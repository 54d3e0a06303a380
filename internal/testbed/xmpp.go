package testbed

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
)

// XMPP is what tests need of a test-bed server, Prosody (Server) or
// ejabberd (Ejabberd), so one test body can run against both.
type XMPP interface {
	// Name is "prosody" or "ejabberd".
	Name() string
	// AddUser registers name on the server's main domain with a random
	// password and returns the bare JID and the password.
	AddUser(t testing.TB, name string) (jid, password string)
	Addr() string          // STARTTLS c2s, 127.0.0.1:port
	DirectTLSAddr() string // direct TLS c2s (XEP-0368)
	Domain() string
	CertPEM() []byte
	CertPool() *x509.CertPool
	// TLSConfig trusts the server's certificate for its domain.
	TLSConfig() *tls.Config
	// StanzaLog holds every stanza the server received or sent so far,
	// as the server itself logged it.
	StanzaLog() string
	// Flush returns once every stanza handled before the call is in
	// StanzaLog (the sentinel for proofs of absence).
	Flush(t testing.TB)
}

// Flush: Prosody writes its log before it handles the next stanza, so
// everything it handled is in the file already.
func (s *Server) Flush(t testing.TB) {}

// Name is "prosody".
func (s *Server) Name() string { return "prosody" }

var _ XMPP = (*Server)(nil)
