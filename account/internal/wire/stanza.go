package wire

// XML shapes of the stanzas the account loop sends and receives.

import (
	"encoding/xml"

	"mellium.im/xmpp/history"

	"github.com/sotto-im/sotto/account/internal/sm"
)

// Namespaces of the payloads we decode or write ourselves (mellium has no
// XEP-0334 hints).
const (
	NSClient  = "jabber:client"
	NSRoster  = "jabber:iq:roster"
	NSPing    = "urn:xmpp:ping"
	NSCarbons = "urn:xmpp:carbons:2"
	NSForward = "urn:xmpp:forward:0"
	NSHints   = "urn:xmpp:hints"
	NSDelay   = "urn:xmpp:delay"
	NSStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
	// Namespaces of the extensions in extensions.go.
	NSCaps       = "http://jabber.org/protocol/caps"       // XEP-0115
	NSDiscoInfo  = "http://jabber.org/protocol/disco#info" // XEP-0030
	NSVersion    = "jabber:iq:version"                     // XEP-0092
	NSReceipts   = "urn:xmpp:receipts"                     // XEP-0184
	NSChatStates = "http://jabber.org/protocol/chatstates" // XEP-0085
	NSEME        = "urn:xmpp:eme:0"                        // XEP-0380
	NSBlocking   = "urn:xmpp:blocking"                     // XEP-0191
	NSRosterVer  = "urn:xmpp:features:rosterver"           // XEP-0237 stream feature
	NSOMEMO      = "eu.siacs.conversations.axolotl"        // XEP-0384 (legacy namespace)
	NSOpenPGP    = "urn:xmpp:openpgp:0"                    // XEP-0373
	NSLegacyPGP  = "jabber:x:encrypted"                    // XEP-0027
	NSOrder      = "urn:sotto-im:order:0"                  // Sotto's own: the line before (account/order.go)
)

// Empty marks a presence-only child element such as <no-copy/>.
type Empty struct{}

// StanzaError is the <error/> child of an error stanza.
type StanzaError struct {
	Type     string     `xml:"type,attr"`
	Children []xml.Name `xml:",any"` // the defined condition is the first in the stanzas namespace
	Text     string     `xml:"urn:ietf:params:xml:ns:xmpp-stanzas text"`
}

// Condition is the defined condition's element name, "" if none (or if e
// is nil).
func (e *StanzaError) Condition() string {
	if e == nil {
		return ""
	}
	for _, n := range e.Children {
		if n.Space == NSStanzas && n.Local != "text" {
			return n.Local
		}
	}
	return ""
}

// Message is an incoming <message/>, including a forwarded one inside a
// carbon.
type Message struct {
	XMLName xml.Name
	ID      string       `xml:"id,attr"`
	From    string       `xml:"from,attr"`
	To      string       `xml:"to,attr"`
	Type    string       `xml:"type,attr"`
	Body    *string      `xml:"body"`
	Error   *StanzaError `xml:"error"`
	// XEP-0280 carbons: one of these wraps the real message.
	Received *Carbon `xml:"urn:xmpp:carbons:2 received"`
	Sent     *Carbon `xml:"urn:xmpp:carbons:2 sent"`
	Delay    *struct {
		Stamp string `xml:"stamp,attr"`
	} `xml:"urn:xmpp:delay delay"`
	// XEP-0359: ids given by archives (ours is the one we trust) and by
	// the sender.
	StanzaIDs []StanzaID `xml:"urn:xmpp:sid:0 stanza-id"`
	OriginID  *LineRef   `xml:"urn:xmpp:sid:0 origin-id"`
	// XEP-0313: one message of an archive query we made (mam.go).
	MAM *MAMResult `xml:"urn:xmpp:mam:2 result"`
	MessageExt
}

// Carbon is a XEP-0280 <received/> or <sent/> wrapper.
type Carbon struct {
	Forwarded struct {
		Message *Message `xml:"jabber:client message"`
	} `xml:"urn:xmpp:forward:0 forwarded"`
}

// OutMessage is a chat message we send. The hints and <private/> are only
// set on OTR messages: the server should neither archive nor carbon-copy
// them (our other devices cannot decrypt them anyway).
type OutMessage struct {
	XMLName xml.Name `xml:"message"`
	ID      string   `xml:"id,attr"`
	To      string   `xml:"to,attr"`
	Type    string   `xml:"type,attr"`
	// Body is empty only in a message that carries a chat state or a
	// receipt alone.
	Body    string `xml:"body,omitempty"`
	NoCopy  *Empty `xml:"urn:xmpp:hints no-copy"`
	NoStore *Empty `xml:"urn:xmpp:hints no-permanent-store"`
	Private *Empty `xml:"urn:xmpp:carbons:2 private"`
	// XEP-0184: ask for a receipt, or give one (ReceiptRef.ID is the
	// message being acknowledged).
	Request  *Empty      `xml:"urn:xmpp:receipts request"`
	Received *ReceiptRef `xml:"urn:xmpp:receipts received"`
	// XEP-0085: one chat state element (ChatState), or nil.
	State *ChatState
	// Follows names the line sent before this one (account/order.go).
	Follows *LineRef `xml:"urn:sotto-im:order:0 follows"`
	// Extra is written as it is: an OMEMO message's elements (pep.go).
	Extra []byte `xml:",innerxml"`
}

// LineRef names one chat line by its stanza id.
type LineRef struct {
	ID string `xml:"id,attr"`
}

// Presence is an incoming <presence/>.
type Presence struct {
	XMLName  xml.Name
	ID       string       `xml:"id,attr"`
	From     string       `xml:"from,attr"`
	Type     string       `xml:"type,attr"`
	Show     string       `xml:"show"`
	Status   string       `xml:"status"`
	Priority int          `xml:"priority"`
	Error    *StanzaError `xml:"error"`
	Caps     *Caps        `xml:"http://jabber.org/protocol/caps c"`
}

// OutPresence is a presence we send. To is omitted when empty (an empty
// to="" is rejected by Prosody as jid-malformed, FACTS.md).
type OutPresence struct {
	XMLName  xml.Name `xml:"presence"`
	ID       string   `xml:"id,attr,omitempty"`
	To       string   `xml:"to,attr,omitempty"`
	Type     string   `xml:"type,attr,omitempty"`
	Show     string   `xml:"show,omitempty"`
	Status   string   `xml:"status,omitempty"`
	Priority int      `xml:"priority,omitempty"`
	Caps     *Caps    `xml:"http://jabber.org/protocol/caps c"`
}

// RosterItem is one <item/> of a roster query (RFC 6121 §2.1.2).
// mellium's roster.Item has no ask attribute, hence our own.
type RosterItem struct {
	JID          string   `xml:"jid,attr"`
	Name         string   `xml:"name,attr,omitempty"`
	Subscription string   `xml:"subscription,attr,omitempty"`
	Ask          string   `xml:"ask,attr,omitempty"`
	Groups       []string `xml:"group"`
}

// RosterQuery is the jabber:iq:roster <query/> payload.
type RosterQuery struct {
	XMLName xml.Name     `xml:"jabber:iq:roster query"`
	Ver     *string      `xml:"ver,attr"`
	Items   []RosterItem `xml:"item"`
}

// IQ is an incoming <iq/>.
type IQ struct {
	XMLName xml.Name
	ID      string       `xml:"id,attr"`
	From    string       `xml:"from,attr"`
	Type    string       `xml:"type,attr"`
	Roster  *RosterQuery `xml:"jabber:iq:roster query"`
	Ping    *Empty       `xml:"urn:xmpp:ping ping"`
	Error   *StanzaError `xml:"error"`
	// XEP-0191: the blocklist (a result), or a push from our server.
	Blocklist *BlockQuery `xml:"urn:xmpp:blocking blocklist"`
	Block     *BlockQuery `xml:"urn:xmpp:blocking block"`
	Unblock   *BlockQuery `xml:"urn:xmpp:blocking unblock"`
	// XEP-0060 items of a node we fetched (pep.go).
	PubSub *PubSubResult `xml:"http://jabber.org/protocol/pubsub pubsub"`
	// XEP-0030 disco#info answer; XEP-0313 end of an archive query
	// (mam.go: decoded by the caller with history.Result).
	DiscoInfo *DiscoInfoResult `xml:"http://jabber.org/protocol/disco#info query"`
	MAMFin    *RawXML          `xml:"urn:xmpp:mam:2 fin"`
}

// OutIQ is an IQ we send; exactly one payload is set.
type OutIQ struct {
	XMLName xml.Name     `xml:"iq"`
	ID      string       `xml:"id,attr"`
	To      string       `xml:"to,attr,omitempty"`
	Type    string       `xml:"type,attr"`
	Roster  *RosterQuery `xml:"jabber:iq:roster query"`
	Ping    *Empty       `xml:"urn:xmpp:ping ping"`
	Enable  *Empty       `xml:"urn:xmpp:carbons:2 enable"`
	// XEP-0191
	Blocklist *BlockQuery `xml:"urn:xmpp:blocking blocklist"`
	Block     *BlockQuery `xml:"urn:xmpp:blocking block"`
	Unblock   *BlockQuery `xml:"urn:xmpp:blocking unblock"`
	// XEP-0060 fetch or publish (pep.go).
	PubSub *PubSubQuery `xml:"http://jabber.org/protocol/pubsub pubsub"`
	// XEP-0030 disco#info; XEP-0313 archive query (mellium's, mam.go).
	DiscoInfo *DiscoInfoQuery `xml:"http://jabber.org/protocol/disco#info query"`
	MAM       *history.Query  `xml:"urn:xmpp:mam:2 query"`
}

// Inbound is one decoded stanza for the account loop: exactly one of the
// pointers is set, or Bad is set when the stanza could not be decoded.
type Inbound struct {
	Msg  *Message
	Pres *Presence
	IQ   *IQ
	Bad  string // what was wrong, for a notice (never the stanza text)
	// Acked: the server's <a/> acknowledged these (XEP-0198; the loop
	// reports the chat lines among them as sent). Acked is non-nil, maybe
	// empty, for every <a/>.
	Acked []sm.Item
	// SMErr: the server's counts disagree with ours; the loop drops the
	// link (the stream cannot be trusted).
	SMErr error
}
