package ui

import (
	"errors"
	"fyne.io/fyne/v2"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/sotto-im/sotto/account"
)

// authHarness: bob's chat open and Unverified, the dialog open.
func authHarness(t *testing.T) (*harness, *convView) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.sec(account.Unverified, bobFP)
	v.openAuth()
	if v.auth == nil || !v.auth.ask.Visible() {
		t.Fatal("Authenticate dialog did not open on its first page")
	}
	return h, v
}

// Each method sends the right request: Authenticate(question, secret),
// Authenticate("", secret), SetVerified(...).
func TestAuthenticateMethods(t *testing.T) {
	t.Run("question and answer", func(t *testing.T) {
		h, v := authHarness(t)
		a := v.auth
		a.method.SetSelected(methodQA)
		test.Type(a.question, "Where did we meet?")
		test.Type(a.qaAnswer, "Berlin")
		test.Tap(a.startBtn)
		if !a.wait.Visible() || !strings.Contains(a.waitText.Text, "Waiting for bob") {
			t.Errorf("no progress while waiting: %q", a.waitText.Text)
		}
		c := h.calls("Authenticate", 1)[0]
		if c.args[0] != bobConv || c.args[1] != "Where did we meet?" || c.args[2] != "Berlin" {
			t.Errorf("Authenticate%v", c.args)
		}
	})
	t.Run("shared secret", func(t *testing.T) {
		h, v := authHarness(t)
		a := v.auth
		a.method.SetSelected(methodSecret)
		test.Type(a.secret, "hunter2")
		test.Tap(a.startBtn)
		c := h.calls("Authenticate", 1)[0]
		if c.args[0] != bobConv || c.args[1] != "" || c.args[2] != "hunter2" {
			t.Errorf("Authenticate%v", c.args)
		}
		if !a.wait.Visible() {
			t.Error("no progress page")
		}
	})
	t.Run("compare fingerprints", func(t *testing.T) {
		h, v := authHarness(t)
		a := v.auth
		a.method.SetSelected(methodManual)
		h.settle(func() bool { return a.ownFP.Text != "" })
		if a.ownFP.Text != groupFingerprint(h.b.ownFP) || a.theirFP.Text != "11111111 22222222 33333333 44444444 55555555" {
			t.Errorf("fingerprints shown: ours %q theirs %q", a.ownFP.Text, a.theirFP.Text)
		}
		// The buttons lie below the choice, and the dialog inside the
		// chat window (issue 13: Cancel/Authenticate overlapped "I have
		// not verified it" and the dialog ran off the window).
		d := fyne.CurrentApp().Driver()
		choice, btn := d.AbsolutePositionForObject(a.manualChoice), d.AbsolutePositionForObject(a.startBtn)
		if btn.Y < choice.Y+a.manualChoice.MinSize().Height {
			t.Errorf("Authenticate at y=%v overlaps the choice at y=%v (height %v)", btn.Y, choice.Y, a.manualChoice.MinSize().Height)
		}
		win := v.window().Canvas().Size()
		if bottom := btn.Y + a.startBtn.Size().Height; bottom > win.Height {
			t.Errorf("the dialog's buttons end at y=%v, past the %v-high window", bottom, win.Height)
		}
		a.manualChoice.SetSelected(manualYes)
		test.Tap(a.startBtn)
		c := h.calls("SetVerified", 1)[0]
		if c.args[0] != me || c.args[1] != "bob@example.org" || c.args[2] != bobFP || c.args[3] != true {
			t.Errorf("SetVerified%v", c.args)
		}
		if !a.result.Visible() || !strings.Contains(a.resultText.Text, "verified") {
			t.Errorf("manual result: %q", a.resultText.Text)
		}
		if len(h.b.called("Authenticate")) != 0 {
			t.Error("manual comparison ran SMP")
		}
	})
}

// Missing input and backend errors are reported, not sent.
func TestAuthenticateErrors(t *testing.T) {
	h, v := authHarness(t)
	a := v.auth
	a.method.SetSelected(methodQA)
	test.Type(a.question, "Where?")
	test.Tap(a.startBtn)
	h.drain()
	if len(h.b.called("Authenticate")) != 0 || a.askErr.Text == "" {
		t.Errorf("empty answer: calls %d, message %q", len(h.b.called("Authenticate")), a.askErr.Text)
	}
	h.b.setErr("Authenticate", errors.New("account: bob is offline"))
	test.Type(a.qaAnswer, "x")
	test.Tap(a.startBtn)
	h.calls("Authenticate", 1)
	if !a.ask.Visible() || a.askErr.Text != "Could not start: Bob is offline." {
		t.Errorf("error shown: %q (ask page visible %v)", a.askErr.Text, a.ask.Visible())
	}
}

// Every SMPResult is shown in the dialog and as a system line; a success
// the peer asked for offers to verify the peer in turn.
func TestAuthenticateResults(t *testing.T) {
	cases := []struct {
		out        account.SMPOutcome
		weAsked    bool
		text, line string
		verifyBack bool
	}{
		{account.SMPSucceeded, true, "Authentication succeeded: bob is verified.", "Authentication succeeded: bob is verified.", false},
		{account.SMPSucceeded, false, "bob has verified you — verify bob too?", "bob has verified you.", true},
		{account.SMPFailed, true, "Authentication failed.", "Authentication of bob failed: the answer did not match.", false},
		{account.SMPAborted, true, "Authentication was cancelled.", "Authentication was cancelled.", false},
		{account.SMPCheated, true, "the reply was not valid", "Authentication failed: bob's reply was not valid. Someone may be interfering.", false},
	}
	for _, c := range cases {
		t.Run(c.out.String(), func(t *testing.T) {
			h, v := authHarness(t)
			h.u.Handle(account.SMPResult{Conv: bobConv, Outcome: c.out, WeAsked: c.weAsked})
			a := v.auth
			if !a.result.Visible() || !strings.Contains(a.resultText.Text, c.text) {
				t.Errorf("result %q, want %q", a.resultText.Text, c.text)
			}
			if a.verifyBack.Visible() != c.verifyBack {
				t.Errorf("verify-back offered=%v", a.verifyBack.Visible())
			}
			lines := systemLines(v)
			if lines[len(lines)-1] != c.line {
				t.Errorf("system line %q, want %q", lines[len(lines)-1], c.line)
			}
			if c.verifyBack {
				test.Tap(a.verifyBack)
				if !a.ask.Visible() {
					t.Error("Verify bob did not open the method page")
				}
			}
		})
	}
}

// An incoming SMPRequested opens the answer dialog; the answer goes to
// AnswerSMP; Cancel aborts.
func TestSMPRequestOpensAnswerDialog(t *testing.T) {
	h := newHarness(t).withBob()
	h.sec(account.Unverified, bobFP)
	h.u.Handle(account.SMPRequested{Conv: bobConv, Question: "Name of my cat?"})
	v := h.u.chats.views[keyOf(bobConv)]
	if v == nil || v.auth == nil || !v.auth.answer.Visible() {
		t.Fatal("no answer dialog")
	}
	a := v.auth
	// The answer is typed without a click: the reply field has the focus.
	if f := v.window().Canvas().Focused(); f != a.reply {
		t.Errorf("focused %T, want the reply field", f)
	}
	if !strings.Contains(a.peerQuestion.Text, "Name of my cat?") {
		t.Errorf("question not shown: %q", a.peerQuestion.Text)
	}
	test.Type(a.reply, "Tom")
	test.Tap(a.answerBtn)
	if c := h.calls("AnswerSMP", 1)[0]; c.args[0] != bobConv || c.args[1] != "Tom" {
		t.Errorf("AnswerSMP%v", c.args)
	}
	if !a.wait.Visible() {
		t.Error("no progress after answering")
	}

	// Shared-secret request, then cancel.
	h.u.Handle(account.SMPRequested{Conv: bobConv})
	a = v.auth
	if !strings.Contains(a.peerQuestion.Text, "secret") {
		t.Errorf("secret prompt: %q", a.peerQuestion.Text)
	}
	a.abort()
	h.calls("AbortSMP", 1)

	// After bob verified us with a shared secret, "Verify bob" starts on
	// the shared-secret method.
	h.u.Handle(account.SMPRequested{Conv: bobConv})
	a = v.auth
	test.Type(a.reply, "s3cret")
	test.Tap(a.answerBtn)
	h.calls("AnswerSMP", 2)
	h.u.Handle(account.SMPResult{Conv: bobConv, Outcome: account.SMPSucceeded})
	test.Tap(a.verifyBack)
	if a.method.Selected != methodSecret || !a.shared.Visible() {
		t.Errorf("verify-back method %q", a.method.Selected)
	}
}
