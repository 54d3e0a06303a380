package otr

// SMP and extra symmetric key, driven through the Conversation API.

import (
	"errors"
	"testing"
)

func TestSMPThroughConversation(t *testing.T) {
	for _, tc := range []struct {
		q, secretA, secretB string
		want                EventKind
	}{
		{"", "red", "red", EventSMPSucceeded},
		{"colour?", "red", "blue", EventSMPFailed},
	} {
		p := newPair(t, PolicyManual, PolicyManual, 200)
		p.secure(p.b)
		res, err := p.a.c.Authenticate(tc.q, []byte(tc.secretA))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.a.c.Authenticate("", nil); !errors.Is(err, ErrSMPInProgress) {
			t.Fatalf("second Authenticate: %v", err)
		}
		p.deliver(p.a, res.Send)
		wantAsk := EventSMPSecretNeeded
		if tc.q != "" {
			wantAsk = EventSMPQuestion
		}
		if !p.b.has(wantAsk) || !p.b.c.SMPInProgress() {
			t.Fatalf("bob events %v", p.b.kinds())
		}
		if tc.q != "" && p.b.events[len(p.b.events)-1].Question != tc.q {
			t.Fatal("question lost")
		}
		res, err = p.b.c.RespondSMP([]byte(tc.secretB))
		if err != nil {
			t.Fatal(err)
		}
		p.deliver(p.b, res.Send)
		if !p.a.has(tc.want) || !p.b.has(tc.want) {
			t.Fatalf("alice %v bob %v, want %v", p.a.kinds(), p.b.kinds(), tc.want)
		}
		if p.a.c.SMPInProgress() || p.b.c.SMPInProgress() {
			t.Fatal("SMP still in progress")
		}
	}
}

func TestSMPAbortAndErrors(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	if _, err := p.a.c.Authenticate("", []byte("s")); !errors.Is(err, ErrNotEncrypted) {
		t.Fatal(err)
	}
	p.secure(p.a)
	if _, err := p.a.c.RespondSMP([]byte("s")); !errors.Is(err, ErrNoSMPRequest) {
		t.Fatal(err)
	}
	res, _ := p.a.c.Authenticate("", []byte("s"))
	p.deliver(p.a, res.Send)
	res, err := p.b.c.AbortSMP()
	if err != nil || !hasText(res.Events, EventSMPAborted, "") {
		t.Fatal("abort")
	}
	p.deliver(p.b, res.Send)
	if !p.a.has(EventSMPAborted) || p.a.c.SMPInProgress() || p.b.c.SMPInProgress() {
		t.Fatalf("alice %v", p.a.kinds())
	}
}

func TestExtraSymmetricKey(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	p.send(p.a, "rotate")
	p.send(p.b, "rotate back")
	key, res, err := p.a.c.ExtraSymmetricKey(7, []byte("file.txt"))
	if err != nil {
		t.Fatal(err)
	}
	p.deliver(p.a, res.Send)
	ev := p.b.events[len(p.b.events)-1]
	if ev.Kind != EventExtraKey || ev.ExtraKey != key || ev.ExtraUse != 7 || string(ev.ExtraUseData) != "file.txt" {
		t.Fatalf("event %+v", ev)
	}
	if key == [32]byte{} {
		t.Fatal("zero key")
	}
	v2 := newPair(t, AllowV2, AllowV2, 0)
	v2.secure(v2.a)
	if _, _, err := v2.a.c.ExtraSymmetricKey(1, nil); err == nil {
		t.Fatal("extra key in v2")
	}
}
