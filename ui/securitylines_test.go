package ui

import (
	"strings"
	"testing"

	"github.com/sotto-im/sotto/account"
)

// The account layer fills Reason with its own terse text; the chat shows
// the friendly line only, unless no friendly line covers the change.
func TestSecurityLinesReasonNotRepeated(t *testing.T) {
	const fp = "AAAAAAAABBBBBBBBCCCCCCCCDDDDDDDDEEEEEEEE"
	prev := account.SecurityChanged{Level: account.NotPrivate}
	e := account.SecurityChanged{Level: account.Unverified, Fingerprint: fp,
		Reason: "private conversation started; bob@localhost's identity is not verified yet"}
	lines := securityLines(prev, e, "Bob")
	if len(lines) == 0 || lines[0].text != "Unverified conversation with Bob started." {
		t.Fatalf("want the friendly line first, got %+v", lines)
	}
	for _, l := range lines {
		if strings.Contains(l.text, "identity is not verified yet") {
			t.Errorf("the account's Reason was repeated: %q", l.text)
		}
	}
	odd := account.SecurityChanged{Level: account.NotPrivate, Reason: "something the UI has no words for"}
	lines = securityLines(prev, odd, "Bob")
	if len(lines) != 1 || lines[0].text != odd.Reason {
		t.Fatalf("an uncovered change must still show its Reason, got %+v", lines)
	}
}

// A key never seen before on a conversation that was already encrypted
// still gets its own line: it is a change the level does not show.
func TestSecurityLinesNewKeyOnRefresh(t *testing.T) {
	const fp = "AAAAAAAABBBBBBBBCCCCCCCCDDDDDDDDEEEEEEEE"
	prev := account.SecurityChanged{Level: account.Unverified, Fingerprint: "1111"}
	e := account.SecurityChanged{Level: account.Unverified, Fingerprint: fp, NewFingerprint: true}
	lines := securityLines(prev, e, "Bob")
	if len(lines) != 2 || !strings.Contains(lines[1].text, "unrecognized computer") {
		t.Fatalf("want the started line and the new-key line, got %+v", lines)
	}
}

// The first chat the peer opens (no tab yet: the tab appears with the
// change) says the conversation started, never "refreshed".
func TestFirstSecurityChangeOpensWithStartedLine(t *testing.T) {
	h := newHarness(t).withBob()
	h.sec(account.Unverified, bobFP, func(e *account.SecurityChanged) { e.NewFingerprint = true })
	v := h.u.chats.views[keyOf(bobConv)]
	if v == nil {
		t.Fatal("no tab for a conversation the peer made private")
	}
	want := []string{"Unverified conversation with bob started."}
	if got := systemLines(v); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("system lines %q, want %q", got, want)
	}
}

// Our own check that verifies the peer leaves one line, the result's, not
// a second one for the level change it causes; once both sides verified
// each other, neither dialog asks to verify the other.
func TestVerificationOneLineAndNoStaleAsk(t *testing.T) {
	h, v := authHarness(t)
	// bob verified us first: his check of us succeeded.
	h.u.Handle(account.SMPResult{Conv: bobConv, Outcome: account.SMPSucceeded})
	// Then we verify bob with a shared secret.
	v.auth.method.SetSelected(methodSecret)
	v.auth.secret.SetText("s3cret")
	v.auth.start()
	h.calls("Authenticate", 1)
	h.sec(account.Private, bobFP)
	h.u.Handle(account.SMPResult{Conv: bobConv, Outcome: account.SMPSucceeded, WeAsked: true})
	want := []string{
		"Unverified conversation with bob started.",
		"bob has verified you.",
		"Authentication succeeded: bob is verified.",
	}
	if got := systemLines(v); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("system lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if txt := v.auth.resultText.Text; strings.Contains(txt, "can verify you too") || !strings.Contains(txt, "verified each other") {
		t.Errorf("after both verified the dialog says %q", txt)
	}
	// And the other order: we verified bob, then bob verifies us.
	h.u.Handle(account.SMPResult{Conv: bobConv, Outcome: account.SMPSucceeded})
	if v.auth.verifyBack.Visible() || !strings.Contains(v.auth.resultText.Text, "verified each other") {
		t.Errorf("verified bob, then bob verified us: %q, verify-back %v", v.auth.resultText.Text, v.auth.verifyBack.Visible())
	}
}
