package otr

// In-memory Alice/Bob harness shared by the conversation tests.

import (
	"crypto/rand"
	"io"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	testKeysOnce sync.Once
	testKeys     [3]*PrivateKey
)

// testKey returns one of three long-term keys generated once per test run
// (DSA parameter generation takes ~0.1-0.3 s each).
func testKey(t testing.TB, i int) *PrivateKey {
	t.Helper()
	testKeysOnce.Do(func() {
		for j := range testKeys {
			k, err := GenerateKey(rand.Reader)
			if err != nil {
				panic(err)
			}
			testKeys[j] = k
		}
	})
	return testKeys[i]
}

// detRand is a deterministic random source for reproducible tests.
func detRand(seed uint64) io.Reader {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	return mrand.NewChaCha8(s)
}

// testClock is a settable clock.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

func testConfig(t testing.TB, key int, p Policy, clock *testClock) Config {
	return Config{Key: testKey(t, key), Policy: p, Rand: detRand(uint64(key) + 1),
		Now: clock.now, FragmentSize: 0}
}

// side is one participant with everything it has received so far.
type side struct {
	name   string
	c      *Conversation
	events []Event
	plain  []string
	enc    []bool
}

func (s *side) kinds() []EventKind {
	var out []EventKind
	for _, e := range s.events {
		out = append(out, e.Kind)
	}
	return out
}

func (s *side) has(k EventKind) bool {
	for _, e := range s.events {
		if e.Kind == k {
			return true
		}
	}
	return false
}

func (s *side) count(k EventKind) int {
	n := 0
	for _, e := range s.events {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func (s *side) reset() { s.events, s.plain, s.enc = nil, nil, nil }

type pair struct {
	t     testing.TB
	clock *testClock
	a, b  *side
	// wire is every message that crossed, for replay and inspection.
	wire []string
	// filter may drop or alter a message in flight; nil passes everything.
	filter func(to *side, msg []byte) []byte
}

// newPair makes Alice (key 0) and Bob (key 1) with the given policies and
// fragment size.
func newPair(t testing.TB, pa, pb Policy, frag int) *pair {
	t.Helper()
	clock := &testClock{t: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
	ca := testConfig(t, 0, pa, clock)
	cb := testConfig(t, 1, pb, clock)
	ca.FragmentSize, cb.FragmentSize = frag, frag
	ca.InstanceTag, cb.InstanceTag = 0x1234a, 0x5678b
	a, err := NewConversation(ca)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewConversation(cb)
	if err != nil {
		t.Fatal(err)
	}
	return &pair{t: t, clock: clock, a: &side{name: "alice", c: a}, b: &side{name: "bob", c: b}}
}

func (p *pair) other(s *side) *side {
	if s == p.a {
		return p.b
	}
	return p.a
}

// deliver sends msgs from `from` to the other side and keeps delivering
// replies until both are quiet.
func (p *pair) deliver(from *side, msgs [][]byte) {
	p.t.Helper()
	type item struct {
		to  *side
		msg []byte
	}
	var q []item
	for _, m := range msgs {
		q = append(q, item{p.other(from), m})
	}
	for steps := 0; len(q) > 0; steps++ {
		if steps > 10000 {
			p.t.Fatal("message loop did not settle")
		}
		it := q[0]
		q = q[1:]
		msg := it.msg
		if p.filter != nil {
			if msg = p.filter(it.to, msg); msg == nil {
				continue
			}
		}
		p.wire = append(p.wire, string(msg))
		res, err := it.to.c.Receive(msg)
		if err != nil {
			p.t.Fatalf("%s: Receive: %v", it.to.name, err)
		}
		it.to.record(res)
		for _, m := range res.Send {
			q = append(q, item{p.other(it.to), m})
		}
	}
}

func (s *side) record(res Result) {
	s.events = append(s.events, res.Events...)
	if res.Plaintext != nil {
		s.plain = append(s.plain, string(res.Plaintext))
		s.enc = append(s.enc, res.Encrypted)
	}
}

// send has s send text and delivers it.
func (p *pair) send(s *side, text string) {
	p.t.Helper()
	res, err := s.c.Send([]byte(text))
	if err != nil {
		p.t.Fatalf("%s: Send: %v", s.name, err)
	}
	s.record(res)
	p.deliver(s, res.Send)
}

// secure runs the AKE started by a query from s and checks both sides
// ended up encrypted.
func (p *pair) secure(s *side) {
	p.t.Helper()
	p.deliver(s, s.c.Query().Send)
	p.mustBeSecure()
}

func (p *pair) mustBeSecure() {
	p.t.Helper()
	for _, s := range []*side{p.a, p.b} {
		if s.c.State() != StateEncrypted {
			p.t.Fatalf("%s: state %v, events %v", s.name, s.c.State(), s.kinds())
		}
	}
}

// lastPlain returns the last plaintext s received.
func (s *side) lastPlain() string {
	if len(s.plain) == 0 {
		return ""
	}
	return s.plain[len(s.plain)-1]
}

func hasText(evs []Event, k EventKind, sub string) bool {
	for _, e := range evs {
		if e.Kind == k && strings.Contains(e.Text, sub) {
			return true
		}
	}
	return false
}
