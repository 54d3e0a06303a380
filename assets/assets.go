// Package assets holds Sotto's embedded images: the application icon and the
// privacy status icons.
package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

//go:embed Icon.png
var iconPNG []byte

// Icon is the application icon (512×512 PNG).
var Icon = fyne.NewStaticResource("Icon.png", iconPNG)
