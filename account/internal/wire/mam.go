package wire

// Message archives (XEP-0313) as the catch-up after a sign-in uses them,
// with the stanza ids (XEP-0359) that tell a copy of a message from a new
// one, and the disco#info query (XEP-0030) that says whether our server
// archives for us. The query itself is mellium's history.Query; its
// result <fin/> is kept as raw XML here and decoded with mellium's
// history.Result by the caller, so an odd <fin/> never makes the IQ
// unreadable (the loop would wait for its answer for ever).

import (
	"mellium.im/xmpp/history"
)

// Namespaces of XEP-0313 and XEP-0359.
const (
	NSMAM = history.NS       // urn:xmpp:mam:2
	NSSID = "urn:xmpp:sid:0" // XEP-0359
)

// StanzaID is XEP-0359's <stanza-id/>: the id the entity named in By (our
// own server's archive, for the ones we trust) gave the message.
type StanzaID struct {
	By string `xml:"by,attr"`
	ID string `xml:"id,attr"`
}

// MAMResult is XEP-0313 §4.2's <result/>: one archived message, wrapped
// in a message from our own account's archive.
type MAMResult struct {
	QueryID   string `xml:"queryid,attr"`
	ID        string `xml:"id,attr"` // the archive's id of the message
	Forwarded struct {
		Delay *struct {
			Stamp string `xml:"stamp,attr"`
		} `xml:"urn:xmpp:delay delay"`
		Message *Message `xml:"jabber:client message"`
	} `xml:"urn:xmpp:forward:0 forwarded"`
}

// DiscoInfoQuery is an empty disco#info query (XEP-0030 §3.1).
type DiscoInfoQuery struct{}

// DiscoInfoResult is the part of a disco#info answer we read: the features.
type DiscoInfoResult struct {
	Features []struct {
		Var string `xml:"var,attr"`
	} `xml:"feature"`
}

// Has reports whether the answer lists feature.
func (d *DiscoInfoResult) Has(feature string) bool {
	if d == nil {
		return false
	}
	for _, f := range d.Features {
		if f.Var == feature {
			return true
		}
	}
	return false
}
