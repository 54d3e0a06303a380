package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/sotto-im/sotto/account"
)

// The manager lists fingerprints with their state, filters by contact,
// and verifies, unverifies and forgets through the backend.
func TestFingerprintsManager(t *testing.T) {
	h := newHarness(t).withBob()
	h.b.fps = []account.KnownFingerprint{
		{Account: me, Contact: "bob@example.org", Fingerprint: bobFP, Verified: true, How: "smp"},
		{Account: me, Contact: "carol@example.org", Fingerprint: "AAAAAAAABBBBBBBBCCCCCCCCDDDDDDDDEEEEEEEE"},
	}
	h.u.showFingerprints("")
	f := h.u.fps
	if len(f.rows) != 2 {
		t.Fatalf("%d rows", len(f.rows))
	}
	r := f.newRow().(*fpRow)
	f.updateRow(0, r)
	if r.who.Text != "bob" || r.state.Text != "Verified (secret question)" || r.verify.Text != "Unverify" ||
		r.fp.Text != "11111111 22222222 33333333 44444444 55555555" {
		t.Errorf("bob's row: %q %q %q %q", r.who.Text, r.state.Text, r.verify.Text, r.fp.Text)
	}
	f.updateRow(1, r)
	if r.who.Text != "carol@example.org" || r.state.Text != "Not verified" || r.verify.Text != "Verify" {
		t.Errorf("carol's row: %q %q %q", r.who.Text, r.state.Text, r.verify.Text)
	}
	test.Tap(r.verify)
	c := h.calls("SetVerified", 1)[0]
	if c.args[1] != "carol@example.org" || c.args[3] != true {
		t.Errorf("SetVerified%v", c.args)
	}
	f.updateRow(1, r)
	if r.state.Text != "Verified" {
		t.Errorf("after verify: %q", r.state.Text)
	}
	f.forget(f.rows[1])
	if c := h.calls("ForgetFingerprint", 1)[0]; c.args[1] != "carol@example.org" {
		t.Errorf("ForgetFingerprint%v", c.args)
	}
	if len(f.rows) != 1 {
		t.Errorf("%d rows after forget", len(f.rows))
	}

	// Your own fingerprint is shown, to read out to a contact.
	h.settle(func() bool { return f.own.Text != "" })
	if !strings.Contains(f.own.Text, groupFingerprint(h.b.ownFP)) {
		t.Errorf("own fingerprint shown as %q", f.own.Text)
	}

	// Opened from a chat's menu: filtered to that contact.
	h.u.showFingerprints("bob")
	if len(f.rows) != 1 || f.rows[0].Contact != "bob@example.org" {
		t.Errorf("filtered rows %+v", f.rows)
	}
}

// A Fingerprints window closed by the window manager is gone for good in
// Fyne; opening Fingerprints again makes a new one with the current list.
func TestFingerprintsReopenAfterClose(t *testing.T) {
	h := newHarness(t).withBob()
	h.b.fps = []account.KnownFingerprint{{Account: me, Contact: "bob@example.org", Fingerprint: bobFP}}
	h.u.showFingerprints("")
	f := h.u.fps
	f.win.Close()
	h.drain()
	h.b.fps = append(h.b.fps, account.KnownFingerprint{Account: me, Contact: "carol@example.org",
		Fingerprint: "AAAAAAAABBBBBBBBCCCCCCCCDDDDDDDDEEEEEEEE"})
	h.u.showFingerprints("")
	g := h.u.fps
	if g == f {
		t.Fatal("Fingerprints reopened the closed window")
	}
	if len(g.rows) != 2 {
		t.Errorf("reopened Fingerprints lists %d rows, want 2", len(g.rows))
	}
}
