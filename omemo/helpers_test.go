package omemo

import (
	"errors"
	"testing"
)

// device is one test device: a Store under a JID.
type testDevice struct {
	jid string
	s   *Store
}

func newDevice(t testing.TB, jid string) *testDevice {
	t.Helper()
	s, err := NewStore()
	if err != nil {
		t.Fatal(err)
	}
	return &testDevice{jid: jid, s: s}
}

func (d *testDevice) addr() Address { return Address{JID: d.jid, Device: d.s.DeviceID()} }

// publishedBundle is d's bundle as a peer fetches it: through the XML.
func (d *testDevice) publishedBundle(t testing.TB) *Bundle {
	t.Helper()
	b, err := ParseBundle(d.s.Bundle().Marshal())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// connect makes from build a session with each of to from their bundles.
func connect(t testing.TB, from *testDevice, to ...*testDevice) {
	t.Helper()
	for _, d := range to {
		if err := from.s.BuildSession(d.addr(), d.publishedBundle(t)); err != nil {
			t.Fatalf("%s builds a session with %s: %v", from.jid, d.addr(), err)
		}
	}
}

// send encrypts text from one device to others and returns the XML.
func send(t testing.TB, from *testDevice, text string, to ...*testDevice) []byte {
	t.Helper()
	var addrs []Address
	for _, d := range to {
		addrs = append(addrs, d.addr())
	}
	var pt []byte
	if text != "" {
		pt = []byte(text)
	}
	e, err := from.s.Encrypt(pt, addrs)
	if err != nil {
		t.Fatalf("%s encrypts: %v", from.addr(), err)
	}
	return e.Marshal()
}

// receive decrypts XML from a device and checks the text.
func receive(t testing.TB, d *testDevice, from *testDevice, x []byte, want string) *Message {
	t.Helper()
	m, err := tryReceive(d, from, x)
	if err != nil {
		t.Fatalf("%s decrypts %q from %s: %v", d.addr(), want, from.addr(), err)
	}
	if string(m.Plaintext) != want {
		t.Fatalf("%s got %q, want %q", d.addr(), m.Plaintext, want)
	}
	if m.From != from.addr() {
		t.Fatalf("message from %v, want %v", m.From, from.addr())
	}
	return m
}

func tryReceive(d *testDevice, from *testDevice, x []byte) (*Message, error) {
	e, err := ParseEncrypted(x)
	if err != nil {
		return nil, err
	}
	return d.s.Decrypt(e, from.jid)
}

func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
}

// reload replaces d's store with what Marshal/UnmarshalStore make of it.
func (d *testDevice) reload(t testing.TB) {
	t.Helper()
	b, err := d.s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s, err := UnmarshalStore(b)
	if err != nil {
		t.Fatal(err)
	}
	d.s = s
}
