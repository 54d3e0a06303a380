package ui

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
	"github.com/sotto-im/sotto/secret"
)

// profileHarness is a UI on a real account.Manager (never connected) and
// a real profile in a temporary folder, which is also its PrefsStore, as
// main.go wires them.
func profileHarness(t *testing.T, dir string) (*harness, *account.Manager, *account.Profile) {
	t.Helper()
	prof, err := account.OpenProfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := account.NewManager(prof, secret.NewMemory())
	a := test.NewTempApp(t)
	h := &harness{t: t, app: a, queue: make(chan func(), 4096)}
	h.u = New(a, m, Options{Prefs: prof})
	h.u.post = func(f func()) { h.queue <- f }
	t.Cleanup(h.u.Stop)
	return h, m, prof
}

// Prefs and the UI's state survive a round trip through the profile
// folder (not fyne's preferences, which live outside it); the defaults
// are no plain history and the system theme.
func TestPrefsStoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	h, _, _ := profileHarness(t, dir)
	if h.u.prefs.PlainHistory || h.u.state.Theme != "system" {
		t.Errorf("defaults %+v %+v", h.u.prefs, h.u.state)
	}
	h.u.prefs.PlainHistory = true
	h.u.state = uiState{Theme: "dark", WindowW: 400, WindowH: 700,
		OpenChats: []openChat{{Account: me, Peer: "bob@example.org"}}}
	h.u.saveState()
	if err := h.u.store.SavePrefs(h.u.prefs); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ui.json")); err != nil {
		t.Errorf("the UI's state is not in the profile folder: %v", err)
	}
	h2, _, _ := profileHarness(t, dir)
	got := h2.u.state
	if !h2.u.prefs.PlainHistory || got.Theme != "dark" || got.WindowW != 400 || got.WindowH != 700 ||
		len(got.OpenChats) != 1 || got.OpenChats[0].conv() != bobConv {
		t.Errorf("got %+v %+v", h2.u.prefs, got)
	}
}

// Damaged UI state gives the defaults; it does not stop the UI.
func TestDamagedUIStateGivesDefaults(t *testing.T) {
	if s := decodeState([]byte("{not json")); s.Theme != "system" || s.WindowW != 0 || len(s.OpenChats) != 0 {
		t.Errorf("decodeState(damaged) = %+v", s)
	}
}

// The preferences window saves plain history and the theme, applies the
// theme, and has no policy of its own: it calls no SetPolicy.
func TestPrefsWindow(t *testing.T) {
	h := newHarness(t).withBob()
	h.u.showPrefs()
	p := h.u.prefsWin
	if p.history.Checked {
		t.Error("plain history on by default")
	}
	for _, o := range test.LaidOutObjects(p.win.Content()) {
		if _, ok := o.(*widget.Select); ok {
			t.Error("the preferences window still has a select (the old policy choice)")
		}
	}
	if p.trustNew.Checked {
		t.Error("new OMEMO devices of unverified contacts trusted by default")
	}
	p.history.SetChecked(true)
	p.trustNew.SetChecked(true)
	p.theme.SetSelected("Dark")
	test.Tap(findButton(p.win.Content(), "Save"))
	h.drain()
	if !h.prefs.Prefs().OMEMOTrustNewDevices {
		t.Error("the new-device choice was not saved")
	}
	if c := h.b.called("SetPolicy"); len(c) != 0 {
		t.Errorf("saving preferences changed a policy: %v", c)
	}
	if got, st := h.prefs.Prefs(), h.prefs.state(); !got.PlainHistory || st.Theme != "dark" {
		t.Errorf("saved %+v %+v", got, st)
	}
	th := h.app.Settings().Theme()
	if th.Color(theme.ColorNameBackground, theme.VariantLight) != theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantDark) {
		t.Error("dark theme not applied")
	}
	if p.status.Text != "Saved." {
		t.Errorf("status %q", p.status.Text)
	}
}

// A policy set per account in Account settings survives saving
// Preferences (which used to push its own default policy to every
// account), in the running manager and in the profile on disk.
func TestAccountPolicySurvivesSavingPrefs(t *testing.T) {
	dir := t.TempDir()
	h, m, _ := profileHarness(t, dir)
	if err := m.AddAccount(context.Background(), account.Settings{JID: me}, "pw"); err != nil {
		t.Fatal(err)
	}
	h.u.Start()
	r := h.u.roster
	r.showAccountSettings(me)
	r.acctDlg.policy.SetSelectedIndex(int(account.Always))
	test.Tap(r.acctDlg.save)
	h.drain()
	if got := m.Policy(me, ""); got != account.Always {
		t.Fatalf("after Account settings: policy %v, want Always", got)
	}

	h.u.showPrefs()
	p := h.u.prefsWin
	p.history.SetChecked(true)
	p.theme.SetSelected("Light")
	test.Tap(findButton(p.win.Content(), "Save"))
	h.drain()
	if p.status.Text != "Saved." {
		t.Fatalf("status %q", p.status.Text)
	}
	if got := m.Policy(me, "bob@example.org"); got != account.Always {
		t.Errorf("after saving Preferences: policy %v, want Always", got)
	}
	prof, err := account.OpenProfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a := prof.Accounts(); len(a) != 1 || a[0].Policy != account.Always || !prof.Prefs().PlainHistory {
		t.Errorf("profile on disk: accounts %+v, prefs %+v", a, prof.Prefs())
	}
}

// Opening a chat with an online contact starts OTR unless the policy the
// account layer reports for that conversation (the contact's own, else
// the account's) is Manual.
func TestAutoStartFollowsPolicy(t *testing.T) {
	for _, tc := range []struct {
		name          string
		acct          account.Policy
		contact       account.Policy
		contactHasOwn bool
		wantAutoStart bool
	}{
		{"account opportunistic", account.Opportunistic, 0, false, true},
		{"account manual", account.Manual, 0, false, false},
		{"account always", account.Always, 0, false, true},
		{"contact manual overrides account", account.Opportunistic, account.Manual, true, false},
		{"contact always overrides manual account", account.Manual, account.Always, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.b.accounts[0].Policy = tc.acct
			if tc.contactHasOwn {
				h.b.policies[keyOf(bobConv)] = tc.contact
			}
			h.withBob()
			h.u.chats.open(bobConv, true)
			// startPrivate counts as in flight from the moment open
			// calls it, so after drain a missing call is really missing.
			h.drain()
			if n := len(h.b.called("StartPrivate")); (n == 1) != tc.wantAutoStart || n > 1 {
				t.Errorf("StartPrivate called %d times, want auto-start %v", n, tc.wantAutoStart)
			}
		})
	}
}

// Preferences closed by the window manager opens again from the menu (a
// closed Fyne window never shows again), as a new window with what was
// saved: a change left unsaved is gone.
func TestPrefsReopenAfterClose(t *testing.T) {
	h := newHarness(t).withBob()
	h.u.showPrefs()
	p := h.u.prefsWin
	p.trustNew.SetChecked(true)
	test.Tap(findButton(p.win.Content(), "Save"))
	h.drain()
	p.history.SetChecked(true) // not saved
	p.win.Close()
	h.drain()
	h.u.showPrefs()
	q := h.u.prefsWin
	if q == p {
		t.Fatal("Preferences reopened the closed window")
	}
	if !q.trustNew.Checked {
		t.Error("reopened Preferences lost the saved new-device choice")
	}
	if q.history.Checked {
		t.Error("reopened Preferences kept a change that was not saved")
	}
}
