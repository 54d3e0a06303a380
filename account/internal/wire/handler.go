package wire

// The inbound side: what Session.Serve runs.

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/mux"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"

	"github.com/sotto-im/sotto/account/internal/sm"
)

// Handler returns what Session.Serve runs for one session. Every
// top-level <message/>, <presence/> and <iq/> is decoded whole and sent to
// in as an Inbound; sending waits for the loop or for ctx.
//
// IQs are routed through a mux.ServeMux:
//   - get ping: answered by mellium's ping package (XEP-0199);
//   - set jabber:iq:roster query: a roster push, answered with a result
//     and forwarded when it comes from our own account (RFC 6121 §2.1.6:
//     ignore pushes from anyone else), otherwise left unanswered;
//   - result and error: forwarded (the loop matches them to what it sent);
//   - any other get or set, and one a handler declines (returns without
//     answering): answered service-unavailable from here, the answer
//     Serve would give (so a handler added for one payload answers that
//     payload and nothing else changes), but counted for stream
//     management (CountedHandler).
//
// opts register more handlers on that mux (disco, receipts, stream
// management elements, …); a more specific IQ pattern wins over the
// wildcards above. Message and presence handlers registered there see
// each stanza after it was forwarded; other top-level elements go to the
// mux as they come.
//
// Why message and presence are decoded here and not by a mux handler:
// mux.ServeMux calls a message or presence handler once per child element
// (a wildcard handler would see a message with a body and a chat state
// twice) and never for a stanza without element children; it only matches
// exact types (no wildcard type); and it turns an unparsable from or to
// address into an error that makes Serve close the stream, which today's
// behaviour (and TestPipeOddStanzas) does not allow. So the handler
// decodes the stanza once, forwards it, and only then replays it to the
// mux, if mux can parse its addresses.
//
// For the same reason an IQ only reaches the mux if mux can route it: a
// client-namespace IQ of type get, set, result or error with parsable
// addresses whose first child (after whitespace) is an element — or, for a
// result, no child at all. mux fails anything else with an error that
// would end the stream (an empty get even reads as the end of the stream)
// before any handler sees it, and answers an IQ of unknown type, which
// Serve does not. Such an IQ gets today's treatment: a result or error is
// forwarded, a get or set is answered service-unavailable. The one difference from the
// hand-written handler this replaced: a ping that mux cannot route (only a
// broken server sends one: the server stamps the addresses) is no longer
// answered by us, and a ping or roster push counts only as the IQ's first
// child (RFC 6120 §8.2.3: an IQ get or set has exactly one payload).
//
// The handler never returns an error for a whole stanza, which would make
// Serve close the stream: an undecodable message or presence becomes an
// Inbound with Bad set, an undecodable IQ is left to Serve. A stanza cut
// off by the end of the stream returns the read error (the stream is gone
// anyway) and is not counted, so a resumption gets it again. Handlers run on Serve's
// goroutine and must not call the session's Send methods (deadlock):
// replies go through the token encoder.
func Handler(ctx context.Context, in chan<- Inbound, opts ...mux.Option) xmpp.Handler {
	return CountedHandler(ctx, in, nil, opts...)
}

// CountedHandler is Handler with XEP-0198 stream management on st (nil:
// none): every stanza is counted in st once it was handed to the loop (or
// handled here), every stanza a handler writes is counted as sent, <r/>
// is answered and <a/> is forwarded as an Inbound with Acked set.
//
// So that our outbound count matches the server's, no stanza may be
// written behind st's back: the IQ gets and sets nobody answers get their
// service-unavailable error from here, not from Serve (whose own reply
// would not be counted).
func CountedHandler(ctx context.Context, in chan<- Inbound, st *sm.Stream, opts ...mux.Option) xmpp.Handler {
	h := &handler{ctx: ctx, in: in, st: st}
	if st == nil {
		h.st = sm.New() // never enabled: counts nothing
	}
	base := []mux.Option{
		ping.Handle(),
		mux.IQFunc(stanza.SetIQ, xml.Name{Space: NSRoster, Local: "query"}, h.rosterPush),
		// XEP-0191 §3.3/3.4 pushes, same rules as roster pushes.
		mux.IQFunc(stanza.SetIQ, xml.Name{Space: NSBlocking, Local: "block"}, h.rosterPush),
		mux.IQFunc(stanza.SetIQ, xml.Name{Space: NSBlocking, Local: "unblock"}, h.rosterPush),
		mux.IQFunc(stanza.ResultIQ, xml.Name{}, h.reply),
		mux.IQFunc(stanza.ErrorIQ, xml.Name{}, h.reply),
		// Not mux's own fallback: it answers with to and from swapped
		// where Serve answers with to only, as Sotto always did.
		mux.IQFunc(stanza.GetIQ, xml.Name{}, h.unavailable),
		mux.IQFunc(stanza.SetIQ, xml.Name{}, h.unavailable),
	}
	base = append(base, sm.Handle(h.st,
		func(items []sm.Item) { h.forward(Inbound{Acked: append([]sm.Item{}, items...)}) },
		func(err error) { h.forward(Inbound{SMErr: err}) })...)
	h.mux = mux.New(NSClient, append(base, opts...)...)
	return h
}

type handler struct {
	ctx context.Context
	in  chan<- Inbound
	st  *sm.Stream
	// dead: a hand-over to the loop was abandoned (ctx ended); nothing
	// after that counts as handled.
	dead bool
	mux  *mux.ServeMux
	// cur is the IQ being routed through mux, decoded whole; set only
	// during that call (Serve calls the handler from one goroutine).
	cur *IQ
	// early: the stanza came before <enabled/> (HandleEarly) and is not
	// counted as handled.
	early bool
}

// HandleEarly runs the stanzas that came before stream management was
// enabled (sm.Stream.TakeEarly) through h, a CountedHandler, as Serve
// runs the others, but uncounted: the server counts from <enabled/> on
// too. Replies go to a writer from writer (the session's TokenWriter).
// Call it before Serve, on Serve's goroutine (it hands what it reads to
// the loop, which may be busy starting the session), so the order of the
// stream is kept.
func HandleEarly(h xmpp.Handler, writer func() xmlstream.TokenWriteFlushCloser, early []sm.Early) {
	hh, ok := h.(*handler)
	if !ok || len(early) == 0 {
		return
	}
	hh.early = true
	defer func() { hh.early = false }()
	for _, e := range early {
		w := writer()
		start := e.Start
		_ = hh.HandleXMPP(replayRW{&replay{toks: e.Inner}, tokenEncoder{w}}, &start)
		_ = w.Flush()
		_ = w.Close()
	}
}

// tokenEncoder is an xmlstream.Encoder over a token writer.
type tokenEncoder struct {
	w xmlstream.TokenWriteFlushCloser
}

func (e tokenEncoder) EncodeToken(t xml.Token) error { return e.w.EncodeToken(t) }
func (e tokenEncoder) Flush() error                  { return e.w.Flush() }
func (e tokenEncoder) Encode(v any) error            { return encodeTo(e.w, v) }
func (e tokenEncoder) EncodeElement(v any, start xml.StartElement) error {
	var b bytes.Buffer
	enc := xml.NewEncoder(&b)
	if err := enc.EncodeElement(v, start); err != nil {
		return err
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	return copyXML(e.w, b.Bytes())
}

func (h *handler) HandleXMPP(rw xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	ans := &answerChecker{TokenReadEncoder: rw, id: attrValue(start, "id")}
	t := &sm.Counter{TokenReadEncoder: ans, St: h.st}
	if start.Name.Local == "iq" {
		// A get or set nobody answered gets its error from here, counted
		// (see CountedHandler), not from Serve: an extension handler that
		// declines (version hidden, a roster push from a stranger) just
		// returns, as it would with Serve answering.
		switch attrValue(start, "type") {
		case "get", "set":
			defer func() {
				if !ans.answered {
					writeUnavailable(t, start)
				}
			}()
		}
	}
	switch start.Name.Local {
	case "message", "presence", "iq":
	default:
		return h.mux.HandleXMPP(t, start)
	}
	// Counted when we are done with it: forwarded to the loop (which
	// handles everything it accepted, see account's endSession) or
	// answered here. A stanza cut off by the link is not counted, so the
	// server sends it again after a resumption.
	toks, err := sm.ReadInner(t)
	if err != nil {
		// Cut off: the link died (or the stream broke) inside the stanza.
		// It is neither counted nor handed over; the server sends it
		// again after a resumption. Counting it lost the line for good
		// (TestLinkCutsThousandMessagesNoLoss; TestCutStanzaNotCounted).
		return err
	}
	if (start.Name.Space == NSClient || start.Name.Space == "") && !h.early {
		defer func() {
			if !h.dead {
				h.st.Handled()
			}
		}()
	}
	d := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), &replay{toks: toks}))
	switch start.Name.Local {
	case "message":
		var m Message
		if d.Decode(&m) != nil {
			h.forward(Inbound{Bad: "a message could not be read"})
			return nil
		}
		h.forward(Inbound{Msg: &m})
		if _, perr := stanza.NewMessage(*start); perr == nil {
			// Extension handlers only; their errors must not end the stream.
			_ = h.mux.HandleXMPP(replayRW{&replay{toks: toks}, t}, start)
		}
	case "presence":
		var p Presence
		if d.Decode(&p) != nil {
			h.forward(Inbound{Bad: "a presence update could not be read"})
			return nil
		}
		h.forward(Inbound{Pres: &p})
		if _, perr := stanza.NewPresence(*start); perr == nil {
			_ = h.mux.HandleXMPP(replayRW{&replay{toks: toks}, t}, start)
		}
	case "iq":
		var q IQ
		if d.Decode(&q) != nil {
			return nil // a get/set is answered service-unavailable (deferred above)
		}
		if !routable(start, toks) {
			switch q.Type {
			case "result", "error":
				h.forward(Inbound{IQ: &q})
			case "get", "set":
				writeUnavailable(t, start)
			}
			return nil
		}
		h.cur = &q
		// A failed reply write also fails Serve's own flush; nothing here
		// ends the stream by itself.
		_ = h.mux.HandleXMPP(replayRW{&replay{toks: toks}, t}, start)
		h.cur = nil
	}
	return nil
}

// reply forwards an IQ result or error to the loop.
func (h *handler) reply(stanza.IQ, xmlstream.TokenReadEncoder, *xml.StartElement) error {
	h.forward(Inbound{IQ: h.cur})
	return nil
}

// rosterPush answers and forwards a roster push (or a XEP-0191 block or
// unblock push) from our own account. mellium's roster.Handle is not
// used: it does not check who sent the push, decodes only one item (and
// no ask attribute), and a push it cannot decode ends the stream;
// blocklist.Handle has the same problems and panics on an item whose jid
// does not parse (jid.MustParse).
func (h *handler) rosterPush(_ stanza.IQ, t xmlstream.TokenReadEncoder, _ *xml.StartElement) error {
	q := h.cur
	// mellium blanks a from equal to our bare JID, so "" is the only
	// accepted value (RFC 6121 §2.1.6).
	if (q.Roster == nil && q.Block == nil && q.Unblock == nil) || q.From != "" {
		return nil // answered service-unavailable (HandleXMPP)
	}
	_ = t.Encode(OutIQ{ID: q.ID, Type: "result"})
	// Having written the result, this handler holds the session's write
	// lock until it returns; blocking on a full channel here while the
	// loop waits for that lock to send would deadlock. Hand over without
	// blocking.
	v := Inbound{IQ: q}
	select {
	case h.in <- v:
	default:
		go func() {
			select {
			case h.in <- v:
			case <-h.ctx.Done():
			}
		}()
	}
	return nil
}

// answerChecker notes whether an answer to the IQ with this id was
// written (a result or error with the same id), as Serve's own check does.
type answerChecker struct {
	xmlstream.TokenReadEncoder
	id       string
	level    int
	answered bool
}

func (a *answerChecker) EncodeToken(t xml.Token) error {
	switch tok := t.(type) {
	case xml.StartElement:
		if a.level == 0 && tok.Name.Local == "iq" && attrValue(&tok, "id") == a.id {
			if typ := attrValue(&tok, "type"); typ != "get" && typ != "set" {
				a.answered = true
			}
		}
		a.level++
	case xml.EndElement:
		a.level--
	}
	return a.TokenReadEncoder.EncodeToken(t)
}

func attrValue(start *xml.StartElement, local string) string {
	for _, a := range start.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// unavailable answers an IQ get or set nobody handles, as Serve would
// (to = the sender, no from), but counted (see CountedHandler).
func (h *handler) unavailable(_ stanza.IQ, t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	writeUnavailable(t, start)
	return nil
}

// writeUnavailable writes Serve's own answer to an unanswered IQ get or
// set through t. If the sender's address cannot be parsed it writes
// nothing: Serve then fails the stream, as it always did.
func writeUnavailable(t xmlstream.TokenWriter, start *xml.StartElement) {
	var id, from string
	for _, a := range start.Attr {
		switch a.Name.Local {
		case "id":
			id = a.Value
		case "from":
			from = a.Value
		}
	}
	var to jid.JID
	if from != "" {
		var err error
		if to, err = jid.Parse(from); err != nil {
			return
		}
	}
	_, _ = xmlstream.Copy(t, stanza.IQ{ID: id, Type: stanza.ErrorIQ, To: to}.Wrap(
		stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable}.TokenReader()))
}

func (h *handler) forward(v Inbound) {
	select {
	case h.in <- v:
	case <-h.ctx.Done():
		h.dead = true
	}
}

// routable reports whether mux can route this IQ without ending the
// stream (see Handler). toks are its inner tokens and its end element.
func routable(start *xml.StartElement, toks []xml.Token) bool {
	if start.Name.Space != NSClient {
		return false
	}
	iq, err := stanza.NewIQ(*start)
	if err != nil {
		return false
	}
	switch iq.Type {
	case stanza.GetIQ, stanza.SetIQ, stanza.ResultIQ, stanza.ErrorIQ:
	default:
		return false // mux would answer an unknown type; Serve does not
	}
	for _, tok := range toks[:len(toks)-1] {
		switch tok := tok.(type) {
		case xml.StartElement:
			return true
		case xml.CharData:
			if !isSpace(tok) {
				return false
			}
		default:
			return false
		}
	}
	return iq.Type == stanza.ResultIQ
}

// isSpace is the whitespace mux skips before an IQ's payload.
func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}

// replay reads buffered tokens.
type replay struct{ toks []xml.Token }

func (r *replay) Token() (xml.Token, error) {
	if len(r.toks) == 0 {
		return nil, io.EOF
	}
	tok := r.toks[0]
	r.toks = r.toks[1:]
	return tok, nil
}

// replayRW is a buffered stanza with the session's encoder for replies.
type replayRW struct {
	xml.TokenReader
	xmlstream.Encoder
}
