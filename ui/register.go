package ui

// "Create a new account on this server" in the first-run wizard: XEP-0077
// in-band registration through the backend, then the wizard carries on
// exactly as for an existing account (add it, make the key, sign in).

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// Registrar creates accounts on a server (account.Manager.Register). It is
// not part of Backend: a backend without it just has no such button.
type Registrar interface {
	Register(ctx context.Context, s account.Settings, password string) error
}

// registerButton is the wizard's "Create a new account…" button; nil
// (nothing to show) when the backend cannot register.
func (w *wizard) registerButton() fyne.CanvasObject {
	r, ok := w.u.b.(Registrar)
	if !ok {
		return layoutSpacer()
	}
	w.registerBtn = widget.NewButtonWithIcon("Create a new account…", theme.ContentAddIcon(), func() { w.register(r) })
	return w.registerBtn
}

// register asks once, then creates the account with the form's address
// and password and, when the server agrees, continues as createAccount.
func (w *wizard) register(r Registrar) {
	s, ok := w.settings()
	if !ok {
		return
	}
	_, domain, _ := strings.Cut(s.JID, "@")
	msg := "Create the new account " + s.JID + " on the server " + domain + ", with the password you typed?\n\n" +
		"Only some servers allow this; the server decides whether the name is free."
	dialog.ShowConfirm("Create a new account on this server", msg, func(yes bool) {
		if !yes {
			return
		}
		pw := w.password.Text
		w.setBusy(true)
		w.registerBtn.Disable()
		say(w.testResult, widget.MediumImportance, "Creating "+s.JID+" on "+domain+"…")
		w.u.do(func(ctx context.Context) error { return r.Register(ctx, s, pw) }, func(err error) {
			w.setBusy(false)
			w.registerBtn.Enable()
			if err != nil {
				say(w.testResult, widget.DangerImportance, "The account was not created: "+plain(err)+registerHint(err))
				return
			}
			say(w.testResult, widget.SuccessImportance, "The account "+s.JID+" was created. Setting it up…")
			w.createAccount()
		})
	}, w.win)
}

// registerHint adds what the user can do next.
func registerHint(err error) string {
	var re *account.RegisterError
	switch {
	case !errors.As(err, &re):
		return ""
	case re.Taken:
		return " Change the name before the @ and try again."
	case re.NotAllowed || len(re.NeedsMore) > 0:
		return " If you already have an account there, enter it and press \"Create my key\"."
	}
	return ""
}
