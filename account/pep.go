package account

// Personal eventing (XEP-0163) as OMEMO uses it: fetch one item of a
// user's node, publish one item of ours, and the notifications the server
// sends for nodes we follow (our caps say …devicelist+notify, disco.go).

import (
	"errors"
	"strings"

	"mellium.im/xmpp/jid"

	"github.com/sotto-im/sotto/account/internal/wire"
)

var (
	errPEPNotFound = errors.New("account: nothing is published there")
	errPEPLost     = errors.New("account: the connection was lost")
	// errPEPUnsupported: the server has no personal eventing (PEP) for
	// this account, so no OMEMO either; that is not an error to report.
	errPEPUnsupported = errors.New("account: the server offers no personal eventing (PEP)")
)

// pepAccess is the access model we ask for: anyone may read the device
// list and bundles, as Conversations publishes them (Prosody's default,
// presence, lets only subscribed contacts read them).
const pepAccess = "open"

// pepFetch fetches item "current" (or the only item) of node on owner's
// PEP service and calls done with its payload, errPEPNotFound when
// there is none, or the server's refusal in plain words.
func (c *client) pepFetch(owner, node string, done func([]byte, error)) {
	to := owner
	if owner == c.account() {
		to = "" // our own PEP service: the server answers for us
	}
	c.sendIQ(wire.OutIQ{Type: "get", To: to, PubSub: wire.Fetch(node)}, func(q *wire.IQ) {
		switch {
		case q == nil:
			done(nil, errPEPLost)
		case q.Type == "error":
			switch cond := q.Error.Condition(); {
			case cond == "item-not-found":
				done(nil, errPEPNotFound)
			case owner == c.account() && noPEP(cond):
				done(nil, errPEPUnsupported)
			default:
				done(nil, errors.New("account: the server refused ("+cond+")"))
			}
		case q.PubSub == nil || q.PubSub.Items == nil:
			done(nil, errPEPNotFound)
		default:
			b := q.PubSub.Items.Item("current")
			if b == nil {
				b = q.PubSub.Items.Item("")
			}
			if b == nil {
				done(nil, errPEPNotFound)
				return
			}
			done(b, nil)
		}
	})
}

// pepPublish publishes payload as item "current" of our node, asking for
// the open access model; a node configured otherwise (the server answers
// precondition-not-met) gets the item without the options, as it is.
func (c *client) pepPublish(node string, payload []byte, done func(error)) {
	var try func(access string)
	try = func(access string) {
		c.sendIQ(wire.OutIQ{Type: "set", PubSub: wire.Publish(node, "current", payload, access)}, func(q *wire.IQ) {
			switch {
			case q == nil:
				done(errPEPLost)
			case q.Type == "error" && access != "" && q.Error.Condition() == "precondition-not-met":
				try("")
			case q.Type == "error" && noPEP(q.Error.Condition()):
				done(errPEPUnsupported)
			case q.Type == "error":
				done(errors.New("account: the server refused to publish (" + q.Error.Condition() + ")"))
			default:
				done(nil)
			}
		})
	}
	try(pepAccess)
}

// pepEvent takes a notification message. Only our own account (mellium
// blanks our bare JID to "") and a bare JID can publish to a PEP node;
// anything else is not a PEP notification and is dropped.
func (c *client) pepEvent(m *wire.Message) {
	owner := c.account()
	if m.From != "" {
		j, err := jid.Parse(m.From)
		if err != nil || j.Localpart() == "" || j.Resourcepart() != "" {
			return
		}
		owner = j.Bare().String()
	}
	it := m.Event.Items
	if it == nil || !c.omemoOn() || !strings.HasPrefix(it.Node, wire.NSOMEMO+".") {
		return
	}
	c.omemoEvent(owner, it)
}

// noPEP reports whether our own server's refusal means it has no PEP
// service at all (RFC 6120 conditions a server without mod_pep answers
// with), rather than refusing this one request.
func noPEP(cond string) bool {
	return cond == "service-unavailable" || cond == "feature-not-implemented"
}
