package ui

import (
	"context"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// PrefsStore keeps what the UI remembers, in the profile folder so that
// the folder (and a portable stick) holds everything: the account layer's
// preferences the Preferences window edits (account.Prefs), and the UI's
// own state (state.go), which the store keeps as bytes it does not read.
// *account.Profile satisfies it; Options.Prefs nil keeps both in memory.
type PrefsStore interface {
	Prefs() account.Prefs
	SavePrefs(account.Prefs) error
	UIState() []byte
	SetUIState([]byte) error
}

// sottoTheme is Fyne's default theme, optionally pinned to the light or
// dark variant, with one change: low-importance labels (timestamps, status
// texts, help lines) use the placeholder grey instead of the "disabled"
// colour, which the default light theme makes almost invisible on white.
// Disabled buttons then read mid-grey, still clearly apart from live text.
type sottoTheme struct {
	fyne.Theme
	v     fyne.ThemeVariant
	fixed bool
}

func (t sottoTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if t.fixed {
		v = t.v
	}
	if n == theme.ColorNameDisabled {
		n = theme.ColorNamePlaceHolder
	}
	return t.Theme.Color(n, v)
}

func applyTheme(a fyne.App, name string) {
	t := sottoTheme{Theme: theme.DefaultTheme()}
	switch name {
	case "light":
		t.v, t.fixed = theme.VariantLight, true
	case "dark":
		t.v, t.fixed = theme.VariantDark, true
	}
	a.Settings().SetTheme(t)
}

// historyHelp says plainly what the history keeps.
const historyHelp = "Only conversations that were not private are kept. " +
	"Private conversations are never written to disk."

// trustNewHelp says what the new-device choice does, and what it never does.
const trustNewHelp = "Off (the default): a device a contact, or your own account, adds later gets nothing " +
	"until you verify or accept it in Fingerprints. On: it gets messages at once and the chat says so. " +
	"A new device of someone you have verified a device of always waits for you."

var themeNames = []string{"System", "Light", "Dark"}

// prefsWindow edits the plain history setting (account.Prefs) and the
// theme (uiState). It has no OTR policy: that is set per account, in
// Account settings, and applies to every contact without one of their own
// (account.Manager.Policy).
type prefsWindow struct {
	u       *UI
	win     fyne.Window
	history *widget.Check
	// version and signals are the inverse of account.Prefs' opt-outs.
	version, signals *widget.Check
	// trustNew is account.Prefs.OMEMOTrustNewDevices.
	trustNew *widget.Check
	theme    *widget.RadioGroup
	status   *widget.Label
	// clearBtn asks before deleting; clearBox holds the question's
	// buttons (kept for tests).
	clearBtn *widget.Button
	clearBox *fyne.Container
	clearDlg dialog.Dialog
}

func (u *UI) showPrefs() {
	if u.prefsWin == nil {
		u.prefsWin = newPrefsWindow(u)
	}
	u.prefsWin.win.Show()
	u.prefsWin.win.RequestFocus()
}

func newPrefsWindow(u *UI) *prefsWindow {
	p := &prefsWindow{u: u, win: u.app.NewWindow("Sotto — Preferences"), status: widget.NewLabel("")}
	p.history = widget.NewCheck("Keep a history of conversations that are not private", nil)
	p.history.SetChecked(u.prefs.PlainHistory)
	p.signals = widget.NewCheck("Send typing notifications and delivery receipts", nil)
	p.signals.SetChecked(!u.prefs.NoTypingOrReceipts)
	p.version = widget.NewCheck("Tell other clients which version of Sotto you use", nil)
	p.version.SetChecked(!u.prefs.HideVersion)
	p.trustNew = widget.NewCheck("Let new OMEMO devices (of contacts and of my own account) get messages at once", nil)
	p.trustNew.SetChecked(u.prefs.OMEMOTrustNewDevices)
	p.theme = widget.NewRadioGroup(themeNames, nil)
	p.theme.Horizontal = true
	p.theme.SetSelected(themeLabel(u.state.Theme))
	p.status.Wrapping = fyne.TextWrapWord

	privacy := widget.NewLabel("When conversations go private is set for each account: " +
		"Account settings, in the account's menu.")
	privacy.Wrapping = fyne.TextWrapWord
	privacy.Importance = widget.LowImportance
	histHelp := widget.NewLabel(historyHelp)
	histHelp.Wrapping = fyne.TextWrapWord
	histHelp.Importance = widget.LowImportance
	p.clearBtn = widget.NewButtonWithIcon("Clear history", theme.DeleteIcon(), p.askClear)
	trustHelp := widget.NewLabel(trustNewHelp)
	trustHelp.Wrapping = fyne.TextWrapWord
	trustHelp.Importance = widget.LowImportance

	form := widget.NewForm(
		widget.NewFormItem("Privacy", privacy),
		widget.NewFormItem("History", container.NewVBox(p.history, histHelp,
			container.NewHBox(p.clearBtn, layoutSpacer()))),
		widget.NewFormItem("Chats", container.NewVBox(p.signals, p.version)),
		widget.NewFormItem("New devices", container.NewVBox(p.trustNew, trustHelp)),
		widget.NewFormItem("Theme", p.theme),
	)
	save := widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), p.save)
	save.Importance = widget.HighImportance
	p.win.SetContent(container.NewPadded(container.NewBorder(nil,
		container.NewVBox(p.status, container.NewHBox(layoutSpacer(), save)), nil, nil, form)))
	p.win.Resize(fyne.NewSize(560, 600))
	// Closed by the window manager, a Fyne window is gone for good (Show
	// on it again shows nothing): forget it, so that the menu opens a new
	// one, which shows what is saved, not changes left unsaved.
	p.win.SetOnClosed(func() {
		if u.prefsWin == p {
			u.prefsWin = nil
		}
	})
	return p
}

func themeLabel(name string) string {
	switch name {
	case "light":
		return "Light"
	case "dark":
		return "Dark"
	}
	return "System"
}

// save stores the preferences and the theme. It changes no account's
// policy (Account settings does).
func (p *prefsWindow) save() {
	u := p.u
	u.prefs.PlainHistory = p.history.Checked
	u.prefs.NoTypingOrReceipts = !p.signals.Checked
	u.prefs.HideVersion = !p.version.Checked
	u.prefs.OMEMOTrustNewDevices = p.trustNew.Checked
	u.state.Theme = strings.ToLower(p.theme.Selected)
	if u.state.Theme == "" {
		u.state.Theme = "system"
	}
	applyTheme(u.app, u.state.Theme)
	u.saveState()
	if err := u.store.SavePrefs(u.prefs); err != nil {
		p.status.SetText("Could not save the preferences: " + plain(err))
		return
	}
	p.status.SetText("Saved.")
}

// askClear asks before deleting every account's kept history: it cannot
// be undone.
func (p *prefsWindow) askClear() {
	del := widget.NewButtonWithIcon("Delete history", theme.DeleteIcon(), p.clearHistory)
	del.Importance = widget.DangerImportance
	cancel := widget.NewButton("Cancel", func() { p.clearDlg.Hide() })
	p.clearBox = container.NewHBox(layoutSpacer(), cancel, del)
	p.clearDlg = dialog.NewCustomWithoutButtons("Clear history", container.NewVBox(
		wrapLabel("Delete the kept messages of all conversations that were not private, for every account? "+
			"This cannot be undone."), p.clearBox), p.win)
	p.clearDlg.Resize(fyne.NewSize(420, 180))
	p.clearDlg.Show()
}

// clearHistory deletes the history of every account (off the UI
// goroutine) and takes the earlier lines out of open chats.
func (p *prefsWindow) clearHistory() {
	u := p.u
	if p.clearDlg != nil {
		p.clearDlg.Hide()
	}
	accts := u.b.Accounts()
	p.clearBtn.Disable()
	p.status.SetText("Deleting the history…")
	u.do(func(ctx context.Context) error {
		for _, a := range accts {
			if err := u.b.ClearHistory(ctx, a.JID, ""); err != nil {
				return err
			}
		}
		return nil
	}, func(err error) {
		p.clearBtn.Enable()
		if err != nil {
			p.status.SetText("Could not delete the history: " + plain(err))
			return
		}
		u.chats.historyCleared()
		p.status.SetText("History deleted.")
	})
}
