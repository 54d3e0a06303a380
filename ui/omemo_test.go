package ui

import (
	"errors"
	"image"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

const (
	bobDev1FP = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	bobDev2FP = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
	ownOMFP   = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	otherOMFP = "aaaaaaaabbbbbbbbccccccccddddddddeeeeeeeeffffffff0000000011111111"
	ownURI    = "xmpp:me@example.org?omemo-sid-1001=" + ownOMFP
)

// omemoSec pushes an OMEMO SecurityChanged for bob (no one fingerprint).
func (h *harness) omemoSec(level account.Security, mod ...func(*account.SecurityChanged)) {
	h.sec(level, "", append([]func(*account.SecurityChanged){func(e *account.SecurityChanged) { e.Protocol = "OMEMO" }}, mod...)...)
}

func withOMEMODevices(h *harness) {
	h.b.omemo["bob@example.org"] = []account.OMEMODevice{
		{JID: "bob@example.org", Device: 11, Fingerprint: bobDev1FP, Active: true, HasSession: true},
		{JID: "bob@example.org", Device: 22, Fingerprint: bobDev2FP, Active: true},
	}
	h.b.omemo[me] = []account.OMEMODevice{
		{JID: me, Device: 1001, Fingerprint: ownOMFP, Trust: account.OMEMOVerified, Active: true, This: true},
		{JID: me, Device: 1002, Fingerprint: otherOMFP, Active: true},
	}
	h.b.ownOMEMO = account.OMEMOIdentity{Device: 1001, Fingerprint: ownOMFP, URI: ownURI}
}

func menuLabels(s *statusButton) []string {
	var out []string
	for _, it := range s.menuItems() {
		out = append(out, it.Label)
	}
	return out
}

// The status button, the menu and the system lines name OMEMO; the same
// four words stay; SMP is not offered; an OMEMO line keeps its label.
func TestOMEMOStatusAndLines(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.omemoSec(account.Unverified)
	if v.status.Button.Text != "Unverified (OMEMO)" {
		t.Errorf("button %q", v.status.Button.Text)
	}
	labels := menuLabels(v.status)
	for _, want := range []string{"Encrypted with OMEMO", "Check for new devices", "Compare device fingerprints…"} {
		if !slices.Contains(labels, want) {
			t.Errorf("no %q in the menu %q", want, labels)
		}
	}
	if slices.Contains(labels, "Authenticate buddy…") {
		t.Errorf("OTR's Authenticate buddy in an OMEMO menu %q", labels)
	}
	if !v.authHint.box.Visible() || !v.hintCompareRow.Visible() || v.hintSecretRow.Visible() {
		t.Errorf("hint %v: compare button %v, shared-secret row %v (want hint, compare, no secret)",
			v.authHint.box.Visible(), v.hintCompareRow.Visible(), v.hintSecretRow.Visible())
	}
	h.u.Handle(account.MessageReceived{Conv: bobConv, Body: "hi", Encrypted: true, Level: account.Unverified, Protocol: "OMEMO"})
	h.omemoSec(account.Private)
	if v.status.Button.Text != "Private (OMEMO)" {
		t.Errorf("button %q", v.status.Button.Text)
	}
	h.u.Handle(account.MessageReceived{Conv: bobConv, Body: "hi again", Encrypted: true, Level: account.Private, Protocol: "OMEMO"})
	// The same level again (a trust change the account reports with a
	// reason) is not a "refreshed" session: OMEMO has none.
	h.omemoSec(account.Private, func(e *account.SecurityChanged) { e.Reason = "you marked bob's device 22 verified" })
	// Then bob is talked to with OTR: its lines are labelled as OTR's.
	h.sec(account.Private, bobFP)
	h.u.Handle(account.MessageReceived{Conv: bobConv, Body: "otr", Encrypted: true, Level: account.Private, Protocol: "OTR"})
	h.drain()
	want := []string{
		"Unverified conversation with bob started (OMEMO).",
		"All of bob's devices are verified. The conversation is now private (OMEMO).",
		"you marked bob's device 22 verified",
		"Private conversation with bob started.",
	}
	if got := systemLines(v); !slices.Equal(got, want) {
		t.Errorf("system lines\n got %q\nwant %q", got, want)
	}
	var states []string
	for _, l := range v.msgs.lines {
		if l.kind == lineIn {
			s, _ := l.stateText()
			states = append(states, s)
		}
	}
	if w := []string{"encrypted (OMEMO), not verified", "encrypted (OMEMO), verified", "encrypted, verified"}; !slices.Equal(states, w) {
		t.Errorf("line labels %q, want %q", states, w)
	}
	if v.status.Button.Text != "Private" || slices.Contains(menuLabels(v.status), "Compare device fingerprints…") {
		t.Errorf("OTR again: button %q, menu %q", v.status.Button.Text, menuLabels(v.status))
	}
}

// Authenticate in an OMEMO chat lists bob's devices with their
// fingerprints; "It matches" verifies, "It does not match" distrusts,
// each for the fingerprint shown.
func TestOMEMOAuthenticateDialog(t *testing.T) {
	h := newHarness(t).withBob()
	withOMEMODevices(h)
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.omemoSec(account.Unverified)
	chooseFromStatusMenu(t, v.status, "Compare device fingerprints…")
	h.drain()
	if v.auth != nil {
		t.Error("the OTR (secret question) dialog opened for OMEMO")
	}
	a := v.omemoAuth
	if a == nil || len(a.rows) != 2 {
		t.Fatalf("device dialog %v", a)
	}
	if a.own.Text != account.FormatFingerprint(ownOMFP) {
		t.Errorf("own fingerprint %q", a.own.Text)
	}
	if a.rows[0].fp.Text != account.FormatFingerprint(bobDev1FP) || a.rows[1].fp.Text != account.FormatFingerprint(bobDev2FP) {
		t.Errorf("fingerprints %q, %q", a.rows[0].fp.Text, a.rows[1].fp.Text)
	}
	if !a.rows[0].fp.TextStyle.Monospace || a.rows[0].state.Text != "Not verified" || a.rows[0].yes.Text != "It matches" {
		t.Errorf("row: monospace %v, state %q, button %q", a.rows[0].fp.TextStyle.Monospace, a.rows[0].state.Text, a.rows[0].yes.Text)
	}
	test.Tap(a.rows[0].yes)
	c := h.calls("SetOMEMOTrust", 1)[0]
	if c.args[1] != "bob@example.org" || c.args[2] != uint32(11) || c.args[3] != bobDev1FP || c.args[4] != account.OMEMOVerified {
		t.Errorf("SetOMEMOTrust%v", c.args)
	}
	h.drain()
	a = v.omemoAuth
	if a.rows[0].state.Text != "Verified" || !a.rows[0].yes.Disabled() {
		t.Errorf("after It matches: %q, button enabled %v", a.rows[0].state.Text, !a.rows[0].yes.Disabled())
	}
	test.Tap(a.rows[1].no)
	c = h.calls("SetOMEMOTrust", 2)[1]
	if c.args[2] != uint32(22) || c.args[3] != bobDev2FP || c.args[4] != account.OMEMODistrusted {
		t.Errorf("SetOMEMOTrust%v", c.args)
	}
	h.drain()
	if s := v.omemoAuth.rows[1].state; !strings.HasPrefix(s.Text, "Distrusted") || s.Importance != widget.DangerImportance {
		t.Errorf("after It does not match: %q %v", s.Text, s.Importance)
	}
	// A refusal (the key changed meanwhile) is said in plain words.
	h.b.setErr("SetOMEMOTrust", errors.New("account: the fingerprint changed"))
	test.Tap(v.omemoAuth.rows[0].no)
	h.calls("SetOMEMOTrust", 3)
	if got := v.omemoAuth.status.Text; got != "Could not change the device: The fingerprint changed." {
		t.Errorf("error %q", got)
	}
}

// A new device of a contact whose devices were all verified is as loud
// as a changed OTR key: red bar, modal dialog, red system line.
func TestOMEMONewDeviceIsLoud(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.omemoSec(account.Private)
	h.omemoSec(account.Unverified, func(e *account.SecurityChanged) {
		e.KeyChanged, e.NewFingerprint = true, true
		e.Reason = "bob has a new device (33) that you have not verified"
	})
	if !v.keyWarn.box.Visible() || !strings.Contains(v.keyWarn.text.Text, "bob has a new device") ||
		v.keyWarn.color != theme.ColorNameError {
		t.Errorf("warning bar: visible=%v text=%q colour %s", v.keyWarn.box.Visible(), v.keyWarn.text.Text, v.keyWarn.color)
	}
	if h.u.chats.win.Canvas().Overlays().Top() == nil {
		t.Error("no modal dialog for the new device")
	}
	var red bool
	for _, l := range v.msgs.lines {
		red = red || (l.kind == lineSystem && l.imp == widget.DangerImportance &&
			strings.HasPrefix(l.body, "Warning: bob has a new device you have not verified."))
	}
	if !red {
		t.Errorf("no red new-device line in %q", systemLines(v))
	}
	if v.authHint.box.Visible() {
		t.Error("the quiet hint shown beside the loud warning")
	}
	h.omemoSec(account.Private)
	if v.keyWarn.box.Visible() {
		t.Error("warning still shown after all devices were verified again")
	}
}

// The Fingerprints window's OMEMO tab: this device as a QR code of its
// URI and the URI as text; our other device removable after a confirm;
// bob's devices with Verify / Distrust; a pasted link verified, with the
// count or the plain-words error.
func TestFingerprintsOMEMOTab(t *testing.T) {
	h := newHarness(t).withBob()
	withOMEMODevices(h)
	h.u.showFingerprints("")
	h.drain()
	s := h.u.fps.om
	if s.uri[me] == nil || s.uri[me].Text != ownURI {
		t.Fatalf("URI shown: %v", s.uri[me])
	}
	qr := s.qr[me]
	if qr == nil || qr.Image == nil {
		t.Fatal("no QR code")
	}
	want, _ := qrImage(ownURI)
	if b := qr.Image.Bounds(); b.Dx() != b.Dy() || b.Dx() < 21*8 || !sameImage(qr.Image, want) {
		t.Errorf("QR image %v is not the code of the URI", b)
	}
	// Our own: the other device only (this one is the QR code), with Remove.
	own := s.devRows[me]
	if len(own) != 1 || own[0].extra == nil || own[0].fp.Text != account.FormatFingerprint(otherOMFP) {
		t.Fatalf("own device rows %v", own)
	}
	test.Tap(own[0].extra)
	if len(h.b.called("RemoveOMEMODevice")) != 0 {
		t.Fatal("removed without asking")
	}
	top := h.u.fps.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no confirmation")
	}
	test.Tap(findButtonDeep(top, "Yes"))
	if c := h.calls("RemoveOMEMODevice", 1)[0]; c.args[0] != me || c.args[1] != uint32(1002) {
		t.Errorf("RemoveOMEMODevice%v", c.args)
	}
	h.drain()
	if len(s.devRows[me]) != 0 {
		t.Errorf("removed device still listed")
	}
	bob := s.devRows["bob@example.org"]
	if len(bob) != 2 || bob[1].fp.Text != account.FormatFingerprint(bobDev2FP) || bob[1].yes.Text != "Verify" {
		t.Fatalf("bob's rows %v", bob)
	}
	test.Tap(bob[1].yes)
	if c := h.calls("SetOMEMOTrust", 1)[0]; c.args[2] != uint32(22) || c.args[3] != bobDev2FP || c.args[4] != account.OMEMOVerified {
		t.Errorf("SetOMEMOTrust%v", c.args)
	}
	h.drain()
	if s.devRows["bob@example.org"][1].state.Text != "Verified" {
		t.Errorf("after Verify: %q", s.devRows["bob@example.org"][1].state.Text)
	}

	h.b.uriVerified = 2
	test.Type(s.paste[me], "xmpp:bob@example.org?omemo-sid-11="+bobDev1FP)
	s.paste[me].OnSubmitted(s.paste[me].Text)
	if c := h.calls("VerifyOMEMOURI", 1)[0]; c.args[1] != "xmpp:bob@example.org?omemo-sid-11="+bobDev1FP {
		t.Errorf("VerifyOMEMOURI%v", c.args)
	}
	h.drain()
	if got := s.pasted[me].Text; got != "2 devices verified." {
		t.Errorf("after a good link: %q", got)
	}
	h.b.uriVerified = 0
	h.b.setErr("VerifyOMEMOURI", errors.New("account: device 5 of bob@example.org does not have the fingerprint in that code"))
	test.Type(s.paste[me], "xmpp:bob@example.org?omemo-sid-5=00")
	s.paste[me].OnSubmitted(s.paste[me].Text)
	h.calls("VerifyOMEMOURI", 2)
	h.drain()
	if got := s.pasted[me].Text; got != "Nothing was verified: Device 5 of bob@example.org does not have the fingerprint in that code." {
		t.Errorf("after a bad link: %q", got)
	}

	// Opened from an OMEMO chat's menu: the OMEMO tab, filtered to bob.
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.omemoSec(account.Unverified)
	h.u.fps.tabs.Select(h.u.fps.otrTab)
	chooseFromStatusMenu(t, v.status, "Fingerprints…")
	h.drain()
	if h.u.fps.tabs.Selected() != h.u.fps.omemoTab {
		t.Error("the OTR tab is shown for an OMEMO chat")
	}
}

func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				return false
			}
		}
	}
	return true
}

// The first OMEMO message can open the tab before the level change that
// came with it: the tab read the level from the account, and the change
// still says the conversation started (not only the account's reason).
func TestOMEMOStartLineWhenMessageOpensTab(t *testing.T) {
	h := newHarness(t).withBob()
	h.b.sec[keyOf(bobConv)] = account.SecurityChanged{Conv: bobConv, Level: account.Unverified, Protocol: "OMEMO"}
	h.u.Handle(account.MessageReceived{Conv: bobConv, Body: "hi", Encrypted: true, Level: account.Unverified, Protocol: "OMEMO"})
	h.omemoSec(account.Unverified, func(e *account.SecurityChanged) {
		e.Reason = "private conversation started (OMEMO); bob@example.org's devices are not all verified yet"
	})
	h.drain()
	v := h.u.chats.get(bobConv)
	if got := systemLines(v); !slices.Equal(got, []string{"Unverified conversation with bob started (OMEMO)."}) {
		t.Errorf("system lines %q", got)
	}
}

// The padlock menu of an OMEMO chat switches the contact to OTR (and
// starts it); the chat's menu then offers OMEMO back, also after the
// window is opened again (the choice comes from the account).
func TestOMEMOSwitchToOTRAndBack(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.omemoSec(account.Unverified)
	chooseFromStatusMenu(t, v.status, "Use OTR with this contact instead")
	h.settle(func() bool { return v.status.otrChosen })
	h.calls("UseOMEMO", 1)
	h.settle(func() bool { return len(h.b.called("StartPrivate")) >= 2 })
	// Now an OTR chat: no switch to OTR, a way back to OMEMO.
	h.u.Handle(account.SecurityChanged{Conv: bobConv, Level: account.Unverified, Protocol: "OTR", Fingerprint: "ABCD"})
	labels := menuLabels(v.status)
	if slices.Contains(labels, "Use OTR with this contact instead") || !slices.Contains(labels, "Use OMEMO with this contact again") {
		t.Fatalf("OTR chat after the switch: menu %q", labels)
	}
	// A new window for the same contact learns the choice from the account.
	w := newConvView(h.u, bobConv)
	h.settle(func() bool { return w.status.otrChosen })
	chooseFromStatusMenu(t, v.status, "Use OMEMO with this contact again")
	h.settle(func() bool { return !v.status.otrChosen })
	if h.b.otrFor["bob@example.org"] {
		t.Fatal("the account still has OTR chosen for bob")
	}
}

// A held new device (it gets nothing until the user decides) says so in
// the Fingerprints tab and can be accepted unverified with one action;
// a device that is not held has no such button.
func TestOMEMOHeldDeviceAccept(t *testing.T) {
	h := newHarness(t).withBob()
	withOMEMODevices(h)
	h.b.omemo["bob@example.org"][1].Held = true
	h.u.showFingerprints("")
	h.drain()
	bob := h.u.fps.om.devRows["bob@example.org"]
	if len(bob) != 2 {
		t.Fatalf("bob's rows %v", bob)
	}
	if bob[0].accept != nil {
		t.Error("a device that is not held offers Accept unverified")
	}
	if got := bob[1].state.Text; !strings.Contains(got, "gets no messages until you verify or accept it") {
		t.Errorf("held device reads %q", got)
	}
	if bob[1].accept == nil {
		t.Fatal("a held device has no Accept unverified")
	}
	test.Tap(bob[1].accept)
	if c := h.calls("SetOMEMOTrust", 1)[0]; c.args[2] != uint32(22) || c.args[3] != bobDev2FP || c.args[4] != account.OMEMOUndecided {
		t.Errorf("SetOMEMOTrust%v", c.args)
	}
}
