package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/sotto-im/sotto/account"
)

// TestAccountSettingsProxy: the proxy fields are filled from the account
// (never its password), a bad port is refused before any call, and Save
// sends host, port, user and the typed password to UpdateAccount (which
// moves the password to the secret store).
func TestAccountSettingsProxy(t *testing.T) {
	h := newHarness(t)
	h.b.accounts[0] = account.Settings{JID: me, ProxyHost: "127.0.0.1", ProxyPort: 9050, ProxyUser: "tor"}
	h.withBob()
	r := h.u.roster
	r.showAccountSettings(me)
	d := r.acctDlg
	p := d.proxy
	if p.host.Text != "127.0.0.1" || p.port.Text != "9050" || p.user.Text != "tor" || p.password.Text != "" {
		t.Fatalf("proxy fields %q %q %q %q", p.host.Text, p.port.Text, p.user.Text, p.password.Text)
	}
	p.port.SetText("70000")
	test.Tap(d.save)
	if !strings.Contains(d.status.Text, "proxy port") || len(h.b.called("UpdateAccount")) != 0 {
		t.Fatalf("bad proxy port: status %q", d.status.Text)
	}
	p.port.SetText("1080")
	p.password.SetText("proxy-pw")
	test.Tap(d.save)
	s := h.calls("UpdateAccount", 1)[0].args[0].(account.Settings)
	if s.ProxyHost != "127.0.0.1" || s.ProxyPort != 1080 || s.ProxyUser != "tor" || s.ProxyPassword != "proxy-pw" {
		t.Fatalf("UpdateAccount(%+v)", s)
	}

	// Clearing the host with a user left is refused in words.
	r.showAccountSettings(me)
	d = r.acctDlg
	d.proxy.host.SetText("")
	test.Tap(d.save)
	if !strings.Contains(d.status.Text, "proxy host") || len(h.b.called("UpdateAccount")) != 1 {
		t.Fatalf("user without host: status %q", d.status.Text)
	}
}
