package account

// Connecting through a real SOCKS5 proxy (microsocks) while a real DNS
// server (dnsmasq, --log-queries) watches for any lookup of our own.

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/internal/testbed"
)

// TestSOCKS5ProxyNoLocalDNS: alice@example.test signs in through the
// proxy. example.test is a name only the proxy can resolve (its private
// /etc/hosts); the test's DNS server, which Sotto is told to use and
// which has SRV and address records for example.test, sees no query at
// all, neither for that sign-in (a port typed, so no SRV) nor for a
// second account with nothing typed (where Sotto without a proxy would
// look up SRV records): the proxy is handed the name.
func TestSOCKS5ProxyNoLocalDNS(t *testing.T) {
	srv := testbed.Start(t, testbed.WithHost("example.test"))
	dns := testbed.StartDNS(t, testbed.DNSRecords{
		SRV:   []testbed.SRVRecord{{Name: "_xmpp-client._tcp.example.test", Target: "xmpp.example.test", Port: port(t, srv.Addr())}},
		Hosts: map[string]string{"xmpp.example.test": "127.0.0.1", "example.test": "127.0.0.1"},
	})
	socks := testbed.StartSOCKS(t, testbed.SOCKSOptions{User: "tor", Password: "proxy-secret-pw",
		Hosts: map[string]string{"example.test": "127.0.0.1"}})
	viaProxy := func(s *Settings) {
		s.ProxyHost, s.ProxyPort, s.ProxyUser, s.ProxyPassword = socks.Host(), socks.Port(), "tor", "proxy-secret-pw"
	}
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), host: "example.test", realDial: true,
		extra:    []Option{WithResolver(dns.Resolver())},
		settings: func(s *Settings) { viaProxy(s); s.Port = port(t, srv.Addr()) }})
	a.connect()
	if !strings.Contains(socks.Log(), "example.test") {
		t.Fatalf("the proxy never connected anyone to example.test; its log:\n%s", socks.Log())
	}

	// Nothing typed: without the proxy this account would ask DNS for
	// SRV records. Through it, the name goes to the proxy, which finds
	// nothing on example.test's default port and says so.
	b := newPeer(t, srv, "bob", peerOpts{roots: srv.CertPool(), host: "example.test", realDial: true,
		extra: []Option{WithResolver(dns.Resolver())}, settings: viaProxy})
	// (Whatever answers on example.test's default port through the proxy
	// — usually nothing; on a developer's machine maybe another local
	// server — bob's sign-in fails; what matters is the DNS log below.)
	err := b.m.Connect(ctxT(t), b.jid)
	if err == nil {
		t.Fatal("bob signed in on example.test's default port through the proxy; nothing of the test listens there")
	}
	t.Logf("bob: %v", err)

	// The sentinel: a query of ours that dnsmasq logged, so everything
	// asked before it is in the log too.
	sentinel := dns.Sentinel(t)
	for _, q := range dns.Queries() {
		if !strings.HasSuffix(q, " "+sentinel) {
			t.Fatalf("the DNS server saw a lookup while a proxy was set: %q (all: %q)", q, dns.Queries())
		}
	}

	// The proxy password went to the secret store, never the profile.
	pw, err := a.secrets.Get(context.Background(), proxyPasswordKey(a.jid))
	if err != nil || string(pw) != "proxy-secret-pw" {
		t.Fatalf("stored proxy password %q, %v", pw, err)
	}
	if s := a.m.Accounts()[0]; s.ProxyPassword != "" || s.ProxyUser != "tor" {
		t.Fatalf("settings handed out %+v", s)
	}
	assertNotInDir(t, a.profile.Dir, "proxy-secret-pw")
}

// TestSOCKS5ProxyRefuses: a proxy that is not running, and one that
// refuses our password, each give a plain message; the wrong password
// is not retried, the absent proxy is.
func TestSOCKS5ProxyRefuses(t *testing.T) {
	srv := testbed.Start(t)
	socks := testbed.StartSOCKS(t, testbed.SOCKSOptions{User: "tor", Password: "right"})
	for _, tc := range []struct {
		name  string
		set   func(*Settings)
		want  string
		state ConnState
	}{
		{"not running", func(s *Settings) { s.ProxyHost, s.ProxyPort = "127.0.0.1", closedPort(t) },
			"the proxy does not answer (the connection was refused (nothing is listening there)); is it running?", Reconnecting},
		{"wrong password", func(s *Settings) {
			s.ProxyHost, s.ProxyPort, s.ProxyUser, s.ProxyPassword = socks.Host(), socks.Port(), "tor", "wrong"
		}, "the proxy refused the user name or password", Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), realDial: true,
				settings: func(s *Settings) { tc.set(s); s.Port = port(t, srv.Addr()) }})
			err := a.m.Connect(ctxT(t), a.jid)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			a.waitFor(0, tc.state.String(), func(e Event) bool {
				c, ok := e.(ConnectionChanged)
				return ok && c.State == tc.state && c.Err == err.Error()
			})
			t.Logf("%v", err)
		})
	}
}

// assertNotInDir fails if any file under dir contains needle.
func assertNotInDir(t *testing.T, dir, needle string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if strings.Contains(string(b), needle) {
			t.Errorf("%s holds %q", path, needle)
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("scanned %d files in %s: %v", files, dir, err)
	}
}
