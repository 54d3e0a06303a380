package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/sotto-im/sotto/account"
)

// TestDeliveredAndTyping: a line the peer's client confirmed says
// "delivered" next to how it was sent; the peer's typing shows under the
// chat until its message comes; our own typing is reported once per
// change; another protocol's message is a system line, not bob's words.
func TestDeliveredAndTyping(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	test.Type(v.input, "hi bob")
	c := h.calls("SetChatState", 1)
	if c[0].args[1] != account.StateComposing {
		t.Fatalf("typing reported %v, want composing", c[0].args)
	}
	pressEnter(v.input)
	h.calls("Send", 1)
	if n := len(h.b.called("SetChatState")); n != 1 {
		t.Errorf("SetChatState called %d times for one message, want once (the message carries active)", n)
	}
	id := lastOut(v).id
	h.u.Handle(account.MessageStateChanged{Conv: bobConv, ID: id, Body: "hi bob", State: account.SentEncrypted})
	h.u.Handle(account.MessageStateChanged{Conv: bobConv, ID: id, Body: "hi bob", State: account.Delivered})
	if s, _ := lastOut(v).stateText(); s != "sent encrypted · delivered" {
		t.Errorf("delivered line shows %q", s)
	}
	row := newMsgRow(nil)
	row.set(lastOut(v))
	if row.state.Text != "sent encrypted · delivered" {
		t.Errorf("row shows %q", row.state.Text)
	}

	h.u.Handle(account.ChatStateChanged{Conv: bobConv, State: account.StateComposing})
	if v.typing.Text != "bob is typing…" {
		t.Errorf("typing line %q", v.typing.Text)
	}
	h.u.Handle(account.ChatStateChanged{Conv: bobConv, State: account.StatePaused})
	if v.typing.Text != "bob stopped typing" {
		t.Errorf("paused line %q", v.typing.Text)
	}
	h.u.Handle(account.ChatStateChanged{Conv: bobConv, State: account.StateComposing})
	h.u.Handle(account.MessageReceived{Conv: bobConv, Body: "hello"})
	if v.typing.Text != "" {
		t.Errorf("typing line after bob's message %q", v.typing.Text)
	}

	h.u.Handle(account.MessageReceived{Conv: bobConv, Body: "I sent you an OMEMO encrypted message", OtherEncryption: "OMEMO"})
	h.drain()
	sys := systemLines(v)
	if len(sys) == 0 || sys[len(sys)-1] != "bob sent an OMEMO-encrypted message, which Sotto cannot read yet" {
		t.Errorf("system lines %q", sys)
	}
	for _, l := range v.msgs.lines {
		if l.kind == lineIn && l.body == "I sent you an OMEMO encrypted message" {
			t.Error("the OMEMO fallback is shown as bob's line")
		}
	}
}

// TestBlockFromMenuAndRequest: Block on a subscription request blocks the
// sender and removes the card; the contact menu offers Block, and
// Unblock once the blocklist has the contact.
func TestBlockFromMenuAndRequest(t *testing.T) {
	h := newHarness(t).withBob()
	r := h.u.roster
	h.u.Handle(account.SubscriptionRequest{Account: me, From: "spam@example.org"})
	test.Tap(findButton(r.requests.Objects[0], "Block"))
	c := h.calls("Block", 1)[0]
	if c.args[0] != me || c.args[1] != "spam@example.org" {
		t.Errorf("Block%v", c.args)
	}
	if len(r.requests.Objects) != 0 {
		t.Errorf("%d request cards left after blocking", len(r.requests.Objects))
	}
	if it := r.blockItem(me, "bob@example.org"); it.Label != "Block…" {
		t.Errorf("menu for bob: %q", it.Label)
	}
	h.u.Handle(account.BlocklistChanged{Account: me, Blocked: []string{"bob@example.org"}})
	it := r.blockItem(me, "bob@example.org")
	if it.Label != "Unblock" {
		t.Fatalf("menu for blocked bob: %q", it.Label)
	}
	it.Action()
	if c := h.calls("Unblock", 1)[0]; c.args[1] != "bob@example.org" {
		t.Errorf("Unblock%v", c.args)
	}
}

// TestPrefsSignalsAndVersion: the two switches are on by default and
// save as account's opt-outs.
func TestPrefsSignalsAndVersion(t *testing.T) {
	h := newHarness(t).withBob()
	h.u.showPrefs()
	p := h.u.prefsWin
	if !p.signals.Checked || !p.version.Checked {
		t.Fatalf("defaults: typing/receipts %v, version %v; want both on", p.signals.Checked, p.version.Checked)
	}
	p.signals.SetChecked(false)
	p.version.SetChecked(false)
	test.Tap(findButton(p.win.Content(), "Save"))
	h.drain()
	if got := h.prefs.Prefs(); !got.NoTypingOrReceipts || !got.HideVersion {
		t.Errorf("saved %+v", got)
	}
}
