package ui

// Blocking (XEP-0191) from the contact menu and from a subscription
// request. The account layer keeps the list; the roster window keeps the
// latest copy per account (BlocklistChanged) to offer Block or Unblock.

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"

	"github.com/sotto-im/sotto/account"
)

func (r *rosterWindow) setBlocked(e account.BlocklistChanged) {
	if r.blocked == nil {
		r.blocked = map[string]map[string]bool{}
	}
	m := map[string]bool{}
	for _, j := range e.Blocked {
		m[j] = true
	}
	r.blocked[e.Account] = m
}

func (r *rosterWindow) isBlocked(acct, jid string) bool { return r.blocked[acct][jid] }

// blockItem is the contact menu's Block or Unblock entry.
func (r *rosterWindow) blockItem(acct, jid string) *fyne.MenuItem {
	if r.isBlocked(acct, jid) {
		return fyne.NewMenuItem("Unblock", func() { r.setBlock(acct, jid, false, nil) })
	}
	return fyne.NewMenuItem("Block…", func() {
		dialog.ShowConfirm("Block "+jid+"?",
			"You will get no messages, requests or status from "+jid+", and "+jid+" will see you offline.",
			func(ok bool) {
				if ok {
					r.setBlock(acct, jid, true, nil)
				}
			}, r.win)
	})
}

// setBlock blocks or unblocks off the UI goroutine; then runs done.
func (r *rosterWindow) setBlock(acct, jid string, block bool, done func()) {
	r.u.do(func(ctx context.Context) error {
		if block {
			return r.u.b.Block(ctx, acct, jid)
		}
		return r.u.b.Unblock(ctx, acct, jid)
	}, func(err error) {
		if err != nil {
			r.setNotice("Could not change the block on " + jid + ": " + plain(err))
			return
		}
		if r.blocked[acct] == nil {
			r.setBlocked(account.BlocklistChanged{Account: acct})
		}
		r.blocked[acct][jid] = block
		if done != nil {
			done()
		}
	})
}
