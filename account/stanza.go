package account

// XML shapes of the stanzas the account loop sends and receives, and the
// one top-level handler that decodes whole stanzas off the wire.
//
// Why one handler: mellium calls a wildcard handler once per child element
// (FACTS.md), and a handler must not call the session's Send methods (it
// would deadlock on the stream lock). So the handler decodes the whole
// stanza into a value, answers the two IQs that need an answer from the
// reading goroutine (ping, roster push) through its own token encoder, and
// hands the value to the account loop over a channel.

import (
	"context"
	"encoding/xml"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
)

// Namespaces we write ourselves (mellium has no XEP-0334 hints).
const (
	nsClient  = "jabber:client"
	nsRoster  = "jabber:iq:roster"
	nsPing    = "urn:xmpp:ping"
	nsCarbons = "urn:xmpp:carbons:2"
	nsForward = "urn:xmpp:forward:0"
	nsHints   = "urn:xmpp:hints"
	nsDelay   = "urn:xmpp:delay"
	nsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

// empty marks a presence-only child element such as <no-copy/>.
type empty struct{}

// stanzaError is the <error/> child of an error stanza.
type stanzaError struct {
	Type      string     `xml:"type,attr"`
	Condition []xml.Name `xml:",any"` // first child in the stanzas namespace
	Text      string     `xml:"urn:ietf:params:xml:ns:xmpp-stanzas text"`
}

// condition is the defined condition's element name, "" if none.
func (e *stanzaError) condition() string {
	if e == nil {
		return ""
	}
	for _, n := range e.Condition {
		if n.Space == nsStanzas && n.Local != "text" {
			return n.Local
		}
	}
	return ""
}

// message is an incoming <message/>, including a forwarded one inside a
// carbon.
type message struct {
	XMLName xml.Name
	ID      string       `xml:"id,attr"`
	From    string       `xml:"from,attr"`
	To      string       `xml:"to,attr"`
	Type    string       `xml:"type,attr"`
	Body    *string      `xml:"body"`
	Error   *stanzaError `xml:"error"`
	// XEP-0280 carbons: one of these wraps the real message.
	Received *carbon `xml:"urn:xmpp:carbons:2 received"`
	Sent     *carbon `xml:"urn:xmpp:carbons:2 sent"`
	Delay    *struct {
		Stamp string `xml:"stamp,attr"`
	} `xml:"urn:xmpp:delay delay"`
}

type carbon struct {
	Forwarded struct {
		Message *message `xml:"jabber:client message"`
	} `xml:"urn:xmpp:forward:0 forwarded"`
}

// outMessage is a chat message we send. The hints and <private/> are only
// set on OTR messages: the server should neither archive nor carbon-copy
// them (our other devices cannot decrypt them anyway).
type outMessage struct {
	XMLName xml.Name `xml:"message"`
	ID      string   `xml:"id,attr"`
	To      string   `xml:"to,attr"`
	Type    string   `xml:"type,attr"`
	Body    string   `xml:"body"`
	NoCopy  *empty   `xml:"urn:xmpp:hints no-copy"`
	NoStore *empty   `xml:"urn:xmpp:hints no-permanent-store"`
	Private *empty   `xml:"urn:xmpp:carbons:2 private"`
}

// presence is an incoming <presence/>.
type presence struct {
	XMLName  xml.Name
	ID       string       `xml:"id,attr"`
	From     string       `xml:"from,attr"`
	Type     string       `xml:"type,attr"`
	Show     string       `xml:"show"`
	Status   string       `xml:"status"`
	Priority int          `xml:"priority"`
	Error    *stanzaError `xml:"error"`
}

// outPresence is a presence we send. To is omitted when empty (an empty
// to="" is rejected by Prosody as jid-malformed, FACTS.md).
type outPresence struct {
	XMLName  xml.Name `xml:"presence"`
	ID       string   `xml:"id,attr,omitempty"`
	To       string   `xml:"to,attr,omitempty"`
	Type     string   `xml:"type,attr,omitempty"`
	Show     string   `xml:"show,omitempty"`
	Status   string   `xml:"status,omitempty"`
	Priority int      `xml:"priority,omitempty"`
}

// rosterItem is one <item/> of a roster query (RFC 6121 §2.1.2).
type rosterItem struct {
	JID          string   `xml:"jid,attr"`
	Name         string   `xml:"name,attr,omitempty"`
	Subscription string   `xml:"subscription,attr,omitempty"`
	Ask          string   `xml:"ask,attr,omitempty"`
	Groups       []string `xml:"group"`
}

type rosterQuery struct {
	XMLName xml.Name     `xml:"jabber:iq:roster query"`
	Ver     *string      `xml:"ver,attr"`
	Items   []rosterItem `xml:"item"`
}

// iq is an incoming <iq/>.
type iq struct {
	XMLName xml.Name
	ID      string       `xml:"id,attr"`
	From    string       `xml:"from,attr"`
	Type    string       `xml:"type,attr"`
	Roster  *rosterQuery `xml:"jabber:iq:roster query"`
	Ping    *empty       `xml:"urn:xmpp:ping ping"`
	Error   *stanzaError `xml:"error"`
}

// outIQ is an IQ we send; exactly one payload is set.
type outIQ struct {
	XMLName xml.Name     `xml:"iq"`
	ID      string       `xml:"id,attr"`
	To      string       `xml:"to,attr,omitempty"`
	Type    string       `xml:"type,attr"`
	Roster  *rosterQuery `xml:"jabber:iq:roster query"`
	Ping    *empty       `xml:"urn:xmpp:ping ping"`
	Enable  *empty       `xml:"urn:xmpp:carbons:2 enable"`
}

// inbound is one decoded stanza for the loop: exactly one of the pointers
// is set, or bad is set when the stanza could not be decoded.
type inbound struct {
	msg  *message
	pres *presence
	iq   *iq
	bad  string // what was wrong, for a Notice (never the stanza text)
}

// stanzaHandler decodes each top-level stanza and sends it to in. It
// answers pings and roster pushes itself (RFC 6121 §2.1.6 requires the
// result; the push is then applied by the loop). It never returns an
// error for a bad stanza: that would make Serve close the stream.
func stanzaHandler(ctx context.Context, in chan<- inbound) xmpp.Handler {
	return xmpp.HandlerFunc(func(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
		d := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), t))
		var v inbound
		switch start.Name.Local {
		case "message":
			var m message
			if err := d.Decode(&m); err != nil {
				v.bad = "a message could not be read"
			} else {
				v.msg = &m
			}
		case "presence":
			var p presence
			if err := d.Decode(&p); err != nil {
				v.bad = "a presence update could not be read"
			} else {
				v.pres = &p
			}
		case "iq":
			var q iq
			if err := d.Decode(&q); err != nil {
				return nil // Serve answers an unanswered get/set with an error
			}
			answered, forward := answerIQ(t, &q)
			if !forward {
				return nil // pings, or not for us: Serve sends service-unavailable
			}
			if answered {
				// Having written the result, this handler holds the
				// session's write lock until it returns; blocking on a full
				// channel here while the loop waits for that lock to send
				// would deadlock. Hand over without blocking.
				v.iq = &q
				select {
				case in <- v:
				default:
					go func() {
						select {
						case in <- v:
						case <-ctx.Done():
						}
					}()
				}
				return nil
			}
			v.iq = &q
		default:
			return nil
		}
		select {
		case in <- v:
		case <-ctx.Done():
		}
		return nil
	})
}

// answerIQ writes the result for IQs we answer here (pings, roster
// pushes) and reports whether it wrote one and whether the IQ should reach
// the loop (results, errors, roster pushes).
func answerIQ(w xmlstream.TokenReadEncoder, q *iq) (answered, forward bool) {
	switch q.Type {
	case "result", "error":
		return false, true
	case "get":
		if q.Ping != nil {
			_ = w.Encode(outIQ{ID: q.ID, To: q.From, Type: "result"})
			return true, false
		}
	case "set":
		// A roster push is only valid from our own account: mellium blanks
		// a from equal to our bare JID, so "" is the only accepted value
		// (RFC 6121 §2.1.6: ignore pushes from anyone else).
		if q.Roster != nil && q.From == "" {
			_ = w.Encode(outIQ{ID: q.ID, Type: "result"})
			return true, true
		}
	}
	return false, false
}
