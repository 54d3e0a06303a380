package otr

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestAKEQueryFromEitherSide(t *testing.T) {
	for _, frag := range []int{0, 140} {
		for _, starter := range []string{"alice", "bob"} {
			t.Run(fmt.Sprintf("%s/frag%d", starter, frag), func(t *testing.T) {
				p := newPair(t, PolicyManual, PolicyManual, frag)
				s := p.a
				if starter == "bob" {
					s = p.b
				}
				p.secure(s)
				checkSecure(t, p, 3)
				if frag > 0 {
					if !strings.HasPrefix(p.wire[1], "?OTR|") {
						t.Fatalf("D-H commit not fragmented: %q", p.wire[1])
					}
					for _, m := range p.wire {
						if strings.HasPrefix(m, "?OTRv") {
							continue // queries are plaintext, never fragmented
						}
						if len(m) > frag {
							t.Fatalf("wire message of %d bytes exceeds fragment size %d", len(m), frag)
						}
					}
				}
				p.send(p.a, "hello bob")
				p.send(p.b, "hello alice")
				if p.b.lastPlain() != "hello bob" || p.a.lastPlain() != "hello alice" {
					t.Fatalf("got %q / %q", p.b.plain, p.a.plain)
				}
				if !p.a.enc[len(p.a.enc)-1] || !p.b.enc[len(p.b.enc)-1] {
					t.Fatal("data message plaintext not marked encrypted")
				}
			})
		}
	}
}

func checkSecure(t *testing.T, p *pair, version int) {
	t.Helper()
	for _, s := range []*side{p.a, p.b} {
		if n := s.count(EventGoneSecure); n != 1 {
			t.Fatalf("%s: %d GoneSecure events, want 1 (events %v)", s.name, n, s.kinds())
		}
		if s.c.Version() != version {
			t.Fatalf("%s: version %d, want %d", s.name, s.c.Version(), version)
		}
	}
	fpA, ok := p.a.c.PeerFingerprint()
	if !ok || fpA != testKey(t, 1).Fingerprint() {
		t.Fatal("alice does not see bob's fingerprint")
	}
	fpB, ok := p.b.c.PeerFingerprint()
	if !ok || fpB != testKey(t, 0).Fingerprint() {
		t.Fatal("bob does not see alice's fingerprint")
	}
	for _, e := range p.a.events {
		if e.Kind == EventGoneSecure && (e.Fingerprint != fpA || e.Version != version) {
			t.Fatalf("GoneSecure event %+v", e)
		}
	}
	if p.a.c.SSID() != p.b.c.SSID() || p.a.c.SSID() == [8]byte{} {
		t.Fatal("SSIDs differ or are zero")
	}
	if p.a.c.SSIDHighlightFirst() == p.b.c.SSIDHighlightFirst() {
		t.Fatal("both sides highlight the same SSID half")
	}
	if version == 3 && (p.a.c.PeerInstanceTag() != p.b.c.OurInstanceTag() ||
		p.b.c.PeerInstanceTag() != p.a.c.OurInstanceTag()) {
		t.Fatal("instance tags not learned")
	}
}

func TestWhitespaceTagStartsAKE(t *testing.T) {
	p := newPair(t, PolicyOpportunistic, PolicyOpportunistic, 0)
	res, err := p.a.c.Send([]byte("hi there"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(res.Send[0], wsBase) || !bytes.Contains(res.Send[0], wsV3) {
		t.Fatalf("no whitespace tag in %q", res.Send[0])
	}
	p.deliver(p.a, res.Send)
	if len(p.b.plain) != 1 || p.b.plain[0] != "hi there" || p.b.enc[0] {
		t.Fatalf("bob saw %q", p.b.plain)
	}
	p.mustBeSecure()
	checkSecure(t, p, 3)
	if p.b.has(EventPlaintextReceived) {
		t.Fatal("tagged plaintext in plaintext state must not warn")
	}
}

func TestWhitespaceTagStopsAfterPlaintextReply(t *testing.T) {
	p := newPair(t, PolicyOpportunistic, PolicyManual, 0)
	res, _ := p.a.c.Send([]byte("one"))
	if !bytes.Contains(res.Send[0], wsBase) {
		t.Fatal("first message untagged")
	}
	p.deliver(p.a, res.Send) // bob's policy does not start the AKE on a tag
	if p.b.c.State() != StatePlaintext || p.b.lastPlain() != "one" {
		t.Fatal("bob should just show the message")
	}
	p.send(p.b, "plain answer")
	res, _ = p.a.c.Send([]byte("two"))
	if bytes.Contains(res.Send[0], wsBase) {
		t.Fatal("tag still sent after a plaintext reply")
	}
}

func TestVersion2WhenOnlyOneSideAllowsIt(t *testing.T) {
	for _, starter := range []string{"alice", "bob"} {
		t.Run(starter, func(t *testing.T) {
			p := newPair(t, AllowV2, PolicyManual, 100)
			s := p.a
			if starter == "bob" {
				s = p.b
			}
			q := s.c.Query()
			want := "?OTRv2?"
			if starter == "bob" {
				want = "?OTRv23?"
			}
			if !bytes.HasPrefix(q.Send[0], []byte(want)) {
				t.Fatalf("query %q", q.Send[0])
			}
			p.deliver(s, q.Send)
			checkSecure(t, p, 2)
			for _, m := range p.wire {
				if strings.HasPrefix(m, "?OTR|") {
					t.Fatalf("v3 fragment in a v2 session: %q", m)
				}
			}
			p.send(p.a, "v2 works")
			p.send(p.b, "both ways")
			if p.b.lastPlain() != "v2 works" || p.a.lastPlain() != "both ways" {
				t.Fatal("v2 data failed")
			}
		})
	}
}

func TestManyMessagesRotateKeys(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	seen := map[uint32]bool{}
	for i := 0; i < 200; i++ {
		from, to := p.a, p.b
		if i%3 == 2 { // not strictly alternating: some runs in one direction
			from, to = p.b, p.a
		}
		text := fmt.Sprintf("message %d", i)
		p.send(from, text)
		if to.lastPlain() != text {
			t.Fatalf("message %d: got %q", i, to.lastPlain())
		}
		seen[p.a.c.keys.ourKeyID] = true
	}
	if len(seen) < 50 {
		t.Fatalf("alice's key id took only %d values over 200 messages", len(seen))
	}
	for _, s := range []*side{p.a, p.b} {
		if s.has(EventMalformed) || s.has(EventUnreadable) {
			t.Fatalf("%s: unexpected events %v", s.name, s.kinds())
		}
	}
	// Old MAC keys must have been revealed on the wire along the way.
	revealed := 0
	for _, m := range p.wire {
		if bin, ok := decode([]byte(m)); ok {
			if h, body, _ := parseHeader(bin); h.typ == msgData {
				if d, ok := parseDataMessage(bin, body); ok {
					revealed += len(d.revealedMACKeys) / 20
				}
			}
		}
	}
	if revealed < 100 {
		t.Fatalf("only %d MAC keys revealed", revealed)
	}
}

func TestEndFinishesPeer(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	res, err := p.a.c.End()
	if err != nil {
		t.Fatal(err)
	}
	if p.a.c.State() != StatePlaintext || p.a.c.keys != nil {
		t.Fatal("alice did not return to plaintext and forget keys")
	}
	p.deliver(p.a, res.Send)
	if p.b.c.State() != StateFinished || !p.b.has(EventPeerEnded) {
		t.Fatalf("bob: state %v events %v", p.b.c.State(), p.b.kinds())
	}
	if len(p.b.plain) != 0 {
		t.Fatalf("disconnect showed text %q", p.b.plain)
	}
	res, err = p.b.c.Send([]byte("are you there?"))
	if !errors.Is(err, ErrFinished) || len(res.Send) != 0 {
		t.Fatalf("send in finished: %v, %d messages", err, len(res.Send))
	}
	// Bob ends too and they can start again.
	if res, err = p.b.c.End(); err != nil || len(res.Send) != 0 || p.b.c.State() != StatePlaintext {
		t.Fatal("end from finished")
	}
	p.deliver(p.b, p.b.c.Query().Send)
	p.mustBeSecure()
	if p.b.count(EventGoneSecure) != 2 {
		t.Fatalf("bob events %v", p.b.kinds())
	}
}

func TestEndWipesKeyMaterial(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	p.send(p.a, "x")
	k := p.a.c.keys
	priv := k.ourPrev.priv
	sess := k.sessions[0]
	if _, err := p.a.c.End(); err != nil {
		t.Fatal(err)
	}
	if priv.Sign() != 0 || sess.sendAES != [16]byte{} || sess.recvMAC != [20]byte{} {
		t.Fatal("key material not wiped")
	}
}

func TestRequireEncryption(t *testing.T) {
	p := newPair(t, PolicyAlways, PolicyManual, 0)
	res, err := p.a.c.Send([]byte("secret"))
	if !errors.Is(err, ErrEncryptionRequired) {
		t.Fatalf("err %v", err)
	}
	if len(res.Send) != 1 || !bytes.HasPrefix(res.Send[0], []byte("?OTRv23?")) {
		t.Fatalf("send %q", res.Send)
	}
	if len(res.Events) != 1 || res.Events[0].Kind != EventEncryptionRequired {
		t.Fatalf("events %v", res.Events)
	}
	if bytes.Contains(res.Send[0], []byte("secret")) {
		t.Fatal("plaintext leaked")
	}
	p.deliver(p.a, res.Send)
	p.mustBeSecure()
	p.send(p.a, "secret")
	if p.b.lastPlain() != "secret" {
		t.Fatal("resend after going secure failed")
	}
	// Plaintext arriving while encryption is required is flagged.
	p.a.reset()
	p.deliver(p.b, [][]byte{[]byte("plain")})
	if !p.a.has(EventPlaintextReceived) || p.a.enc[0] {
		t.Fatal("plaintext not flagged")
	}
}

func TestSimultaneousCommits(t *testing.T) {
	for _, frag := range []int{0, 90} {
		p := newPair(t, PolicyManual, PolicyManual, frag)
		// Both send a query; each answers the other's with a D-H commit,
		// and the commits cross.
		qa, qb := p.a.c.Query(), p.b.c.Query()
		ra, err := p.a.c.Receive(qb.Send[0])
		if err != nil {
			t.Fatal(err)
		}
		rb, err := p.b.c.Receive(qa.Send[0])
		if err != nil {
			t.Fatal(err)
		}
		if p.a.c.ake.state != authAwaitingDHKey || p.b.c.ake.state != authAwaitingDHKey {
			t.Fatal("both should await a D-H key")
		}
		higher := p.a
		if bytes.Compare(p.b.c.ake.hashedGx, p.a.c.ake.hashedGx) > 0 {
			higher = p.b
		}
		// Deliver both commits before any reply.
		var outA, outB [][]byte
		for _, m := range rb.Send {
			r, _ := p.a.c.Receive(m)
			p.a.record(r)
			outA = append(outA, r.Send...)
		}
		for _, m := range ra.Send {
			r, _ := p.b.c.Receive(m)
			p.b.record(r)
			outB = append(outB, r.Send...)
		}
		if higher.c.ake.state != authAwaitingDHKey || p.other(higher).c.ake.state != authAwaitingRevealSig {
			t.Fatalf("collision rule: higher in %v, lower in %v", higher.c.ake.state, p.other(higher).c.ake.state)
		}
		p.deliver(p.a, outA)
		p.deliver(p.b, outB)
		p.mustBeSecure()
		checkSecure(t, p, 3)
	}
}

func TestDataInWrongStateIsUnreadable(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	res, _ := p.a.c.Send([]byte("late"))
	if _, err := p.b.c.End(); err != nil {
		t.Fatal(err)
	}
	r, _ := p.b.c.Receive(res.Send[0])
	if len(r.Events) != 1 || r.Events[0].Kind != EventUnreadable || r.Plaintext != nil {
		t.Fatalf("events %v plaintext %q", r.Events, r.Plaintext)
	}
	if len(r.Send) != 1 || !bytes.HasPrefix(r.Send[0], []byte("?OTR Error:")) {
		t.Fatalf("no error reply: %q", r.Send)
	}
	// The heartbeat-style flag suppresses both.
	p2 := newPair(t, PolicyManual, PolicyManual, 0)
	p2.secure(p2.a)
	p2.clock.t = p2.clock.t.Add(time.Hour)
	hb := p2.a.c.Tick() // nothing received yet: no heartbeat
	if len(hb.Send) != 0 {
		t.Fatal("heartbeat without a received message")
	}
	end, _ := p2.a.c.End() // Disconnected is sent with IGNORE_UNREADABLE
	if _, err := p2.b.c.End(); err != nil {
		t.Fatal(err)
	}
	r, _ = p2.b.c.Receive(end.Send[0])
	if len(r.Events) != 0 || len(r.Send) != 0 {
		t.Fatalf("ignore-unreadable message produced %v %q", r.Events, r.Send)
	}
}

func TestErrorMessage(t *testing.T) {
	p := newPair(t, PolicyOpportunistic, PolicyOpportunistic, 0)
	r, _ := p.a.c.Receive([]byte("?OTR Error: You transmitted an unreadable encrypted message."))
	if !hasText(r.Events, EventErrorReceived, "unreadable encrypted") || r.Plaintext != nil {
		t.Fatalf("%+v", r)
	}
	if len(r.Send) != 1 || !bytes.HasPrefix(r.Send[0], []byte("?OTRv23?")) {
		t.Fatal("ErrorStartAKE did not send a query")
	}
	m := newPair(t, PolicyManual, PolicyManual, 0)
	r, _ = m.a.c.Receive([]byte("?OTR Error: x"))
	if len(r.Send) != 0 {
		t.Fatal("query sent without ErrorStartAKE")
	}
}

func TestHeartbeat(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	res, _ := p.a.c.Send([]byte("one"))
	p.clock.t = p.clock.t.Add(30 * time.Second)
	r, _ := p.b.c.Receive(res.Send[0])
	if len(r.Send) != 0 {
		t.Fatal("heartbeat before the interval")
	}
	if len(p.b.c.Tick().Send) != 0 {
		t.Fatal("tick heartbeat before the interval")
	}
	p.clock.t = p.clock.t.Add(31 * time.Second)
	hb := p.b.c.Tick()
	if len(hb.Send) != 1 {
		t.Fatal("no heartbeat from Tick")
	}
	if len(p.b.c.Tick().Send) != 0 {
		t.Fatal("second heartbeat without new traffic")
	}
	ra, _ := p.a.c.Receive(hb.Send[0])
	if ra.Plaintext != nil || len(ra.Events) != 0 {
		t.Fatalf("heartbeat shown: %+v", ra)
	}
	// Receive also answers with a heartbeat when we have been silent long.
	res, _ = p.a.c.Send([]byte("two"))
	p.clock.t = p.clock.t.Add(2 * time.Minute)
	r, _ = p.b.c.Receive(res.Send[0])
	if string(r.Plaintext) != "two" || len(r.Send) != 1 {
		t.Fatalf("receive heartbeat: %q, %d sends", r.Plaintext, len(r.Send))
	}
	bin, _ := decode(r.Send[0])
	h, body, _ := parseHeader(bin)
	if d, ok := parseDataMessage(bin, body); !ok || h.typ != msgData || d.flags != flagIgnoreUnreadable {
		t.Fatal("heartbeat is not an IGNORE_UNREADABLE data message")
	}
}

func TestReAKEGivesStillSecure(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	oldSSID := p.a.c.SSID()
	p.send(p.a, "before")
	p.deliver(p.b, p.b.c.Query().Send)
	if !p.a.has(EventStillSecure) || !p.b.has(EventStillSecure) {
		t.Fatalf("alice %v bob %v", p.a.kinds(), p.b.kinds())
	}
	if p.a.c.SSID() == oldSSID {
		t.Fatal("SSID did not change")
	}
	p.send(p.a, "after")
	p.send(p.b, "after too")
	if p.b.lastPlain() != "after" || p.a.lastPlain() != "after too" {
		t.Fatal("data after re-AKE")
	}
}

func TestPlaintextWhileEncrypted(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	r, _ := p.a.c.Receive([]byte("oops plain"))
	if string(r.Plaintext) != "oops plain" || r.Encrypted || len(r.Events) != 1 ||
		r.Events[0].Kind != EventPlaintextReceived {
		t.Fatalf("%+v", r)
	}
}

func TestSendRejectsNUL(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	if _, err := p.a.c.Send([]byte("a\x00\x00\x01\x00\x00")); err == nil {
		t.Fatal("NUL accepted: it would smuggle TLVs")
	}
}

func TestNewConversationConfig(t *testing.T) {
	cfg := NewConfig(testKey(t, 0), PolicyManual)
	c, err := NewConversation(cfg)
	if err != nil || c.OurInstanceTag() < minInstanceTag {
		t.Fatalf("%v %x", err, c.OurInstanceTag())
	}
	cfg.InstanceTag = 0x42
	if _, err := NewConversation(cfg); err == nil {
		t.Fatal("tag below 0x100 accepted")
	}
	if _, err := NewConversation(Config{Policy: PolicyManual}); err == nil {
		t.Fatal("missing key accepted")
	}
}

func TestOTRDisabled(t *testing.T) {
	c, err := NewConversation(Config{Key: testKey(t, 0), Rand: detRand(1), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := c.Receive([]byte("?OTRv23?"))
	if string(r.Plaintext) != "?OTRv23?" || len(r.Send) != 0 {
		t.Fatal("disabled policy must pass messages through")
	}
}

type brokenRand struct{ n int }

func (b *brokenRand) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errors.New("entropy gone")
	}
	b.n--
	return len(p), nil
}

func TestRandomFailureIsAnError(t *testing.T) {
	cfg := testConfig(t, 0, PolicyManual, &testClock{})
	cfg.InstanceTag = 0x100
	cfg.Rand = &brokenRand{}
	c, err := NewConversation(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Receive([]byte("?OTRv3?")); err == nil {
		t.Fatal("AKE started without randomness")
	}
	cfg.InstanceTag = 0
	if _, err := NewConversation(cfg); err == nil {
		t.Fatal("instance tag picked without randomness")
	}
}

func TestEventNames(t *testing.T) {
	if EventGoneSecure.String() != "gone secure" || EventKind(0).String() != "EventKind(0)" ||
		EventEncryptionRequired.String() != "encryption required" || StateFinished.String() != "finished" {
		t.Fatal("names")
	}
}

// TestNextTickIsWhenTickSends: NextTick names exactly the moment Tick
// starts sending a heartbeat, and says "none" once it has been sent (so
// an idle caller can sleep instead of polling).
func TestNextTickIsWhenTickSends(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	if _, due := p.b.c.NextTick(); due {
		t.Fatal("a heartbeat is due before any data message arrived")
	}
	res, _ := p.a.c.Send([]byte("one"))
	if _, err := p.b.c.Receive(res.Send[0]); err != nil {
		t.Fatal(err)
	}
	at, due := p.b.c.NextTick()
	if !due {
		t.Fatal("no heartbeat due after a data message arrived")
	}
	p.clock.t = at.Add(-time.Nanosecond)
	if len(p.b.c.Tick().Send) != 0 {
		t.Fatalf("Tick sent before NextTick's time %v", at)
	}
	p.clock.t = at
	if len(p.b.c.Tick().Send) != 1 {
		t.Fatalf("Tick sent nothing at NextTick's time %v", at)
	}
	if _, due := p.b.c.NextTick(); due {
		t.Fatal("a heartbeat is still due after it was sent")
	}
}
