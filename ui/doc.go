// Package ui is Sotto's Fyne desktop interface: the first-run wizard, the
// roster, chat tabs with the OTR status button, the authenticate dialog,
// the fingerprint manager and preferences.
//
// The UI observes and never owns: all state comes from account events
// (pumped in with Run or Handle, applied on the Fyne goroutine via
// fyne.Do) and every request goes to a small interface declared here
// (Backend and its parts), which *account.Manager satisfies. Network,
// keyring and key-generation calls never run on the UI goroutine: they run
// in their own goroutine and report back through fyne.Do.
//
// ui imports account and Fyne only; never otr or mellium, and never
// fyne.io/fyne/v2/app (main.go creates the app so that these tests run
// without cgo or GL).
package ui
