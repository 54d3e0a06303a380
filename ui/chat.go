package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// convKey identifies a conversation regardless of the peer's resource.
type convKey struct{ acct, peer string }

func keyOf(c account.Conversation) convKey { return convKey{c.Account, c.Peer} }

// chatWindow is the one chat window: a tab per conversation.
type chatWindow struct {
	u      *UI
	win    fyne.Window
	tabs   *container.DocTabs
	views  map[convKey]*convView
	unread map[convKey]int
	shown  bool // the window is on screen (fyne.Window cannot tell us)
	// lastSec is the latest security state per conversation, kept when
	// its tab is closed so a reopened tab shows it at once.
	lastSec map[convKey]account.SecurityChanged
	// autoDone: OTR was started automatically while the contact has
	// been online (reset when they go offline; see rosterChanged).
	autoDone map[convKey]bool
}

func newChatWindow(u *UI) *chatWindow {
	c := &chatWindow{u: u, views: map[convKey]*convView{}, unread: map[convKey]int{},
		lastSec: map[convKey]account.SecurityChanged{}, autoDone: map[convKey]bool{}}
	c.tabs = container.NewDocTabs()
	c.tabs.OnClosed = c.closed
	c.tabs.OnSelected = func(t *container.TabItem) {
		if v := c.viewOf(t); v != nil {
			c.markRead(v)
			v.focusInput()
		}
	}
	return c
}

// ensureWindow creates the window on first use.
func (c *chatWindow) ensureWindow() {
	if c.win != nil {
		return
	}
	c.win = c.u.app.NewWindow(c.u.title("Chats"))
	c.u.addQuit(c.win)
	c.win.SetContent(c.tabs)
	w, h := c.u.state.ChatW, c.u.state.ChatH
	if w < 200 || h < 200 {
		w, h = 640, 560
	}
	c.win.Resize(fyne.NewSize(w, h))
	// Placed by us, not the window manager: openbox put it 15 px past
	// the bottom of an 800-px screen.
	c.win.CenterOnScreen()
	// Closing the window hides it; the conversations stay so a new
	// message brings them back with their history.
	c.win.SetCloseIntercept(c.hide)
}

func (c *chatWindow) show() {
	c.ensureWindow()
	c.shown = true
	c.win.Show()
}

func (c *chatWindow) hide() {
	c.rememberSize()
	c.u.saveState()
	c.shown = false
	c.win.Hide()
}

// rememberSize keeps the chat window's size for the next start.
func (c *chatWindow) rememberSize() {
	if c.win == nil {
		return
	}
	if sz := c.win.Canvas().Size(); sz.Width >= 200 && sz.Height >= 200 {
		c.u.state.ChatW, c.u.state.ChatH = sz.Width, sz.Height
	}
}

func (c *chatWindow) viewOf(t *container.TabItem) *convView {
	for _, v := range c.views {
		if v.tab == t {
			return v
		}
	}
	return nil
}

// get returns the conversation's view, creating its tab if needed
// (without selecting it).
func (c *chatWindow) get(conv account.Conversation) *convView {
	k := keyOf(conv)
	if v, ok := c.views[k]; ok {
		// A plain chat answers whoever wrote last. Otherwise the target
		// stays the resource of the session the chat shows (moved only by
		// SecurityChanged, see setSecurity): a message, notice or error
		// from another resource — a second login, or one a server forged,
		// perhaps with its own unverified session — must not redirect
		// what the user types under a Private label.
		if conv.Resource != "" && v.sec.Level == account.NotPrivate {
			v.conv.Resource = conv.Resource
		}
		return v
	}
	c.ensureWindow()
	v := newConvView(c.u, conv)
	c.views[k] = v
	c.tabs.Append(v.tab)
	c.show()
	c.saveOpen()
	return v
}

// open shows a conversation; with focus it selects the tab, raises the
// window and, unless the conversation's policy is Manual, starts OTR with
// an online contact so the chat is private before the first message.
func (c *chatWindow) open(conv account.Conversation, focus bool) *convView {
	_, existed := c.views[keyOf(conv)]
	v := c.get(conv)
	if focus {
		c.tabs.Select(v.tab)
		c.show()
		c.markRead(v)
		c.win.RequestFocus()
		v.focusInput()
		if !existed {
			c.autoDone[keyOf(conv)] = c.online(conv)
			v.autoStart()
		}
	}
	return v
}

func (c *chatWindow) closed(t *container.TabItem) {
	v := c.viewOf(t)
	if v == nil {
		return
	}
	if v.auth != nil {
		v.auth.d.Hide()
	}
	delete(c.views, keyOf(v.conv))
	delete(c.unread, keyOf(v.conv))
	c.u.roster.refreshUnread()
	c.saveOpen()
	if len(c.views) == 0 {
		c.hide()
	}
}

func (c *chatWindow) saveOpen() {
	open := make([]openChat, 0, len(c.tabs.Items))
	for _, t := range c.tabs.Items {
		if v := c.viewOf(t); v != nil {
			open = append(open, openChat{Account: v.conv.Account, Peer: v.conv.Peer})
		}
	}
	c.u.state.OpenChats = open
	c.u.saveState()
}

// isActive: the conversation is the selected tab of a focused window.
func (c *chatWindow) isActive(v *convView) bool {
	return c.u.foreground && c.shown && c.tabs.Selected() == v.tab
}

func (c *chatWindow) markRead(v *convView) {
	k := keyOf(v.conv)
	if c.unread[k] == 0 {
		return
	}
	delete(c.unread, k)
	v.updateTitle()
	c.u.roster.refreshUnread()
}

func (c *chatWindow) unreadFor(acct, jid string) int { return c.unread[convKey{acct, jid}] }

func (c *chatWindow) received(e account.MessageReceived) {
	v := c.get(e.Conv)
	v.addIncoming(e)
	if !c.isActive(v) {
		c.unread[keyOf(e.Conv)]++
		v.updateTitle()
		c.u.roster.refreshUnread()
	}
}

func (c *chatWindow) messageState(e account.MessageStateChanged) { c.get(e.Conv).outState(e) }

// chatState shows the peer's typing in an open chat (it opens none).
func (c *chatWindow) chatState(e account.ChatStateChanged) {
	if v, ok := c.views[keyOf(e.Conv)]; ok {
		v.peerState(e.State)
	}
}

func (c *chatWindow) security(e account.SecurityChanged) {
	k := keyOf(e.Conv)
	prev, known := c.lastSec[k]
	c.lastSec[k] = e
	// A conversation with no tab that turns private (the peer started
	// OTR) gets a tab: the user must see who is talking. Dropping to Not
	// private (e.g. on disconnect) opens nothing.
	_, open := c.views[k]
	if !open && e.Level == account.NotPrivate {
		return
	}
	v := c.get(e.Conv)
	if !open || !known {
		// The new tab starts from the level before this change, so its
		// first line says the conversation started, not "refreshed".
		// So does a tab that a message opened before the first change
		// arrived (OMEMO: the first message is the start): the level it
		// read from the account was never announced in it.
		if !known {
			prev = account.SecurityChanged{Conv: e.Conv, Level: account.NotPrivate}
		}
		v.sec = prev
	}
	v.setSecurity(e)
}

// initialSecurity is the state a new tab starts with.
func (c *chatWindow) initialSecurity(conv account.Conversation) account.SecurityChanged {
	if s, ok := c.lastSec[keyOf(conv)]; ok {
		return s
	}
	s := c.u.b.Security(conv)
	res := s.Conv.Resource
	s.Conv = conv
	if conv.Resource == "" {
		s.Conv.Resource = res // the session that level belongs to
	}
	return s
}

func (c *chatWindow) smpRequested(e account.SMPRequested) {
	c.open(e.Conv, true).smpRequested(e)
}

func (c *chatWindow) smpResult(e account.SMPResult) { c.get(e.Conv).smpResult(e) }

func (c *chatWindow) notice(e account.Notice) { c.get(e.Conv).system(e.Text, widget.WarningImportance) }

// rosterChanged renames tabs and starts OTR in an open chat whose
// contact has just come online (a chat opened before they accepted the
// contact request), so that it turns private without a click.
func (c *chatWindow) rosterChanged() {
	for k, v := range c.views {
		v.updateTitle()
		if !c.online(v.conv) {
			delete(c.autoDone, k)
			continue
		}
		if !c.autoDone[k] {
			c.autoDone[k] = true
			v.autoStart()
		}
	}
}

func (c *chatWindow) online(conv account.Conversation) bool {
	ct, ok := c.u.contact(conv.Account, conv.Peer)
	return ok && ct.Show() != account.Offline
}

func tabTitle(name string, unread int) string {
	if unread > 0 {
		return fmt.Sprintf("%s (%d)", name, unread)
	}
	return name
}
