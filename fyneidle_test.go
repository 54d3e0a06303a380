package main

import (
	"os"
	"runtime/debug"
	"strings"
	"testing"
)

// TestBuiltWithIdleFyne: the builds and tests that scripts/goenv.sh sets
// up (make run, make test, make dist, the GUI scripts) use the copy of
// Fyne whose main loop waits for events (third_party/fyneidle), not the
// module cache's, which polls at 60 Hz. A plain `go test` outside those
// scripts builds with Fyne's own loop and says so.
func TestBuiltWithIdleFyne(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info in the test binary")
	}
	for _, d := range bi.Deps {
		if d.Path != "fyne.io/fyne/v2" {
			continue
		}
		if d.Version != "v2.7.1" {
			t.Fatalf("Fyne %s; third_party/fyneidle is made for v2.7.1", d.Version)
		}
		if d.Replace != nil && strings.HasSuffix(d.Replace.Path, "build/fyne-idle") {
			return
		}
		if os.Getenv("CI") == "" && !strings.Contains(os.Getenv("GOFLAGS"), "-modfile=") {
			t.Skip("built outside scripts/goenv.sh: Fyne's own 60 Hz loop")
		}
		t.Fatalf("Fyne comes from %v, not the idle copy build/fyne-idle (scripts/goenv.sh)", d.Replace)
	}
	t.Fatal("the test binary does not link Fyne")
}
