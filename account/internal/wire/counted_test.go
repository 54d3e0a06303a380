package wire

import (
	"context"
	"encoding/xml"
	"strings"
	"testing"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/mux"
	"mellium.im/xmpp/stanza"

	"github.com/sotto-im/sotto/account/internal/sm"
)

// nopFlusher is a TokenWriteFlusher that drops what it is given.
type nopFlusher struct{}

func (nopFlusher) EncodeToken(xml.Token) error { return nil }
func (nopFlusher) Flush() error                { return nil }

// enabledStream is an sm.Stream as after the server's <enabled/>.
func enabledStream(t *testing.T) *sm.Stream {
	t.Helper()
	st := sm.New()
	r := xml.NewDecoder(strings.NewReader(`<enabled xmlns='urn:xmpp:sm:3' id='s1' resume='true'/>`))
	if err := sm.Enable(ctxT(t), r, nopFlusher{}, st); err != nil || !st.Enabled() {
		t.Fatalf("enable: %v", err)
	}
	return st
}

// TestCountedHandlerAnswersDeclinedIQs: an IQ get or set that a handler
// declines (an extension that returns without writing, a roster push from
// a stranger) and one nobody handles are answered service-unavailable
// from the handler, so the answers are counted: otherwise Serve writes
// them behind the stream's back and the server's count runs ahead of
// ours (its next <a/> would read as acknowledging stanzas never sent).
func TestCountedHandlerAnswersDeclinedIQs(t *testing.T) {
	p, srv, _, _, _ := pipeServer(t, serverOpts{password: true})
	sess, raw, err := Dial(ctxT(t), p)
	if err != nil {
		t.Fatal(err)
	}
	fs := <-srv
	st := enabledStream(t)
	ctx, cancel := context.WithCancel(context.Background())
	in := make(chan Inbound, 64)
	done := make(chan error, 1)
	decline := mux.IQFunc(stanza.GetIQ, xml.Name{Space: "urn:example:decline", Local: "query"},
		func(stanza.IQ, xmlstream.TokenReadEncoder, *xml.StartElement) error { return nil })
	go func() { done <- sess.Serve(CountedHandler(ctx, in, st, decline)) }()
	t.Cleanup(func() {
		cancel()
		raw.Close()
		<-done
	})
	fs.send(`<iq type='get' id='d1' from='bob@localhost/x'><query xmlns='urn:example:decline'/></iq>`)
	fs.send(`<iq type='set' id='d2' from='mallory@localhost/x'><query xmlns='jabber:iq:roster'/></iq>`)
	fs.send(`<iq type='get' id='d3' from='bob@localhost/x'><query xmlns='urn:example:nobody'/></iq>`)
	got := replies(fs, "d3")
	for _, id := range []string{"d1", "d2", "d3"} {
		if len(got[id]) != 1 || !strings.Contains(got[id][0], "service-unavailable") {
			t.Fatalf("answers to %s: %q", id, got[id])
		}
	}
	// All three answers were counted: the server may acknowledge 3.
	if _, err := st.Ack(3); err != nil {
		t.Fatalf("the handler's answers were not all counted: %v", err)
	}
	if n := st.In(); n != 3 {
		t.Fatalf("%d inbound stanzas counted, want 3", n)
	}
}

// discard is an Encoder that drops what it is given.
type discard struct{ nopFlusher }

func (discard) Encode(interface{}) error                          { return nil }
func (discard) EncodeElement(interface{}, xml.StartElement) error { return nil }

// TestCutStanzaNotCounted: a message the link cut off in the middle is
// neither handed to the loop nor counted as handled (the server sends it
// again after a resumption; counting it lost a line for good, seen in
// account's TestLinkCutsThousandMessagesNoLoss); a whole one is both.
func TestCutStanzaNotCounted(t *testing.T) {
	st := enabledStream(t)
	in := make(chan Inbound, 4)
	h := CountedHandler(ctxT(t), in, st)
	feed := func(stanza string) error {
		d := xml.NewDecoder(strings.NewReader(stanza))
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		start := tok.(xml.StartElement)
		return h.HandleXMPP(struct {
			xml.TokenReader
			xmlstream.Encoder
		}{d, discard{}}, &start)
	}
	if err := feed(`<message xmlns='jabber:client' type='chat' from='bob@localhost/x' id='m1'><body>line 3`); err == nil {
		t.Error("a cut-off message was handled without error")
	}
	if n := st.In(); n != 0 || len(in) != 0 {
		t.Fatalf("a cut-off message: %d counted, %d handed over; want 0, 0", n, len(in))
	}
	if err := feed(`<message xmlns='jabber:client' type='chat' from='bob@localhost/x' id='m2'><body>line 4</body></message>`); err != nil {
		t.Fatal(err)
	}
	if n := st.In(); n != 1 || len(in) != 1 {
		t.Fatalf("a whole message: %d counted, %d handed over; want 1, 1", n, len(in))
	}
	if v := <-in; v.Msg == nil || v.Msg.ID != "m2" {
		t.Fatalf("handed over %+v, want message m2", v)
	}
}

// nopCloser is a TokenWriteFlushCloser that drops what it is given.
type nopCloser struct{ nopFlusher }

func (nopCloser) Close() error { return nil }

// TestHandleEarlyForwardsUncounted: a message that came before
// <enabled/> reaches the loop like any other, but is not counted as
// handled (the server did not count it either); one after it is.
func TestHandleEarlyForwardsUncounted(t *testing.T) {
	st := sm.New()
	r := xml.NewDecoder(strings.NewReader(`<message xmlns='jabber:client' from='alice@localhost/sotto' to='bob@localhost/sotto' type='chat' id='m1'>` +
		`<body>this one stays</body></message><enabled xmlns='urn:xmpp:sm:3' id='s1' resume='true'/>`))
	if err := sm.Enable(ctxT(t), r, nopFlusher{}, st); err != nil || !st.Enabled() {
		t.Fatalf("enable: %v", err)
	}
	in := make(chan Inbound, 4)
	h := CountedHandler(context.Background(), in, st)
	HandleEarly(h, func() xmlstream.TokenWriteFlushCloser { return nopCloser{} }, st.TakeEarly())
	select {
	case v := <-in:
		if v.Msg == nil || v.Msg.Body == nil || *v.Msg.Body != "this one stays" {
			t.Fatalf("forwarded %+v, want the early message", v)
		}
	default:
		t.Fatal("the early message was not handed to the loop")
	}
	if n := st.In(); n != 0 {
		t.Fatalf("the early message counted as handled: h=%d", n)
	}
	late := `<message xmlns='jabber:client' from='alice@localhost/sotto' type='chat' id='m2'><body>later</body></message>`
	d := xml.NewDecoder(strings.NewReader(late))
	tok, _ := d.Token()
	start := tok.(xml.StartElement)
	if err := h.HandleXMPP(replayRW{d, tokenEncoder{nopCloser{}}}, &start); err != nil {
		t.Fatal(err)
	}
	<-in
	if n := st.In(); n != 1 {
		t.Fatalf("a message after <enabled/>: h=%d, want 1", n)
	}
}
