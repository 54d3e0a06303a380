package testbed

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"path/filepath"
	"strings"
	"testing"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// TestProfanityQuirks pins what profanity.go's doc comment says about
// messages profanity cannot decrypt, and that Fingerprint is the
// identity key profanity stores: OMEMO messages from Alice's account
// that have no key for Bob's device, or a broken one, show Bob their
// <body> as a plain message; without a <body> they leave no trace, which
// a plain sentinel message sent after them proves.
func TestProfanityQuirks(t *testing.T) {
	srv := Start(t, WithModules("pep"))
	aliceJID, alicePW := srv.AddUser(t, "alice")
	bobJID, bobPW := srv.AddUser(t, "bob")
	alice := StartProfanity(t, srv, aliceJID, alicePW)
	bob := StartProfanity(t, srv, bobJID, bobPW)
	SubscribeBoth(t, srv, aliceJID, alicePW, bobJID, bobPW)
	alice.GenerateOMEMO()
	bobDev := bob.GenerateOMEMO()

	ident, err := readKeyFile(filepath.Join(bob.omemoDir(), "identity.txt"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := base64.StdEncoding.DecodeString(ident["identity"]["identity_key_public"])
	if err != nil || len(pub) != 33 || pub[0] != 0x05 {
		t.Fatalf("bob's stored identity key: %x (%v)", pub, err)
	}
	if fp := bob.Fingerprint(); fp != hex.EncodeToString(pub[1:]) {
		t.Fatalf("Fingerprint %s, stored key %x", fp, pub)
	}

	junk := base64.StdEncoding.EncodeToString([]byte("not a signal message"))
	send := func(rid, key, body string) {
		t.Helper()
		if err := alice.client.sendMessage(bobJID, omemoJunk(rid, key), body); err != nil {
			t.Fatal(err)
		}
	}
	send("1", junk, "fallback: no key for bob's device")
	send(bobDev, junk, "fallback: broken key")
	send(bobDev, junk, "")
	send("", "", "sentinel")
	bob.WaitMessage(aliceJID, "sentinel")
	// profanity took all three for OMEMO and failed to decrypt them.
	log := bob.Log()
	if n := strings.Count(log, "[OMEMO][RECV] received a message with no corresponding key"); n != 1 {
		t.Errorf("%d messages without a key for bob's device, want 1", n)
	}
	if n := strings.Count(log, "[OMEMO][RECV] cannot decrypt message key"); n != 2 {
		t.Errorf("%d messages with a broken key, want 2", n)
	}
	var got []string
	for _, l := range bob.Messages(aliceJID) {
		got = append(got, l.Text)
	}
	want := []string{"fallback: no key for bob's device", "fallback: broken key", "sentinel"}
	if len(got) != len(want) {
		t.Fatalf("bob's chat log with alice: %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("bob's chat log with alice: %q, want %q", got, want)
		}
	}
}

// omemoJunk is a legacy <encrypted> element from device 4242 with one
// key for device rid (none when rid is "") and a payload nobody can
// decrypt.
func omemoJunk(rid, key string) xml.TokenReader {
	if rid == "" {
		return nil
	}
	el := func(name string, attr []xml.Attr, inner ...xml.TokenReader) xml.TokenReader {
		return xmlstream.Wrap(xmlstream.MultiReader(inner...),
			xml.StartElement{Name: xml.Name{Space: nsOMEMOLegacy, Local: name}, Attr: attr})
	}
	text := func(s string) xml.TokenReader { return xmlstream.Token(xml.CharData(s)) }
	return el("encrypted", nil,
		el("header", []xml.Attr{{Name: xml.Name{Local: "sid"}, Value: "4242"}},
			el("key", []xml.Attr{{Name: xml.Name{Local: "rid"}, Value: rid}}, text(key)),
			el("iv", nil, text("AAAAAAAAAAAAAAAA"))),
		el("payload", nil, text("AAAAAAAAAAAAAAAAAAAAAAAA")))
}

// sendMessage sends a chat message with payload and, unless body is "",
// a <body>.
func (c *peerClient) sendMessage(to string, payload xml.TokenReader, body string) error {
	j, err := jid.Parse(to)
	if err != nil {
		return err
	}
	var inner []xml.TokenReader
	if payload != nil {
		inner = append(inner, payload)
	}
	if body != "" {
		inner = append(inner, xmlstream.Wrap(xmlstream.Token(xml.CharData(body)),
			xml.StartElement{Name: xml.Name{Local: "body"}}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientCallTimeout)
	defer cancel()
	return c.s.Send(ctx, stanza.Message{To: j, Type: stanza.ChatMessage}.Wrap(xmlstream.MultiReader(inner...)))
}
