package wire

// A scripted server over net.Pipe: mellium's server side does STARTTLS
// (or direct TLS), SASL PLAIN and bind; the test reads what the client
// sends and writes what a real server would not.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
)

// selfSigned makes a certificate for localhost.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// fakeServer is the server end of one pipe connection.
type fakeServer struct {
	t        *testing.T
	sess     *xmpp.Session
	resource string      // the resource the client asked to bind
	got      chan string // every stanza the client sent, as XML
}

// serverOpts shape the fake server.
type serverOpts struct {
	direct   bool // TLS from the first byte
	password bool // false: every SASL attempt is refused
}

// pipeServer returns Params for alice@localhost whose dialer connects to a
// fake server, and a channel that yields the server once the client is
// logged in. addr receives the address Dial asked for.
func pipeServer(t *testing.T, o serverOpts) (Params, <-chan *fakeServer, *x509.CertPool, *tls.Certificate, chan string) {
	t.Helper()
	cert, pool := selfSigned(t)
	srvCh := make(chan *fakeServer, 1)
	addrs := make(chan string, 4)
	dial := func(ctx context.Context, _, addr string) (net.Conn, error) {
		addrs <- addr
		c, s := net.Pipe()
		t.Cleanup(func() { c.Close(); s.Close() })
		go func() {
			cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			fs := &fakeServer{t: t, got: make(chan string, 64)}
			var rw io.ReadWriter = s
			features := []xmpp.StreamFeature{xmpp.StartTLS(cfg)}
			if o.direct {
				cfg.NextProtos = []string{"xmpp-client"} // XEP-0368
				rw, features = tls.Server(s, cfg), nil
			}
			features = append(features,
				xmpp.SASLServer(func(*sasl.Negotiator) bool { return o.password }, sasl.Plain),
				xmpp.BindCustom(func(_ jid.JID, res string) (jid.JID, error) {
					fs.resource = res
					return jid.MustParse("alice@localhost/" + res), nil
				}))
			sess, err := xmpp.ReceiveClientSession(context.Background(), jid.MustParse("localhost"), rw, features...)
			if err != nil {
				s.Close()
				return // the client's error says why
			}
			fs.sess = sess
			go fs.read()
			srvCh <- fs
		}()
		return c, nil
	}
	p := Params{JID: "alice@localhost", Password: "pw", Dial: dial, Roots: pool, DirectTLS: o.direct}
	return p, srvCh, pool, &cert, addrs
}

// read records the client's stanzas.
func (fs *fakeServer) read() {
	r := fs.sess.TokenReader()
	defer r.Close()
	d := xml.NewTokenDecoder(r)
	for {
		tok, err := d.Token()
		if err != nil {
			close(fs.got)
			return
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		var buf bytes.Buffer
		e := xml.NewEncoder(&buf)
		_ = e.EncodeToken(start)
		for depth := 1; depth > 0; {
			tok, err := d.Token()
			if err != nil {
				close(fs.got)
				return
			}
			switch tok.(type) {
			case xml.StartElement:
				depth++
			case xml.EndElement:
				depth--
			}
			_ = e.EncodeToken(xml.CopyToken(tok))
		}
		_ = e.Flush()
		fs.got <- buf.String()
	}
}

// send writes raw XML to the client.
func (fs *fakeServer) send(raw string) {
	fs.t.Helper()
	w := fs.sess.TokenWriter()
	defer w.Close()
	d := xml.NewDecoder(strings.NewReader(raw))
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			fs.t.Fatalf("bad test XML %q: %v", raw, err)
		}
		if err := w.EncodeToken(xml.CopyToken(tok)); err != nil {
			fs.t.Fatalf("send: %v", err)
		}
	}
	if err := w.Flush(); err != nil {
		fs.t.Fatalf("send: %v", err)
	}
}

// next is the next stanza the client sent.
func (fs *fakeServer) next() string {
	fs.t.Helper()
	select {
	case s, ok := <-fs.got:
		if !ok {
			fs.t.Fatal("the client closed the stream")
		}
		return s
	case <-time.After(10 * time.Second):
		fs.t.Fatal("the client sent nothing")
	}
	return ""
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
