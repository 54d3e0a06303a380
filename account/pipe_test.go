package account

// Pipe-level tests: the account talks over net.Pipe to a scripted server
// (mellium's server side does STARTTLS, SASL PLAIN and bind), and the test
// writes odd stanzas a real server would not produce.

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
	"sync"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"github.com/sotto-im/sotto/secret"
)

// fakeServer is the server end of one pipe connection.
type fakeServer struct {
	t    *testing.T
	sess *xmpp.Session

	mu  sync.Mutex
	got []string // every stanza the client sent, as XML
	// answer, if set, sees each stanza first: ok means it was handled
	// (reply, if not "", is sent back) and the default answer is skipped.
	answer func(start xml.StartElement, raw string) (reply string, ok bool)
}

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

// pipeAccount runs a Manager whose dialer connects to a fake server, logs
// alice@localhost in, and returns both ends once the client's initial
// stanzas (carbons, roster, presence) have arrived.
func pipeAccount(t *testing.T) (*peer, *fakeServer) {
	t.Helper()
	return pipeAccountUI(t, true)
}

// pipeAccountUI is pipeAccount; with read false nobody reads the
// Manager's events (a UI that does not keep up).
func pipeAccountUI(t *testing.T, read bool, extra ...Option) (*peer, *fakeServer) {
	t.Helper()
	return pipeAccountWith(t, read, nil, nil, extra...)
}

// pipeAccountWith is pipeAccountUI with the fake server's answer hook
// and prep run on the profile before the account is added.
func pipeAccountWith(t *testing.T, read bool, answer func(xml.StartElement, string) (string, bool),
	prep func(*Profile), extra ...Option) (*peer, *fakeServer) {
	t.Helper()
	cert, pool := selfSigned(t)
	srvCh := make(chan *fakeServer, 1)
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		c, s := net.Pipe()
		go func() {
			sess, err := xmpp.ReceiveClientSession(context.Background(), jid.MustParse("localhost"), s,
				xmpp.StartTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}),
				xmpp.SASLServer(func(*sasl.Negotiator) bool { return true }, sasl.Plain),
				xmpp.BindCustom(func(_ jid.JID, res string) (jid.JID, error) {
					return jid.MustParse("alice@localhost/" + res), nil
				}))
			if err != nil {
				t.Errorf("fake server negotiation: %v", err)
				s.Close()
				return
			}
			fs := &fakeServer{t: t, sess: sess, answer: answer}
			go fs.read()
			srvCh <- fs
		}()
		return c, nil
	}
	prof, err := OpenProfile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if prep != nil {
		prep(prof)
	}
	m := NewManager(prof, secret.NewMemory(), append([]Option{WithDialer(dial), WithRootCAs(pool), WithPingInterval(time.Hour)}, extra...)...)
	p := &peer{t: t, m: m, jid: "alice@localhost", rec: &recorder{}, profile: prof}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.Run(ctx) }()
	go func() {
		if !read {
			return
		}
		for e := range m.Events() {
			p.rec.mu.Lock()
			p.rec.events = append(p.rec.events, e)
			p.rec.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		t0 := time.Now()
		cancel()
		<-done
		// A dead or stalled link must not hold up shutdown (a TLS
		// close_notify on a pipe nobody reads would wait 5 s).
		if d := time.Since(t0); d > 2*time.Second {
			t.Errorf("shutdown took %v", d)
		}
	})
	if err := m.AddAccount(ctx, Settings{JID: p.jid, Policy: Manual}, "pw"); err != nil {
		t.Fatal(err)
	}
	p.connect()
	fs := <-srvCh
	fs.waitGot("initial presence", func(s string) bool { return strings.HasPrefix(s, "<presence") })
	return p, fs
}

// read records the client's stanzas and answers its IQs.
func (fs *fakeServer) read() {
	r := fs.sess.TokenReader()
	defer r.Close()
	d := xml.NewTokenDecoder(r)
	for {
		tok, err := d.Token()
		if err != nil {
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
		s := buf.String()
		fs.mu.Lock()
		fs.got = append(fs.got, s)
		fs.mu.Unlock()
		if fs.answer != nil {
			if reply, ok := fs.answer(start, s); ok {
				if reply != "" {
					go fs.send(reply)
				}
				continue
			}
		}
		if start.Name.Local == "iq" && (attr(start, "type") == "get" || attr(start, "type") == "set") {
			reply := `<iq type='result' id='` + attr(start, "id") + `'/>`
			if strings.Contains(s, "jabber:iq:roster") && attr(start, "type") == "get" {
				reply = `<iq type='result' id='` + attr(start, "id") + `'><query xmlns='jabber:iq:roster'/></iq>`
			}
			go fs.send(reply)
		}
	}
}

func attr(s xml.StartElement, name string) string {
	for _, a := range s.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// send writes raw XML to the client.
func (fs *fakeServer) send(raw string) {
	w := fs.sess.TokenWriter()
	defer w.Close()
	d := xml.NewDecoder(strings.NewReader(raw))
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			fs.t.Errorf("bad test XML %q: %v", raw, err)
			return
		}
		if err := w.EncodeToken(xml.CopyToken(tok)); err != nil {
			return
		}
	}
	_ = w.Flush()
}

func (fs *fakeServer) waitGot(what string, pred func(string) bool) string {
	fs.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		fs.mu.Lock()
		got := append([]string(nil), fs.got...)
		fs.mu.Unlock()
		for _, s := range got {
			if pred(s) {
				return s
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	fs.t.Fatalf("fake server never got %s; got:\n%s", what, strings.Join(fs.got, "\n"))
	return ""
}

func TestPipeForgedCarbonsIgnored(t *testing.T) {
	p, fs := pipeAccount(t)
	fs.waitGot("carbons enable", func(s string) bool { return strings.Contains(s, "urn:xmpp:carbons:2") })
	carbon := func(from, dir, inner string) string {
		return `<message xmlns='jabber:client' from='` + from + `' to='alice@localhost/sotto'>` +
			`<` + dir + ` xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` + inner +
			`</forwarded></` + dir + `></message>`
	}
	fromBob := func(body string) string {
		return `<message xmlns='jabber:client' from='bob@localhost/x' to='alice@localhost/phone' type='chat'><body>` + body + `</body></message>`
	}
	// Forged by another user: must be dropped.
	fs.send(carbon("mallory@localhost/evil", "received", fromBob("forged received")))
	fs.send(carbon("mallory@localhost", "sent", `<message xmlns='jabber:client' from='alice@localhost/phone' to='bob@localhost' type='chat'><body>forged sent</body></message>`))
	// From our own server account: shown.
	fs.send(carbon("alice@localhost", "received", fromBob("legit carbon")))
	// A carbon of an OTR message: another device's session, ignored.
	fs.send(carbon("alice@localhost", "received", fromBob("?OTR:AAMDJ+MVmSfjFZcAAAAAAQAAAAIAAADA")))
	fs.send(fromBob("sentinel"))

	p.waitFor(0, "sentinel", isMsg("bob@localhost", "sentinel"))
	p.waitFor(0, "legit carbon", isMsg("bob@localhost", "legit carbon"))
	p.never(0, "forged or OTR carbon", func(e Event) bool {
		switch e := e.(type) {
		case MessageReceived:
			return strings.Contains(e.Body, "forged") || strings.Contains(e.Body, "OTR")
		case MessageStateChanged:
			return strings.Contains(e.Body, "forged")
		case Notice:
			return true // an ignored carbon is not worth a notice
		}
		return false
	})
}

func TestPipeOddStanzas(t *testing.T) {
	p, fs := pipeAccount(t)
	// Presence with a non-numeric priority cannot be decoded: a notice,
	// and the stream stays up.
	fs.send(`<presence xmlns='jabber:client' from='bob@localhost/laptop'><priority>high</priority></presence>`)
	p.waitFor(0, "notice for bad presence", func(e Event) bool { _, ok := e.(Notice); return ok })
	// Bad from address and a server-sent message: ignored.
	fs.send(`<message xmlns='jabber:client' from='@@bad' type='chat'><body>bad from</body></message>`)
	fs.send(`<message xmlns='jabber:client' from='localhost' type='chat'><body>from server</body></message>`)
	// Unknown payloads around the body are ignored, the body is shown.
	fs.send(`<message xmlns='jabber:client' from='bob@localhost/laptop' type='chat'><x xmlns='urn:example'><y/></x><body>with extras</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`)
	// An IQ we do not implement must get an error reply, not silence.
	fs.send(`<iq xmlns='jabber:client' type='get' id='q1' from='bob@localhost/laptop'><query xmlns='urn:example:unknown'/></iq>`)
	// A roster push from another user must be ignored (RFC 6121 §2.1.6).
	fs.send(`<iq xmlns='jabber:client' type='set' id='q2' from='mallory@localhost/x'><query xmlns='jabber:iq:roster'><item jid='evil@localhost' subscription='both'/></query></iq>`)
	// A real push (no from) is applied.
	fs.send(`<iq xmlns='jabber:client' type='set' id='q3'><query xmlns='jabber:iq:roster'><item jid='friend@localhost' name='Friend' subscription='both'/></query></iq>`)
	// Ping from the server is answered.
	fs.send(`<iq xmlns='jabber:client' type='get' id='q4' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	// Presence of bob on "laptop"; then a message from a resource we never
	// saw: delivered, under that resource.
	fs.send(`<presence xmlns='jabber:client' from='bob@localhost/laptop'/>`)
	fs.send(`<message xmlns='jabber:client' from='bob@localhost/phone' type='chat'><body>from the phone</body></message>`)
	// A delivery error.
	fs.send(`<message xmlns='jabber:client' from='carol@localhost' type='error'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`)
	fs.send(`<message xmlns='jabber:client' from='bob@localhost/laptop' type='chat'><body>sentinel</body></message>`)

	p.waitFor(0, "sentinel", isMsg("bob@localhost", "sentinel"))
	p.waitFor(0, "extras", isMsg("bob@localhost", "with extras"))
	m := p.waitFor(0, "phone", isMsg("bob@localhost", "from the phone")).(MessageReceived)
	if m.Conv.Resource != "phone" {
		t.Fatalf("message from unknown resource filed under %q", m.Conv.Resource)
	}
	p.waitFor(0, "delivery error notice", func(e Event) bool {
		n, ok := e.(Notice)
		return ok && strings.Contains(n.Text, "service-unavailable")
	})
	p.waitFor(0, "real roster push", func(e Event) bool {
		rc, ok := e.(RosterChanged)
		return ok && len(rc.Contacts) == 1 && rc.Contacts[0].JID == "friend@localhost"
	})
	p.never(0, "ignored messages or forged roster", func(e Event) bool {
		switch e := e.(type) {
		case MessageReceived:
			return e.Body == "bad from" || e.Body == "from server"
		case RosterChanged:
			for _, c := range e.Contacts {
				if c.JID == "evil@localhost" {
					return true
				}
			}
		}
		return false
	})
	fs.waitGot("error reply to unknown IQ", func(s string) bool {
		return strings.Contains(s, `id="q1"`) && strings.Contains(s, `type="error"`)
	})
	fs.waitGot("error reply to forged roster push", func(s string) bool {
		return strings.Contains(s, `id="q2"`) && strings.Contains(s, `type="error"`)
	})
	fs.waitGot("result for the real push", func(s string) bool {
		return strings.Contains(s, `id="q3"`) && strings.Contains(s, `type="result"`)
	})
	fs.waitGot("pong", func(s string) bool {
		return strings.Contains(s, `id="q4"`) && strings.Contains(s, `type="result"`)
	})
	if c := p.m.Security(Conversation{Account: p.jid, Peer: "bob@localhost"}); c.Level != NotPrivate {
		t.Fatalf("security after odd stanzas: %+v", c)
	}
}
