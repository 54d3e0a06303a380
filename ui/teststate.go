package ui

// The test-state file: with Options.StateFile set (main sets it from
// SOTTO_TEST_STATE, off by default), the UI writes what is on screen to
// that file whenever it changes: each window's title and size, its dialogs
// (title and bounds), the buttons, entries, labels and contact rows drawn
// in it with their positions in pixels, and each conversation's security
// level. scripts/firstrun-test.sh reads it to find what to click with
// xdotool and to check that the expected text appeared: Fyne draws with
// GL, so there is no accessibility tree to ask.
//
// It is a test aid. It holds the visible labels (contact names, system
// lines, fingerprints) but never an entry's text, so never a password or
// a secret being typed; chat lines are not recorded.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// probeItem is one widget on screen, in window pixels.
type probeItem struct {
	Kind       string // button, check, entry, label, link, row
	Text       string // a button's, check box's or label's text, an entry's placeholder, a row's contact
	X, Y, W, H int
	Layer      int  // 0 = the window's content, n = its n-th dialog
	Disabled   bool `json:",omitempty"`
	Focused    bool `json:",omitempty"`
	Checked    bool `json:",omitempty"` // a check box that is ticked
}

type probeDialog struct {
	Title      string
	X, Y, W, H int
}

type probeWindow struct {
	Title   string
	W, H    int
	Dialogs []probeDialog
	Items   []probeItem
}

type probeChat struct {
	Account, Peer, Level string
	Verified             bool
}

type probeState struct {
	Windows []probeWindow
	Chats   []probeChat
}

// startStateFile writes the state every 250 ms when it changed, until the
// UI stops.
func (u *UI) startStateFile(path string) {
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		var last []byte
		for {
			select {
			case <-u.ctx.Done():
				return
			case <-t.C:
			}
			got := make(chan []byte, 1)
			u.post(func() {
				b, _ := json.MarshalIndent(u.probe(), "", " ")
				got <- b
			})
			var b []byte
			select {
			case b = <-got:
			case <-u.ctx.Done():
				return
			}
			if string(b) == string(last) {
				continue
			}
			last = b
			tmp := path + ".tmp"
			if os.WriteFile(tmp, b, 0o600) == nil {
				_ = os.Rename(tmp, filepath.Clean(path))
			}
		}
	}()
}

// probe collects the state. Call it on the Fyne goroutine.
func (u *UI) probe() probeState {
	var s probeState
	for _, w := range u.app.Driver().AllWindows() {
		s.Windows = append(s.Windows, u.probeWindow(w))
	}
	for _, v := range u.chats.views {
		s.Chats = append(s.Chats, probeChat{Account: v.conv.Account, Peer: v.conv.Peer,
			Level: v.sec.Level.String(), Verified: v.sec.Verified})
	}
	return s
}

func (u *UI) probeWindow(w fyne.Window) probeWindow {
	c := w.Canvas()
	sc := c.Scale()
	px := func(f float32) int { return int(f*sc + 0.5) }
	sz := c.Size()
	pw := probeWindow{Title: w.Title(), W: px(sz.Width), H: px(sz.Height)}
	d := u.app.Driver()
	focused := c.Focused()
	// add records o and says so; it leaves out what is not on screen.
	add := func(layer int, o fyne.CanvasObject, kind, text string, disabled bool) bool {
		p := d.AbsolutePositionForObject(o)
		s := o.Size()
		if p.IsZero() || s.Width <= 0 {
			return false // not on screen (hidden or not laid out)
		}
		f, _ := o.(fyne.Focusable)
		pw.Items = append(pw.Items, probeItem{Kind: kind, Text: text, X: px(p.X), Y: px(p.Y),
			W: px(s.Width), H: px(s.Height), Layer: layer, Disabled: disabled, Focused: f != nil && f == focused})
		return true
	}
	visit := func(layer int) func(o fyne.CanvasObject) {
		return func(o fyne.CanvasObject) {
			switch x := o.(type) {
			case *widget.Button:
				add(layer, x, "button", x.Text, x.Disabled())
			case *widget.Check:
				if add(layer, x, "check", x.Text, x.Disabled()) {
					pw.Items[len(pw.Items)-1].Checked = x.Checked
				}
			case *widget.Entry:
				add(layer, x, "entry", x.PlaceHolder, x.Disabled())
			case *widget.Label:
				if x.Text != "" {
					add(layer, x, "label", x.Text, false)
				}
			case *widget.Hyperlink:
				if x.Text != "" {
					add(layer, x, "link", x.Text, false)
				}
			case *rosterRow:
				if x.id >= 0 && x.id < len(u.roster.items) && u.roster.items[x.id].e != nil {
					add(layer, x, "row", u.roster.items[x.id].e.c.JID, false)
				}
			}
		}
	}
	walkObjects(c.Content(), visit(0))
	if u.chats.win == w {
		// The message rows live inside a widget.List, which the walk
		// does not open: visit the rows made (those not on screen have
		// no position and are left out).
		for _, v := range u.chats.views {
			for _, r := range v.msgs.rows {
				walkObjects(r, visit(0))
			}
		}
	}
	if u.wizard != nil && u.wizard.win == w && u.wizard.page != nil {
		walkObjects(u.wizard.page, visit(0)) // container.Navigation hides its stack
	}
	for i, o := range c.Overlays().List() {
		pop, ok := o.(*widget.PopUp)
		if !ok || !pop.Visible() {
			continue
		}
		dlg := probeDialog{}
		if box, ok := pop.Content.(*fyne.Container); ok && len(box.Objects) == 5 {
			if l, ok := box.Objects[4].(*widget.Label); ok { // dialog.create's title label
				dlg.Title = l.Text
			}
		}
		p, s := pop.Content.Position(), pop.Content.Size()
		dlg.X, dlg.Y, dlg.W, dlg.H = px(p.X), px(p.Y), px(s.Width), px(s.Height)
		pw.Dialogs = append(pw.Dialogs, dlg)
		walkObjects(pop.Content, visit(i+1))
	}
	return pw
}

// walkObjects calls f for o and every visible object below it that can be
// reached through public fields (containers, scrolls, forms, cards,
// accordions, tabs, our banners). Other widgets are leaves.
func walkObjects(o fyne.CanvasObject, f func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	f(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walkObjects(c, f)
		}
	case *container.Scroll:
		walkObjects(x.Content, f)
	case *widget.Form:
		for _, it := range x.Items {
			walkObjects(it.Widget, f)
		}
	case *widget.Card:
		walkObjects(x.Content, f)
	case *msgRow:
		walkObjects(x.root, f)
	case *widget.Accordion:
		for _, it := range x.Items {
			if it.Open {
				walkObjects(it.Detail, f)
			}
		}
	case *container.DocTabs:
		if t := x.Selected(); t != nil {
			walkObjects(t.Content, f)
		}
	case *container.AppTabs:
		if t := x.Selected(); t != nil {
			walkObjects(t.Content, f)
		}
	case *container.Split:
		walkObjects(x.Leading, f)
		walkObjects(x.Trailing, f)
	case *acctBox:
		walkObjects(x.content, f)
	case *rosterList:
		for _, r := range x.rows {
			walkObjects(r, f)
		}
	}
}
