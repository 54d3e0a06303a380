package ui

import (
	"context"
	"errors"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// passphraseFields finds the password entries and the main button of the
// passphrase window.
func passphraseFields(t *testing.T, w fyne.Window) (entries []*widget.Entry, button *widget.Button) {
	t.Helper()
	entries, button, _ = passphraseWidgets(w)
	return entries, button
}

// passphraseWidgets also returns the "remember" check box, if any.
func passphraseWidgets(w fyne.Window) (entries []*widget.Entry, button *widget.Button, check *widget.Check) {
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Entry:
			entries = append(entries, v)
		case *widget.Button:
			button = v
		case *widget.Check:
			check = v
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		}
	}
	walk(w.Content())
	return entries, button, check
}

func TestPassphraseCreateChecksLengthAndMatch(t *testing.T) {
	a := test.NewTempApp(t)
	u := &UI{app: a, post: func(f func()) { f() }}
	answer := make(chan PassphraseAnswer, 1)
	w := u.passphraseWindow(PassphraseRequest{Create: true}, answer)
	entries, ok := passphraseFields(t, w)
	if len(entries) != 2 || ok == nil {
		t.Fatalf("create window: want 2 entries and a button, got %d, %v", len(entries), ok)
	}
	test.Type(entries[0], "short")
	test.Tap(ok)
	if len(answer) != 0 {
		t.Fatal("a 5-character passphrase must be refused")
	}
	entries[0].SetText("correct horse")
	entries[1].SetText("correct horsf")
	test.Tap(ok)
	if len(answer) != 0 {
		t.Fatal("differing passphrases must be refused")
	}
	entries[1].SetText("correct horse")
	test.Tap(ok)
	if got := <-answer; got.Passphrase != "correct horse" || got.Remember {
		t.Fatalf("got %+v", got)
	}
}

func TestAskPassphraseCancelAndContext(t *testing.T) {
	a := test.NewTempApp(t)
	shown := make(chan fyne.Window, 1)
	u := &UI{app: a}
	u.post = func(f func()) { f(); shown <- lastWindow(a) }
	done := make(chan error, 1)
	go func() {
		_, err := u.AskPassphrase(context.Background(), PassphraseRequest{Problem: "Wrong passphrase"})
		done <- err
	}()
	w := <-shown
	if w == nil || w.Title() != "Unlock Sotto" {
		t.Fatalf("want the unlock window, got %v", w)
	}
	w.Close()
	if err := <-done; !errors.Is(err, ErrPassphraseCancelled) {
		t.Fatalf("closing the window: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	u.post = func(f func()) { f() }
	if _, err := u.AskPassphrase(ctx, PassphraseRequest{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: got %v", err)
	}
}

// TestPassphraseRememberBox: the box is shown only when offered, starts
// unticked next to its warning, and its value comes back with the
// passphrase.
func TestPassphraseRememberBox(t *testing.T) {
	a := test.NewTempApp(t)
	u := &UI{app: a, post: func(f func()) { f() }}

	answer := make(chan PassphraseAnswer, 1)
	w := u.passphraseWindow(PassphraseRequest{}, answer)
	if _, _, check := passphraseWidgets(w); check != nil {
		t.Fatal("the remember box must not be offered unless asked for")
	}
	w.Close()

	for _, tick := range []bool{false, true} {
		answer := make(chan PassphraseAnswer, 1)
		w := u.passphraseWindow(PassphraseRequest{OfferRemember: true}, answer)
		entries, ok, check := passphraseWidgets(w)
		if check == nil || check.Text != "Remember the passphrase on this computer" {
			t.Fatalf("want the remember box, got %v", check)
		}
		if check.Checked {
			t.Fatal("the remember box must start unticked")
		}
		if !hasLabel(w.Content(), rememberWarning) {
			t.Fatal("the remember box must come with its warning")
		}
		if tick {
			test.Tap(check)
		}
		test.Type(entries[0], "the passphrase")
		test.Tap(ok)
		got := <-answer
		if got.Passphrase != "the passphrase" || got.Remember != tick {
			t.Fatalf("ticked=%v: got %+v", tick, got)
		}
	}
}

// TestAskPassphraseReturnsRemember: the choice survives the trip through
// AskPassphrase's channel.
func TestAskPassphraseReturnsRemember(t *testing.T) {
	a := test.NewTempApp(t)
	shown := make(chan fyne.Window, 1)
	u := &UI{app: a}
	u.post = func(f func()) { f(); shown <- lastWindow(a) }
	type result struct {
		a   PassphraseAnswer
		err error
	}
	done := make(chan result, 1)
	go func() {
		ans, err := u.AskPassphrase(context.Background(), PassphraseRequest{OfferRemember: true})
		done <- result{ans, err}
	}()
	w := <-shown
	entries, ok, check := passphraseWidgets(w)
	if check == nil || len(entries) != 1 {
		t.Fatalf("unlock window: %d entries, check %v", len(entries), check)
	}
	fyne.DoAndWait(func() {
		test.Tap(check)
		test.Type(entries[0], "pass phrase")
		test.Tap(ok)
	})
	r := <-done
	if r.err != nil || r.a.Passphrase != "pass phrase" || !r.a.Remember {
		t.Fatalf("got %+v, %v", r.a, r.err)
	}
}

func hasLabel(o fyne.CanvasObject, text string) bool {
	switch v := o.(type) {
	case *widget.Label:
		return v.Text == text
	case *fyne.Container:
		for _, c := range v.Objects {
			if hasLabel(c, text) {
				return true
			}
		}
	}
	return false
}

func lastWindow(a fyne.App) fyne.Window {
	ws := a.Driver().AllWindows()
	if len(ws) == 0 {
		return nil
	}
	return ws[len(ws)-1]
}
