package ui

// A chat of 10,000 messages is a widget.List: scrolling through all of it
// keeps the rendered rows to a screenful (no widget per message). No
// timing is asserted.

import (
	"fmt"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// renderedRows counts the message-row widgets in o's rendered tree.
func renderedRows(o fyne.CanvasObject) int {
	n := 0
	if _, ok := o.(*msgRow); ok {
		return 1
	}
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			n += renderedRows(c)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			n += renderedRows(c)
		}
	}
	return n
}

func TestChat10000ScrollsWithAScreenfulOfRows(t *testing.T) {
	h := newHarness(t).withBob()
	v := h.u.chats.open(bobConv, true)
	h.drain()
	h.u.chats.win.Resize(fyne.NewSize(640, 560))
	var list fyne.CanvasObject = v.msgs.list
	if _, ok := list.(*widget.List); !ok {
		t.Fatalf("the message list is a %T, want *widget.List", list)
	}
	created := 0
	create := v.msgs.list.CreateItem
	v.msgs.list.CreateItem = func() fyne.CanvasObject { created++; return create() }
	for i := 0; i < 10000; i++ {
		h.u.Handle(account.MessageReceived{Conv: bobConv, Body: fmt.Sprintf("message %d", i), Encrypted: true})
	}
	h.drain()
	if len(v.msgs.lines) != 10000 {
		t.Fatalf("%d lines, want 10,000", len(v.msgs.lines))
	}
	most := 0
	for id := 0; id < 10000; id += 250 { // scroll through the whole chat
		v.msgs.list.ScrollTo(id)
		if n := renderedRows(v.msgs.list); n > most {
			most = n
		}
	}
	v.msgs.list.ScrollToBottom()
	if most == 0 || most >= 100 {
		t.Errorf("%d message rows rendered at once while scrolling 10,000 messages; want a screenful (< 100)", most)
	}
	// Each jump may build a fresh screenful (widget.List drains its row
	// pool on a full refresh), so creations grow with the number of jumps
	// (40 here), never with the number of messages.
	if created >= 1000 {
		t.Errorf("%d row widgets created for 10,000 messages; want far fewer than one per message", created)
	}
	t.Logf("10,000 messages: at most %d rows rendered, %d row widgets created", most, created)
}
