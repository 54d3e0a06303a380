package testbed

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// domain is the only virtual host. "localhost" resolves without DNS and is
// in the certificate's SAN.
const domain = "localhost"

// startTimeout bounds how long Start waits for Prosody to listen. It
// normally listens within 100 ms; a loaded 2-core CI box can be slower.
const startTimeout = 15 * time.Second

// Server is one running (or stopped) private Prosody.
type Server struct {
	dir     string // temp dir with config, certs, data, logs
	config  string
	logPath string
	outPath string
	port    int // STARTTLS c2s port
	tlsPort int // direct TLS c2s port
	certPEM []byte
	pool    *x509.CertPool
	opt     options
	// hibernate: seconds a dropped session waits to be resumed (XEP-0198).
	hibernate int

	mu   sync.Mutex
	proc *process // nil when stopped
}

// Option changes the test server's setup.
type Option func(*options)

type options struct {
	hosts         []string      // virtual hosts besides "localhost"
	registration  bool          // XEP-0077 in-band registration on
	preferPort    int           // STARTTLS port tried first (WithPort)
	hibernation   time.Duration // XEP-0198 resumption window (WithHibernation)
	modules       []string      // extra modules_enabled entries (WithModules)
	productionLog bool          // info-level log, no mod_stanza_debug (WithProductionLog)
}

// san is the certificate's subjectAltName: localhost, 127.0.0.1 and every
// extra virtual host (RFC 6120 §13.7.2: the client checks the JID's
// domain, not the host it dialed).
func (o options) san() string {
	san := "DNS:localhost,IP:127.0.0.1"
	for _, h := range o.hosts {
		san += ",DNS:" + h
	}
	return san
}

// WithHost serves a second virtual host named domain (e.g. "example.test"
// for a JID found through DNS SRV); the certificate covers it too.
func WithHost(domain string) Option {
	return func(o *options) { o.hosts = append(o.hosts, domain) }
}

// WithPort is the STARTTLS port tried first (0 = any free port): the
// first-run script asks for XMPP's standard 5222 so that the wizard needs
// no port, as with a real server. When that port is taken the server
// falls back to a free one; Addr says which.
func WithPort(port int) Option { return func(o *options) { o.preferPort = port } }

// WithRegistration turns on in-band registration (XEP-0077,
// mod_register_ibr with allow_registration = true). Off by default, like
// a server that does not let strangers create accounts.
func WithRegistration() Option { return func(o *options) { o.registration = true } }

// WithModules loads more Prosody modules by name (e.g. "pep", "offline"
// for OMEMO peers: device lists and bundles live in PEP, and a message to
// a peer that is not signed in waits in offline storage).
func WithModules(names ...string) Option {
	return func(o *options) { o.modules = append(o.modules, names...) }
}

// WithProductionLog runs Prosody as a production server logs: at info
// level, without mod_stanza_debug. StanzaLog is then empty, so only
// benchmarks use it: writing every stanza to the debug log is most of
// the test-bed server's CPU time per message (BenchmarkRoundTrip).
func WithProductionLog() Option { return func(o *options) { o.productionLog = true } }

// DefaultHibernation is how long a dropped client session waits for a
// XEP-0198 resumption unless WithHibernation says otherwise: short, so a
// client whose link is cut shows offline to its contacts within seconds.
const DefaultHibernation = 3 * time.Second

// WithHibernation is how long a dropped session may be resumed
// (mod_smacks' smacks_hibernation_time; whole seconds, at least 1).
func WithHibernation(d time.Duration) Option { return func(o *options) { o.hibernation = d } }

// Start runs a fresh Prosody for the test and stops it in t.Cleanup.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	requireTools(t)
	s, err := StartServer(t.TempDir(), opts...)
	if s != nil {
		// Kill, not Stop: a clean shutdown waits about a second for
		// clients to close their streams, which only slows the tests down.
		t.Cleanup(s.Kill)
	}
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Logf("testbed: prosody listening on %s (direct TLS %s), dir %s", s.Addr(), s.DirectTLSAddr(), s.dir)
	return s
}

// StartServer runs a fresh Prosody whose config, certificate, data and
// logs live in dir (which must exist and should be empty). It is the
// entry point for programs that are not tests (the demo); the caller
// stops the server with Close, Stop or Kill. On error the returned
// Server, when not nil, is already stopped and its diagnostics are in the
// error.
func StartServer(dir string, opts ...Option) (*Server, error) {
	for _, tool := range []string{"prosody", "prosodyctl", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("testbed: %s not found (apt-get install prosody lua-unbound openssl): %w", tool, err)
		}
	}
	s := &Server{dir: dir, hibernate: int(DefaultHibernation / time.Second)}
	for _, f := range opts {
		f(&s.opt)
	}
	if s.opt.hibernation > 0 {
		s.hibernate = max(1, int(s.opt.hibernation/time.Second))
	}
	s.config = filepath.Join(s.dir, "prosody.cfg.lua")
	s.logPath = filepath.Join(s.dir, "prosody.log")
	s.outPath = filepath.Join(s.dir, "prosody.out")
	// Makes dir itself too (0700) when it does not exist yet.
	if err := os.MkdirAll(filepath.Join(s.dir, "data"), 0o700); err != nil {
		return nil, fmt.Errorf("testbed: %w", err)
	}
	if err := s.makeCert(); err != nil {
		return nil, fmt.Errorf("testbed: %w", err)
	}
	// A port picked free can be taken before Prosody binds it; try again
	// with new ports a few times.
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if s.port, s.tlsPort, err = freePorts(); err != nil {
			return s, err
		}
		if attempt == 0 && s.opt.preferPort != 0 {
			if l, lerr := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.opt.preferPort))); lerr == nil {
				l.Close()
				s.port = s.opt.preferPort
			}
		}
		if err = s.writeConfig(); err != nil {
			return s, fmt.Errorf("testbed: %w", err)
		}
		if err = s.start(); err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortBusy) {
			break
		}
	}
	return s, fmt.Errorf("testbed: %w\n%s", err, s.diagnostics())
}

// Close stops the server at once (like Kill); for programs that are not
// tests.
func (s *Server) Close() { s.Kill() }

// Register creates user name with the given password via prosodyctl; it
// works while the server runs. AddUser is the test helper over it.
func (s *Server) Register(name, password string) (jid string, err error) {
	return s.RegisterAt(name, domain, password)
}

// RegisterAt creates name@host (host is "localhost" or one given with
// WithHost).
func (s *Server) RegisterAt(name, host, password string) (jid string, err error) {
	cmd := exec.Command("prosodyctl", "--config", s.config, "register", name, host, password)
	cmd.Dir = s.dir
	cmd.Env = s.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testbed: prosodyctl register %s: %w\n%s", name, err, out)
	}
	return name + "@" + host, nil
}

// RandomPassword is a fresh random password like the ones AddUser makes.
func RandomPassword() string { return randomToken(12) }

// requireTools skips (or fails under CI=true) when a tool is missing.
func requireTools(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"prosody", "prosodyctl", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("testbed: %s not found (apt-get install prosody lua-unbound openssl): %v", tool, err)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// Addr is the STARTTLS c2s address, "127.0.0.1:port".
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// DirectTLSAddr is the direct TLS (XEP-0368) c2s address.
func (s *Server) DirectTLSAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.tlsPort))
}

// Domain is the server's only virtual host, "localhost".
func (s *Server) Domain() string { return domain }

// Dir is the server's private directory (config, data, logs).
func (s *Server) Dir() string { return s.dir }

// CertPEM is the server's self-signed certificate in PEM form.
func (s *Server) CertPEM() []byte { return append([]byte(nil), s.certPEM...) }

// CertPool is a pool holding only the server's certificate.
func (s *Server) CertPool() *x509.CertPool { return s.pool.Clone() }

// TLSConfig is a client TLS config that trusts the server's certificate.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{ServerName: domain, RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12}
}

// AddUser registers a new user with a random password via prosodyctl and
// returns its bare JID and password. It works while the server runs.
func (s *Server) AddUser(t testing.TB, name string) (jid, password string) {
	t.Helper()
	password = randomToken(12)
	jid, err := s.Register(name, password)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return jid, password
}

// AddUserAt is AddUser on another virtual host (see WithHost).
func (s *Server) AddUserAt(t testing.TB, name, host string) (jid, password string) {
	t.Helper()
	password = randomToken(12)
	jid, err := s.RegisterAt(name, host, password)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return jid, password
}

// Log is Prosody's whole debug log so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// StanzaLog returns the mod_stanza_debug lines ("RECV: <...>" and
// "SEND: <...>") of every stanza the server received or sent so far.
func (s *Server) StanzaLog() string { return linesWith(s.Log(), "RECV: ", "SEND: ") }

// linesWith keeps the lines of log that contain any of marks.
func linesWith(log string, marks ...string) string {
	var out strings.Builder
	for _, line := range strings.Split(log, "\n") {
		for _, m := range marks {
			if strings.Contains(line, m) {
				out.WriteString(line)
				out.WriteByte('\n')
				break
			}
		}
	}
	return out.String()
}

// PID is the Prosody process id, 0 when stopped.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// Running reports whether the Prosody process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && !s.proc.exited()
}

// Stop terminates Prosody (SIGTERM, then SIGKILL after 5 s) and waits for
// it. Data and logs stay, so Restart brings the same server back. Stop is
// idempotent.
func (s *Server) Stop() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.stop(5 * time.Second)
	}
}

// Kill ends Prosody with SIGKILL: clients see the TCP connection drop
// without a closing stream, like a crashed server. Prosody writes its
// internal storage synchronously, so data survives for Restart.
func (s *Server) Kill() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.stop(0)
	}
}

// Restart starts a stopped server again on the same ports with the same
// data directory (Stop first if it is running).
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		t.Fatalf("testbed: restart: %v\n%s", err, s.diagnostics())
	}
	t.Logf("testbed: prosody restarted on %s", s.Addr())
}

var errPortBusy = errors.New("testbed: port busy")

// start launches Prosody and waits until both c2s ports accept.
func (s *Server) start() error {
	out, err := os.OpenFile(s.outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	logStart := fileSize(s.logPath)
	cmd := exec.Command("prosody", "--config", s.config)
	cmd.Dir = s.dir
	cmd.Env = s.env()
	cmd.Stdout, cmd.Stderr = out, out
	p, err := launch(cmd)
	if err != nil {
		return fmt.Errorf("testbed: start prosody: %w", err)
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if p.exited() {
			s.Stop()
			return errors.New("testbed: prosody exited during start")
		}
		if tail := readFrom(s.logPath, logStart); strings.Contains(tail, "Failed to open server port") {
			s.Stop()
			return errPortBusy
		}
		if listening(s.Addr()) && listening(s.DirectTLSAddr()) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	return fmt.Errorf("testbed: prosody not listening after %v", startTimeout)
}

// env gives Prosody a HOME inside its dir so nothing lands in the real one.
func (s *Server) env() []string {
	return append(os.Environ(), "HOME="+s.dir)
}

func (s *Server) diagnostics() string {
	out, _ := os.ReadFile(s.outPath)
	log := s.Log()
	if len(log) > 4000 {
		log = log[len(log)-4000:]
	}
	return fmt.Sprintf("--- prosody output:\n%s\n--- log tail:\n%s", out, log)
}

func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// freePorts asks the kernel for two free loopback ports.
func freePorts() (int, int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < 2; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, 0, fmt.Errorf("testbed: find free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports[0], ports[1], nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func readFrom(path string, off int64) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < off {
		return ""
	}
	return string(bytes.TrimSpace(b[off:]))
}
