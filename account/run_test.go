package account

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sotto-im/sotto/otr"
	"github.com/sotto-im/sotto/secret"
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
	m := NewManager(prof, secret.NewMemory(), WithDialer(func(context.Context, string, string) (net.Conn, error) {
		return nil, dialErr
	}))
	parent, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx := &doneWatch{Context: parent, asked: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- m.Connect(ctx, "alice@example.org") }()
	// The sentinel: Connect asks for ctx.Done only to wait on it. Before
	// Run there is no loop to ask, so once it has asked, it is parked
	// waiting for Run (it cannot pass: Run has not started, ctx is live).
	select {
	case err := <-done:
		t.Fatalf("Connect returned before Run started: %v", err)
	case <-ctx.asked:
	}
	select {
	case err := <-done:
		t.Fatalf("Connect returned before Run started: %v", err)
	default:
	}
	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { _ = m.Run(runCtx) }()
	err = <-done
	if err == nil || strings.Contains(err.Error(), "not running") {
		t.Fatalf("after Run started, Connect must really try (and fail to dial): %v", err)
	}

	// A manager that never runs: Connect gives up with the caller's context.
	m2 := NewManager(prof, secret.NewMemory())
	short, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel2()
	if err := m2.Connect(short, "alice@example.org"); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("never-running manager: %v", err)
	}
}

// doneWatch is a context that reports (closes asked) the first time
// anyone asks for its Done channel.
type doneWatch struct {
	context.Context
	once  sync.Once
	asked chan struct{}
}

func (w *doneWatch) Done() <-chan struct{} {
	w.once.Do(func() { close(w.asked) })
	return w.Context.Done()
}

// When an account's loop ends (the app quits, the account is removed),
// its OTR sessions are wiped at once (otr.Conversation.Forget), not left
// to the garbage collector.
func TestLoopEndWipesOTRSessions(t *testing.T) {
	_, a, b := privatePair(t, peerOpts{}, peerOpts{})
	c, err := a.m.client(a.jid)
	if err != nil {
		t.Fatal(err)
	}
	var insts []*otr.Conversation
	if err := c.call(ctxT(t), func(reply func(error)) {
		for _, pc := range c.convs {
			insts = append(insts, pc.e2e.(*otrSession).peer.Instances()...)
		}
		reply(nil)
	}); err != nil {
		t.Fatal(err)
	}
	encrypted := 0
	for _, in := range insts {
		if in.State() == otr.StateEncrypted {
			encrypted++
		}
	}
	if encrypted == 0 {
		t.Fatalf("no encrypted session with %s to wipe", b.jid)
	}
	if err := a.m.RemoveAccount(ctxT(t), a.jid); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.dead:
	case <-time.After(10 * time.Second):
		t.Fatal("the account loop did not end")
	}
	for _, in := range insts {
		if in.State() != otr.StatePlaintext {
			t.Errorf("a session is still %v after the loop ended", in.State())
		}
	}
}
