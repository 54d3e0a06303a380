package secret

import (
	"context"
	"errors"
	"testing"
)

// TestMemoryCopies: Memory hands out and keeps copies, so a caller that
// wipes its slice (as account does with private keys) wipes only its own.
func TestMemoryCopies(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	if _, err := m.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of nothing: %v", err)
	}
	val := []byte("secret")
	if err := m.Set(ctx, "k", val); err != nil {
		t.Fatal(err)
	}
	clear(val)
	got, err := m.Get(ctx, "k")
	if err != nil || string(got) != "secret" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	clear(got)
	if snap := m.Snapshot(); string(snap["k"]) != "secret" || len(snap) != 1 {
		t.Fatalf("Snapshot = %q", snap)
	}
	if err := m.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
}
