package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/sotto-im/sotto/account"
)

// The resource a typed message goes to must be the one whose security the
// chat shows. A plain message, notice or error from another resource of
// the contact (a second login, or a server forging one — which may have
// its own encrypted, unverified session) used to move the target there
// while the chat still said Private.
func TestTargetFollowsShownSessionNotLastWriter(t *testing.T) {
	h := newHarness(t).withBob()
	laptop, evil := bobConv, bobConv
	laptop.Resource, evil.Resource = "laptop", "evil"
	h.u.Handle(account.SecurityChanged{Conv: laptop, Level: account.Private, Fingerprint: bobFP, Verified: true})
	v := h.u.chats.views[keyOf(bobConv)]
	h.drain()
	h.u.Handle(account.MessageReceived{Conv: evil, Body: "hi, plain"})
	h.u.Handle(account.Notice{Conv: evil, Text: "the next message arrived unencrypted"})
	h.u.Handle(account.MessageStateChanged{Conv: evil, ID: "carbon-x", Body: "x", State: account.SentPlain})
	if v.sec.Level != account.Private {
		t.Fatalf("level %v", v.sec.Level)
	}
	test.Type(v.input, "for bob's laptop only")
	pressEnter(v.input)
	if c := h.calls("Send", 1); c[0].args[0] != laptop {
		t.Fatalf("Send to %v while the chat shows laptop's Private session", c[0].args[0])
	}

	// A tab opened by the other resource's message also targets the
	// session it shows.
	h.u.chats.closed(v.tab)
	h.u.Handle(account.MessageReceived{Conv: evil, Body: "again"})
	v = h.u.chats.views[keyOf(bobConv)]
	if v.sec.Level != account.Private {
		t.Fatalf("reopened level %v", v.sec.Level)
	}
	test.Type(v.input, "still laptop")
	pressEnter(v.input)
	if c := h.calls("Send", 2); c[1].args[0] != laptop {
		t.Fatalf("Send to %v from a tab the other resource opened", c[1].args[0])
	}

	// A plain chat still answers whoever wrote last.
	h.u.Handle(account.SecurityChanged{Conv: laptop, Level: account.NotPrivate})
	h.u.Handle(account.MessageReceived{Conv: evil, Body: "plain chat"})
	test.Type(v.input, "reply")
	pressEnter(v.input)
	if c := h.calls("Send", 3); c[2].args[0] != evil {
		t.Fatalf("plain reply went to %v, want the last writer", c[2].args[0])
	}
}
