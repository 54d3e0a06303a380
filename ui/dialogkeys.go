package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// Fyne 2.7's dialogs take no keys: Enter and Escape did nothing in the
// certificate question, Add contact and the rest. withKeys gives a
// dialog on win Enter (enter; nil = nothing) and Escape (cancel) while it
// is shown, and puts back what the window did with keys before. Entries
// inside keep Enter for themselves (OnSubmitted).
func withKeys(win fyne.Window, d dialog.Dialog, enter func()) {
	c := win.Canvas()
	prev := c.OnTypedKey()
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) {
		switch ev.Name {
		case fyne.KeyReturn, fyne.KeyEnter:
			if enter != nil {
				enter()
			}
		case fyne.KeyEscape:
			d.Dismiss()
		default:
			if prev != nil {
				prev(ev)
			}
		}
	})
	d.SetOnClosed(func() { c.SetOnTypedKey(prev) })
}

// confirmKeys: Enter confirms, Escape cancels.
func confirmKeys(win fyne.Window, d *dialog.ConfirmDialog) { withKeys(win, d, d.Confirm) }

// submitOnEnter makes Enter in each entry submit the form dialog (when
// its fields validate), and gives the dialog Escape.
func submitOnEnter(win fyne.Window, d *dialog.FormDialog, entries ...*widget.Entry) {
	for _, e := range entries {
		e.OnSubmitted = func(string) { d.Submit() }
	}
	withKeys(win, d, d.Submit)
}
