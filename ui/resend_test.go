package ui

// A NotSent line offers Resend, a Queued one Remove: one tap on the link
// beside the line's state (issue 16).

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/sotto-im/sotto/account"
)

// shownRow is the rendered row of line id (nil when it is not on screen).
func shownRow(o fyne.CanvasObject, id string) *msgRow {
	if r, ok := o.(*msgRow); ok {
		if r.id == id && r.Visible() {
			return r
		}
		return nil
	}
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			if r := shownRow(c, id); r != nil {
				return r
			}
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			if r := shownRow(c, id); r != nil {
				return r
			}
		}
	}
	return nil
}

// tapAction taps the action link of line id as drawn, after checking it
// says want.
func tapAction(t *testing.T, h *harness, v *convView, id, want string) {
	t.Helper()
	h.drain()
	r := shownRow(v.msgs.list, id)
	if r == nil {
		t.Fatalf("line %s is not on screen", id)
	}
	if !r.act.Visible() || r.act.Text != want {
		t.Fatalf("line %s offers %q (shown %v), want %q", id, r.act.Text, r.act.Visible(), want)
	}
	sz := r.act.Size()
	test.TapAt(r.act, fyne.NewPos(sz.Width/2, sz.Height/2))
}

// offers reports what line id's row offers on screen ("" for nothing).
func offers(t *testing.T, h *harness, v *convView, id string) string {
	t.Helper()
	h.drain()
	r := shownRow(v.msgs.list, id)
	if r == nil {
		t.Fatalf("line %s is not on screen", id)
	}
	if !r.act.Visible() {
		return ""
	}
	return r.act.Text
}

func lineByID(v *convView, id string) chatLine {
	if i := v.msgs.findID(id); i >= 0 {
		return v.msgs.lines[i]
	}
	return chatLine{}
}

// TestNotSentLineResends: a NotSent line shows its reason once (not "not
// sent: not sent: …") and a Resend link; tapping it calls Resend with the
// line's id (never Send: nothing goes out under a new id or in plain),
// the line is "sending…" at once with no link, and then follows the
// account's events. No "send unencrypted" shortcut appears. When the
// account has nothing to resend (after a restart), the chat says so and
// the line offers nothing.
func TestNotSentLineResends(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.u.chats.win.Resize(fyne.NewSize(640, 480))
	test.Type(v.input, "the plan")
	pressEnter(v.input)
	h.calls("Send", 1)
	h.drain()
	id := lastOut(v).id
	h.u.Handle(account.MessageStateChanged{Conv: bobConv, ID: id, Body: "the plan", State: account.Queued})
	h.u.Handle(account.MessageStateChanged{Conv: bobConv, ID: id, Body: "the plan", State: account.NotSent,
		Reason: "not sent: a private conversation could not be established in time"})
	if s, _ := lineByID(v, id).stateText(); s != "not sent: a private conversation could not be established in time" {
		t.Errorf("NotSent shows %q", s)
	}
	tapAction(t, h, v, id, "Resend")
	c := h.calls("Resend", 1)
	if c[0].args[0] != bobConv || c[0].args[1] != id {
		t.Fatalf("Resend%v, want (%v, %s)", c[0].args, bobConv, id)
	}
	if s, _ := lineByID(v, id).stateText(); s != "sending…" {
		t.Errorf("after Resend the line shows %q, want sending…", s)
	}
	if a := offers(t, h, v, id); a != "" {
		t.Errorf("while resending the line offers %q", a)
	}
	for _, st := range []struct {
		st   account.OutState
		want string
		act  string
	}{
		{account.Queued, "queued until private", "Remove"},
		{account.SentEncrypted, "sent encrypted", ""},
		{account.Delivered, "sent encrypted · delivered", ""},
	} {
		h.u.Handle(account.MessageStateChanged{Conv: bobConv, ID: id, Body: "the plan", State: st.st})
		if s, _ := lineByID(v, id).stateText(); s != st.want {
			t.Errorf("%v: shows %q, want %q", st.st, s, st.want)
		}
		if a := offers(t, h, v, id); a != st.act {
			t.Errorf("%v: offers %q, want %q", st.st, a, st.act)
		}
	}
	if n := len(h.b.called("Send")); n != 1 {
		t.Errorf("Send called %d times: Resend must not send a new line", n)
	}
	if v.plainChoice.box.Visible() {
		t.Error("a send-unencrypted choice is shown")
	}

	// After a restart the account has nothing to resend.
	test.Type(v.input, "second")
	pressEnter(v.input)
	h.calls("Send", 2)
	h.drain()
	id2 := lastOut(v).id
	h.u.Handle(account.MessageStateChanged{Conv: bobConv, ID: id2, Body: "second", State: account.NotSent,
		Reason: "not sent: the account went offline"})
	h.b.setErr("Resend", account.ErrNothingToResend)
	tapAction(t, h, v, id2, "Resend")
	h.calls("Resend", 2)
	h.settle(func() bool { return !lineByID(v, id2).asking })
	if l := systemLines(v); !strings.Contains(l[len(l)-1], "can no longer be resent") {
		t.Errorf("last system line %q", l[len(l)-1])
	}
	if s, _ := lineByID(v, id2).stateText(); s != "not sent: the account went offline" {
		t.Errorf("the line shows %q after Resend was refused", s)
	}
	if a := offers(t, h, v, id2); a != "" {
		t.Errorf("after the refusal the line still offers %q", a)
	}
}

// TestQueuedLineRemoves: a waiting line offers Remove (a plain one kept
// on disk says it is saved); tapping it calls RemoveQueued with its id,
// and the account's Removed event leaves it "removed, not sent" with
// nothing to offer. A line that left meanwhile (ErrNotWaiting) is said
// so, and follows its events.
func TestQueuedLineRemoves(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.u.chats.win.Resize(fyne.NewSize(640, 480))
	h.u.Handle(account.MessageStateChanged{Conv: bobConv, ID: "q1", Body: "wait for me", State: account.Queued, Kept: true})
	if s, _ := lineByID(v, "q1").stateText(); s != "waiting for the connection · saved if you quit" {
		t.Errorf("a kept waiting line shows %q", s)
	}
	tapAction(t, h, v, "q1", "Remove")
	c := h.calls("RemoveQueued", 1)
	if c[0].args[0] != bobConv || c[0].args[1] != "q1" {
		t.Fatalf("RemoveQueued%v", c[0].args)
	}
	h.u.Handle(account.MessageStateChanged{Conv: bobConv, ID: "q1", Body: "wait for me", State: account.Removed})
	if s, _ := lineByID(v, "q1").stateText(); s != "removed, not sent" {
		t.Errorf("removed line shows %q", s)
	}
	if a := offers(t, h, v, "q1"); a != "" {
		t.Errorf("a removed line offers %q", a)
	}

	h.u.Handle(account.MessageStateChanged{Conv: bobConv, ID: "q2", Body: "too late", State: account.Queued})
	h.b.setErr("RemoveQueued", account.ErrNotWaiting)
	tapAction(t, h, v, "q2", "Remove")
	h.calls("RemoveQueued", 2)
	h.settle(func() bool { return !lineByID(v, "q2").asking })
	if l := systemLines(v); !strings.Contains(l[len(l)-1], "no longer waiting") {
		t.Errorf("last system line %q", l[len(l)-1])
	}
	h.u.Handle(account.MessageStateChanged{Conv: bobConv, ID: "q2", Body: "too late", State: account.SentPlain})
	if s, _ := lineByID(v, "q2").stateText(); s != "sent in plain" {
		t.Errorf("q2 shows %q", s)
	}
}
