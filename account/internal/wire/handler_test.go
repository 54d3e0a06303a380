package wire

import (
	"context"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/mux"
	"mellium.im/xmpp/stanza"
)

// served logs alice in over a pipe and runs Serve with Handler(opts).
func served(t *testing.T, opts ...mux.Option) (*fakeServer, <-chan Inbound) {
	t.Helper()
	p, srv, _, _, _ := pipeServer(t, serverOpts{password: true})
	sess, raw, err := Dial(ctxT(t), p)
	if err != nil {
		t.Fatal(err)
	}
	fs := <-srv
	ctx, cancel := context.WithCancel(context.Background())
	in := make(chan Inbound, 64)
	done := make(chan error, 1)
	go func() { done <- sess.Serve(Handler(ctx, in, opts...)) }()
	t.Cleanup(func() {
		cancel()
		raw.Close()
		<-done
	})
	return fs, in
}

// until collects what reaches the loop up to and including the message
// whose body is sentinel.
func until(t *testing.T, in <-chan Inbound, sentinel string) []Inbound {
	t.Helper()
	var got []Inbound
	for {
		select {
		case v := <-in:
			got = append(got, v)
			if v.Msg != nil && v.Msg.Body != nil && *v.Msg.Body == sentinel {
				return got
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no sentinel; got %+v", got)
		}
	}
}

// replies collects the client's stanzas up to the reply with id last, by
// id; earlier replies arrive first (Serve handles stanzas in order).
func replies(fs *fakeServer, last string) map[string][]string {
	fs.t.Helper()
	out := map[string][]string{}
	for {
		s := fs.next()
		var st struct {
			ID string `xml:"id,attr"`
		}
		_ = xml.Unmarshal([]byte(s), &st)
		out[st.ID] = append(out[st.ID], s)
		if st.ID == last {
			return out
		}
	}
}

// TestHandlerOddStanzas: what reaches the loop and what is answered,
// including IQs mux alone would end the stream on.
func TestHandlerOddStanzas(t *testing.T) {
	fs, in := served(t)
	for _, s := range []string{
		`<iq xmlns='jabber:client' type='get' id='ping1' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`,
		`<iq xmlns='jabber:client' type='get' id='unknown' from='bob@localhost/x'><query xmlns='urn:example:unknown'/></iq>`,
		`<iq xmlns='jabber:client' type='get' id='empty' from='localhost'/>`,
		`<iq xmlns='jabber:client' type='set' id='text' from='localhost'>some text</iq>`,
		`<iq xmlns='jabber:client' type='bogus' id='bogus' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`,
		`<iq xmlns='jabber:client' type='set' id='forged' from='mallory@localhost/x'><query xmlns='jabber:iq:roster'><item jid='evil@localhost' subscription='both'/></query></iq>`,
		`<iq xmlns='jabber:client' type='set' id='push1'><query xmlns='jabber:iq:roster'><item jid='friend@localhost' name='Friend' subscription='none' ask='subscribe'><group>G</group></item></query></iq>`,
		`<iq xmlns='jabber:client' type='set' id='push2' from='alice@localhost'><query xmlns='jabber:iq:roster' ver='v2'><item jid='other@localhost' subscription='remove'/></query></iq>`,
		`<iq xmlns='jabber:client' type='result' id='res1' from='localhost'/>`,
		`<iq xmlns='jabber:client' type='result' id='res2' from='@@bad'>text</iq>`,
		`<iq xmlns='jabber:client' type='error' id='err1' from='localhost'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
		`<presence xmlns='jabber:client' from='bob@localhost/laptop'><priority>high</priority></presence>`,
		`<presence xmlns='jabber:client' from='bob@localhost/laptop'><show>away</show><status>out</status><priority>5</priority></presence>`,
		`<message xmlns='jabber:client' from='@@bad' type='chat'><body>bad from</body></message>`,
		`<message xmlns='jabber:client' from='bob@localhost/x' type='chat'><x xmlns='urn:example'><y/></x><body>with extras</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`,
		`<message xmlns='jabber:client' from='bob@localhost/x' type='weird'>just text</message>`,
		`<message xmlns='jabber:client' from='carol@localhost' type='error'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`,
		`<message xmlns='jabber:client' from='bob@localhost/x' type='chat'><body>sentinel</body></message>`,
		`<iq xmlns='jabber:client' type='get' id='ping2' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`,
	} {
		fs.send(s)
	}
	got := until(t, in, "sentinel")
	var ids, bodies []string
	for _, v := range got {
		n := 0
		for _, set := range []bool{v.Msg != nil, v.Pres != nil, v.IQ != nil, v.Bad != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("inbound with %d parts: %+v", n, v)
		}
		switch {
		case v.IQ != nil:
			ids = append(ids, v.IQ.ID)
		case v.Msg != nil && v.Msg.Body != nil:
			bodies = append(bodies, *v.Msg.Body)
		case v.Msg != nil:
			bodies = append(bodies, "("+v.Msg.Type+")")
		case v.Pres != nil:
			bodies = append(bodies, "presence "+v.Pres.Show)
		default:
			bodies = append(bodies, "bad: "+v.Bad)
		}
	}
	if want := "push1 push2 res1 res2 err1"; strings.Join(ids, " ") != want {
		t.Fatalf("IQs forwarded %q, want %q", ids, want)
	}
	want := "bad: a presence update could not be read|presence away|bad from|with extras|(weird)|(error)|sentinel"
	if strings.Join(bodies, "|") != want {
		t.Fatalf("forwarded\n%q\nwant\n%q", strings.Join(bodies, "|"), want)
	}
	for _, v := range got {
		switch {
		case v.IQ != nil && v.IQ.ID == "push1":
			if it := v.IQ.Roster.Items; len(it) != 1 || it[0].JID != "friend@localhost" || it[0].Ask != "subscribe" || it[0].Groups[0] != "G" {
				t.Fatalf("push %+v", it)
			}
		case v.IQ != nil && v.IQ.ID == "err1":
			if c := v.IQ.Error.Condition(); c != "item-not-found" {
				t.Fatalf("condition %q", c)
			}
		case v.Msg != nil && v.Msg.Type == "error":
			if c := v.Msg.Error.Condition(); c != "service-unavailable" {
				t.Fatalf("condition %q", c)
			}
		case v.Pres != nil:
			if v.Pres.Priority != 5 || v.Pres.Status != "out" {
				t.Fatalf("presence %+v", v.Pres)
			}
		}
	}

	r := replies(fs, "ping2")
	for id, typ := range map[string]string{
		"ping1": `type="result"`, "ping2": `type="result"`,
		"unknown": "service-unavailable", "empty": "service-unavailable", "text": "service-unavailable",
		"forged": "service-unavailable", "push1": `type="result"`, "push2": `type="result"`,
	} {
		if len(r[id]) != 1 || !strings.Contains(r[id][0], typ) {
			t.Errorf("reply to %s: %q, want one with %s", id, r[id], typ)
		}
	}
	for _, id := range []string{"bogus", "res1", "res2", "err1"} {
		if len(r[id]) != 0 {
			t.Errorf("answered %s: %q", id, r[id])
		}
	}
}

// TestHandlerExtensions: handlers registered on the mux answer their own
// payload; the rest of the handling is unchanged, and a message reaches
// the loop once however many handlers look at it.
func TestHandlerExtensions(t *testing.T) {
	ext := xml.Name{Space: "urn:example:ext", Local: "query"}
	receipt := xml.Name{Space: "urn:xmpp:receipts", Local: "request"}
	seen := make(chan string, 8)
	fs, in := served(t,
		mux.IQFunc(stanza.GetIQ, ext, func(iq stanza.IQ, t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			_, err := xmlstream.Copy(t, iq.Result(nil))
			return err
		}),
		mux.MessageFunc(stanza.ChatMessage, receipt, func(m stanza.Message, _ xmlstream.TokenReadEncoder) error {
			seen <- m.ID
			return nil
		}))
	fs.send(`<iq xmlns='jabber:client' type='get' id='e1' from='localhost'><query xmlns='urn:example:ext'/></iq>`)
	fs.send(`<iq xmlns='jabber:client' type='get' id='e2' from='localhost'><query xmlns='urn:example:other'/></iq>`)
	fs.send(`<message xmlns='jabber:client' id='m1' from='bob@localhost/x' type='chat'><body>hi</body><request xmlns='urn:xmpp:receipts'/></message>`)
	fs.send(`<message xmlns='jabber:client' from='bob@localhost/x' type='chat'><body>sentinel</body></message>`)
	fs.send(`<iq xmlns='jabber:client' type='get' id='last' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	got := until(t, in, "sentinel")
	if len(got) != 2 || got[0].Msg == nil || got[0].Msg.ID != "m1" {
		t.Fatalf("forwarded %+v", got)
	}
	if id := <-seen; id != "m1" || len(seen) != 0 {
		t.Fatalf("receipt handler saw %q (+%d more)", id, len(seen))
	}
	r := replies(fs, "last")
	if len(r["e1"]) != 1 || !strings.Contains(r["e1"][0], `type="result"`) {
		t.Fatalf("extension reply %q", r["e1"])
	}
	if len(r["e2"]) != 1 || !strings.Contains(r["e2"][0], "service-unavailable") {
		t.Fatalf("unhandled reply %q", r["e2"])
	}
}
