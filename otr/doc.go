// Package otr implements Off-the-Record Messaging, protocol versions 3 and 2,
// as specified in ../shared/spec/otr-protocol-v3.html and otr-protocol-v2.html.
//
// The package is a pure, deterministic state machine: it does no I/O, never
// reads the clock or the system random source on its own, and never calls
// back into the application. The caller feeds it incoming messages and user
// actions; each call returns what to show, what to send and what changed.
// Randomness, the clock and DSA signing are injected through Config; only
// NewConfig fills in crypto/rand and the real clock.
package otr
