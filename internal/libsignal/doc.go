// Package libsignal is a test harness that drives libsignal-protocol-c
// 2.3.3 (Debian's libsignal-protocol-c-dev, the library Dino, profanity
// and lurch use) in-process through cgo, so that package omemo can be
// checked against an independent Signal implementation, message by
// message, with no network.
//
// Every file except this one and notag_test.go carries the build tag
// "libsignal", so the package is empty (and `go build ./...` works) on
// machines without the library. Run the interop tests and benchmarks with:
//
//	CGO_ENABLED=1 go test -tags libsignal ./internal/libsignal/
//	CGO_ENABLED=1 go test -tags libsignal -run '^$' -bench . ./internal/libsignal/
//
// The cgo directives use `pkg-config libsignal-protocol-c libcrypto`, so
// libsignal-protocol-c-dev and libssl-dev must be installed (scripts/deps.sh
// test). The C side (shim.c) supplies what libsignal-protocol-c leaves to
// its user: the crypto provider (OpenSSL 3), in-memory stores, and the
// OMEMO payload cipher, AES-128-GCM. The OMEMO XML is written and read
// here with its own small codec, not package omemo's, so each side's XML
// is decoded by the other's code.
package libsignal
