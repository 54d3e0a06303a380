package wire

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

// TestPEPAndOMEMOShapes: through the real Handler, an OMEMO message (also
// inside a carbon), a device-list notification and a pubsub items result
// reach the loop with their payloads intact as XML the omemo package
// reads; what we publish is the XEP-0060 form with publish options.
func TestPEPAndOMEMOShapes(t *testing.T) {
	fs, in := served(t)
	enc := `<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='7'><key rid='9' prekey='true'>AAEC</key><iv>AAAAAAAAAAAAAAAA</iv></header><payload>AQID</payload></encrypted>`
	list := `<list xmlns='eu.siacs.conversations.axolotl'><device id='1'/><device id='2'/></list>`
	fs.send(`<message xmlns='jabber:client' id='o1' from='bob@localhost/x' type='chat'><body>fallback</body>` + enc +
		`<store xmlns='urn:xmpp:hints'/></message>`)
	fs.send(`<message xmlns='jabber:client' id='c1' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
		`<message xmlns='jabber:client' id='o2' to='bob@localhost' type='chat'>` + enc + `</message></forwarded></sent></message>`)
	fs.send(`<message xmlns='jabber:client' from='bob@localhost' type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'>` +
		`<items node='eu.siacs.conversations.axolotl.devicelist'><item id='current'>` + list + `</item></items></event></message>`)
	fs.send(`<iq xmlns='jabber:client' type='result' id='f1' from='bob@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'>` +
		`<items node='eu.siacs.conversations.axolotl.devicelist'><item id='current'>` + list + `</item></items></pubsub></iq>`)
	fs.send(`<message xmlns='jabber:client' from='bob@localhost/x' type='chat'><body>sentinel</body></message>`)
	got := until(t, in, "sentinel")
	if len(got) != 5 {
		t.Fatalf("got %d stanzas: %+v", len(got), got)
	}
	sameXML := func(what string, raw []byte, want string) {
		t.Helper()
		if raw == nil || canon(t, string(raw)) != canon(t, want) {
			t.Errorf("%s: %s, want %s", what, raw, want)
		}
	}
	if m := got[0].Msg; m == nil || m.OMEMO == nil {
		t.Fatalf("OMEMO message: %+v", got[0])
	} else {
		sameXML("encrypted", *m.OMEMO, enc)
	}
	if c := got[1].Msg; c == nil || c.Sent == nil || c.Sent.Forwarded.Message == nil || c.Sent.Forwarded.Message.OMEMO == nil {
		t.Fatalf("carbon: %+v", got[1])
	} else {
		sameXML("carbon's encrypted", *c.Sent.Forwarded.Message.OMEMO, enc)
	}
	if e := got[2].Msg; e == nil || e.Event == nil || e.Event.Items.Node != "eu.siacs.conversations.axolotl.devicelist" {
		t.Fatalf("event: %+v", got[2])
	} else {
		sameXML("event item", e.Event.Items.Item("current"), list)
	}
	if q := got[3].IQ; q == nil || q.PubSub == nil || q.PubSub.Items == nil {
		t.Fatalf("items result: %+v", got[3])
	} else {
		sameXML("result item", q.PubSub.Items.Item(""), list)
	}

	var b bytes.Buffer
	if err := xml.NewEncoder(&b).Encode(OutIQ{ID: "p1", Type: "set",
		PubSub: Publish("eu.siacs.conversations.axolotl.devicelist", "current", []byte(list), "open")}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{`<pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="eu.siacs.conversations.axolotl.devicelist"><item id="current">` + list,
		`<publish-options><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var="pubsub#access_model"><value>open</value></field>`} {
		if !strings.Contains(out, want) {
			t.Errorf("publish IQ %s\nlacks %s", out, want)
		}
	}
	b.Reset()
	if err := xml.NewEncoder(&b).Encode(OutMessage{ID: "m", To: "bob@localhost", Type: "chat", Body: OMEMOFallback,
		Extra: OMEMOElements([]byte(enc))}); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, enc+"<store xmlns='urn:xmpp:hints'/><encryption xmlns='urn:xmpp:eme:0' namespace='eu.siacs.conversations.axolotl' name='OMEMO'/></message>") {
		t.Errorf("OMEMO message %s", out)
	}
}

// canon re-encodes XML through the token decoder so that quoting and
// namespace declarations do not matter.
func canon(t *testing.T, s string) string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			b.WriteString("<" + tok.Name.Space + " " + tok.Name.Local)
			for _, a := range tok.Attr {
				if a.Name.Local != "xmlns" {
					b.WriteString(" " + a.Name.Local + "=" + a.Value)
				}
			}
			b.WriteString(">")
		case xml.EndElement:
			b.WriteString("</>")
		case xml.CharData:
			b.Write(tok)
		}
	}
	return b.String()
}
