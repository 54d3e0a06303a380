package omemo

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering: omemo is a protocol engine like otr (../shared/GUIDE.md):
// no I/O, no clock, no logging of its own, and nothing of XMPP, the
// account loop, the keyring or the UI anywhere below it.
func TestLayering(t *testing.T) {
	list := func(args ...string) []string {
		out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
		if err != nil {
			t.Fatalf("go list %v: %v", args, err)
		}
		return strings.Fields(string(out))
	}
	for _, d := range list("-f", `{{join .Imports " "}}`, ".") {
		switch d {
		case "net", "os", "log", "time", "os/exec", "io/ioutil":
			t.Errorf("omemo imports %s", d)
		}
	}
	deps := list("-deps", ".")
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed only %v", deps)
	}
	for _, d := range deps {
		for _, bad := range []string{"mellium.im/", "fyne.io/", "github.com/zalando/",
			"github.com/sotto-im/sotto/account", "github.com/sotto-im/sotto/ui",
			"github.com/sotto-im/sotto/secret", "github.com/sotto-im/sotto/otr"} {
			if strings.HasPrefix(d, bad) {
				t.Errorf("omemo depends on %s", d)
			}
		}
	}
}
