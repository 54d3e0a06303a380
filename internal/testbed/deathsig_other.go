//go:build !linux

package testbed

import "os/exec"

// setDeathSignal has no portable equivalent off Linux; Main and t.Cleanup
// still stop the server.
func setDeathSignal(cmd *exec.Cmd) {}
