package ui

// What a chat shows besides messages: the peer's typing (XEP-0085), and
// what it sends of ours. Sotto says "composing" when the user types into
// an empty chat input and "active" when the input is cleared or sent;
// account sends nothing when the preference is off or the peer does not
// understand chat states.

import (
	"context"

	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// typingText is the line under the chat for the peer's state.
func typingText(name string, st account.ChatState) string {
	switch st {
	case account.StateComposing:
		return name + " is typing…"
	case account.StatePaused:
		return name + " stopped typing"
	}
	return ""
}

// peerState shows the peer's chat state under the messages.
// The line is hidden while empty: it takes no room then.
func (v *convView) peerState(st account.ChatState) { v.setTyping(typingText(v.peerName(), st)) }

func (v *convView) setTyping(text string) {
	v.typing.SetText(text)
	if text == "" {
		v.typing.Hide()
	} else {
		v.typing.Show()
	}
}

// inputChanged tells the peer we started or stopped typing (only on the
// change, not per key).
func (v *convView) inputChanged(text string) {
	composing := text != ""
	if composing == v.composing {
		return
	}
	v.composing = composing
	st := account.StateActive
	if composing {
		st = account.StateComposing
	}
	conv := v.conv
	v.u.doInOrder("send\x00"+conv.Account+"\x00"+conv.Peer, func(ctx context.Context) error {
		return v.u.b.SetChatState(ctx, conv, st)
	}, nil)
}

// otherEncryptionText is the system line for a message of a protocol
// Sotto cannot read (XEP-0380).
func otherEncryptionText(name, proto string) string {
	art := "a"
	switch proto[0] {
	case 'A', 'E', 'I', 'O', 'U', 'a', 'e', 'i', 'o', 'u':
		art = "an"
	}
	if proto == "an unknown method" {
		return name + " sent a message encrypted with an unknown method, which Sotto cannot read"
	}
	return name + " sent " + art + " " + proto + "-encrypted message, which Sotto cannot read yet"
}

func newTypingLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.LowImportance
	l.Hide()
	return l
}
