package account

// XEP-0191 blocking: the server keeps the blocklist and enforces it
// (Prosody's mod_blocklist drops a blocked address's messages, presence
// and subscription requests); the loop keeps a copy, fetched at each
// login and updated by the server's pushes, and drops what still comes
// from a blocked address (a server that does not enforce it, or a
// message that raced the block). Matching is XEP-0191 §3.4's: an item
// blocks its full JID, its bare JID (every resource), or its domain.
//
// mellium's blocklist.Add/Remove/Fetch block on the session until the
// reply and its Handler panics on an item whose jid does not parse; the
// loop sends its own IQs (wire.OutIQ) and reads pushes in wire.Handler.

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"mellium.im/xmpp/jid"

	"github.com/sotto-im/sotto/account/internal/wire"
)

// BlocklistChanged carries an account's whole blocklist (addresses as
// the server lists them, sorted).
type BlocklistChanged struct {
	Account string
	Blocked []string
}

func (BlocklistChanged) isEvent() {}

// isBlocked reports whether messages and presence from bare/res are
// dropped.
func (c *client) isBlocked(bare, res string) bool {
	if len(c.ext.blocked) == 0 {
		return false
	}
	dom := jidDomain(bare)
	return c.ext.blocked[bare] || c.ext.blocked[dom] ||
		(res != "" && (c.ext.blocked[bare+"/"+res] || c.ext.blocked[dom+"/"+res]))
}

func (c *client) emitBlocklist() {
	list := make([]string, 0, len(c.ext.blocked))
	for j := range c.ext.blocked {
		list = append(list, j)
	}
	slices.Sort(list)
	c.m.emit(BlocklistChanged{Account: c.account(), Blocked: list})
}

// canonBlockJID parses an item's address; "" if it does not parse.
func canonBlockJID(s string) string {
	j, err := jid.Parse(s)
	if err != nil {
		return ""
	}
	return j.String()
}

// fetchBlocklist asks for the blocklist at login (XEP-0191 §3.2). A
// server without blocking answers with an error; the list stays empty.
func (c *client) fetchBlocklist() {
	c.sendIQ(wire.OutIQ{Type: "get", Blocklist: &wire.BlockQuery{}}, func(q *wire.IQ) {
		if q == nil || q.Type != "result" || q.Blocklist == nil {
			return
		}
		c.ext.blocked = map[string]bool{}
		for _, it := range q.Blocklist.Items {
			if j := canonBlockJID(it.JID); j != "" {
				c.ext.blocked[j] = true
			}
		}
		c.emitBlocklist()
	})
}

// blockPush applies a block or unblock push from our server (§3.3, 3.4;
// an unblock without items unblocks everyone).
func (c *client) blockPush(q *wire.IQ) {
	if c.ext.blocked == nil {
		c.ext.blocked = map[string]bool{}
	}
	switch {
	case q.Block != nil:
		for _, it := range q.Block.Items {
			if j := canonBlockJID(it.JID); j != "" {
				c.ext.blocked[j] = true
			}
		}
	case q.Unblock != nil && len(q.Unblock.Items) == 0:
		clear(c.ext.blocked)
	case q.Unblock != nil:
		for _, it := range q.Unblock.Items {
			delete(c.ext.blocked, canonBlockJID(it.JID))
		}
	}
	c.emitBlocklist()
}

// setBlocked is Block (block true) or Unblock in the loop.
func (c *client) setBlocked(addr string, block bool, reply func(error)) {
	j := canonBlockJID(addr)
	if j == "" {
		reply(errBadContact(addr))
		return
	}
	if c.sess == nil {
		reply(errNotConnected)
		return
	}
	q := wire.OutIQ{Type: "set"}
	what := "blocking " + j
	if block {
		q.Block = &wire.BlockQuery{Items: []wire.BlockItem{{JID: j}}}
	} else {
		q.Unblock = &wire.BlockQuery{Items: []wire.BlockItem{{JID: j}}}
		what = "unblocking " + j
	}
	c.sendIQ(q, func(r *wire.IQ) {
		if err := iqErr(r, what); err != nil {
			if r != nil {
				if cond := r.Error.Condition(); cond == "service-unavailable" || cond == "feature-not-implemented" {
					err = fmt.Errorf("account: %s: your server does not support blocking", what)
				}
			}
			reply(err)
			return
		}
		// The server pushes the change too; apply it now so the caller
		// sees it when Block returns.
		if c.ext.blocked == nil {
			c.ext.blocked = map[string]bool{}
		}
		if block {
			c.ext.blocked[j] = true
		} else {
			delete(c.ext.blocked, j)
		}
		c.emitBlocklist()
		reply(nil)
	})
}

// Block asks the server to block addr (a contact's bare JID, a full JID
// or a domain): nothing from it reaches the account any more, and it
// sees us offline.
func (m *Manager) Block(ctx context.Context, account, addr string) error {
	return m.accountCall(ctx, account, func(c *client, reply func(error)) { c.setBlocked(addr, true, reply) })
}

// Unblock removes addr from the blocklist.
func (m *Manager) Unblock(ctx context.Context, account, addr string) error {
	return m.accountCall(ctx, account, func(c *client, reply func(error)) { c.setBlocked(addr, false, reply) })
}

// Blocked returns the account's blocklist as the server last sent it.
func (m *Manager) Blocked(ctx context.Context, account string) ([]string, error) {
	var out []string
	err := m.accountCall(ctx, account, func(c *client, reply func(error)) {
		if c.sess == nil && c.ext.blocked == nil {
			reply(errors.New("account: the blocklist is known once the account is online"))
			return
		}
		for j := range c.ext.blocked {
			out = append(out, j)
		}
		slices.Sort(out)
		reply(nil)
	})
	return out, err
}
