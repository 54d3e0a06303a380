package account

import (
	"context"
	"sync"
	"testing"
)

// importMemStore is a SecretStore in memory for tests that need no real keyring.
type importMemStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *importMemStore) Get(_ context.Context, k string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	if !ok {
		return nil, ErrSecretNotFound
	}
	return append([]byte(nil), v...), nil
}

func (s *importMemStore) Set(_ context.Context, k string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = append([]byte(nil), v...)
	return nil
}

func (s *importMemStore) Delete(_ context.Context, k string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
	return nil
}

func TestManagerImportPidgin(t *testing.T) {
	prof, err := OpenProfile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store := &importMemStore{m: map[string][]byte{}}
	m := NewManager(prof, store)
	imp, err := ImportPidgin(pidginFixtures)
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
	before := map[string][]byte{}
	for k, v := range store.m {
		before[k] = v
	}
	again, err := m.ImportPidgin(context.Background(), pidginFixtures)
	if err != nil || len(again) != 0 {
		t.Fatalf("second import: added %v, err %v", again, err)
	}
	for k, v := range before {
		if string(store.m[k]) != string(v) {
			t.Errorf("second import changed secret %s", k)
		}
	}
}
