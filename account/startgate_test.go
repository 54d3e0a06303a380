package account

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
)

// TestStartAfterHoldsSignIn: with WithStartAfter, an account that signs in
// by itself neither reads its roster cache nor dials until the gate is
// closed, while its loop answers calls (the program paints its first frame
// meanwhile); PreloadCachedRosters has the cached roster ready for the
// window's CachedRoster. Then the gate opens and everything happens.
func TestStartAfterHoldsSignIn(t *testing.T) {
	const n = 30
	srv, a := signedInOnceWithRoster(t, n)
	s := a.profile.Accounts()[0]
	s.AutoConnect = true
	if err := a.profile.SaveAccount(s); err != nil {
		t.Fatal(err)
	}

	var dials, rosters, connecting atomic.Int32
	dialer := func(ctx context.Context, network, _ string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Addr())
	}
	tap := func(o *options) {
		o.emitTap = func(e Event) {
			switch e := e.(type) {
			case RosterChanged:
				rosters.Add(1)
			case ConnectionChanged:
				if e.State == Connecting {
					connecting.Add(1)
				}
			}
		}
	}
	gate := make(chan struct{})
	b := restartedPeer(t, srv, a, WithDialer(dialer), WithStartAfter(gate), tap)
	b.m.PreloadCachedRosters()
	if cs, ok := b.m.CachedRoster(b.jid); !ok || len(cs) != n {
		t.Fatalf("preloaded cached roster: %d contacts (ok %v), want %d", len(cs), ok, n)
	}
	// Sentinel: a call the loop answers; every event the loop emitted
	// before it went through the tap already.
	if err := b.m.accountCall(ctxT(t), b.jid, func(_ *client, reply func(error)) { reply(nil) }); err != nil {
		t.Fatal(err)
	}
	if d, r, c := dials.Load(), rosters.Load(), connecting.Load(); d != 0 || r != 0 || c != 0 {
		t.Fatalf("before the gate opened: %d dials, %d roster events, %d connecting; want none", d, r, c)
	}
	close(gate)
	b.waitFor(0, "the cached roster once the gate opened", rosterOf(n))
	b.waitFor(0, "signed in by itself once the gate opened", isConn(Connected))
	if dials.Load() == 0 {
		t.Fatal("connected without a dial")
	}
}
