//go:build libotr

package libotr

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/otr"
)

// Interop between our engine (package otr) and libotr 4.1.1, in-process:
// every wire message one side produces is handed to the other verbatim.

// akeCase is one way of getting from plaintext to encrypted.
type akeCase struct {
	name      string
	libPolicy uint32
	ourPolicy otr.Policy
	start     func(t *testing.T, lib *Peer, o *ourSide)
	version   int
}

func libQuery(t *testing.T, lib *Peer, o *ourSide) {
	q := lib.Query()
	if !strings.HasPrefix(q, "?OTR") {
		t.Fatalf("libotr query %q", q)
	}
	if p := o.receive(q); p != nil {
		t.Fatalf("ours showed a query as text: %q", p)
	}
}

func ourQuery(t *testing.T, lib *Peer, o *ourSide) {
	res := o.conv.Query()
	if len(res.Send) != 1 {
		t.Fatalf("our query: %q", res.Send)
	}
	if _, ig, _ := lib.Receive(ourName, string(res.Send[0])); !ig {
		t.Fatalf("libotr showed our query %q", res.Send[0])
	}
}

// libWhitespace: libotr sends a plaintext with the whitespace tag; we must
// show the text without the tag and start the AKE.
func libWhitespace(t *testing.T, lib *Peer, o *ourSide) {
	w, err := lib.Send(ourName, "hello there")
	if err != nil || len(w) != 1 || w[0] == "hello there" {
		t.Fatalf("libotr tagged send: %q %v", w, err)
	}
	if p := o.receive(w[0]); string(p) != "hello there" {
		t.Fatalf("ours showed %q for %q", p, w[0])
	}
}

// ourWhitespace: we send a plaintext with the whitespace tag; libotr must
// show the text and start the AKE.
func ourWhitespace(t *testing.T, lib *Peer, o *ourSide) {
	res, err := o.conv.Send([]byte("hello there"))
	if err != nil || len(res.Send) != 1 || string(res.Send[0]) == "hello there" {
		t.Fatalf("our tagged send: %q %v", res.Send, err)
	}
	s, ig, err := lib.Receive(ourName, string(res.Send[0]))
	if err != nil || ig || s != "hello there" {
		t.Fatalf("libotr shown %q ignored=%v err=%v for %q", s, ig, err, res.Send[0])
	}
}

// ourRequire: our policy requires encryption, so Send refuses, sends a
// query, and we resend after going secure (the caller's job).
func ourRequire(t *testing.T, lib *Peer, o *ourSide) {
	res, err := o.conv.Send([]byte("keep this"))
	if !errors.Is(err, otr.ErrEncryptionRequired) || len(res.Send) != 1 || !strings.HasPrefix(string(res.Send[0]), "?OTR") {
		t.Fatalf("Send under RequireEncryption: %q %v", res.Send, err)
	}
	o.take(res, nil)
}

// libRequire: libotr's policy requires encryption; it sends a query, keeps
// the message and resends it encrypted once the AKE finishes.
func libRequire(t *testing.T, lib *Peer, o *ourSide) {
	w, err := lib.Send(ourName, "keep this")
	if err != nil || len(w) != 1 || !strings.HasPrefix(w[0], "?OTR") {
		t.Fatalf("libotr send under REQUIRE_ENCRYPTION: %q %v", w, err)
	}
	mustMsgEvent(t, "libotr", lib.Events(), MsgEventEncryptionRequired)
	o.receive(w[0])
}

var akeCases = []akeCase{
	{"libotr query v3", PolicyManual, otr.PolicyManual, libQuery, 3},
	{"our query v3", PolicyManual, otr.PolicyManual, ourQuery, 3},
	{"libotr whitespace v3", PolicyOpportunistic, otr.PolicyOpportunistic, libWhitespace, 3},
	{"our whitespace v3", PolicyOpportunistic, otr.PolicyOpportunistic, ourWhitespace, 3},
	{"libotr query, libotr v2 only", PolicyAllowV2, otr.PolicyManual, libQuery, 2},
	{"our query, libotr v2 only", PolicyAllowV2, otr.PolicyManual, ourQuery, 2},
	{"libotr query, ours v2 only", PolicyManual, otr.AllowV2, libQuery, 2},
	{"our query, ours v2 only", PolicyManual, otr.AllowV2, ourQuery, 2},
	{"libotr whitespace, libotr v2 only", PolicyAllowV2 | PolicySendWhitespaceTag, otr.PolicyOpportunistic, libWhitespace, 2},
	{"our whitespace, ours v2 only", PolicyOpportunistic, otr.AllowV2 | otr.SendWhitespaceTag, ourWhitespace, 2},
	{"ours requires encryption", PolicyManual, otr.PolicyAlways, ourRequire, 3},
	{"libotr requires encryption", PolicyAlways, otr.PolicyManual, libRequire, 3},
}

// goSecure runs one akeCase and leaves both sides encrypted.
func goSecure(t *testing.T, c akeCase, fragSize int) (*Peer, *ourSide) {
	t.Helper()
	lib := newLib(t, c.libPolicy, fragSize)
	o := newOurs(t, c.ourPolicy, fragSize)
	c.start(t, lib, o)
	libShown, ourShown := pump(t, lib, o)
	if len(libShown) > 0 {
		t.Fatalf("libotr showed %q during the AKE", libShown)
	}
	// Only libRequire may deliver something: libotr's held-back message.
	if c.name == "libotr requires encryption" {
		if len(ourShown) != 1 || ourShown[0] != "keep this" {
			t.Fatalf("libotr's resent message: ours shown %q", ourShown)
		}
	} else if len(ourShown) > 0 {
		t.Fatalf("ours showed %q during the AKE", ourShown)
	}
	checkSecure(t, lib, o, c.version)
	return lib, o
}

func TestInteropAKE(t *testing.T) {
	for _, c := range akeCases {
		t.Run(c.name, func(t *testing.T) {
			lib, o := goSecure(t, c, 0)
			exchange(t, lib, o, "from libotr "+c.name, "from sotto "+c.name)
		})
	}
}

func TestInteropFragments(t *testing.T) {
	for _, v := range []int{3, 2} {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			c := akeCases[0]
			if v == 2 {
				c = akeCases[4]
			}
			// Both sides fragment at 300 bytes, including the AKE messages
			// (a v3 DH-Key/Reveal-Signature is longer than that).
			lib, o := goSecure(t, c, 300)
			// The AKE's DH-Key/Reveal-Signature/Signature messages are
			// longer than 300 bytes: both sides must have fragmented them.
			ourFrags, libFrags := countFragments(o.sent, v), countFragments(toBytes(o.rcvd), v)
			if ourFrags < 2 || libFrags < 2 {
				t.Fatalf("AKE fragments: ours sent %d, libotr sent %d", ourFrags, libFrags)
			}
			for _, w := range o.sent {
				if len(w) > 300 {
					t.Fatalf("our AKE message is %d bytes > 300", len(w))
				}
			}
			long := strings.Repeat("fragment me, ünïcødé ✓ ", 60) // ~1.5 KB
			libWire, ourWire := exchange(t, lib, o, long, long+" back")
			if len(libWire) < 3 || len(ourWire) < 3 {
				t.Fatalf("expected fragments: libotr %d, ours %d wire messages", len(libWire), len(ourWire))
			}
			for _, w := range ourWire {
				if len(w) > 300 {
					t.Fatalf("our fragment is %d bytes > 300: %.40q", len(w), w)
				}
			}
			for _, w := range libWire {
				if len(w) > 300 {
					t.Fatalf("libotr fragment is %d bytes", len(w))
				}
			}
		})
	}
}

// TestInteropManyMessages alternates 300 messages so both sides rotate D-H
// keys many times, then sends bursts in one direction.
func TestInteropManyMessages(t *testing.T) {
	for _, c := range []akeCase{akeCases[0], akeCases[4]} {
		t.Run(fmt.Sprintf("v%d", c.version), func(t *testing.T) {
			lib, o := goSecure(t, c, 0)
			for i := 0; i < 150; i++ {
				exchange(t, lib, o, fmt.Sprintf("lib %d", i), fmt.Sprintf("ours %d", i))
			}
			// Bursts: 20 from libotr before we answer, then 20 from us.
			for burst := 0; burst < 3; burst++ {
				var wire []string
				for i := 0; i < 20; i++ {
					w, err := lib.Send(ourName, fmt.Sprintf("burst %d/%d", burst, i))
					if err != nil {
						t.Fatal(err)
					}
					wire = append(wire, w...)
				}
				for i, w := range wire {
					if p := o.receive(w); string(p) != fmt.Sprintf("burst %d/%d", burst, i) {
						t.Fatalf("burst %d/%d: ours shown %q", burst, i, p)
					}
				}
				var ourWire [][]byte
				for i := 0; i < 20; i++ {
					res, err := o.conv.Send([]byte(fmt.Sprintf("back %d/%d", burst, i)))
					if err != nil {
						t.Fatal(err)
					}
					ourWire = append(ourWire, res.Send...)
				}
				for i, w := range ourWire {
					if s, _, _ := lib.Receive(ourName, string(w)); s != fmt.Sprintf("back %d/%d", burst, i) {
						t.Fatalf("back %d/%d: libotr shown %q", burst, i, s)
					}
				}
				pump(t, lib, o)
			}
			noTrouble(t, lib, lib.Events(), o, o.Events())
		})
	}
}

// TestInteropReAKE: libotr queries again inside an encrypted session; the
// new AKE must leave both sides encrypted with working keys.
func TestInteropReAKE(t *testing.T) {
	lib, o := goSecure(t, akeCases[0], 0)
	exchange(t, lib, o, "before", "before back")
	libQuery(t, lib, o)
	pump(t, lib, o)
	libEv, ourEv := lib.Events(), o.Events()
	noTrouble(t, lib, libEv, o, ourEv)
	_, a := hasOurEvent(ourEv, otr.EventGoneSecure)
	_, b := hasOurEvent(ourEv, otr.EventStillSecure)
	if !a && !b {
		t.Fatalf("ours: no gone/still secure after re-AKE: %v", ourEv)
	}
	exchange(t, lib, o, "after", "after back")
	// And from our side.
	ourQuery(t, lib, o)
	pump(t, lib, o)
	noTrouble(t, lib, lib.Events(), o, o.Events())
	exchange(t, lib, o, "after 2", "after 2 back")
}

// countFragments counts wire messages in the fragment format of version v
// ("?OTR|" for v3, "?OTR," for v2).
func countFragments(ws [][]byte, v int) int {
	prefix := "?OTR|"
	if v == 2 {
		prefix = "?OTR,"
	}
	n := 0
	for _, w := range ws {
		if strings.HasPrefix(string(w), prefix) {
			n++
		}
	}
	return n
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// TestInteropCrossingAKE: both sides start at once (queries cross, then
// D-H Commits cross). Which commit wins depends on random hashes, so each
// case is repeated until we have seen our engine both win and lose the
// tie-break (the chance of missing one in 40 runs is 2^-39); every run must
// end in one working session.
//
// libotr 4.1.1 never compares hashes in a master context (it always
// yields), which is every v2 session: without the engine's fallback in
// handleDHCommit/handleDHKey a v2 collision that we lose deadlocks.
func TestInteropCrossingAKE(t *testing.T) {
	for _, c := range []akeCase{akeCases[0], akeCases[4], akeCases[6]} {
		t.Run(c.name, func(t *testing.T) {
			var won, lost int
			for run := 0; run < 40 && (won == 0 || lost == 0); run++ {
				lib := newLib(t, c.libPolicy, 0)
				o := newOurs(t, c.ourPolicy, 0)
				lib.Receive(ourName, string(o.conv.Query().Send[0]))
				o.receive(lib.Query())
				// Our reply to libotr's commit shows who won: a D-H Key
				// (type 0x0a) means we yielded.
				ourCommit := o.Outbox()
				for _, m := range lib.Outbox() {
					o.receive(m)
				}
				reply := o.Outbox()
				if len(ourCommit) != 1 || len(reply) != 1 {
					t.Fatalf("run %d: ours sent %q then %q", run, ourCommit, reply)
				}
				yielded := isAKEType(reply[0], 0x0a)
				if yielded {
					lost++
				} else {
					won++
				}
				lib.Receive(ourName, string(ourCommit[0]))
				o.out = reply
				pump(t, lib, o)
				if lib.MessageState(ourName) != "encrypted" || o.conv.State() != otr.StateEncrypted {
					t.Fatalf("run %d (we yielded=%v): deadlock: libotr %s/%s, ours %v",
						run, yielded, lib.MessageState(ourName), lib.AuthState(ourName), o.conv.State())
				}
				checkSecure(t, lib, o, c.version)
				exchange(t, lib, o, "crossed", "and joined")
			}
			t.Logf("we won %d, lost %d tie-breaks", won, lost)
			if won == 0 || lost == 0 {
				t.Fatalf("did not see both outcomes: won %d, lost %d", won, lost)
			}
		})
	}
}

// TestInteropCrossingReAKE: inside an encrypted session both sides ask
// for a new AKE at the same moment.
func TestInteropCrossingReAKE(t *testing.T) {
	for _, c := range []akeCase{akeCases[0], akeCases[4]} {
		t.Run(c.name, func(t *testing.T) {
			lib, o := goSecure(t, c, 0)
			for run := 0; run < 6; run++ {
				lib.Receive(ourName, string(o.conv.Query().Send[0]))
				o.receive(lib.Query())
				pump(t, lib, o)
				libEv, ourEv := lib.Events(), o.Events()
				noTrouble(t, lib, libEv, o, ourEv)
				if lib.MessageState(ourName) != "encrypted" || o.conv.State() != otr.StateEncrypted {
					t.Fatalf("run %d: libotr %s/%s, ours %v", run, lib.MessageState(ourName), lib.AuthState(ourName), o.conv.State())
				}
				exchange(t, lib, o, fmt.Sprintf("re-AKE %d", run), "ok")
			}
		})
	}
}

// isAKEType reports whether wire is an unfragmented encoded message of
// the given type byte (third byte of the decoded message).
func isAKEType(wire []byte, typ byte) bool {
	s := string(wire)
	if !strings.HasPrefix(s, "?OTR:") {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(s[5:], "."))
	return err == nil && len(b) > 2 && b[2] == typ
}

// TestInteropTagStrippedWithoutAKE: a whitespace tag is removed from the
// displayed text even when our policy does not start the AKE on it.
func TestInteropTagStrippedWithoutAKE(t *testing.T) {
	lib := newLib(t, PolicyOpportunistic, 0)
	o := newOurs(t, otr.PolicyManual, 0)
	w, _ := lib.Send(ourName, "tagged hello")
	if p := o.receive(w[0]); string(p) != "tagged hello" {
		t.Fatalf("ours shown %q for %q", p, w[0])
	}
	if len(o.Outbox()) != 0 || o.conv.State() != otr.StatePlaintext {
		t.Fatal("ours started an AKE without WhitespaceStartAKE")
	}
}

// TestInteropInstanceTagsOnWire: ParseInstanceTags reads libotr's v3
// messages (for routing to per-instance conversations).
func TestInteropInstanceTagsOnWire(t *testing.T) {
	lib, o := goSecure(t, akeCases[0], 0)
	w, _ := lib.Send(ourName, "route me")
	v, sender, receiver, ok := otr.ParseInstanceTags([]byte(w[0]))
	if !ok || v != 3 || sender != lib.InstanceTag() || receiver != o.conv.OurInstanceTag() {
		t.Fatalf("ParseInstanceTags = v%d %#x -> %#x ok=%v; want v3 %#x -> %#x",
			v, sender, receiver, ok, lib.InstanceTag(), o.conv.OurInstanceTag())
	}
	o.receive(w[0])
	// Fragments carry the tags too.
	lib.SetMaxMessageSize(120)
	w, _ = lib.Send(ourName, strings.Repeat("x", 300))
	v, sender, receiver, ok = otr.ParseInstanceTags([]byte(w[1]))
	if !ok || v != 3 || sender != lib.InstanceTag() || receiver != o.conv.OurInstanceTag() {
		t.Fatalf("fragment %q: v%d %#x -> %#x ok=%v", w[1], v, sender, receiver, ok)
	}
}
