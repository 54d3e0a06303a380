package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
)

func manyContacts(n int) []account.Contact {
	cs := make([]account.Contact, n)
	for i := range cs {
		cs[i] = account.Contact{JID: fmt.Sprintf("user%04d@example.org", i), Name: fmt.Sprintf("User %04d", i),
			Groups: []string{fmt.Sprintf("Group %d", i%10)}, Subscription: "both"}
		if i%3 == 0 {
			cs[i].Resources = []account.Resource{{Name: "pc", Show: account.Available, Status: "here"}}
		}
	}
	return cs
}

func contactRows(r *rosterWindow) int {
	n := 0
	for _, it := range r.items {
		if it.e != nil {
			n++
		}
	}
	return n
}

// 2,000 contacts: grouped, filtered per keystroke fast, and drawn with a
// screenful of row widgets.
func TestRosterFilter2000(t *testing.T) {
	h := newHarness(t)
	h.u.Start()
	r := h.u.roster
	r.win.Resize(fyne.NewSize(360, 640))
	created := 0
	create := r.list.CreateItem
	r.list.CreateItem = func() fyne.CanvasObject { created++; return create() }

	start := time.Now()
	h.u.Handle(account.RosterChanged{Account: me, Contacts: manyContacts(2000)})
	load := time.Since(start)
	if contactRows(r) != 2000 || len(r.items) != 2010 {
		t.Fatalf("%d contact rows, %d rows; want 2000 + 10 group headers", contactRows(r), len(r.items))
	}
	if r.items[0].header != "Group 0" || r.items[1].e.c.Show() != account.Available {
		t.Errorf("first rows: %q, then %v (online contacts first)", r.items[0].header, r.items[1].e.c.Show())
	}

	var slowest time.Duration
	for i, q := range []string{"u", "us", "use", "user", "user1", "user19", "user199", "user1999"} {
		start := time.Now()
		r.filter.SetText(q)
		if d := time.Since(start); d > slowest {
			slowest = d
		}
		if i == len("user199")-1 && contactRows(r) != 10 {
			t.Errorf("filter %q: %d contacts, want 10", q, contactRows(r))
		}
	}
	if contactRows(r) != 1 || r.items[0].header != "Group 9" || r.items[1].e.c.JID != "user1999@example.org" {
		t.Errorf("filter user1999: %d rows %+v", len(r.items), r.items)
	}
	r.filter.SetText("USER 0042") // names match too, case-insensitively
	if contactRows(r) != 1 {
		t.Errorf("name filter: %d contacts", contactRows(r))
	}
	r.filter.SetText("")
	if created > 100 {
		t.Errorf("%d row widgets for 2,000 contacts", created)
	}
	// Timings are reported, never asserted (they belong to make bench:
	// ui/roster_bench_test.go, BENCHMARKS.md).
	t.Logf("2,000 contacts: load %v, slowest filter keystroke %v, %d row widgets", load, slowest, created)
}

// Double-tap on a contact and Enter in the filter open a chat.
func TestRosterOpensChat(t *testing.T) {
	h := newHarness(t).withBob()
	r := h.u.roster
	row := newRosterRow(r.list)
	row.set(1, r.items[1])
	if row.name.Text != "bob" || row.status.Text != "Available" {
		t.Errorf("row shows %q / %q", row.name.Text, row.status.Text)
	}
	test.DoubleTap(row)
	if _, ok := h.u.chats.views[keyOf(bobConv)]; !ok {
		t.Fatal("double tap opened no chat")
	}
	// Opening a chat with an online contact starts OTR (opportunistic).
	h.calls("StartPrivate", 1)

	h.u.chats.closed(h.u.chats.views[keyOf(bobConv)].tab)
	r.filter.SetText("bo")
	pressEnter(r.filter)
	if _, ok := h.u.chats.views[keyOf(bobConv)]; !ok {
		t.Fatal("Enter in the filter opened no chat")
	}
	h.u.chats.closed(h.u.chats.views[keyOf(bobConv)].tab)
	r.list.Select(1)
	r.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if _, ok := h.u.chats.views[keyOf(bobConv)]; !ok {
		t.Fatal("Enter in the list opened no chat")
	}
}

// Unread counts: on the roster row and the tab, cleared when read; a
// notification names the sender but not the text.
func TestUnreadAndNotification(t *testing.T) {
	h := newHarness(t).withBob()
	h.u.foreground = false
	test.AssertNotificationSent(t, fyne.NewNotification("Sotto", "New message from bob"), func() {
		h.u.Handle(account.MessageReceived{Conv: bobConv, Body: "secret text", Encrypted: true})
	})
	h.u.Handle(account.MessageReceived{Conv: bobConv, Body: "again", Encrypted: true})
	if n := h.u.chats.unreadFor(me, "bob@example.org"); n != 2 {
		t.Errorf("unread %d, want 2", n)
	}
	row := newRosterRow(h.u.roster.list)
	row.set(1, h.u.roster.items[1])
	if row.badge.Text != "2" {
		t.Errorf("roster badge %q", row.badge.Text)
	}
	v := h.u.chats.views[keyOf(bobConv)]
	if v.tab.Text != "bob (2)" {
		t.Errorf("tab title %q", v.tab.Text)
	}
	h.u.foreground = true
	h.u.chats.open(bobConv, true)
	if n := h.u.chats.unreadFor(me, "bob@example.org"); n != 0 || v.tab.Text != "bob" {
		t.Errorf("after reading: unread %d, tab %q", n, v.tab.Text)
	}
	test.AssertNotificationSent(t, nil, func() {
		h.u.Handle(account.MessageReceived{Conv: bobConv, Body: "seen", Encrypted: true})
	})
}

// Subscription requests are answered with Accept/Deny.
func TestSubscriptionRequest(t *testing.T) {
	h := newHarness(t).withBob()
	r := h.u.roster
	h.u.Handle(account.SubscriptionRequest{Account: me, From: "alice@example.org"})
	h.u.Handle(account.SubscriptionRequest{Account: me, From: "mallory@example.org"})
	if len(r.requests.Objects) != 2 {
		t.Fatalf("%d request cards", len(r.requests.Objects))
	}
	buttons := func(i int) (deny, accept fyne.Tappable) {
		card := r.requests.Objects[i]
		return findButton(card, "Deny"), findButton(card, "Accept")
	}
	_, accept := buttons(0)
	test.Tap(accept)
	c := h.calls("AnswerSubscription", 1)[0]
	if c.args[0] != me || c.args[1] != "alice@example.org" || c.args[2] != true {
		t.Errorf("AnswerSubscription%v", c.args)
	}
	deny, _ := buttons(0)
	test.Tap(deny)
	c = h.calls("AnswerSubscription", 2)[1]
	if c.args[1] != "mallory@example.org" || c.args[2] != false {
		t.Errorf("AnswerSubscription%v", c.args)
	}
	if len(r.requests.Objects) != 0 {
		t.Errorf("%d cards left", len(r.requests.Objects))
	}
}

// Own presence, connection state, add contact.
func TestPresenceConnectionAddContact(t *testing.T) {
	h := newHarness(t).withBob()
	r := h.u.roster
	if len(h.b.called("SetPresence")) != 0 {
		t.Fatal("presence sent at start")
	}
	test.Type(r.statusIn, "lunch")
	r.presence.SetSelected(account.Away.String())
	if c := h.calls("SetPresence", 1)[0]; c.args[0] != me || c.args[1] != account.Away || c.args[2] != "lunch" {
		t.Errorf("SetPresence%v", c.args)
	}
	r.presence.SetSelected(account.Offline.String())
	h.calls("Disconnect", 1)

	h.u.Handle(account.ConnectionChanged{Account: me, State: account.Failed, Err: "wrong password"})
	a := r.acctRows[me]
	if a.state.Text != "Failed — wrong password" || a.toggle.Text != "Connect" {
		t.Errorf("account row: %q [%s]", a.state.Text, a.toggle.Text)
	}
	test.Tap(a.toggle)
	h.calls("Connect", 1)
	h.u.Handle(account.ConnectionChanged{Account: me, State: account.Connected})
	if a.state.Text != "Online" || a.toggle.Text != "Disconnect" {
		t.Errorf("account row: %q [%s]", a.state.Text, a.toggle.Text)
	}

	r.addContact(me, "carol@example.org", "Carol", "Work")
	c := h.calls("AddContact", 1)[0]
	if c.args[0] != me || c.args[1] != "carol@example.org" || c.args[2] != "Carol" || fmt.Sprint(c.args[3]) != "[Work]" {
		t.Errorf("AddContact%v", c.args)
	}
}

// The contact menu removes a contact after confirmation.
func TestRemoveContact(t *testing.T) {
	h := newHarness(t).withBob()
	r := h.u.roster
	row := newRosterRow(r.list)
	row.set(1, r.items[1])
	items := row.menuItems(r.items[1].e, 1)
	last := items[len(items)-1] // destructive, so last, after a separator
	if last.Label != "Remove contact…" || !items[len(items)-2].IsSeparator {
		t.Fatalf("menu ends with %q", last.Label)
	}
	last.Action()
	top, ok := r.win.Canvas().Overlays().Top().(*widget.PopUp)
	if !ok {
		t.Fatal("no confirmation")
	}
	test.Tap(findButton(top.Content, "Yes"))
	if c := h.calls("RemoveContact", 1)[0]; c.args[0] != me || c.args[1] != "bob@example.org" {
		t.Errorf("RemoveContact%v", c.args)
	}
}

// A locked keyring is not a failure: the row says to unlock it and offers
// Retry, which connects again (issue 12, point 4).
func TestKeyringLockedRowOffersRetry(t *testing.T) {
	h := newHarness(t).withBob()
	r := h.u.roster
	h.u.Handle(account.ConnectionChanged{Account: me, State: account.KeyringLocked,
		Err: "Unlock your keyring to sign in"})
	a := r.acctRows[me]
	if a.state.Text != "Keyring locked — Unlock your keyring to sign in" || a.toggle.Text != "Retry" {
		t.Errorf("account row: %q [%s]", a.state.Text, a.toggle.Text)
	}
	test.Tap(a.toggle)
	h.calls("Connect", 1)
}

// A connection notice goes away once its account is online, and the
// footer shows the account's reason without the package prefix (issue 13:
// "could not connect … certificate not trusted" stayed under Online).
func TestConnectionNoticeClearedWhenOnline(t *testing.T) {
	h := newHarness(t).withBob()
	r := h.u.roster
	r.setConnNotice(me, "Could not connect "+me+": the server's certificate is not trusted.")
	h.u.Handle(account.ConnectionChanged{Account: me, State: account.Reconnecting,
		Err: "account: Sotto could not reach localhost on port 15422: nothing is listening there"})
	a := r.acctRows[me]
	if want := "Reconnecting… — Sotto could not reach localhost on port 15422: nothing is listening there"; !strings.HasPrefix(a.state.Text, want) {
		t.Errorf("footer %q, want %q", a.state.Text, want)
	}
	if !r.notice.Visible() {
		t.Error("the notice went away before the account was online")
	}
	h.u.Handle(account.ConnectionChanged{Account: me, State: account.Connected})
	if r.notice.Visible() || r.notice.Text != "" {
		t.Errorf("notice %q still shown while Online", r.notice.Text)
	}
	// A notice about something else stays.
	r.setNotice("Could not remove carol: offline.")
	h.u.Handle(account.ConnectionChanged{Account: me, State: account.Connected})
	if !r.notice.Visible() {
		t.Error("an unrelated notice was taken down")
	}
}

// The roster cached from last time is in the window when it is first
// shown, before the account's loop has sent anything.
func TestRosterFromCacheInFirstFrame(t *testing.T) {
	h := newHarness(t)
	cs := manyContacts(50)
	for i := range cs {
		cs[i].Resources = nil // the cache knows nobody's presence
	}
	h.b.cached = map[string][]account.Contact{me: cs}
	h.u.Start()
	r := h.u.roster
	if !r.win.Content().Visible() || contactRows(r) != 50 {
		t.Fatalf("first frame: %d contact rows, want the 50 cached", contactRows(r))
	}
	if r.items[1].e.c.Show() != account.Offline {
		t.Errorf("a cached contact shown %v", r.items[1].e.c.Show())
	}
}
