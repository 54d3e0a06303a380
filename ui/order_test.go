package ui

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/sotto-im/sotto/account"
)

// 1,000 messages typed into a private chat as fast as the UI takes them
// reach the peer, through Prosody, in the order they were typed.
func TestSendsKeepTypedOrder(t *testing.T) {
	const n = 1000
	w := newE2E(t)
	alice := w.addSide("alice", account.Manual)
	bob := w.addSide("bob", account.Opportunistic)
	w.loginThroughRosters()
	w.befriendThroughRosters(alice, bob)
	av, bv := goPrivateFromMenu(t, w, alice, bob)
	w.lap("set-up")
	for i := range n {
		test.Type(av.input, fmt.Sprintf("line %04d", i))
		pressEnter(av.input)
	}
	incoming := func() []chatLine {
		var in []chatLine
		for _, l := range bv.msgs.lines {
			if l.kind == lineIn {
				in = append(in, l)
			}
		}
		return in
	}
	w.settle("bob shows all lines", func() bool { return len(incoming()) >= n })
	w.lap(fmt.Sprintf("%d messages", n))
	for i, l := range incoming() {
		if want := fmt.Sprintf("line %04d", i); l.body != want || !l.encrypted {
			t.Fatalf("bob's line %d is %q (encrypted %v), want %q: typed order lost", i, l.body, l.encrypted, want)
		}
	}
	w.drain()
	log := w.srv.StanzaLog()
	for _, s := range []string{"line 0000", "line 0500", "line 0999"} {
		if strings.Contains(log, s) {
			t.Errorf("the server saw %q in the clear", s)
		}
	}
	t.Logf("timings: %v", w.laps)
}
