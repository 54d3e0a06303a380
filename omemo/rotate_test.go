package omemo

import "testing"

// roundTrip is what a restart does to a store: Marshal, UnmarshalStore.
func roundTrip(t *testing.T, d *testDevice) {
	t.Helper()
	b, err := d.s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if d.s, err = UnmarshalStore(b); err != nil {
		t.Fatal(err)
	}
}

// TestSignedPreKeyRotation: with an injected clock, a new signed prekey
// comes after seven days; a prekey message built from the bundle before
// it still decrypts (also after a restart) until the replaced key is 30
// days old, and not after.
func TestSignedPreKeyRotation(t *testing.T) {
	alice, bob, carol := newDevice(t, "alice@example.org"), newDevice(t, "bob@example.org"), newDevice(t, "carol@example.org")
	t0 := int64(1_800_000_000_000)
	rotate := func(at int64) (changed, rotated bool) {
		t.Helper()
		changed, rotated, err := alice.s.RotateSignedPreKey(at)
		if err != nil {
			t.Fatal(err)
		}
		return changed, rotated
	}
	if changed, rotated := rotate(t0); !changed || rotated {
		t.Fatalf("first call: changed %v rotated %v, want the time stamped and no rotation", changed, rotated)
	}
	old := alice.publishedBundle(t)
	if changed, rotated := rotate(t0 + SignedPreKeyRotation - 1); changed || rotated {
		t.Fatal("rotated before seven days")
	}
	// Bob fetches the bundle now and sends later; Carol fetches it too.
	if err := bob.s.BuildSession(alice.addr(), old); err != nil {
		t.Fatal(err)
	}
	if err := carol.s.BuildSession(alice.addr(), old); err != nil {
		t.Fatal(err)
	}
	if _, rotated := rotate(t0 + SignedPreKeyRotation); !rotated {
		t.Fatal("no rotation after seven days")
	}
	now := alice.publishedBundle(t)
	if now.SignedPreKeyID == old.SignedPreKeyID || string(now.SignedPreKey) == string(old.SignedPreKey) {
		t.Fatalf("the bundle still has signed prekey %d", old.SignedPreKeyID)
	}
	roundTrip(t, alice) // the replaced key survives a restart
	late := send(t, bob, "built from last week's bundle", alice)
	receive(t, alice, bob, late, "built from last week's bundle")

	// Thirty days after it was replaced (and three more weekly
	// rotations), the old key is gone: a message built from it fails.
	at := t0 + SignedPreKeyRotation
	for range 4 {
		at += SignedPreKeyRotation
		rotate(at)
	}
	at = t0 + SignedPreKeyRotation + SignedPreKeyKeep
	rotate(at)
	roundTrip(t, alice)
	if got := len(alice.s.oldSignedPreKeys); got > 5 {
		t.Fatalf("%d replaced signed prekeys kept", got)
	}
	for _, o := range alice.s.oldSignedPreKeys {
		if o.rec.ID() == old.SignedPreKeyID {
			t.Fatalf("signed prekey %d kept %d days after it was replaced", old.SignedPreKeyID, (at-o.retired)/day)
		}
	}
	if _, err := tryReceive(alice, carol, send(t, carol, "too late", alice)); err == nil {
		t.Fatal("a prekey message built from a signed prekey deleted after 30 days decrypted")
	}
	// Sessions go on: alice answers bob in the session his late message made.
	receive(t, bob, alice, send(t, alice, "still here", bob), "still here")
}
