package omemo

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func TestOMEMORoundTrip(t *testing.T) {
	alice, bob := newDevice(t, "alice@example.org"), newDevice(t, "bob@example.org")
	connect(t, alice, bob)
	before := len(bob.s.Bundle().PreKeys)

	x := send(t, alice, "hello bob", bob)
	e, _ := ParseEncrypted(x)
	if len(e.Keys) != 1 || !e.Keys[0].PreKey || e.Keys[0].RID != bob.s.DeviceID() || e.SID != alice.s.DeviceID() {
		t.Fatalf("first message header %+v: want one prekey key for bob from alice", e.Keys)
	}
	if len(e.IV) != 12 || len(e.Payload) != len("hello bob") {
		t.Fatalf("IV %d bytes, payload %d bytes: want 12 and the text's length (no tag)", len(e.IV), len(e.Payload))
	}
	m := receive(t, bob, alice, x, "hello bob")
	if !m.NewSession || !m.BundleChanged || m.Trust != Undecided || m.Fingerprint != alice.s.Fingerprint() {
		t.Fatalf("first message: %+v", m)
	}
	if n := len(bob.s.Bundle().PreKeys); n != before || n != PreKeyCount {
		t.Fatalf("bob has %d prekeys after one was used, want %d (refilled)", n, PreKeyCount)
	}

	y := send(t, bob, "hi alice", alice)
	if e, _ := ParseEncrypted(y); e.Keys[0].PreKey {
		t.Fatal("bob's reply is a PreKeySignalMessage; the session was built by alice's")
	}
	if m := receive(t, alice, bob, y, "hi alice"); m.NewSession || m.BundleChanged {
		t.Fatalf("reply: %+v", m)
	}
	z := send(t, alice, "and again", bob)
	if e, _ := ParseEncrypted(z); e.Keys[0].PreKey {
		t.Fatal("alice still sends PreKeySignalMessages after bob answered")
	}
	receive(t, bob, alice, z, "and again")

	// Key transport: no payload, moves the session, decrypts to nothing.
	kt := send(t, bob, "", alice)
	if e, _ := ParseEncrypted(kt); e.Payload != nil {
		t.Fatal("key transport element has a payload")
	}
	if m := receive(t, alice, bob, kt, ""); m.Plaintext != nil {
		t.Fatalf("key transport decrypted to %q", m.Plaintext)
	}
	// An empty message is a message, not key transport.
	ee, err := alice.s.Encrypt([]byte{}, []Address{bob.addr()})
	if err != nil {
		t.Fatal(err)
	}
	m, err = tryReceive(bob, alice, ee.Marshal())
	if err != nil || m.Plaintext == nil || len(m.Plaintext) != 0 {
		t.Fatalf("empty message: %+v, %v", m, err)
	}
}

func TestOMEMOTwoDevicesEach(t *testing.T) {
	a1, a2 := newDevice(t, "alice@example.org"), newDevice(t, "alice@example.org")
	b1, b2 := newDevice(t, "bob@example.org"), newDevice(t, "bob@example.org")

	// a1 writes to both of bob's devices and to her own other device.
	connect(t, a1, b1, b2, a2)
	x := send(t, a1, "to everyone", b1, b2, a2)
	if e, _ := ParseEncrypted(x); len(e.Keys) != 3 {
		t.Fatalf("%d keys, want 3", len(e.Keys))
	}
	for _, d := range []*testDevice{b1, b2, a2} {
		receive(t, d, a1, x, "to everyone")
	}
	// A device the message was not for says so.
	_, err := tryReceive(newDevice(t, "bob@example.org"), a1, x)
	wantErr(t, err, ErrNotForThisDevice)

	// b2 answers all of alice's devices and bob's other one.
	connect(t, b2, a2, b1)
	y := send(t, b2, "from b2", a1, a2, b1)
	for _, d := range []*testDevice{a1, a2, b1} {
		receive(t, d, b2, y, "from b2")
	}
	// Listing this device among the recipients is harmless: it is left out.
	z := send(t, a1, "again", b1, b2, a2, a1)
	if e, _ := ParseEncrypted(z); len(e.Keys) != 3 {
		t.Fatalf("%d keys, want 3 (own device left out)", len(e.Keys))
	}
	for _, d := range []*testDevice{b1, b2, a2} {
		receive(t, d, a1, z, "again")
	}
	if got := a1.s.Devices("bob@example.org"); len(got) != 2 || !got[0].HasSession || got[0].Fingerprint == "" {
		t.Fatalf("a1 knows bob's devices as %+v", got)
	}
}

func TestOMEMOOutOfOrder(t *testing.T) {
	alice, bob := newDevice(t, "alice@example.org"), newDevice(t, "bob@example.org")
	connect(t, alice, bob)
	receive(t, bob, alice, send(t, alice, "m0", bob), "m0")

	var ms [][]byte
	for i := 1; i <= 5; i++ {
		ms = append(ms, send(t, alice, fmt.Sprint("m", i), bob))
	}
	for _, i := range []int{5, 2, 1} {
		receive(t, bob, alice, ms[i-1], fmt.Sprint("m", i))
	}
	// A ratchet step while m3 and m4 are still out: bob answers, alice
	// sends on a new chain, and that arrives first.
	receive(t, alice, bob, send(t, bob, "r1", alice), "r1")
	m6 := send(t, alice, "m6", bob)
	receive(t, bob, alice, m6, "m6")
	receive(t, bob, alice, ms[3], "m4")
	receive(t, bob, alice, ms[2], "m3")
	// Skipped far ahead: 50 messages lost, the 51st decrypts.
	var last []byte
	for i := 0; i < 51; i++ {
		last = send(t, alice, "far", bob)
	}
	receive(t, bob, alice, last, "far")
}

func TestOMEMOReplayRejected(t *testing.T) {
	alice, bob := newDevice(t, "alice@example.org"), newDevice(t, "bob@example.org")
	connect(t, alice, bob)
	first := send(t, alice, "first", bob)
	receive(t, bob, alice, first, "first")
	_, err := tryReceive(bob, alice, first)
	wantErr(t, err, ErrReplay) // the PreKeySignalMessage again

	receive(t, alice, bob, send(t, bob, "ack", alice), "ack")
	x := send(t, alice, "once", bob)
	receive(t, bob, alice, x, "once")
	_, err = tryReceive(bob, alice, x)
	wantErr(t, err, ErrReplay)
	// The session still works both ways.
	receive(t, bob, alice, send(t, alice, "after", bob), "after")
	receive(t, alice, bob, send(t, bob, "back", alice), "back")
}

func TestOMEMOTamperRejected(t *testing.T) {
	alice, bob := newDevice(t, "alice@example.org"), newDevice(t, "bob@example.org")
	connect(t, alice, bob)
	receive(t, bob, alice, send(t, alice, "setup", bob), "setup")
	receive(t, alice, bob, send(t, bob, "ack", alice), "ack")

	x := send(t, alice, "the real text", bob)
	orig, _ := ParseEncrypted(x)
	flip := func(b []byte, i int) []byte {
		c := append([]byte(nil), b...)
		c[i%len(c)] ^= 0x01
		return c
	}
	cases := map[string]func(e *Encrypted){
		"payload":        func(e *Encrypted) { e.Payload = flip(e.Payload, 3) },
		"iv":             func(e *Encrypted) { e.IV = flip(e.IV, 0) },
		"key body":       func(e *Encrypted) { e.Keys[0].Data = flip(e.Keys[0].Data, 40) },
		"key mac":        func(e *Encrypted) { e.Keys[0].Data = flip(e.Keys[0].Data, len(e.Keys[0].Data)-1) },
		"payload cut":    func(e *Encrypted) { e.Payload = e.Payload[:len(e.Payload)-1] },
		"key transport":  func(e *Encrypted) { e.Payload = nil }, // a message passed off as key transport still authenticates the key, but has no text
		"other sender":   func(e *Encrypted) { e.SID++ },
		"prekey flagged": func(e *Encrypted) { e.Keys[0].PreKey = true },
	}
	for name, mutate := range cases {
		c := *orig
		c.Keys = append([]Key(nil), orig.Keys...)
		mutate(&c)
		m, err := bob.s.Decrypt(&c, alice.jid)
		if name == "key transport" {
			// Dropping the payload yields no text, never the wrong text.
			if err != nil || m.Plaintext != nil {
				t.Fatalf("%s: %+v %v", name, m, err)
			}
			// It consumed the message key: the original is now a replay.
			_, err = bob.s.Decrypt(orig, alice.jid)
			wantErr(t, err, ErrReplay)
			x = send(t, alice, "the real text", bob)
			orig, _ = ParseEncrypted(x)
			continue
		}
		if err == nil {
			t.Fatalf("%s: tampered message decrypted to %q", name, m.Plaintext)
		}
	}
	// Nothing the tampered copies did changed bob's session.
	receive(t, bob, alice, x, "the real text")
	receive(t, alice, bob, send(t, bob, "still here", alice), "still here")
}

func TestOMEMOStoreSurvivesMarshal(t *testing.T) {
	alice, bob := newDevice(t, "alice@example.org"), newDevice(t, "bob@example.org")
	connect(t, alice, bob)
	receive(t, bob, alice, send(t, alice, "one", bob), "one")
	skipped := send(t, alice, "skipped", bob)
	receive(t, bob, alice, send(t, alice, "two", bob), "two")

	alice.reload(t)
	bob.reload(t)
	if err := bob.s.SetTrust(alice.addr(), alice.s.Fingerprint(), Verified); err != nil {
		t.Fatal(err)
	}
	bob.reload(t)

	receive(t, alice, bob, send(t, bob, "three", alice), "three")
	m := receive(t, bob, alice, skipped, "skipped") // its key was kept across the reload
	if m.Trust != Verified {
		t.Fatalf("trust after reload: %v", m.Trust)
	}
	for i := 0; i < 3; i++ {
		alice.reload(t)
		bob.reload(t)
		receive(t, bob, alice, send(t, alice, "a", bob), "a")
		receive(t, alice, bob, send(t, bob, "b", alice), "b")
	}
	// The same bytes after a reload: Marshal is deterministic.
	b1, _ := bob.s.Marshal()
	bob.reload(t)
	b2, _ := bob.s.Marshal()
	if !bytes.Equal(b1, b2) {
		t.Fatal("Marshal → UnmarshalStore → Marshal changed the bytes")
	}
}

func TestOMEMOKeyChangeRefused(t *testing.T) {
	alice, bob := newDevice(t, "alice@example.org"), newDevice(t, "bob@example.org")
	connect(t, alice, bob)
	receive(t, bob, alice, send(t, alice, "hi", bob), "hi")

	// Someone else publishes a bundle and sends as alice's device id.
	mallory := newDevice(t, "alice@example.org")
	mallory.s.deviceID = alice.s.DeviceID()
	connect(t, mallory, bob)
	_, err := tryReceive(bob, mallory, send(t, mallory, "it's me", bob))
	wantErr(t, err, ErrKeyChanged)
	wantErr(t, bob.s.BuildSession(mallory.addr(), mallory.publishedBundle(t)), ErrKeyChanged)
	// Bob's session with the real device is untouched.
	receive(t, bob, alice, send(t, alice, "still me", bob), "still me")

	// After the user accepts the change (Forget), the new key is taken.
	bob.s.Forget(alice.addr())
	receive(t, bob, mallory, send(t, mallory, "new key", bob), "new key")
}

func TestOMEMOTrust(t *testing.T) {
	alice, bob := newDevice(t, "alice@example.org"), newDevice(t, "bob@example.org")
	connect(t, alice, bob)
	wantErr(t, alice.s.SetTrust(bob.addr(), alice.s.Fingerprint(), Verified), ErrUnknownDevice)
	if err := alice.s.SetTrust(bob.addr(), FormatFingerprint(bob.s.Fingerprint()), Distrusted); err != nil {
		t.Fatal(err)
	}
	_, err := alice.s.Encrypt([]byte("x"), []Address{bob.addr()})
	wantErr(t, err, ErrDistrusted)
	_, err = alice.s.Encrypt([]byte("x"), []Address{{JID: "carol@example.org", Device: 7}})
	wantErr(t, err, ErrNoSessionWith)
}

func TestOMEMOBadBundleSignature(t *testing.T) {
	alice, bob := newDevice(t, "alice@example.org"), newDevice(t, "bob@example.org")
	b := bob.publishedBundle(t)
	b.SignedPreKeySignature[5] ^= 1
	wantErr(t, alice.s.BuildSession(bob.addr(), b), ErrBadSignature)
	if alice.s.HasSession(bob.addr()) || len(alice.s.Devices(bob.jid)) != 0 {
		t.Fatal("a refused bundle left a session or an identity behind")
	}
}

// TestOMEMOPayloadLegacyTag: older clients put the 16-byte GCM tag at
// the end of the payload and a 16-byte key in the Signal message.
func TestOMEMOPayloadLegacyTag(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 16)
	iv := bytes.Repeat([]byte{9}, 12)
	gcm, _ := newGCM(key)
	e := &Encrypted{IV: iv, Payload: gcm.Seal(nil, iv, []byte("old style"), nil)}
	pt, err := openPayload(key, e)
	if err != nil || string(pt) != "old style" {
		t.Fatalf("%q %v", pt, err)
	}
	if _, err := openPayload(key[:15], e); !errors.Is(err, ErrUndecryptable) {
		t.Fatalf("15-byte key: %v", err)
	}
}
