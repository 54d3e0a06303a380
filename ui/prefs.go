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

// Prefs are the user's UI and privacy preferences: the account profile's
// type, so the profile itself can be the store. PlainHistory is off by
// default; private conversations are never logged whatever it says.
type Prefs = account.Prefs

// PrefsStore loads and saves Prefs. *account.Profile satisfies it; the
// default (Options.Prefs nil) keeps them in fyne Preferences.
type PrefsStore interface {
	Prefs() Prefs
	SavePrefs(Prefs) error
}

// NewAppPrefs stores Prefs in fyne Preferences.
func NewAppPrefs(p fyne.Preferences) PrefsStore { return appPrefs{p} }

type appPrefs struct{ p fyne.Preferences }

func (a appPrefs) Prefs() Prefs {
	pr := Prefs{
		DefaultPolicy: account.Policy(a.p.IntWithFallback("policy", int(account.Opportunistic))),
		PlainHistory:  a.p.Bool("plainHistory"),
		Theme:         a.p.StringWithFallback("theme", "system"),
		WindowW:       float32(a.p.Float("windowW")),
		WindowH:       float32(a.p.Float("windowH")),
	}
	for _, s := range a.p.StringList("openChats") {
		if acct, peer, ok := strings.Cut(s, "\t"); ok {
			pr.OpenChats = append(pr.OpenChats, account.Conversation{Account: acct, Peer: peer})
		}
	}
	return pr
}

func (a appPrefs) SavePrefs(pr Prefs) error {
	a.p.SetInt("policy", int(pr.DefaultPolicy))
	a.p.SetBool("plainHistory", pr.PlainHistory)
	a.p.SetString("theme", pr.Theme)
	a.p.SetFloat("windowW", float64(pr.WindowW))
	a.p.SetFloat("windowH", float64(pr.WindowH))
	list := make([]string, 0, len(pr.OpenChats))
	for _, c := range pr.OpenChats {
		list = append(list, c.Account+"\t"+c.Peer)
	}
	a.p.SetStringList("openChats", list)
	return nil
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

var (
	policyNames = []string{"Opportunistic (recommended)", "Manual", "Always private"}
	themeNames  = []string{"System", "Light", "Dark"}
)

// prefsWindow edits Prefs.
type prefsWindow struct {
	u       *UI
	win     fyne.Window
	policy  *widget.Select
	history *widget.Check
	theme   *widget.RadioGroup
	status  *widget.Label
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
	p.policy = widget.NewSelect(policyNames, nil)
	p.policy.SetSelectedIndex(int(u.prefs.DefaultPolicy))
	p.history = widget.NewCheck("Keep a history of conversations that are not private", nil)
	p.history.SetChecked(u.prefs.PlainHistory)
	p.theme = widget.NewRadioGroup(themeNames, nil)
	p.theme.Horizontal = true
	p.theme.SetSelected(themeLabel(u.prefs.Theme))
	p.status.Wrapping = fyne.TextWrapWord

	policyHelp := widget.NewLabel("Opportunistic starts a private conversation whenever your contact's app supports it. " +
		"Always private never sends a message unencrypted.")
	policyHelp.Wrapping = fyne.TextWrapWord
	policyHelp.Importance = widget.LowImportance
	histHelp := widget.NewLabel(historyHelp)
	histHelp.Wrapping = fyne.TextWrapWord
	histHelp.Importance = widget.LowImportance
	p.clearBtn = widget.NewButtonWithIcon("Clear history", theme.DeleteIcon(), p.askClear)

	form := widget.NewForm(
		widget.NewFormItem("Privacy", container.NewVBox(p.policy, policyHelp)),
		widget.NewFormItem("History", container.NewVBox(p.history, histHelp,
			container.NewHBox(p.clearBtn, layoutSpacer()))),
		widget.NewFormItem("Theme", p.theme),
	)
	save := widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), p.save)
	save.Importance = widget.HighImportance
	p.win.SetContent(container.NewPadded(container.NewBorder(nil,
		container.NewVBox(p.status, container.NewHBox(layoutSpacer(), save)), nil, nil, form)))
	p.win.Resize(fyne.NewSize(520, 380))
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

// save stores the preferences and pushes the default policy to every
// account (off the UI goroutine).
func (p *prefsWindow) save() {
	u := p.u
	pol := account.Policy(p.policy.SelectedIndex())
	if pol < 0 {
		pol = account.Opportunistic
	}
	u.prefs.DefaultPolicy = pol
	u.prefs.PlainHistory = p.history.Checked
	u.prefs.Theme = strings.ToLower(p.theme.Selected)
	if u.prefs.Theme == "" {
		u.prefs.Theme = "system"
	}
	applyTheme(u.app, u.prefs.Theme)
	u.savePrefs()
	accts := u.b.Accounts()
	p.status.SetText("Saving…")
	u.do(func(ctx context.Context) error {
		for _, a := range accts {
			if err := u.b.SetPolicy(ctx, a.JID, "", pol); err != nil {
				return err
			}
		}
		return nil
	}, func(err error) {
		if err != nil {
			p.status.SetText("Could not change the privacy setting: " + plain(err))
			return
		}
		p.status.SetText("Saved.")
	})
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
