package account

// Running the account tests against both test-bed servers: Prosody (a
// fresh one per test) and ejabberd (one per test binary, fresh users per
// test, since it takes ~2 s to start).

import (
	"regexp"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/internal/testbed"
)

// forEachServer runs body once against Prosody and once against ejabberd,
// as subtests named after the server.
func forEachServer(t *testing.T, body func(t *testing.T, srv testbed.XMPP)) {
	t.Run("prosody", func(t *testing.T) { body(t, testbed.Start(t)) })
	t.Run("ejabberd", func(t *testing.T) { body(t, testbed.SharedEjabberd(t)) })
}

// authMechanisms lists the SASL mechanisms clients chose in a stanza log
// (Prosody logs mechanism='…', ejabberd mechanism=\"…\").
func authMechanisms(log string) []string {
	var out []string
	for _, m := range authRE.FindAllStringSubmatch(log, -1) {
		out = append(out, m[1])
	}
	return out
}

var authRE = regexp.MustCompile(`<auth [^>]*mechanism=\\?['"]([A-Z0-9-]+)`)

// TestEjabberdPrivateConversation: on ejabberd, two accounts log in,
// befriend each other (subscription both ways, roster), go private, verify
// each other by SMP, and exchange messages both ways; ejabberd's own
// stanza log (loglevel debug logs every stanza in full) shows the OTR
// messages and never the text.
func TestEjabberdPrivateConversation(t *testing.T) {
	srv := testbed.SharedEjabberd(t)
	a, b := privatePairOn(t, srv, peerOpts{}, peerOpts{})
	smpBothWays(t, a, b)
	ctx := ctxT(t)
	texts := []string{"ejabberd must not read this " + randomID(), "nor this reply " + randomID()}
	id, err := a.m.Send(ctx, a.conv(b), texts[0])
	if err != nil {
		t.Fatal(err)
	}
	a.waitFor(0, "sent encrypted", msgState(id, SentEncrypted))
	if m := b.waitFor(0, "alice's message", isMsg(a.jid, texts[0])).(MessageReceived); !m.Encrypted {
		t.Fatalf("bob got %+v, want Encrypted", m)
	}
	if _, err := b.m.Send(ctx, b.conv(a), texts[1]); err != nil {
		t.Fatal(err)
	}
	if m := a.waitFor(0, "bob's reply", isMsg(b.jid, texts[1])).(MessageReceived); !m.Encrypted {
		t.Fatalf("alice got %+v, want Encrypted", m)
	}
	// The SMP answer "Lisbon" is a secret too: it never crosses the wire.
	assertNoPlaintext(t, srv, append(texts, "Lisbon")...)
	log := srv.StanzaLog()
	otrN, other := otrBodiesBetween(log, a.jid, b.jid)
	t.Logf("ejabberd logged %d OTR bodies and %d other bodies between %s and %s", otrN, other, a.jid, b.jid)
	// Counted as ejabberd delivered them (its "Send XML" lines name both
	// JIDs): the AKE (query + 4), two SMPs (4 each), 2 data messages.
	if otrN < 5+8+2 {
		t.Fatalf("only %d OTR bodies in ejabberd's stanza log: is its stanza logging on?", otrN)
	}
	if other != 0 {
		t.Fatalf("%d non-OTR bodies between alice and bob in ejabberd's log", other)
	}
}

// otrBodiesBetween is otrBodies for the lines about messages between two
// JIDs (the shared ejabberd carries other tests' users too).
func otrBodiesBetween(log, a, b string) (otrCount, other int) {
	var lines []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, a) && strings.Contains(line, b) {
			lines = append(lines, line)
		}
	}
	return otrBodies(strings.Join(lines, "\n"))
}
