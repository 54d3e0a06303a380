package otr

// Hostile and broken input: every case must be rejected with the right
// event, change no session state, and never panic.

import (
	"bytes"
	"crypto/dsa" //nolint:staticcheck // OTR mandates DSA
	"crypto/sha256"
	"io"
	"math/big"
	"strings"
	"testing"
)

// rewrite decodes an encoded message, lets f change the binary, re-encodes.
func rewrite(t *testing.T, msg []byte, f func(bin []byte) []byte) []byte {
	t.Helper()
	bin, ok := decode(msg)
	if !ok {
		t.Fatalf("not an encoded message: %q", msg)
	}
	return encode(f(bytes.Clone(bin)))
}

// securePair returns an encrypted v3 pair (no fragmentation) and one data
// message from Alice to Bob that Bob has not seen yet.
func securePair(t *testing.T) (*pair, []byte) {
	t.Helper()
	p := newPair(t, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	p.send(p.a, "warm up")
	p.send(p.b, "warm up too")
	res, err := p.a.c.Send([]byte("attack at dawn"))
	if err != nil || len(res.Send) != 1 {
		t.Fatal(err)
	}
	return p, res.Send[0]
}

func receiveOne(t *testing.T, c *Conversation, msg []byte) Result {
	t.Helper()
	r, err := c.Receive(msg)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	return r
}

func wantOnly(t *testing.T, r Result, k EventKind, text string) {
	t.Helper()
	if len(r.Events) != 1 || r.Events[0].Kind != k || !strings.Contains(r.Events[0].Text, text) {
		t.Fatalf("events %+v, want one %v mentioning %q", r.Events, k, text)
	}
	if r.Plaintext != nil {
		t.Fatalf("plaintext %q from rejected message", r.Plaintext)
	}
}

func TestDataMessageTampering(t *testing.T) {
	// Offsets into a v3 data message: header 11, flags 1, keyids 8.
	cases := []struct {
		name  string
		edit  func(bin []byte) []byte
		kind  EventKind
		text  string
		reply bool
	}{
		{"flipped ciphertext", func(b []byte) []byte { b[len(b)-30] ^= 1; return b }, EventMalformed, "MAC", true},
		{"flipped counter", func(b []byte) []byte { i := bytes.Index(b, []byte{0, 0, 0, 0xc0}); b[i+196+7] ^= 1; return b }, EventMalformed, "MAC", true},
		{"flipped MAC", func(b []byte) []byte { b[len(b)-5] ^= 0x80; return b }, EventMalformed, "MAC", true},
		{"unknown sender keyid", func(b []byte) []byte { b[15] += 5; return b }, EventUnreadable, "unknown keys", true},
		{"unknown recipient keyid", func(b []byte) []byte { b[19] += 5; return b }, EventUnreadable, "unknown keys", true},
		{"zero keyid", func(b []byte) []byte { copy(b[12:16], []byte{0, 0, 0, 0}); return b }, EventUnreadable, "unknown keys", true},
		{"truncated", func(b []byte) []byte { return b[:len(b)-8] }, EventMalformed, "malformed data", false},
		{"trailing junk", func(b []byte) []byte { return append(b, 1) }, EventMalformed, "malformed data", false},
		{"wrong receiver tag", func(b []byte) []byte { b[10]++; return b }, EventInstanceMismatch, "another instance", false},
		{"zero receiver tag", func(b []byte) []byte { copy(b[7:11], []byte{0, 0, 0, 0}); return b }, EventInstanceMismatch, "", false},
		{"other peer instance", func(b []byte) []byte { b[6]++; return b }, EventInstanceMismatch, "another peer instance", false},
		{"sender tag too small", func(b []byte) []byte { copy(b[3:7], []byte{0, 0, 0, 0x50}); return b }, EventMalformed, "sender instance", false},
		{"v2 header in v3 session", func(b []byte) []byte { return append([]byte{0, 2, 3}, b[11:]...) }, EventUnreadable, "version does not match", true},
		{"unknown type", func(b []byte) []byte { b[2] = 0x42; return b }, EventMalformed, "unknown OTR message type", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, msg := securePair(t)
			before := *p.b.c.keys
			r := receiveOne(t, p.b.c, rewrite(t, msg, tc.edit))
			wantOnly(t, r, tc.kind, tc.text)
			if got := len(r.Send) == 1 && bytes.HasPrefix(r.Send[0], []byte("?OTR Error:")); got != tc.reply {
				t.Fatalf("error reply %v, want %v (%q)", got, tc.reply, r.Send)
			}
			if p.b.c.keys.ourKeyID != before.ourKeyID || p.b.c.keys.theirKeyID != before.theirKeyID {
				t.Fatal("rejected message rotated keys")
			}
			// The genuine message still decrypts afterwards.
			r = receiveOne(t, p.b.c, msg)
			if string(r.Plaintext) != "attack at dawn" {
				t.Fatalf("genuine message after tampering: %+v", r)
			}
		})
	}
}

func TestIgnoreUnreadableFlag(t *testing.T) {
	p, msg := securePair(t)
	r := receiveOne(t, p.b.c, rewrite(t, msg, func(b []byte) []byte {
		b[11] = flagIgnoreUnreadable
		b[15] += 9 // unknown keyid
		return b
	}))
	if len(r.Events) != 0 || len(r.Send) != 0 {
		t.Fatalf("flagged unreadable message not ignored: %+v", r)
	}
}

func TestReplayRejected(t *testing.T) {
	p, msg := securePair(t)
	if r := receiveOne(t, p.b.c, msg); string(r.Plaintext) != "attack at dawn" {
		t.Fatal("first delivery")
	}
	r := receiveOne(t, p.b.c, msg)
	wantOnly(t, r, EventMalformed, "replay")
	// An older message with the same keys is a replay too.
	res1, _ := p.a.c.Send([]byte("one"))
	res2, _ := p.a.c.Send([]byte("two"))
	receiveOne(t, p.b.c, res2.Send[0])
	wantOnly(t, receiveOne(t, p.b.c, res1.Send[0]), EventMalformed, "replay")
}

func TestNextDHOutOfRange(t *testing.T) {
	p, _ := securePair(t)
	k := p.a.c.keys
	for _, bad := range []*big.Int{big.NewInt(0), big.NewInt(1), new(big.Int).Sub(groupP, bigOne), groupP} {
		saved := k.ourCur.pub
		k.ourCur.pub, k.ourCurMPI = bad, nil
		res, err := p.a.c.Send([]byte("evil"))
		k.ourCur.pub, k.ourCurMPI = saved, nil
		if err != nil {
			t.Fatal(err)
		}
		r := receiveOne(t, p.b.c, res.Send[0])
		wantOnly(t, r, EventMalformed, "next D-H key out of range")
	}
}

// akeMsg builds an encoded v3 AKE message from Bob's tag to Alice's.
func akeMsg(p *pair, typ byte, fields ...[]byte) []byte {
	b := appendHeader(nil, header{version: 3, typ: typ, sender: p.b.c.ourTag, receiver: p.a.c.ourTag})
	for _, f := range fields {
		b = append(b, f...)
	}
	return encode(b)
}

var badElements = map[string]*big.Int{
	"0": big.NewInt(0), "1": big.NewInt(1),
	"p-1": new(big.Int).Sub(groupP, bigOne), "p": new(big.Int).Set(groupP),
	"p+1": new(big.Int).Add(groupP, bigOne),
}

func TestDHKeyOutOfRange(t *testing.T) {
	for name, bad := range badElements {
		t.Run(name, func(t *testing.T) {
			p := newPair(t, PolicyManual, PolicyManual, 0)
			receiveOne(t, p.a.c, []byte("?OTRv3?")) // Alice sends a commit
			if p.a.c.ake.state != authAwaitingDHKey {
				t.Fatal("no commit sent")
			}
			r := receiveOne(t, p.a.c, akeMsg(p, msgDHKey, appendMPI(nil, bad)))
			wantOnly(t, r, EventMalformed, "out of range")
			if len(r.Send) != 0 || p.a.c.ake.state != authAwaitingDHKey {
				t.Fatal("bad g^y was answered")
			}
		})
	}
}

func TestCommittedGxOutOfRange(t *testing.T) {
	for name, bad := range badElements {
		t.Run(name, func(t *testing.T) {
			p := newPair(t, PolicyManual, PolicyManual, 0)
			rKey := bytes.Repeat([]byte{7}, 16)
			gxmpi := appendMPI(nil, bad)
			h := sha256.Sum256(gxmpi)
			r := receiveOne(t, p.a.c, akeMsg(p, msgDHCommit,
				appendData(nil, aesCTR(rKey, nil, gxmpi)), appendData(nil, h[:])))
			if len(r.Send) != 1 || p.a.c.ake.state != authAwaitingRevealSig {
				t.Fatal("commit not answered with a D-H key")
			}
			reveal := akeMsg(p, msgRevealSig, appendData(nil, rKey),
				appendData(nil, make([]byte, 60)), make([]byte, 20))
			r = receiveOne(t, p.a.c, reveal)
			wantOnly(t, r, EventMalformed, "g^x")
			if len(r.Send) != 0 || p.a.c.State() != StatePlaintext {
				t.Fatal("AKE went on with a bad g^x")
			}
		})
	}
}

func TestRevealedKeyMismatch(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	// Bob's genuine commit, then a reveal with a different r.
	rb := receiveOne(t, p.b.c, []byte("?OTRv3?"))
	ra := receiveOne(t, p.a.c, rb.Send[0])
	rb = receiveOne(t, p.b.c, ra.Send[0])                                            // Bob's reveal signature
	forged := rewrite(t, rb.Send[0], func(b []byte) []byte { b[15] ^= 1; return b }) // first byte of r
	r := receiveOne(t, p.a.c, forged)
	wantOnly(t, r, EventMalformed, "commit hash")
	// The genuine reveal still completes the AKE.
	p.deliver(p.b, rb.Send)
	p.mustBeSecure()
}

// wrongSigner signs a different digest, producing a well-formed but
// invalid signature.
func wrongSigner(rand io.Reader, k *PrivateKey, digest []byte) (*big.Int, *big.Int, error) {
	return dsa.Sign(rand, &k.PrivateKey, append([]byte("not it"), digest...))
}

func TestBadSignatureRejected(t *testing.T) {
	for _, liar := range []string{"bob (reveal signature)", "alice (signature)"} {
		t.Run(liar, func(t *testing.T) {
			p := newPair(t, PolicyManual, PolicyManual, 0)
			victim := p.a
			if strings.HasPrefix(liar, "bob") {
				p.b.c.cfg.Sign = wrongSigner
			} else {
				p.a.c.cfg.Sign = wrongSigner
				victim = p.b
			}
			// Bob answers Alice's query, so Bob sends the reveal signature.
			p.deliver(p.a, p.a.c.Query().Send)
			if p.a.c.State() == StateEncrypted && p.b.c.State() == StateEncrypted {
				t.Fatal("AKE succeeded with a bad signature")
			}
			if !hasText(victim.events, EventMalformed, "bad signature") {
				t.Fatalf("%s events %v", victim.name, victim.events)
			}
			if victim.has(EventGoneSecure) || victim.c.State() != StatePlaintext {
				t.Fatal("victim went secure")
			}
		})
	}
}

func TestAKEMACTampering(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	rb := receiveOne(t, p.b.c, []byte("?OTRv3?"))
	ra := receiveOne(t, p.a.c, rb.Send[0])
	rb = receiveOne(t, p.b.c, ra.Send[0])
	forged := rewrite(t, rb.Send[0], func(b []byte) []byte { b[len(b)-1] ^= 1; return b })
	wantOnly(t, receiveOne(t, p.a.c, forged), EventMalformed, "bad MAC")
	forged = rewrite(t, rb.Send[0], func(b []byte) []byte { b[40] ^= 1; return b }) // inside encSig
	wantOnly(t, receiveOne(t, p.a.c, forged), EventMalformed, "bad MAC")
	ra = receiveOne(t, p.a.c, rb.Send[0])
	if !hasText(ra.Events, EventGoneSecure, "") || len(ra.Send) != 1 {
		t.Fatal("genuine reveal rejected after forgeries")
	}
	forged = rewrite(t, ra.Send[0], func(b []byte) []byte { b[len(b)-3] ^= 1; return b })
	wantOnly(t, receiveOne(t, p.b.c, forged), EventMalformed, "bad MAC")
	if !hasText(receiveOne(t, p.b.c, ra.Send[0]).Events, EventGoneSecure, "") {
		t.Fatal("genuine signature rejected after a forgery")
	}
}

func TestMalformedEncoding(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	for _, in := range []string{
		"?OTR:@@@@.",
		"?OTR:AAMD",          // no terminating dot
		"?OTR:AAM=.",         // bad padding
		"?OTR:.",             // empty
		"?OTR:AA==.",         // shorter than a header
		"?OTR:AAMCAAABAA==.", // v3 header cut inside the tags
	} {
		r := receiveOne(t, p.a.c, []byte(in))
		wantOnly(t, r, EventMalformed, "")
		if len(r.Send) != 0 {
			t.Fatalf("%q answered", in)
		}
	}
	// Version 1 messages and queries are ignored silently.
	for _, in := range []string{"?OTR:AAEKAAAA.", "?OTR?", "?OTR?v?"} {
		r := receiveOne(t, p.a.c, []byte(in))
		if len(r.Events) != 0 || len(r.Send) != 0 || r.Plaintext != nil {
			t.Fatalf("%q: %+v", in, r)
		}
	}
}

func TestMalformedAKEMessages(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	for name, m := range map[string][]byte{
		"commit truncated":  akeMsg(p, msgDHCommit, appendData(nil, []byte{1, 2})),
		"commit short hash": akeMsg(p, msgDHCommit, appendData(nil, []byte{1}), appendData(nil, []byte{2})),
		"dh key junk":       akeMsg(p, msgDHKey, []byte{0, 0, 0, 9, 1}),
		"reveal short r":    akeMsg(p, msgRevealSig, appendData(nil, []byte{1}), appendData(nil, []byte{1}), make([]byte, 20)),
		"sig short mac":     akeMsg(p, msgSig, appendData(nil, []byte{1}), make([]byte, 19)),
	} {
		r := receiveOne(t, p.a.c, m)
		wantOnly(t, r, EventMalformed, "")
		if len(r.Send) != 0 {
			t.Fatalf("%s answered", name)
		}
	}
}

func TestAKEMessagesInWrongStateIgnored(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	// A real D-H key, reveal and signature, each delivered in the wrong state.
	rb := receiveOne(t, p.b.c, []byte("?OTRv3?"))
	ra := receiveOne(t, p.a.c, rb.Send[0])
	dhKey := ra.Send[0]
	rb = receiveOne(t, p.b.c, dhKey)
	reveal := rb.Send[0]
	fresh := newPair(t, PolicyManual, PolicyManual, 0)
	for i, m := range [][]byte{dhKey, reveal} {
		to := []*Conversation{fresh.b.c, fresh.a.c}[i] // the addressee, in AUTHSTATE_NONE
		r := receiveOne(t, to, m)
		if len(r.Send) != 0 || len(r.Events) != 0 {
			t.Fatalf("ignored message produced %+v", r)
		}
	}
	// Bob in AWAITING_SIG: the same D-H key makes him resend the reveal,
	// a different one is ignored.
	r := receiveOne(t, p.b.c, dhKey)
	if len(r.Send) != 1 || !bytes.Equal(r.Send[0], reveal) {
		t.Fatal("reveal signature not retransmitted")
	}
	other := appendHeader(nil, header{version: 3, typ: msgDHKey, sender: p.a.c.ourTag, receiver: p.b.c.ourTag})
	other = appendMPI(other, big.NewInt(4))
	if r := receiveOne(t, p.b.c, encode(other)); len(r.Send) != 0 || len(r.Events) != 0 ||
		p.b.c.ake.state != authAwaitingSig {
		t.Fatalf("different D-H key in AWAITING_SIG not ignored: %+v", r)
	}
}

func TestPolicyVersionFilter(t *testing.T) {
	p := newPair(t, AllowV3, AllowV2, 0)
	r := receiveOne(t, p.a.c, []byte("?OTRv2?"))
	if len(r.Send) != 0 {
		t.Fatal("v3-only side answered a v2 query")
	}
	p.deliver(p.b, p.b.c.Query().Send)
	if p.a.c.State() != StatePlaintext || p.b.c.State() != StatePlaintext {
		t.Fatal("AKE without a common version")
	}
}
