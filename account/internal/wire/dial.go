package wire

// Connecting one account: dial, TLS (STARTTLS or direct), certificate
// check (system roots, else a pinned certificate, else ask the user),
// SASL. The resource binding is in bind.go.

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stream"

	"github.com/sotto-im/sotto/account/internal/sm"
)

// LoginTimeout bounds dial + TLS + SASL + bind.
const LoginTimeout = 30 * time.Second

// DefaultResource is the resource bound when Params.Resource is empty.
const DefaultResource = "sotto"

// Params is everything Dial needs.
type Params struct {
	JID           string // bare JID of the account
	Resource      string // "" = DefaultResource
	Server        string // host to dial, "" = found through DNS SRV (srv.go)
	Port          int    // 0 = 5222, or 5223 with DirectTLS; set = no SRV lookup
	DirectTLS     bool   // TLS from the first byte (XEP-0368) instead of STARTTLS
	AllowInsecure bool   // log in without TLS if the server refuses it (never with PLAIN)
	Password      string
	Dial          func(ctx context.Context, network, addr string) (net.Conn, error)
	Roots         *x509.CertPool // nil = system roots
	Pin           string         // pinned SHA-256 hex of the server's certificate, "" = none
	// Resolver looks up SRV records and host addresses; nil = the
	// system's. Never used with a Proxy.
	Resolver *net.Resolver
	// Proxy, when set, carries the connection (proxy.go); the server's
	// name is resolved by the proxy.
	Proxy *Proxy
	// SM is the account's XEP-0198 state across connections: nil = no
	// stream management; else resume its stream if it can, or enable a
	// new one (BindFeature).
	SM *sm.Stream
}

// CertProblem is a server certificate the user has to decide about.
type CertProblem struct {
	Fingerprint string // SHA-256 of the leaf, lower-case hex
	Subject     string
	Changed     bool // a different certificate was pinned
}

func (p *CertProblem) Error() string {
	if p.Changed {
		return "account: the server's certificate changed since you last trusted it; this can mean someone is intercepting the connection"
	}
	return "account: the server's certificate is not trusted by this system; check its fingerprint before trusting it"
}

// AuthError is a failed SASL exchange (or no password to try): retrying
// with the same password will not help.
type AuthError struct{ Err error }

func (e *AuthError) Error() string {
	return fmt.Sprintf("account: the server refused the password (%v)", e.Err)
}
func (e *AuthError) Unwrap() error { return e.Err }

// NoTLSError: the server refused STARTTLS. Retrying will not help. mellium
// asks for STARTTLS even when the server does not advertise it (RFC 7590
// downgrade protection), so a refusal ends the login whatever
// Params.AllowInsecure says.
type NoTLSError struct{ Err error }

func (e *NoTLSError) Error() string {
	return fmt.Sprintf("account: the server refused to encrypt the connection (STARTTLS failed: %v); Sotto does not log in without encryption", e.Err)
}
func (e *NoTLSError) Unwrap() error { return e.Err }

// Dial logs in and returns a ready session (resource bound) and the raw
// connection under it (closing that never blocks, unlike a TLS close that
// first tries to send close_notify). On a certificate problem the error is
// a *CertProblem, on a refused password an *AuthError, on a refused
// STARTTLS a *NoTLSError, when the server cannot be reached a *ReachError.
func Dial(ctx context.Context, p Params) (*xmpp.Session, net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, LoginTimeout)
	defer cancel()
	origin, err := jid.Parse(p.JID)
	if err != nil || origin.Localpart() == "" {
		return nil, nil, fmt.Errorf("account: %q is not a valid address", p.JID)
	}
	res := p.Resource
	if res == "" {
		res = DefaultResource
	}
	if origin, err = origin.Bare().WithResource(res); err != nil {
		return nil, nil, fmt.Errorf("account: resource %q is not valid: %w", res, err)
	}
	conn, rw, features, problem, err := open(ctx, p, origin)
	if err != nil {
		return nil, nil, err
	}
	features = append(features, saslFeature(p.Password, p.AllowInsecure), BindFeature(res, p.SM))
	if p.SM != nil {
		features = append(features, sm.Feature())
	}
	// The deadline covers the whole negotiation, including a server that
	// stops answering halfway; it is cleared once the session is ready.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// The context given to mellium must not end when Dial returns: its
	// watcher goroutine could then still set a past deadline on the fresh
	// session's conn (see account's client.write). Cancelling the login
	// closes the conn instead; the deadline above bounds it.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	sess, err := xmpp.NewClientSession(context.WithoutCancel(ctx), origin, rw, features...)
	if !stop() && err == nil {
		conn.Close()
		return nil, nil, fmt.Errorf("account: logging in failed: %w", ctx.Err())
	}
	if err != nil {
		conn.Close()
		var ae *AuthError
		var nt *NoTLSError
		switch {
		case *problem != nil:
			return nil, nil, *problem
		case errors.As(err, &ae):
			return nil, nil, ae
		case errors.As(err, &nt):
			return nil, nil, nt
		}
		return nil, nil, fmt.Errorf("account: logging in failed: %w", err)
	}
	_ = conn.SetDeadline(time.Time{})
	if sess.State()&xmpp.Secure == 0 && !p.AllowInsecure {
		// Unreachable with the features above (SASL needs TLS), but the
		// rule matters enough to check twice.
		sess.Close()
		conn.Close()
		return nil, nil, errors.New("account: the server does not offer encryption")
	}
	return sess, conn, nil
}

// open finds the server, connects, and does direct TLS or prepares
// STARTTLS (the first of the returned features). *problem is set when
// the certificate is refused during a STARTTLS handshake still to come.
func open(ctx context.Context, p Params, origin jid.JID) (net.Conn, io.ReadWriter, []xmpp.StreamFeature, **CertProblem, error) {
	ts, err := targets(ctx, p, origin)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	conn, where, err := dialTargets(ctx, p, origin, ts)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	problem := new(*CertProblem)
	// The certificate must name the JID's domain (RFC 6120 §13.7.2.1),
	// whatever host DNS or the user pointed us at.
	cfg := tlsConfig(origin.Domainpart(), p.Roots, p.Pin, problem)
	rw, features, err := tlsStage(ctx, conn, where.direct, cfg)
	if err != nil {
		conn.Close()
		if *problem != nil {
			return nil, nil, nil, nil, *problem
		}
		return nil, nil, nil, nil, err
	}
	return conn, rw, features, problem, nil
}

// tlsStage does direct TLS now (XEP-0368), or returns STARTTLS as the
// first stream feature.
func tlsStage(ctx context.Context, conn net.Conn, direct bool, cfg *tls.Config) (io.ReadWriter, []xmpp.StreamFeature, error) {
	if !direct {
		return conn, []xmpp.StreamFeature{startTLS(cfg)}, nil
	}
	cfg.NextProtos = []string{"xmpp-client"}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, nil, fmt.Errorf("account: TLS with the server failed: %w", err)
	}
	return tc, nil, nil
}

// startTLS is mellium's STARTTLS (which also tries it when the server does
// not advertise it, RFC 7590 downgrade protection) with a refusal marked
// as a NoTLSError.
func startTLS(cfg *tls.Config) xmpp.StreamFeature {
	f := xmpp.StartTLS(cfg)
	neg := f.Negotiate
	f.Negotiate = func(ctx context.Context, s *xmpp.Session, data interface{}) (xmpp.SessionState, io.ReadWriter, error) {
		mask, rw, err := neg(ctx, s, data)
		if err != nil && !isNetErr(err) {
			err = &NoTLSError{Err: err}
		}
		return mask, rw, err
	}
	return f
}

// serverAddr is host:port to dial without DNS SRV (srv.go says when):
// the manual server, else the JID's domain.
func serverAddr(p Params, origin jid.JID) string {
	host := p.Server
	if host == "" {
		host = origin.Domainpart()
	}
	port := p.Port
	if port == 0 {
		port = 5222
		if p.DirectTLS {
			port = 5223
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// tlsConfig verifies the certificate for domain against roots (system
// roots when nil); a certificate that fails is accepted only if its
// SHA-256 equals pin. Otherwise *problem is set and the handshake fails.
//
// We verify ourselves (InsecureSkipVerify + VerifyConnection) only to
// learn the fingerprint of a certificate we reject; the chain and name
// checks are the standard library's.
func tlsConfig(domain string, roots *x509.CertPool, pin string, problem **CertProblem) *tls.Config {
	return &tls.Config{
		ServerName:         domain,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // verified in VerifyConnection below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("account: server sent no certificate")
			}
			leaf := cs.PeerCertificates[0]
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, verr := leaf.Verify(x509.VerifyOptions{DNSName: domain, Roots: roots, Intermediates: inter})
			if verr == nil {
				return nil
			}
			fp := CertFingerprint(leaf.Raw)
			if pin != "" && fp == pin {
				return nil
			}
			*problem = &CertProblem{Fingerprint: fp, Subject: leaf.Subject.String(), Changed: pin != ""}
			return *problem
		},
	}
}

// CertFingerprint is the SHA-256 of a DER certificate in lower-case hex,
// the form Params.Pin and CertProblem use.
func CertFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// saslFeature offers SCRAM (with channel binding first) and PLAIN, and
// marks any failure of the exchange itself as an AuthError. mellium only
// negotiates SASL on a secure stream; with allowInsecure we lift that but
// drop PLAIN, so a password never crosses the network in the clear.
func saslFeature(password string, allowInsecure bool) xmpp.StreamFeature {
	secure := xmpp.SASL("", password, sasl.ScramSha256Plus, sasl.ScramSha1Plus,
		sasl.ScramSha256, sasl.ScramSha1, sasl.Plain)
	// On TLS 1.3 mellium binds the channel with tls-exporter (RFC 9266),
	// which servers older than the type itself do not know: ejabberd
	// 23.01 offers SCRAM-SHA-1-PLUS and then fails it ("Invalid channel
	// binding"), seen in TestEjabberdPrivateConversation. Without XEP-0440
	// (which tells the binding types a server supports) we cannot tell
	// in advance, so on TLS 1.3 we use SCRAM without channel binding. The
	// trade-off: channel binding guards against a man in the middle who
	// holds a certificate we accept; we already verify the certificate
	// against the JID's domain (or a pin), which is the main defence.
	secure13 := xmpp.SASL("", password, sasl.ScramSha256, sasl.ScramSha1, sasl.Plain)
	insecure := xmpp.SASL("", password, sasl.ScramSha256, sasl.ScramSha1)
	f := secure
	if allowInsecure {
		f.Necessary &^= xmpp.Secure
	}
	f.Negotiate = func(ctx context.Context, s *xmpp.Session, data interface{}) (xmpp.SessionState, io.ReadWriter, error) {
		neg := secure.Negotiate
		if s.ConnectionState().Version >= tls.VersionTLS13 {
			neg = secure13.Negotiate
		}
		if s.State()&xmpp.Secure == 0 {
			if !allowInsecure {
				return 0, nil, errors.New("account: the server does not offer encryption")
			}
			neg = insecure.Negotiate
		}
		mask, rw, err := neg(ctx, s, data)
		if err != nil && !isNetErr(err) {
			err = &AuthError{Err: err}
		}
		return mask, rw, err
	}
	return f
}

// isNetErr tells transport trouble (retry later) from a SASL refusal. A
// stream cut in the middle of the exchange reaches us as an XML syntax
// error ("unexpected EOF" from the token decoder): that is the link, not
// the password, and taking it for a refusal stopped reconnecting for good
// (TestLinkCutsThousandMessagesNoLoss: a reset during the login).
//
// A stream error (the server shutting down, or restarting: system-shutdown)
// is not a refusal either: SASL refuses with <failure/>, never with a
// stream error. Taken for one, it too stopped reconnecting.
func isNetErr(err error) bool {
	var ne net.Error
	var se *xml.SyntaxError
	var sterr stream.Error
	return errors.As(err, &ne) || errors.As(err, &se) || errors.As(err, &sterr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, net.ErrClosed)
}
