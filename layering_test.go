package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering enforces the dependency direction (../shared/GUIDE.md):
//
//	main → ui → account → (otr, secret, account/internal/{wire,pidgin,history,markup})
//
// otr is pure (no I/O, XMPP, Fyne or keyring); secret knows nothing of
// XMPP, OTR or the UI; the XMPP wire knows nothing of OTR, secrets or the
// account loop; the Pidgin parser and the history store are leaves; account
// never imports Fyne; ui never imports otr, mellium, the keyring or secret;
// main wires and holds no crypto of its own.
func TestLayering(t *testing.T) {
	for _, r := range layerRules {
		checkLayer(t, r)
	}
}

const mod = "github.com/sotto-im/sotto/"

// A pattern ending in "/" matches everything under it; "$" at the end
// matches that package only; anything else matches the package and the
// packages under it.
type layerRule struct {
	pkg string
	// direct: what the package itself must not import.
	direct []string
	// deep: what must not appear anywhere in its dependencies.
	deep []string
}

var (
	noUI      = []string{"fyne.io/", mod + "ui"}
	noKeyring = "github.com/zalando/"
	noCrypto  = []string{"crypto", "golang.org/x/crypto/"}
)

var layerRules = []layerRule{
	{pkg: "otr", direct: []string{"net", "os", "log"},
		deep: append([]string{"mellium.im/", noKeyring, mod + "account", mod + "secret", mod + "internal/"}, noUI...)},
	{pkg: "secret", deep: append([]string{"mellium.im/", mod + "otr", mod + "account"}, noUI...)},
	{pkg: "internal/atomicfile", deep: append([]string{"mellium.im/", noKeyring, mod + "otr", mod + "account", mod + "secret"}, noUI...)},
	{pkg: "account/internal/wire", deep: append([]string{noKeyring, mod + "otr", mod + "secret", mod + "account$",
		mod + "account/internal/pidgin", mod + "account/internal/history"}, noUI...)},
	{pkg: "account/internal/sm", deep: append([]string{noKeyring, mod + "otr", mod + "secret", mod + "account$",
		mod + "account/internal/wire", mod + "account/internal/pidgin", mod + "account/internal/history"}, noUI...)},
	{pkg: "account/internal/pidgin", direct: []string{"net"},
		deep: append([]string{"mellium.im/", noKeyring, mod + "secret", mod + "account$"}, noUI...)},
	{pkg: "account/internal/history", deep: append([]string{"mellium.im/", noKeyring, mod + "otr",
		mod + "secret", mod + "account$"}, noUI...)},
	// The HTML converter is a leaf: text in, text out.
	{pkg: "account/internal/markup", deep: append([]string{"mellium.im/", noKeyring, mod + "otr", mod + "secret",
		mod + "account$", mod + "account/internal/wire"}, noUI...)},
	{pkg: "account", deep: noUI},
	// ui reaches otr, mellium and the secret stores through account only.
	{pkg: "ui", direct: []string{mod + "otr", "mellium.im/", noKeyring, mod + "secret"}},
	// main wires: no protocol, no keyring, no cipher or KDF of its own.
	{pkg: ".", direct: append([]string{mod + "otr", "mellium.im/", noKeyring}, noCrypto...)},
}

func checkLayer(t *testing.T, r layerRule) {
	t.Helper()
	path := "./" + r.pkg
	for _, d := range goList(t, "-f", "{{join .Imports \"\\n\"}}", path) {
		for _, f := range r.direct {
			if layerMatch(d, f) {
				t.Errorf("%s must not import %s (imports %s)", r.pkg, f, d)
			}
		}
	}
	deps := goList(t, "-deps", path)
	if len(deps) < 2 {
		t.Fatalf("go list -deps %s listed only %v", path, deps)
	}
	for _, d := range deps {
		for _, f := range r.deep {
			if layerMatch(d, f) {
				t.Errorf("%s must not depend on %s (found %s)", r.pkg, f, d)
			}
		}
	}
}

func layerMatch(pkg, pattern string) bool {
	switch {
	case strings.HasSuffix(pattern, "/"):
		return strings.HasPrefix(pkg, pattern)
	case strings.HasSuffix(pattern, "$"):
		return pkg == strings.TrimSuffix(pattern, "$")
	}
	return pkg == pattern || strings.HasPrefix(pkg, pattern+"/")
}

// TestLayerMatch pins the pattern rules the layering test relies on.
func TestLayerMatch(t *testing.T) {
	for _, c := range []struct {
		pkg, pattern string
		want         bool
	}{
		{"crypto/aes", "crypto", true},
		{"crypto", "crypto", true},
		{"cryptography", "crypto", false},
		{mod + "account/internal/wire", mod + "account", true},
		{mod + "account/internal/wire", mod + "account$", false},
		{mod + "account", mod + "account$", true},
		{"mellium.im/xmpp", "mellium.im/", true},
	} {
		if got := layerMatch(c.pkg, c.pattern); got != c.want {
			t.Errorf("layerMatch(%q, %q) = %v", c.pkg, c.pattern, got)
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
