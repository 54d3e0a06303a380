//go:build libsignal

package libsignal

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/sotto-im/sotto/omemo"
)

// ours is one device run by package omemo.
type ours struct {
	jid string
	s   *omemo.Store
}

func newOurs(t testing.TB, jid string) *ours {
	t.Helper()
	s, err := omemo.NewStore()
	if err != nil {
		t.Fatal(err)
	}
	return &ours{jid: jid, s: s}
}

func (o *ours) addr() Address        { return Address{JID: o.jid, Device: o.s.DeviceID()} }
func (o *ours) oaddr() omemo.Address { return omemo.Address{JID: o.jid, Device: o.s.DeviceID()} }

var nextDevice uint32 = 1000

func newTheirs(t testing.TB, jid string) *Peer {
	t.Helper()
	nextDevice++
	p, err := NewPeer(jid, nextDevice, 100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// ourSend encrypts with package omemo and returns the XML.
func ourSend(t testing.TB, o *ours, text string, to ...Address) []byte {
	t.Helper()
	var as []omemo.Address
	for _, a := range to {
		as = append(as, omemo.Address{JID: a.JID, Device: a.Device})
	}
	e, err := o.s.Encrypt([]byte(text), as)
	if err != nil {
		t.Fatalf("we encrypt %q: %v", text, err)
	}
	return e.Marshal()
}

// ourRecv decrypts XML from their device with package omemo.
func ourRecv(t testing.TB, o *ours, from *Peer, x []byte, want string) *omemo.Message {
	t.Helper()
	m, err := ourTry(o, from, x)
	if err != nil {
		t.Fatalf("we decrypt %q from libsignal-c: %v", want, err)
	}
	if string(m.Plaintext) != want {
		t.Fatalf("we got %q, want %q", m.Plaintext, want)
	}
	return m
}

func ourTry(o *ours, from *Peer, x []byte) (*omemo.Message, error) {
	e, err := omemo.ParseEncrypted(x)
	if err != nil {
		return nil, err
	}
	return o.s.Decrypt(e, from.JID)
}

func theirSend(t testing.TB, p *Peer, text string, to ...Address) []byte {
	t.Helper()
	x, err := p.Encrypt([]byte(text), to...)
	if err != nil {
		t.Fatalf("libsignal-c encrypts %q: %v", text, err)
	}
	return x
}

func theirRecv(t testing.TB, p *Peer, fromJID string, x []byte, want string) {
	t.Helper()
	pt, err := p.Decrypt(fromJID, x)
	if err != nil {
		t.Fatalf("libsignal-c decrypts %q: %v", want, err)
	}
	if string(pt) != want {
		t.Fatalf("libsignal-c got %q, want %q", pt, want)
	}
}

// ourBuild builds our session with their device from their bundle XML.
func ourBuild(t testing.TB, o *ours, p *Peer) {
	t.Helper()
	x, err := p.BundleXML()
	if err != nil {
		t.Fatal(err)
	}
	b, err := omemo.ParseBundle(x)
	if err != nil {
		t.Fatalf("we parse libsignal-c's bundle: %v", err)
	}
	if len(b.PreKeys) != p.PreKeyCount() {
		t.Fatalf("their bundle has %d prekeys, we read %d", p.PreKeyCount(), len(b.PreKeys))
	}
	if err := o.s.BuildSession(omemo.Address{JID: p.JID, Device: p.Device}, b); err != nil {
		t.Fatalf("we build a session from libsignal-c's bundle: %v", err)
	}
}

// theirBuild builds their session with our device from our bundle XML.
func theirBuild(t testing.TB, p *Peer, o *ours, pick int) {
	t.Helper()
	if err := p.BuildSession(o.addr(), o.s.Bundle().Marshal(), pick); err != nil {
		t.Fatalf("libsignal-c builds a session from our bundle: %v", err)
	}
}

func isPreKey(t testing.TB, x []byte, rid uint32) bool {
	t.Helper()
	e, err := omemo.ParseEncrypted(x)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range e.Keys {
		if k.RID == rid {
			return k.PreKey
		}
	}
	t.Fatalf("no key for %d", rid)
	return false
}

func TestOMEMOInteropLibsignalC(t *testing.T) {
	t.Run("session from their bundle, our prekey message first", func(t *testing.T) {
		o, c := newOurs(t, "sotto@example.org"), newTheirs(t, "dino@example.org")
		ourBuild(t, o, c)
		x := ourSend(t, o, "hello libsignal", c.Addr())
		if !isPreKey(t, x, c.Device) {
			t.Fatal("first message is not a PreKeySignalMessage")
		}
		before := c.PreKeyCount()
		theirRecv(t, c, o.jid, x, "hello libsignal")
		if c.PreKeyCount() != before-1 {
			t.Fatalf("libsignal-c used no prekey (%d → %d)", before, c.PreKeyCount())
		}
		for i := 0; i < 4; i++ {
			y := theirSend(t, c, fmt.Sprint("reply ", i), o.addr())
			if isPreKey(t, y, o.s.DeviceID()) {
				t.Fatal("their reply is a PreKeySignalMessage")
			}
			ourRecv(t, o, c, y, fmt.Sprint("reply ", i))
			z := ourSend(t, o, fmt.Sprint("back ", i), c.Addr())
			if isPreKey(t, z, c.Device) {
				t.Fatal("we still send PreKeySignalMessages after their reply")
			}
			theirRecv(t, c, o.jid, z, fmt.Sprint("back ", i))
		}
	})

	t.Run("session from our bundle, their prekey message first", func(t *testing.T) {
		o, c := newOurs(t, "sotto@example.org"), newTheirs(t, "profanity@example.org")
		theirBuild(t, c, o, 57)
		x := theirSend(t, c, "hello sotto", o.addr())
		if !isPreKey(t, x, o.s.DeviceID()) {
			t.Fatal("their first message is not a PreKeySignalMessage")
		}
		m := ourRecv(t, o, c, x, "hello sotto")
		if !m.NewSession || !m.BundleChanged {
			t.Fatalf("first message from libsignal-c: %+v", m)
		}
		ik, _ := c.IdentityKey()
		if m.Fingerprint != omemo.Fingerprint(ik) {
			t.Fatalf("fingerprint %s, their key %x", m.Fingerprint, ik)
		}
		// The second message before any answer is still a prekey message.
		ourRecv(t, o, c, theirSend(t, c, "again", o.addr()), "again")
		for i := 0; i < 4; i++ {
			theirRecv(t, c, o.jid, ourSend(t, o, fmt.Sprint("reply ", i), c.Addr()), fmt.Sprint("reply ", i))
			ourRecv(t, o, c, theirSend(t, c, fmt.Sprint("back ", i), o.addr()), fmt.Sprint("back ", i))
		}
		// A key-transport element from us is accepted by them.
		e, err := o.s.Encrypt(nil, []omemo.Address{{JID: c.JID, Device: c.Device}})
		if err != nil {
			t.Fatal(err)
		}
		if pt, err := c.Decrypt(o.jid, e.Marshal()); err != nil || pt != nil {
			t.Fatalf("key transport: %q %v", pt, err)
		}
	})

	t.Run("out of order and skipped", func(t *testing.T) {
		o, c := newOurs(t, "sotto@example.org"), newTheirs(t, "gajim@example.org")
		ourBuild(t, o, c)
		theirRecv(t, c, o.jid, ourSend(t, o, "setup", c.Addr()), "setup")
		ourRecv(t, o, c, theirSend(t, c, "ack", o.addr()), "ack")

		// Theirs to ours, shuffled, across a ratchet step.
		var in [][]byte
		for i := 0; i < 6; i++ {
			in = append(in, theirSend(t, c, fmt.Sprint("t", i), o.addr()))
		}
		for _, i := range []int{4, 1, 0} {
			ourRecv(t, o, c, in[i], fmt.Sprint("t", i))
		}
		theirRecv(t, c, o.jid, ourSend(t, o, "step", c.Addr()), "step")
		late := theirSend(t, c, "new chain", o.addr())
		ourRecv(t, o, c, late, "new chain")
		for _, i := range []int{5, 3, 2} {
			ourRecv(t, o, c, in[i], fmt.Sprint("t", i))
		}
		// Ours to theirs, shuffled, across a ratchet step.
		var out [][]byte
		for i := 0; i < 6; i++ {
			out = append(out, ourSend(t, o, fmt.Sprint("o", i), c.Addr()))
		}
		for _, i := range []int{3, 0, 5} {
			theirRecv(t, c, o.jid, out[i], fmt.Sprint("o", i))
		}
		ourRecv(t, o, c, theirSend(t, c, "step", o.addr()), "step")
		theirRecv(t, c, o.jid, ourSend(t, o, "new chain", c.Addr()), "new chain")
		for _, i := range []int{1, 4, 2} {
			theirRecv(t, c, o.jid, out[i], fmt.Sprint("o", i))
		}
		// Skipped: 40 messages each way never arrive.
		var last []byte
		for i := 0; i < 41; i++ {
			last = theirSend(t, c, "far", o.addr())
		}
		ourRecv(t, o, c, last, "far")
		for i := 0; i < 41; i++ {
			last = ourSend(t, o, "far", c.Addr())
		}
		theirRecv(t, c, o.jid, last, "far")
		// Replays are refused both ways.
		if _, err := ourTry(o, c, in[2]); !errors.Is(err, omemo.ErrReplay) {
			t.Fatalf("our replay check: %v", err)
		}
		if _, err := c.Decrypt(o.jid, out[2]); !IsCode(err, ErrDuplicateMessage) {
			t.Fatalf("their replay check: %v", err)
		}
	})

	t.Run("second device", func(t *testing.T) {
		o1, o2 := newOurs(t, "sotto@example.org"), newOurs(t, "sotto@example.org")
		c1, c2 := newTheirs(t, "dino@example.org"), newTheirs(t, "dino@example.org")
		// We write to both of their devices and our other one in one element.
		ourBuild(t, o1, c1)
		ourBuild(t, o1, c2)
		if err := o1.s.BuildSession(o2.oaddr(), o2.s.Bundle()); err != nil {
			t.Fatal(err)
		}
		x := ourSend(t, o1, "to all", c1.Addr(), c2.Addr(), o2.addr())
		theirRecv(t, c1, o1.jid, x, "to all")
		theirRecv(t, c2, o1.jid, x, "to all")
		if m, err := o2.s.Decrypt(mustParse(t, x), o1.jid); err != nil || string(m.Plaintext) != "to all" {
			t.Fatalf("our other device: %v", err)
		}
		// Their second device writes to both of ours and its sibling.
		theirBuild(t, c2, o2, 3)
		if err := c2.BuildSession(c1.Addr(), mustBundle(t, c1), 0); err != nil {
			t.Fatal(err)
		}
		y := theirSend(t, c2, "from c2", o1.addr(), o2.addr(), c1.Addr())
		ourRecv(t, o1, c2, y, "from c2")
		ourRecv(t, o2, c2, y, "from c2")
		theirRecv(t, c1, c2.JID, y, "from c2")
		// And the conversation goes on with every pair.
		z := ourSend(t, o2, "o2 here", c2.Addr()) // o2 has a session with c2 only
		theirRecv(t, c2, o2.jid, z, "o2 here")
		if _, err := c1.Decrypt(o2.jid, z); err == nil {
			t.Fatal("c1 decrypted a message that had no key for it")
		}
	})

	t.Run("late message after both started at once", func(t *testing.T) {
		// The race TestOMEMOLateMessageAfterRekey covers, with
		// libsignal-c as the other side: both build sessions from
		// bundles at once, a message on the first state comes late.
		o, c := newOurs(t, "sotto@example.org"), newTheirs(t, "monal@example.org")
		ourBuild(t, o, c)
		theirBuild(t, c, o, 1)
		c1 := theirSend(t, c, "c1", o.addr())
		late := theirSend(t, c, "late", o.addr())
		o1 := ourSend(t, o, "o1", c.Addr())
		ourRecv(t, o, c, c1, "c1")
		theirRecv(t, c, o.jid, o1, "o1")
		ourRecv(t, o, c, theirSend(t, c, "c2", o.addr()), "c2")
		theirRecv(t, c, o.jid, ourSend(t, o, "o2", c.Addr()), "o2")
		ourRecv(t, o, c, late, "late")
		for i := 3; i < 6; i++ {
			theirRecv(t, c, o.jid, ourSend(t, o, fmt.Sprint("o", i), c.Addr()), fmt.Sprint("o", i))
			ourRecv(t, o, c, theirSend(t, c, fmt.Sprint("c", i), o.addr()), fmt.Sprint("c", i))
		}
	})

	t.Run("our state survives a restart mid-conversation", func(t *testing.T) {
		o, c := newOurs(t, "sotto@example.org"), newTheirs(t, "dino@example.org")
		ourBuild(t, o, c)
		theirRecv(t, c, o.jid, ourSend(t, o, "one", c.Addr()), "one")
		pending := theirSend(t, c, "sent while we were down", o.addr())
		b, err := o.s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if o.s, err = omemo.UnmarshalStore(b); err != nil {
			t.Fatal(err)
		}
		ourRecv(t, o, c, pending, "sent while we were down")
		theirRecv(t, c, o.jid, ourSend(t, o, "back", c.Addr()), "back")
	})

	t.Run("tampered messages refused both ways", func(t *testing.T) {
		o, c := newOurs(t, "sotto@example.org"), newTheirs(t, "dino@example.org")
		ourBuild(t, o, c)
		theirRecv(t, c, o.jid, ourSend(t, o, "setup", c.Addr()), "setup")
		x := theirSend(t, c, "real", o.addr())
		e := mustParse(t, x)
		e.Keys[0].Data[len(e.Keys[0].Data)-1] ^= 1
		if _, err := o.s.Decrypt(e, c.JID); err == nil {
			t.Fatal("we accepted a tampered key")
		}
		ourRecv(t, o, c, x, "real")
		y := mustParse(t, ourSend(t, o, "real", c.Addr()))
		good := y.Marshal()
		y.Payload[0] ^= 1
		if _, err := c.Decrypt(o.jid, y.Marshal()); err == nil {
			t.Fatal("they accepted a tampered payload")
		}
		// libsignal-c committed the key before the payload failed; the
		// original is now a duplicate to it (its rule, not ours).
		_, err := c.Decrypt(o.jid, good)
		if err != nil && !IsCode(err, ErrDuplicateMessage) {
			t.Fatalf("original after tamper: %v", err)
		}
	})
}

func mustParse(t testing.TB, x []byte) *omemo.Encrypted {
	t.Helper()
	e, err := omemo.ParseEncrypted(x)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustBundle(t testing.TB, p *Peer) []byte {
	t.Helper()
	x, err := p.BundleXML()
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestHarnessSelf: two libsignal-c peers talk through the harness alone,
// so a failure in the interop suite is not the harness's own.
func TestHarnessSelf(t *testing.T) {
	a, b := newTheirs(t, "a@example.org"), newTheirs(t, "b@example.org")
	if err := a.BuildSession(b.Addr(), mustBundle(t, b), 0); err != nil {
		t.Fatal(err)
	}
	theirRecv(t, b, a.JID, theirSend(t, a, "hi", b.Addr()), "hi")
	theirRecv(t, a, b.JID, theirSend(t, b, "ho", a.Addr()), "ho")
	if !bytes.Contains(mustBundle(t, a), []byte(`preKeyId="100"`)) {
		t.Fatal("bundle lacks prekey 100")
	}
}
