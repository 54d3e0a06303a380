package sm

// Acknowledgements (XEP-0198 §4): the server's <r/> is answered with our
// h, its <a h/> acknowledges what we sent.

import (
	"encoding/xml"
	"strconv"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/mux"
)

// Handle registers the <r/> and <a/> handlers on a mux. <r/> is answered
// at once through the handler's encoder with st's inbound count. <a/> is
// applied to st and the items it acknowledges go to acked, which runs on
// Serve's goroutine (it may block until the loop takes them, but must not
// call the session's Send methods); bad is called instead when the
// counts disagree (the caller should drop the link: the stream cannot be
// trusted any more).
func Handle(st *Stream, acked func([]Item), bad func(error)) []mux.Option {
	return []mux.Option{
		mux.HandleFunc(xml.Name{Space: NS, Local: "r"}, func(t xmlstream.TokenReadEncoder, _ *xml.StartElement) error {
			return WriteAck(t, st.In())
		}),
		mux.HandleFunc(xml.Name{Space: NS, Local: "a"}, func(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			h, err := hAttr(start)
			if err == nil {
				var items []Item
				if items, err = st.Ack(h); err == nil {
					acked(items)
					return nil
				}
			}
			bad(err)
			return nil
		}),
	}
}

func hAttr(start *xml.StartElement) (uint32, error) {
	for _, a := range start.Attr {
		if a.Name.Local == "h" {
			return ParseH(a.Value)
		}
	}
	return ParseH("")
}

// WriteAck writes <a h='h'/>.
func WriteAck(w xmlstream.TokenWriter, h uint32) error {
	start := xml.StartElement{Name: xml.Name{Space: NS, Local: "a"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "h"}, Value: strconv.FormatUint(uint64(h), 10)}}}
	if err := w.EncodeToken(start); err != nil {
		return err
	}
	return w.EncodeToken(start.End())
}

// WriteRequest writes <r/> and flushes.
func WriteRequest(w xmlstream.TokenWriteFlusher) error {
	return writeEmpty(w, xml.StartElement{Name: xml.Name{Space: NS, Local: "r"}})
}
