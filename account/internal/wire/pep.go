package wire

// Personal eventing (XEP-0163) over publish-subscribe (XEP-0060) as OMEMO
// needs it: fetch a node's items, publish one item with publish options,
// and the event a server sends when a node we follow changes. Also the
// OMEMO message elements: the <encrypted/> payload itself is built and
// parsed by package omemo; here it is carried as raw XML.

import (
	"bytes"
	"encoding/xml"
	"errors"
)

// Namespaces of XEP-0060 and XEP-0004.
const (
	NSPubSub        = "http://jabber.org/protocol/pubsub"
	NSPubSubEvent   = "http://jabber.org/protocol/pubsub#event"
	NSPublishOpts   = "http://jabber.org/protocol/pubsub#publish-options"
	NSDataForms     = "jabber:x:data"
	OMEMOFallback   = "This message is OMEMO encrypted; your client cannot show it."
	maxRawXMLLength = 1 << 20
)

// RawXML is one element as received, re-encoded from its tokens
// (namespace declarations written out on every element). It decodes
// whatever it is given and never fails a stanza for its contents.
type RawXML []byte

// UnmarshalXML copies start and everything up to its end element.
func (r *RawXML) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var b bytes.Buffer
	e := xml.NewEncoder(&b)
	var tok xml.Token = start
	depth := 0
	for {
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			t.Attr = plainAttrs(t.Attr)
			tok = t
		case xml.EndElement:
			depth--
		case xml.CharData:
		default:
			tok = nil // comments, processing instructions: dropped
		}
		if tok != nil {
			if err := e.EncodeToken(tok); err != nil {
				return err
			}
		}
		if depth == 0 {
			break
		}
		if b.Len() > maxRawXMLLength {
			return errors.New("wire: element too large")
		}
		var err error
		if tok, err = d.Token(); err != nil {
			return err
		}
	}
	if err := e.Flush(); err != nil {
		return err
	}
	*r = b.Bytes()
	return nil
}

// plainAttrs drops namespace declarations (the encoder writes its own)
// and attributes in other namespaces (none of ours has one).
func plainAttrs(in []xml.Attr) []xml.Attr {
	out := in[:0:0]
	for _, a := range in {
		if a.Name.Space == "" && a.Name.Local != "xmlns" {
			out = append(out, a)
		}
	}
	return out
}

// PubSubItem is one <item/> of a node, its payload as raw XML.
type PubSubItem struct {
	ID      string  `xml:"id,attr"`
	Payload *RawXML `xml:",any"`
}

// PubSubItems is an <items/> element of a result or an event.
type PubSubItems struct {
	Node  string       `xml:"node,attr"`
	Items []PubSubItem `xml:"item"`
}

// PubSubResult is the <pubsub/> payload of an IQ result.
type PubSubResult struct {
	Items *PubSubItems `xml:"items"`
}

// PubSubEvent is the <event/> of a notification message.
type PubSubEvent struct {
	Items *PubSubItems `xml:"items"`
}

// PubSubQuery is the <pubsub/> payload of an IQ we send: Items fetches
// a node, Publish (with Options) publishes one item.
type PubSubQuery struct {
	Items   *PubSubFetch    `xml:"items"`
	Publish *PubSubPublish  `xml:"publish"`
	Options *PublishOptions `xml:"publish-options"`
}

// PubSubFetch asks for a node's items (XEP-0060 §6.5).
type PubSubFetch struct {
	Node string `xml:"node,attr"`
}

// PubSubPublish publishes one item (XEP-0060 §7.1); Payload is written
// as it is.
type PubSubPublish struct {
	Node string `xml:"node,attr"`
	Item struct {
		ID      string `xml:"id,attr,omitempty"`
		Payload []byte `xml:",innerxml"`
	} `xml:"item"`
}

// PublishOptions is XEP-0060 §7.1.5's form.
type PublishOptions struct {
	Form struct {
		XMLName xml.Name      `xml:"jabber:x:data x"`
		Type    string        `xml:"type,attr"`
		Fields  []OptionField `xml:"field"`
	}
}

// OptionField is one XEP-0004 field with one value, as we send it.
type OptionField struct {
	Var   string `xml:"var,attr"`
	Type  string `xml:"type,attr,omitempty"`
	Value string `xml:"value"`
}

// Publish is the query that publishes payload as item id of node; with
// access non-empty, the node's access model is asked for (XEP-0060
// §7.1.5; a server whose node is configured otherwise refuses with
// precondition-not-met).
func Publish(node, id string, payload []byte, access string) *PubSubQuery {
	q := &PubSubQuery{Publish: &PubSubPublish{Node: node}}
	q.Publish.Item.ID, q.Publish.Item.Payload = id, payload
	if access != "" {
		q.Options = &PublishOptions{}
		q.Options.Form.Type = "submit"
		q.Options.Form.Fields = []OptionField{
			{Var: "FORM_TYPE", Type: "hidden", Value: NSPublishOpts},
			{Var: "pubsub#access_model", Value: access},
		}
	}
	return q
}

// Fetch is the query for a node's items.
func Fetch(node string) *PubSubQuery { return &PubSubQuery{Items: &PubSubFetch{Node: node}} }

// Item returns the payload of the item with id (or of the only item when
// id is ""), nil if there is none.
func (it *PubSubItems) Item(id string) []byte {
	if it == nil {
		return nil
	}
	for _, i := range it.Items {
		if (id == "" || i.ID == id) && i.Payload != nil {
			return *i.Payload
		}
	}
	return nil
}

// OMEMOElements is what an OMEMO message carries besides its fallback
// body: the <encrypted/> element (from package omemo), the XEP-0334
// store hint (servers keep it for offline delivery and archives even
// without a body) and XEP-0380's marker.
func OMEMOElements(encrypted []byte) []byte {
	var b bytes.Buffer
	b.Write(encrypted)
	b.WriteString("<store xmlns='" + NSHints + "'/>")
	b.WriteString("<encryption xmlns='" + NSEME + "' namespace='" + NSOMEMO + "' name='OMEMO'/>")
	return b.Bytes()
}
