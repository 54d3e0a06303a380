package ui

import (
	"image/color"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

const bobFP = "1111111122222222333333334444444455555555"

// buttonBackground returns the fill of the status button's background
// rectangle, as the renderer drew it.
func buttonBackground(t *testing.T, b *widget.Button) color.Color {
	t.Helper()
	for _, o := range test.WidgetRenderer(b).Objects() {
		if r, ok := o.(*canvas.Rectangle); ok && r.FillColor != nil {
			if _, _, _, a := r.FillColor.RGBA(); a > 0 {
				return r.FillColor
			}
		}
	}
	t.Fatal("status button has no filled background")
	return nil
}

// The status button goes through all four states as SecurityChanged
// events arrive, showing the words and the colour of each.
func TestStatusButtonFollowsSecurityEvents(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	steps := []struct {
		level account.Security
		text  string
		imp   widget.Importance
		bg    fyne.ThemeColorName
	}{
		{account.NotPrivate, "Not private", widget.DangerImportance, theme.ColorNameError},
		{account.Unverified, "Unverified", widget.WarningImportance, theme.ColorNameWarning},
		{account.Private, "Private", widget.SuccessImportance, theme.ColorNameSuccess},
		{account.Finished, "Finished", widget.MediumImportance, theme.ColorNameButton},
		{account.NotPrivate, "Not private", widget.DangerImportance, theme.ColorNameError},
	}
	for i, s := range steps {
		if i > 0 {
			fp := bobFP
			if s.level == account.NotPrivate {
				fp = ""
			}
			h.sec(s.level, fp)
		}
		if v.status.Text != s.text || v.status.Importance != s.imp {
			t.Errorf("step %d (%v): button %q importance %v, want %q %v", i, s.level, v.status.Text, v.status.Importance, s.text, s.imp)
		}
		if got, want := buttonBackground(t, v.status.Button), theme.Color(s.bg); got != want {
			t.Errorf("step %d (%v): background %v, want %v (%s)", i, s.level, got, want, s.bg)
		}
		if v.tab.Icon != lookOf(s.level).Icon {
			t.Errorf("step %d: tab icon not updated", i)
		}
	}
	// The four looks are distinct in words and colour.
	seen := map[string]bool{}
	for _, l := range []account.Security{account.NotPrivate, account.Unverified, account.Private, account.Finished} {
		k := lookOf(l).Text + "/" + string(lookOf(l).Color)
		if seen[k] {
			t.Errorf("look %s used twice", k)
		}
		seen[k] = true
	}
}

// Menu items are enabled per state, and tapping the button opens the
// menu whose items call the backend.
func TestStatusMenuPerState(t *testing.T) {
	type want struct {
		start      string
		end, auth  bool // enabled?
		fps, help  bool
		levelLabel string
	}
	cases := map[account.Security]want{
		account.NotPrivate: {"Start private conversation", false, false, true, true, "Not private"},
		account.Unverified: {"Refresh private conversation", true, true, true, true, "Unverified"},
		account.Private:    {"Refresh private conversation", true, true, true, true, "Private"},
		account.Finished:   {"Restart private conversation", true, false, true, true, "Finished"},
	}
	for level, w := range cases {
		s := newStatusButton(nil)
		s.setLevel(level)
		items := map[string]*fyne.MenuItem{}
		var labels []string
		for _, it := range s.menuItems() {
			if !it.IsSeparator {
				items[it.Label] = it
				labels = append(labels, it.Label)
			}
		}
		start, ok := items[w.start]
		if !ok || start.Disabled {
			t.Errorf("%v: want enabled %q, have %v", level, w.start, labels)
		}
		check := func(label string, enabled bool) {
			it, ok := items[label]
			if !ok {
				t.Errorf("%v: no item %q in %v", level, label, labels)
				return
			}
			if it.Disabled == enabled {
				t.Errorf("%v: %q enabled=%v, want %v", level, label, !it.Disabled, enabled)
			}
		}
		check("End private conversation", w.end)
		check("Authenticate buddy…", w.auth)
		check("Fingerprints…", w.fps)
		check("What's this?", w.help)
	}

	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.sec(account.Unverified, bobFP)
	test.Tap(v.status.Button)
	if v.status.menu == nil || !v.status.menu.Visible() {
		t.Fatal("tapping the status button shows no menu")
	}
	for _, it := range v.status.menuItems() {
		if it.Label == "End private conversation" {
			it.Action()
		}
	}
	if c := h.calls("EndPrivate", 1); c[0].args[0] != bobConv {
		t.Errorf("EndPrivate(%v), want bob's conversation", c[0].args[0])
	}
}

// Every security change leaves a system line in the chat.
func TestSecuritySystemLines(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.sec(account.Unverified, bobFP, func(e *account.SecurityChanged) { e.NewFingerprint = true })
	h.sec(account.Unverified, bobFP)
	h.sec(account.Private, bobFP)
	h.sec(account.Finished, bobFP)
	h.sec(account.NotPrivate, "")
	want := []string{
		// One line for the start: the new key is what "Unverified"
		// means, and the banner says what to do (issue 13).
		"Unverified conversation with bob started.",
		"Successfully refreshed the unverified conversation with bob.",
		"bob is verified. The conversation is now private.",
		"bob ended the private conversation — end it or restart it.",
		"Private conversation with bob ended. Messages are no longer encrypted.",
	}
	got := systemLines(v)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("system lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// While Unverified the chat offers to authenticate inline; the hint goes
// away once Private.
func TestUnverifiedOffersAuthentication(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	if v.authHint.box.Visible() {
		t.Fatal("hint shown while not private")
	}
	h.sec(account.Unverified, bobFP)
	if !v.authHint.box.Visible() {
		t.Fatal("no Authenticate hint while Unverified")
	}
	test.Tap(v.hintBtn)
	if v.auth == nil || !v.auth.ask.Visible() {
		t.Fatal("More ways… did not open the dialog")
	}
	v.auth.d.Hide()
	// One step: type the shared secret in the hint and press Verify.
	test.Type(v.hintSecret, "our secret")
	test.Tap(v.hintVerify)
	if c := h.calls("Authenticate", 1)[0]; c.args[0] != bobConv || c.args[1] != "" || c.args[2] != "our secret" {
		t.Errorf("Authenticate%v", c.args)
	}
	if v.auth == nil || !v.auth.wait.Visible() || v.hintSecret.Text != "" {
		t.Error("quick verify: no progress shown, or the secret stayed in the field")
	}
	h.sec(account.Private, bobFP)
	if v.authHint.box.Visible() {
		t.Error("hint still shown while Private")
	}
}

// A verified contact showing a different key raises a loud warning: a
// red bar, a modal dialog and a system line.
func TestKeyChangedWarning(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.sec(account.Private, bobFP)
	h.sec(account.Unverified, "9999999988888888777777776666666655555555", func(e *account.SecurityChanged) {
		e.KeyChanged, e.NewFingerprint = true, true
	})
	if !v.keyWarn.box.Visible() || !strings.Contains(v.keyWarn.text.Text, "key has changed") {
		t.Errorf("key warning bar: visible=%v text=%q", v.keyWarn.box.Visible(), v.keyWarn.text.Text)
	}
	if v.keyWarn.color != theme.ColorNameError {
		t.Errorf("key warning colour %s, want error red", v.keyWarn.color)
	}
	if top := h.u.chats.win.Canvas().Overlays().Top(); top == nil {
		t.Error("no modal dialog for the changed key")
	}
	found := false
	for _, l := range systemLines(v) {
		found = found || l == "Warning: bob's key has changed since you verified it."
	}
	if !found {
		t.Errorf("no key-changed system line in %q", systemLines(v))
	}
	h.sec(account.Private, "9999999988888888777777776666666655555555")
	if v.keyWarn.box.Visible() {
		t.Error("key warning still shown after bob was verified again")
	}
}
