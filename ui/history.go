package ui

// Earlier messages of plain chats. When the user keeps a history
// (Prefs.PlainHistory; account/history.go writes only conversations that
// were not private), a chat that opens shows the last lines kept, greyed,
// under an "Earlier (not private) messages" line and above the live ones.

import (
	"context"
	"slices"

	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// historyLoad is how many earlier lines a chat shows.
const historyLoad = 200

const historyHeader = "Earlier (not private) messages"

// loadHistory reads the kept lines off the UI goroutine and shows them.
func (v *convView) loadHistory() {
	if !v.u.prefs.PlainHistory {
		return
	}
	conv := v.conv
	var lines []account.HistoryLine
	v.u.do(func(context.Context) error {
		var err error
		lines, err = v.u.b.History(conv.Account, conv.Peer, historyLoad)
		return err
	}, func(err error) {
		if v.u.chats.views[keyOf(conv)] != v {
			return // the tab was closed meanwhile
		}
		if err != nil {
			v.system("Earlier messages could not be loaded: "+plain(err), widget.WarningImportance)
			return
		}
		v.showHistory(lines)
	})
}

// showHistory puts the kept lines above the live ones. Lines already shown
// live (the message that opened the chat was kept before it was shown)
// are left out.
func (v *convView) showHistory(hist []account.HistoryLine) {
	hist = dropShown(hist, v.msgs.lines)
	if len(hist) == 0 {
		return
	}
	out := make([]chatLine, 0, len(hist)+1)
	out = append(out, chatLine{kind: lineSystem, when: hist[0].Time, body: historyHeader,
		imp: widget.LowImportance, history: true})
	for _, h := range hist {
		l := chatLine{kind: lineIn, when: h.Time.Local(), who: v.peerName(), body: h.Body, history: true}
		if h.Outgoing {
			l.kind, l.who, l.state = lineOut, "You", account.SentPlain
		}
		out = append(out, l)
	}
	v.msgs.prepend(out)
}

// dropShown removes from the end of hist the lines that live shows too:
// the newest kept lines are the plain messages shown since the chat
// opened, matched newest first by direction and text.
func dropShown(hist []account.HistoryLine, live []chatLine) []account.HistoryLine {
	n := len(hist)
	for i := len(live) - 1; i >= 0 && n > 0; i-- {
		l := live[i]
		plainIn := l.kind == lineIn && !l.encrypted
		plainOut := l.kind == lineOut && !l.pending && l.state == account.SentPlain
		if l.history || !(plainIn || plainOut) {
			continue
		}
		if h := hist[n-1]; h.Outgoing == plainOut && h.Body == l.body {
			n--
		}
	}
	return hist[:n]
}

// historyCleared removes the earlier lines from every open chat.
func (c *chatWindow) historyCleared() {
	for _, v := range c.views {
		v.msgs.dropHistory()
	}
}

// prepend inserts lines above the others; every row below moves down.
func (m *messageList) prepend(ls []chatLine) {
	m.lines = append(slices.Clone(ls), m.lines...)
	m.resizeAll()
	m.list.Refresh()
	if !m.dirty {
		m.dirty = true
		m.post(m.flush)
	}
}

// dropHistory removes the lines that came from the history file.
func (m *messageList) dropHistory() {
	n := len(m.lines)
	m.lines = slices.DeleteFunc(m.lines, func(l chatLine) bool { return l.history })
	if len(m.lines) == n {
		return
	}
	m.resizeAll()
	m.list.Refresh()
}

// resizeAll re-measures every row after rows moved: the list's heights
// are kept by index.
func (m *messageList) resizeAll() {
	old := m.custom
	m.custom = map[int]float32{}
	for i := range m.lines {
		if h := m.heightFor(&m.lines[i]); h != m.baseH {
			m.custom[i] = h
		}
	}
	for i, h := range m.custom {
		if old[i] != h {
			m.list.SetItemHeight(i, h)
		}
	}
	for i := range old {
		if _, ok := m.custom[i]; !ok {
			m.list.SetItemHeight(i, m.baseH)
		}
	}
}
