package wire

import (
	"bufio"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stream"
)

func TestDialBindsOurResource(t *testing.T) {
	for _, tc := range []struct{ res, want string }{{"", DefaultResource}, {"phone", "phone"}} {
		p, srv, _, _, addrs := pipeServer(t, serverOpts{password: true})
		p.Resource = tc.res
		sess, raw, err := Dial(ctxT(t), p)
		if err != nil {
			t.Fatalf("resource %q: %v", tc.res, err)
		}
		fs := <-srv
		if fs.resource != tc.want {
			t.Fatalf("asked the server for resource %q, want %q (mellium's BindResource sends none)", fs.resource, tc.want)
		}
		if got := sess.LocalAddr().String(); got != "alice@localhost/"+tc.want {
			t.Fatalf("bound %q", got)
		}
		if sess.State()&xmpp.Secure == 0 {
			t.Fatal("session not secure")
		}
		if a := <-addrs; a != "localhost:5222" {
			t.Fatalf("dialed %q", a)
		}
		sess.Close()
		raw.Close()
	}
}

func TestDialDirectTLS(t *testing.T) {
	p, srv, _, _, addrs := pipeServer(t, serverOpts{direct: true, password: true})
	sess, raw, err := Dial(ctxT(t), p)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	defer sess.Close()
	<-srv
	if a := <-addrs; a != "localhost:5223" {
		t.Fatalf("dialed %q, want the direct TLS port", a)
	}
	if sess.ConnectionState().NegotiatedProtocol != "xmpp-client" {
		t.Fatalf("ALPN %q", sess.ConnectionState().NegotiatedProtocol)
	}
}

func TestServerAddr(t *testing.T) {
	origin := jid.MustParse("alice@example.org/sotto")
	for _, tc := range []struct {
		p    Params
		want string
	}{
		{Params{}, "example.org:5222"},
		{Params{DirectTLS: true}, "example.org:5223"},
		{Params{Server: "xmpp.example.net"}, "xmpp.example.net:5222"},
		{Params{Server: "::1", Port: 5280, DirectTLS: true}, "[::1]:5280"},
	} {
		if got := serverAddr(tc.p, origin); got != tc.want {
			t.Errorf("serverAddr(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestDialUntrustedCertificate(t *testing.T) {
	p, _, _, cert, _ := pipeServer(t, serverOpts{password: true})
	fp := CertFingerprint(cert.Certificate[0])
	p.Roots = nil // system roots: the self-signed certificate fails
	_, _, err := Dial(ctxT(t), p)
	var cp *CertProblem
	if !errors.As(err, &cp) {
		t.Fatalf("err %v, want a CertProblem", err)
	}
	if cp.Fingerprint != fp || cp.Changed || !strings.Contains(cp.Subject, "localhost") {
		t.Fatalf("problem %+v, want fingerprint %s unchanged", cp, fp)
	}
	if !strings.Contains(cp.Error(), "not trusted") {
		t.Fatalf("text %q", cp.Error())
	}

	p.Pin = fp
	sess, raw, err := Dial(ctxT(t), p)
	if err != nil {
		t.Fatalf("pinned certificate refused: %v", err)
	}
	sess.Close()
	raw.Close()

	p.Pin = strings.Repeat("00", 32)
	_, _, err = Dial(ctxT(t), p)
	if !errors.As(err, &cp) || !cp.Changed || cp.Fingerprint != fp {
		t.Fatalf("err %v, want a changed-certificate problem", err)
	}
	if !strings.Contains(cp.Error(), "changed") {
		t.Fatalf("text %q", cp.Error())
	}
}

func TestDialWrongPassword(t *testing.T) {
	p, _, _, _, _ := pipeServer(t, serverOpts{password: false})
	_, _, err := Dial(ctxT(t), p)
	var ae *AuthError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "refused the password") {
		t.Fatalf("err %v, want an AuthError", err)
	}
}

// TestDialServerRefusesTLS: a server without STARTTLS that says no when
// asked anyway (RFC 7590) ends the login with a NoTLSError, password
// unsent, even with AllowInsecure.
func TestDialServerRefusesTLS(t *testing.T) {
	for _, insecure := range []bool{false, true} {
		heard := make(chan string, 1)
		dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
			c, s := net.Pipe()
			t.Cleanup(func() { c.Close(); s.Close() })
			go func() {
				var all strings.Builder
				defer func() { heard <- all.String() }()
				r := bufio.NewReader(s)
				buf := make([]byte, 4096)
				sent := false
				for {
					n, err := r.Read(buf)
					all.Write(buf[:n])
					if err != nil {
						return
					}
					if !sent && strings.Contains(string(buf[:n]), "stream") {
						sent = true
						_, _ = s.Write([]byte(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>` +
							`<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`))
					}
					if strings.Contains(string(buf[:n]), "<starttls") {
						_, _ = s.Write([]byte(`<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>`))
						s.Close()
					}
				}
			}()
			return c, nil
		}
		_, _, err := Dial(ctxT(t), Params{JID: "alice@localhost", Password: "hunter2", Dial: dial, AllowInsecure: insecure})
		var nt *NoTLSError
		if !errors.As(err, &nt) || !strings.Contains(err.Error(), "encrypt") {
			t.Fatalf("insecure=%v: err %v, want a NoTLSError", insecure, err)
		}
		if got := <-heard; strings.Contains(got, "<auth") || strings.Contains(got, "hunter2") {
			t.Fatalf("the plaintext server heard:\n%s", got)
		}
	}
}

func TestDialBadAddress(t *testing.T) {
	dial := func(context.Context, string, string) (net.Conn, error) {
		t.Fatal("dialed for a bad address")
		return nil, nil
	}
	for _, j := range []string{"localhost", "@@bad", ""} {
		if _, _, err := Dial(ctxT(t), Params{JID: j, Dial: dial}); err == nil || !strings.Contains(err.Error(), "not a valid address") {
			t.Fatalf("%q: err %v", j, err)
		}
	}
}

// TestCutDuringLoginIsNotARefusal: a stream cut in the middle of SASL
// reaches the feature as the decoder's syntax error, a server shutting
// down as a stream error; neither may be reported as a refused password (which stops reconnecting for good).
func TestCutDuringLoginIsNotARefusal(t *testing.T) {
	_, cut := xml.NewDecoder(strings.NewReader(`<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'`)).Token()
	if cut == nil {
		t.Fatal("a truncated element decoded without error")
	}
	if !isNetErr(cut) || !isNetErr(fmt.Errorf("sasl: %w", cut)) {
		t.Errorf("%v (%T) taken for a refusal", cut, cut)
	}
	if shut := (stream.Error{Err: "system-shutdown"}); !isNetErr(shut) || !isNetErr(fmt.Errorf("sasl: %w", shut)) {
		t.Errorf("the server's shutdown (a stream error) taken for a refusal")
	}
	if isNetErr(errors.New("sasl: invalid server signature")) {
		t.Error("a SCRAM failure taken for a network error")
	}
}
