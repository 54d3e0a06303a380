package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/sotto-im/sotto/account"
)

// The four security looks of a chat tab render as their golden markup in
// testdata/security (status button words, icon and colour, tab icon, the
// Unverified hint, the Finished bar, the system lines), so any change in
// what is drawn for a level fails here. After a deliberate change, check
// the markup fyne writes to testdata/failed/security and copy it over the
// golden file.
func TestSecurityLooksRender(t *testing.T) {
	for _, tc := range []struct {
		golden string
		level  account.Security
	}{
		{"security/notprivate.xml", account.NotPrivate},
		{"security/unverified.xml", account.Unverified},
		{"security/private.xml", account.Private},
		{"security/finished.xml", account.Finished},
	} {
		t.Run(tc.level.String(), func(t *testing.T) {
			h := newHarness(t)
			h.b.accounts[0].Policy = account.Manual // no auto-start: only the level's events
			h.withBob()
			v := h.u.chats.open(bobConv, true)
			h.drain()
			if tc.level != account.NotPrivate {
				h.sec(tc.level, bobFP)
			}
			h.drain()
			if v.status.level != tc.level {
				t.Fatalf("tab shows %v, want %v", v.status.level, tc.level)
			}
			test.AssertRendersToMarkup(t, tc.golden, h.u.chats.win.Canvas())
		})
	}
}
