package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/sotto-im/sotto/account"
)

// Prefs survive a round trip through fyne Preferences; the defaults are
// opportunistic OTR, no plain history, system theme.
func TestAppPrefsRoundTrip(t *testing.T) {
	a := test.NewTempApp(t)
	s := NewAppPrefs(a.Preferences())
	d := s.Prefs()
	if d.DefaultPolicy != account.Opportunistic || d.PlainHistory || d.Theme != "system" {
		t.Errorf("defaults %+v", d)
	}
	want := Prefs{DefaultPolicy: account.Always, PlainHistory: true, Theme: "dark", WindowW: 400, WindowH: 700,
		OpenChats: []account.Conversation{{Account: me, Peer: "bob@example.org"}}}
	if err := s.SavePrefs(want); err != nil {
		t.Fatal(err)
	}
	got := NewAppPrefs(a.Preferences()).Prefs()
	if got.DefaultPolicy != want.DefaultPolicy || !got.PlainHistory || got.Theme != "dark" ||
		got.WindowW != 400 || got.WindowH != 700 || len(got.OpenChats) != 1 || got.OpenChats[0] != want.OpenChats[0] {
		t.Errorf("got %+v", got)
	}
}

// The preferences window saves, pushes the default policy to every
// account and applies the theme.
func TestPrefsWindow(t *testing.T) {
	h := newHarness(t).withBob()
	h.u.showPrefs()
	p := h.u.prefsWin
	if p.history.Checked {
		t.Error("plain history on by default")
	}
	p.policy.SetSelectedIndex(int(account.Always))
	p.history.SetChecked(true)
	p.theme.SetSelected("Dark")
	test.Tap(findButton(p.win.Content(), "Save"))
	c := h.calls("SetPolicy", 1)[0]
	if c.args[0] != me || c.args[1] != "" || c.args[2] != account.Always {
		t.Errorf("SetPolicy%v", c.args)
	}
	if got := h.prefs.Prefs(); got.DefaultPolicy != account.Always || !got.PlainHistory || got.Theme != "dark" {
		t.Errorf("saved %+v", got)
	}
	th := h.app.Settings().Theme()
	if th.Color(theme.ColorNameBackground, theme.VariantLight) != theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantDark) {
		t.Error("dark theme not applied")
	}
	if p.status.Text != "Saved." {
		t.Errorf("status %q", p.status.Text)
	}
}
