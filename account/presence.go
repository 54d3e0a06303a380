package account

// Presence (RFC 6121 §3–4): contacts' resources with show and status, our
// own presence, and subscription requests in both directions.

import (
	"errors"
	"fmt"

	"mellium.im/xmpp/jid"

	"github.com/sotto-im/sotto/account/internal/wire"
)

var errNotConnected = errors.New("account: not connected")

func errBadContact(s string) error {
	return fmt.Errorf("account: %q is not a contact address like user@example.org", s)
}

var showNames = map[Show]string{Chat: "chat", Away: "away", XA: "xa", DND: "dnd"}

func parseShow(s string) Show {
	for k, v := range showNames {
		if v == s {
			return k
		}
	}
	return Available
}

func (c *client) sendPresence(p wire.OutPresence) error {
	if c.sess == nil {
		return errNotConnected
	}
	return c.write(p)
}

// sendOwnPresence broadcasts our show and status (initial presence after
// the roster request, RFC 6121 §4.2).
func (c *client) sendOwnPresence() {
	_ = c.sendPresence(wire.OutPresence{Show: showNames[c.show], Status: c.status, Caps: c.m.ownCaps()})
}

func (c *client) setPresence(show Show, status string) error {
	if show == Offline {
		c.disconnect("", Disconnected)
		return nil
	}
	c.show, c.status = show, status
	if c.sess == nil {
		return nil // sent when we are connected
	}
	return c.sendPresence(wire.OutPresence{Show: showNames[show], Status: status, Caps: c.m.ownCaps()})
}

func (c *client) answerSubscription(from string, accept bool) error {
	bare, ok := bareJID(from)
	if !ok {
		return errBadContact(from)
	}
	if !accept {
		return c.sendPresence(wire.OutPresence{To: bare, Type: "unsubscribed"})
	}
	if err := c.sendPresence(wire.OutPresence{To: bare, Type: "subscribed"}); err != nil {
		return err
	}
	// Subscribe back unless we already see their presence.
	if it, ok := c.roster.items[bare]; ok && (it.Subscription == "to" || it.Subscription == "both") {
		return nil
	}
	return c.sendPresence(wire.OutPresence{To: bare, Type: "subscribe"})
}

func (c *client) handlePresence(p *wire.Presence) {
	from, err := jid.Parse(p.From)
	if err != nil || p.From == "" {
		return // our own presence echoed back (from blanked) or garbage
	}
	bare := from.Bare().String()
	if c.isBlocked(bare, from.Resourcepart()) {
		return // blocking.go
	}
	switch p.Type {
	case "subscribe":
		// A contact we added ourselves (we asked for, or already get,
		// their presence) asking back is the second half of the same
		// agreement: approve it without asking the user a second time.
		if it, ok := c.roster.items[bare]; ok && (it.Ask == "subscribe" || it.Subscription == "to") {
			if err := c.sendPresence(wire.OutPresence{To: bare, Type: "subscribed"}); err == nil {
				return
			}
		}
		c.m.emit(SubscriptionRequest{Account: c.account(), From: bare})
		return
	case "subscribed", "unsubscribe", "unsubscribed":
		// The server pushes the roster change; nothing else to do.
		return
	case "error", "probe":
		return
	}
	if bare == c.account() || from.Localpart() == "" {
		return // our other resources, or a server
	}
	res := from.Resourcepart()
	if p.Type == "unavailable" {
		if res == "" {
			delete(c.roster.pres, bare)
		} else if m := c.roster.pres[bare]; m != nil {
			delete(m, res)
			if len(m) == 0 {
				delete(c.roster.pres, bare)
			}
		}
		c.emitRoster()
		return
	}
	if p.Type != "" {
		return
	}
	m := c.roster.pres[bare]
	if m == nil {
		m = map[string]Resource{}
		c.roster.pres[bare] = m
	}
	c.learnCaps(bare, p.Caps)
	_, wasOnline := m[res]
	m[res] = Resource{Name: res, Show: parseShow(p.Show), Status: p.Status, Priority: p.Priority}
	c.emitRoster()
	if !wasOnline {
		c.peerCameOnline(bare, res)
	}
}
