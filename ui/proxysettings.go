package ui

// The SOCKS5 proxy fields of the account settings (e.g. Tor at
// 127.0.0.1:9050). With a proxy the server's name is resolved by the
// proxy and Sotto makes no DNS query of its own (account, proxy.go).

import (
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

type proxyFields struct {
	host, port, user, password *widget.Entry
}

func newProxyFields(s account.Settings) *proxyFields {
	p := &proxyFields{host: widget.NewEntry(), port: widget.NewEntry(), user: widget.NewEntry(),
		password: widget.NewPasswordEntry()}
	p.host.SetPlaceHolder("None (for Tor: 127.0.0.1)")
	p.host.SetText(s.ProxyHost)
	p.port.SetPlaceHolder("1080 (Tor: 9050)")
	if s.ProxyPort != 0 {
		p.port.SetText(strconv.Itoa(s.ProxyPort))
	}
	p.user.SetPlaceHolder("Optional")
	p.user.SetText(s.ProxyUser)
	p.password.SetPlaceHolder("Optional; leave empty to keep it")
	return p
}

// form is the proxy section, folded away unless a proxy is set.
func (p *proxyFields) form() fyne.CanvasObject {
	help := wrapLabel("With a proxy, the proxy looks up the server's name: Sotto asks no DNS server itself. " +
		"The proxy password is kept with your other secrets.")
	help.Importance = widget.LowImportance
	item := widget.NewAccordionItem("Proxy (SOCKS5, e.g. Tor)", container.NewVBox(widget.NewForm(
		widget.NewFormItem("Proxy host", p.host), widget.NewFormItem("Proxy port", p.port),
		widget.NewFormItem("Proxy user", p.user), widget.NewFormItem("Proxy password", p.password)), help))
	acc := widget.NewAccordion(item)
	if p.host.Text != "" {
		acc.Open(0)
	}
	return acc
}

// apply copies the fields into s; a non-empty result is the problem to
// show.
func (p *proxyFields) apply(s *account.Settings) string {
	s.ProxyHost = strings.TrimSpace(p.host.Text)
	s.ProxyUser = strings.TrimSpace(p.user.Text)
	s.ProxyPassword = p.password.Text // "" keeps the stored one
	s.ProxyPort = 0
	if strings.ContainsAny(s.ProxyHost, " /@") {
		return "Enter the proxy as a host name or address like 127.0.0.1, or leave it empty."
	}
	if v := strings.TrimSpace(p.port.Text); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return "The proxy port must be a number from 1 to 65535, or empty for 1080."
		}
		s.ProxyPort = n
	}
	if s.ProxyHost == "" && (s.ProxyPort != 0 || s.ProxyUser != "") {
		return "Enter the proxy host, or clear the other proxy fields."
	}
	return ""
}
