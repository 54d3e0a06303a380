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
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Entry:
			entries = append(entries, v)
		case *widget.Button:
			button = v
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		}
	}
	walk(w.Content())
	return entries, button
}

func TestPassphraseCreateChecksLengthAndMatch(t *testing.T) {
	a := test.NewTempApp(t)
	u := &UI{app: a, post: func(f func()) { f() }}
	answer := make(chan string, 1)
	w := u.passphraseWindow(true, "", answer)
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
	if got := <-answer; got != "correct horse" {
		t.Fatalf("got %q", got)
	}
}

func TestAskPassphraseCancelAndContext(t *testing.T) {
	a := test.NewTempApp(t)
	shown := make(chan fyne.Window, 1)
	u := &UI{app: a}
	u.post = func(f func()) { f(); shown <- lastWindow(a) }
	done := make(chan error, 1)
	go func() { _, err := u.AskPassphrase(context.Background(), false, "Wrong passphrase"); done <- err }()
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
	if _, err := u.AskPassphrase(ctx, false, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: got %v", err)
	}
}

func lastWindow(a fyne.App) fyne.Window {
	ws := a.Driver().AllWindows()
	if len(ws) == 0 {
		return nil
	}
	return ws[len(ws)-1]
}
