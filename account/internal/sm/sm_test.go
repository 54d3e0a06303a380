package sm

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/mux"
)

// pipe is the client end of an in-memory link whose other end a test
// scripts as the server, in XML text.
type pipe struct {
	r   xml.TokenReader
	w   xmlstream.TokenWriteFlusher
	srv net.Conn
	got chan string // what the client wrote, one element at a time
}

func newPipe(t *testing.T) *pipe {
	t.Helper()
	c, s := net.Pipe()
	t.Cleanup(func() { c.Close(); s.Close() })
	p := &pipe{r: xml.NewDecoder(c), w: xml.NewEncoder(c), srv: s, got: make(chan string, 8)}
	go func() {
		d := xml.NewDecoder(s)
		for {
			tok, err := d.RawToken()
			if err != nil {
				close(p.got)
				return
			}
			if st, ok := tok.(xml.StartElement); ok {
				var b strings.Builder
				b.WriteString("<" + st.Name.Local)
				for _, a := range st.Attr {
					if a.Name.Local != "xmlns" {
						b.WriteString(" " + a.Name.Local + "='" + a.Value + "'")
					}
				}
				b.WriteString("/>")
				_ = d.Skip()
				p.got <- b.String()
			}
		}
	}()
	return p
}

// expect reads the client's next element and then answers with reply.
func (p *pipe) expect(t *testing.T, want, reply string) {
	t.Helper()
	select {
	case got := <-p.got:
		if got != want {
			t.Errorf("client sent %s, want %s", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("client sent nothing, want %s", want)
	}
	go func() { _, _ = io.WriteString(p.srv, reply) }()
}

func items(its []Item) []uint32 {
	var out []uint32
	for _, it := range its {
		out = append(out, it.Seq)
	}
	return out
}

func eq(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func enabled(t *testing.T) *Stream {
	t.Helper()
	st := New()
	p := newPipe(t)
	done := make(chan error, 1)
	go func() { done <- Enable(context.Background(), p.r, p.w, st) }()
	p.expect(t, "<enable resume='true'/>", "<enabled xmlns='urn:xmpp:sm:3' id='s1' resume='true' max='60'/>")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	o := st.TakeOutcome()
	if !o.Enabled || !st.CanResume() || !st.Enabled() {
		t.Fatalf("after <enabled/>: outcome %+v, resumable %v", o, st.CanResume())
	}
	return st
}

// TestEnableThenResumeResendsUnacked: three stanzas go out, the server
// acked one before the drop and says in <resumed h='2'/> it had two: only
// the third comes back to be resent, and our h (two handled) is in the
// <resume/>.
func TestEnableThenResumeResendsUnacked(t *testing.T) {
	st := enabled(t)
	for i := 1; i <= 3; i++ {
		st.Sent(i, "line")
	}
	st.Handled()
	st.Handled()
	if acked, err := st.Ack(1); err != nil || !eq(items(acked), []uint32{1}) {
		t.Fatalf("Ack(1) = %v, %v", items(acked), err)
	}
	st.Detach()
	st.Sent("not counted while detached", nil)
	st.Handled()

	p := newPipe(t)
	done := make(chan error, 1)
	var resumed bool
	go func() {
		var err error
		resumed, err = Resume(context.Background(), p.r, p.w, st)
		done <- err
	}()
	p.expect(t, "<resume h='2' previd='s1'/>", "<resumed xmlns='urn:xmpp:sm:3' h='2' previd='s1'/>")
	if err := <-done; err != nil || !resumed {
		t.Fatalf("Resume = %v, %v", resumed, err)
	}
	o := st.TakeOutcome()
	if !o.Resumed || !eq(items(o.Acked), []uint32{2}) || !eq(items(o.Resend), []uint32{3}) || len(o.Lost) != 0 {
		t.Fatalf("outcome: resumed %v acked %v resend %v lost %v", o.Resumed, items(o.Acked), items(o.Resend), items(o.Lost))
	}
	if o.Resend[0].Stanza != 3 {
		t.Fatalf("resend carries %v", o.Resend[0].Stanza)
	}
	// The resent stanza is counted again as the next after h=2.
	st.Sent(3, "line")
	if acked, err := st.Ack(3); err != nil || !eq(items(acked), []uint32{3}) {
		t.Fatalf("after resume Ack(3) = %v, %v", items(acked), err)
	}
}

// TestResumeFailedHandsBackLost: <failed h='1'/> acknowledges one, the
// other is lost (for the caller to requeue) and the stream is gone.
func TestResumeFailedHandsBackLost(t *testing.T) {
	st := enabled(t)
	st.Sent("a", "line a")
	st.Sent("b", "line b")
	st.Detach()
	p := newPipe(t)
	done := make(chan bool, 1)
	go func() {
		ok, err := Resume(context.Background(), p.r, p.w, st)
		if err != nil {
			t.Error(err)
		}
		done <- ok
	}()
	p.expect(t, "<resume h='0' previd='s1'/>",
		"<failed xmlns='urn:xmpp:sm:3' h='1'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>")
	if <-done {
		t.Fatal("resumed after <failed/>")
	}
	o := st.TakeOutcome()
	if o.Resumed || !eq(items(o.Acked), []uint32{1}) || !eq(items(o.Lost), []uint32{2}) || o.Lost[0].Tag != "line b" {
		t.Fatalf("outcome %+v", o)
	}
	if !strings.Contains(o.Failed, "item-not-found") {
		t.Errorf("reason %q", o.Failed)
	}
	if st.CanResume() || st.Enabled() {
		t.Fatal("stream still resumable after <failed/>")
	}
}

// TestEnableFailedMeansNoSM: a server refusing <enable/> leaves the
// session without stream management, and what an earlier stream left
// unacknowledged is handed back as lost.
func TestEnableFailedMeansNoSM(t *testing.T) {
	st := enabled(t)
	st.Sent("x", "line x")
	st.Detach()
	p := newPipe(t)
	done := make(chan error, 1)
	go func() { done <- Enable(context.Background(), p.r, p.w, st) }()
	p.expect(t, "<enable resume='true'/>", "<failed xmlns='urn:xmpp:sm:3'><unexpected-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	o := st.TakeOutcome()
	if o.Enabled || st.Enabled() || !eq(items(o.Lost), []uint32{1}) {
		t.Fatalf("outcome %+v", o)
	}
	st.Sent("y", nil)
	if st.Outstanding() != 0 {
		t.Fatal("counted without stream management")
	}
}

// TestAckCounts: h beyond what we sent is refused without changing
// anything; the counter wraps at 2^32 (XEP-0198 §4).
func TestAckCounts(t *testing.T) {
	st := enabled(t)
	st.Sent(1, "l")
	if _, err := st.Ack(2); !errors.Is(err, ErrBadAck) {
		t.Fatalf("Ack beyond sent: %v", err)
	}
	if st.Outstanding() != 1 {
		t.Fatal("a bad ack changed the queue")
	}
	st.acked, st.out = ^uint32(0)-1, ^uint32(0)-1
	st.queue = nil
	for i := 0; i < 3; i++ {
		st.Sent(i, "l") // seq 2^32-1, 0, 1
	}
	acked, err := st.Ack(1)
	if err != nil || len(acked) != 3 {
		t.Fatalf("wrapped Ack = %v, %v", items(acked), err)
	}
}

// rw is a TokenReadEncoder over a buffer for handler tests.
type rw struct {
	xml.TokenReader
	*xml.Encoder
}

// TestHandleAnswersRAndAppliesA: <r/> is answered with our h through
// the handler's encoder; <a/> hands the acknowledged items over; a bad h
// is reported, never applied.
func TestHandleAnswersRAndAppliesA(t *testing.T) {
	st := enabled(t)
	st.Handled()
	st.Handled()
	st.Sent("m1", "line 1")
	st.Sent("m2", "line 2")
	var got [][]Item
	var bad []error
	m := mux.New("jabber:client", Handle(st, func(it []Item) { got = append(got, it) }, func(err error) { bad = append(bad, err) })...)

	var out bytes.Buffer
	enc := xml.NewEncoder(&out)
	run := func(el string) {
		d := xml.NewDecoder(strings.NewReader(el))
		tok, _ := d.Token()
		start := tok.(xml.StartElement)
		if err := m.HandleXMPP(rw{d, enc}, &start); err != nil {
			t.Fatalf("%s: %v", el, err)
		}
		_ = enc.Flush()
	}
	run("<r xmlns='urn:xmpp:sm:3'/>")
	if want := `<a xmlns="urn:xmpp:sm:3" h="2"></a>`; out.String() != want {
		t.Fatalf("answer to <r/>: %s, want %s", out.String(), want)
	}
	run("<a xmlns='urn:xmpp:sm:3' h='1'/>")
	run("<a xmlns='urn:xmpp:sm:3' h='7'/>")
	run("<a xmlns='urn:xmpp:sm:3' h='x'/>")
	if len(got) != 1 || !eq(items(got[0]), []uint32{1}) || got[0][0].Tag != "line 1" {
		t.Fatalf("acked %v", got)
	}
	if len(bad) != 2 || st.Outstanding() != 1 {
		t.Fatalf("bad acks %v, outstanding %d", bad, st.Outstanding())
	}
}

// TestCounterCountsStanzasOnly: a reply written by a handler counts once
// per top-level stanza, whatever is nested in it; <a/> does not count.
func TestCounterCountsStanzasOnly(t *testing.T) {
	st := enabled(t)
	var out bytes.Buffer
	c := &Counter{TokenReadEncoder: rw{nil, xml.NewEncoder(&out)}, St: st}
	type iq struct {
		XMLName xml.Name `xml:"jabber:client iq"`
		ID      string   `xml:"id,attr"`
		Query   struct {
			Inner []struct{} `xml:"item"`
		} `xml:"jabber:iq:roster query"`
	}
	if err := c.Encode(iq{ID: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := WriteAck(c, 0); err != nil {
		t.Fatal(err)
	}
	pres := xml.StartElement{Name: xml.Name{Space: "jabber:client", Local: "presence"}}
	_ = c.EncodeToken(pres)
	_ = c.EncodeToken(pres.End())
	st.mu.Lock()
	n := st.out
	st.mu.Unlock()
	if n != 2 {
		t.Fatalf("counted %d stanzas, want 2 (iq, presence)", n)
	}
}

// FuzzReply: whatever the server answers to <enable/> or <resume/>,
// Enable and Resume return (an error or an outcome) without panicking.
func FuzzReply(f *testing.F) {
	for _, s := range []string{
		"<enabled xmlns='urn:xmpp:sm:3' id='a' resume='true' max='9'/>",
		"<resumed xmlns='urn:xmpp:sm:3' h='4294967295' previd='a'/>",
		"<failed xmlns='urn:xmpp:sm:3' h='-1'><x/></failed>",
		"<resumed xmlns='urn:xmpp:sm:3' h='99999999999'/>",
		"<other/><a xmlns='urn:xmpp:sm:3'/>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		for _, resume := range []bool{false, true} {
			st := New()
			st.enabledNow("id", 0)
			st.Sent(1, "x")
			st.Detach()
			r := xml.NewDecoder(strings.NewReader(reply))
			w := xml.NewEncoder(io.Discard)
			if resume {
				_, _ = Resume(context.Background(), r, w, st)
			} else {
				_ = Enable(context.Background(), r, w, st)
			}
			o := st.TakeOutcome()
			if n := len(o.Acked) + len(o.Resend) + len(o.Lost) + st.Outstanding(); n > 1 {
				t.Fatalf("one stanza became %d: %+v", n, o)
			}
		}
	})
}

// resumeReply runs Resume against one scripted reply.
func resumeReply(t *testing.T, st *Stream, want, reply string) bool {
	t.Helper()
	p := newPipe(t)
	done := make(chan bool, 1)
	go func() {
		ok, err := Resume(context.Background(), p.r, p.w, st)
		if err != nil {
			t.Error(err)
		}
		done <- ok
	}()
	p.expect(t, want, reply)
	return <-done
}

// TestUntakenResumeKeepsResend: a resumption hands back two stanzas to
// resend, and the link dies before the session is used (nobody takes the
// outcome). The next resumption must hand them back again, and a failed
// one must hand them back as lost: before, the second negotiation
// replaced the outcome and they were neither resent nor requeued (seen in
// TestLinkCutsThousandMessagesNoLoss as lines stuck in Sending).
func TestUntakenResumeKeepsResend(t *testing.T) {
	for _, tc := range []struct {
		name, reply string
		resumed     bool
	}{
		{"resumed again", "<resumed xmlns='urn:xmpp:sm:3' h='1' previd='s1'/>", true},
		{"failed", "<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := enabled(t)
			for i := 1; i <= 3; i++ {
				st.Sent(i, "line")
			}
			st.Detach()
			if !resumeReply(t, st, "<resume h='0' previd='s1'/>", "<resumed xmlns='urn:xmpp:sm:3' h='1' previd='s1'/>") {
				t.Fatal("first resumption failed")
			}
			st.Detach() // the link dies before the session is used
			if got := resumeReply(t, st, "<resume h='0' previd='s1'/>", tc.reply); got != tc.resumed {
				t.Fatalf("second resumption: resumed %v", got)
			}
			o := st.TakeOutcome()
			back := o.Resend
			if !tc.resumed {
				back = o.Lost
				if len(o.Resend) != 0 || o.Resumed {
					t.Fatalf("failed, yet resend %v resumed %v", items(o.Resend), o.Resumed)
				}
			}
			if !eq(items(o.Acked), []uint32{1}) || !eq(items(back), []uint32{2, 3}) {
				t.Fatalf("outcome: acked %v, handed back %v (want 1; 2 3)", items(o.Acked), items(back))
			}
		})
	}
}

// TestEarlyStanzaKept: a message (and a presence) the server routes to
// the new session before it answers <enable/> is kept, in order, for the
// session to handle, not skipped; anything else interleaved is skipped;
// nothing of it counts (XEP-0198 counts from <enabled/> on).
func TestEarlyStanzaKept(t *testing.T) {
	st := New()
	r := xml.NewDecoder(strings.NewReader(`<message xmlns='jabber:client' from='alice@localhost/sotto' type='chat' id='m1'>` +
		`<body>this one stays</body><request xmlns='urn:xmpp:receipts'/></message>` +
		`<junk xmlns='urn:example'><deep/></junk>` +
		`<presence xmlns='jabber:client' from='alice@localhost/sotto'/>` +
		`<enabled xmlns='urn:xmpp:sm:3' id='s1' resume='true'/>`))
	var w bytes.Buffer
	if err := Enable(context.Background(), r, xml.NewEncoder(&w), st); err != nil || !st.Enabled() {
		t.Fatalf("enable: %v", err)
	}
	early := st.TakeEarly()
	if len(early) != 2 || early[0].Start.Name.Local != "message" || early[1].Start.Name.Local != "presence" {
		t.Fatalf("kept %+v, want the message and the presence", early)
	}
	toks := early[0].Inner
	d := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(early[0].Start), xmlstream.ReaderFunc(func() (xml.Token, error) {
		if len(toks) == 0 {
			return nil, io.EOF
		}
		tok := toks[0]
		toks = toks[1:]
		return tok, nil
	})))
	var m struct {
		Body string `xml:"body"`
	}
	if err := d.Decode(&m); err != nil || m.Body != "this one stays" {
		t.Fatalf("kept message: body %q, %v", m.Body, err)
	}
	if again := st.TakeEarly(); len(again) != 0 {
		t.Fatalf("TakeEarly gave %d stanzas a second time", len(again))
	}
	st.mu.Lock()
	h := st.in
	st.mu.Unlock()
	if h != 0 {
		t.Fatalf("the early stanzas counted as handled: h=%d", h)
	}
}
