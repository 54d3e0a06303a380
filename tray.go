package main

import (
	"context"
	"runtime"
	"time"

	"github.com/godbus/dbus/v5"
)

// hasTray reports whether a system tray will show Sotto's icon. Windows
// and macOS always have one. On Linux and the BSDs Fyne's tray is a
// StatusNotifierItem, shown only when a StatusNotifierWatcher owns its
// name on the session bus (stock GNOME has none): without it a window
// hidden to the tray could never be shown again, so closing must quit.
func hasTray() bool {
	switch runtime.GOOS {
	case "windows", "darwin":
		return true
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return false
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var has bool
	err = conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0,
		"org.kde.StatusNotifierWatcher").Store(&has)
	return err == nil && has
}
