package omemo

import (
	"errors"
	"testing"
)

func ids(ds ...*testDevice) DeviceList {
	var l DeviceList
	for _, d := range ds {
		l.Devices = append(l.Devices, d.s.DeviceID())
	}
	return l
}

func TestOMEMOPeer(t *testing.T) {
	a1, a2 := newDevice(t, "alice@example.org"), newDevice(t, "alice@example.org")
	b1, b2, b3 := newDevice(t, "bob@example.org"), newDevice(t, "bob@example.org"), newDevice(t, "bob@example.org")
	p := NewPeer(a1.s, a1.jid, b1.jid)
	if p.Level() != NotPrivate {
		t.Fatal("private before any device")
	}
	if _, err := p.Send("x"); !errors.Is(err, ErrNoDevice) {
		t.Fatalf("send with no device: %v", err)
	}

	ch, fetch := p.SetDeviceList(b1.jid, ids(b1, b2))
	if len(ch) != 2 || !ch[0].Added || ch[0].WasPrivate || len(fetch) != 2 {
		t.Fatalf("first list: %+v, fetch %v", ch, fetch)
	}
	_, fetch = p.SetDeviceList(a1.jid, ids(a1, a2))
	if len(fetch) != 1 || fetch[0] != a2.addr() {
		t.Fatalf("own list: fetch %v, want only a2 (never this device)", fetch)
	}
	if _, fetch := p.SetDeviceList("mallory@example.org", ids(b3)); fetch != nil {
		t.Fatal("a stranger's list was taken")
	}
	if err := p.AddBundle(b3.addr(), b3.publishedBundle(t)); err == nil {
		t.Fatal("a bundle for an unlisted device was taken")
	}
	for _, d := range []*testDevice{b1, b2, a2} {
		if err := p.AddBundle(d.addr(), d.publishedBundle(t)); err != nil {
			t.Fatal(err)
		}
	}
	if p.Level() != Unverified || len(p.Pending()) != 0 || len(p.Recipients()) != 3 {
		t.Fatalf("level %v, pending %v, recipients %v", p.Level(), p.Pending(), p.Recipients())
	}
	e, err := p.Send("to all")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*testDevice{b1, b2, a2} {
		if m, err := d.s.Decrypt(e, a1.jid); err != nil || string(m.Plaintext) != "to all" {
			t.Fatalf("%v: %v", d.addr(), err)
		}
	}

	for _, d := range []*testDevice{b1, b2} {
		if err := a1.s.SetTrust(d.addr(), d.s.Fingerprint(), Verified); err != nil {
			t.Fatal(err)
		}
	}
	if p.Level() != Private {
		t.Fatalf("level %v with both of bob's devices verified", p.Level())
	}
	// A new device of a verified contact: loud, and no longer Private.
	ch, fetch = p.SetDeviceList(b1.jid, ids(b1, b2, b3))
	if len(ch) != 1 || !ch[0].Added || !ch[0].WasPrivate || ch[0].Address != b3.addr() || len(fetch) != 1 {
		t.Fatalf("new device: %+v, fetch %v", ch, fetch)
	}
	if p.Level() != Unverified {
		t.Fatalf("level %v with an unknown new device", p.Level())
	}
	if err := p.AddBundle(b3.addr(), b3.publishedBundle(t)); err != nil {
		t.Fatal(err)
	}
	if err := a1.s.SetTrust(b3.addr(), b3.s.Fingerprint(), Distrusted); err != nil {
		t.Fatal(err)
	}
	if p.Level() != Private || len(p.Recipients()) != 3 {
		t.Fatalf("distrusted device: level %v, recipients %v", p.Level(), p.Recipients())
	}
	// A device that leaves the list receives nothing more.
	ch, _ = p.SetDeviceList(b1.jid, ids(b1, b3))
	if len(ch) != 1 || ch[0].Added || ch[0].Address != b2.addr() {
		t.Fatalf("removed device: %+v", ch)
	}
	e, err = p.Send("without b2")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range e.Keys {
		if k.RID == b2.s.DeviceID() || k.RID == b3.s.DeviceID() {
			t.Fatalf("encrypted for %d (removed or distrusted)", k.RID)
		}
	}
	// Carbons: what a2 sent to bob, a1 reads through the same Peer.
	connect(t, a2, a1, b1)
	c := send(t, a2, "from my phone", b1, a1)
	ce, _ := ParseEncrypted(c)
	if m, err := p.Receive(ce, a1.jid); err != nil || string(m.Plaintext) != "from my phone" {
		t.Fatalf("carbon: %v", err)
	}
	if _, err := p.Receive(ce, "mallory@example.org"); err == nil {
		t.Fatal("a message from outside the conversation was taken")
	}
}
