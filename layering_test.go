package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering enforces the dependency direction main → ui → account → otr
// (../shared/GUIDE.md): otr is pure (no I/O, XMPP, Fyne or keyring), account
// never imports Fyne, ui never imports otr or mellium.
func TestLayering(t *testing.T) {
	const mod = "github.com/sotto-im/sotto/"
	rules := []struct {
		pkg string
		// direct: packages the package itself must not import ("x/" = any under x).
		direct []string
		// deep: path prefixes that must not appear anywhere in its deps.
		deep []string
	}{
		{"otr", []string{"net", "os", "log", "os/exec", "net/http"},
			[]string{"mellium.im/", "fyne.io/", "github.com/zalando/", mod + "account", mod + "ui"}},
		{"account", nil, []string{"fyne.io/", mod + "ui"}},
		// ui reaches otr and mellium through account, but never imports them.
		{"ui", []string{mod + "otr", "mellium.im/"}, nil},
	}
	for _, r := range rules {
		direct := goList(t, "-f", "{{join .Imports \"\\n\"}}", "./"+r.pkg)
		for _, d := range direct {
			for _, f := range r.direct {
				if d == f || (strings.HasSuffix(f, "/") && strings.HasPrefix(d, f)) {
					t.Errorf("%s must not import %s", r.pkg, f)
				}
			}
		}
		deps := goList(t, "-deps", "./"+r.pkg)
		if len(deps) < 2 {
			t.Fatalf("go list -deps ./%s listed only %v", r.pkg, deps)
		}
		for _, d := range deps {
			for _, f := range r.deep {
				if strings.HasPrefix(d, f) {
					t.Errorf("%s must not depend on %s (found %s)", r.pkg, f, d)
				}
			}
		}
	}
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", args, err, out)
	}
	return strings.Fields(string(out))
}
