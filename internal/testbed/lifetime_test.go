package testbed_test

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sotto-im/sotto/internal/testbed"
)

// TestServerDiesWithTestBinary runs this test binary again as a child that
// starts a server and hangs; the parent SIGKILLs the child (no cleanup can
// run) and checks that the kernel took Prosody down with it.
func TestServerDiesWithTestBinary(t *testing.T) {
	if os.Getenv("TESTBED_CHILD") == "1" {
		srv := testbed.Start(t)
		os.Stdout.WriteString("PID " + strconv.Itoa(srv.PID()) + "\n")
		time.Sleep(time.Minute)
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("relies on PR_SET_PDEATHSIG (Linux only)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestServerDiesWithTestBinary$", "-test.v")
	cmd.Env = append(os.Environ(), "TESTBED_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	pid := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "PID ") {
			pid, _ = strconv.Atoi(strings.TrimPrefix(sc.Text(), "PID "))
			break
		}
		if strings.Contains(sc.Text(), "SKIP") || strings.Contains(sc.Text(), "FAIL") {
			t.Fatalf("child: %s", sc.Text())
		}
	}
	if pid == 0 {
		t.Fatal("child never reported a prosody pid")
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("prosody %d not running in child: %v", pid, err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		// A zombie still answers kill(0); it is reaped by init shortly.
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && strings.Contains(string(b), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("prosody %d outlived the killed test binary", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("prosody %d ended with the killed test binary", pid)
}

// TestProfanityDiesWithTestBinary: the same for the profanity driver's
// tmux server and the profanity inside it.
func TestProfanityDiesWithTestBinary(t *testing.T) {
	if os.Getenv("TESTBED_CHILD") == "profanity" {
		srv := testbed.Start(t)
		jid, pw := srv.AddUser(t, "alice")
		p := testbed.StartProfanity(t, srv, jid, pw)
		tmux, prof := p.PIDs()
		os.Stdout.WriteString("PIDS " + strconv.Itoa(tmux) + " " + strconv.Itoa(prof) + "\n")
		time.Sleep(time.Minute)
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("relies on PR_SET_PDEATHSIG (Linux only)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProfanityDiesWithTestBinary$", "-test.v")
	cmd.Env = append(os.Environ(), "TESTBED_CHILD=profanity")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var pids []int
	var lines []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "PIDS" {
			for _, s := range f[1:] {
				n, _ := strconv.Atoi(s)
				pids = append(pids, n)
			}
			break
		}
		if strings.Contains(sc.Text(), "--- SKIP") || strings.Contains(sc.Text(), "--- FAIL") {
			t.Fatalf("child: %s", strings.Join(lines, "\n"))
		}
	}
	if len(pids) != 2 || pids[0] == 0 || pids[1] == 0 {
		t.Fatalf("child never reported the tmux and profanity pids:\n%s", strings.Join(lines, "\n"))
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err != nil {
			t.Fatalf("process %d not running in child: %v", pid, err)
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	for _, pid := range pids {
		waitGone(t, pid)
	}
	t.Logf("tmux %d and profanity %d ended with the killed test binary", pids[0], pids[1])
}

// waitGone waits until pid is gone or a zombie.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && strings.Contains(string(b), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d outlived the killed test binary", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
