package ui

// Filtering a 2,000-contact roster, one keystroke per iteration, with the
// test driver (no GL): the filter over all contacts, the grouped list
// rebuild and the list refresh. scripts/bench.sh reports ns/op against the
// 16 ms target; nothing here asserts a time.

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/sotto-im/sotto/account"
)

func BenchmarkRosterFilterKeystroke2000(b *testing.B) {
	a := test.NewTempApp(b)
	fb := newFake()
	fb.accounts = []account.Settings{{JID: me, AutoConnect: true}}
	u := New(a, fb, Options{Prefs: &memPrefs{}})
	b.Cleanup(u.Stop)
	u.Start()
	r := u.roster
	r.win.Resize(fyne.NewSize(360, 640))
	u.Handle(account.RosterChanged{Account: me, Contacts: manyContacts(2000)})
	if len(r.items) != 2010 {
		b.Fatalf("%d rows, want 2,000 contacts + 10 headers", len(r.items))
	}
	r.win.Canvas().Focus(r.filter)
	const word = "user1999"
	typed := 0
	for b.Loop() {
		if typed < len(word) {
			test.Type(r.filter, word[typed:typed+1]) // one keystroke: OnChanged filters
			typed++
		} else {
			r.filter.TypedKey(&fyne.KeyEvent{Name: fyne.KeyBackspace})
			if r.filter.Text == "" {
				typed = 0
			}
		}
	}
}
