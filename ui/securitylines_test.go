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
