package account

import (
	"context"
	"reflect"
	"testing"

	"github.com/sotto-im/sotto/account/internal/pidgin"
	"github.com/sotto-im/sotto/secret"
)

// pidginFixtures are the parser's fixtures (see their README.md).
const pidginFixtures = "internal/pidgin/testdata"

func TestManagerImportPidgin(t *testing.T) {
	prof, err := OpenProfile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store := secret.NewMemory()
	m := NewManager(prof, store)
	imp, err := pidgin.Read(pidginFixtures)
	if err != nil {
		t.Fatal(err)
	}
	added, err := m.ImportPidgin(context.Background(), pidginFixtures)
	if err != nil {
		t.Fatal(err)
	}
	if len(added) == 0 || len(added) != len(imp.Accounts) {
		t.Fatalf("added %d accounts, fixture has %d", len(added), len(imp.Accounts))
	}
	for jid, want := range imp.Keys {
		fp, err := m.OwnFingerprint(context.Background(), jid)
		if err != nil {
			t.Fatalf("own fingerprint of %s: %v", jid, err)
		}
		if fp != want.Fingerprint().String() {
			t.Errorf("%s: stored key has fingerprint %s, Pidgin's is %s", jid, fp, want.Fingerprint())
		}
	}
	trusted := 0
	for _, f := range m.Fingerprints() {
		if f.Verified {
			trusted++
		}
	}
	if trusted == 0 {
		t.Error("verified fingerprints from Pidgin lost their trust")
	}
	// A second import adds nothing and keeps the keys.
	before := store.Snapshot()
	again, err := m.ImportPidgin(context.Background(), pidginFixtures)
	if err != nil || len(again) != 0 {
		t.Fatalf("second import: added %v, err %v", again, err)
	}
	after := store.Snapshot()
	for k, v := range before {
		if string(after[k]) != string(v) {
			t.Errorf("second import changed secret %s", k)
		}
	}
}

func TestImportPidginIntoProfile(t *testing.T) {
	imp, err := pidgin.Read(pidginFixtures)
	if err != nil {
		t.Fatal(err)
	}
	p := openTestProfile(t, t.TempDir())
	var fps []KnownFingerprint
	for _, a := range imp.Accounts {
		if err := p.SaveAccount(pidginSettings(a)); err != nil {
			t.Fatalf("SaveAccount(%s): %v", a.JID, err)
		}
	}
	for _, f := range imp.Fingerprints {
		k := pidginFingerprint(f)
		fps = append(fps, k)
		if err := p.SetFingerprint(k); err != nil {
			t.Fatalf("SetFingerprint: %v", err)
		}
	}
	if len(p.Accounts()) != 3 || !reflect.DeepEqual(p.Fingerprints(), fps) {
		t.Errorf("profile after import: %+v / %+v", p.Accounts(), p.Fingerprints())
	}
}
