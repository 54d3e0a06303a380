package wire

// Fuzz target for the inbound side alone: bytes as a server would stream
// them go through Handler as Serve would call it. (account's FuzzStanzas
// and FuzzMessageAndPresence feed the same handler and then the account
// loop's handlers.)

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"mellium.im/xmlstream"
)

// countingEncoder records how many top-level elements a handler wrote.
type countingEncoder struct {
	*xml.Encoder
	depth, replies int
}

func (e *countingEncoder) EncodeToken(tok xml.Token) error {
	switch tok.(type) {
	case xml.StartElement:
		if e.depth == 0 {
			e.replies++
		}
		e.depth++
	case xml.EndElement:
		e.depth--
	}
	return e.Encoder.EncodeToken(tok)
}

func (e *countingEncoder) Encode(v interface{}) error {
	e.replies++
	return e.Encoder.Encode(v)
}

type tokenRW struct {
	xml.TokenReader
	xmlstream.Encoder
}

type discardWriter struct{}

func (discardWriter) EncodeToken(xml.Token) error { return nil }

// FuzzHandler: whatever the server sends, the handler never fails a
// stanza it could read, forwards at most one well-formed Inbound per
// stanza and writes at most one reply.
func FuzzHandler(f *testing.F) {
	seeds := []string{
		`<message from='bob@localhost/x' type='chat'><body>hi</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`,
		`<message from='@@bad' type='chat'><body>bad from</body></message>`,
		`<message from='alice@localhost' to='alice@localhost/sotto'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='bob@localhost/x' type='chat'><body>carbon</body></message></forwarded></received></message>`,
		`<presence from='bob@localhost/x'><show>away</show><priority>5</priority></presence>`,
		`<presence from='bob@localhost/x'><priority>high</priority></presence>`,
		`<iq type='set' id='p1'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='both'/></query></iq>`,
		`<iq type='set' id='p2' from='mallory@localhost/x'><query xmlns='jabber:iq:roster'><item jid='evil@localhost'/></query></iq>`,
		`<iq type='get' id='p4' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`,
		`<iq type='get' id='e' from='localhost'/>`,
		`<iq type='get' id='t' from='localhost'>text<ping xmlns='urn:xmpp:ping'/></iq>`,
		`<iq type='bogus' id='b'><ping xmlns='urn:xmpp:ping'/></iq>`,
		`<iq type='result' id='r' from='@@bad'/>`,
		`<iq type='error' id='x'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
		`<r xmlns='urn:xmpp:sm:3'/>`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(strings.Join(seeds, "")))
	f.Fuzz(func(t *testing.T, in []byte) {
		const open = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`
		d := xml.NewDecoder(io.MultiReader(strings.NewReader(open), bytes.NewReader(in)))
		if _, err := d.Token(); err != nil {
			return
		}
		// Big enough that the roster-push hand-off never needs its goroutine.
		ch := make(chan Inbound, 128)
		h := Handler(context.Background(), ch)
		for n := 0; n < 64; n++ {
			tok, err := d.Token()
			if err != nil {
				return
			}
			start, ok := tok.(xml.StartElement)
			if !ok {
				continue
			}
			enc := &countingEncoder{Encoder: xml.NewEncoder(io.Discard)}
			inner := xmlstream.InnerElement(d)
			err = h.HandleXMPP(tokenRW{inner, enc}, &start)
			if err != nil {
				t.Fatalf("handler failed a stanza: %v", err)
			}
			if enc.replies > 1 {
				t.Fatalf("%d replies to one stanza", enc.replies)
			}
			if len(ch) > 1 {
				t.Fatalf("%d inbounds from one stanza", len(ch))
			}
			if len(ch) == 1 {
				v := <-ch
				k := 0
				for _, set := range []bool{v.Msg != nil, v.Pres != nil, v.IQ != nil, v.Bad != ""} {
					if set {
						k++
					}
				}
				if k != 1 {
					t.Fatalf("inbound with %d parts: %+v", k, v)
				}
			}
			if _, err := xmlstream.Copy(discardWriter{}, inner); err != nil {
				return
			}
		}
	})
}
