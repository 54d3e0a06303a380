//go:build libotr

package libotr

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/otr"
)

type smpCase struct {
	initiator string // "libotr" or "ours"
	question  string // "" = shared secret only
	secret    string
	answer    string
	version   int
}

func (c smpCase) String() string {
	kind := "secret"
	if c.question != "" {
		kind = "question"
	}
	ok := "right"
	if c.secret != c.answer {
		ok = "wrong"
	}
	return fmt.Sprintf("v%d %s starts %s %s answer", c.version, c.initiator, kind, ok)
}

// runSMP runs one whole SMP and checks both sides' verdicts.
func runSMP(t *testing.T, lib *Peer, o *ourSide, c smpCase) {
	t.Helper()
	want := c.secret == c.answer
	if c.initiator == "libotr" {
		if err := lib.InitiateSMP(ourName, c.question, c.secret); err != nil {
			t.Fatal(err)
		}
		pump(t, lib, o)
		ourEv := o.Events()
		if c.question != "" {
			if e := mustOurEvent(t, ourEv, otr.EventSMPQuestion); e.Question != c.question {
				t.Fatalf("ours got question %q, want %q", e.Question, c.question)
			}
		} else {
			mustOurEvent(t, ourEv, otr.EventSMPSecretNeeded)
		}
		o.must(o.conv.RespondSMP([]byte(c.answer)))
	} else {
		o.must(o.conv.Authenticate(c.question, []byte(c.secret)))
		pump(t, lib, o)
		libEv := lib.Events()
		if c.question != "" {
			if e := mustEvent(t, "libotr", libEv, EventSMPAskForAnswer); e.Question != c.question {
				t.Fatalf("libotr got question %q, want %q", e.Question, c.question)
			}
		} else {
			mustEvent(t, "libotr", libEv, EventSMPAskForSecret)
		}
		if err := lib.RespondSMP(ourName, c.answer); err != nil {
			t.Fatal(err)
		}
	}
	pump(t, lib, o)
	libEv, ourEv := lib.Events(), o.Events()
	noTrouble(t, lib, libEv, o, ourEv)
	libOK, ourOK := EventSMPFailure, otr.EventSMPFailed
	if want {
		libOK, ourOK = EventSMPSuccess, otr.EventSMPSucceeded
	}
	mustEvent(t, "libotr", libEv, libOK)
	e := mustOurEvent(t, ourEv, ourOK)
	if e.Fingerprint.Hex() != lib.Fingerprint() {
		t.Fatalf("our SMP verdict names fingerprint %s, libotr is %s", e.Fingerprint.Hex(), lib.Fingerprint())
	}
	// libotr marks the fingerprint "smp" on success unless it was the side
	// that answered a question (message.c: received_question == 0): the
	// answerer has proved itself, not verified the asker.
	libVerifies := c.initiator == "libotr" || c.question == ""
	if want && libVerifies && lib.Trust(ourName) != "smp" {
		t.Fatalf("libotr trust after successful SMP: %q", lib.Trust(ourName))
	}
	if (!want || !libVerifies) && lib.Trust(ourName) != "" {
		t.Fatalf("libotr trust after failed SMP: %q", lib.Trust(ourName))
	}
	if o.conv.SMPInProgress() {
		t.Fatal("ours still has an SMP in progress")
	}
}

func TestInteropSMP(t *testing.T) {
	var cases []smpCase
	for _, v := range []int{3, 2} {
		for _, init := range []string{"libotr", "ours"} {
			for _, q := range []string{"Where did we meet?", ""} {
				cases = append(cases,
					smpCase{init, q, "in Zürich", "in Zürich", v},
					smpCase{init, q, "in Zürich", "in Zurich", v})
			}
		}
	}
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			ac := akeCases[0]
			if c.version == 2 {
				ac = akeCases[4]
			}
			lib, o := goSecure(t, ac, 0)
			runSMP(t, lib, o, c)
			exchange(t, lib, o, "still talking", "yes")
		})
	}
}

// TestInteropSMPAbort: each side aborts a run the other started, then a
// fresh run must still work; and both sides starting at once must not
// produce a verdict.
func TestInteropSMPAbort(t *testing.T) {
	t.Run("ours aborts libotr's request", func(t *testing.T) {
		lib, o := goSecure(t, akeCases[0], 0)
		if err := lib.InitiateSMP(ourName, "q?", "s"); err != nil {
			t.Fatal(err)
		}
		pump(t, lib, o)
		mustOurEvent(t, o.Events(), otr.EventSMPQuestion)
		o.must(o.conv.AbortSMP())
		pump(t, lib, o)
		mustEvent(t, "libotr", lib.Events(), EventSMPAbort)
		if o.conv.SMPInProgress() {
			t.Fatal("ours: SMP still in progress after abort")
		}
		runSMP(t, lib, o, smpCase{"ours", "again?", "yes", "yes", 3})
	})
	t.Run("libotr aborts our request", func(t *testing.T) {
		lib, o := goSecure(t, akeCases[0], 0)
		o.must(o.conv.Authenticate("q?", []byte("s")))
		pump(t, lib, o)
		mustEvent(t, "libotr", lib.Events(), EventSMPAskForAnswer)
		if err := lib.AbortSMP(ourName); err != nil {
			t.Fatal(err)
		}
		pump(t, lib, o)
		mustOurEvent(t, o.Events(), otr.EventSMPAborted)
		if o.conv.SMPInProgress() {
			t.Fatal("ours: SMP still in progress after libotr aborted")
		}
		runSMP(t, lib, o, smpCase{"libotr", "", "again", "again", 3})
	})
	t.Run("libotr aborts after step 2", func(t *testing.T) {
		lib, o := goSecure(t, akeCases[0], 0)
		o.must(o.conv.Authenticate("", []byte("s")))
		for _, w := range o.Outbox() {
			lib.Receive(ourName, string(w))
		}
		if err := lib.RespondSMP(ourName, "s"); err != nil {
			t.Fatal(err)
		}
		// SMP2 is in libotr's outbox; libotr aborts before we answer it.
		if err := lib.AbortSMP(ourName); err != nil {
			t.Fatal(err)
		}
		pump(t, lib, o)
		libEv, ourEv := lib.Events(), o.Events()
		mustOurEvent(t, ourEv, otr.EventSMPAborted)
		if _, ok := hasOurEvent(ourEv, otr.EventSMPSucceeded); ok {
			t.Fatalf("ours succeeded after abort: %v", ourEv)
		}
		if _, ok := hasEvent(libEv, EventSMPSuccess); ok {
			t.Fatalf("libotr succeeded after abort: %v", libEv)
		}
		runSMP(t, lib, o, smpCase{"ours", "", "t", "t", 3})
	})
	t.Run("both start at once", func(t *testing.T) {
		lib, o := goSecure(t, akeCases[0], 0)
		o.must(o.conv.Authenticate("", []byte("s")))
		if err := lib.InitiateSMP(ourName, "", "s"); err != nil {
			t.Fatal(err)
		}
		pump(t, lib, o)
		libEv, ourEv := lib.Events(), o.Events()
		t.Logf("crossing SMP1s: libotr %v; ours %v", libEv, ourEv)
		if _, ok := hasOurEvent(ourEv, otr.EventSMPSucceeded); ok {
			t.Fatalf("ours succeeded from crossing requests: %v", ourEv)
		}
		// Whatever state the crossing left, an explicit abort and a fresh
		// run must work.
		o.must(o.conv.AbortSMP())
		pump(t, lib, o)
		lib.Events()
		o.Events()
		runSMP(t, lib, o, smpCase{"libotr", "fresh?", "u", "u", 3})
	})
	t.Run("ours refuses a second start", func(t *testing.T) {
		lib, o := goSecure(t, akeCases[0], 0)
		o.must(o.conv.Authenticate("", []byte("s")))
		if _, err := o.conv.Authenticate("", []byte("s")); !errors.Is(err, otr.ErrSMPInProgress) {
			t.Fatalf("second Authenticate: %v", err)
		}
		pump(t, lib, o)
		mustEvent(t, "libotr", lib.Events(), EventSMPAskForSecret)
	})
}

// TestInteropSMPFragmented: SMP messages (up to ~2.5 KB encoded) cut into
// 300-byte fragments on both sides.
func TestInteropSMPFragmented(t *testing.T) {
	for _, ac := range []akeCase{akeCases[0], akeCases[4]} {
		t.Run(ac.name, func(t *testing.T) {
			lib, o := goSecure(t, ac, 300)
			n := len(o.sent)
			runSMP(t, lib, o, smpCase{"libotr", "long question? " + strings.Repeat("é", 200), "x", "x", ac.version})
			runSMP(t, lib, o, smpCase{"ours", "", "y", "y", ac.version})
			if frags := countFragments(o.sent[n:], ac.version); frags < 10 {
				t.Fatalf("only %d of our SMP wire messages were fragments", frags)
			}
		})
	}
}
