package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
)

// ShowError shows err in plain language over the front window (or a small
// window of its own when none is open yet). Call it on the Fyne goroutine.
func (u *UI) ShowError(err error) {
	if err == nil {
		return
	}
	var w fyne.Window
	for _, cand := range u.app.Driver().AllWindows() {
		w = cand
	}
	if w == nil {
		w = u.app.NewWindow("Sotto")
		w.Resize(fyne.NewSize(420, 200))
		w.Show()
	}
	d := dialog.NewInformation("Something needs your attention", plain(err), w)
	withKeys(w, d, d.Hide)
	d.Show()
}
