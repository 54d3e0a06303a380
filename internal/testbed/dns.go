package testbed

// A private DNS server (dnsmasq) on 127.0.0.1 for tests of DNS SRV
// discovery and of "no DNS query at all" (a SOCKS5 proxy resolves names).
//
// dnsmasq runs in the foreground with its own config file (-C, so
// /etc/dnsmasq.conf and /etc/dnsmasq.d are never read), on a free
// port (never 53), bound to 127.0.0.1 only, with no upstream servers
// (--no-resolv), no /etc/hosts (--no-hosts), and every name under .test
// answered locally (a name we did not configure is NXDOMAIN, not a
// forwarded query). --log-queries writes each query to a log file the
// test reads back.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SRVRecord is one DNS SRV record: Name like
// "_xmpp-client._tcp.example.test", the Target host and Port.
type SRVRecord struct {
	Name   string
	Target string
	Port   int
}

// DNSRecords is what the test DNS server answers.
type DNSRecords struct {
	SRV   []SRVRecord
	Hosts map[string]string // name -> IPv4 or IPv6 address
}

// DNS is one running dnsmasq.
type DNS struct {
	dir     string
	logPath string
	port    int
	proc    *process
}

// StartDNS runs dnsmasq serving recs for the test and kills it in
// t.Cleanup. Without dnsmasq the test is skipped, or failed under CI=true.
func StartDNS(t testing.TB, recs DNSRecords) *DNS {
	t.Helper()
	requireTool(t, "dnsmasq", "dnsmasq")
	d := &DNS{dir: t.TempDir()}
	d.logPath = filepath.Join(d.dir, "queries.log")
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = d.start(recs); err == nil {
			break
		}
		if !errors.Is(err, errPortBusy) {
			break
		}
	}
	if d.proc != nil {
		t.Cleanup(func() { d.proc.stop(0) })
	}
	if err != nil {
		out, _ := os.ReadFile(filepath.Join(d.dir, "dnsmasq.out"))
		t.Fatalf("testbed: dnsmasq: %v\n%s", err, out)
	}
	t.Logf("testbed: dnsmasq on %s, dir %s", d.Addr(), d.dir)
	return d
}

func (d *DNS) start(recs DNSRecords) error {
	port, err := freeUDPTCPPort()
	if err != nil {
		return err
	}
	d.port = port
	lines := []string{
		"port=" + strconv.Itoa(port),
		"listen-address=127.0.0.1",
		"bind-interfaces",
		"no-resolv",
		"no-hosts",
		"no-poll",
		"keep-in-foreground",
		"pid-file=",
		"local=/test/",
		"log-queries",
		"log-facility=" + d.logPath,
	}
	if os.Geteuid() == 0 {
		// dnsmasq drops root to user "dnsmasq" by default, which could
		// not write the log in our temp dir; nothing here needs root
		// (the port is not privileged), so stay who we are.
		lines = append(lines, "user=root")
	}
	for _, r := range recs.SRV {
		lines = append(lines, fmt.Sprintf("srv-host=%s,%s,%d", r.Name, r.Target, r.Port))
	}
	for name, ip := range recs.Hosts {
		lines = append(lines, fmt.Sprintf("host-record=%s,%s", name, ip))
	}
	conf := filepath.Join(d.dir, "dnsmasq.conf")
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	out, err := os.OpenFile(filepath.Join(d.dir, "dnsmasq.out"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command("dnsmasq", "-C", conf)
	cmd.Dir = d.dir
	cmd.Stdout, cmd.Stderr = out, out
	p, err := launch(cmd)
	if err != nil {
		return fmt.Errorf("start dnsmasq: %w", err)
	}
	d.proc = p
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if p.exited() {
			d.proc = nil
			if b, _ := os.ReadFile(filepath.Join(d.dir, "dnsmasq.out")); strings.Contains(string(b), "in use") {
				return errPortBusy
			}
			return errors.New("dnsmasq exited during start")
		}
		if d.answers() {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.stop(0)
	d.proc = nil
	return fmt.Errorf("dnsmasq not answering after %v", startTimeout)
}

// answers reports whether dnsmasq answers a query for a probe name. The
// probe shows up in the query log (Queries drops it).
func (d *DNS) answers() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := d.Resolver().LookupHost(ctx, probeName)
	var de *net.DNSError
	return err == nil || (errors.As(err, &de) && de.IsNotFound)
}

const probeName = "testbed-probe.test"

// Addr is the server's address, "127.0.0.1:port" (UDP and TCP).
func (d *DNS) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(d.port)) }

// Resolver is a pure-Go resolver that sends every query to this server
// (whatever /etc/resolv.conf says). Names in /etc/hosts still resolve
// from there, as for any Go resolver.
func (d *DNS) Resolver() *net.Resolver {
	addr := d.Addr()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var dd net.Dialer
		return dd.DialContext(ctx, network, addr)
	}}
}

// Queries returns the names asked so far, one "TYPE name" per query
// (e.g. "SRV _xmpp-client._tcp.example.test"), without the start-up
// probe.
func (d *DNS) Queries() []string {
	b, _ := os.ReadFile(d.logPath)
	var qs []string
	for _, line := range strings.Split(string(b), "\n") {
		// "... query[SRV] _xmpp-client._tcp.example.test from 127.0.0.1"
		i := strings.Index(line, "query[")
		if i < 0 {
			continue
		}
		f := strings.Fields(line[i+len("query["):])
		if len(f) < 2 {
			continue
		}
		typ := strings.TrimSuffix(f[0], "]")
		if f[1] == probeName {
			continue
		}
		qs = append(qs, typ+" "+f[1])
	}
	return qs
}

// Sentinel asks this server for a fresh name under .test and waits until
// the query is in the log, so every query made before the call is in
// Queries when it returns. It returns the name it asked.
func (d *DNS) Sentinel(t testing.TB) string {
	t.Helper()
	name := "sentinel-" + randomToken(4) + ".test"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = d.Resolver().LookupHost(ctx, name)
	for {
		for _, q := range d.Queries() {
			if strings.HasSuffix(q, " "+name) {
				return name
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("testbed: dnsmasq never logged the sentinel query %s", name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// requireTool skips (or fails under CI=true) when tool is not installed.
func requireTool(t testing.TB, tool, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		msg := fmt.Sprintf("testbed: %s not found (apt-get install %s): %v", tool, pkg, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// freeUDPTCPPort finds a loopback port free for both UDP and TCP.
func freeUDPTCPPort() (int, error) {
	for i := 0; i < 20; i++ {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("testbed: find free port: %w", err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		u.Close()
		if err == nil {
			l.Close()
			return port, nil
		}
	}
	return 0, errors.New("testbed: no port free for both UDP and TCP")
}
