package testbed_test

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"net"
	"strings"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/sotto-im/sotto/internal/testbed"
)

func TestMain(m *testing.M) { testbed.Main(m) }

type chatMessage struct {
	stanza.Message
	Body string `xml:"body"`
}

// login dials the STARTTLS port and negotiates TLS, SCRAM-SHA-1 (Prosody
// offers SCRAM-SHA-1 and PLAIN) and a resource.
// server is what login needs of Prosody or ejabberd.
type server interface {
	Addr() string
	TLSConfig() *tls.Config
}

func login(ctx context.Context, t *testing.T, srv server, user, pass string) *xmpp.Session {
	t.Helper()
	conn, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	j := jid.MustParse(user)
	s, err := xmpp.NewClientSession(ctx, j, conn,
		xmpp.StartTLS(srv.TLSConfig()),
		xmpp.SASL("", pass, sasl.ScramSha1),
		xmpp.BindResource())
	if err != nil {
		conn.Close()
		t.Fatalf("login %s: %v", user, err)
	}
	t.Cleanup(func() { s.Close() })
	state := s.ConnectionState()
	if !state.HandshakeComplete || state.Version < tls.VersionTLS12 {
		t.Fatalf("login %s: TLS not negotiated: %+v", user, state)
	}
	t.Logf("%s logged in as %s over TLS 0x%x", user, s.LocalAddr(), state.Version)
	return s
}

func TestSmokeTwoClientsExchangeMessage(t *testing.T) {
	start := time.Now()
	srv := testbed.Start(t)
	t.Logf("prosody started in %v", time.Since(start))
	smoke(t, srv, start)
	if !strings.Contains(srv.Log(), "RECV: ") {
		t.Fatal("no RECV lines: mod_stanza_debug not active")
	}
}

// TestEjabberdSmoke: the same exchange through the shared ejabberd, whose
// debug log must show the stanza both ways.
func TestEjabberdSmoke(t *testing.T) {
	start := time.Now()
	srv := testbed.SharedEjabberd(t)
	t.Logf("ejabberd started in %v", time.Since(start))
	smoke(t, srv, start)
}

type smokeServer interface {
	server
	AddUser(t testing.TB, name string) (string, string)
	StanzaLog() string
	Flush(t testing.TB)
}

func smoke(t *testing.T, srv smokeServer, start time.Time) {
	alice, alicePass := srv.AddUser(t, "alice")
	bob, bobPass := srv.AddUser(t, "bob")
	t.Logf("registered %s and %s after %v", alice, bob, time.Since(start))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	as := login(ctx, t, srv, alice, alicePass)
	bs := login(ctx, t, srv, bob, bobPass)

	got := make(chan chatMessage, 1)
	go func() {
		_ = bs.Serve(xmpp.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			if start.Name.Local != "message" {
				return nil
			}
			var m chatMessage
			// The handler's reader starts inside the stanza: put the start
			// element back in front so the decoder sees the whole stanza.
			d := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), r))
			if err := d.Decode(&m); err != nil {
				t.Errorf("decode message: %v", err)
				return nil
			}
			if m.Body != "" {
				got <- m
			}
			return nil
		}))
	}()
	go func() { _ = as.Serve(nil) }()
	// Prosody only routes to a full JID that is "available" or to the bare
	// JID; a message to the full JID works without presence.
	body := "smoke test " + time.Now().Format(time.RFC3339Nano)
	msg := chatMessage{
		Message: stanza.Message{To: bs.LocalAddr(), Type: stanza.ChatMessage},
		Body:    body,
	}
	if err := as.Encode(ctx, msg); err != nil {
		t.Fatalf("send: %v", err)
	}
	select {
	case m := <-got:
		if m.Body != body {
			t.Fatalf("bob got %q, want %q", m.Body, body)
		}
		if m.From.Bare().String() != alice {
			t.Fatalf("message from %q, want %s", m.From, alice)
		}
		t.Logf("bob received %q from %s", m.Body, m.From)
	case <-ctx.Done():
		t.Fatalf("bob never received the message; stanza log:\n%s", srv.StanzaLog())
	}

	// The server's stanza log must show the message both ways (alice -> server,
	// server -> bob).
	srv.Flush(t)
	log := srv.StanzaLog()
	n := strings.Count(log, "<body>"+body+"</body>")
	if n < 2 {
		t.Fatalf("stanza log has the body %d times, want >= 2 (RECV and SEND); log:\n%s", n, log)
	}
	t.Logf("stanza log (%d lines) shows the body %d times", strings.Count(log, "\n"), n)
}

func TestRestartSamePortKeepsUsers(t *testing.T) {
	srv := testbed.Start(t)
	alice, pass := srv.AddUser(t, "alice")
	addr := srv.Addr()
	srv.Stop()
	if srv.Running() {
		t.Fatal("still running after Stop")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("port still accepts after Stop")
	}
	start := time.Now()
	srv.Restart(t)
	t.Logf("restart took %v", time.Since(start))
	if srv.Addr() != addr {
		t.Fatalf("addr changed: %s -> %s", addr, srv.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	login(ctx, t, srv, alice, pass)
}

func TestDirectTLS(t *testing.T) {
	srv := testbed.Start(t)
	alice, pass := srv.AddUser(t, "alice")
	cfg := srv.TLSConfig()
	cfg.NextProtos = []string{"xmpp-client"}
	conn, err := tls.Dial("tcp", srv.DirectTLSAddr(), cfg)
	if err != nil {
		t.Fatalf("direct TLS dial: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := xmpp.NewClientSession(ctx, jid.MustParse(alice), conn,
		xmpp.SASL("", pass, sasl.ScramSha1), xmpp.BindResource())
	if err != nil {
		t.Fatalf("direct TLS login: %v", err)
	}
	s.Close()
}

func TestPlainTCPWithoutTLSRefused(t *testing.T) {
	srv := testbed.Start(t)
	alice, pass := srv.AddUser(t, "alice")
	conn, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// PLAIN over a cleartext stream: the server must refuse (it requires
	// encryption), so negotiation cannot complete.
	s, err := xmpp.NewClientSession(ctx, jid.MustParse(alice), conn,
		xmpp.SASL("", pass, sasl.Plain), xmpp.BindResource())
	if err == nil {
		s.Close()
		t.Fatal("logged in without TLS")
	}
	t.Logf("login without TLS refused: %v", err)
}
