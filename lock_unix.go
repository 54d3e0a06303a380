//go:build unix

package main

import (
	"os"
	"syscall"
)

// tryLock takes an exclusive advisory lock on f without waiting. The
// kernel drops it when the process ends, however it ends.
func tryLock(f *os.File) bool {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}
