package ui

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// fingerprintsWindow lists known fingerprints: contact, account,
// verified or not, with Verify/Unverify and Forget.
type fingerprintsWindow struct {
	u      *UI
	win    fyne.Window
	filter *widget.Entry
	list   *widget.List
	rows   []account.KnownFingerprint
	status *widget.Label
	// own shows the user's own fingerprint per account, to read out
	// when a contact compares fingerprints.
	own *widget.Label
	// tabs: OTR (the list above) and OMEMO (fingerprints_omemo.go).
	tabs             *container.AppTabs
	otrTab, omemoTab *container.TabItem
	om               *omemoSection
}

// showFingerprints opens the manager, filtered to contact when given.
func (u *UI) showFingerprints(contact string) {
	if u.fps == nil {
		u.fps = newFingerprintsWindow(u)
	}
	u.fps.filter.SetText(contact)
	u.fps.reload()
	u.fps.loadOwn()
	u.fps.om.reload()
	u.fps.win.Show()
	u.fps.win.RequestFocus()
}

type fpRow struct {
	widget.BaseWidget
	root                 *fyne.Container
	who, acct, fp, state *widget.Label
	verify, forget       *widget.Button
}

func newFingerprintsWindow(u *UI) *fingerprintsWindow {
	f := &fingerprintsWindow{u: u, win: u.app.NewWindow("Sotto — Fingerprints"), status: wrapLabel(""),
		own: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})}
	f.own.Wrapping = fyne.TextWrapWord
	u.addQuit(f.win)
	f.filter = widget.NewEntry()
	f.filter.SetPlaceHolder("Filter by contact")
	f.filter.OnChanged = func(string) {
		f.reload()
		if f.om != nil {
			f.om.reload()
		}
	}
	f.list = widget.NewList(func() int { return len(f.rows) }, f.newRow, f.updateRow)
	help := wrapLabel("A fingerprint identifies the key a contact's app uses. Verify it once (Authenticate " +
		"buddy in a chat, or compare it by phone); Sotto warns you if it ever changes.")
	help.Importance = widget.LowImportance
	otr := container.NewBorder(
		container.NewVBox(help, widget.NewLabelWithStyle("Your fingerprint", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			f.own, widget.NewSeparator()), f.status, nil, nil, f.list)
	f.om = newOMEMOSection(f)
	f.otrTab = container.NewTabItem("OTR", otr)
	f.omemoTab = container.NewTabItem("OMEMO", f.om.view)
	f.tabs = container.NewAppTabs(f.otrTab, f.omemoTab)
	f.win.SetContent(container.NewPadded(container.NewBorder(f.filter, nil, nil, nil, f.tabs)))
	f.win.Resize(fyne.NewSize(660, 640))
	// A Fyne window closed by the window manager never shows again:
	// forget it, so that the next showFingerprints makes a new one.
	f.win.SetOnClosed(func() {
		if u.fps == f {
			u.fps = nil
		}
	})
	return f
}

func (f *fingerprintsWindow) newRow() fyne.CanvasObject {
	r := &fpRow{
		who:   widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		acct:  widget.NewLabel(""),
		fp:    widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}),
		state: widget.NewLabel(""),
	}
	r.acct.Importance = widget.LowImportance
	r.verify = widget.NewButton("Verify", nil)
	r.forget = widget.NewButtonWithIcon("Forget", theme.DeleteIcon(), nil)
	r.root = container.NewBorder(nil, nil, nil, container.NewCenter(container.NewHBox(r.verify, r.forget)),
		container.NewVBox(container.NewHBox(r.who, r.acct, r.state), r.fp))
	r.ExtendBaseWidget(r)
	return r
}

func (r *fpRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.root) }

func (f *fingerprintsWindow) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(f.rows) {
		return
	}
	r, k := o.(*fpRow), f.rows[id]
	r.who.SetText(f.u.name(k.Account, k.Contact))
	r.acct.SetText("via " + k.Account)
	r.fp.SetText(groupFingerprint(k.Fingerprint))
	if k.Verified {
		r.state.Importance = widget.SuccessImportance
		r.state.SetText(verifiedHow(k.How))
		r.verify.SetText("Unverify")
	} else {
		r.state.Importance = widget.WarningImportance
		r.state.SetText("Not verified")
		r.verify.SetText("Verify")
	}
	r.state.Refresh()
	r.verify.OnTapped = func() { f.setVerified(k, !k.Verified) }
	r.forget.OnTapped = func() { f.confirmForget(k) }
}

// verifiedHow says in words how a fingerprint was verified.
func verifiedHow(how string) string {
	switch how {
	case "":
		return "Verified"
	case "smp":
		return "Verified (secret question)"
	case "manual":
		return "Verified (compared by you)"
	case "imported":
		return "Verified (imported from Pidgin)"
	}
	return "Verified (" + how + ")"
}

// loadOwn shows the user's own fingerprint for every account.
func (f *fingerprintsWindow) loadOwn() {
	accts := f.u.b.Accounts()
	got := make([]string, len(accts))
	f.u.do(func(ctx context.Context) error {
		for i, s := range accts {
			fp, err := f.u.b.OwnFingerprint(ctx, s.JID)
			if err != nil {
				got[i] = s.JID + ": (unavailable: " + plain(err) + ")"
				continue
			}
			got[i] = groupFingerprint(fp)
			if len(accts) > 1 {
				got[i] = s.JID + ": " + got[i]
			}
		}
		return nil
	}, func(error) {
		if len(got) == 0 {
			f.own.SetText("(no account yet)")
			return
		}
		f.own.SetText(strings.Join(got, "\n"))
	})
}

func (f *fingerprintsWindow) reload() {
	q := strings.ToLower(strings.TrimSpace(f.filter.Text))
	f.rows = f.rows[:0]
	for _, k := range f.u.b.Fingerprints() {
		if q == "" || strings.Contains(strings.ToLower(k.Contact+" "+f.u.name(k.Account, k.Contact)), q) {
			f.rows = append(f.rows, k)
		}
	}
	if len(f.rows) == 0 {
		f.status.SetText("No fingerprints yet. They appear after your first private conversation.")
	} else {
		f.status.SetText("")
	}
	f.list.Refresh()
}

// setVerified marks a fingerprint verified (manual check) or not.
func (f *fingerprintsWindow) setVerified(k account.KnownFingerprint, verified bool) {
	f.u.do(func(ctx context.Context) error {
		return f.u.b.SetVerified(ctx, k.Account, k.Contact, k.Fingerprint, verified)
	}, f.after("change the fingerprint"))
}

func (f *fingerprintsWindow) confirmForget(k account.KnownFingerprint) {
	msg := "Forget this fingerprint of " + f.u.name(k.Account, k.Contact) + "?\n\n" + groupFingerprint(k.Fingerprint) +
		"\n\nNext time this key is used, Sotto will treat it as unrecognized."
	dialog.ShowConfirm("Forget fingerprint", msg, func(ok bool) {
		if ok {
			f.forget(k)
		}
	}, f.win)
}

func (f *fingerprintsWindow) forget(k account.KnownFingerprint) {
	f.u.do(func(ctx context.Context) error {
		return f.u.b.ForgetFingerprint(ctx, k.Account, k.Contact, k.Fingerprint)
	}, f.after("forget the fingerprint"))
}

func (f *fingerprintsWindow) after(what string) func(error) {
	return func(err error) {
		f.reload()
		if err != nil {
			f.status.SetText("Could not " + what + ": " + plain(err))
		}
	}
}
