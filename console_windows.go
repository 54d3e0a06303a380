package main

import (
	"os"
	"syscall"
)

// attachConsole makes --version and --help readable when sotto.exe is run
// from a command prompt. The release build is a GUI-subsystem program
// (-H=windowsgui, so a double-click opens no console window), and such a
// program starts without a console: it borrows its parent's, if any.
func attachConsole() {
	const attachParentProcess = ^uintptr(0) // ATTACH_PARENT_PROCESS, (DWORD)-1
	r, _, _ := syscall.NewLazyDLL("kernel32.dll").NewProc("AttachConsole").Call(attachParentProcess)
	if r == 0 {
		return // started from Explorer: there is no console to write to
	}
	if f, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0); err == nil {
		os.Stdout, os.Stderr = f, f
	}
}
