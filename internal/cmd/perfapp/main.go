//go:build unix

// Command perfapp measures Sotto as an application, for scripts/bench.sh:
// cold start to a drawn roster of 2,000 contacts, the anonymous memory the
// process then holds (RssAnon), and filtering that roster per keystroke
// in the real window. Run it under an X server (Xvfb) in a D-Bus session:
//
//	dbus-run-session -- perfapp -contacts 2000 -runs 3
//
// The parent starts a private Prosody (internal/testbed), registers one
// account and writes its roster of N contacts straight into Prosody's
// store, sets up a profile the way the first-run wizard would (settings,
// certificate pin), and then starts itself as a fresh child process per
// run ("perfapp app", see app.go) that builds the UI exactly as main.go
// does, with the real account.Manager, and reports what it measured on
// stdout. The first run warms the OS and font caches and is not counted.
// Each child starts once the server has been idle for 300 ms (an app
// run leaves Prosody busy for about half a second of CPU).
//
// PERFAPP_AB="K=V ..." adds a third child per round, "app A": the app
// with those variables in its environment (PERFAPP_STARTGOGC=50, say),
// before the app and the bare one; its medians are the PERFAPP_A line.
// PERFAPP_CPUPROFILE and PERFAPP_BARE_CPUPROFILE write each child's
// start-up CPU profile ("%p" in the name becomes its process id).
// The child keeps the account password in memory (given on stdin), not
// in the OS keyring; a keyring read costs about 8 ms (see FACTS.md).
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sotto-im/sotto/account"
	"github.com/sotto-im/sotto/internal/testbed"
	"github.com/sotto-im/sotto/otr"
	"github.com/sotto-im/sotto/secret"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "app" {
		if err := runApp(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "perfapp app:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		if err := runBare(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "perfapp bare:", err)
			os.Exit(1)
		}
		return
	}
	contacts := flag.Int("contacts", 2000, "roster size")
	runs := flag.Int("runs", 3, "measured cold starts (after one warm-up)")
	flag.Parse()
	if err := run(*contacts, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "perfapp:", err)
		os.Exit(1)
	}
}

func run(contacts, runs int) error {
	dir, err := os.MkdirTemp("", "sotto-perf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srvDir := filepath.Join(dir, "prosody") // StartServer makes it, 0700
	srv, err := testbed.StartServer(srvDir)
	if srv != nil {
		defer srv.Close()
	}
	if err != nil {
		return err
	}
	pw := testbed.RandomPassword()
	jid, err := srv.Register("perf", pw)
	if err != nil {
		return err
	}
	if err := writeRoster(srvDir, "perf", contacts); err != nil {
		return err
	}
	profile := filepath.Join(dir, "profile")
	if err := setupProfile(profile, jid, srv, pw); err != nil {
		return err
	}
	// The account's OTR key, made once, as a user's is kept in the keyring:
	// without it every run would generate one (0.3 s of CPU) during the
	// start-up it measures.
	k, err := otr.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	keyFile := filepath.Join(dir, "otr.key")
	if err := os.WriteFile(keyFile, otr.FormatPrivateKeys([]otr.AccountKey{{Account: jid, Protocol: "prpl-jabber", Key: k}}), 0o600); err != nil {
		return err
	}
	os.Setenv("PERFAPP_KEYFILE", keyFile)
	// Sotto and the bare Fyne anchor alternate, run by run, so that both
	// see the same machine; each has its own warm-up run.
	// The warm-up run is the account's first login: no roster cache, so
	// the server sends the whole roster (its login_drawn_ms is the anchor
	// of the reconnect row). Later runs start from the cache it wrote.
	caches, _ := filepath.Glob(filepath.Join(profile, "roster-*.json"))
	for _, c := range caches {
		if err := os.Remove(c); err != nil {
			return err
		}
	}
	var results, bare, resA []map[string]float64
	modes := []string{"app", "bare"}
	if os.Getenv("PERFAPP_AB") != "" {
		modes = []string{"appA", "app", "bare"}
	}
	firstLogin := -1.0
	failed := 0
	for i := 0; i <= runs; i++ {
		for _, mode := range modes {
			// Each child starts with the server idle: an app run's sign-in,
			// reconnect and quit leave Prosody busy for a while (presence
			// for 2,000 contacts), and that would slow whichever child
			// came next (in this loop, always the bare app).
			busy, waited := waitServerQuiet(srv.PID())
			r, err := runChild(mode, dir, profile, jid, pw, contacts)
			if r != nil {
				r["server_busy_ms"], r["quiet_wait_ms"] = ms(busy), ms(waited)
			}
			if err != nil {
				// A run that hangs or fails is reported and retried once,
				// so that one flake does not lose the whole measurement;
				// two in a row fail the benchmark.
				failed++
				fmt.Printf("perfapp: %s run %d failed: %v; retrying\n", mode, i, err)
				if r, err = runChild(mode, dir, profile, jid, pw, contacts); err != nil {
					return fmt.Errorf("%s run %d: %w", mode, i, err)
				}
			}
			if i == 0 {
				if mode == "appA" {
					continue
				}
				if mode == "app" {
					firstLogin = r["login_drawn_ms"]
				}
				continue // warm-up
			}
			if mode == "appA" {
				resA = append(resA, r)
			} else if mode == "bare" {
				bare = append(bare, r)
			} else {
				results = append(results, r)
			}
			fmt.Printf("perfapp: %s run %d: %s\n", mode, i, format(r))
		}
	}
	fmt.Printf("PERFAPP contacts=%d runs=%d failed_runs=%d first_login_drawn_ms=%.2f %s\n", contacts, runs, failed, firstLogin, format(medians(results)))
	if len(resA) > 0 {
		fmt.Printf("PERFAPP_A %s\n", format(medians(resA)))
	}
	fmt.Printf("PERFAPP_BARE contacts=%d runs=%d %s\n", contacts, runs, format(medians(bare)))
	return nil
}

// setupProfile stores the account settings and the pinned server
// certificate, as the wizard would after the user accepted it.
func setupProfile(dir, jid string, srv *testbed.Server, pw string) error {
	p, err := account.OpenProfile(dir)
	if err != nil {
		return err
	}
	pin, err := certPin(srv.CertPEM())
	if err != nil {
		return err
	}
	if err := p.SetCertPin(jid, pin); err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(srv.Addr())
	portN, _ := strconv.Atoi(port)
	s := account.Settings{JID: jid, Server: "127.0.0.1", Port: portN, AutoConnect: true}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return account.NewManager(p, secret.NewMemory()).AddAccount(ctx, s, pw)
}

// runChild starts "perfapp app" (or "perfapp bare") and collects its "perf: key=value" lines.
func runChild(mode, dir, profile, jid, pw string, contacts int) (map[string]float64, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	home := filepath.Join(dir, "home")
	args := []string{"app", "-profile", profile, "-jid", jid, "-contacts", strconv.Itoa(contacts)}
	if mode == "bare" {
		args = []string{"bare", "-contacts", strconv.Itoa(contacts)}
	}
	if mode == "appA" {
		args[0] = "app"
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"), "XDG_DATA_HOME="+filepath.Join(home, ".local/share"))
	if mode == "appA" {
		cmd.Env = append(cmd.Env, strings.Fields(os.Getenv("PERFAPP_AB"))...)
	}
	cmd.Stdin = strings.NewReader(pw)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	cmd.Env = append(cmd.Env, "PERFAPP_T0="+strconv.FormatInt(t0.UnixNano(), 10))
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	res := map[string]float64{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		kv, ok := strings.CutPrefix(line, "perf: ")
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			res[k] = f
		}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return res, fmt.Errorf("child: %w", err)
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		return res, errors.New("child did not exit")
	}
	if _, ok := res["roster_drawn_ms"]; !ok {
		return res, errors.New("child reported no roster_drawn_ms")
	}
	return res, nil
}

func format(r map[string]float64) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%.2f", k, r[k])
	}
	return b.String()
}

// medians is the per-key median over the runs.
func medians(rs []map[string]float64) map[string]float64 {
	out := map[string]float64{}
	if len(rs) == 0 {
		return out
	}
	for k := range rs[0] {
		var vs []float64
		for _, r := range rs {
			if v, ok := r[k]; ok {
				vs = append(vs, v)
			}
		}
		slices.Sort(vs)
		out[k] = vs[len(vs)/2]
	}
	return out
}

// writeRoster writes user's roster of n contacts (subscription "both", ten
// groups) in Prosody 0.12's keyval store, before the first login.
func writeRoster(srvDir, user string, n int) error {
	d := filepath.Join(srvDir, "data", "localhost", "roster")
	if err := os.MkdirAll(d, 0o700); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("return {\n\t[false] = { [\"version\"] = 1; [\"pending\"] = {}; };\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\t[%q] = { [\"subscription\"] = \"both\"; [\"name\"] = %q; [\"groups\"] = { [%q] = true; }; };\n",
			fmt.Sprintf("user%04d@localhost", i), fmt.Sprintf("User %04d", i), fmt.Sprintf("Group %d", i%10))
	}
	b.WriteString("};\n")
	return os.WriteFile(filepath.Join(d, user+".dat"), []byte(b.String()), 0o600)
}

func certPin(pemBytes []byte) (string, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return "", errors.New("server certificate is not PEM")
	}
	if _, err := x509.ParseCertificate(b.Bytes); err != nil {
		return "", err
	}
	return account.CertFingerprint(b.Bytes), nil
}

// waitServerQuiet waits (at most 10 s) until the process pid has used no
// CPU for 300 ms, and returns the CPU time it used meanwhile and how long
// that took.
func waitServerQuiet(pid int) (busy, waited time.Duration) {
	start := time.Now()
	first, ok := procCPU(pid)
	if !ok {
		return 0, 0
	}
	last, still := first, 0
	for still < 3 && time.Since(start) < 10*time.Second {
		time.Sleep(100 * time.Millisecond)
		now, ok := procCPU(pid)
		if !ok {
			break
		}
		if now == last {
			still++
		} else {
			still = 0
		}
		last = now
	}
	return last - first, time.Since(start)
}

// procCPU is the user and system time process pid has used, from
// /proc/pid/stat (in clock ticks of 10 ms, Linux's USER_HZ).
func procCPU(pid int) (time.Duration, bool) {
	if pid <= 0 {
		return 0, false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces; the fields after it are plain.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64) // field 14, utime
	st, err2 := strconv.ParseInt(f[12], 10, 64) // field 15, stime
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, true
}
