package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// rosterHas reports whether the roster lists jid of acct.
func rosterHas(r *rosterWindow, acct, jid string) bool {
	return slices.ContainsFunc(r.items, func(it rosterItem) bool {
		return it.e != nil && it.e.acct == acct && it.e.c.JID == jid
	})
}

// dialogs counts the dialogs open on the roster window.
func dialogs(r *rosterWindow) int { return len(r.win.Canvas().Overlays().List()) }

// The account row's menu opens the dialog with the account's settings;
// Save sends the edited Settings and "" as the password when the field
// is left empty, then closes the dialog.
func TestAccountSettingsSave(t *testing.T) {
	h := newHarness(t)
	h.b.accounts[0] = account.Settings{JID: me, Server: "old.example.org", Policy: account.Manual, AutoConnect: true}
	h.withBob()
	r := h.u.roster
	if items := r.acctMenu(me).Items; items[0].Label != "Account settings…" {
		t.Fatalf("account menu starts with %q", items[0].Label)
	}
	r.acctMenu(me).Items[0].Action()
	d := r.acctDlg
	if d == nil || d.server.Text != "old.example.org" || d.policy.SelectedIndex() != int(account.Manual) ||
		!d.autoConnect.on() || d.password.Text != "" {
		t.Fatalf("dialog not filled from the account: %+v", d)
	}
	if !strings.Contains(d.password.PlaceHolder, "empty to keep") {
		t.Errorf("password placeholder %q does not say empty keeps it", d.password.PlaceHolder)
	}

	// An invalid port is refused before any call.
	d.port.SetText("99999")
	test.Tap(d.save)
	if d.status.Hidden || !strings.Contains(d.status.Text, "port") || len(h.b.called("UpdateAccount")) != 0 {
		t.Fatalf("bad port: status %q, calls %d", d.status.Text, len(h.b.called("UpdateAccount")))
	}

	d.server.SetText("  xmpp.example.org ")
	d.port.SetText("5223")
	d.resource.SetText("desk")
	d.directTLS.set(true)
	d.policy.SetSelectedIndex(int(account.Always))
	d.autoConnect.set(false)
	test.Tap(d.save)
	c := h.calls("UpdateAccount", 1)[0]
	want := account.Settings{JID: me, Server: "xmpp.example.org", Port: 5223, Resource: "desk", DirectTLS: true,
		Policy: account.Always}
	if c.args[0] != want || c.args[1] != "" {
		t.Errorf("UpdateAccount(%+v, %q), want (%+v, \"\")", c.args[0], c.args[1], want)
	}
	if dialogs(r) > 0 {
		t.Error("dialog still open after saving")
	}

	// A typed password is sent; an error keeps the dialog open and says why.
	r.showAccountSettings(me)
	d = r.acctDlg
	if d.port.Text != "5223" || !d.directTLS.on() {
		t.Errorf("reopened dialog does not show the saved settings: port %q", d.port.Text)
	}
	h.b.setErr("UpdateAccount", errors.New("account: saving the password: keyring locked"))
	d.password.SetText("new secret")
	test.Tap(d.save)
	c = h.calls("UpdateAccount", 2)[1]
	if c.args[1] != "new secret" {
		t.Errorf("password sent %q", c.args[1])
	}
	if dialogs(r) == 0 || d.status.Text != "Could not save the settings: Saving the password: keyring locked." {
		t.Errorf("error: visible=%v status %q", dialogs(r) > 0, d.status.Text)
	}
}

// Ticking "Allow connecting without encryption" shows the red warning;
// unticking hides it; tapping the option's text toggles it too.
func TestAccountSettingsInsecureWarning(t *testing.T) {
	h := newHarness(t).withBob()
	h.u.roster.showAccountSettings(me)
	d := h.u.roster.acctDlg
	if d.insecure.on() || d.insecureWarn.Visible() {
		t.Fatal("insecure allowed or warning shown by default")
	}
	test.Tap(d.insecure.check)
	if !d.insecureWarn.Visible() || d.insecureWarn.Importance != widget.DangerImportance {
		t.Errorf("warning visible=%v importance=%v", d.insecureWarn.Visible(), d.insecureWarn.Importance)
	}
	test.Tap(d.insecure) // the text
	if d.insecure.on() || d.insecureWarn.Visible() {
		t.Error("tapping the text did not untick it / hide the warning")
	}
	d.insecure.set(true)
	test.Tap(d.save)
	if c := h.calls("UpdateAccount", 1)[0]; !c.args[0].(account.Settings).AllowInsecure {
		t.Errorf("AllowInsecure not saved: %+v", c.args[0])
	}
}

// Remove asks first (saying the key stays), then removes the account:
// its row and contacts leave the roster and its late events are ignored.
// With no account left the wizard opens.
func TestAccountRemove(t *testing.T) {
	h := newHarness(t)
	other := "work@example.net"
	h.b.accounts = append(h.b.accounts, account.Settings{JID: other})
	h.withBob()
	h.u.Handle(account.RosterChanged{Account: other, Contacts: []account.Contact{{JID: "carol@example.net"}}})
	h.u.chats.open(bobConv, false)
	r := h.u.roster
	if !rosterHas(r, me, "bob@example.org") || !rosterHas(r, other, "carol@example.net") {
		t.Fatal("roster not filled")
	}

	r.showAccountSettings(me)
	d := r.acctDlg
	test.Tap(d.remove)
	if d.confirm == nil || dialogs(r) != 2 || len(h.b.called("RemoveAccount")) != 0 {
		t.Fatal("remove did not ask first")
	}
	text := d.removeText()
	for _, s := range []string{"deletes its password from your system keyring", "OTR private key stays", "server certificate"} {
		if !strings.Contains(text, s) {
			t.Errorf("confirmation does not say %q: %s", s, text)
		}
	}
	test.Tap(d.confirmBtn)
	if c := h.calls("RemoveAccount", 1)[0]; c.args[0] != me {
		t.Errorf("RemoveAccount%v", c.args)
	}
	if c := h.b.called("ClearHistory"); len(c) != 1 || c[0].args[0] != me || c[0].args[1] != "" {
		t.Errorf("history not cleared (ticked by default): %v", c)
	}
	if rosterHas(r, me, "bob@example.org") || h.u.contacts[me] != nil || r.acctRows[me] != nil {
		t.Error("the removed account's contacts or row are still shown")
	}
	if !rosterHas(r, other, "carol@example.net") || r.acctRows[other] == nil {
		t.Error("the other account's contacts went too")
	}
	if _, open := h.u.chats.views[keyOf(bobConv)]; open {
		t.Error("the removed account's chat is still open")
	}
	// The loop's last events arrive after the removal: they bring nothing back.
	h.u.Handle(account.ConnectionChanged{Account: me, State: account.Disconnected})
	h.u.Handle(account.RosterChanged{Account: me, Contacts: []account.Contact{{JID: "bob@example.org"}}})
	if r.acctRows[me] != nil || rosterHas(r, me, "bob@example.org") {
		t.Error("a late event brought the removed account back")
	}
	if h.u.wizard != nil {
		t.Error("wizard opened while an account is left")
	}

	// Removing the last one (keeping the history this time) opens the wizard.
	r.acctMenu(other).Items[2].Action() // Remove account…
	d = r.acctDlg
	if d.orig.JID != other || dialogs(r) != 2 {
		t.Fatal("menu's Remove account… did not ask about the account")
	}
	d.clearHist.set(false)
	test.Tap(d.confirmBtn)
	h.calls("RemoveAccount", 2)
	if n := len(h.b.called("ClearHistory")); n != 1 {
		t.Errorf("ClearHistory called %d times, want 1 (unticked)", n)
	}
	if h.u.wizard == nil || len(r.items) != 0 {
		t.Errorf("last account removed: wizard %v, %d roster rows", h.u.wizard != nil, len(r.items))
	}
}

// A failed removal keeps everything and says why.
func TestAccountRemoveFails(t *testing.T) {
	h := newHarness(t).withBob()
	h.b.setErr("RemoveAccount", errors.New("account: removing the password: keyring locked"))
	r := h.u.roster
	r.showAccountSettings(me)
	d := r.acctDlg
	d.askRemove()
	test.Tap(d.confirmBtn)
	h.calls("RemoveAccount", 1)
	if !rosterHas(r, me, "bob@example.org") || r.acctRows[me] == nil || dialogs(r) == 0 {
		t.Error("a failed removal took the account off the screen")
	}
	if !strings.Contains(d.status.Text, "Could not remove the account: Removing the password") {
		t.Errorf("status %q", d.status.Text)
	}
}

// Rename sends the new name and the comma-separated groups, trimmed,
// without empty or repeated names.
func TestRenameContact(t *testing.T) {
	h := newHarness(t).withBob()
	r := h.u.roster
	row := newRosterRow(r.list)
	row.set(1, r.items[1])
	var rename func()
	for _, it := range row.menuItems(r.items[1].e, 1) {
		if it.Label == "Rename…" {
			rename = it.Action
		}
	}
	if rename == nil {
		t.Fatal("contact menu has no Rename…")
	}
	rename()
	rd := r.renameDlg
	if rd.name.Text != "bob" || rd.groups.Text != "" {
		t.Errorf("form starts with %q / %q", rd.name.Text, rd.groups.Text)
	}
	rd.name.SetText("  Bob Smith ")
	rd.groups.SetText(" Friends ,Work,, Friends,  ")
	rd.d.Submit()
	c := h.calls("RenameContact", 1)[0]
	if c.args[0] != me || c.args[1] != "bob@example.org" || c.args[2] != "Bob Smith" ||
		!slices.Equal(c.args[3].([]string), []string{"Friends", "Work"}) {
		t.Errorf("RenameContact%q", c.args)
	}
	if got := splitGroups(" , "); got != nil {
		t.Errorf("splitGroups of blanks = %q", got)
	}
}
