package ui

import (
	"context"
	"image/color"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// rosterList is a widget.List whose Enter key opens the focused contact.
type rosterList struct {
	widget.List
	r        *rosterWindow
	selected int
	rows     []*rosterRow // every row the list made (the test-state file)
}

func newRosterList(r *rosterWindow) *rosterList {
	l := &rosterList{r: r, selected: -1}
	l.Length = func() int { return len(r.items) }
	l.CreateItem = func() fyne.CanvasObject {
		row := newRosterRow(l)
		l.rows = append(l.rows, row)
		return row
	}
	l.UpdateItem = func(id widget.ListItemID, o fyne.CanvasObject) {
		if id < len(r.items) {
			o.(*rosterRow).set(id, r.items[id])
		}
	}
	l.OnSelected = func(id widget.ListItemID) { l.selected = id }
	l.OnUnselected = func(widget.ListItemID) { l.selected = -1 }
	l.ExtendBaseWidget(l)
	return l
}

// TypedKey adds Enter (open) to the list's arrow and space keys.
func (l *rosterList) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyReturn || ev.Name == fyne.KeyEnter {
		l.List.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace}) // select the focused row
		l.r.openSelected()
		return
	}
	l.List.TypedKey(ev)
}

// rosterRow shows a group header or a contact: presence dot, name,
// status text and unread count. Tap selects, double tap opens the chat.
type rosterRow struct {
	widget.BaseWidget
	l      *rosterList
	id     int
	header *widget.Label
	dot    *canvas.Circle
	name   *widget.Label
	status *widget.Label
	badge  *widget.Label
	body   *fyne.Container
	root   *fyne.Container
}

func newRosterRow(l *rosterList) *rosterRow {
	r := &rosterRow{l: l, id: -1}
	r.header = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.header.Importance = widget.LowImportance
	r.dot = canvas.NewCircle(color.Transparent)
	r.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.status = widget.NewLabel("")
	r.status.Importance = widget.LowImportance
	r.status.Truncation = fyne.TextTruncateEllipsis
	r.badge = widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	r.badge.Importance = widget.HighImportance
	dot := container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(10), r.dot))
	r.body = container.NewBorder(nil, nil, dot, r.badge, container.NewGridWithColumns(2, r.name, r.status))
	r.root = container.NewStack(r.header, r.body)
	r.ExtendBaseWidget(r)
	return r
}

func (r *rosterRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.root) }

func (r *rosterRow) set(id int, it rosterItem) {
	r.id = id
	if it.e == nil {
		r.body.Hide()
		r.header.SetText(it.header)
		r.header.Show()
		return
	}
	r.header.Hide()
	r.body.Show()
	c := it.e.c
	r.name.SetText(c.DisplayName())
	st := c.Status()
	if st == "" {
		st = c.Show().String()
		if c.Pending {
			st = "waiting for approval"
		}
	}
	r.status.SetText(st)
	r.dot.FillColor = theme.Color(presenceColor(c.Show()))
	r.dot.Refresh()
	if n := r.l.r.u.chats.unreadFor(it.e.acct, c.JID); n > 0 {
		r.badge.SetText(strconv.Itoa(n))
	} else {
		r.badge.SetText("")
	}
}

func presenceColor(s account.Show) fyne.ThemeColorName {
	switch s {
	case account.Available, account.Chat:
		return theme.ColorNameSuccess
	case account.Away, account.XA:
		return theme.ColorNameWarning
	case account.DND:
		return theme.ColorNameError
	}
	return theme.ColorNameDisabled
}

// Tapped selects the row, focuses the list for keyboard use and opens
// the chat: one click, as in most messengers.
func (r *rosterRow) Tapped(*fyne.PointEvent) {
	if c := fyne.CurrentApp().Driver().CanvasForObject(r.l); c != nil {
		c.Focus(r.l)
	}
	r.l.Select(r.id)
	r.l.r.openItem(r.id)
}

// DoubleTapped opens the chat.
func (r *rosterRow) DoubleTapped(*fyne.PointEvent) { r.l.r.openItem(r.id) }

// TappedSecondary shows the contact menu.
func (r *rosterRow) TappedSecondary(ev *fyne.PointEvent) {
	rw := r.l.r
	if r.id < 0 || r.id >= len(rw.items) || rw.items[r.id].e == nil {
		return
	}
	e, id := rw.items[r.id].e, r.id
	c := fyne.CurrentApp().Driver().CanvasForObject(r)
	if c == nil {
		return
	}
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", r.menuItems(e, id)...), c, ev.AbsolutePosition)
}

func (r *rosterRow) menuItems(e *rosterEntry, id int) []*fyne.MenuItem {
	rw := r.l.r
	acct, contact := e.acct, e.c
	return []*fyne.MenuItem{
		fyne.NewMenuItem("Open chat", func() { rw.openItem(id) }),
		fyne.NewMenuItem("Fingerprints…", func() { rw.u.showFingerprints(contact.JID) }),
		fyne.NewMenuItem("Rename…", func() { rw.showRename(acct, contact) }),
		rw.blockItem(acct, contact.JID), // blocking.go
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Remove contact…", func() { rw.removeContact(acct, contact) }),
	}
}

// acctRow shows one account's connection state with a connect toggle
// and a menu button (also the row's secondary tap): settings, remove.
type acctRow struct {
	box    *acctBox
	state  *widget.Label
	toggle *widget.Button
	menu   *widget.Button
	conn   account.ConnState
}

// acctBox is an account row that shows its menu on a secondary tap, like
// a contact row does.
type acctBox struct {
	widget.BaseWidget
	content   fyne.CanvasObject
	secondary func(fyne.Position)
}

func newAcctBox(content fyne.CanvasObject, secondary func(fyne.Position)) *acctBox {
	b := &acctBox{content: content, secondary: secondary}
	b.ExtendBaseWidget(b)
	return b
}

func (b *acctBox) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(b.content) }

func (b *acctBox) TappedSecondary(ev *fyne.PointEvent) { b.secondary(ev.AbsolutePosition) }

// acctMenu is the account's menu: settings and remove (which opens the
// settings dialog's removal question).
func (r *rosterWindow) acctMenu(jid string) *fyne.Menu {
	return fyne.NewMenu("",
		fyne.NewMenuItem("Account settings…", func() { r.showAccountSettings(jid) }),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Remove account…", func() {
			r.showAccountSettings(jid)
			if r.acctDlg != nil && r.acctDlg.orig.JID == jid {
				r.acctDlg.askRemove()
			}
		}),
	)
}

func (r *rosterWindow) row(jid string) *acctRow {
	if a, ok := r.acctRows[jid]; ok {
		return a
	}
	a := &acctRow{state: widget.NewLabel(account.Disconnected.String())}
	a.state.Importance = widget.LowImportance
	a.state.Wrapping = fyne.TextWrapWord
	a.toggle = widget.NewButton("Connect", func() { r.toggle(jid, a) })
	a.menu = widget.NewButtonWithIcon("", theme.MoreVerticalIcon(), nil)
	a.menu.Importance = widget.LowImportance
	a.menu.OnTapped = func() {
		if c := fyne.CurrentApp().Driver().CanvasForObject(a.menu); c != nil {
			widget.ShowPopUpMenuAtRelativePosition(r.acctMenu(jid), c, fyne.NewPos(0, a.menu.Size().Height), a.menu)
		}
	}
	name := widget.NewLabelWithStyle(jid, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Truncation = fyne.TextTruncateEllipsis
	a.box = newAcctBox(container.NewBorder(nil, nil, widget.NewIcon(theme.AccountIcon()),
		container.NewCenter(container.NewHBox(a.toggle, a.menu)), container.NewVBox(name, a.state)),
		func(pos fyne.Position) {
			if c := fyne.CurrentApp().Driver().CanvasForObject(a.box); c != nil {
				widget.ShowPopUpMenuAtPosition(r.acctMenu(jid), c, pos)
			}
		})
	r.acctRows[jid] = a
	r.accounts.Add(a.box)
	return a
}

func (r *rosterWindow) toggle(jid string, a *acctRow) {
	connect := a.conn == account.Disconnected || a.conn == account.Failed || a.conn == account.KeyringLocked
	a.toggle.Disable()
	r.u.do(func(ctx context.Context) error {
		if connect {
			return r.u.b.Connect(ctx, jid)
		}
		return r.u.b.Disconnect(ctx, jid)
	}, func(err error) {
		a.toggle.Enable()
		if err != nil {
			a.state.SetText("Could not connect: " + plain(err))
			a.state.Importance = widget.DangerImportance
			a.state.Refresh()
		}
	})
}

// queuedOffline is the reason the UI gives a Queued message sent while
// its account is not online.
const queuedOffline = "offline"

// reconnecting reports whether account acct is trying to get (back)
// online: what it sends meanwhile waits for the connection.
func (r *rosterWindow) reconnecting(acct string) bool {
	a, ok := r.acctRows[acct]
	return ok && (a.conn == account.Reconnecting || a.conn == account.Connecting)
}

func (r *rosterWindow) setConnection(e account.ConnectionChanged) {
	a := r.row(e.Account)
	a.conn = e.State
	text := e.State.String()
	switch e.State {
	case account.Connected:
		a.state.Importance = widget.SuccessImportance
	case account.Connecting, account.Reconnecting, account.KeyringLocked:
		a.state.Importance = widget.WarningImportance
	case account.Failed:
		a.state.Importance = widget.DangerImportance
	default:
		a.state.Importance = widget.LowImportance
	}
	if e.State == account.Connected && r.noticeFor == e.Account {
		r.notice.SetText("")
		r.notice.Hide()
		r.noticeFor = ""
	}
	if e.Err != "" {
		text += " — " + withoutPrefix(e.Err)
	}
	a.state.SetText(text)
	switch e.State {
	case account.KeyringLocked: // Connect again once the user has unlocked it
		a.toggle.SetText("Retry")
	case account.Disconnected, account.Failed:
		a.toggle.SetText("Connect")
	default:
		a.toggle.SetText("Disconnect")
	}
}

// showAddContact asks for a JID (and account when there are several).
func (r *rosterWindow) showAddContact() {
	var names []string
	for _, s := range r.u.b.Accounts() {
		names = append(names, s.JID)
	}
	if len(names) == 0 {
		dialog.ShowInformation("Add contact", "Add an account first.", r.win)
		return
	}
	acct := widget.NewSelect(names, nil)
	acct.SetSelectedIndex(0)
	jid := widget.NewEntry()
	jid.SetPlaceHolder("friend@example.org")
	jid.Validator = func(s string) error {
		if !strings.Contains(strings.TrimSpace(s), "@") {
			return errPlain("enter an address like friend@example.org")
		}
		return nil
	}
	name := widget.NewEntry()
	name.SetPlaceHolder("Optional")
	group := widget.NewEntry()
	group.SetPlaceHolder("Optional")
	items := []*widget.FormItem{widget.NewFormItem("Address", jid), widget.NewFormItem("Name", name),
		widget.NewFormItem("Group", group)}
	if len(names) > 1 {
		items = append([]*widget.FormItem{widget.NewFormItem("Account", acct)}, items...)
	}
	d := dialog.NewForm("Add contact", "Add", "Cancel", items, func(ok bool) {
		if ok {
			r.addContact(acct.Selected, strings.TrimSpace(jid.Text), strings.TrimSpace(name.Text), strings.TrimSpace(group.Text))
		}
	}, r.win)
	d.Resize(fyne.NewSize(420, 260))
	submitOnEnter(r.win, d, jid, name, group)
	d.Show()
	r.win.Canvas().Focus(jid)
}

func (r *rosterWindow) addContact(acct, jid, name, group string) {
	var groups []string
	if group != "" {
		groups = []string{group}
	}
	r.u.do(func(ctx context.Context) error {
		return r.u.b.AddContact(ctx, acct, jid, name, groups)
	}, func(err error) {
		if err != nil {
			r.setNotice("Could not add " + jid + ": " + plain(err))
			return
		}
		r.setNotice("Asked " + jid + " to share their presence with you.")
	})
}

// errPlain is a validation message shown under a form field.
type errPlain string

func (e errPlain) Error() string { return string(e) }
