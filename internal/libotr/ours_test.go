//go:build libotr

package libotr

import (
	"crypto/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sotto-im/sotto/otr"
)

// Names on the simulated wire: libotr's account talks to ourName, our
// engine talks to libName.
const (
	libName = "pidgin@example.org/"
	ourName = "sotto@example.org/sotto"
)

var (
	ourKeyOnce sync.Once
	ourKey     *otr.PrivateKey
	ourKeyErr  error
)

// sharedOurKey is one DSA key for all tests (crypto/dsa generation is slow).
func sharedOurKey(t testing.TB) *otr.PrivateKey {
	t.Helper()
	ourKeyOnce.Do(func() { ourKey, ourKeyErr = otr.GenerateKey(rand.Reader) })
	if ourKeyErr != nil {
		t.Fatal(ourKeyErr)
	}
	return ourKey
}

// ourSide wraps our engine with the same outbox/events shape as Peer.
type ourSide struct {
	t      testing.TB
	conv   *otr.Conversation
	key    *otr.PrivateKey
	out    [][]byte
	events []otr.Event
	errs   []error // errors returned by Receive
	now    time.Time
	sent   [][]byte // every wire message we produced, in order
	rcvd   []string // every wire message we were given, in order
}

func newOurs(t testing.TB, policy otr.Policy, fragSize int) *ourSide {
	t.Helper()
	return newOursWithKey(t, sharedOurKey(t), policy, fragSize)
}

func newOursWithKey(t testing.TB, key *otr.PrivateKey, policy otr.Policy, fragSize int) *ourSide {
	t.Helper()
	return newOursWithTag(t, key, policy, fragSize, 0)
}

// newOursWithTag makes our side with a fixed instance tag (0 = random).
func newOursWithTag(t testing.TB, key *otr.PrivateKey, policy otr.Policy, fragSize int, tag uint32) *ourSide {
	t.Helper()
	cfg := otr.NewConfig(key, policy)
	cfg.FragmentSize = fragSize
	cfg.InstanceTag = tag
	// A clock that moves only when a test moves it (for heartbeats).
	o := &ourSide{t: t, key: key, now: time.Unix(1700000000, 0)}
	cfg.Now = func() time.Time { return o.now }
	c, err := otr.NewConversation(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o.conv = c
	return o
}

// take records a Result's wire messages and events and passes err on.
func (o *ourSide) take(res otr.Result, err error) error {
	o.out = append(o.out, res.Send...)
	o.sent = append(o.sent, res.Send...)
	o.events = append(o.events, res.Events...)
	return err
}

// must is take for calls that must succeed.
func (o *ourSide) must(res otr.Result, err error) {
	o.t.Helper()
	if err := o.take(res, err); err != nil {
		o.t.Fatal(err)
	}
}

// receive feeds one wire message and returns the plaintext shown (nil if
// none).
func (o *ourSide) receive(wire string) []byte {
	o.rcvd = append(o.rcvd, wire)
	res, err := o.conv.Receive([]byte(wire))
	if err != nil {
		o.errs = append(o.errs, err)
	}
	o.take(res, nil)
	return res.Plaintext
}

func (o *ourSide) Outbox() [][]byte {
	out := o.out
	o.out = nil
	return out
}

func (o *ourSide) Events() []otr.Event {
	e := o.events
	o.events = nil
	return e
}

// pump delivers both outboxes until both sides are quiet; it returns what
// libotr and our engine showed their users.
func pump(t testing.TB, lib *Peer, o *ourSide) (libShown, ourShown []string) {
	t.Helper()
	for round := 0; round < 200; round++ {
		lo, oo := lib.Outbox(), o.Outbox()
		if len(lo) == 0 && len(oo) == 0 {
			return
		}
		for _, m := range lo {
			if p := o.receive(m); p != nil {
				ourShown = append(ourShown, string(p))
			}
		}
		for _, m := range oo {
			s, ig, err := lib.Receive(ourName, string(m))
			if err != nil {
				t.Fatal(err)
			}
			if !ig {
				libShown = append(libShown, s)
			}
		}
	}
	t.Fatal("pump: sides never went quiet")
	return
}

func hasOurEvent(evs []otr.Event, k otr.EventKind) (otr.Event, bool) {
	for _, e := range evs {
		if e.Kind == k {
			return e, true
		}
	}
	return otr.Event{}, false
}

func mustOurEvent(t testing.TB, evs []otr.Event, k otr.EventKind) otr.Event {
	t.Helper()
	e, ok := hasOurEvent(evs, k)
	if !ok {
		t.Fatalf("ours: no %v event in %v", k, evs)
	}
	return e
}

// noTrouble fails if either side reported a problem: our unreadable,
// malformed, error-received or cheated events, Receive errors, or libotr
// message events other than heartbeat logs.
func noTrouble(t testing.TB, lib *Peer, libEv []Event, o *ourSide, ourEv []otr.Event) {
	t.Helper()
	for _, e := range ourEv {
		switch e.Kind {
		case otr.EventUnreadable, otr.EventMalformed, otr.EventErrorReceived, otr.EventSMPCheated,
			otr.EventInstanceMismatch:
			t.Errorf("ours reported %v: %q", e.Kind, e.Text)
		}
	}
	for _, err := range o.errs {
		t.Errorf("ours: Receive error: %v", err)
	}
	o.errs = nil
	for _, e := range libEv {
		if e.Kind == EventSMPCheated || e.Kind == EventSMPError {
			t.Errorf("libotr reported %v", e)
		}
		if e.Kind == EventMessage && e.Msg != MsgEventLogHeartbeatRcvd && e.Msg != MsgEventLogHeartbeatSent {
			t.Errorf("libotr reported %v", e)
		}
	}
}

// newLib makes the libotr side with policy and fragment size.
func newLib(t testing.TB, policy uint32, fragSize int) *Peer {
	t.Helper()
	lib := newLibotrPeer(t, libName)
	lib.SetPolicy(policy)
	lib.SetMaxMessageSize(fragSize)
	return lib
}

// checkSecure asserts both sides are encrypted with version v, agree on
// fingerprints, instance tags and the SSID, and reported going secure.
func checkSecure(t testing.TB, lib *Peer, o *ourSide, v int) {
	t.Helper()
	checkSecureWith(t, lib, o, v, EventGoneSecure)
}

// checkSecureWith is checkSecure with libotr's expected event given.
func checkSecureWith(t testing.TB, lib *Peer, o *ourSide, v int, libKind EventKind) {
	t.Helper()
	libEv, ourEv := lib.Events(), o.Events()
	noTrouble(t, lib, libEv, o, ourEv)
	if st := lib.MessageState(ourName); st != "encrypted" {
		t.Fatalf("libotr state %s, events %v; ours %v events %v", st, libEv, o.conv.State(), ourEv)
	}
	if o.conv.State() != otr.StateEncrypted {
		t.Fatalf("our state %v, events %v", o.conv.State(), ourEv)
	}
	if lv, ov := lib.ProtocolVersion(ourName), o.conv.Version(); lv != v || ov != v {
		t.Fatalf("versions: libotr %d, ours %d, want %d", lv, ov, v)
	}
	e := mustOurEvent(t, ourEv, otr.EventGoneSecure)
	if e.Version != v || e.Fingerprint.Hex() != lib.Fingerprint() {
		t.Fatalf("our GoneSecure event: v%d fp %s, want v%d %s", e.Version, e.Fingerprint.Hex(), v, lib.Fingerprint())
	}
	if le := mustEvent(t, "libotr", libEv, libKind); le.Version != v {
		t.Fatalf("libotr %v v%d", libKind, le.Version)
	}
	if fp, ok := o.conv.PeerFingerprint(); !ok || fp.Hex() != lib.Fingerprint() {
		t.Fatalf("ours sees libotr as %s", fp.Hex())
	}
	if got := lib.PeerFingerprint(ourName); got != o.key.Fingerprint().Hex() {
		t.Fatalf("libotr sees us as %s, we are %s", got, o.key.Fingerprint().Hex())
	}
	if v == 3 {
		if o.conv.PeerInstanceTag() != lib.InstanceTag() || lib.PeerInstanceTag(ourName) != o.conv.OurInstanceTag() {
			t.Fatalf("instance tags: ours sees %#x (libotr is %#x), libotr sees %#x (ours is %#x)",
				o.conv.PeerInstanceTag(), lib.InstanceTag(), lib.PeerInstanceTag(ourName), o.conv.OurInstanceTag())
		}
	}
	ssid, libBold := lib.SSID(ourName)
	ours := o.conv.SSID()
	if string(ssid) != string(ours[:]) {
		t.Fatalf("SSID: libotr %x, ours %x", ssid, ours)
	}
	if libBold == o.conv.SSIDHighlightFirst() {
		t.Fatalf("both sides bold the same SSID half (libotr first=%v, ours first=%v)", libBold, o.conv.SSIDHighlightFirst())
	}
}

// exchange sends msg from libotr to us and reply back, checks both arrive
// intact and encrypted, and returns the wire messages of each direction.
func exchange(t testing.TB, lib *Peer, o *ourSide, msg, reply string) (libWire []string, ourWire [][]byte) {
	t.Helper()
	var err error
	libWire, err = lib.Send(ourName, msg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range libWire {
		if !strings.HasPrefix(w, "?OTR") || (len(msg) > 8 && strings.Contains(w, msg)) {
			t.Fatalf("libotr put %.80q on the wire", w)
		}
		res, err := o.conv.Receive([]byte(w))
		if err != nil {
			t.Fatalf("ours: Receive: %v", err)
		}
		o.take(res, nil)
		if res.Plaintext != nil {
			if !res.Encrypted {
				t.Fatalf("ours: %q not marked encrypted", res.Plaintext)
			}
			got = append(got, string(res.Plaintext))
		}
	}
	if len(got) != 1 || got[0] != msg {
		t.Fatalf("ours shown %q, want %.60q", got, msg)
	}
	res, err := o.conv.Send([]byte(reply))
	if err != nil {
		t.Fatalf("ours: Send: %v", err)
	}
	o.events = append(o.events, res.Events...)
	ourWire = res.Send
	got = nil
	for _, w := range ourWire {
		if !strings.HasPrefix(string(w), "?OTR") || (len(reply) > 8 && strings.Contains(string(w), reply)) {
			t.Fatalf("ours put %.80q on the wire", w)
		}
		s, ig, err := lib.Receive(ourName, string(w))
		if err != nil {
			t.Fatal(err)
		}
		if !ig {
			got = append(got, s)
		}
	}
	if len(got) != 1 || got[0] != reply {
		t.Fatalf("libotr shown %q, want %.60q (events %v)", got, reply, lib.Events())
	}
	// Heartbeats or other replies, if any.
	if ls, os := pump(t, lib, o); len(ls)+len(os) > 0 {
		t.Fatalf("unexpected extra messages shown: libotr %q, ours %q", ls, os)
	}
	return libWire, ourWire
}
