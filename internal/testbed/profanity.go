package testbed

// Profanity 0.13.1 (Debian's, built with OMEMO) as an independent OMEMO
// peer, driven through a detached tmux session.
//
// What profanity 0.13.1 does, read in its source (tag 0.13.1) and seen in
// TestProfanityOMEMO against Prosody 0.12:
//
//   - OMEMO is the legacy "siacs" version only (XEP-0384 v0.3):
//     eu.siacs.conversations.axolotl, device list node
//     eu.siacs.conversations.axolotl.devicelist, bundles in
//     eu.siacs.conversations.axolotl.bundles:<device id>, AES-128-GCM
//     payload, the 16-byte tag appended to the key inside the Signal
//     message. It sends a <body> fallback ("You received a message
//     encrypted with OMEMO but your client doesn't support OMEMO.").
//   - It never creates its own device list on Prosody: when the node
//     does not exist Prosody answers item-not-found without the legacy
//     code="404", profanity's handler then drops the answer (it only
//     treats code 404 as "empty") and never publishes its device. The
//     driver works around it by publishing an empty list first when the
//     account has none (an existing list, e.g. with Sotto's device, is
//     left alone); profanity then adds its own device.
//   - It asks for publish-options (access model "open") only when the
//     server's own disco#info lists pubsub#publish-options, which
//     Prosody 0.12's does not ("Cannot publish bundle: no PUBSUB feature
//     announced" in its log), so bundle and list get Prosody's default
//     access model, "presence": a peer must be subscribed to fetch them. It learns a contact's
//     devices only when asked (/omemo start, opening a chat with OMEMO
//     on, an incoming message) or from a +notify PEP event; no
//     explicit pubsub subscription.
//   - Trust mode "manual" (the default): it builds sessions and encrypts
//     only for trusted devices; "/omemo trust <jid> <fp>" trusts one
//     device (which must have been fetched first, else "Cannot trust
//     unknown device") and fetches its bundle again to start the
//     session. No prompt: a message to a contact with no trusted device
//     is refused ("This message cannot be decrypted for any
//     recipient") and nothing is sent.
//   - It decrypts messages from untrusted devices. Only a PreKey
//     message's identity is checked; an untrusted one is drawn in the
//     THEME_UNTRUSTED colour, with no text marker; later messages in an
//     established session always count as trusted.
//   - A message it cannot decrypt (no key for its device, a broken key)
//     is shown and logged as a plain message with the stanza's <body>,
//     the sender's fallback text; without a <body> it is dropped
//     silently.
//   - The fingerprint is the 32-byte Curve25519 identity key (without
//     the 0x05 type byte) in lowercase hex, shown in groups of 8 joined
//     by '-'. Fingerprint returns it without the dashes.
//   - Chat logs (chlog, "/omemo log on" by default) hold the plaintext
//     of OMEMO messages in $XDG_DATA_HOME/profanity/chatlogs; here they
//     are test messages in the test's temp dir, which the driver reads
//     back (Messages).
//   - TLS: the account's tls.policy "force" verifies the certificate
//     against the tls.certpath directory and OpenSSL's defaults
//     (SSL_CERT_DIR, SSL_CERT_FILE). Debian's ssl-cert snakeoil
//     certificate in /etc/ssl/certs has the same subject (CN=localhost)
//     and so the same hash name as the test server's, and OpenSSL stops
//     at the first file of that name: the driver points SSL_CERT_DIR and
//     SSL_CERT_FILE at the test server's certificate only, so the
//     connection is verified without "tls.policy trust" or "/tls allow".

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/stanza"
)

// profanityWait bounds each wait on profanity; every step normally takes
// well under a second.
const profanityWait = 20 * time.Second

// Profanity is one running profanity, logged in to a test server.
type Profanity struct {
	t        testing.TB
	jid      string // bare
	account  string // profanity's account name
	dir      string
	data     string // $XDG_DATA_HOME/profanity
	sock     string // the private tmux server's socket
	env      []string
	server   *process
	client   *peerClient
	deviceID string
}

// ChatLine is one line of profanity's chat log with a contact.
type ChatLine struct {
	Time     string // as profanity wrote it (ISO 8601)
	Outgoing bool
	From     string // the contact's bare JID, or "me"
	Text     string
}

// StartProfanity runs profanity in a detached tmux session with its own
// HOME and XDG directories under t.TempDir(), logs in to srv as jid and
// stops it in t.Cleanup. Without profanity, tmux or setpriv the test is
// skipped, or failed under CI=true.
func StartProfanity(t testing.TB, srv XMPP, jid, password string) *Profanity {
	t.Helper()
	requireTool(t, "profanity", "profanity")
	requireTool(t, "tmux", "tmux")
	requireTool(t, "setpriv", "util-linux")
	requireTool(t, "openssl", "openssl")
	if out, err := exec.Command("profanity", "--version").Output(); err == nil &&
		!strings.Contains(string(out), "version 0.13.1") {
		t.Logf("testbed: the profanity driver was written for 0.13.1, this is %s",
			strings.SplitN(string(out), "\n", 2)[0])
	}
	local, _, ok := strings.Cut(jid, "@")
	if !ok || local == "" {
		t.Fatalf("testbed: StartProfanity wants a bare JID, got %q", jid)
	}
	p := &Profanity{t: t, jid: jid, account: local, dir: t.TempDir()}
	p.data = filepath.Join(p.dir, "data", "profanity")
	p.sock = filepath.Join(p.dir, "tmux.sock")
	if len(p.sock) > 100 {
		// A unix socket path must stay under 108 bytes; a long test
		// name makes a long temp dir.
		sockDir, err := os.MkdirTemp("", "sotto-tmux-")
		if err != nil {
			t.Fatalf("testbed: %v", err)
		}
		t.Cleanup(func() { os.RemoveAll(sockDir) })
		p.sock = filepath.Join(sockDir, "sock")
	}
	if err := p.writeFiles(srv); err != nil {
		t.Fatalf("testbed: profanity setup: %v", err)
	}
	c, err := dialPeerClient(srv, jid, password, "testbed")
	if err != nil {
		t.Fatalf("%v", err)
	}
	p.client = c
	t.Cleanup(c.close)
	var se stanza.Error
	switch err := c.seedDeviceList(); {
	case errors.As(err, &se) && (se.Condition == stanza.ServiceUnavailable || se.Condition == stanza.FeatureNotImplemented):
		// Fine for OTR; OMEMO needs testbed.WithModules("pep").
		t.Logf("testbed: the server has no PEP (%v): profanity will have no OMEMO", err)
	case err != nil:
		t.Fatalf("testbed: seeding %s's OMEMO device list: %v", jid, err)
	}
	if err := p.startTmux(); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	p.WaitScreen("Welcome to Profanity")
	p.Type("/connect " + p.account)
	p.WaitScreen("Enter password:")
	p.Type(password)
	p.waitScreenRE(regexp.MustCompile(`logged in successfully|Login failed|Connection failed`))
	if !strings.Contains(p.Screen(), "logged in successfully") {
		p.fatalf("profanity did not log in as %s", jid)
	}
	t.Logf("testbed: profanity logged in as %s, dir %s", jid, p.dir)
	return p
}

// writeFiles lays out HOME, XDG dirs, profrc, accounts and the trust
// store for the server's certificate.
func (p *Profanity) writeFiles(srv XMPP) error {
	home := filepath.Join(p.dir, "home")
	config := filepath.Join(p.dir, "config")
	certs := filepath.Join(p.dir, "certs")
	for _, d := range []string{home, filepath.Join(config, "profanity"), p.data, certs} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	crt := filepath.Join(certs, "server.pem")
	if err := os.WriteFile(crt, srv.CertPEM(), 0o600); err != nil {
		return err
	}
	out, err := exec.Command("openssl", "x509", "-hash", "-noout", "-in", crt).Output()
	if err != nil {
		return fmt.Errorf("openssl x509 -hash: %w", err)
	}
	if err := os.Symlink("server.pem", filepath.Join(certs, strings.TrimSpace(string(out))+".0")); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		return err
	}
	// Only what the tests depend on: verified TLS, OMEMO messages in
	// the chat log, manual trust, no desktop notifications, no auto-away.
	profrc := "[connection]\ntls.certpath=" + certs + "\n" +
		"[ui]\nsplash=false\n" +
		"[notifications]\nmessage=false\nroom=false\n" +
		"[logging]\nchlog=true\n" +
		"[omemo]\nlog=on\ntrustmode=manual\n" +
		"[presence]\nautoaway.mode=off\n"
	if err := os.WriteFile(filepath.Join(config, "profanity", "profrc"), []byte(profrc), 0o600); err != nil {
		return err
	}
	accounts := fmt.Sprintf("[%s]\nenabled=true\njid=%s\nresource=profanity\nserver=%s\nport=%s\ntls.policy=force\n",
		p.account, p.jid, host, port)
	if err := os.WriteFile(filepath.Join(p.data, "accounts"), []byte(accounts), 0o600); err != nil {
		return err
	}
	p.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + config,
		"XDG_DATA_HOME=" + filepath.Join(p.dir, "data"),
		"XDG_RUNTIME_DIR=" + p.dir,
		"LANG=C.UTF-8",
		"TERM=xterm-256color",
		// Only the test server's certificate (see the TLS note above).
		"SSL_CERT_FILE=" + crt,
		"SSL_CERT_DIR=" + certs,
		// No desktop session: libnotify and gpgme find no bus to talk to.
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(p.dir, "no-bus"),
	}
	return nil
}

// startTmux runs a private tmux server in the foreground (-D) as a child
// of the test binary, with the death signal, and profanity in a session
// of it under setpriv --pdeathsig, so both die with the test binary.
func (p *Profanity) startTmux() error {
	cmd := exec.Command("tmux", "-S", p.sock, "-f", "/dev/null", "-D")
	cmd.Dir = p.dir
	cmd.Env = p.env
	logf, err := os.OpenFile(filepath.Join(p.dir, "tmux.out"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	proc, err := launch(cmd)
	if err != nil {
		return fmt.Errorf("start tmux: %w", err)
	}
	p.server = proc
	p.t.Cleanup(func() { proc.stop(0) })
	deadline := time.Now().Add(startTimeout)
	for {
		if proc.exited() {
			out, _ := os.ReadFile(filepath.Join(p.dir, "tmux.out"))
			return fmt.Errorf("tmux server exited during start:\n%s", out)
		}
		if c, err := net.Dial("unix", p.sock); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("tmux server not listening after %v", startTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// remain-on-exit keeps a crashed profanity's last screen for the
	// diagnostics; a wide pane keeps fingerprints on one line.
	if _, err := p.tmux("set-option", "-g", "remain-on-exit", "on"); err != nil {
		return err
	}
	_, err = p.tmux("new-session", "-d", "-s", "prof", "-x", "240", "-y", "60",
		"setpriv", "--pdeathsig", "KILL", "--",
		"profanity", "-l", "DEBUG")
	return err
}

func (p *Profanity) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-S", p.sock}, args...)...)
	cmd.Env = p.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("tmux %s: %w: %s", args[0], err, out)
	}
	return string(out), nil
}

// JID is the account's bare JID.
func (p *Profanity) JID() string { return p.jid }

// Dir is profanity's private directory (HOME, XDG dirs, tmux socket).
func (p *Profanity) Dir() string { return p.dir }

// PIDs are the process ids of the private tmux server and of profanity
// (0 when unknown), for tests of process lifetime.
func (p *Profanity) PIDs() (tmux, profanity int) {
	tmux = p.server.cmd.Process.Pid
	out, err := p.tmux("display-message", "-p", "-t", "prof", "#{pane_pid}")
	if err == nil {
		profanity, _ = strconv.Atoi(strings.TrimSpace(out))
	}
	return tmux, profanity
}

// Type types line into profanity and presses Enter.
func (p *Profanity) Type(line string) {
	p.t.Helper()
	if _, err := p.tmux("send-keys", "-t", "prof", "-l", "--", line); err != nil {
		p.fatalf("typing into profanity: %v", err)
	}
	if _, err := p.tmux("send-keys", "-t", "prof", "Enter"); err != nil {
		p.fatalf("typing into profanity: %v", err)
	}
}

// Screen is what profanity's terminal shows now (wrapped lines joined).
// profanity draws with ncurses on the alternate screen, so there is no
// scroll-back: only the visible 60 lines.
func (p *Profanity) Screen() string {
	out, err := p.tmux("capture-pane", "-p", "-J", "-t", "prof")
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return out
}

// WaitScreen waits until the screen shows text and returns the screen.
func (p *Profanity) WaitScreen(text string) string {
	p.t.Helper()
	return p.waitScreenRE(regexp.MustCompile(regexp.QuoteMeta(text)))
}

func (p *Profanity) waitScreenRE(re *regexp.Regexp) string {
	p.t.Helper()
	var screen string
	p.poll("the screen to show "+re.String(), func() (bool, error) {
		screen = p.Screen()
		return re.MatchString(screen), nil
	})
	return screen
}

// poll checks cond until it holds, failing the test after profanityWait.
func (p *Profanity) poll(what string, cond func() (bool, error)) {
	p.t.Helper()
	deadline := time.Now().Add(profanityWait)
	var last error
	for {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		if p.server.exited() {
			p.fatalf("the tmux server ended while waiting for %s", what)
		}
		if time.Now().After(deadline) {
			p.fatalf("timed out after %v waiting for %s (last error: %v)", profanityWait, what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Log is profanity's debug log so far (-l DEBUG: every stanza, OMEMO
// steps; it holds no plaintext of OMEMO messages, which profanity only
// writes to its chat log).
func (p *Profanity) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.data, "logs", "profanity.log"))
	return string(b)
}

// fatalf fails the test with the screen and the tail of profanity's log.
func (p *Profanity) fatalf(format string, args ...any) {
	p.t.Helper()
	log := p.Log()
	if len(log) > 4000 {
		log = log[len(log)-4000:]
	}
	p.t.Fatalf("testbed: profanity %s: %s\n--- screen:\n%s\n--- log tail:\n%s",
		p.jid, fmt.Sprintf(format, args...), p.Screen(), log)
}
