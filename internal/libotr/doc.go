// Package libotr is a test harness that drives libotr 4.1.1 in-process
// through cgo, so that Sotto's own OTR engine (package otr) can be checked
// against the reference implementation message by message, with no network.
//
// Every file except this one carries the build tag "libotr", so the package
// is empty (and `go build ./...` works) on machines without libotr5-dev.
// Run the harness self-test, the interop suite and the benchmarks with:
//
//	CGO_ENABLED=1 go test -tags libotr ./internal/libotr/
//	CGO_ENABLED=1 go test -tags libotr -run '^$' -bench . ./internal/libotr/
//
// The cgo directives use `pkg-config libotr` plus -lgcrypt, so libotr5-dev
// and libgcrypt20-dev must be installed.
//
// A Peer wraps one OtrlUserState with one account. It is single-threaded:
// libotr calls back into Go (inject_message, gone_secure, SMP events, ...)
// on the calling goroutine, and those callbacks fill the Peer's outbox and
// event queue, which the test drains with Outbox and Events.
package libotr
