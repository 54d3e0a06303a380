// Package assets holds Sotto's embedded images: the application icon and the
// privacy status icons. It imports only Fyne's resource type, so any layer
// may use it.
package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

var (
	//go:embed Icon.png
	iconPNG []byte
	//go:embed status-private.svg
	lockSVG []byte
	//go:embed status-notprivate.svg
	lockOpenSVG []byte
)

// Icon is the application icon (512×512 PNG).
var Icon = fyne.NewStaticResource("Icon.png", iconPNG)

// Status icons (Material Design "lock" and "lock_open", Apache-2.0, the set
// Fyne's own icons come from). They are black on transparent so the UI can
// theme them: a closed padlock for Unverified and Private, an open one for
// Not private and Finished.
var (
	StatusPrivate    = fyne.NewStaticResource("status-private.svg", lockSVG)
	StatusNotPrivate = fyne.NewStaticResource("status-notprivate.svg", lockOpenSVG)
)
