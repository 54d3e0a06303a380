package secret

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// memStore is an in-memory Store whose availability can be switched,
// standing in for the keyring in Fallback's policy tests (the real keyring
// is exercised in keyring_test.go).
type memStore struct {
	mu    sync.Mutex
	m     map[string][]byte
	down  bool
	calls int
}

func newMemStore() *memStore { return &memStore{m: map[string][]byte{}} }

func (s *memStore) op() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.down {
		return fmt.Errorf("%w: test store down", ErrStoreUnavailable)
	}
	return nil
}

func (s *memStore) Get(_ context.Context, k string) ([]byte, error) {
	if err := s.op(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	if !ok {
		return nil, ErrNotFound
	}
	return v, nil
}

func (s *memStore) Set(_ context.Context, k string, v []byte) error {
	if err := s.op(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = v
	return nil
}

func (s *memStore) Delete(_ context.Context, k string) error {
	if err := s.op(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[k]; !ok {
		return ErrNotFound
	}
	delete(s.m, k)
	return nil
}

func TestFallbackFindsVaultCopyWhenKeyringLacksIt(t *testing.T) {
	ctx := context.Background()
	kr, vault := newMemStore(), newMemStore()
	vault.m["pw"] = []byte("saved during an outage")
	fb := NewFallback(kr, nil)
	if _, err := fb.Get(ctx, "pw"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("without an open vault: %v", err)
	}
	fb.UseSecondary(vault)
	if got, err := fb.Get(ctx, "pw"); err != nil || string(got) != "saved during an outage" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	// Saving through the working keyring removes the stale vault copy.
	if err := fb.Set(ctx, "pw", []byte("new")); err != nil {
		t.Fatal(err)
	}
	if _, ok := vault.m["pw"]; ok || string(kr.m["pw"]) != "new" {
		t.Errorf("keyring %q, vault still has a copy: %v", kr.m["pw"], ok)
	}
	if fb.UsingSecondary() {
		t.Error("UsingSecondary with a working keyring")
	}
}

func TestFallbackSticksToVaultAfterOutage(t *testing.T) {
	ctx := context.Background()
	kr, vault := newMemStore(), newMemStore()
	kr.down = true
	opens := 0
	fb := NewFallback(kr, func(context.Context) (Store, error) { opens++; return vault, nil })
	if err := fb.Set(ctx, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	kr.down = false // the keyring comes back, but this session stays on the vault
	callsBefore := kr.calls
	if got, err := fb.Get(ctx, "a"); err != nil || string(got) != "1" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := fb.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := fb.Delete(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: %v", err)
	}
	if kr.calls != callsBefore || opens != 1 {
		t.Errorf("keyring called %d more times, vault opened %d times", kr.calls-callsBefore, opens)
	}
}

func TestFallbackOpenFailure(t *testing.T) {
	ctx := context.Background()
	kr := newMemStore()
	kr.down = true
	fb := NewFallback(kr, func(context.Context) (Store, error) { return nil, ErrWrongPassphrase })
	err := fb.Set(ctx, "a", []byte("1"))
	if !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("Set: %v, want the open error", err)
	}
	// Without any secondary the unavailability is reported as is.
	fb2 := NewFallback(kr, nil)
	if _, err := fb2.Get(ctx, "a"); !errors.Is(err, ErrStoreUnavailable) {
		t.Errorf("Get without secondary: %v", err)
	}
}

func TestFallbackDeleteBoth(t *testing.T) {
	ctx := context.Background()
	kr, vault := newMemStore(), newMemStore()
	kr.m["k"], vault.m["k"] = []byte("1"), []byte("2")
	fb := NewFallback(kr, nil)
	fb.UseSecondary(vault)
	if err := fb.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if len(kr.m)+len(vault.m) != 0 {
		t.Errorf("left behind: keyring %v vault %v", kr.m, vault.m)
	}
	if err := fb.Delete(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete of nothing: %v", err)
	}
}

// TestFallbackHoldsNoLockAcrossPrompt: while the vault's passphrase
// window is open (Open has not returned), the Fallback answers what it can
// at once, and a caller that needs the vault waits only as long as its own
// context allows (issue 12, point 5).
func TestFallbackHoldsNoLockAcrossPrompt(t *testing.T) {
	primary := newMemStore()
	primary.down = true
	asked := make(chan struct{})
	answer := make(chan struct{})
	vault := newMemStore()
	fb := NewFallback(primary, func(ctx context.Context) (Store, error) {
		close(asked)
		select { // the user has not answered yet
		case <-answer:
			return vault, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	first := make(chan error, 1)
	go func() { first <- fb.Set(context.Background(), "k", []byte("v")) }()
	<-asked
	if !fb.UsingSecondary() { // would block on the mutex if Open held it
		t.Error("UsingSecondary = false after the keyring failed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() { _, err := fb.Get(ctx, "k"); second <- err }()
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Errorf("Get while the prompt is open, cancelled: %v, want context.Canceled", err)
	}
	close(answer)
	if err := <-first; err != nil {
		t.Fatalf("Set once the vault opened: %v", err)
	}
	if v, err := fb.Get(context.Background(), "k"); err != nil || string(v) != "v" {
		t.Fatalf("Get after the prompt: %q, %v", v, err)
	}
}
