package account

// XEP-0085 chat states: what the peer is doing (typing, paused, …) and
// what we tell it. Standalone notifications go only to a peer that sent
// us a chat state itself (§5.1); messages the user types carry <active/>
// (receipts.go), which is how a peer learns we support them. They carry
// no text. Preferences.NoTypingOrReceipts stops them.

import (
	"context"
	"errors"

	"github.com/sotto-im/sotto/account/internal/wire"
)

// ChatState is a peer's activity in a conversation (XEP-0085).
type ChatState int

const (
	// StateActive: paying attention to the chat.
	StateActive ChatState = iota
	// StateComposing: typing.
	StateComposing
	// StatePaused: stopped typing for a while.
	StatePaused
	// StateInactive: not looking at the chat.
	StateInactive
	// StateGone: closed the chat.
	StateGone
)

var chatStateNames = [...]string{"active", "composing", "paused", "inactive", "gone"}

func (s ChatState) String() string {
	if s < 0 || int(s) >= len(chatStateNames) {
		return "active"
	}
	return chatStateNames[s]
}

func parseChatState(name string) (ChatState, bool) {
	for i, n := range chatStateNames {
		if n == name {
			return ChatState(i), true
		}
	}
	return 0, false
}

// ChatStateChanged: the peer's client reports what its user is doing.
type ChatStateChanged struct {
	Conv  Conversation
	State ChatState
}

func (ChatStateChanged) isEvent() {}

// setChatState is Manager.SetChatState in the loop.
func (c *client) setChatState(conv Conversation, st ChatState) error {
	peer, ok := bareJID(conv.Peer)
	if !ok {
		return errBadContact(conv.Peer)
	}
	if st < 0 || int(st) >= len(chatStateNames) {
		return errors.New("account: unknown chat state")
	}
	if c.sess == nil || !c.signalsOn() || !c.peerInfo(peer).chatStates || c.isBlocked(peer, "") {
		return nil // nothing to tell, or nobody who understands it
	}
	res := conv.Resource
	if res == "" {
		res = c.targetResource(peer)
	}
	to := peer
	if res != "" {
		to += "/" + res
	}
	// A chat state alone: no body, and not for the archive (XEP-0334).
	return c.write(wire.OutMessage{ID: randomID(), To: to, Type: "chat",
		State: wire.NewChatState(st.String()), NoStore: &wire.Empty{}})
}

// SetChatState tells the peer what we are doing in conv (typing, paused,
// active …). It sends nothing when the preference is off or the peer has
// not shown it understands chat states.
func (m *Manager) SetChatState(ctx context.Context, conv Conversation, st ChatState) error {
	return m.accountCall(ctx, conv.Account, func(c *client, reply func(error)) { reply(c.setChatState(conv, st)) })
}
