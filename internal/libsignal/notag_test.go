//go:build !libsignal

package libsignal

import (
	"os"
	"testing"
)

// Without the build tag the interop suite is not compiled. Under CI that
// is a failure, never a silent skip: make test passes -tags libsignal.
func TestOMEMOInteropLibsignalC(t *testing.T) {
	if os.Getenv("CI") == "true" {
		t.Fatal("built without -tags libsignal: the libsignal-protocol-c interop suite did not run")
	}
	t.Skip("needs -tags libsignal and libsignal-protocol-c-dev (scripts/deps.sh test)")
}
