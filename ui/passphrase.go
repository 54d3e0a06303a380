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

// PassphraseRequest says what the passphrase window asks for.
type PassphraseRequest struct {
	// Create asks twice and checks the length: a new vault.
	Create bool
	// Problem, when not empty, is shown above the field (e.g. "Wrong
	// passphrase").
	Problem string
	// OfferRemember shows the "Remember the passphrase on this computer"
	// box (portable mode only: elsewhere the vault is the fallback for a
	// keyring that does not answer, so there is nowhere to remember it).
	OfferRemember bool
}

// PassphraseAnswer is what the user gave.
type PassphraseAnswer struct {
	Passphrase string
	// Remember: the user ticked "Remember the passphrase on this
	// computer". Always false unless the request offered it.
	Remember bool
}

// rememberWarning is the trade-off, said next to the box: the host's
// keyring is unlocked with the user's login, so anyone who can use that
// login can read the passphrase and open a copy of the vault.
const rememberWarning = "Anyone who can use this computer account can then open your vault."

// AskPassphrase asks for the vault passphrase in its own small window and
// blocks until the user answers, cancels, or ctx ends. Call it off the UI
// goroutine.
func (u *UI) AskPassphrase(ctx context.Context, req PassphraseRequest) (PassphraseAnswer, error) {
	answer := make(chan PassphraseAnswer, 1)
	var win fyne.Window
	u.post(func() { win = u.passphraseWindow(req, answer) })
	select {
	case a, ok := <-answer:
		if !ok {
			return PassphraseAnswer{}, ErrPassphraseCancelled
		}
		return a, nil
	case <-ctx.Done():
		u.post(func() {
			if win != nil {
				win.Close()
			}
		})
		return PassphraseAnswer{}, ctx.Err()
	}
}

// passphraseWindow builds the window; answer gets the passphrase and the
// remember choice, or is closed when the user cancels.
func (u *UI) passphraseWindow(req PassphraseRequest, answer chan<- PassphraseAnswer) fyne.Window {
	create := req.Create
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
	remember := widget.NewCheck("Remember the passphrase on this computer", nil)
	msg := widget.NewLabel(req.Problem)
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
		answer <- PassphraseAnswer{Passphrase: pass.Text, Remember: req.OfferRemember && remember.Checked}
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
	height := float32(240)
	if req.OfferRemember {
		warn := widget.NewLabel(rememberWarning)
		warn.Wrapping = fyne.TextWrapWord
		warn.Importance = widget.WarningImportance
		fields.Add(remember)
		fields.Add(warn)
		height = 320
	}
	fields.Add(msg)
	win.SetContent(container.NewPadded(container.NewBorder(nil,
		container.NewHBox(layout.NewSpacer(), ok), nil, nil, fields)))
	win.SetOnClosed(func() {
		if !answered {
			close(answer)
		}
	})
	win.Resize(fyne.NewSize(420, height))
	win.Show()
	win.Canvas().Focus(pass)
	return win
}
