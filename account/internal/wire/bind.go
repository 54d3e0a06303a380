package wire

// Our own resource binding (RFC 6120 §7).

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"github.com/sotto-im/sotto/account/internal/sm"
)

// BindFeature binds the resource we ask for. mellium's BindResource sends
// an empty <resource/> (FACTS.md), so the server would pick a random one;
// OTR sessions are per full JID, so the name must be stable across
// reconnects. RFC 6120 §7.
//
// With st (not nil) and a server that offers XEP-0198 stream management,
// it first tries to resume st's previous stream (no bind then: the old
// resource and everything the server held for it come back), else binds
// and enables stream management with resumption (sm.Enable). st records
// what happened (st.TakeOutcome).
func BindFeature(resource string, st *sm.Stream) xmpp.StreamFeature {
	return xmpp.StreamFeature{
		Name:       xml.Name{Space: "urn:ietf:params:xml:ns:xmpp-bind", Local: "bind"},
		Necessary:  xmpp.Authn,
		Prohibited: xmpp.Ready,
		Parse: func(ctx context.Context, d *xml.Decoder, start *xml.StartElement) (bool, interface{}, error) {
			return true, nil, d.Skip()
		},
		Negotiate: func(ctx context.Context, s *xmpp.Session, _ interface{}) (xmpp.SessionState, io.ReadWriter, error) {
			if st == nil {
				return negotiateBind(ctx, s, resource)
			}
			return negotiateSM(ctx, s, resource, st)
		},
	}
}

type bindIQ struct {
	XMLName xml.Name `xml:"iq"`
	ID      string   `xml:"id,attr"`
	Type    string   `xml:"type,attr"`
	Bind    struct {
		XMLName  xml.Name `xml:"urn:ietf:params:xml:ns:xmpp-bind bind"`
		Resource string   `xml:"resource,omitempty"`
		JID      string   `xml:"jid,omitempty"`
	}
	Error *StanzaError `xml:"error"`
}

// negotiateSM resumes, or binds and enables (XEP-0198 §3, §5).
func negotiateSM(ctx context.Context, s *xmpp.Session, resource string, st *sm.Stream) (xmpp.SessionState, io.ReadWriter, error) {
	if !sm.Offered(s) {
		st.NoSM("the server does not offer stream management")
		return negotiateBind(ctx, s, resource)
	}
	if st.CanResume() {
		w, r := s.TokenWriter(), s.TokenReader()
		resumed, err := sm.Resume(ctx, r, w, st)
		w.Close()
		r.Close()
		if err != nil {
			return 0, nil, err
		}
		if resumed {
			return xmpp.Ready, nil, nil
		}
	}
	mask, rw, err := negotiateBind(ctx, s, resource)
	if err != nil {
		return mask, rw, err
	}
	w, r := s.TokenWriter(), s.TokenReader()
	defer w.Close()
	defer r.Close()
	return mask, rw, sm.Enable(ctx, r, w, st)
}

func negotiateBind(ctx context.Context, s *xmpp.Session, resource string) (xmpp.SessionState, io.ReadWriter, error) {
	w := s.TokenWriter()
	defer w.Close()
	r := s.TokenReader()
	defer r.Close()
	req := bindIQ{ID: ID(), Type: "set"}
	req.Bind.Resource = resource
	if err := encodeTo(w, req); err != nil {
		return 0, nil, err
	}
	d := xml.NewTokenDecoder(r)
	for {
		tok, err := d.Token()
		if err != nil {
			return 0, nil, err
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue // whitespace
		}
		var resp bindIQ
		if err := d.DecodeElement(&resp, &start); err != nil {
			return 0, nil, err
		}
		if resp.ID != req.ID {
			continue
		}
		if resp.Type != "result" {
			return 0, nil, fmt.Errorf("account: the server refused resource %q (%s)", resource, resp.Error.Condition())
		}
		j, err := jid.Parse(resp.Bind.JID)
		if err != nil {
			return 0, nil, fmt.Errorf("account: server bound a bad address: %w", err)
		}
		s.UpdateAddr(j)
		return xmpp.Ready, nil, nil
	}
}

// encodeTo writes v as XML to a token writer and flushes.
func encodeTo(w xmlstream.TokenWriteFlushCloser, v interface{}) error {
	b, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	return copyXML(w, b)
}

// copyXML writes the XML in b to a token writer and flushes.
func copyXML(w xmlstream.TokenWriteFlusher, b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := w.EncodeToken(xml.CopyToken(tok)); err != nil {
			return err
		}
	}
	return w.Flush()
}

// ID is a fresh random stanza id (64 bits, hex).
func ID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// WriteLocked encodes one stanza on sess while holding the session's
// write lock, and runs counted under that lock just before it: the place
// to count the stanza for stream management, so the count follows the
// order on the wire even when a handler writes a reply at the same time.
func WriteLocked(sess *xmpp.Session, v interface{}, counted func()) error {
	w := sess.TokenWriter()
	counted()
	err := encodeTo(w, v)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteSM writes a stream-management element (sm.WriteRequest) under the
// session's write lock.
func WriteSM(sess *xmpp.Session, f func(xmlstream.TokenWriteFlusher) error) error {
	w := sess.TokenWriter()
	err := f(w)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}
