package ui

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// minPassphrase is the shortest vault passphrase we accept when creating a
// vault. The vault's argon2id work factor slows guessing, but a short
// passphrase on a stolen USB stick still falls to an offline search.
const minPassphrase = 8

// ErrPassphraseCancelled is returned by AskPassphrase when the user closes
// the window instead of answering.
var ErrPassphraseCancelled = errors.New("ui: passphrase not given")

// AskPassphrase asks for the vault passphrase in its own small window and
// blocks until the user answers, cancels, or ctx ends. create asks twice
// (new vault); problem, when not empty, is shown above the field (e.g.
// "Wrong passphrase"). Call it off the UI goroutine.
func (u *UI) AskPassphrase(ctx context.Context, create bool, problem string) (string, error) {
	answer := make(chan string, 1)
	var win fyne.Window
	u.post(func() { win = u.passphraseWindow(create, problem, answer) })
	select {
	case p, ok := <-answer:
		if !ok {
			return "", ErrPassphraseCancelled
		}
		return p, nil
	case <-ctx.Done():
		u.post(func() {
			if win != nil {
				win.Close()
			}
		})
		return "", ctx.Err()
	}
}

// passphraseWindow builds the window; answer gets the passphrase, or is
// closed when the user cancels.
func (u *UI) passphraseWindow(create bool, problem string, answer chan<- string) fyne.Window {
	title := "Unlock Sotto"
	intro := "Your keys and passwords are kept in an encrypted vault. Enter its passphrase."
	button := "Unlock"
	if create {
		title = "Protect your keys"
		intro = "Choose a passphrase for Sotto's encrypted vault. It protects your keys and passwords; without it they cannot be recovered."
		button = "Create vault"
	}
	win := u.app.NewWindow(title)
	pass := widget.NewPasswordEntry()
	pass.SetPlaceHolder("Passphrase")
	again := widget.NewPasswordEntry()
	again.SetPlaceHolder("Passphrase again")
	msg := widget.NewLabel(problem)
	msg.Importance = widget.DangerImportance
	msg.Wrapping = fyne.TextWrapWord
	answered := false
	submit := func() {
		if create {
			switch {
			case len(pass.Text) < minPassphrase:
				msg.SetText("Use at least 8 characters.")
				return
			case pass.Text != again.Text:
				msg.SetText("The two passphrases differ.")
				return
			}
		}
		if pass.Text == "" {
			msg.SetText("Enter the passphrase.")
			return
		}
		answered = true
		answer <- pass.Text
		win.Close()
	}
	pass.OnSubmitted = func(string) {
		if create {
			win.Canvas().Focus(again)
			return
		}
		submit()
	}
	again.OnSubmitted = func(string) { submit() }
	ok := widget.NewButton(button, submit)
	ok.Importance = widget.HighImportance
	intro2 := widget.NewLabel(intro)
	intro2.Wrapping = fyne.TextWrapWord
	fields := container.NewVBox(intro2, pass)
	if create {
		fields.Add(again)
	}
	fields.Add(msg)
	win.SetContent(container.NewPadded(container.NewBorder(nil,
		container.NewHBox(layout.NewSpacer(), ok), nil, nil, fields)))
	win.SetOnClosed(func() {
		if !answered {
			close(answer)
		}
	})
	win.Resize(fyne.NewSize(420, 240))
	win.Show()
	win.Canvas().Focus(pass)
	return win
}
