package testbed

import (
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"
)

// process is one running Prosody.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when Wait returns
}

// live holds every process started and not yet reaped, so Main and KillAll
// can end them whatever the tests did.
var live = struct {
	sync.Mutex
	m map[*process]struct{}
}{m: map[*process]struct{}{}}

func launch(cmd *exec.Cmd) (*process, error) {
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	live.Lock()
	live.m[p] = struct{}{}
	live.Unlock()
	go func() {
		_ = cmd.Wait()
		live.Lock()
		delete(live.m, p)
		live.Unlock()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks Prosody to shut down cleanly (it closes every client stream),
// and kills it if it has not exited after grace; grace <= 0 kills at once.
func (p *process) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	if grace <= 0 {
		_ = p.cmd.Process.Kill()
		<-p.done
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// KillAll kills every Prosody this binary started that is still running.
func KillAll() {
	live.Lock()
	ps := make([]*process, 0, len(live.m))
	for p := range live.m {
		ps = append(ps, p)
	}
	live.Unlock()
	for _, p := range ps {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Main runs the tests and makes sure no Prosody outlives them, also when
// the binary is interrupted. Use it as the package's TestMain.
func Main(m *testing.M) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		KillAll()
		runAtExit()
		os.Exit(130)
	}()
	code := m.Run()
	KillAll()
	runAtExit()
	os.Exit(code)
}
