package ui

import (
	"context"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// OMEMO has no secret question: every device of a contact (phone,
// laptop…) has its own key, and checking a contact means comparing the
// fingerprint of each device with what that device shows. This file has
// the device row both the Authenticate dialog and the Fingerprints window
// use, the dialog itself, and the warning for a new device of a contact
// the user had verified.

// trustLook is how a device's trust is shown: words and colour.
func trustLook(d account.OMEMODevice) (string, widget.Importance) {
	switch {
	case d.This:
		return "This device", widget.SuccessImportance
	case d.Trust == account.OMEMOVerified:
		return "Verified", widget.SuccessImportance
	case d.Trust == account.OMEMODistrusted:
		return "Distrusted: gets no messages", widget.DangerImportance
	case d.Fingerprint == "":
		return "Key not fetched yet", widget.LowImportance
	case d.Held:
		return "New device: gets no messages until you verify or accept it", widget.WarningImportance
	}
	return "Not verified", widget.WarningImportance
}

// omemoDeviceRow is one device: its id and trust, its fingerprint in
// monospace (selectable, to read out), and the two trust buttons named
// yes and no (nil set: no buttons, as for our own devices).
type omemoDeviceRow struct {
	box       *fyne.Container
	title, fp *widget.Label
	state     *widget.Label
	yes, no   *widget.Button
	// accept takes a held new device unverified (nil unless held).
	accept *widget.Button
	// extra is an action for our own other devices (Remove).
	extra *widget.Button
}

func newOMEMODeviceRow(d account.OMEMODevice, yes, no string, set func(account.OMEMOTrust)) *omemoDeviceRow {
	r := &omemoDeviceRow{
		title: widget.NewLabelWithStyle("Device "+strconv.FormatUint(uint64(d.Device), 10), fyne.TextAlignLeading,
			fyne.TextStyle{Bold: true}),
		fp:    widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}),
		state: widget.NewLabel(""),
	}
	r.fp.Selectable = true
	r.fp.Wrapping = fyne.TextWrapWord
	if d.Fingerprint != "" {
		r.fp.SetText(account.FormatFingerprint(d.Fingerprint))
	} else {
		r.fp.SetText("(its key has not been fetched yet)")
	}
	text, imp := trustLook(d)
	if !d.Active && !d.This {
		text += " · no longer in use"
	}
	r.state.SetText(text)
	r.state.Importance = imp
	head := container.NewHBox(r.title, r.state)
	var buttons []fyne.CanvasObject
	if set != nil && !d.This {
		r.yes = widget.NewButtonWithIcon(yes, theme.ConfirmIcon(), func() { set(account.OMEMOVerified) })
		r.no = widget.NewButtonWithIcon(no, theme.CancelIcon(), func() { set(account.OMEMODistrusted) })
		// A key not fetched yet has nothing to compare; a decision
		// already taken is not offered again.
		if d.Fingerprint == "" || d.Trust == account.OMEMOVerified {
			r.yes.Disable()
		}
		if d.Fingerprint == "" || d.Trust == account.OMEMODistrusted {
			r.no.Disable()
		}
		buttons = append(buttons, r.yes, r.no)
		// A new device that gets nothing yet can also be let in without
		// comparing: the conversation then says Unverified, truthfully.
		if d.Held && d.Fingerprint != "" && d.Trust == account.OMEMOUndecided {
			r.accept = widget.NewButton("Accept unverified", func() { set(account.OMEMOUndecided) })
			buttons = append(buttons, r.accept)
		}
	}
	r.box = container.NewVBox(head, r.fp)
	if len(buttons) > 0 {
		r.box.Add(container.NewHBox(buttons...))
	}
	return r
}

// omemoAuthDialog is Authenticate for an OMEMO conversation: our own
// fingerprint to read out, and each of the contact's devices with "It
// matches" / "It does not match".
type omemoAuthDialog struct {
	v      *convView
	d      *dialog.CustomDialog
	own    *widget.Label
	list   *fyne.Container
	status *widget.Label
	rows   []*omemoDeviceRow
	devs   []account.OMEMODevice
}

func (v *convView) openOMEMOAuth() {
	if v.omemoAuth == nil {
		v.omemoAuth = newOMEMOAuth(v)
	}
	v.omemoAuth.reload()
	v.omemoAuth.d.Show()
}

func newOMEMOAuth(v *convView) *omemoAuthDialog {
	n := v.peerName()
	a := &omemoAuthDialog{v: v, own: fingerprintLabel(""), list: container.NewVBox(), status: wrapLabel("")}
	a.own.Wrapping = fyne.TextWrapWord
	help := wrapLabel("Each of " + n + "'s phones and computers has its own key. Ask " + n + " to open the " +
		"OMEMO fingerprints on each device (in person, or by phone) and compare them with the ones below.")
	body := container.NewBorder(
		container.NewVBox(help, widget.NewLabel("Your fingerprint (this device):"), a.own, widget.NewSeparator(),
			widget.NewLabelWithStyle(n+"'s devices", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})),
		a.status, nil, nil, container.NewVScroll(a.list))
	a.d = dialog.NewCustom("Compare fingerprints — "+n, "Close", body, v.window())
	a.d.Resize(fyne.NewSize(600, 660)) // room for two devices
	a.d.SetOnClosed(func() {
		if v.omemoAuth == a {
			v.omemoAuth = nil
		}
	})
	return a
}

// reload asks for the devices and our own fingerprint again.
func (a *omemoAuthDialog) reload() {
	conv := a.v.conv
	var devs []account.OMEMODevice
	var own account.OMEMOIdentity
	a.v.u.do(func(ctx context.Context) error {
		var err error
		if own, err = a.v.u.b.OwnOMEMO(ctx, conv.Account); err != nil {
			return err
		}
		devs, err = a.v.u.b.OMEMODevices(ctx, conv.Account, conv.Peer)
		return err
	}, func(err error) {
		if err != nil {
			a.status.SetText("Could not read the devices: " + plain(err))
			return
		}
		a.own.SetText(account.FormatFingerprint(own.Fingerprint))
		a.show(devs)
	})
}

func (a *omemoAuthDialog) show(devs []account.OMEMODevice) {
	a.devs, a.rows = devs, nil
	a.list.RemoveAll()
	for _, d := range devs {
		r := newOMEMODeviceRow(d, "It matches", "It does not match", func(t account.OMEMOTrust) { a.set(d, t) })
		a.rows = append(a.rows, r)
		a.list.Add(r.box)
		a.list.Add(widget.NewSeparator())
	}
	if len(devs) == 0 {
		a.status.SetText(a.v.peerName() + " has no OMEMO devices that Sotto knows of yet.")
	} else {
		a.status.SetText("")
	}
	a.list.Refresh()
}

// set records the decision for the fingerprint shown (never a key that
// changed since: the account refuses it).
func (a *omemoAuthDialog) set(d account.OMEMODevice, t account.OMEMOTrust) {
	conv := a.v.conv
	a.v.u.do(func(ctx context.Context) error {
		return a.v.u.b.SetOMEMOTrust(ctx, conv.Account, conv.Peer, d.Device, d.Fingerprint, t)
	}, func(err error) {
		if err != nil {
			a.status.SetText("Could not change the device: " + plain(err))
			return
		}
		a.reload()
	})
}

// showNewOMEMODevice is showKeyChanged for OMEMO: a contact the user had
// verified has a device nobody checked; it gets no messages until it is
// verified (account: a new device of a verified contact always waits).
func (v *convView) showNewOMEMODevice() {
	n := v.peerName()
	v.keyWarn.show("Warning: " + n + " has a new device. You had verified all of " + n + "'s devices; the new " +
		"one gets none of your messages until you verify it. Someone may be trying to listen in — or " + n +
		" set up a new phone or computer. Compare its fingerprint with " + n + " before you verify it.")
	d := dialog.NewCustom("New device — "+n, "OK", wrapLabel("A device you have not verified was added to "+
		n+"'s account. It gets none of your messages until you verify it.\n\nCompare its fingerprint with "+n+
		" before you trust this conversation."), v.window())
	d.SetIcon(theme.NewErrorThemedResource(theme.WarningIcon()))
	d.Resize(fyne.NewSize(420, 220))
	d.Show()
}
