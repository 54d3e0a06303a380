package ui

import (
	"context"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

// rosterEntry is one contact as the roster shows it.
type rosterEntry struct {
	acct  string
	c     account.Contact
	group string
	key   string // lower-case name + JID, for the filter
	name  string // lower-case display name, for sorting (made once, not per comparison)
}

// rosterItem is one row: a group header or a contact.
type rosterItem struct {
	header string
	e      *rosterEntry
}

// rosterWindow is the main window: accounts, own presence, filter,
// subscription requests and the grouped contact list.
type rosterWindow struct {
	u        *UI
	win      fyne.Window
	accounts *fyne.Container
	acctRows map[string]*acctRow
	presence *widget.Select
	statusIn *widget.Entry
	filter   *widget.Entry
	requests *fyne.Container
	notice   *widget.Label
	// noticeFor is the account a connection notice is about: it goes
	// away once that account is online.
	noticeFor string
	list      *rosterList

	byAcct map[string][]rosterEntry
	sorted []*rosterEntry // all accounts, sorted by group then presence and name
	items  []rosterItem   // filtered view shown by the list

	// removed are accounts removed from this window (accountsettings.go):
	// their late events are dropped.
	removed   map[string]bool
	blocked   map[string]map[string]bool // account -> blocked addresses (blocking.go)
	acctDlg   *accountDialog             // the last account settings dialog (tests)
	renameDlg *renameDialog              // the last rename dialog (tests)
}

// newRosterWindow builds the roster window in win (New makes it).
func newRosterWindow(u *UI, win fyne.Window) *rosterWindow {
	r := &rosterWindow{u: u, win: win, acctRows: map[string]*acctRow{}, byAcct: map[string][]rosterEntry{}}
	r.accounts = container.NewVBox()
	r.requests = container.NewVBox()
	r.notice = wrapLabel("")
	r.notice.Importance = widget.WarningImportance
	r.notice.Hide()

	r.filter = widget.NewEntry()
	r.filter.SetPlaceHolder("Search contacts")
	r.filter.ActionItem = widget.NewIcon(theme.SearchIcon())
	r.filter.OnChanged = func(string) { r.applyFilter() }
	r.filter.OnSubmitted = func(string) { r.openSelected() }

	r.presence = widget.NewSelect(showNames(), nil)
	r.presence.SetSelected(account.Available.String())
	r.presence.OnChanged = r.presenceChanged // after SetSelected: no presence sent at start
	r.statusIn = widget.NewEntry()
	r.statusIn.SetPlaceHolder("Status message")
	r.statusIn.OnSubmitted = func(string) { r.presenceChanged(r.presence.Selected) }

	r.list = newRosterList(r)

	// Labelled buttons rather than bare icons: Fyne has no tooltips,
	// and "+", a person and a padlock said nothing to new users.
	low := func(b *widget.Button) *widget.Button { b.Importance = widget.LowImportance; return b }
	bar := container.NewHBox(
		low(widget.NewButtonWithIcon("Add contact", theme.ContentAddIcon(), r.showAddContact)),
		low(widget.NewButtonWithIcon("Keys", lockIcon, func() { u.showFingerprints("") })),
		layoutSpacer(),
		low(widget.NewButtonWithIcon("", theme.MenuIcon(), nil)),
	)
	menuBtn := bar.Objects[3].(*widget.Button)
	menuBtn.OnTapped = func() {
		c := r.win.Canvas()
		widget.ShowPopUpMenuAtRelativePosition(fyne.NewMenu("",
			fyne.NewMenuItem("Add account…", u.showWizard),
			fyne.NewMenuItem("Preferences…", u.showPrefs),
			fyne.NewMenuItemSeparator(),
			fyne.NewMenuItem("Quit (Ctrl+Q)", u.quit)), c, fyne.NewPos(0, menuBtn.Size().Height), menuBtn)
	}
	top := container.NewVBox(bar, r.accounts,
		container.NewBorder(nil, nil, r.presence, nil, r.statusIn),
		r.filter, r.requests)
	r.win.SetContent(container.NewPadded(container.NewBorder(top, r.notice, nil, nil, r.list)))
	r.win.SetCloseIntercept(r.close)
	u.addQuit(r.win)
	return r
}

func showNames() []string {
	var out []string
	for _, s := range []account.Show{account.Available, account.Chat, account.Away, account.XA, account.DND, account.Offline} {
		out = append(out, s.String())
	}
	return out
}

func (r *rosterWindow) show() {
	w, h := r.u.state.WindowW, r.u.state.WindowH
	if w < 200 || h < 200 {
		w, h = 360, 640
	}
	r.win.Resize(fyne.NewSize(w, h))
	for _, s := range r.u.b.Accounts() {
		r.row(s.JID)
	}
	r.win.SetTitle(r.u.title("Sotto"))
	r.win.CenterOnScreen()
	r.win.Show()
}

// close remembers the window size, then hides to the tray if there is
// one, or quits.
func (r *rosterWindow) close() {
	sz := r.win.Canvas().Size()
	r.u.state.WindowW, r.u.state.WindowH = sz.Width, sz.Height
	r.u.saveState()
	if r.u.hasTray {
		r.win.Hide()
		return
	}
	r.u.quitAsking()
}

// setNotice shows a line under the roster until the next one.
func (r *rosterWindow) setNotice(text string) {
	r.noticeFor = ""
	r.notice.SetText(text)
	r.notice.Show()
}

// setConnNotice shows a notice about account acct's connection; it is
// taken down when acct comes online, so no "could not connect" stays
// under an account that reads Online.
func (r *rosterWindow) setConnNotice(acct, text string) {
	r.setNotice(text)
	r.noticeFor = acct
}

// setContacts replaces one account's contacts and re-sorts everything.
// Sorting happens here, once per roster change; the filter keeps order.
func (r *rosterWindow) setContacts(acct string, cs []account.Contact) {
	entries := make([]rosterEntry, 0, len(cs))
	for _, c := range cs {
		groups := c.Groups
		if len(groups) == 0 {
			groups = []string{"Contacts"}
		}
		key, name := strings.ToLower(c.Name+"\x00"+c.JID), strings.ToLower(c.DisplayName())
		for _, g := range groups {
			entries = append(entries, rosterEntry{acct: acct, c: c, group: g, key: key, name: name})
		}
	}
	r.byAcct[acct] = entries
	r.resort()
	r.row(acct)
	r.applyFilter()
}

// resort rebuilds the sorted view of every account's entries.
func (r *rosterWindow) resort() {
	r.sorted = r.sorted[:0]
	for _, es := range r.byAcct {
		for i := range es {
			r.sorted = append(r.sorted, &es[i])
		}
	}
	sort.Slice(r.sorted, func(i, j int) bool { return entryLess(r.sorted[i], r.sorted[j]) })
}

func entryLess(a, b *rosterEntry) bool {
	if a.group != b.group {
		return a.group < b.group
	}
	ao, bo := a.c.Show() != account.Offline, b.c.Show() != account.Offline
	if ao != bo {
		return ao
	}
	if a.name != b.name {
		return a.name < b.name
	}
	return a.acct < b.acct
}

// applyFilter rebuilds the visible rows: O(contacts), no sorting, so it
// keeps up with typing on a 2,000-contact roster.
func (r *rosterWindow) applyFilter() {
	q := strings.ToLower(strings.TrimSpace(r.filter.Text))
	r.items = r.items[:0]
	group := "\x00"
	for _, e := range r.sorted {
		if q != "" && !strings.Contains(e.key, q) {
			continue
		}
		if e.group != group {
			group = e.group
			r.items = append(r.items, rosterItem{header: group})
		}
		r.items = append(r.items, rosterItem{e: e})
	}
	r.list.UnselectAll()
	r.list.Refresh()
}

// openSelected opens the selected contact, or the first match.
func (r *rosterWindow) openSelected() {
	id := r.list.selected
	if id < 0 || id >= len(r.items) || r.items[id].e == nil {
		id = -1
		for i, it := range r.items {
			if it.e != nil {
				id = i
				break
			}
		}
	}
	r.openItem(id)
}

func (r *rosterWindow) openItem(id int) {
	if id < 0 || id >= len(r.items) || r.items[id].e == nil {
		return
	}
	e := r.items[id].e
	r.u.chats.open(account.Conversation{Account: e.acct, Peer: e.c.JID}, true)
}

func (r *rosterWindow) refreshUnread() { r.list.Refresh() }

// presenceChanged sets our presence on every account, off the UI thread.
func (r *rosterWindow) presenceChanged(sel string) {
	show := account.Available
	for _, s := range []account.Show{account.Available, account.Chat, account.Away, account.XA, account.DND, account.Offline} {
		if s.String() == sel {
			show = s
		}
	}
	status := r.statusIn.Text
	accts := r.u.b.Accounts()
	b := r.u.b
	r.u.do(func(ctx context.Context) error {
		for _, a := range accts {
			var err error
			if show == account.Offline {
				err = b.Disconnect(ctx, a.JID)
			} else {
				err = b.SetPresence(ctx, a.JID, show, status)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}, func(err error) {
		if err != nil {
			r.setNotice("Could not change your status: " + plain(err))
		}
	})
}

// addRequest shows an Accept/Deny card for a subscription request.
func (r *rosterWindow) addRequest(e account.SubscriptionRequest) {
	var card *fyne.Container
	answer := func(accept bool) {
		r.u.do(func(ctx context.Context) error {
			return r.u.b.AnswerSubscription(ctx, e.Account, e.From, accept)
		}, func(err error) {
			if err != nil {
				r.setNotice("Could not answer " + e.From + ": " + plain(err))
				return
			}
			r.requests.Remove(card)
			r.win.Content().Refresh()
		})
	}
	accept := widget.NewButtonWithIcon("Accept", theme.ConfirmIcon(), func() { answer(true) })
	accept.Importance = widget.HighImportance
	deny := widget.NewButtonWithIcon("Deny", theme.CancelIcon(), func() { answer(false) })
	block := widget.NewButton("Block", func() { r.setBlock(e.Account, e.From, true, func() { r.requests.Remove(card) }) })
	text := wrapLabel(e.From + " wants to add you as a contact.")
	// The text on its own line: beside three buttons a narrow window
	// broke the address into pieces ("alice@local / host wants …").
	card = container.NewVBox(container.NewBorder(nil, nil, widget.NewIcon(theme.AccountIcon()), nil, text),
		container.NewHBox(layoutSpacer(), block, deny, accept))
	r.requests.Add(card)
	// The card changes the height of the window's top part: lay the
	// whole window out again, or the card stays invisible until
	// something else does (a resize).
	r.win.Content().Refresh()
	r.win.RequestFocus()
}

// certificateQuestion asks whether to trust a server certificate.
func (r *rosterWindow) certificateQuestion(e account.CertificateQuestion) {
	title := "Unknown server certificate"
	msg := "The server for " + e.Account + " presented a certificate your system does not trust:\n\n" +
		e.Subject + "\nSHA-256: " + e.Fingerprint + "\n\nTrust it only if you know it is right."
	if e.Changed {
		title = "WARNING: the server's certificate has changed"
		msg = "The server for " + e.Account + " presented a DIFFERENT certificate than last time.\n\n" +
			"Someone may be intercepting your connection. Trust the new certificate only if your " +
			"server administrator told you it changed.\n\n" + e.Subject + "\nSHA-256: " + e.Fingerprint
	}
	d := dialog.NewConfirm(title, msg, func(ok bool) {
		if !ok {
			return
		}
		r.u.do(func(ctx context.Context) error {
			return r.u.b.TrustCertificate(ctx, e.Account, e.Fingerprint)
		}, func(err error) {
			if err != nil {
				r.setNotice("Could not trust the certificate: " + plain(err))
			}
		})
	}, r.win)
	d.SetConfirmText("Trust and connect")
	d.SetDismissText("Don't connect")
	if e.Changed {
		d.SetConfirmImportance(widget.DangerImportance)
	}
	confirmKeys(r.win, d)
	d.Show()
}

// removeContact asks, then removes a contact from the roster.
func (r *rosterWindow) removeContact(acct string, c account.Contact) {
	d := dialog.NewConfirm("Remove contact", "Remove "+c.DisplayName()+" ("+c.JID+") from your contacts?", func(ok bool) {
		if !ok {
			return
		}
		r.u.do(func(ctx context.Context) error { return r.u.b.RemoveContact(ctx, acct, c.JID) }, func(err error) {
			if err != nil {
				r.setNotice("Could not remove " + c.JID + ": " + plain(err))
			}
		})
	}, r.win)
	confirmKeys(r.win, d)
	d.Show()
}
