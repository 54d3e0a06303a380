package account

// Finding the server through DNS SRV, against a real DNS server (dnsmasq)
// and the test-bed Prosody serving a second virtual host, example.test,
// that only DNS knows how to reach.

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/internal/testbed"
)

func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

// closedPort is a loopback port nothing listens on (it was free a moment
// ago; the kernel does not hand it out again at once).
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return p
}

// TestSRVOnlyDomainSignsIn: alice@example.test has no address record at
// all, only SRV records pointing at xmpp.example.test, which is the test
// Prosody. With no server typed she signs in, over STARTTLS
// (_xmpp-client) and over direct TLS (_xmpps-client, XEP-0368), and the
// certificate is checked against example.test, not the SRV target.
func TestSRVOnlyDomainSignsIn(t *testing.T) {
	srv := testbed.Start(t, testbed.WithHost("example.test"))
	for _, tc := range []struct {
		name    string
		service string
		addr    string
	}{
		{"starttls", "_xmpp-client._tcp.example.test", srv.Addr()},
		{"direct TLS", "_xmpps-client._tcp.example.test", srv.DirectTLSAddr()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dns := testbed.StartDNS(t, testbed.DNSRecords{
				SRV:   []testbed.SRVRecord{{Name: tc.service, Target: "xmpp.example.test", Port: port(t, tc.addr)}},
				Hosts: map[string]string{"xmpp.example.test": "127.0.0.1"},
			})
			a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), host: "example.test", realDial: true,
				extra: []Option{WithResolver(dns.Resolver())}})
			if s := a.m.Accounts()[0]; s.Server != "" || s.Port != 0 {
				t.Fatalf("settings %+v: a server or port is typed", s)
			}
			a.connect()
			a.waitFor(0, "connected", func(e Event) bool {
				c, ok := e.(ConnectionChanged)
				return ok && c.State == Connected
			})
			dns.Sentinel(t)
			qs := dns.Queries()
			for _, want := range []string{"SRV _xmpps-client._tcp.example.test", "SRV _xmpp-client._tcp.example.test", "A xmpp.example.test"} {
				if !slices.Contains(qs, want) {
					t.Fatalf("DNS never saw %q; queries: %q", want, qs)
				}
			}
			t.Logf("queries: %q", qs)
		})
	}
}

// TestSRVPointingNowhere: an SRV record whose target has no address, and
// one whose target refuses, each give a plain-language failure naming
// what was tried, a scheduled retry, and no hang.
func TestSRVPointingNowhere(t *testing.T) {
	srv := testbed.Start(t, testbed.WithHost("gone.test"), testbed.WithHost("refused.test"), testbed.WithHost("none.test"))
	dns := testbed.StartDNS(t, testbed.DNSRecords{
		SRV: []testbed.SRVRecord{
			{Name: "_xmpp-client._tcp.gone.test", Target: "nothing-here.gone.test", Port: 5222},
			{Name: "_xmpp-client._tcp.refused.test", Target: "xmpp.refused.test", Port: closedPort(t)},
			{Name: "_xmpp-client._tcp.none.test", Target: ".", Port: 0},
		},
		Hosts: map[string]string{"xmpp.refused.test": "127.0.0.1"},
	})
	for _, tc := range []struct{ host, want string }{
		{"gone.test", "cannot reach the server for gone.test (tried nothing-here.gone.test:5222 (found in DNS): that name does not exist in DNS)"},
		{"refused.test", "(found in DNS): the connection was refused (nothing is listening there)"},
		{"none.test", "cannot find the server for none.test: its DNS records say it offers no XMPP service"},
	} {
		t.Run(tc.host, func(t *testing.T) {
			a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), host: tc.host, realDial: true,
				extra: []Option{WithResolver(dns.Resolver())}})
			err := a.m.Connect(ctxT(t), a.jid)
			if err == nil {
				t.Fatal("connected to a server DNS points nowhere")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tc.want)
			}
			for _, raw := range []string{"dial tcp", "lookup ", "no such host"} {
				if strings.Contains(err.Error(), raw) {
					t.Fatalf("error %q shows the raw Go error %q", err, raw)
				}
			}
			e := a.waitFor(0, "a retry", func(e Event) bool {
				c, ok := e.(ConnectionChanged)
				return ok && c.State == Reconnecting
			}).(ConnectionChanged)
			if e.RetryIn <= 0 || e.Err != err.Error() {
				t.Fatalf("retry event %+v, want a retry with the same reason", e)
			}
			t.Logf("%s: %v", tc.host, err)
		})
	}
}
