package wire

// Stanza shapes of the XMPP extensions beyond the core: entity
// capabilities (XEP-0115), receipts (XEP-0184), chat states (XEP-0085),
// explicit encryption (XEP-0380) and the markers of other end-to-end
// protocols, blocking (XEP-0191). They are decoded with the stanza they
// arrive in (Handler decodes each stanza once), so an odd or unknown
// value never fails the stanza: every field is a string or a presence
// marker.

import "encoding/xml"

// Caps is a XEP-0115 <c/> element. Hash is kept as a string: mellium's
// disco.Caps fails to decode a hash name it does not know, which would
// make the whole presence unreadable.
type Caps struct {
	Hash string `xml:"hash,attr"`
	Node string `xml:"node,attr"`
	Ver  string `xml:"ver,attr"`
	Ext  string `xml:"ext,attr,omitempty"` // legacy XEP-0115 v1.3, ignored
}

// ReceiptRef is XEP-0184's <received id='…'/>.
type ReceiptRef struct {
	ID string `xml:"id,attr"`
}

// ChatState is one XEP-0085 element; XMLName says which (its Local is
// active, composing, paused, inactive or gone).
type ChatState struct {
	XMLName xml.Name
}

// NewChatState is the element for a state name.
func NewChatState(name string) *ChatState {
	return &ChatState{XMLName: xml.Name{Space: NSChatStates, Local: name}}
}

// EME is XEP-0380's <encryption namespace='…' name='…'/>.
type EME struct {
	Namespace string `xml:"namespace,attr"`
	Name      string `xml:"name,attr"`
}

// MessageExt is what an incoming message may carry besides its body.
type MessageExt struct {
	ReceiptRequest *Empty      `xml:"urn:xmpp:receipts request"`
	Receipt        *ReceiptRef `xml:"urn:xmpp:receipts received"`
	// XEP-0085: at most one is meant to be set; the first set one wins.
	Active    *Empty `xml:"http://jabber.org/protocol/chatstates active"`
	Composing *Empty `xml:"http://jabber.org/protocol/chatstates composing"`
	Paused    *Empty `xml:"http://jabber.org/protocol/chatstates paused"`
	Inactive  *Empty `xml:"http://jabber.org/protocol/chatstates inactive"`
	Gone      *Empty `xml:"http://jabber.org/protocol/chatstates gone"`
	// XEP-0380, and the payloads of other end-to-end protocols that
	// senders put next to a fallback body (OMEMO without EME is common).
	EME       *EME    `xml:"urn:xmpp:eme:0 encryption"`
	OMEMO     *RawXML `xml:"eu.siacs.conversations.axolotl encrypted"`
	OMEMO2    *Empty  `xml:"urn:xmpp:omemo:2 encrypted"`
	OpenPGP   *Empty  `xml:"urn:xmpp:openpgp:0 openpgp"`
	LegacyPGP *Empty  `xml:"jabber:x:encrypted x"`
	// XEP-0163: a notification of a node we follow (pep.go).
	Event *PubSubEvent `xml:"http://jabber.org/protocol/pubsub#event event"`
	// Follows: the sender's previous line (Sotto's, account/order.go).
	Follows *LineRef `xml:"urn:sotto-im:order:0 follows"`
}

// ChatStateName is the message's chat state, "" if it has none.
func (m *MessageExt) ChatStateName() string {
	for _, s := range []struct {
		e    *Empty
		name string
	}{{m.Active, "active"}, {m.Composing, "composing"}, {m.Paused, "paused"}, {m.Inactive, "inactive"}, {m.Gone, "gone"}} {
		if s.e != nil {
			return s.name
		}
	}
	return ""
}

// BlockQuery is the payload of XEP-0191's blocklist, block and unblock.
type BlockQuery struct {
	Items []BlockItem `xml:"item"`
}

// BlockItem is one blocked address.
type BlockItem struct {
	JID string `xml:"jid,attr"`
}
