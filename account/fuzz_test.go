package account

// Fuzz targets for the stanza path without a network: bytes as a server
// would stream them go through the same handler Serve calls
// (wire.Handler: decode, answer pings and roster pushes) and then the
// account loop's handlers (handleInbound: messages with carbons and OTR,
// presence, roster pushes, IQ results).

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/xml"
	"io"
	"strings"
	"sync"
	"testing"

	"mellium.im/xmlstream"

	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/otr"
	"github.com/sotto-im/sotto/secret"
)

const fuzzAccount = "alice@localhost"

var (
	fuzzKeyOnce sync.Once
	fuzzKey     *otr.PrivateKey
)

// fuzzManager is a Manager that never runs: the fuzz target drives one
// client's handlers directly on its own goroutine, as the loop would.
func fuzzManager(f *testing.F) *Manager {
	fuzzKeyOnce.Do(func() {
		k, err := otr.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		fuzzKey = k
	})
	prof, err := OpenProfile(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	return NewManager(prof, secret.NewMemory())
}

// fuzzClient is a fresh, offline client for one iteration; its events go
// to a queue nobody pumps, which the iteration then inspects.
func fuzzClient(m *Manager) *client {
	m.events = newEventQueue(1)
	c := newClient(m, Settings{JID: fuzzAccount, Policy: Opportunistic})
	c.ctx = context.Background()
	c.key = fuzzKey
	c.instanceTag = 0x1234abcd
	return c
}

// tokenRW is what Serve hands a handler: the stanza's tokens and an
// encoder for replies (discarded here).
type tokenRW struct {
	xml.TokenReader
	*xml.Encoder
}

// feedStream parses in as the content of a client stream and runs each
// top-level stanza through wire.Handler and then the client's handlers.
// It returns how many stanzas reached the handler.
func feedStream(c *client, in []byte) int {
	const open = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`
	d := xml.NewDecoder(io.MultiReader(strings.NewReader(open), bytes.NewReader(in)))
	if _, err := d.Token(); err != nil { // the stream header itself
		return 0
	}
	ch := make(chan wire.Inbound, 1)
	h := wire.Handler(context.Background(), ch)
	enc := xml.NewEncoder(io.Discard)
	n := 0
	for n < 64 {
		tok, err := d.Token()
		if err != nil {
			return n
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		n++
		// mellium blanks a from equal to our bare JID (session.go).
		for i, a := range start.Attr {
			if a.Name.Local == "from" && a.Value == fuzzAccount {
				start.Attr[i].Value = ""
			}
		}
		inner := xmlstream.InnerElement(d)
		if err := h.HandleXMPP(tokenRW{inner, enc}, &start); err != nil {
			return n // the handler never fails a stanza; a read error ends the stream
		}
		select {
		case v := <-ch:
			c.handleInbound(v)
		default:
		}
		// Serve skips what the handler left unread.
		if _, err := xmlstream.Copy(discardWriter{}, inner); err != nil {
			return n
		}
	}
	return n
}

type discardWriter struct{}

func (discardWriter) EncodeToken(xml.Token) error { return nil }

// checkFuzzEvents asserts what must hold whatever the server sent.
func checkFuzzEvents(t *testing.T, c *client, stanzas int) {
	c.m.events.mu.Lock()
	evs := append([]Event(nil), c.m.events.items...)
	c.m.events.mu.Unlock()
	if len(evs) > 8*stanzas+8 {
		t.Fatalf("%d events from %d stanzas", len(evs), stanzas)
	}
	if len(c.convs) > stanzas {
		t.Fatalf("%d conversations from %d stanzas", len(c.convs), stanzas)
	}
	for _, e := range evs {
		switch e := e.(type) {
		case MessageReceived:
			// Nobody can have an authenticated OTR session with us here.
			if e.Encrypted {
				t.Fatalf("unauthenticated input shown as encrypted: %+v", e)
			}
			if e.Conv.Account != fuzzAccount || !strings.Contains(e.Conv.Peer, "@") {
				t.Fatalf("message filed under %+v", e.Conv)
			}
		case SecurityChanged:
			if e.Level == Private || e.Verified {
				t.Fatalf("unauthenticated input made a conversation private: %+v", e)
			}
		case SMPResult:
			if e.Outcome == SMPSucceeded {
				t.Fatal("SMP succeeded without a session")
			}
		}
	}
}

// FuzzStanzas: arbitrary bytes as the server's side of the stream.
func FuzzStanzas(f *testing.F) {
	seeds := []string{
		`<message from='bob@localhost/x' type='chat'><body>hi</body></message>`,
		`<message from='bob@localhost/x' type='chat'><body>?OTRv23?</body></message>`,
		`<message from='bob@localhost/x' type='chat'><body>?OTR:AAMCAAAAAAAAAAA=.</body></message>`,
		`<message from='bob@localhost/x' type='chat'><body>?OTR|1234abcd|00000000,00001,00002,?OTR:AAMD,</body></message>`,
		`<message from='bob@localhost/x' type='chat'><body>?OTR Error: boom</body></message>`,
		`<message from='bob@localhost/x' type='chat'><body>tagged ` + " \t  \t\t\t\t \t \t \t    \t\t  \t" + `</body></message>`,
		`<message from='bob@localhost' type='error'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`,
		`<message from='alice@localhost' to='alice@localhost/sotto'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='bob@localhost/x' to='alice@localhost/phone' type='chat'><body>carbon</body></message></forwarded></received></message>`,
		`<message from='mallory@localhost' to='alice@localhost/sotto'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='alice@localhost/phone' to='bob@localhost' type='chat'><body>forged</body></message></forwarded></sent></message>`,
		`<message from='bob@localhost/x' type='chat'><delay xmlns='urn:xmpp:delay' stamp='2002-09-10T23:08:25Z'/><body>old</body></message>`,
		// XEP-0313 archive results (ours, and a forged one) and XEP-0359 ids.
		`<message><result xmlns='urn:xmpp:mam:2' queryid='q' id='a1'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2002-09-10T23:08:25Z'/><message xmlns='jabber:client' from='bob@localhost/x' to='alice@localhost' type='chat' id='m1'><body>archived</body></message></forwarded></result></message>`,
		`<message from='mallory@localhost/x'><result xmlns='urn:xmpp:mam:2' queryid='q' id='a2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='alice@localhost/phone' to='bob@localhost' type='chat'><body>?OTR:AAMD</body></message></forwarded></result></message>`,
		`<message from='bob@localhost/x' type='chat' id='m2'><body>with ids</body><stanza-id xmlns='urn:xmpp:sid:0' by='alice@localhost' id='s1'/><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>`,
		`<presence from='bob@localhost/x'><show>away</show><status>out</status><priority>5</priority></presence>`,
		`<presence from='bob@localhost/x' type='unavailable'/>`,
		`<presence from='bob@localhost' type='subscribe'/>`,
		`<presence from='bob@localhost/x'><priority>high</priority></presence>`,
		`<iq type='set' id='p1'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='both'><group>G</group></item></query></iq>`,
		`<iq type='set' id='p2' from='mallory@localhost/x'><query xmlns='jabber:iq:roster'><item jid='evil@localhost' subscription='both'/></query></iq>`,
		`<iq type='set' id='p3'><query xmlns='jabber:iq:roster'><item jid='alice@localhost' subscription='both'/></query></iq>`,
		`<iq type='get' id='p4' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`,
		`<iq type='result' id='nope'/>`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(strings.Join(seeds, "")))
	m := fuzzManager(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		c := fuzzClient(m)
		c.mam.query = "q" // archive results of query q are ours (mam.go)
		n := feedStream(c, in)
		checkFuzzEvents(t, c, n)
	})
}

// FuzzMessageAndPresence builds well-formed stanzas from fuzzed fields so
// the fuzzer spends its time in the handlers rather than in XML syntax.
// kind picks a chat message, a carbon (received or sent, from our account
// or forged), an error message, or a presence.
func FuzzMessageAndPresence(f *testing.F) {
	f.Add(byte(0), "bob@localhost/x", "chat", "hello", "")
	f.Add(byte(0), "bob@localhost/x", "chat", "?OTRv3?", "")
	f.Add(byte(0), "bob@localhost/x", "chat", "?OTR:AAMDEjRWeBI0VngAAAAAAQ==.", "")
	f.Add(byte(0), "bob@localhost/x", "", "x", "<active xmlns='http://jabber.org/protocol/chatstates'/>")
	f.Add(byte(1), "alice@localhost", "chat", "carbon in", "")
	f.Add(byte(2), "alice@localhost", "chat", "carbon out", "")
	f.Add(byte(1), "mallory@localhost/x", "chat", "forged in", "")
	f.Add(byte(3), "carol@localhost", "error", "", "<error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>")
	f.Add(byte(4), "bob@localhost/x", "", "away", "5")
	f.Add(byte(4), "bob@localhost/x", "unavailable", "", "")
	f.Add(byte(4), "bob@localhost", "subscribe", "", "")
	f.Add(byte(4), "localhost", "", "dnd", "-128")
	m := fuzzManager(f)
	f.Fuzz(func(t *testing.T, kind byte, from, typ, text, extra string) {
		esc := func(s string) string {
			var b strings.Builder
			_ = xml.EscapeText(&b, []byte(s))
			return b.String()
		}
		var s string
		inner := `<message xmlns='jabber:client' from='` + esc(from) + `' to='bob@localhost' type='` + esc(typ) +
			`'><body>` + esc(text) + `</body></message>`
		switch kind % 5 {
		case 0:
			s = `<message from='` + esc(from) + `' type='` + esc(typ) + `'><body>` + esc(text) + `</body>` + extra + `</message>`
		case 1, 2:
			dir := "received"
			if kind%5 == 2 {
				dir = "sent"
			}
			s = `<message from='` + esc(from) + `'><` + dir + ` xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
				inner + `</forwarded></` + dir + `>` + extra + `</message>`
		case 3:
			s = `<message from='` + esc(from) + `' type='` + esc(typ) + `'>` + extra + `</message>`
		case 4:
			s = `<presence from='` + esc(from) + `' type='` + esc(typ) + `'><show>` + esc(text) +
				`</show><status>` + esc(text) + `</status><priority>` + esc(extra) + `</priority></presence>`
		}
		c := fuzzClient(m)
		// Twice: the second copy meets the state the first one left.
		n := feedStream(c, []byte(s+s))
		checkFuzzEvents(t, c, n)
		if kind%5 == 1 || kind%5 == 2 {
			forged := from != fuzzAccount && from != ""
			for _, e := range c.m.events.items {
				switch e := e.(type) {
				case MessageReceived, MessageStateChanged:
					if forged {
						t.Fatalf("forged carbon from %q shown: %+v", from, e)
					}
				}
			}
		}
	})
}
