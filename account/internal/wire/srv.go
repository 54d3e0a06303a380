package wire

// Finding the server: DNS SRV (RFC 6120 §3.2, XEP-0368), the manual
// override, and the A/AAAA fallback; then the TCP connection itself.
//
// Why not mellium's dial.Dialer: it dials with its own embedded
// net.Dialer, so neither the Manager's injected dialer nor a SOCKS5
// proxy can sit under it, and when every target fails it returns only
// the last low-level error. The discovery rules below are the same as
// its (and its internal/discover's): _xmpps-client records first (direct
// TLS), then _xmpp-client (STARTTLS); a lone "." target means the service
// is not offered; no record at all falls back to the domain itself.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"mellium.im/xmpp/jid"
)

// target is one place to try, in order.
type target struct {
	host   string
	port   int
	direct bool // TLS from the first byte (XEP-0368)
	srv    bool // found in DNS SRV
}

func (t target) String() string {
	s := net.JoinHostPort(t.host, strconv.Itoa(t.port))
	if t.srv {
		s += " (found in DNS)"
	}
	return s
}

// manual reports whether the user chose where to connect (a server or a
// port typed in Settings), or the domain is one DNS SRV does not apply
// to: "localhost" (RFC 6761 §6.3: resolved locally, never sent to DNS)
// and IP literals.
func manual(p Params, domain string) bool {
	if p.Server != "" || p.Port != 0 {
		return true
	}
	if domain == "localhost" || strings.HasSuffix(domain, ".localhost") {
		return true
	}
	_, err := netip.ParseAddr(strings.Trim(domain, "[]"))
	return err == nil
}

// targets lists where to connect for origin. With a proxy nothing is
// looked up here (the proxy resolves names): the domain or manual server
// is the only target.
func targets(ctx context.Context, p Params, origin jid.JID) ([]target, error) {
	domain := origin.Domainpart()
	if p.Proxy != nil || manual(p, domain) {
		host, port, _ := net.SplitHostPort(serverAddr(p, origin))
		n, _ := strconv.Atoi(port)
		return []target{{host: host, port: n, direct: p.DirectTLS}}, nil
	}
	r := resolver(p)
	xmpps, noS := lookupSRV(ctx, r, "xmpps-client", domain)
	xmpp, noP := lookupSRV(ctx, r, "xmpp-client", domain)
	var ts []target
	for _, s := range xmpps {
		ts = append(ts, target{host: strings.TrimSuffix(s.Target, "."), port: int(s.Port), direct: true, srv: true})
	}
	for _, s := range xmpp {
		ts = append(ts, target{host: strings.TrimSuffix(s.Target, "."), port: int(s.Port), srv: true})
	}
	switch {
	case len(ts) > 0:
		return ts, nil
	case noS || noP:
		// "." on either service and no record on the other: the domain
		// says it has no XMPP service (RFC 6120 §3.2.1 step 3).
		return nil, &DialError{Domain: domain, Reason: "its DNS records say it offers no XMPP service"}
	}
	// No SRV record (or the lookups failed: then the address lookup
	// below fails too and says so): the domain itself on the default
	// port (RFC 6120 §3.2.2, the A/AAAA fallback).
	return []target{{host: domain, port: 5222}}, nil
}

// lookupSRV returns the records for service (sorted by priority and
// shuffled by weight, RFC 2782) and whether the domain says the service
// is not offered (a single "." target). A failed lookup is no records.
func lookupSRV(ctx context.Context, r *net.Resolver, service, domain string) ([]*net.SRV, bool) {
	_, addrs, err := r.LookupSRV(ctx, service, "tcp", domain)
	if err != nil {
		return nil, false
	}
	if len(addrs) == 1 && (addrs[0].Target == "." || addrs[0].Target == "") {
		return nil, true
	}
	return addrs, false
}

func resolver(p Params) *net.Resolver {
	if p.Resolver != nil {
		return p.Resolver
	}
	return net.DefaultResolver
}

// dialTargets connects to the first target that answers. With a proxy
// the host name goes to the proxy unresolved; otherwise names are
// resolved with p.Resolver and each address is tried in turn.
func dialTargets(ctx context.Context, p Params, origin jid.JID, ts []target) (net.Conn, target, error) {
	var tried []string
	for _, t := range ts {
		var c net.Conn
		var err error
		switch {
		case p.Proxy != nil:
			c, err = dialProxy(ctx, p, net.JoinHostPort(t.host, strconv.Itoa(t.port)))
			if err != nil {
				return nil, t, err // a ProxyError already says it all
			}
		default:
			c, err = dialHost(ctx, p, t)
		}
		if err == nil {
			return c, t, nil
		}
		if len(ts) == 1 && !t.srv {
			// One place to try, the one the user knows (a server typed, or
			// the account's domain without SRV records): "Sotto could not
			// reach … on port …".
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return nil, t, &ReachError{Host: t.host, Port: strconv.Itoa(t.port), Err: err}
		}
		if ctx.Err() != nil {
			return nil, t, &DialError{Domain: origin.Domainpart(), Tried: append(tried, t.String()+": "+describe(ctx.Err()))}
		}
		tried = append(tried, t.String()+": "+describe(err))
	}
	return nil, target{}, &DialError{Domain: origin.Domainpart(), Tried: tried}
}

// dialHost resolves t.host (unless it is an IP or "localhost", which the
// dialer handles) and dials each address until one answers.
func dialHost(ctx context.Context, p Params, t target) (net.Conn, error) {
	port := strconv.Itoa(t.port)
	if _, err := netip.ParseAddr(t.host); err == nil || t.host == "localhost" {
		return p.Dial(ctx, "tcp", net.JoinHostPort(t.host, port))
	}
	ips, err := resolver(p).LookupIPAddr(ctx, t.host)
	if err != nil {
		return nil, err
	}
	var last error = &net.DNSError{Err: "no address", Name: t.host, IsNotFound: true}
	for _, ip := range ips {
		c, err := p.Dial(ctx, "tcp", net.JoinHostPort(ip.IP.String(), port))
		if err == nil {
			return c, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

// DialError: no way to the server was found or none answered. Tried says
// what was tried and why each failed, in plain words. Retrying later may
// help (the server or the network may come back).
type DialError struct {
	Domain string
	Reason string   // when nothing could be tried at all
	Tried  []string // "host:port (found in DNS): why"
}

func (e *DialError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("account: cannot find the server for %s: %s", e.Domain, e.Reason)
	}
	return fmt.Sprintf("account: cannot reach the server for %s (tried %s)", e.Domain, strings.Join(e.Tried, "; "))
}

// describe says in plain words why a connection or lookup failed.
func describe(err error) string {
	var de *net.DNSError
	switch {
	case errors.As(err, &de) && de.IsNotFound:
		return "that name does not exist in DNS"
	case errors.As(err, &de) && de.IsTimeout:
		return "DNS did not answer in time"
	case errors.As(err, &de):
		return "the DNS lookup failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the connection was refused (nothing is listening there)"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "the network cannot reach it"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "no answer in time"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "it failed (" + err.Error() + ")"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
