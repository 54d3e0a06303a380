package ui

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// insecureWarning is shown while "Allow connecting without encryption" is
// ticked. account/conn.go never sends the password in the clear (no PLAIN
// without TLS), but everything else on the link is readable.
const insecureWarning = "Without encryption, anyone on the network can read your contacts, your status " +
	"and every message that is not private, and can pose as your server."

// policyNames label account.Policy values, in their order. The policy is
// set here, per account, and only here (the Preferences window has none).
var policyNames = []string{"Opportunistic (recommended)", "Manual", "Always private"}

// accountDialog edits one account's settings. It is a dialog on the
// roster window; its widgets are fields so tests can drive them.
type accountDialog struct {
	r    *rosterWindow
	orig account.Settings
	d    *dialog.CustomDialog

	password, server, port, resource *widget.Entry
	directTLS, insecure, autoConnect *wrapCheck
	insecureWarn                     *widget.Label
	policy                           *widget.Select
	proxy                            *proxyFields // proxysettings.go
	status                           *widget.Label
	save, cancel, remove             *widget.Button

	// The remove question, kept for tests.
	confirm    *dialog.CustomDialog
	clearHist  *wrapCheck
	confirmBtn *widget.Button
}

// showAccountSettings opens the settings of account jid.
func (r *rosterWindow) showAccountSettings(jid string) {
	i := slices.IndexFunc(r.u.b.Accounts(), func(s account.Settings) bool { return s.JID == jid })
	if i < 0 {
		r.setNotice(jid + " is no longer set up.")
		return
	}
	d := &accountDialog{r: r, orig: r.u.b.Accounts()[i]}
	d.build()
	r.acctDlg = d
	d.d.Show()
}

func (d *accountDialog) build() {
	s := d.orig
	d.password = widget.NewPasswordEntry()
	d.password.SetPlaceHolder("Leave empty to keep it")
	d.server = widget.NewEntry()
	d.server.SetPlaceHolder("Optional: host if not the address's domain")
	d.server.SetText(s.Server)
	d.port = widget.NewEntry()
	if s.Port != 0 {
		d.port.SetText(strconv.Itoa(s.Port))
	}
	d.resource = widget.NewEntry()
	d.resource.SetPlaceHolder("sotto")
	d.resource.SetText(s.Resource)
	d.directTLS = newWrapCheck("Connect with TLS at once (port 5223)", func(bool) { d.portHint() })
	d.directTLS.set(s.DirectTLS)
	d.portHint()
	d.insecureWarn = wrapLabel(insecureWarning)
	d.insecureWarn.Importance = widget.DangerImportance
	d.insecure = newWrapCheck("Allow connecting without encryption (not recommended)", func(on bool) {
		d.insecureWarn.Hidden = !on
		d.insecureWarn.Refresh()
	})
	d.insecure.set(s.AllowInsecure)
	d.insecureWarn.Hidden = !s.AllowInsecure
	d.policy = widget.NewSelect(policyNames, nil)
	d.policy.SetSelectedIndex(int(s.Policy))
	d.autoConnect = newWrapCheck("Connect at start", nil)
	d.autoConnect.set(s.AutoConnect)
	d.proxy = newProxyFields(s)
	d.status = wrapLabel("")
	d.status.Hide()

	d.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), d.submit)
	d.save.Importance = widget.HighImportance
	d.cancel = widget.NewButton("Cancel", func() { d.d.Hide() })
	d.remove = widget.NewButtonWithIcon("Remove account…", theme.DeleteIcon(), d.askRemove)
	d.remove.Importance = widget.DangerImportance

	name := widget.NewLabelWithStyle(s.JID, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Truncation = fyne.TextTruncateEllipsis
	form := widget.NewForm(
		widget.NewFormItem("Password", d.password),
		widget.NewFormItem("Server", d.server),
		widget.NewFormItem("Port", d.port),
		widget.NewFormItem("Resource", d.resource),
	)
	// The policy names are long: give the select the full width, as the
	// roster window (and so this dialog) is often narrow.
	policyHelp := widget.NewLabel("Opportunistic starts a private conversation whenever your contact's app supports it. " +
		"Always private never sends a message unencrypted.")
	policyHelp.Wrapping = fyne.TextWrapWord
	policyHelp.Importance = widget.LowImportance
	privacy := widget.NewForm(widget.NewFormItem("Private conversations (OTR)", container.NewVBox(d.policy, policyHelp)))
	privacy.Orientation = widget.Vertical
	checks := container.NewVBox(d.directTLS, d.insecure, d.insecureWarn)
	buttons := container.NewHBox(d.remove, layoutSpacer(), d.cancel, d.save)
	body := container.NewVBox(name, form, checks, d.proxy.form(), privacy, d.autoConnect, d.status)
	d.d = dialog.NewCustomWithoutButtons("Account settings",
		container.NewBorder(nil, buttons, nil, nil, container.NewVScroll(body)), d.r.win)
	d.d.Resize(dialogSize(d.r.win, 520, 600))
}

// dialogSize is want, shrunk to fit inside win (the roster is often
// narrow); the content scrolls if it must.
func dialogSize(win fyne.Window, w, h float32) fyne.Size {
	c := win.Canvas().Size()
	if c.Width > 0 && c.Width-2*theme.Padding() < w {
		w = c.Width - 2*theme.Padding()
	}
	if c.Height > 0 && c.Height-2*theme.Padding() < h {
		h = c.Height - 2*theme.Padding()
	}
	return fyne.NewSize(w, h)
}

// portHint shows the default port the account would use.
func (d *accountDialog) portHint() {
	if d.directTLS.on() {
		d.port.SetPlaceHolder("5223 (default)")
	} else {
		d.port.SetPlaceHolder("5222 (default)")
	}
}

// settings reads the form; ok is false (with a message shown) if invalid.
func (d *accountDialog) settings() (account.Settings, bool) {
	s := d.orig
	s.Server = strings.TrimSpace(d.server.Text)
	s.Resource = strings.TrimSpace(d.resource.Text)
	s.Port = 0
	if p := strings.TrimSpace(d.port.Text); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			say(d.status, widget.DangerImportance, "The port must be a number from 1 to 65535, or empty for the default.")
			return s, false
		}
		s.Port = n
	}
	if strings.ContainsAny(s.Server, " /@") {
		say(d.status, widget.DangerImportance, "Enter the server as a host name like xmpp.example.org, or leave it empty.")
		return s, false
	}
	if strings.Contains(s.Resource, "/") {
		say(d.status, widget.DangerImportance, "The resource name cannot contain a slash.")
		return s, false
	}
	if msg := d.proxy.apply(&s); msg != "" {
		say(d.status, widget.DangerImportance, msg)
		return s, false
	}
	s.DirectTLS = d.directTLS.on()
	s.AllowInsecure = d.insecure.on()
	s.AutoConnect = d.autoConnect.on()
	if i := d.policy.SelectedIndex(); i >= 0 {
		s.Policy = account.Policy(i)
	}
	return s, true
}

func (d *accountDialog) setBusy(on bool) {
	for _, b := range []*widget.Button{d.save, d.remove} {
		if on {
			b.Disable()
		} else {
			b.Enable()
		}
	}
}

// submit saves the settings off the UI goroutine; a connected account
// reconnects with them (account.Manager.UpdateAccount).
func (d *accountDialog) submit() {
	s, ok := d.settings()
	if !ok {
		return
	}
	pw := d.password.Text // "" keeps the stored password
	u := d.r.u
	d.setBusy(true)
	say(d.status, widget.MediumImportance, "Saving…")
	u.do(func(ctx context.Context) error { return u.b.UpdateAccount(ctx, s, pw) }, func(err error) {
		d.setBusy(false)
		if err != nil {
			say(d.status, widget.DangerImportance, "Could not save the settings: "+plain(err))
			return
		}
		d.password.SetText("")
		d.orig = s
		d.d.Hide()
		d.r.setNotice("Saved the settings of " + s.JID + ".")
	})
}

// removeText says exactly what account.Manager.RemoveAccount deletes
// (the account, its per-contact policies, its pinned server certificate
// and its password) and what it keeps (the OTR key, contacts'
// fingerprints, the plain-chat history unless ticked below).
func (d *accountDialog) removeText() string {
	store := d.r.u.opts.KeyStorage
	return "Sotto disconnects " + d.orig.JID + " and forgets its settings, its per-contact privacy settings " +
		"and any server certificate you trusted for it, and deletes its password from " + store + ".\n\n" +
		"Your OTR private key stays in " + store + ", so if you add this account again, contacts who " +
		"verified you keep trusting it. Your contacts' fingerprints stay too. The account itself and its " +
		"contact list stay on the server."
}

// askRemove asks before removing the account.
func (d *accountDialog) askRemove() {
	d.clearHist = newWrapCheck("Also delete the kept history of this account's chats that were not private", nil)
	d.clearHist.set(true)
	d.confirmBtn = widget.NewButtonWithIcon("Remove account", theme.DeleteIcon(), d.removeAccount)
	d.confirmBtn.Importance = widget.DangerImportance
	cancel := widget.NewButton("Cancel", func() { d.confirm.Hide() })
	d.confirm = dialog.NewCustomWithoutButtons("Remove "+d.orig.JID+"?", container.NewBorder(nil,
		container.NewHBox(layoutSpacer(), cancel, d.confirmBtn), nil, nil,
		container.NewVScroll(container.NewVBox(wrapLabel(d.removeText()), d.clearHist))), d.r.win)
	d.confirm.Resize(dialogSize(d.r.win, 460, 380))
	d.confirm.Show()
}

// removeAccount deletes the history first when asked (so a failure
// leaves the account in place to retry), then removes the account.
func (d *accountDialog) removeAccount() {
	d.confirm.Hide()
	jid, clear, u := d.orig.JID, d.clearHist.on(), d.r.u
	d.setBusy(true)
	say(d.status, widget.MediumImportance, "Removing "+jid+"…")
	u.do(func(ctx context.Context) error {
		if clear {
			if err := u.b.ClearHistory(ctx, jid, ""); err != nil {
				return err
			}
		}
		return u.b.RemoveAccount(ctx, jid)
	}, func(err error) {
		d.setBusy(false)
		if err != nil {
			say(d.status, widget.DangerImportance, "Could not remove the account: "+plain(err))
			return
		}
		d.d.Hide()
		d.r.forgetAccount(jid)
	})
}

// forgetAccount takes a removed account off the screen: its row, its
// contacts, its chats. Events the account's loop sent while stopping
// (ConnectionChanged Disconnected) may still be queued; UI.Handle drops
// them (see isRemoved) so the row does not come back.
func (r *rosterWindow) forgetAccount(jid string) {
	if r.removed == nil {
		r.removed = map[string]bool{}
	}
	r.removed[jid] = true
	delete(r.u.contacts, jid)
	delete(r.byAcct, jid)
	r.resort()
	r.applyFilter()
	if a, ok := r.acctRows[jid]; ok {
		r.accounts.Remove(a.box)
		delete(r.acctRows, jid)
	}
	r.u.chats.closeAccount(jid)
	r.setNotice("Removed " + jid + ".")
	if len(r.u.b.Accounts()) == 0 {
		r.win.Hide()
		r.u.showWizard()
	}
}

// isRemoved: jid was removed here and has not been added again.
func (r *rosterWindow) isRemoved(jid string) bool {
	if !r.removed[jid] {
		return false
	}
	return !slices.ContainsFunc(r.u.b.Accounts(), func(s account.Settings) bool { return s.JID == jid })
}

// closeAccount closes the chats of a removed account: nothing can be
// sent from it any more.
func (c *chatWindow) closeAccount(acct string) {
	for k, v := range c.views {
		if k.acct == acct {
			c.tabs.Remove(v.tab)
			c.closed(v.tab)
		}
	}
	for k := range c.lastSec {
		if k.acct == acct {
			delete(c.lastSec, k)
		}
	}
}

// wrapCheck is a check box whose text wraps, so long option names fit
// the narrow roster window; tapping the text toggles it too.
type wrapCheck struct {
	widget.BaseWidget
	check *widget.Check
	text  *widget.Label
}

func newWrapCheck(text string, changed func(bool)) *wrapCheck {
	c := &wrapCheck{check: widget.NewCheck("", changed), text: wrapLabel(text)}
	c.ExtendBaseWidget(c)
	return c
}

func (c *wrapCheck) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, container.NewCenter(c.check), nil, c.text))
}

func (c *wrapCheck) on() bool    { return c.check.Checked }
func (c *wrapCheck) set(on bool) { c.check.SetChecked(on) }

// Tapped on the text toggles the box (taps on the box itself reach the
// Check directly).
func (c *wrapCheck) Tapped(*fyne.PointEvent) { c.set(!c.on()) }
