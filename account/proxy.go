package account

// A SOCKS5 proxy per account (Settings.ProxyHost…): its password lives in
// the secret store like the account's, and with a proxy set the wire
// makes no DNS query of its own (account/internal/wire/proxy.go).

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/secret"
)

// WithResolver sets the DNS resolver used to find servers (SRV records,
// then addresses); tests point it at their own DNS server. It is never
// used for an account with a proxy.
func WithResolver(r *net.Resolver) Option { return func(o *options) { o.resolver = r } }

func proxyPasswordKey(jid string) string { return "proxy-password:" + jid }

// proxyParams is the account's proxy without its password (read from the
// secret store just before dialing, see fillProxyPassword); nil when none.
func proxyParams(s Settings) *wire.Proxy {
	if s.ProxyHost == "" {
		return nil
	}
	return &wire.Proxy{Host: s.ProxyHost, Port: s.ProxyPort, User: s.ProxyUser}
}

// saveProxyPassword moves s.ProxyPassword to the secret store (clearing
// it in s, so it reaches neither the profile nor the account loop). With
// no proxy user any stored proxy password is removed.
func (m *Manager) saveProxyPassword(ctx context.Context, s *Settings) error {
	if s.ProxyPort < 0 || s.ProxyPort > 65535 {
		return fmt.Errorf("account: proxy port %d is out of range", s.ProxyPort)
	}
	pw := s.ProxyPassword
	s.ProxyPassword = ""
	switch {
	case pw != "":
		if err := m.secrets.Set(ctx, proxyPasswordKey(s.JID), []byte(pw)); err != nil {
			return fmt.Errorf("account: saving the proxy password: %w", err)
		}
	case s.ProxyUser == "" || s.ProxyHost == "":
		if err := m.secrets.Delete(ctx, proxyPasswordKey(s.JID)); err != nil && !errors.Is(err, secret.ErrNotFound) {
			return fmt.Errorf("account: removing the proxy password: %w", err)
		}
	}
	return nil
}

// fillProxyPassword puts the stored proxy password (if any) into p. When
// s itself carries one (TestConnection before saving), that one is used.
func (m *Manager) fillProxyPassword(ctx context.Context, s Settings, p *wire.Params) error {
	if p.Proxy == nil || s.ProxyUser == "" {
		return nil
	}
	if s.ProxyPassword != "" {
		p.Proxy.Password = s.ProxyPassword
		return nil
	}
	pw, err := m.secrets.Get(ctx, proxyPasswordKey(s.JID))
	if errors.Is(err, secret.ErrNotFound) {
		return nil // a user without password: the proxy decides
	}
	if err != nil {
		return fmt.Errorf("account: reading the proxy password: %w", err)
	}
	p.Proxy.Password = string(pw)
	clear(pw)
	return nil
}
