// Package omemo implements the core of OMEMO (XEP-0384) as deployed
// clients speak it — Conversations, Dino, Gajim, profanity — in the
// eu.siacs.conversations.axolotl namespace: the device list, bundle and
// <encrypted/> codecs, a Store holding one device's keys and Signal
// sessions, Encrypt and Decrypt of messages, and fingerprints with the
// xmpp: URI form Conversations uses for verification.
//
// The Signal protocol itself (X3DH, the Double Ratchet, libsignal's wire
// format) comes from go.mau.fi/libsignal; this package does no I/O, no
// XMPP and no logging, and never calls the clock.
package omemo
