package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

var _ Registrar = (*account.Manager)(nil)

// registeringFake is the fake backend plus Register.
type registeringFake struct {
	*fakeBackend
	err error
	got chan account.Settings
}

func (r registeringFake) Register(_ context.Context, s account.Settings, pw string) error {
	r.got <- s
	return r.err
}

func registerHarness(t *testing.T, err error) (*harness, registeringFake) {
	a := test.NewTempApp(t)
	b := newFake()
	rf := registeringFake{fakeBackend: b, err: err, got: make(chan account.Settings, 1)}
	h := &harness{t: t, app: a, b: b, queue: make(chan func(), 4096), prefs: &memPrefs{}}
	h.u = New(a, rf, Options{Prefs: h.prefs, Now: func() time.Time { return time.Unix(0, 0) }})
	h.u.post = func(f func()) { h.queue <- f }
	t.Cleanup(h.u.Stop)
	h.u.Start()
	if h.u.wizard == nil || h.u.wizard.registerBtn == nil {
		t.Fatal("no wizard with a Create a new account button")
	}
	return h, rf
}

// confirm taps the button labelled text in the wizard's top dialog.
func confirm(t *testing.T, w *wizard, text string) {
	t.Helper()
	top := w.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no confirmation dialog")
	}
	b := findButtonDeep(top, text)
	if b == nil {
		t.Fatalf("no %q button in the dialog", text)
	}
	test.Tap(b)
}

// TestWizardRegistersThenSignsIn: "Create a new account…" asks once,
// registers the typed address and password, then goes on as for an
// existing account (AddAccount, key page).
func TestWizardRegistersThenSignsIn(t *testing.T) {
	h, rf := registerHarness(t, nil)
	w := h.u.wizard
	test.Type(w.jid, "newcomer@example.org")
	test.Type(w.password, "s3cret")
	test.Tap(w.registerBtn)
	confirm(t, w, "Yes")
	if s := <-rf.got; s.JID != "newcomer@example.org" {
		t.Fatalf("Register(%+v)", s)
	}
	add := h.calls("AddAccount", 1)[0]
	if s := add.args[0].(account.Settings); s.JID != "newcomer@example.org" || add.args[1] != "s3cret" {
		t.Fatalf("AddAccount%v", add.args)
	}
	if w.keyStatus == nil {
		t.Fatal("did not go on to the key page")
	}
}

// TestWizardRegisterTakenName: the server's refusal is shown in plain
// words with what to do, and nothing is added.
func TestWizardRegisterTakenName(t *testing.T) {
	h, rf := registerHarness(t, &account.RegisterError{Taken: true, Reason: "that name is taken on this server; choose another"})
	w := h.u.wizard
	test.Type(w.jid, "alice@example.org")
	test.Type(w.password, "pw")
	test.Tap(w.registerBtn)
	confirm(t, w, "Yes")
	<-rf.got
	h.drain()
	want := "The account was not created: That name is taken on this server; choose another. Change the name before the @ and try again."
	if w.testResult.Text != want || !w.testResult.Visible() {
		t.Fatalf("shown %q, want %q", w.testResult.Text, want)
	}
	if n := len(h.b.called("AddAccount")); n != 0 || !strings.Contains(w.testResult.Text, "taken") {
		t.Fatalf("AddAccount called %d times after a refusal", n)
	}
	if w.registerBtn.Disabled() {
		t.Fatal("the button stays disabled: no retry")
	}
}

// findButtonDeep is findButton that also looks inside widgets (a dialog
// is a pop-up widget whose buttons are in its renderer).
func findButtonDeep(o fyne.CanvasObject, text string) *widget.Button {
	if b, ok := o.(*widget.Button); ok {
		if b.Text == text {
			return b
		}
		return nil
	}
	var kids []fyne.CanvasObject
	switch x := o.(type) {
	case *fyne.Container:
		kids = x.Objects
	case fyne.Widget:
		kids = test.WidgetRenderer(x).Objects()
	}
	for _, c := range kids {
		if b := findButtonDeep(c, text); b != nil {
			return b
		}
	}
	return nil
}
