package otr

import (
	"bytes"
	"sync"
	"testing"
)

var (
	tlvPairOnce sync.Once
	tlvPair     *pair
)

// tlvFuzzPair is one encrypted Alice/Bob pair shared by the iterations of
// FuzzParseTLVs (an AKE costs milliseconds). An iteration that ends the
// session (Disconnected TLV) gets a fresh AKE in the next one.
func tlvFuzzPair(t *testing.T) *pair {
	tlvPairOnce.Do(func() {
		tlvPair = newPair(t, PolicyManual, PolicyManual, 0)
	})
	p := tlvPair
	p.t = t
	if p.a.c.State() != StateEncrypted || p.b.c.State() != StateEncrypted {
		p.a.c.End()
		p.b.c.End()
		p.secure(p.a)
	}
	p.a.reset()
	p.b.reset()
	return p
}

// FuzzParseTLVs checks the TLV parser (spec §"Data Message", TLV records)
// on its own — never a panic, and what parses re-encodes to the same bytes
// — and then carries the same bytes after the NUL of an authentic data
// message to Bob, the path a malicious but authenticated peer controls.
func FuzzParseTLVs(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 3, 0, 0, 0})                 // padding
	f.Add([]byte{0, 1, 0, 0})                          // disconnected
	f.Add([]byte{0, 6, 0, 0})                          // SMP abort
	f.Add([]byte{0, 2, 0, 4, 0, 0, 0, 0})              // SMP1 with zero MPIs
	f.Add([]byte{0, 7, 0, 6, 'q', '?', 0, 0, 0, 0})    // SMP1Q, empty MPI list
	f.Add([]byte{0, 8, 0, 6, 0, 0, 0, 1, 'x', 'y'})    // extra symmetric key
	f.Add([]byte{0, 8, 0, 2, 0, 0})                    // extra key, short use
	f.Add([]byte{0, 2, 0xff, 0xff, 1})                 // length past the end
	f.Add([]byte{0, 0, 0, 0, 0, 1, 0, 0, 0, 6, 0, 0})  // several
	f.Add([]byte{0, 5, 0, 4, 0, 0, 0, 11, 0xde, 0xad}) // SMP4 out of order
	f.Fuzz(func(t *testing.T, in []byte) {
		tlvs, ok := parseTLVs(in)
		if ok {
			var back []byte
			for _, x := range tlvs {
				back = appendTLV(back, x)
			}
			if !bytes.Equal(back, in) {
				t.Fatalf("re-encoded TLVs differ: %x vs %x", back, in)
			}
			if len(tlvs) > len(in)/4 {
				t.Fatalf("%d TLVs from %d bytes", len(tlvs), len(in))
			}
		} else if tlvs != nil {
			t.Fatal("invalid TLV list returned records")
		}
		// splitPlaintext: the text before the NUL is all that is shown.
		plain := append([]byte("hi\x00"), in...)
		msg, _ := splitPlaintext(plain)
		if string(msg) != "hi" {
			t.Fatalf("shown text %q", msg)
		}
		if len(in) > 0xffff {
			return
		}
		p := tlvFuzzPair(t)
		// Alice seals "hi" + NUL + the fuzz bytes as one data message.
		var res Result
		h := header{version: p.a.c.version, sender: p.a.c.ourTag, receiver: p.a.c.peerTag}
		bin, _, err := p.a.c.keys.sealParts(h, 0, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.a.c.queue(&res, bin)
		for _, w := range res.Send {
			r, err := p.b.c.Receive(w)
			if err != nil {
				t.Fatalf("Receive: %v", err)
			}
			if string(r.Plaintext) != "hi" || !r.Encrypted {
				t.Fatalf("bob shows %q (encrypted %v), want \"hi\"", r.Plaintext, r.Encrypted)
			}
			disconnected := false
			for _, x := range tlvs {
				disconnected = disconnected || x.typ == tlvDisconnected
			}
			if disconnected != (p.b.c.State() == StateFinished) {
				t.Fatalf("disconnected TLV %v but bob's state is %v", disconnected, p.b.c.State())
			}
			for _, ev := range r.Events {
				if ev.Kind == EventSMPSucceeded || ev.Kind == EventSMPFailed {
					t.Fatalf("fuzzed TLVs completed an SMP run: %v", ev.Kind)
				}
			}
			// Replies (SMP aborts, heartbeats) must reach Alice cleanly.
			p.deliver(p.b, r.Send)
		}
	})
}
