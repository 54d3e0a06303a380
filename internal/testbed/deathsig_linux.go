package testbed

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel SIGKILL Prosody when the test binary
// dies (panic, test timeout, SIGKILL), so no server is left behind.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
