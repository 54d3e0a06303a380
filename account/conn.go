package account

// Connecting one account: dial, TLS (STARTTLS or direct), certificate
// check (system roots, else a pinned certificate, else ask the user),
// SASL, and our own resource binding.

import (
	"bytes"
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
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
)

// loginTimeout bounds dial + TLS + SASL + bind.
const loginTimeout = 30 * time.Second

// defaultResource is used when Settings.Resource is empty.
const defaultResource = "sotto"

// certProblem is a server certificate the user has to decide about.
type certProblem struct {
	fingerprint string // SHA-256 of the leaf, lower-case hex
	subject     string
	changed     bool // a different certificate was pinned
}

func (p *certProblem) Error() string {
	if p.changed {
		return "account: the server's certificate changed since you last trusted it; this can mean someone is intercepting the connection"
	}
	return "account: the server's certificate is not trusted by this system; check its fingerprint before trusting it"
}

// authError is a failed SASL exchange: retrying with the same password
// will not help.
type authError struct{ err error }

func (e *authError) Error() string {
	return fmt.Sprintf("account: the server refused the password (%v)", e.err)
}
func (e *authError) Unwrap() error { return e.err }

// dialParams is everything connect needs; a value so that TestConnection
// can connect without an account loop.
type dialParams struct {
	settings Settings
	password string
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	roots    *x509.CertPool // nil = system roots
	pin      string         // pinned SHA-256 hex, "" = none
}

// connect logs in and returns a ready session (resource bound) and the
// raw connection under it (closing that never blocks, unlike a TLS close
// that first tries to send close_notify). On a certificate problem the
// error is a *certProblem, on a refused password an *authError.
func connect(ctx context.Context, p dialParams) (*xmpp.Session, net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	s := p.settings
	origin, err := jid.Parse(s.JID)
	if err != nil || origin.Localpart() == "" {
		return nil, nil, fmt.Errorf("account: %q is not a valid address", s.JID)
	}
	res := s.Resource
	if res == "" {
		res = defaultResource
	}
	if origin, err = origin.Bare().WithResource(res); err != nil {
		return nil, nil, fmt.Errorf("account: resource %q is not valid: %w", res, err)
	}
	conn, err := p.dial(ctx, "tcp", serverAddr(s, origin))
	if err != nil {
		return nil, nil, fmt.Errorf("account: cannot reach the server: %w", err)
	}
	var problem *certProblem
	cfg := tlsConfig(origin.Domainpart(), p.roots, p.pin, &problem)
	rw, features, err := tlsStage(ctx, conn, s.DirectTLS, cfg)
	if err != nil {
		conn.Close()
		if problem != nil {
			return nil, nil, problem
		}
		return nil, nil, err
	}
	features = append(features, saslFeature(p.password, s.AllowInsecure), bindFeature(res))
	// The deadline covers the whole negotiation, including a server that
	// stops answering halfway; it is cleared once the session is ready.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// The context given to mellium must not end when connect returns: its
	// watcher goroutine could then still set a past deadline on the fresh
	// session's conn (see client.write). Cancelling the login closes the
	// conn instead; the deadline above bounds it.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	sess, err := xmpp.NewClientSession(context.WithoutCancel(ctx), origin, rw, features...)
	if !stop() && err == nil {
		conn.Close()
		return nil, nil, fmt.Errorf("account: logging in failed: %w", ctx.Err())
	}
	if err != nil {
		conn.Close()
		var ae *authError
		var nt *noTLSError
		switch {
		case problem != nil:
			return nil, nil, problem
		case errors.As(err, &ae):
			return nil, nil, ae
		case errors.As(err, &nt):
			return nil, nil, nt
		}
		return nil, nil, fmt.Errorf("account: logging in failed: %w", err)
	}
	_ = conn.SetDeadline(time.Time{})
	if sess.State()&xmpp.Secure == 0 && !s.AllowInsecure {
		// Unreachable with the features above (SASL needs TLS), but the
		// rule matters enough to check twice.
		sess.Close()
		conn.Close()
		return nil, nil, errors.New("account: the server does not offer encryption")
	}
	return sess, conn, nil
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

// noTLSError: the server refused STARTTLS. Retrying will not help. mellium
// asks for STARTTLS even when the server does not advertise it (RFC 7590
// downgrade protection), so a refusal ends the login whatever
// Settings.AllowInsecure says.
type noTLSError struct{ err error }

func (e *noTLSError) Error() string {
	return fmt.Sprintf("account: the server refused to encrypt the connection (STARTTLS failed: %v); Sotto does not log in without encryption", e.err)
}
func (e *noTLSError) Unwrap() error { return e.err }

// startTLS is mellium's STARTTLS (which also tries it when the server does
// not advertise it, RFC 7590 downgrade protection) with a refusal marked
// as a noTLSError.
func startTLS(cfg *tls.Config) xmpp.StreamFeature {
	f := xmpp.StartTLS(cfg)
	neg := f.Negotiate
	f.Negotiate = func(ctx context.Context, s *xmpp.Session, data interface{}) (xmpp.SessionState, io.ReadWriter, error) {
		mask, rw, err := neg(ctx, s, data)
		if err != nil && !isNetErr(err) {
			err = &noTLSError{err: err}
		}
		return mask, rw, err
	}
	return f
}

// serverAddr is host:port to dial.
func serverAddr(s Settings, origin jid.JID) string {
	host := s.Server
	if host == "" {
		host = origin.Domainpart()
	}
	port := s.Port
	if port == 0 {
		port = 5222
		if s.DirectTLS {
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
func tlsConfig(domain string, roots *x509.CertPool, pin string, problem **certProblem) *tls.Config {
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
			*problem = &certProblem{fingerprint: fp, subject: leaf.Subject.String(), changed: pin != ""}
			return *problem
		},
	}
}

// CertFingerprint is the SHA-256 of a DER certificate in lower-case hex,
// the form TrustCertificate and CertificateQuestion use.
func CertFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// saslFeature offers SCRAM (with channel binding first) and PLAIN, and
// marks any failure of the exchange itself as an authError. mellium only
// negotiates SASL on a secure stream; with AllowInsecure we lift that but
// drop PLAIN, so a password never crosses the network in the clear.
func saslFeature(password string, allowInsecure bool) xmpp.StreamFeature {
	secure := xmpp.SASL("", password, sasl.ScramSha256Plus, sasl.ScramSha1Plus,
		sasl.ScramSha256, sasl.ScramSha1, sasl.Plain)
	insecure := xmpp.SASL("", password, sasl.ScramSha256, sasl.ScramSha1)
	f := secure
	if allowInsecure {
		f.Necessary &^= xmpp.Secure
	}
	f.Negotiate = func(ctx context.Context, s *xmpp.Session, data interface{}) (xmpp.SessionState, io.ReadWriter, error) {
		neg := secure.Negotiate
		if s.State()&xmpp.Secure == 0 {
			if !allowInsecure {
				return 0, nil, errors.New("account: the server does not offer encryption")
			}
			neg = insecure.Negotiate
		}
		mask, rw, err := neg(ctx, s, data)
		if err != nil && !isNetErr(err) {
			err = &authError{err: err}
		}
		return mask, rw, err
	}
	return f
}

// isNetErr tells transport trouble (retry later) from a SASL refusal.
func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, net.ErrClosed)
}

// bindFeature binds the resource we ask for. mellium's BindResource sends
// an empty <resource/> (FACTS.md), so the server would pick a random one;
// OTR sessions are per full JID, so the name must be stable across
// reconnects. RFC 6120 §7.
func bindFeature(resource string) xmpp.StreamFeature {
	return xmpp.StreamFeature{
		Name:       xml.Name{Space: "urn:ietf:params:xml:ns:xmpp-bind", Local: "bind"},
		Necessary:  xmpp.Authn,
		Prohibited: xmpp.Ready,
		Parse: func(ctx context.Context, d *xml.Decoder, start *xml.StartElement) (bool, interface{}, error) {
			return true, nil, d.Skip()
		},
		Negotiate: func(ctx context.Context, s *xmpp.Session, _ interface{}) (xmpp.SessionState, io.ReadWriter, error) {
			return negotiateBind(ctx, s, resource)
		},
	}
}

type bindIQ struct {
	XMLName xml.Name `xml:"iq"`
	ID      string   `xml:"id,attr"`
	Type    string   `xml:"type,attr"`
	Bind    struct {
		XMLName  xml.Name `xml:"urn:ietf:params:xml:ns:xmpp-bind bind"`
		Resource string   `xml:"resource,omitempty"`
		JID      string   `xml:"jid,omitempty"`
	}
	Error *stanzaError `xml:"error"`
}

func negotiateBind(ctx context.Context, s *xmpp.Session, resource string) (xmpp.SessionState, io.ReadWriter, error) {
	w := s.TokenWriter()
	defer w.Close()
	r := s.TokenReader()
	defer r.Close()
	req := bindIQ{ID: randomID(), Type: "set"}
	req.Bind.Resource = resource
	if err := encodeTo(w, req); err != nil {
		return 0, nil, err
	}
	d := xml.NewTokenDecoder(r)
	for {
		tok, err := d.Token()
		if err != nil {
			return 0, nil, err
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue // whitespace
		}
		var resp bindIQ
		if err := d.DecodeElement(&resp, &start); err != nil {
			return 0, nil, err
		}
		if resp.ID != req.ID {
			continue
		}
		if resp.Type != "result" {
			return 0, nil, fmt.Errorf("account: the server refused resource %q (%s)", resource, resp.Error.condition())
		}
		j, err := jid.Parse(resp.Bind.JID)
		if err != nil {
			return 0, nil, fmt.Errorf("account: server bound a bad address: %w", err)
		}
		s.UpdateAddr(j)
		return xmpp.Ready, nil, nil
	}
}

// encodeTo writes v as XML to a token writer and flushes.
func encodeTo(w xmlstream.TokenWriteFlushCloser, v interface{}) error {
	b, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := w.EncodeToken(xml.CopyToken(tok)); err != nil {
			return err
		}
	}
	return w.Flush()
}
