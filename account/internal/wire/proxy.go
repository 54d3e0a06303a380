package wire

// Connecting through a SOCKS5 proxy (RFC 1928, user/password RFC 1929),
// e.g. Tor. The proxy is given the server's host name, never an address
// we looked up: with a proxy set, Sotto makes no DNS query of its own
// (no SRV lookup either, which SOCKS5 cannot carry), so the local network
// does not learn which server we talk to. The one exception is the
// proxy's own host when it is a name, which has to be found before
// anything can go through it; use an IP address (127.0.0.1 for a local
// Tor) to avoid even that.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"golang.org/x/net/proxy"
)

// Proxy is a SOCKS5 proxy to connect through.
type Proxy struct {
	Host     string
	Port     int // 0 = 1080
	User     string
	Password string
}

func (p *Proxy) addr() string {
	port := p.Port
	if port == 0 {
		port = 1080
	}
	return net.JoinHostPort(p.Host, strconv.Itoa(port))
}

// ProxyError: the connection through the proxy failed. Unreachable is
// true when the proxy itself did not answer, Auth when it refused our
// user name or password (retrying will not help).
type ProxyError struct {
	Proxy       string // host:port
	Unreachable bool
	Auth        bool
	Reason      string
}

func (e *ProxyError) Error() string {
	return fmt.Sprintf("account: cannot connect through the proxy at %s: %s", e.Proxy, e.Reason)
}

type proxyUnreachable struct{ err error }

func (e proxyUnreachable) Error() string { return e.err.Error() }
func (e proxyUnreachable) Unwrap() error { return e.err }

// forward dials the proxy itself with the Params' dialer and marks its
// failures, so they can be told from the proxy's refusals.
type forward struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (f forward) Dial(network, addr string) (net.Conn, error) {
	return f.DialContext(context.Background(), network, addr)
}

func (f forward) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := f.dial(ctx, network, addr)
	if err != nil {
		return nil, proxyUnreachable{err}
	}
	return c, nil
}

// dialProxy connects to addr (host:port, the host unresolved) through
// p.Proxy.
func dialProxy(ctx context.Context, p Params, addr string) (net.Conn, error) {
	var auth *proxy.Auth
	if p.Proxy.User != "" || p.Proxy.Password != "" {
		auth = &proxy.Auth{User: p.Proxy.User, Password: p.Proxy.Password}
	}
	d, err := proxy.SOCKS5("tcp", p.Proxy.addr(), auth, forward{dial: p.Dial})
	if err != nil {
		return nil, &ProxyError{Proxy: p.Proxy.addr(), Reason: "the proxy settings are not valid"}
	}
	c, err := d.(proxy.ContextDialer).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, proxyErr(p.Proxy.addr(), addr, err)
	}
	return c, nil
}

func proxyErr(proxyAddr, addr string, err error) *ProxyError {
	e := &ProxyError{Proxy: proxyAddr}
	var pu proxyUnreachable
	msg := err.Error()
	switch {
	case errors.As(err, &pu):
		e.Unreachable = true
		e.Reason = "the proxy does not answer (" + describe(pu.err) + "); is it running?"
	case strings.Contains(msg, "username/password"), strings.Contains(msg, "no acceptable authentication"):
		e.Auth = true
		e.Reason = "the proxy refused the user name or password"
	case strings.Contains(msg, "host unreachable"), strings.Contains(msg, "network unreachable"):
		e.Reason = "the proxy cannot reach " + addr
	case strings.Contains(msg, "connection refused"):
		e.Reason = "the proxy reached " + addr + " but the connection was refused there"
	case strings.Contains(msg, "not allowed by ruleset"):
		e.Reason = "the proxy does not allow connecting to " + addr
	case strings.Contains(msg, "general SOCKS server failure"):
		e.Reason = "the proxy could not connect to " + addr + " (the name may not exist or the server is down)"
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		e.Reason = "no answer in time"
	default:
		e.Reason = "the proxy did not accept the connection (" + msg + ")"
	}
	return e
}
