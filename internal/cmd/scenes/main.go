//go:build scenes

// Command scenes shows one of Sotto's windows in a given state, for
// `make screenshot` (scripts/screenshot.sh). The backend is a real
// account.Manager on a throw-away profile with an in-memory secret store
// that never connects: the scene's events are fed to the UI directly.
package main

import (
	"flag"
	"fmt"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/sotto-im/sotto/account"
	"github.com/sotto-im/sotto/assets"
	"github.com/sotto-im/sotto/secret"
	"github.com/sotto-im/sotto/ui"
)

func main() {
	scene := flag.String("scene", "roster", fmt.Sprintf("one of %v", ui.Scenes))
	theme := flag.String("theme", "light", "light or dark")
	flag.Parse()
	dir, err := os.MkdirTemp("", "sotto-scene-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	prof, err := account.OpenProfile(dir)
	if err != nil {
		fail(err)
	}
	if *scene != "wizard" && *scene != "wizard-key" {
		if err := prof.SaveAccount(account.Settings{JID: "alice@example.org"}); err != nil {
			fail(err)
		}
		for _, f := range []account.KnownFingerprint{
			{Account: "alice@example.org", Contact: "bob@example.org", Fingerprint: "3F2A9C1B 77D04E51 A9C3B2D0 0F1E2D3C 4B5A6978", Verified: true, How: "smp"},
			{Account: "alice@example.org", Contact: "carol@example.org", Fingerprint: "C0FFEE12 34567890 ABCDEF01 23456789 0ABCDEF0"},
			{Account: "alice@example.org", Contact: "erin@example.net", Fingerprint: "9E8D7C6B 5A493827 16051423 32415061 7F8E9DAB", Verified: true, How: "manual"},
		} {
			if err := prof.SetFingerprint(f); err != nil {
				fail(err)
			}
		}
	}
	mgr := account.NewManager(prof, secret.NewMemory())
	a := app.NewWithID("im.sotto.scenes")
	a.SetIcon(assets.Icon)
	u := ui.New(a, mgr, ui.Options{Prefs: prof})
	ui.SetSceneTheme(u, *theme)
	a.Lifecycle().SetOnStarted(func() {
		fyne.Do(func() {
			if err := ui.RunScene(u, *scene); err != nil {
				fail(err)
			}
		})
	})
	a.Run()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "scenes:", err)
	os.Exit(1)
}
