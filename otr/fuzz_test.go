package otr

import (
	"bytes"
	"encoding/base64"
	"sync"
	"testing"
	"time"
)

var (
	fuzzPairOnce sync.Once
	fuzzPair     *pair
)

// fuzzConversations returns fresh conversations in interesting states:
// plaintext, and awaiting a D-H key. Both are deterministic per input.
func fuzzConversations(t *testing.T) []*Conversation {
	clock := &testClock{t: time.Unix(1e9, 0)}
	var out []*Conversation
	for i, p := range []Policy{PolicyOpportunistic, PolicyAlways | SendWhitespaceTag} {
		cfg := testConfig(t, 0, p, clock)
		cfg.InstanceTag = 0x1234a
		cfg.FragmentSize = 100 * i
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
// conversations in several states. Nothing may panic or return an error
// (our random source never fails), and the fragment buffer stays bounded.
func FuzzReceive(f *testing.F) {
	f.Add([]byte("?OTRv23?"))
	f.Add([]byte("?OTR:AAMCAAAAAAAAAAA=."))
	f.Add([]byte("?OTR|100|1234a,1,2,?OTR:AA,\n?OTR|100|1234a,2,2,MC.,"))
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzPairOnce.Do(func() {
			fuzzPair = newPair(t, PolicyManual, PolicyManual, 0)
			fuzzPair.secure(fuzzPair.a)
		})
		convs := append(fuzzConversations(t), fuzzPair.b.c) // Bob's tag is 0x5678b
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
