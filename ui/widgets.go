package ui

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/assets"
)

// Small shared building blocks.

func layoutSpacer() fyne.CanvasObject { return layout.NewSpacer() }

// Lock icons from assets, themed to the text colour; Fyne's theme has no
// lock icon.
var (
	lockIcon     = theme.NewThemedResource(assets.StatusPrivate)
	lockOpenIcon = theme.NewThemedResource(assets.StatusNotPrivate)
)

// banner is a coloured bar with a message and actions, used for the
// Finished bar, the key-changed warning and the "Authenticate" prompt.
// The message gets the full width; the actions sit on their own row so
// long sentences never squeeze them.
type banner struct {
	bg    *canvas.Rectangle
	text  *widget.Label
	box   *fyne.Container
	rows  *fyne.Container // the message row, then any extra rows
	color fyne.ThemeColorName
}

// newBanner builds a hidden banner; dismiss (may be nil) adds a close
// button on the message row.
func newBanner(colorName fyne.ThemeColorName, icon fyne.Resource, dismiss func(), actions ...fyne.CanvasObject) *banner {
	b := &banner{bg: canvas.NewRectangle(color.Transparent), text: widget.NewLabel(""), color: colorName}
	b.text.Wrapping = fyne.TextWrapWord
	b.text.TextStyle.Bold = true
	b.bg.CornerRadius = theme.InputRadiusSize()
	b.applyColor()
	var right fyne.CanvasObject
	if dismiss != nil {
		x := widget.NewButtonWithIcon("", theme.CancelIcon(), dismiss)
		x.Importance = widget.LowImportance
		right = container.NewCenter(x)
	}
	b.rows = container.NewVBox(container.NewBorder(nil, nil, container.NewCenter(widget.NewIcon(icon)), right, b.text))
	if len(actions) > 0 {
		b.rows.Add(container.NewHBox(append([]fyne.CanvasObject{layout.NewSpacer()}, actions...)...))
	}
	b.box = container.NewStack(b.bg, container.NewPadded(b.rows))
	b.box.Hide()
	return b
}

// applyColor tints the background with the status colour at low alpha so
// the text stays readable in light and dark themes.
func (b *banner) applyColor() {
	c := theme.Color(b.color)
	r, g, bl, _ := c.RGBA()
	b.bg.FillColor = color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(bl >> 8), A: 0x48}
	b.bg.StrokeColor = c
	b.bg.StrokeWidth = 1.5
}

func (b *banner) show(text string) {
	b.text.SetText(text)
	b.applyColor()
	b.box.Show()
}

func (b *banner) hide() { b.box.Hide() }

// groupFingerprint formats a fingerprint as 5 groups of 8 hex digits.
func groupFingerprint(fp string) string {
	s := strings.ToUpper(strings.Map(func(r rune) rune {
		if r == ' ' || r == ':' {
			return -1
		}
		return r
	}, fp))
	var groups []string
	for len(s) > 8 {
		groups = append(groups, s[:8])
		s = s[8:]
	}
	if s != "" {
		groups = append(groups, s)
	}
	return strings.Join(groups, " ")
}

// fingerprintLabel shows a fingerprint in monospace, selectable.
func fingerprintLabel(fp string) *widget.Label {
	l := widget.NewLabelWithStyle(groupFingerprint(fp), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true, Bold: true})
	l.Selectable = true
	return l
}

// wrapLabel is a word-wrapping label.
func wrapLabel(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}
