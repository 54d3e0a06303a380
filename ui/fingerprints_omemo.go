package ui

import (
	"context"
	"image"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/sotto-im/sotto/account"
)

// omemoSection is the Fingerprints window's OMEMO tab: per account, this
// device as a QR code (Conversations scans it) and as the xmpp: link, a
// field for a contact's link, our other devices (removable); then every
// contact's devices with Verify / Distrust.
type omemoSection struct {
	f    *fingerprintsWindow
	view fyne.CanvasObject
	box  *fyne.Container
	// gen drops the answer of an older reload (the filter changed).
	gen int
	// Tests look at these.
	qr      map[string]*canvas.Image
	uri     map[string]*widget.Label
	paste   map[string]*widget.Entry
	pasted  map[string]*widget.Label
	devRows map[string][]*omemoDeviceRow // by jid: ours and contacts'
	status  *widget.Label
}

func newOMEMOSection(f *fingerprintsWindow) *omemoSection {
	s := &omemoSection{f: f, box: container.NewVBox(), status: wrapLabel("")}
	s.view = container.NewBorder(nil, s.status, nil, nil, container.NewVScroll(s.box))
	return s
}

// omemoAccountView is what one account's part of the tab shows.
type omemoAccountView struct {
	acct string
	id   account.OMEMOIdentity
	err  error
	own  []account.OMEMODevice
	// contacts: jid, then its devices; only contacts with devices.
	contacts []omemoContact
}

type omemoContact struct {
	jid  string
	devs []account.OMEMODevice
}

// reload reads every account's OMEMO identity and devices, and the
// devices of the roster contacts matching the filter.
func (s *omemoSection) reload() { s.reloadThen(nil) }

// reloadThen reloads, then runs after (if not nil) on the UI goroutine.
func (s *omemoSection) reloadThen(after func()) {
	s.gen++
	gen := s.gen
	q := strings.ToLower(strings.TrimSpace(s.f.filter.Text))
	var views []omemoAccountView
	for _, a := range s.f.u.b.Accounts() {
		v := omemoAccountView{acct: a.JID}
		for jid, c := range s.f.u.contacts[a.JID] {
			if q == "" || strings.Contains(strings.ToLower(jid+" "+c.DisplayName()), q) {
				v.contacts = append(v.contacts, omemoContact{jid: jid})
			}
		}
		slices.SortFunc(v.contacts, func(x, y omemoContact) int { return strings.Compare(x.jid, y.jid) })
		views = append(views, v)
	}
	s.f.u.do(func(ctx context.Context) error {
		for i := range views {
			v := &views[i]
			if v.id, v.err = s.f.u.b.OwnOMEMO(ctx, v.acct); v.err != nil {
				continue
			}
			v.own, _ = s.f.u.b.OMEMODevices(ctx, v.acct, v.acct)
			kept := v.contacts[:0]
			for _, c := range v.contacts {
				if devs, err := s.f.u.b.OMEMODevices(ctx, v.acct, c.jid); err == nil && len(devs) > 0 {
					c.devs = devs
					kept = append(kept, c)
				}
			}
			v.contacts = kept
		}
		return nil
	}, func(error) {
		if gen == s.gen {
			s.show(views)
			if after != nil {
				after()
			}
		}
	})
}

func (s *omemoSection) show(views []omemoAccountView) {
	s.box.RemoveAll()
	s.qr, s.uri = map[string]*canvas.Image{}, map[string]*widget.Label{}
	s.paste, s.pasted = map[string]*widget.Entry{}, map[string]*widget.Label{}
	s.devRows = map[string][]*omemoDeviceRow{}
	bold := func(t string) *widget.Label {
		return widget.NewLabelWithStyle(t, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	if len(views) == 0 {
		s.box.Add(wrapLabel("No account yet."))
	}
	for _, v := range views {
		title := "This device"
		if len(views) > 1 {
			title += " (" + v.acct + ")"
		}
		s.box.Add(bold(title))
		if v.err != nil {
			s.box.Add(wrapLabel("OMEMO is not available for " + v.acct + ": " + plain(v.err)))
			continue
		}
		s.box.Add(s.identity(v))
		s.box.Add(s.pasteField(v.acct))
		var others []account.OMEMODevice
		for _, d := range v.own {
			if !d.This {
				others = append(others, d)
			}
		}
		if len(others) > 0 {
			s.box.Add(bold("Your other devices"))
			for _, d := range others {
				r := newOMEMODeviceRow(d, "Verify", "Distrust", func(t account.OMEMOTrust) { s.setTrust(v.acct, d, t) })
				acct := v.acct
				r.extra = widget.NewButtonWithIcon("Remove…", theme.DeleteIcon(), func() { s.confirmRemove(acct, d) })
				if len(r.box.Objects) == 3 {
					r.box.Objects[2].(*fyne.Container).Add(r.extra)
				} else {
					r.box.Add(container.NewHBox(r.extra))
				}
				s.devRows[v.acct] = append(s.devRows[v.acct], r)
				s.box.Add(r.box)
			}
		}
		s.box.Add(widget.NewSeparator())
		s.box.Add(bold("Contacts' devices"))
		if len(v.contacts) == 0 {
			l := wrapLabel("No contact's OMEMO devices yet. They appear once a contact's app publishes them.")
			l.Importance = widget.LowImportance
			s.box.Add(l)
		}
		for _, c := range v.contacts {
			s.box.Add(widget.NewLabelWithStyle(s.f.u.name(v.acct, c.jid)+"  ("+c.jid+")", fyne.TextAlignLeading,
				fyne.TextStyle{Bold: true, Italic: true}))
			for _, d := range c.devs {
				r := newOMEMODeviceRow(d, "Verify", "Distrust", func(t account.OMEMOTrust) { s.setTrust(v.acct, d, t) })
				s.devRows[c.jid] = append(s.devRows[c.jid], r)
				s.box.Add(r.box)
			}
		}
		s.box.Add(widget.NewSeparator())
	}
	s.box.Refresh()
}

// identity is the QR code of our URI beside the URI itself (selectable,
// with a Copy button) and this device's fingerprint.
func (s *omemoSection) identity(v omemoAccountView) fyne.CanvasObject {
	uri := widget.NewLabelWithStyle(v.id.URI, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	uri.Selectable = true
	uri.Wrapping = fyne.TextWrapBreak
	s.uri[v.acct] = uri
	copyBtn := widget.NewButtonWithIcon("Copy link", theme.ContentCopyIcon(), func() {
		s.f.u.app.Clipboard().SetContent(v.id.URI)
		s.status.SetText("Link copied.")
	})
	fp := fingerprintLabel("")
	fp.SetText(account.FormatFingerprint(v.id.Fingerprint))
	fp.Wrapping = fyne.TextWrapWord
	text := container.NewVBox(
		wrapLabel("To verify this device, scan the code with Conversations (or another OMEMO app), or send "+
			"the link to a contact who uses Sotto."),
		uri, container.NewHBox(copyBtn),
		widget.NewLabel("Device "+strconv.FormatUint(uint64(v.id.Device), 10)+", fingerprint:"), fp)
	img, err := qrImage(v.id.URI)
	if err != nil {
		return text
	}
	qr := canvas.NewImageFromImage(img)
	qr.FillMode = canvas.ImageFillContain
	qr.ScaleMode = canvas.ImageScalePixels
	qr.SetMinSize(fyne.NewSize(220, 220))
	s.qr[v.acct] = qr
	return container.NewBorder(nil, nil, container.NewCenter(qr), nil, text)
}

// qrImage is the QR code of uri, black on white with its quiet zone
// (scanners need both, whatever the theme).
func qrImage(uri string) (image.Image, error) {
	q, err := qrcode.New(uri, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	return q.Image(-8), nil // 8 pixels a module
}

// pasteField takes a contact's xmpp:…?omemo-sid-… link and verifies the
// devices in it whose keys match.
func (s *omemoSection) pasteField(acct string) fyne.CanvasObject {
	e := widget.NewEntry()
	e.SetPlaceHolder("Paste a contact's link: xmpp:name@server?omemo-sid-…")
	res := wrapLabel("")
	s.paste[acct], s.pasted[acct] = e, res
	verify := func() {
		uri := strings.TrimSpace(e.Text)
		if uri == "" {
			return
		}
		var n int
		s.f.u.do(func(ctx context.Context) (err error) {
			n, err = s.f.u.b.VerifyOMEMOURI(ctx, acct, uri)
			return err
		}, func(err error) {
			switch {
			case err != nil && n > 0:
				res.Importance = widget.WarningImportance
				res.SetText(devicesVerified(n) + " " + plain(err))
			case err != nil:
				res.Importance = widget.DangerImportance
				res.SetText("Nothing was verified: " + plain(err))
			default:
				res.Importance = widget.SuccessImportance
				res.SetText(devicesVerified(n))
				e.SetText("")
			}
			res.Refresh()
			s.reloadKeeping(acct, res)
		})
	}
	e.OnSubmitted = func(string) { verify() }
	btn := widget.NewButtonWithIcon("Verify link", theme.ConfirmIcon(), verify)
	return container.NewVBox(container.NewBorder(nil, nil, nil, btn, e), res)
}

// reloadKeeping reloads the tab and shows res's text again afterwards
// (the rebuilt field has a new label).
func (s *omemoSection) reloadKeeping(acct string, res *widget.Label) {
	text, imp := res.Text, res.Importance
	s.reloadThen(func() {
		if l := s.pasted[acct]; l != nil {
			l.Importance = imp
			l.SetText(text)
		}
	})
}

func devicesVerified(n int) string {
	if n == 1 {
		return "1 device verified."
	}
	return strconv.Itoa(n) + " devices verified."
}

func (s *omemoSection) setTrust(acct string, d account.OMEMODevice, t account.OMEMOTrust) {
	s.f.u.do(func(ctx context.Context) error {
		return s.f.u.b.SetOMEMOTrust(ctx, acct, d.JID, d.Device, d.Fingerprint, t)
	}, func(err error) {
		if err != nil {
			s.status.SetText("Could not change the device: " + plain(err))
			return
		}
		s.status.SetText("")
		s.reload()
	})
}

func (s *omemoSection) confirmRemove(acct string, d account.OMEMODevice) {
	msg := "Remove device " + strconv.FormatUint(uint64(d.Device), 10) + " from your account?\n\n" +
		"Your contacts stop encrypting messages for it. Do this for a lost phone or an old installation; " +
		"a device that is still in use adds itself back when it signs in."
	dialog.ShowConfirm("Remove device", msg, func(ok bool) {
		if ok {
			s.remove(acct, d)
		}
	}, s.f.win)
}

func (s *omemoSection) remove(acct string, d account.OMEMODevice) {
	s.f.u.do(func(ctx context.Context) error {
		return s.f.u.b.RemoveOMEMODevice(ctx, acct, d.Device)
	}, func(err error) {
		if err != nil {
			s.status.SetText("Could not remove the device: " + plain(err))
			return
		}
		s.status.SetText("Device removed.")
		s.reload()
	})
}
