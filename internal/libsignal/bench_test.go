//go:build libsignal && linux

package libsignal

import (
	"bytes"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/sotto-im/sotto/omemo"
)

// Paired benchmarks: BenchmarkOursX and BenchmarkLibsignalX do the same
// OMEMO work with package omemo and with libsignal-protocol-c (plus
// OpenSSL's AES-GCM and this harness's XML), in the same run; strip the
// prefix to pair them. Each reports cpu-ns/op, the CPU time of the
// benchmark's own locked OS thread, as internal/libotr's benchmarks do:
// wall time on a shared two-core machine also counts other processes.
//
//	go test -tags libsignal -run '^$' -bench . -benchmem ./internal/libsignal/
//
// Message1KiB: one 1 KiB message encrypted to the other side (the
// <encrypted/> XML written), parsed and decrypted; the direction
// alternates, so every message starts a new chain (a Diffie-Hellman
// ratchet step on each side), as in a conversation.
// SessionSetup: a session built from the peer's (parsed) bundle, a first
// message encrypted, and the PreKeySignalMessage processed and decrypted
// by the peer. Ours includes the peer generating a replacement prekey
// (package omemo refills at once); libsignal-c's harness does not refill.

const msgSize = 1024

type cpuMeter struct {
	b       *testing.B
	started time.Duration
	total   time.Duration
	running bool
}

func newCPUMeter(b *testing.B) *cpuMeter {
	runtime.LockOSThread()
	b.Cleanup(runtime.UnlockOSThread)
	m := &cpuMeter{b: b}
	m.resume()
	return m
}

func threadCPU() time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		panic(errno)
	}
	return time.Duration(ts.Nano())
}

func (m *cpuMeter) pause() {
	if m.running {
		m.total += threadCPU() - m.started
		m.running = false
		m.b.StopTimer()
	}
}

func (m *cpuMeter) resume() {
	if !m.running {
		m.b.StartTimer()
		m.running = true
		m.started = threadCPU()
	}
}

func (m *cpuMeter) report(n int) {
	m.pause()
	if n > 0 {
		m.b.ReportMetric(float64(m.total.Nanoseconds())/float64(n), "cpu-ns/op")
	}
}

func BenchmarkOursMessage1KiB(b *testing.B) {
	x, y := newOurs(b, "a@example.org"), newOurs(b, "b@example.org")
	if err := x.s.BuildSession(y.oaddr(), y.s.Bundle()); err != nil {
		b.Fatal(err)
	}
	msg := bytes.Repeat([]byte("x"), msgSize)
	exchange := func(from, to *ours) {
		e, err := from.s.Encrypt(msg, []omemo.Address{to.oaddr()})
		if err != nil {
			b.Fatal(err)
		}
		p, err := omemo.ParseEncrypted(e.Marshal())
		if err != nil {
			b.Fatal(err)
		}
		if m, err := to.s.Decrypt(p, from.jid); err != nil || len(m.Plaintext) != msgSize {
			b.Fatalf("decrypt: %v", err)
		}
	}
	alternate(b, x, y, exchange)
}

func BenchmarkLibsignalMessage1KiB(b *testing.B) {
	x, y := newTheirs(b, "a@example.org"), newTheirs(b, "b@example.org")
	if err := x.BuildSession(y.Addr(), mustBundle(b, y), 0); err != nil {
		b.Fatal(err)
	}
	msg := bytes.Repeat([]byte("x"), msgSize)
	exchange := func(from, to *Peer) {
		e, err := from.Encrypt(msg, to.Addr())
		if err != nil {
			b.Fatal(err)
		}
		if pt, err := to.Decrypt(from.JID, e); err != nil || len(pt) != msgSize {
			b.Fatalf("decrypt: %v", err)
		}
	}
	alternate(b, x, y, exchange)
}

// perPeer bounds how many sessions one receiving peer takes before the
// benchmark makes a new one (with the meter paused): libsignal-c's
// harness stores are fixed tables of 1024, and a store that grew without
// bound would measure the store, not the protocol.
const perPeer = 90

func BenchmarkOursSessionSetup(b *testing.B) {
	template, err := newOurs(b, "a@example.org").s.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	var x, y *ours
	var bundle *omemo.Bundle
	m, n := newCPUMeter(b), 0
	for i := 0; i < b.N; i++ {
		if i%perPeer == 0 {
			m.pause()
			s, err := omemo.UnmarshalStore(template)
			if err != nil {
				b.Fatal(err)
			}
			x, y = &ours{jid: "a@example.org", s: s}, newOurs(b, "b@example.org")
			if bundle, err = omemo.ParseBundle(y.s.Bundle().Marshal()); err != nil {
				b.Fatal(err)
			}
			m.resume()
		}
		n++
		// Each set-up takes the next prekey, as libsignal-c's does below.
		one := *bundle
		one.PreKeys = bundle.PreKeys[i%perPeer : i%perPeer+1]
		if err := x.s.BuildSession(y.oaddr(), &one); err != nil {
			b.Fatal(err)
		}
		e, err := x.s.Encrypt([]byte("hi"), []omemo.Address{y.oaddr()})
		if err != nil {
			b.Fatal(err)
		}
		p, err := omemo.ParseEncrypted(e.Marshal())
		if err != nil {
			b.Fatal(err)
		}
		// A new sender address per session, as a new contact device would be.
		if _, err := y.s.Decrypt(p, fmt.Sprintf("a%d@example.org", i)); err != nil {
			b.Fatal(err)
		}
	}
	m.report(n)
}

func BenchmarkLibsignalSessionSetup(b *testing.B) {
	var x, y *Peer
	var bundle []byte
	m, n := newCPUMeter(b), 0
	for i := 0; i < b.N; i++ {
		if i%perPeer == 0 {
			m.pause()
			if x != nil {
				x.Close()
				y.Close()
			}
			var err error
			if x, err = NewPeer("a@example.org", 1, 1); err != nil {
				b.Fatal(err)
			}
			if y, err = NewPeer("b@example.org", 2, perPeer); err != nil {
				b.Fatal(err)
			}
			bundle = mustBundle(b, y)
			m.resume()
		}
		n++
		to := y.Addr()
		if err := x.BuildSession(to, bundle, i%perPeer); err != nil {
			b.Fatal(err)
		}
		e, err := x.Encrypt([]byte("hi"), to)
		if err != nil {
			b.Fatal(err)
		}
		// A new sender address per session, as a new contact device would be.
		if _, err := y.Decrypt(fmt.Sprintf("a%d@example.org", i), e); err != nil {
			b.Fatal(err)
		}
	}
	m.report(n)
	if x != nil {
		x.Close()
		y.Close()
	}
}

// alternate warms both directions up, then times exchange alternating
// direction (a Diffie-Hellman ratchet step per message), as CPU time.
func alternate[P any](b *testing.B, x, y P, exchange func(from, to P)) {
	exchange(x, y)
	exchange(y, x)
	m, n := newCPUMeter(b), 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n++
		if i%2 == 0 {
			exchange(x, y)
		} else {
			exchange(y, x)
		}
	}
	m.report(n)
}
