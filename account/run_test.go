package account

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// The app starts Run in a goroutine and the UI may call Connect at once:
// Connect must wait for Run instead of failing with "not running yet".
func TestConnectWaitsForRun(t *testing.T) {
	prof, err := OpenProfile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := prof.SaveAccount(Settings{JID: "alice@example.org"}); err != nil {
		t.Fatal(err)
	}
	dialErr := errors.New("no network in this test")
	m := NewManager(prof, NewMemoryStore(), WithDialer(func(context.Context, string, string) (net.Conn, error) {
		return nil, dialErr
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Connect(ctx, "alice@example.org") }()
	select {
	case err := <-done:
		t.Fatalf("Connect returned before Run started: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { _ = m.Run(runCtx) }()
	err = <-done
	if err == nil || strings.Contains(err.Error(), "not running") {
		t.Fatalf("after Run started, Connect must really try (and fail to dial): %v", err)
	}

	// A manager that never runs: Connect gives up with the caller's context.
	m2 := NewManager(prof, NewMemoryStore())
	short, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel2()
	if err := m2.Connect(short, "alice@example.org"); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("never-running manager: %v", err)
	}
}
