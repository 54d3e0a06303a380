package ui

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// The message list of one conversation. It is a widget.List over a slice
// of chatLine values: only the visible rows are widgets, so 10,000
// messages cost 10,000 small structs, not 10,000 widget trees.

type lineKind int

const (
	lineIn lineKind = iota
	lineOut
	lineSystem
)

// chatLine is one row: a message or a system line.
type chatLine struct {
	kind      lineKind
	when      time.Time
	who       string
	body      string
	encrypted bool // incoming: arrived inside OTR
	// incoming, encrypted: the protection this line had (never the
	// tab's): verified is the decrypting session's key verified, other
	// the line came through a session other than the chat's.
	verified, other bool
	// protocol: incoming, encrypted: "OMEMO" or "OTR" ("" = OTR), shown
	// on the line as it was when the line came.
	protocol string
	// history: an earlier line from the plain-chat history file (shown
	// greyed, above the live ones; see history.go).
	history bool
	// outgoing delivery state; pending until Send returns or an event
	// tells us more.
	pending bool
	state   account.OutState
	reason  string
	// delivered: the peer's client confirmed it (XEP-0184).
	delivered bool
	// kept: Queued and saved on disk, so it is sent even after a quit
	// (account.MessageStateChanged.Kept).
	kept bool
	// gone: Resend or Remove found nothing to act on (sent meanwhile,
	// or from before a restart): no action is offered any more.
	gone bool
	// asking: Resend or Remove was pressed and has not answered yet.
	asking bool
	id     string
	// system lines: colour of the text.
	imp widget.Importance
	// paraW caches the measured width of each paragraph of body (text
	// shaping is the costly part of adding a message).
	paraW []float32
}

// stateText describes an outgoing or incoming message's protection.
func (l chatLine) stateText() (string, widget.Importance) {
	t, imp := l.baseStateText()
	if l.kind == lineIn && l.encrypted && !l.history && isOMEMO(l.protocol) {
		t = strings.Replace(t, "encrypted", "encrypted (OMEMO)", 1)
		if !strings.Contains(t, "OMEMO") {
			t += " (OMEMO)"
		}
	}
	return t, imp
}

func (l chatLine) baseStateText() (string, widget.Importance) {
	switch {
	case l.history && l.kind == lineIn:
		return "received in plain", widget.LowImportance
	case l.history:
		return "sent in plain", widget.LowImportance
	case l.kind == lineIn && l.encrypted && l.other && l.verified:
		return "encrypted, verified, from another device of " + l.who, widget.SuccessImportance
	case l.kind == lineIn && l.encrypted && l.other:
		return "from another session of " + l.who + ", not verified", widget.DangerImportance
	case l.kind == lineIn && l.encrypted && l.verified:
		return "encrypted, verified", widget.SuccessImportance
	case l.kind == lineIn && l.encrypted:
		return "encrypted, not verified", widget.WarningImportance
	case l.kind == lineIn:
		return "received in plain", widget.WarningImportance
	case l.pending:
		return "sending…", widget.LowImportance
	}
	switch {
	case l.state == account.SentEncrypted && l.delivered:
		return "sent encrypted · delivered", widget.SuccessImportance
	case l.state == account.SentPlain && l.delivered:
		return "sent in plain · delivered", widget.WarningImportance
	}
	switch l.state {
	case account.SentEncrypted:
		return "sent encrypted", widget.SuccessImportance
	case account.SentPlain:
		return "sent in plain", widget.WarningImportance
	case account.Queued:
		t := "queued until private"
		if l.reason == queuedOffline || l.kept {
			t = "waiting for the connection"
		}
		if l.kept {
			t += " · saved if you quit"
		}
		return t, widget.LowImportance
	case account.Sending:
		return "sending… (not yet confirmed by the server)", widget.LowImportance
	case account.Removed:
		return "removed, not sent", widget.LowImportance
	}
	switch {
	case strings.HasPrefix(l.reason, "not "):
		// The account's reasons mostly say "not sent: …" themselves.
		return l.reason, widget.DangerImportance
	case l.reason != "":
		return "not sent: " + l.reason, widget.DangerImportance
	}
	return "not sent", widget.DangerImportance
}

// Line actions: a NotSent line can be resent, a Queued one taken back.
const (
	actResend = "Resend"
	actRemove = "Remove"
)

// action is the one action the line offers, "" for none. A line that
// failed before the account gave it an id (Send returned an error) has
// nothing to resend: its text is in the chat to send again.
func (l chatLine) action() string {
	if l.kind != lineOut || l.history || l.pending || l.asking || l.gone || l.id == "" || strings.HasPrefix(l.id, localPrefix) {
		return ""
	}
	switch l.state {
	case account.NotSent:
		return actResend
	case account.Queued:
		return actRemove
	}
	return ""
}

// msgRow is the reusable row template. It is a widget (not an embedded
// container): Fyne's painter only descends into real *fyne.Container and
// Widget values.
type msgRow struct {
	widget.BaseWidget
	root  *fyne.Container
	msg   *fyne.Container
	who   *widget.Label
	when  *widget.Label
	state *widget.Label
	// act is the line's action (Resend, Remove), a link beside the
	// state: as tall as the label, so rows keep their height.
	act  *widget.Hyperlink
	head *fyne.Container
	body *widget.Label
	sys  *widget.Label
	// id is the line shown; onAct runs the action for it.
	id    string
	onAct func(id, action string)
}

func newMsgRow(onAct func(id, action string)) *msgRow {
	r := &msgRow{
		who:   widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		when:  widget.NewLabel(""),
		state: widget.NewLabel(""),
		act:   widget.NewHyperlink("", nil),
		body:  widget.NewLabel(""),
		sys:   widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Italic: true}),
		onAct: onAct,
	}
	r.when.Importance = widget.LowImportance
	r.when.SizeName = theme.SizeNameCaptionText
	r.state.SizeName = theme.SizeNameCaptionText
	r.act.SizeName = theme.SizeNameCaptionText
	r.act.TextStyle = fyne.TextStyle{Bold: true}
	r.act.OnTapped = func() {
		if r.onAct != nil && r.act.Text != "" {
			r.onAct(r.id, r.act.Text)
		}
	}
	r.act.Hide()
	r.body.Wrapping = fyne.TextWrapWord
	r.sys.Wrapping = fyne.TextWrapWord
	head := container.NewHBox(r.who, r.when, layoutSpacer(), r.state, r.act)
	r.head = head
	// The labels carry their own inner padding; overlapping it keeps the
	// name line close to its text, as messengers do.
	r.msg = container.New(layout.NewCustomPaddedVBoxLayout(-1.5*theme.InnerPadding()), head, r.body)
	r.sys.Hide()
	r.root = container.NewStack(r.msg, r.sys)
	r.ExtendBaseWidget(r)
	return r
}

func (r *msgRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.root) }

func (r *msgRow) set(l chatLine) {
	if l.kind == lineSystem {
		r.id = "" // its link (hidden with the header) acts on nothing
		r.msg.Hide()
		r.sys.Importance = l.imp
		r.sys.SetText(l.body)
		r.sys.Show()
		return
	}
	r.sys.Hide()
	r.msg.Show()
	imp, when := widget.MediumImportance, l.when.Format("15:04")
	if l.history {
		imp, when = widget.LowImportance, l.when.Format("2 Jan 15:04")
	}
	r.who.Importance, r.body.Importance = imp, imp
	r.who.SetText(l.who)
	r.when.SetText(when)
	st, imp := l.stateText()
	r.state.Importance = imp
	r.state.SetText(st)
	r.id = l.id
	if a := l.action(); a != r.act.Text {
		r.act.SetText(a)
		if a != "" {
			r.act.Show()
		} else {
			r.act.Hide()
		}
		r.head.Refresh() // lay the header out again: the link came or went
	}
	r.body.SetText(l.body)
}

// messageList owns the lines and the list widget.
type messageList struct {
	lines  []chatLine
	list   *widget.List
	view   fyne.CanvasObject
	width  float32
	height float32
	// baseH is the template height (header + one body line); extra
	// heights are set only for rows that differ, so short chats keep the
	// list's fast uniform-height path.
	baseH, sysH, lineH float32
	custom             map[int]float32
	// post schedules the coalesced refresh; dirty is true while one is
	// pending. A List refresh rebuilds a template row and every visible
	// row, so a burst of messages must cost one refresh, not one each.
	post  func(func())
	dirty bool
	// onAct runs a line's action (conversation.go lineAction); rows are
	// the row widgets made so far (the test-state file finds the links
	// in them: teststate.go).
	onAct func(id, action string)
	rows  []*msgRow
}

func newMessageList(post func(func())) *messageList {
	m := &messageList{custom: map[int]float32{}, post: post}
	act := func(id, action string) {
		if m.onAct != nil {
			m.onAct(id, action)
		}
	}
	m.list = widget.NewList(
		func() int { return len(m.lines) },
		func() fyne.CanvasObject {
			r := newMsgRow(act)
			m.rows = append(m.rows, r)
			return r
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(m.lines) {
				o.(*msgRow).set(m.lines[id])
			}
		})
	m.list.HideSeparators = true
	tmpl := newMsgRow(nil)
	m.baseH = tmpl.MinSize().Height
	tmpl.set(chatLine{kind: lineSystem, body: "x"})
	m.sysH = tmpl.sys.MinSize().Height
	m.lineH = fyne.MeasureText("Mg", theme.TextSize(), fyne.TextStyle{}).Height + theme.LineSpacing()
	m.view = container.New(&widthWatcher{onResize: m.resized}, m.list)
	return m
}

// add appends a line and sizes it; the list shows it (and scrolls to
// the end) at the next flush.
func (m *messageList) add(l chatLine) int {
	m.lines = append(m.lines, l)
	i := len(m.lines) - 1
	m.sizeLine(i)
	if !m.dirty {
		m.dirty = true
		m.post(m.flush)
	}
	return i
}

func (m *messageList) flush() {
	m.dirty = false
	m.list.Refresh()
	m.list.ScrollToBottom()
}

// update replaces line i in place.
func (m *messageList) update(i int, l chatLine) {
	m.lines[i] = l
	m.sizeLine(i)
	m.list.RefreshItem(i)
}

// findID returns the index of the outgoing line with id, or -1. Recent
// lines are searched first: that is where acknowledgements land.
func (m *messageList) findID(id string) int {
	for i := len(m.lines) - 1; i >= 0; i-- {
		if m.lines[i].kind == lineOut && m.lines[i].id == id && id != "" {
			return i
		}
	}
	return -1
}

// remove deletes line i (rare: a duplicate found after a race between
// Send returning and its first state event); heights below it move up.
func (m *messageList) remove(i int) {
	m.lines = append(m.lines[:i], m.lines[i+1:]...)
	for j := i; j < len(m.lines); j++ {
		m.sizeLine(j)
	}
	delete(m.custom, len(m.lines))
	m.list.SetItemHeight(len(m.lines), m.baseH)
	m.list.Refresh()
}

// resized re-measures wrapped rows when the width changes and keeps the
// newest line in view when a bar above or below takes height.
func (m *messageList) resized(size fyne.Size) {
	if size.Height != m.height {
		m.height = size.Height
		m.list.ScrollToBottom()
	}
	m.setWidth(size.Width)
}

func (m *messageList) setWidth(w float32) {
	if w == m.width {
		return
	}
	m.width = w
	for i := range m.lines {
		if m.custom[i] != 0 || m.longBody(i) {
			m.sizeLine(i)
		}
	}
}

func (m *messageList) longBody(i int) bool {
	return len(m.lines[i].body) > 24 || strings.Contains(m.lines[i].body, "\n")
}

// sizeLine sets row i's height from an estimate of its wrapped text.
func (m *messageList) sizeLine(i int) {
	h := m.heightFor(&m.lines[i])
	old, ok := m.custom[i]
	if !ok {
		old = m.baseH
	}
	if h == old {
		return
	}
	m.custom[i] = h
	m.list.SetItemHeight(i, h)
}

func (m *messageList) heightFor(l *chatLine) float32 {
	w := m.width
	if w <= 0 {
		w = 560
	}
	// Word wrap wastes part of each line; 0.85 keeps the estimate from
	// clipping text.
	avail := (w - 4*theme.InnerPadding() - 2*theme.Padding()) * 0.85
	if avail < 80 {
		avail = 80
	}
	base := m.baseH
	if l.kind == lineSystem {
		base = m.sysH
	}
	size := theme.TextSize()
	// Short single-line text needs no shaping: no glyph is wider than
	// 1.2 em, so it fits.
	if !strings.Contains(l.body, "\n") && float32(utf8.RuneCountInString(l.body))*size*1.2 <= avail {
		return base
	}
	if l.paraW == nil {
		style := fyne.TextStyle{Italic: l.kind == lineSystem}
		for _, para := range strings.Split(l.body, "\n") {
			l.paraW = append(l.paraW, fyne.MeasureText(para, size, style).Width)
		}
	}
	lines := 0
	for _, pw := range l.paraW {
		lines += max(1, int(math.Ceil(float64(pw/avail))))
	}
	return base + float32(lines-1)*m.lineH
}

// widthWatcher lays its only child out full size and reports its size,
// so wrapped rows can be re-measured.
type widthWatcher struct{ onResize func(fyne.Size) }

func (w *widthWatcher) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
	w.onResize(size)
}

func (w *widthWatcher) MinSize(objs []fyne.CanvasObject) fyne.Size {
	if len(objs) == 0 {
		return fyne.Size{}
	}
	return objs[0].MinSize()
}
