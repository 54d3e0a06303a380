package sm

// Enabling and resuming (XEP-0198 §3, §5). Both run during stream
// negotiation, after SASL: Resume instead of resource binding, Enable
// right after it. Package wire calls them from its bind feature.

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
)

// Feature is the informational <sm xmlns='urn:xmpp:sm:3'/> stream
// feature: it lets Session.Feature(NS) report that the server offers
// stream management. It negotiates nothing itself (the <enable/> must come
// after binding, which mellium's feature loop cannot order), see Enable.
func Feature() xmpp.StreamFeature {
	return xmpp.StreamFeature{
		Name:      xml.Name{Space: NS, Local: "sm"},
		Necessary: xmpp.Authn,
		Parse: func(ctx context.Context, d *xml.Decoder, start *xml.StartElement) (bool, interface{}, error) {
			return false, nil, d.Skip()
		},
	}
}

// Offered reports whether the server listed stream management.
func Offered(s *xmpp.Session) bool {
	_, ok := s.Feature(NS)
	return ok
}

// reply is any of <enabled/>, <resumed/>, <failed/>.
type reply struct {
	XMLName  xml.Name
	ID       string     `xml:"id,attr"`
	Resume   string     `xml:"resume,attr"`
	Max      string     `xml:"max,attr"`
	H        string     `xml:"h,attr"`
	PrevID   string     `xml:"previd,attr"`
	Children []xml.Name `xml:",any"`
}

// condition is the first child's name (the stanza error condition of a
// <failed/>), "" if none.
func (r reply) condition() string {
	if len(r.Children) == 0 {
		return ""
	}
	return r.Children[0].Local
}

// ParseH reads an h attribute: a decimal unsigned 32-bit counter.
func ParseH(v string) (uint32, error) {
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("account: the server sent a bad stream-management counter %q", v)
	}
	return uint32(n), nil
}

// readReply reads elements until one in NS, skipping whitespace and
// anything else the server interleaves — but a stanza is kept in st
// (Stream.TakeEarly), not skipped: a server may route a message to the
// session it has just bound before it answers <enable/>, and dropping it
// lost that message for good (TestEarlyStanzaKept).
func readReply(r xml.TokenReader, st *Stream) (reply, error) {
	d := xml.NewTokenDecoder(r)
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return reply{}, err
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if start.Name.Space != NS {
			if IsStanza(start.Name) && st != nil {
				inner, err := ReadInner(d)
				if err != nil {
					return reply{}, err
				}
				st.keepEarly(Early{Start: start.Copy(), Inner: inner})
				continue
			}
			if err := d.Skip(); err != nil {
				return reply{}, err
			}
			continue
		}
		var rp reply
		if err := d.DecodeElement(&rp, &start); err != nil {
			return reply{}, err
		}
		return rp, nil
	}
}

// Enable asks for stream management with resumption (§3) and records the
// result in st. A <failed/> is not an error: the session simply runs
// without stream management (st.TakeOutcome says so).
func Enable(ctx context.Context, r xml.TokenReader, w xmlstream.TokenWriteFlusher, st *Stream) error {
	start := xml.StartElement{Name: xml.Name{Space: NS, Local: "enable"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "resume"}, Value: "true"}}}
	if err := writeEmpty(w, start); err != nil {
		return err
	}
	rp, err := readReply(r, st)
	if err != nil {
		return err
	}
	switch rp.XMLName.Local {
	case "enabled":
		id := ""
		if rp.Resume == "true" || rp.Resume == "1" {
			id = rp.ID
		}
		var max time.Duration
		if n, err := strconv.ParseUint(rp.Max, 10, 31); err == nil {
			max = time.Duration(n) * time.Second
		}
		st.enabledNow(id, max)
		return nil
	case "failed":
		st.NoSM("the server refused stream management (" + rp.condition() + ")")
		return nil
	}
	return fmt.Errorf("account: the server answered <%s/> to <enable/>", rp.XMLName.Local)
}

// ErrNotResumable: Resume was called without a stream to resume.
var ErrNotResumable = errors.New("account: no stream to resume")

// Resume asks to resume the previous stream (§5). resumed is false when
// the server said <failed/>: st then holds the unacknowledged stanzas as
// lost (TakeOutcome), and the caller binds a resource as for a new
// session. An error is a broken exchange (the link, or nonsense).
func Resume(ctx context.Context, r xml.TokenReader, w xmlstream.TokenWriteFlusher, st *Stream) (resumed bool, err error) {
	id, h := st.resumeArgs()
	if id == "" {
		return false, ErrNotResumable
	}
	start := xml.StartElement{Name: xml.Name{Space: NS, Local: "resume"}, Attr: []xml.Attr{
		{Name: xml.Name{Local: "h"}, Value: strconv.FormatUint(uint64(h), 10)},
		{Name: xml.Name{Local: "previd"}, Value: id},
	}}
	if err := writeEmpty(w, start); err != nil {
		return false, err
	}
	rp, err := readReply(r, st)
	if err != nil {
		return false, err
	}
	switch rp.XMLName.Local {
	case "resumed":
		sh, err := ParseH(rp.H)
		if err != nil {
			return false, err
		}
		if err := st.resumedNow(sh); err != nil {
			// The counts disagree: give the stream up, so the next
			// attempt binds afresh, and fail this one.
			st.resumeFailed(nil, "the server's count of our messages was wrong")
			return false, err
		}
		return true, nil
	case "failed":
		var hp *uint32
		if rp.H != "" {
			if sh, err := ParseH(rp.H); err == nil {
				hp = &sh
			}
		}
		st.resumeFailed(hp, "the server could not resume the session ("+rp.condition()+")")
		return false, nil
	}
	return false, fmt.Errorf("account: the server answered <%s/> to <resume/>", rp.XMLName.Local)
}

func writeEmpty(w xmlstream.TokenWriteFlusher, start xml.StartElement) error {
	if err := w.EncodeToken(start); err != nil {
		return err
	}
	if err := w.EncodeToken(start.End()); err != nil {
		return err
	}
	return w.Flush()
}

// ReadInner reads the rest of an element whose start was consumed: its
// inner tokens and its end element, copied. On success the last token is
// that end element; a stream that ends first is io.ErrUnexpectedEOF.
func ReadInner(r xml.TokenReader) ([]xml.Token, error) {
	var toks []xml.Token
	depth := 0
	for {
		tok, err := r.Token()
		if tok != nil {
			toks = append(toks, xml.CopyToken(tok))
			switch tok.(type) {
			case xml.StartElement:
				depth++
			case xml.EndElement:
				if depth == 0 {
					return toks, nil
				}
				depth--
			}
		}
		if err == io.EOF {
			return toks, io.ErrUnexpectedEOF
		}
		if err != nil {
			return toks, err
		}
	}
}
