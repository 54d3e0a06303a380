package account

// XEP-0380 explicit message encryption, and the payloads of end-to-end
// protocols Sotto does not speak yet. Such a message's body is only a
// fallback ("I sent you an OMEMO encrypted message…"); shown as an
// ordinary line it would look like the peer wrote that, unprotected. It
// is reported with OtherEncryption set instead; the UI says what it is.

import "github.com/sotto-im/sotto/account/internal/wire"

// emeNames are XEP-0380 §3's namespaces with the names users know.
var emeNames = map[string]string{
	wire.NSOMEMO:       "OMEMO",
	"urn:xmpp:omemo:1": "OMEMO",
	"urn:xmpp:omemo:2": "OMEMO",
	wire.NSOpenPGP:     "OpenPGP",
	wire.NSLegacyPGP:   "OpenPGP (legacy)",
	"urn:xmpp:otr:0":   "OTR",
}

// otherEncryption names the protocol a message is encrypted with when it
// is not OTR (which the loop reads itself), "" for any other message.
func otherEncryption(m *wire.Message) string {
	switch {
	case m.EME != nil && m.EME.Namespace != "urn:xmpp:otr:0":
		if n, ok := emeNames[m.EME.Namespace]; ok {
			return n
		}
		if m.EME.Name != "" {
			return clip(m.EME.Name, 40)
		}
		return "an unknown method"
	case m.OMEMO != nil || m.OMEMO2 != nil: // OMEMO often comes without EME
		return "OMEMO"
	case m.OpenPGP != nil:
		return "OpenPGP"
	case m.LegacyPGP != nil:
		return "OpenPGP (legacy)"
	}
	return ""
}

// clip shortens a name the sender chose to n runes.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// receiveOtherEncrypted reports a message of another protocol; it
// returns false when m is not one.
func (c *client) receiveOtherEncrypted(m *wire.Message, bare, res string, at int64) bool {
	name := otherEncryption(m)
	if name == "" {
		return false
	}
	body := ""
	if m.Body != nil {
		body = *m.Body
	}
	c.m.emit(MessageReceived{Conv: Conversation{Account: c.account(), Peer: bare, Resource: res},
		Body: body, OtherEncryption: name, Level: NotPrivate, Time: timeFromNanos(at)})
	return true
}
