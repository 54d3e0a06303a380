package ui

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/sotto-im/sotto/account"
)

func firstRun(t *testing.T) *harness {
	h := newHarness(t)
	h.b.accounts = nil
	h.u.Start()
	if h.u.wizard == nil {
		t.Fatal("no wizard on first run")
	}
	return h
}

// The wizard adds the account, generates and stores the key off the UI
// goroutine with a progress indicator, shows the fingerprint in five
// groups of eight with a copy button, then connects.
func TestWizardCreatesAccountAndKey(t *testing.T) {
	h := firstRun(t)
	w := h.u.wizard
	if w.jid.Size().Width < 100 {
		t.Fatalf("wizard page not laid out: address field %v", w.jid.Size())
	}
	block := make(chan struct{})
	h.b.block = block
	test.Type(w.jid, "alice@example.org")
	test.Type(w.password, "pw")
	test.Tap(w.create)
	// GenerateKey is blocked, so wait with settle (drain would wait for it).
	h.settle(func() bool { return w.keyStatus != nil })
	add := h.b.called("AddAccount")[0]
	s := add.args[0].(account.Settings)
	if s.JID != "alice@example.org" || !s.AutoConnect || add.args[1] != "pw" {
		t.Errorf("AddAccount(%+v, %q)", s, add.args[1])
	}
	if !w.keyBusy.Visible() || w.keyDone.Visible() || !strings.Contains(w.keyStatus.Text, "Creating your private key") {
		t.Errorf("while generating: progress %v, done %v, %q", w.keyBusy.Visible(), w.keyDone.Visible(), w.keyStatus.Text)
	}
	close(block)
	if c := h.calls("GenerateKey", 1)[0]; c.args[0] != "alice@example.org" {
		t.Errorf("GenerateKey%v", c.args)
	}
	h.settle(func() bool { return w.keyDone.Visible() })
	if w.fp.Text != "01234567 89ABCDEF 01234567 89ABCDEF 01234567" {
		t.Errorf("fingerprint shown as %q", w.fp.Text)
	}
	if w.keyBusy.Visible() {
		t.Error("progress still shown")
	}
	test.Tap(w.copyBtn)
	if got := h.app.Clipboard().Content(); got != w.fp.Text {
		t.Errorf("clipboard %q", got)
	}
	test.Tap(w.doneBtn)
	if c := h.calls("Connect", 1)[0]; c.args[0] != "alice@example.org" {
		t.Errorf("Connect%v", c.args)
	}
	if h.u.wizard != nil {
		t.Error("wizard still open")
	}
}

// Bad input is caught before any call; Test connection reports success
// and failure in plain words; a failed key generation can be retried.
func TestWizardValidationAndErrors(t *testing.T) {
	h := firstRun(t)
	w := h.u.wizard
	test.Type(w.jid, "not-an-address")
	test.Type(w.password, "pw")
	test.Tap(w.create)
	test.Tap(w.testBtn)
	h.drain()
	if n := h.b.count(); n != 0 || !strings.Contains(w.accountErr.Text, "you@example.org") {
		t.Errorf("%d calls, message %q", n, w.accountErr.Text)
	}
	w.jid.SetText("alice@example.org")
	w.port.SetText("99999")
	test.Tap(w.testBtn)
	h.drain()
	if n := h.b.count(); n != 0 || !strings.Contains(w.accountErr.Text, "port") {
		t.Errorf("bad port: %d calls, message %q", n, w.accountErr.Text)
	}
	w.port.SetText("5223")
	w.server.SetText("xmpp.example.org")
	test.Tap(w.testBtn)
	c := h.calls("TestConnection", 1)[0]
	if s := c.args[0].(account.Settings); s.Port != 5223 || s.Server != "xmpp.example.org" || c.args[1] != "pw" {
		t.Errorf("TestConnection%v", c.args)
	}
	if w.testResult.Text != "Logged in successfully." {
		t.Errorf("test result %q", w.testResult.Text)
	}
	h.b.setErr("TestConnection", errors.New("account: the server rejected the password"))
	test.Tap(w.testBtn)
	h.calls("TestConnection", 2)
	if w.testResult.Text != "Could not log in: The server rejected the password." {
		t.Errorf("test result %q", w.testResult.Text)
	}

	h.b.setErr("GenerateKey", errors.New("account: keyring unavailable"))
	// Sign in (which Create now does first) must succeed to reach the key.
	h.b.setErr("TestConnection", nil)
	test.Tap(w.create)
	h.calls("GenerateKey", 1)
	h.settle(func() bool { return w.retry.Visible() })
	if !strings.Contains(w.keyStatus.Text, "Keyring unavailable") {
		t.Errorf("key error %q", w.keyStatus.Text)
	}
	h.b.setErr("GenerateKey", nil)
	test.Tap(w.retry)
	h.calls("GenerateKey", 2)
	h.settle(func() bool { return w.keyDone.Visible() })
}

// Import from Pidgin: folder → ImportPidgin, then the imported accounts
// with their fingerprints and password fields.
func TestWizardImportPidgin(t *testing.T) {
	h := firstRun(t)
	w := h.u.wizard
	h.b.imported = []account.Settings{{JID: "old@example.org"}}
	page := w.importPage()
	w.importDir.SetText("/tmp/purple")
	btn := findButton(page, "Import")
	if btn == nil {
		t.Fatal("no Import button")
	}
	test.Tap(btn)
	if c := h.calls("ImportPidgin", 1)[0]; c.args[0] != "/tmp/purple" {
		t.Errorf("ImportPidgin%v", c.args)
	}
	h.calls("OwnFingerprint", 1)
	if !strings.Contains(w.importResult.Text, "Imported 1 account") || len(w.importPw) != 1 {
		t.Errorf("import result %q", w.importResult.Text)
	}
	test.Type(w.importPw[0], "secret")
	w.finish()
	if c := h.calls("UpdateAccount", 1)[0]; c.args[1] != "secret" {
		t.Errorf("UpdateAccount%v", c.args)
	}
	h.calls("Connect", 1)
}
