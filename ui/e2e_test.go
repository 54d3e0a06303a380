package ui

// End to end through the widgets: two real account.Managers on the
// Prosody test bed, each with its own UI; the test taps and types as the
// two people would, and the server's stanza log shows what went over the
// wire.

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sotto-im/sotto/account"
	"github.com/sotto-im/sotto/internal/testbed"
)

// TestMain kills any Prosody the E2E tests leave behind (also on SIGINT).
func TestMain(m *testing.M) { testbed.Main(m) }

// Alice and Bob log in and befriend each other through their rosters;
// Alice opens the chat, starts OTR from the status menu (both sides turn
// Unverified), authenticates Bob with a question he answers in his own
// dialog, and turns Private. A message she then types reaches Bob
// decrypted and never crosses the server in the clear.
func TestE2EPrivateConversationAndSMPThroughUI(t *testing.T) {
	const (
		question = "Which street did we meet on?"
		answer   = "Rue des Martyrs 42"
		secret   = "the falcon nests under the old bridge"
	)
	w := newE2E(t)
	// Alice starts OTR herself from the menu (Manual: no auto-start on
	// open); Bob keeps the default policy.
	alice := w.addSide("alice", account.Manual)
	bob := w.addSide("bob", account.Opportunistic)
	w.lap("prosody + managers")
	w.loginThroughRosters()
	w.lap("login")
	w.befriendThroughRosters(alice, bob)
	w.lap("befriend")

	av, bv := goPrivateFromMenu(t, w, alice, bob)
	w.lap("AKE")
	authenticateWithQuestion(t, w, av, bv, question, answer)
	w.lap("SMP")

	// Alice types a message into the chat and presses Enter.
	test.Type(av.input, secret)
	pressEnter(av.input)
	w.settle("Bob shows the message decrypted", func() bool { return hasIncoming(bv, secret, true) })
	w.settle("Alice's line marked sent encrypted", func() bool {
		s, _ := lastOut(av).stateText()
		return lastOut(av).body == secret && s == "sent encrypted"
	})
	w.lap("message")
	w.drain()

	log := w.srv.StanzaLog()
	if !strings.Contains(log, "?OTR:") {
		t.Fatal("the stanza log holds no OTR message: it cannot prove anything")
	}
	for _, s := range []string{secret, answer, question} {
		if strings.Contains(log, s) {
			t.Errorf("the server saw %q in the clear", s)
		}
	}
	t.Logf("timings: %s", strings.Join(w.laps, ", "))
}

// goPrivateFromMenu: Alice double-taps Bob in her roster and chooses
// Start private conversation from the status menu; both chats turn
// Unverified and show the other's real fingerprint.
func goPrivateFromMenu(t *testing.T, w *e2eWorld, alice, bob *e2eSide) (av, bv *convView) {
	t.Helper()
	test.DoubleTap(rosterRowFor(t, alice, bob))
	av = alice.view(bob)
	if av == nil {
		t.Fatal("double-tapping Bob opened no chat")
	}
	w.drain()
	if av.status.Text != "Not private" || av.status.Importance != widget.DangerImportance {
		t.Fatalf("new chat shows %q (importance %v), want Not private", av.status.Text, av.status.Importance)
	}
	w.lap("open chat")

	chooseFromStatusMenu(t, av.status, "Start private conversation")
	w.settle("both sides Unverified", func() bool {
		bv = bob.view(alice)
		return av.status.Text == "Unverified" && bv != nil && bv.status.Text == "Unverified"
	})
	for _, v := range []*convView{av, bv} {
		if v.status.Importance != widget.WarningImportance || v.sec.Verified {
			t.Errorf("%s: Unverified shown with importance %v, verified=%v", v.conv.Account, v.status.Importance, v.sec.Verified)
		}
	}
	assertFingerprintShown(t, av, bob)
	assertFingerprintShown(t, bv, alice)
	return av, bv
}

// authenticateWithQuestion: Alice asks through Authenticate buddy…, Bob
// answers in the dialog his UI opens; Alice ends Private.
func authenticateWithQuestion(t *testing.T, w *e2eWorld, av, bv *convView, question, answer string) {
	t.Helper()
	chooseFromStatusMenu(t, av.status, "Authenticate buddy…")
	a := av.auth
	if a == nil || !a.ask.Visible() {
		t.Fatal("Authenticate buddy… did not open the dialog on its first page")
	}
	a.method.SetSelected(methodQA)
	test.Type(a.question, question)
	test.Type(a.qaAnswer, answer)
	test.Tap(a.startBtn)
	if !a.wait.Visible() {
		t.Fatalf("no progress page after Authenticate (error %q)", a.askErr.Text)
	}

	w.settle("Bob's answer dialog", func() bool { return bv.auth != nil && bv.auth.answer.Visible() })
	ba := bv.auth
	if !strings.Contains(ba.peerQuestion.Text, question) {
		t.Fatalf("Bob's dialog shows %q, want the question %q", ba.peerQuestion.Text, question)
	}
	test.Type(ba.reply, answer)
	test.Tap(ba.answerBtn)

	// Both dialogs show the outcome (a wrong answer ends here too, at
	// once); the level change comes before the result, so Alice is
	// Private by then.
	w.settle("both SMP results", func() bool { return a.result.Visible() && ba.result.Visible() })
	if av.status.Text != "Private" {
		t.Fatalf("after the SMP Alice shows %q; her dialog says %q", av.status.Text, a.resultText.Text)
	}
	if av.status.Importance != widget.SuccessImportance || !av.sec.Verified {
		t.Errorf("Private shown with importance %v, verified=%v", av.status.Importance, av.sec.Verified)
	}
	wantLine := "Authentication succeeded: " + av.peerName() + " is verified."
	if !slices.Contains(systemLines(av), wantLine) {
		t.Errorf("no %q in Alice's chat; system lines:\n%s", wantLine, strings.Join(systemLines(av), "\n"))
	}
	if !strings.Contains(a.resultText.Text, "Authentication succeeded") {
		t.Errorf("Alice's dialog says %q", a.resultText.Text)
	}
	// Only the asker learns the answer matched: Bob is told Alice
	// verified him and is offered to verify her in turn.
	if bv.status.Text != "Unverified" || !ba.verifyBack.Visible() ||
		!slices.Contains(systemLines(bv), bv.peerName()+" has verified you.") {
		t.Errorf("Bob: status %q, verify-back %v, lines %q", bv.status.Text, ba.verifyBack.Visible(), systemLines(bv))
	}
}

func hasIncoming(v *convView, body string, encrypted bool) bool {
	for _, l := range v.msgs.lines {
		if l.kind == lineIn && l.body == body && l.encrypted == encrypted {
			return true
		}
	}
	return false
}
