package sm

// Counting the stanzas a handler writes.

import (
	"encoding/xml"

	"mellium.im/xmlstream"
)

// Counter wraps the encoder a handler writes its replies with and counts
// every top-level stanza (message, presence, iq) in st, as not to be
// resent (a reply belongs to the stream it answered in). Serve holds the
// session's write lock while the handler writes, so the count follows the
// wire.
type Counter struct {
	xmlstream.TokenReadEncoder
	St    *Stream
	depth int
}

func (c *Counter) EncodeToken(t xml.Token) error {
	switch tok := t.(type) {
	case xml.StartElement:
		if c.depth == 0 && IsStanza(tok.Name) {
			c.St.Sent(nil, nil)
		}
		c.depth++
	case xml.EndElement:
		c.depth--
	}
	return c.TokenReadEncoder.EncodeToken(t)
}

// Encode and EncodeElement go through EncodeToken so they are counted.
func (c *Counter) Encode(v interface{}) error {
	return c.EncodeElement(v, xml.StartElement{})
}

func (c *Counter) EncodeElement(v interface{}, start xml.StartElement) error {
	b, err := marshal(v, start)
	if err != nil {
		return err
	}
	return copyTokens(c, b)
}

// IsStanza: the three stanza kinds XEP-0198 counts.
func IsStanza(n xml.Name) bool {
	switch n.Local {
	case "message", "presence", "iq":
		return n.Space == "" || n.Space == "jabber:client" || n.Space == "jabber:server"
	}
	return false
}
