package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// withHistory turns PlainHistory on and gives bob three kept lines, the
// last of which is the message that will open the chat.
func (h *harness) withHistory() *harness {
	h.u.prefs.PlainHistory = true
	t0 := time.Date(2025, 11, 20, 9, 0, 0, 0, time.UTC)
	h.b.mu.Lock()
	h.b.hist = map[convKey][]account.HistoryLine{keyOf(bobConv): {
		{Time: t0, Body: "hello from last week"},
		{Time: t0.Add(time.Minute), Outgoing: true, Body: "my old reply"},
		{Time: t0.Add(time.Hour), Body: "hi again"},
	}}
	h.b.mu.Unlock()
	return h
}

func describe(ls []chatLine) string {
	var out []string
	for _, l := range ls {
		s := map[lineKind]string{lineIn: "<", lineOut: ">", lineSystem: "#"}[l.kind] + l.body
		if l.history {
			s = "h" + s
		}
		out = append(out, s)
	}
	return strings.Join(out, "|")
}

// An incoming plain message opens bob's chat: the kept lines appear above
// it, greyed, under the separator, and the message itself is not doubled.
func TestChatShowsEarlierPlainMessages(t *testing.T) {
	h := newHarness(t).withHistory().withBob()
	h.u.Handle(account.MessageReceived{Conv: bobConv, Body: "hi again"})
	c := h.calls("History", 1)[0]
	if c.args[0] != me || c.args[1] != bobConv.Peer || c.args[2] != historyLoad {
		t.Fatalf("History%v", c.args)
	}
	v := h.u.chats.views[keyOf(bobConv)]
	want := "h#" + historyHeader + "|h<hello from last week|h>my old reply|<hi again"
	if got := describe(v.msgs.lines); got != want {
		t.Fatalf("lines %q\nwant  %q", got, want)
	}
	// Greyed: earlier rows use low importance, live rows do not.
	r := newMsgRow(nil)
	r.set(v.msgs.lines[2])
	if r.body.Importance != widget.LowImportance || r.who.Text != "You" || !strings.Contains(r.when.Text, "Nov") {
		t.Errorf("earlier row: importance %v who %q when %q", r.body.Importance, r.who.Text, r.when.Text)
	}
	if st, _ := v.msgs.lines[2].stateText(); st != "sent in plain" {
		t.Errorf("earlier outgoing state %q", st)
	}
	r.set(v.msgs.lines[3])
	if r.body.Importance == widget.LowImportance {
		t.Error("live row greyed")
	}
	// Row heights moved with the rows: the separator is a system row.
	if v.msgs.custom[0] != v.msgs.sysH {
		t.Errorf("row 0 height %v, want the system height %v", v.msgs.custom[0], v.msgs.sysH)
	}
}

// A message typed before the history arrives keeps its line: Send's
// result finds it although rows were inserted above it.
func TestHistoryArrivingAfterTypingKeepsOutgoingLine(t *testing.T) {
	h := newHarness(t).withHistory().withBob()
	h.u.prefs.PlainHistory = false // the test inserts the history itself
	v := h.u.chats.open(bobConv, true)
	h.drain()
	test.Type(v.input, "typed fast")
	pressEnter(v.input)
	// Send's result waits in the queue until the test drains it: the
	// history lands first.
	hist, _ := h.b.History(me, bobConv.Peer, historyLoad)
	v.showHistory(hist)
	h.calls("Send", 1)
	want := "h#" + historyHeader + "|h<hello from last week|h>my old reply|h<hi again|>typed fast"
	if got := describe(v.msgs.lines); got != want {
		t.Fatalf("lines %q\nwant  %q", got, want)
	}
	if l := lastOut(v); l.id != "m1" {
		t.Fatalf("typed line %+v, want id m1", l)
	}
	h.u.Handle(account.MessageStateChanged{Conv: bobConv, ID: "m1", Body: "typed fast", State: account.SentPlain})
	if s, _ := lastOut(v).stateText(); s != "sent in plain" || len(v.msgs.lines) != 5 {
		t.Fatalf("after the state event: %q, %d lines", s, len(v.msgs.lines))
	}
	for _, l := range v.msgs.lines[:4] {
		if l.id != "" || l.pending {
			t.Fatalf("an earlier line took the sent state: %+v", l)
		}
	}
}

func TestNoHistoryWhenOff(t *testing.T) {
	h := newHarness(t).withHistory().withBob()
	h.u.prefs.PlainHistory = false
	h.u.Handle(account.MessageReceived{Conv: bobConv, Body: "hi again"})
	h.drain()
	if n := len(h.b.called("History")); n != 0 {
		t.Fatalf("History called %d times with PlainHistory off", n)
	}
	if got := describe(h.u.chats.views[keyOf(bobConv)].msgs.lines); got != "<hi again" {
		t.Fatalf("lines %q", got)
	}
}

func TestHistoryLoadErrorIsShown(t *testing.T) {
	h := newHarness(t).withHistory().withBob()
	h.b.setErr("History", errors.New("account: read history: permission denied"))
	v := h.u.chats.open(bobConv, true)
	h.calls("History", 1)
	if got := systemLines(v); len(got) != 1 || !strings.Contains(got[0], "Earlier messages could not be loaded: Read history: permission denied") {
		t.Fatalf("system lines %q", got)
	}
}

// Preferences say plainly what is kept; Clear history asks, then clears
// every account and takes the earlier lines out of open chats.
func TestPrefsClearHistory(t *testing.T) {
	h := newHarness(t).withHistory().withBob()
	h.b.mu.Lock()
	h.b.accounts = append(h.b.accounts, account.Settings{JID: "work@example.com"})
	h.b.mu.Unlock()
	v := h.u.chats.open(bobConv, true)
	h.calls("History", 1)
	h.u.showPrefs()
	p := h.u.prefsWin
	help := false
	for _, o := range test.LaidOutObjects(p.win.Content()) {
		if l, ok := o.(*widget.Label); ok && l.Text == "Only conversations that were not private are kept. "+
			"Private conversations are never written to disk." {
			help = true
		}
	}
	if !help {
		t.Error("the history help text is not in the preferences window")
	}
	test.Tap(p.clearBtn)
	if len(h.b.called("ClearHistory")) != 0 {
		t.Fatal("cleared without asking")
	}
	del := findButton(p.clearBox, "Delete history")
	if del == nil {
		t.Fatal("no Delete history button in the question")
	}
	test.Tap(del)
	calls := h.calls("ClearHistory", 2)
	if len(calls) != 2 || calls[0].args[0] != me || calls[0].args[1] != "" || calls[1].args[0] != "work@example.com" {
		t.Fatalf("ClearHistory calls %v", calls)
	}
	if got := describe(v.msgs.lines); got != "" {
		t.Fatalf("open chat still shows %q", got)
	}
	if p.status.Text != "History deleted." {
		t.Errorf("status %q", p.status.Text)
	}
}
