package account

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/internal/testbed"
)

// sendRaw writes raw XML on a raw client's stream.
func (r *rawClient) sendRaw(s string) {
	r.t.Helper()
	w := r.sess.TokenWriter()
	defer w.Close()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.t.Fatalf("bad test XML %q: %v", s, err)
		}
		if err := w.EncodeToken(xml.CopyToken(tok)); err != nil {
			r.t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		r.t.Fatal(err)
	}
}

// TestExplicitEncryptionLabelled: messages of other end-to-end protocols
// (XEP-0380 marked, or OMEMO's payload alone) are reported with the
// protocol's name, never as an ordinary plain line with their fallback.
func TestExplicitEncryptionLabelled(t *testing.T) {
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool()})
	a.connect()
	_, pw := srv.AddUser(t, "bob")
	bob := loginRaw(t, srv, "bob@localhost", pw, "conversations")
	to := a.jid + "/sotto"
	msg := func(id, inner string) string {
		return "<message xmlns='jabber:client' type='chat' id='" + id + "' to='" + to + "'>" + inner + "</message>"
	}
	omemo := "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'><key rid='2'>AAAA</key><iv>AAAAAAAAAAAAAAAA</iv></header><payload>AAAA</payload></encrypted>"
	cases := []struct{ id, inner, want string }{
		{"e1", "<body>fallback 1: I sent you an OMEMO encrypted message</body>" + omemo +
			"<encryption xmlns='urn:xmpp:eme:0' namespace='eu.siacs.conversations.axolotl' name='OMEMO'/>", "OMEMO"},
		{"e2", "<body>fallback 2: OMEMO without EME</body>" + omemo, "OMEMO"},
		{"e3", "<body>fallback 3: OX</body><openpgp xmlns='urn:xmpp:openpgp:0'>BASE64</openpgp>" +
			"<encryption xmlns='urn:xmpp:eme:0' namespace='urn:xmpp:openpgp:0'/>", "OpenPGP"},
		{"e4", "<body>fallback 4: legacy</body><x xmlns='jabber:x:encrypted'>BASE64</x>", "OpenPGP (legacy)"},
		{"e5", "<body>fallback 5: future</body><encryption xmlns='urn:xmpp:eme:0' namespace='urn:example:future' name='Future'/>", "Future"},
		{"e6", "<body>fallback 6: nameless</body><encryption xmlns='urn:xmpp:eme:0' namespace='urn:example:nameless'/>", "an unknown method"},
	}
	for _, c := range cases {
		bob.sendRaw(msg(c.id, c.inner))
	}
	bob.mustSend(to, "sentinel")
	a.waitFor(0, "sentinel", isMsg("bob@localhost", "sentinel"))
	var got []MessageReceived
	for _, e := range a.rec.all() {
		if m, ok := e.(MessageReceived); ok && m.Body != "sentinel" {
			got = append(got, m)
		}
	}
	if len(got) != len(cases) {
		t.Fatalf("%d lines for %d messages: %+v", len(got), len(cases), got)
	}
	for i, c := range cases {
		if got[i].OtherEncryption != c.want || got[i].Encrypted || !strings.HasPrefix(got[i].Body, "fallback") {
			t.Errorf("message %s: %+v, want OtherEncryption %q", c.id, got[i], c.want)
		}
	}
}
