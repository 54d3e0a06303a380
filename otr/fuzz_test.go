package otr

import (
	"bytes"
	"encoding/base64"
	"sync"
	"testing"
	"time"
)

// The established session FuzzReceive feeds is rebuilt for every input
// from the same starting point, so a crasher reproduces from its corpus
// file alone: fixed long-term keys (testdata/otr.private_key, not the
// per-run testKey), deterministic randomness, a fixed clock and fixed
// instance tags. Alice's half of the AKE is recorded once per process and
// replayed to a fresh Bob per input; with the same random stream Bob sends
// the same messages every time, so the recording stays valid and only his
// half of the AKE's arithmetic runs per input.
var (
	fuzzAKEOnce sync.Once
	fuzzAKE     [][]byte // what Alice sent Bob, in order
)

// fuzzKeys are Alice's and Bob's long-term keys: two of the libotr-written
// keys in testdata.
func fuzzKeys(t testing.TB) (alice, bob *PrivateKey) {
	t.Helper()
	keys, err := ParsePrivateKeys(readTestdata(t, "otr.private_key"))
	if err != nil || len(keys) < 2 {
		t.Fatalf("testdata keys: %d, %v", len(keys), err)
	}
	return keys[0].Key, keys[1].Key
}

func fuzzSessionConfig(key *PrivateKey, seed uint64, tag uint32) Config {
	clock := &testClock{t: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
	return Config{Key: key, Policy: PolicyManual, Rand: detRand(seed), Now: clock.now, InstanceTag: tag}
}

// fuzzSession returns Bob's conversation in an established (encrypted)
// session with Alice, identical for every call.
func fuzzSession(t *testing.T) *Conversation {
	t.Helper()
	ka, kb := fuzzKeys(t)
	fuzzAKEOnce.Do(func() {
		a, err := NewConversation(fuzzSessionConfig(ka, 1, 0x1234a))
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewConversation(fuzzSessionConfig(kb, 2, 0x5678b))
		if err != nil {
			t.Fatal(err)
		}
		p := &pair{t: t, a: &side{name: "alice", c: a}, b: &side{name: "bob", c: b}}
		var rec [][]byte
		p.filter = func(to *side, msg []byte) []byte {
			if to == p.b {
				rec = append(rec, append([]byte(nil), msg...))
			}
			return msg
		}
		p.secure(p.a)
		fuzzAKE = rec
	})
	if len(fuzzAKE) == 0 {
		t.Fatal("no recorded AKE (its setup failed)")
	}
	bob, err := NewConversation(fuzzSessionConfig(kb, 2, 0x5678b))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range fuzzAKE {
		if _, err := bob.Receive(m); err != nil {
			t.Fatalf("replaying the AKE: %v", err)
		}
	}
	if bob.State() != StateEncrypted {
		t.Fatalf("replayed AKE left Bob in %v: the setup is not deterministic", bob.State())
	}
	return bob
}

// fuzzConversations returns fresh conversations in interesting states:
// plaintext, and awaiting a D-H key. Both are deterministic per input
// (and across runs: the key is fixed too).
func fuzzConversations(t *testing.T) []*Conversation {
	clock := &testClock{t: time.Unix(1e9, 0)}
	key, _ := fuzzKeys(t)
	var out []*Conversation
	for i, p := range []Policy{PolicyOpportunistic, PolicyAlways | SendWhitespaceTag} {
		cfg := Config{Key: key, Policy: p, Rand: detRand(1), Now: clock.now,
			InstanceTag: 0x1234a, FragmentSize: 100 * i}
		c, err := NewConversation(cfg)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if _, err := out[1].Receive([]byte("?OTRv23?")); err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzReceive feeds arbitrary input, split into messages at newlines, to
// conversations in several states, all built afresh for each input:
// plaintext, awaiting a D-H key, and encrypted (fuzzSession). Nothing may
// panic or return an error (our random source never fails), and the
// fragment buffer stays bounded.
func FuzzReceive(f *testing.F) {
	f.Add([]byte("?OTRv23?"))
	f.Add([]byte("?OTR:AAMCAAAAAAAAAAA=."))
	f.Add([]byte("?OTR|100|1234a,1,2,?OTR:AA,\n?OTR|100|1234a,2,2,MC.,"))
	f.Fuzz(func(t *testing.T, in []byte) {
		convs := append(fuzzConversations(t), fuzzSession(t)) // Bob's tag is 0x5678b
		for _, c := range convs {
			for _, m := range bytes.Split(in, []byte("\n")) {
				res, err := c.Receive(m)
				if err != nil {
					t.Fatalf("Receive error: %v", err)
				}
				if len(c.frag.buf) > maxReassembled {
					t.Fatal("fragment buffer over bound")
				}
				for _, s := range res.Send {
					if len(s) == 0 {
						t.Fatal("empty message to send")
					}
				}
			}
		}
	})
}

// FuzzFragment checks that fragment parsing and reassembly never panic or
// exceed their bound, and that anything we fragment reassembles exactly.
func FuzzFragment(f *testing.F) {
	f.Add([]byte("?OTR|5a73a599|27e31597,00001,00002,?OTR:AAMD,\n?OTR|5a73a599|27e31597,00002,00002,J+MV.,"), uint16(40), false)
	f.Add([]byte("?OTR,1,2,abc,\n?OTR,2,2,def,"), uint16(20), true)
	f.Fuzz(func(t *testing.T, in []byte, size uint16, v2 bool) {
		var r reassembler
		for _, m := range bytes.Split(in, []byte("\n")) {
			fr, isFrag, ok := parseFragment(m)
			if !isFrag || !ok {
				continue
			}
			whole, _ := r.add(fr)
			if len(whole) > maxReassembled || len(r.buf) > maxReassembled {
				t.Fatal("over bound")
			}
		}
		msg := append([]byte("?OTR:"), base64.StdEncoding.EncodeToString(in)...)
		msg = append(msg, '.')
		if len(msg) > maxReassembled {
			return
		}
		v := 3
		if v2 {
			v = 2
		}
		frags := fragmentMessage(msg, int(size), v, 0x100, 0xabcdef01)
		if len(frags) == 1 {
			if !bytes.Equal(frags[0], msg) {
				t.Fatal("unfragmented message changed")
			}
			return
		}
		r.reset()
		var got []byte
		for i, fr := range frags {
			if len(fr) > int(size) {
				t.Fatalf("fragment %d is %d bytes > %d", i, len(fr), size)
			}
			p, isFrag, ok := parseFragment(fr)
			if !isFrag || !ok {
				t.Fatalf("our fragment does not parse: %q", fr)
			}
			whole, problem := r.add(p)
			if problem != "" {
				t.Fatalf("fragment %d: %s", i, problem)
			}
			if whole != nil {
				got = whole
			}
		}
		if !bytes.Equal(got, msg) {
			t.Fatal("reassembly differs")
		}
	})
}

// Every input of FuzzReceive starts from the same state: two sessions
// built for two inputs encrypt the same text to the same bytes.
func TestFuzzSessionDeterministic(t *testing.T) {
	var sent [2][]byte
	for i := range sent {
		res, err := fuzzSession(t).Send([]byte("same state"))
		if err != nil || len(res.Send) != 1 {
			t.Fatalf("Send: %d messages, %v", len(res.Send), err)
		}
		sent[i] = res.Send[0]
	}
	if !bytes.Equal(sent[0], sent[1]) {
		t.Fatalf("two fresh sessions differ:\n%s\n%s", sent[0], sent[1])
	}
}
