package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

func pressEnter(e fyne.Focusable) { e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) }

// While Finished, Enter sends nothing (Send is never called) and keeps
// the text; the bar's buttons restart or end OTR; after ending, Enter
// sends in plain as the user chose.
func TestFinishedBlocksPlainSending(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.sec(account.Unverified, bobFP)
	h.sec(account.Finished, bobFP)
	if !v.finished.box.Visible() {
		t.Fatal("no Finished bar")
	}
	test.Type(v.input, "the secret plan")
	pressEnter(v.input)
	test.Tap(v.send)
	h.drain()
	if n := len(h.b.called("Send")); n != 0 {
		t.Fatalf("Send called %d times while Finished", n)
	}
	if v.input.Text != "the secret plan" {
		t.Errorf("input %q: the text must stay for the user to decide", v.input.Text)
	}
	if l := systemLines(v); !strings.HasPrefix(l[len(l)-1], "Not sent: bob ended the private conversation") {
		t.Errorf("last system line %q", l[len(l)-1])
	}

	test.Tap(v.restartBtn)
	if c := h.calls("StartPrivate", 2); c[len(c)-1].args[0] != bobConv { // 1st: auto-start on open
		t.Errorf("Restart called StartPrivate(%v)", c[len(c)-1].args[0])
	}
	test.Tap(v.endBtn)
	h.calls("EndPrivate", 1)
	h.sec(account.NotPrivate, "")
	if v.finished.box.Visible() {
		t.Error("Finished bar still shown after ending")
	}
	pressEnter(v.input)
	c := h.calls("Send", 1)
	if c[0].args[0] != bobConv || c[0].args[1] != "the secret plan" {
		t.Errorf("Send%v", c[0].args)
	}
	if v.input.Text != "" {
		t.Errorf("input not cleared after sending: %q", v.input.Text)
	}
}

func lastOut(v *convView) chatLine {
	for i := len(v.msgs.lines) - 1; i >= 0; i-- {
		if v.msgs.lines[i].kind == lineOut {
			return v.msgs.lines[i]
		}
	}
	return chatLine{}
}

// Each outgoing message shows its state, updated by MessageStateChanged.
func TestOutgoingMessageStates(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	test.Type(v.input, "hi bob")
	pressEnter(v.input)
	if s, _ := lastOut(v).stateText(); s != "sending…" {
		t.Errorf("before Send returns: %q", s)
	}
	h.calls("Send", 1)
	id := lastOut(v).id
	if id != "m1" {
		t.Fatalf("line id %q, want m1 from Send", id)
	}
	for _, c := range []struct {
		st     account.OutState
		reason string
		want   string
	}{
		{account.Queued, "", "queued until private"},
		{account.Sending, "", "sending… (not yet confirmed by the server)"},
		{account.SentEncrypted, "", "sent encrypted"},
		{account.SentPlain, "", "sent in plain"},
		{account.NotSent, "bob is offline", "not sent: bob is offline"},
	} {
		h.u.Handle(account.MessageStateChanged{Conv: bobConv, ID: id, Body: "hi bob", State: c.st, Reason: c.reason})
		if s, _ := lastOut(v).stateText(); s != c.want {
			t.Errorf("state %v: shows %q, want %q", c.st, s, c.want)
		}
	}

	// Send failing outright: not sent, with the reason in plain words.
	h.b.setErr("Send", errors.New("account: not connected"))
	test.Type(v.input, "second")
	pressEnter(v.input)
	h.calls("Send", 2)
	if s, _ := lastOut(v).stateText(); s != "not sent: Not connected." {
		t.Errorf("failed send shows %q", s)
	}
	h.b.setErr("Send", nil)

	// The state event may beat Send's return: still one line per message.
	test.Type(v.input, "third")
	pressEnter(v.input)
	h.settle(func() bool { return len(h.b.called("Send")) == 3 })
	h.u.Handle(account.MessageStateChanged{Conv: bobConv, ID: "m3", Body: "third", State: account.SentEncrypted})
	h.drain()
	n := 0
	for _, l := range v.msgs.lines {
		if l.kind == lineOut && l.body == "third" {
			n++
			if s, _ := l.stateText(); s != "sent encrypted" {
				t.Errorf("raced line shows %q", s)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d lines for one message", n)
	}
}

// Incoming messages show who and when; a plain one is marked.
func TestIncomingMessages(t *testing.T) {
	h := newHarness(t).withBob()
	at := time.Date(2025, 1, 2, 9, 5, 0, 0, time.Local)
	h.u.Handle(account.MessageReceived{Conv: bobConv, Body: "psst", Encrypted: true, Level: account.Private, Time: at})
	h.u.Handle(account.MessageReceived{Conv: bobConv, Body: "hello", Encrypted: false, Time: at})
	v := h.u.chats.views[keyOf(bobConv)]
	if v == nil {
		t.Fatal("an incoming message opened no tab")
	}
	r := newMsgRow(nil)
	r.set(v.msgs.lines[0])
	if r.who.Text != "bob" || r.when.Text != "09:05" || r.body.Text != "psst" || r.state.Text != "encrypted, verified" {
		t.Errorf("row: %q %q %q %q", r.who.Text, r.when.Text, r.body.Text, r.state.Text)
	}
	r.set(v.msgs.lines[1])
	if r.state.Text != "received in plain" {
		t.Errorf("plain message marked %q", r.state.Text)
	}
}

// Each line shows the protection it had, not the tab's: in a chat that
// reads Private, a line decrypted by another (unverified) session of the
// contact, or by an unverified key, says so.
func TestIncomingLineCarriesItsOwnProtection(t *testing.T) {
	h := newHarness(t).withBob()
	h.u.Handle(account.SecurityChanged{Conv: bobConv, Level: account.Private, Verified: true, Fingerprint: "AAAA"})
	for _, c := range []struct {
		e    account.MessageReceived
		want string
		imp  widget.Importance
	}{
		{account.MessageReceived{Body: "a", Encrypted: true, Level: account.Private}, "encrypted, verified", widget.SuccessImportance},
		{account.MessageReceived{Body: "b", Encrypted: true, Level: account.Unverified}, "encrypted, not verified", widget.WarningImportance},
		{account.MessageReceived{Body: "c", Encrypted: true, Level: account.Unverified, OtherSession: true},
			"from another session of bob, not verified", widget.DangerImportance},
		{account.MessageReceived{Body: "d", Encrypted: true, Level: account.Private, OtherSession: true},
			"encrypted, verified, from another device of bob", widget.SuccessImportance},
		{account.MessageReceived{Body: "e", Encrypted: true}, "encrypted, not verified", widget.WarningImportance},
		{account.MessageReceived{Body: "f"}, "received in plain", widget.WarningImportance},
	} {
		c.e.Conv = bobConv
		h.u.Handle(c.e)
		v := h.u.chats.views[keyOf(bobConv)]
		l := v.msgs.lines[len(v.msgs.lines)-1]
		if got, imp := l.stateText(); l.body != c.e.Body || got != c.want || imp != c.imp {
			t.Errorf("line %q: %q (%v), want %q (%v)", l.body, got, imp, c.want, c.imp)
		}
	}
	if s := h.u.chats.views[keyOf(bobConv)].sec.Level; s != account.Private {
		t.Fatalf("the tab reads %v", s)
	}
}

// 10,000 messages: the list keeps one small struct per message and only
// as many row widgets as fit on screen.
func TestTenThousandMessages(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.u.chats.win.Resize(fyne.NewSize(640, 560))
	created := 0
	create := v.msgs.list.CreateItem
	v.msgs.list.CreateItem = func() fyne.CanvasObject { created++; return create() }
	start := time.Now()
	for i := 0; i < 10000; i++ {
		h.u.Handle(account.MessageReceived{Conv: bobConv, Body: fmt.Sprintf("message %d", i), Encrypted: true})
	}
	h.drain()
	elapsed := time.Since(start)
	if len(v.msgs.lines) != 10000 {
		t.Fatalf("%d lines", len(v.msgs.lines))
	}
	v.msgs.list.ScrollToTop()
	v.msgs.list.ScrollToBottom()
	if created == 0 || created > 100 {
		t.Errorf("%d row widgets for 10,000 messages; want a screenful", created)
	}
	t.Logf("10,000 messages appended in %v; %d row widgets created", elapsed, created)
}

// A long message gets a taller row than a short one.
func TestLongMessageRowHeight(t *testing.T) {
	m := newMessageList(func(f func()) { f() })
	m.setWidth(400)
	short := m.heightFor(&chatLine{kind: lineIn, body: "hi"})
	long := m.heightFor(&chatLine{kind: lineIn, body: strings.Repeat("lorem ipsum dolor ", 30)})
	if short != m.baseH || long <= short+2*m.lineH {
		t.Errorf("short %v (base %v), long %v", short, m.baseH, long)
	}
}

// A closed tab reopens with its last security state; Not private for a
// conversation without a tab opens nothing.
func TestSecurityRememberedAcrossTabs(t *testing.T) {
	h := newHarness(t).withBob()
	carol := account.Conversation{Account: me, Peer: "carol@example.org"}
	h.u.Handle(account.SecurityChanged{Conv: carol, Level: account.NotPrivate})
	if _, ok := h.u.chats.views[keyOf(carol)]; ok {
		t.Error("a Not private event opened a tab")
	}
	h.u.Handle(account.SecurityChanged{Conv: bobConv, Level: account.Private, Fingerprint: bobFP, Verified: true})
	v := h.u.chats.views[keyOf(bobConv)]
	if v == nil {
		t.Fatal("peer-started OTR opened no tab")
	}
	h.u.chats.closed(v.tab)
	v = h.u.chats.open(bobConv, true)
	h.drain()
	if v.status.Text != "Private" {
		t.Errorf("reopened tab shows %q", v.status.Text)
	}
	if n := len(h.b.called("StartPrivate")); n != 0 {
		t.Errorf("reopening a private chat called StartPrivate %d times", n)
	}
}

// After the user ends a private conversation from the menu, the next line
// is not sent in plain until the user chooses: Send unencrypted, or Start
// private again (which sends nothing by itself).
func TestOwnEndNeedsChoiceBeforePlain(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.sec(account.Private, bobFP)
	v.action(actEnd)
	h.calls("EndPrivate", 1)
	h.sec(account.NotPrivate, "")
	test.Type(v.input, "meant to be private")
	pressEnter(v.input)
	h.drain()
	if n := len(h.b.called("Send")); n != 0 {
		t.Fatalf("Send called %d times right after the user ended the conversation", n)
	}
	if !v.plainChoice.box.Visible() || v.input.Text != "meant to be private" {
		t.Fatalf("no choice shown (visible %v), input %q", v.plainChoice.box.Visible(), v.input.Text)
	}
	starts := len(h.b.called("StartPrivate"))
	test.Tap(v.againBtn)
	h.calls("StartPrivate", starts+1)
	h.drain()
	if n := len(h.b.called("Send")); n != 0 || v.plainChoice.box.Visible() {
		t.Fatalf("Start private again sent %d messages (choice visible %v)", n, v.plainChoice.box.Visible())
	}
	// The restart did not happen (bob is away): Enter asks again, and
	// this time the user sends in plain on purpose.
	pressEnter(v.input)
	h.drain()
	if n := len(h.b.called("Send")); n != 0 || !v.plainChoice.box.Visible() {
		t.Fatalf("second Enter: %d sends, choice visible %v", n, v.plainChoice.box.Visible())
	}
	test.Tap(v.sendPlainBtn)
	c := h.calls("Send", 1)
	if c[0].args[1] != "meant to be private" || v.plainChoice.box.Visible() {
		t.Fatalf("Send%v, choice visible %v", c[0].args, v.plainChoice.box.Visible())
	}
	// From then on the chat sends plain like any plain chat.
	test.Type(v.input, "second")
	pressEnter(v.input)
	h.calls("Send", 2)
	// Ending from the Finished bar is already the user's choice: no extra question.
	h.sec(account.Unverified, bobFP)
	h.sec(account.Finished, bobFP)
	test.Tap(v.endBtn)
	h.sec(account.NotPrivate, "")
	test.Type(v.input, "third")
	pressEnter(v.input)
	h.calls("Send", 3)
}

// A message queued while the account reconnects waits for the
// connection, not "until private": the padlock may well be green (issue
// 13).
func TestQueuedWhileReconnecting(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.sec(account.Private, bobFP)
	h.u.Handle(account.ConnectionChanged{Account: me, State: account.Reconnecting, Err: "account: the connection was lost"})
	h.u.Handle(account.MessageStateChanged{Conv: bobConv, ID: "q1", Body: "later", State: account.Queued})
	if s, _ := lastOut(v).stateText(); s != "waiting for the connection" {
		t.Errorf("queued while reconnecting shows %q", s)
	}
	h.u.Handle(account.ConnectionChanged{Account: me, State: account.Connected})
	h.u.Handle(account.MessageStateChanged{Conv: bobConv, ID: "q1", Body: "later", State: account.SentEncrypted})
	if s, _ := lastOut(v).stateText(); s != "sent encrypted" {
		t.Errorf("after the reconnect: %q", s)
	}
}

// Messages that arrived while Sotto was in the background are read once
// it is back in front with their tab on screen: the count leaves the tab.
func TestUnreadClearedOnReturnToForeground(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.u.foreground = false
	h.u.Handle(account.MessageReceived{Conv: bobConv, Body: "are you there?", Encrypted: true})
	if h.u.chats.unreadFor(me, bobConv.Peer) != 1 {
		t.Fatalf("unread %d while in the background, want 1", h.u.chats.unreadFor(me, bobConv.Peer))
	}
	h.u.enteredForeground()
	if n := h.u.chats.unreadFor(me, bobConv.Peer); n != 0 || strings.Contains(v.tab.Text, "(") {
		t.Errorf("back in front: unread %d, tab %q", n, v.tab.Text)
	}
}
