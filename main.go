// Command sotto is a desktop messenger for private one-to-one conversations:
// XMPP accounts with Off-the-Record (OTR) encryption built in.
//
// main only wires the pieces together: it picks the profile folder (normal
// or portable, location.go), opens the profile's secret store (package
// secret, which asks for the vault passphrase through the UI), starts the
// account manager and hands it to the UI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/sotto-im/sotto/account"
	"github.com/sotto-im/sotto/assets"
	"github.com/sotto-im/sotto/secret"
	"github.com/sotto-im/sotto/ui"
)

// version is set by the Makefile from FyneApp.toml.
var version = "dev"

const appID = "im.sotto.app"

func main() {
	profileFlag := flag.String("profile", "", "keep the profile (accounts, trust, vault) in this folder")
	portableFlag := flag.Bool("portable", false, "portable mode: keep everything in sotto-data/ next to the binary")
	versionFlag := flag.Bool("version", false, "print the version and exit")
	forgetFlag := flag.Bool("forget-passphrase", false,
		"portable mode: show the unlock window even if this computer remembers the passphrase\n(unlock with the box unticked to forget it)")
	flag.Usage = usage
	lessGarbage()
	if wantsText(os.Args[1:]) {
		attachConsole()
	}
	flag.Parse()
	if *versionFlag {
		fmt.Println("Sotto", version)
		return
	}
	exe, err := os.Executable()
	if err != nil {
		fatal(err)
	}
	loc, err := resolveLocation(exe, *profileFlag, *portableFlag)
	if err == nil {
		err = loc.confine() // before Fyne starts: it writes caches at once
	}
	if err != nil {
		fatal(err)
	}
	inst, err := claimProfile(loc.dir)
	if errors.Is(err, errRunning) {
		fmt.Fprintln(os.Stderr, "Sotto is already running with this profile; its window was brought to the front.")
		return
	}
	if err != nil {
		fatal(err)
	}
	defer inst.close()
	// A damaged settings file comes back with a usable profile and an
	// error to show; anything else is fatal.
	profile, profileErr := account.OpenProfile(loc.dir)
	if profile == nil {
		fatal(profileErr)
	}

	var u *ui.UI
	secrets := secret.NewProfile(secret.Options{Dir: loc.dir, Portable: loc.portable, AskAnyway: *forgetFlag,
		Ask: func(ctx context.Context, req secret.PassphraseRequest) (secret.PassphraseAnswer, error) {
			// The two packages declare the same shapes; neither imports the other.
			a, err := u.AskPassphrase(ctx, ui.PassphraseRequest(req))
			return secret.PassphraseAnswer(a), err
		}})
	// OMEMO is on: a contact that publishes OMEMO devices (PEP) is talked
	// to with OMEMO, anyone else with OTR as before.
	// The accounts start signing in once the window has painted its first
	// frame (started is closed after u.Start); the roster caches are read
	// meanwhile, while the toolkit starts.
	started := make(chan struct{})
	mgr := account.NewManager(profile, secrets, account.WithSoftwareVersion(version), account.WithOMEMO(true),
		account.WithStartAfter(started))
	mgr.PreloadCachedRosters()

	app.SetMetadata(fyne.AppMetadata{ID: appID, Name: "Sotto", Version: version, Icon: assets.Icon})
	a := app.NewWithID(appID)
	a.SetIcon(assets.Icon)

	// The profile keeps the UI preferences too, so that a profile folder
	// (and the portable stick) holds everything.
	// SOTTO_TEST_STATE is for scripts/firstrun-test.sh only (ui/teststate.go).
	opts := ui.Options{KeyStorage: secrets.Describe(), Prefs: profile, HasTray: hasTray,
		StateFile: os.Getenv("SOTTO_TEST_STATE")}
	if loc.portable {
		// Only portable mode offers the vault in the wizard: elsewhere a
		// working keyring takes every secret, and the vault is the
		// fallback for when it does not answer.
		opts.UseVault = secrets.UseVault
	}
	u = ui.New(a, mgr, opts)

	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = mgr.Run(ctx) }()
	go quitOnSignal(ctx, a)
	go u.Run(ctx, mgr.Events())
	u.Start() // shows the first window, painted with the cached roster
	close(started)
	inst.serve(func() { fyne.Do(u.Raise) })
	if profileErr != nil {
		u.ShowError(profileErr)
	}
	a.Run()
	cancel()
	u.Stop()
}

func usage() {
	fmt.Fprintf(flag.CommandLine.Output(), `Sotto %s — private one-to-one chat over XMPP with OTR.

Usage: sotto [--profile DIR] [--portable] [--forget-passphrase] [--version] [--help]

Without flags Sotto keeps its settings in your configuration folder and its
keys and passwords in the system keyring. If a folder named sotto-data sits
next to the program (or with --portable) everything is kept there instead,
keys in a passphrase-protected vault, and nothing is written to the computer
unless you tick "Remember the passphrase on this computer" when unlocking.

`, version)
	flag.PrintDefaults()
}

// wantsText reports whether the command line asks for text output only
// (--version, --help), which a Windows GUI build must print to its
// parent's console.
func wantsText(args []string) bool {
	for _, a := range args {
		switch strings.TrimLeft(a, "-") {
		case "version", "help", "h":
			return true
		}
	}
	return false
}

// quitOnSignal quits cleanly (settings saved, connections closed) on
// SIGINT or SIGTERM, e.g. at logout or Ctrl-C in a terminal.
func quitOnSignal(ctx context.Context, a fyne.App) {
	sig, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-sig.Done()
	if ctx.Err() == nil {
		fyne.Do(a.Quit)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "sotto:", err)
	os.Exit(1)
}

// lessGarbage runs the collector when the heap has grown by half, not
// doubled (GOGC 50 instead of 100), unless GOGC is set: with 2,000
// contacts most of Sotto's heap between collections is garbage from
// start-up, and RssAnon drawn / after filtering went from 57.9 / 59.7 to
// 53.1 / 53.6 MiB for no change in the filter's keystroke time
// (perfapp, BENCHMARKS.md; issue 17's target is 55). perfapp does the same.
func lessGarbage() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
}
