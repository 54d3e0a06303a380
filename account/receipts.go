package account

// XEP-0184 message delivery receipts and the XEP-0085 chat states that
// travel with messages (chatstate.go has the standalone ones).
//
// Each message the user typed asks for a receipt; its stanza id (for OTR,
// the id of the stanza with the data message, or its last fragment) maps
// to the user's message id until the peer's client confirms it, and then
// the message is reported Delivered. We confirm the messages we show, and
// only those: an OTR message we could not read, a blocked sender's, a
// carbon or a chat state alone gets no receipt. Neither carries any text
// of the message: a receipt names the stanza id, nothing else.
//
// mellium's receipts.Handler is not used: it answers every request
// before we know whether the message was shown, and its sender matching
// is by a channel per SendMessage call, which the loop cannot wait on.
//
// Preferences.NoTypingOrReceipts turns all of it off: no request, no
// receipt, no chat state, and disco#info no longer lists them.

import (
	"github.com/sotto-im/sotto/account/internal/wire"
)

// pendingReceipt is a message we asked a receipt for.
type pendingReceipt struct {
	pc       peerKey
	id, body string // the user's message id and text, as in MessageStateChanged
}

// maxPendingReceipts bounds the map when a peer never confirms (most
// clients without receipts): the oldest are forgotten.
const maxPendingReceipts = 1000

func (c *client) signalsOn() bool { return !c.m.profile.Prefs().NoTypingOrReceipts }

// signalsFor adds the receipt request and <active/> to a message the user
// typed (typed != nil) and remembers it.
func (c *client) signalsFor(m *wire.OutMessage, typed *pendingReceipt) {
	if typed == nil || !c.signalsOn() {
		return
	}
	m.Request = &wire.Empty{}
	m.State = wire.NewChatState("active") // XEP-0085 §5.1: content comes with active
	if c.ext.receipts == nil {
		c.ext.receipts = map[string]pendingReceipt{}
	}
	if len(c.ext.receipts) >= maxPendingReceipts {
		for k := range c.ext.receipts {
			delete(c.ext.receipts, k)
			break
		}
	}
	c.ext.receipts[m.ID] = *typed
}

// handleSignals takes what a message says besides its body: a receipt, a
// chat state. It reports true when the message must go no further
// (from a blocked address; blocking.go).
func (c *client) handleSignals(m *wire.Message, bare, res string) bool {
	if c.isBlocked(bare, res) {
		return true
	}
	if m.Receipt != nil {
		// Only the peer we sent it to can confirm it (by bare JID: the
		// peer may answer from the resource it has now).
		if p, ok := c.ext.receipts[m.Receipt.ID]; ok && p.pc.peer == bare {
			delete(c.ext.receipts, m.Receipt.ID)
			c.receiptFor(p.id)           // streammgmt.go: sent before delivered
			c.receipted(p.pc.peer, p.id) // unreceipted.go
			conv := Conversation{Account: c.account(), Peer: p.pc.peer, Resource: p.pc.res}
			c.m.emit(MessageStateChanged{Conv: conv, ID: p.id, Body: p.body, State: Delivered, Time: c.m.opt.now()})
		}
	}
	if st, ok := parseChatState(m.ChatStateName()); ok {
		c.peerInfo(bare).chatStates = true
		c.m.emit(ChatStateChanged{Conv: Conversation{Account: c.account(), Peer: bare, Resource: res}, State: st})
	}
	return false
}

// acknowledge sends the receipt for a message we showed, if it asked.
func (c *client) acknowledge(m *wire.Message, from string) {
	if m.ReceiptRequest == nil || m.ID == "" || !c.signalsOn() {
		return
	}
	_ = c.write(wire.OutMessage{ID: randomID(), To: from, Type: m.Type,
		Received: &wire.ReceiptRef{ID: m.ID}, NoStore: &wire.Empty{}})
}
