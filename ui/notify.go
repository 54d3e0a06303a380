package ui

import (
	"context"
	"runtime"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/sotto-im/sotto/account"
)

// Desktop integration: system tray, notifications, quitting.

// setupTray adds Show/Chats/Quit to the system tray when the driver has
// one. Closing the roster then hides it instead of quitting, but only
// where a tray is sure to be on screen (Windows, macOS): many Linux
// desktops (GNOME by default) show none, and Fyne does not tell us when
// registering the icon failed, so there a hidden window could not be
// brought back and closing it quits.
func (u *UI) setupTray() {
	d, ok := u.app.(desktop.App)
	if !ok {
		return
	}
	if u.opts.HasTray != nil {
		u.hasTray = u.opts.HasTray()
	} else {
		u.hasTray = runtime.GOOS == "windows" || runtime.GOOS == "darwin"
	}
	if !u.hasTray {
		// Fyne's SetSystemTrayWindow turns closing that window into
		// hiding it; with no tray to bring it back that would leave an
		// invisible Sotto online, so there is no tray icon at all.
		return
	}
	quit := fyne.NewMenuItem("Quit", u.quit)
	quit.IsQuit = true
	d.SetSystemTrayMenu(fyne.NewMenu("Sotto",
		fyne.NewMenuItem("Show Sotto", u.showMain),
		fyne.NewMenuItem("Show chats", func() {
			if len(u.chats.views) > 0 {
				u.chats.show()
				u.chats.win.RequestFocus()
			}
		}),
		fyne.NewMenuItemSeparator(), quit))
	// The app icon is a PNG, which every tray host reads (the SVG lock
	// icon was refused by the Linux StatusNotifier path).
	if icon := u.app.Icon(); icon != nil {
		d.SetSystemTrayIcon(icon)
	} else {
		d.SetSystemTrayIcon(lockIcon)
	}
	d.SetSystemTrayWindow(u.roster.win)
}

// Raise shows the main window and brings it to the front (a second start
// of Sotto on this profile asks for it). Call it on the Fyne goroutine.
func (u *UI) Raise() { u.showMain() }

// showMain brings back the roster (or the wizard while there is no
// account).
func (u *UI) showMain() {
	if u.wizard != nil && len(u.b.Accounts()) == 0 {
		u.wizard.win.Show()
		u.wizard.win.RequestFocus()
		return
	}
	u.roster.show()
	u.roster.win.RequestFocus()
}

// addQuit makes Ctrl+Q (Cmd+Q on macOS) quit from window w.
func (u *UI) addQuit(w fyne.Window) {
	w.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault},
		func(fyne.Shortcut) { u.quit() })
}

// title is a window title naming the account when there is exactly one
// ("Sotto — alice@example.org"), so two Sottos can be told apart.
func (u *UI) title(what string) string {
	if a := u.b.Accounts(); len(a) == 1 {
		return what + " — " + a[0].JID
	}
	return what
}

// quitAsking quits, first saying that private conversations will end if
// any is open.
func (u *UI) quitAsking() {
	// Lines that have not reached the server are lost on quit, except
	// plain ones the history opt-in lets the account keep on disk
	// (private ones are never written): ask the accounts first, off the
	// UI goroutine; without an answer, ask only about the private chats.
	var unsent []account.UnsentLines
	u.do(func(ctx context.Context) (err error) {
		unsent, err = u.b.Unsent(ctx)
		return err
	}, func(error) { u.confirmQuit(account.QuitWarning(unsent)) })
}

// confirmQuit quits, or first asks when private conversations would end
// or lines would be lost (warn, from account.QuitWarning).
func (u *UI) confirmQuit(warn string) {
	var names []string
	for _, v := range u.chats.views {
		if v.sec.Level == account.Private || v.sec.Level == account.Unverified {
			names = append(names, v.peerName())
		}
	}
	if len(names) == 0 && warn == "" {
		u.quit()
		return
	}
	var text []string
	if len(names) > 0 {
		text = append(text, "Your private conversation with "+strings.Join(names, ", ")+" will end.")
	}
	if warn != "" {
		text = append(text, warn)
	}
	d := dialog.NewConfirm("Quit Sotto?", strings.Join(text, "\n\n"), func(ok bool) {
		if ok {
			u.quit()
		}
	}, u.roster.win)
	d.SetConfirmText("Quit")
	confirmKeys(u.roster.win, d)
	d.Show()
}

// quit saves what should be remembered, stops background calls and quits.
func (u *UI) quit() {
	if sz := u.roster.win.Canvas().Size(); sz.Width > 0 && sz.Height > 0 {
		u.state.WindowW, u.state.WindowH = sz.Width, sz.Height
	}
	u.chats.rememberSize()
	u.saveState()
	u.cancel()
	u.app.Quit()
}

// notify raises a desktop notification for a message the user cannot
// see. It names the sender but never carries the message text: a
// notification daemon may log or display it on a lock screen, which
// would leak private conversations.
func (u *UI) notify(e account.MessageReceived) {
	if v, ok := u.chats.views[keyOf(e.Conv)]; ok && u.chats.isActive(v) {
		return
	}
	n := u.name(e.Conv.Account, e.Conv.Peer)
	u.app.SendNotification(fyne.NewNotification("Sotto", "New message from "+n))
}
