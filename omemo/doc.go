// Package omemo implements the core of OMEMO (XEP-0384) as deployed
// clients speak it — Conversations, Dino, Gajim, Monal, profanity — in the
// eu.siacs.conversations.axolotl namespace: the device list, bundle and
// <encrypted/> codecs, a Store holding one device's keys and Signal
// sessions, Encrypt and Decrypt of messages, and fingerprints with the
// xmpp: URI form Conversations uses for verification.
//
// The Signal protocol itself (X3DH, the Double Ratchet, libsignal's wire
// format) comes from go.mau.fi/libsignal v0.2.1; this package does no I/O,
// no XMPP and no logging, and never reads the clock. Randomness is
// crypto/rand (the library reads it directly too).
//
// # Use
//
//	st, _ := omemo.NewStore()                 // once per device; then UnmarshalStore
//	publish(omemo.DeviceListNode, DeviceList{…, st.DeviceID()}.Marshal())
//	publish(omemo.BundleNode(st.DeviceID()), st.Bundle().Marshal())
//
//	b, _ := omemo.ParseBundle(fetched)        // for each device without a session
//	_ = st.BuildSession(omemo.Address{JID: bob, Device: id}, b)
//	e, _ := st.Encrypt([]byte(text), devices) // bob's devices and our other ones
//	send(e.Marshal())
//
//	e, _ := omemo.ParseEncrypted(received)
//	m, err := st.Decrypt(e, fromBareJID)      // m.Plaintext, m.Trust, m.NewSession, …
//
// After every call that changes the store, Marshal it and save the bytes
// (encrypted) before sending or showing anything.
//
// Peer does the per-contact part for the account loop: it takes the
// contact's and our own device lists (SetDeviceList reports added and
// removed devices and which bundles to fetch), picks the recipients
// (listed, with a session, not distrusted), and gives the Level
// (NotPrivate, Unverified, Private: every listed device of the contact
// verified).
//
// # Traps in go.mau.fi/libsignal v0.2.1 closed here
//
// (measured in ../shared/FACTS.md, "OMEMO"; each has a test.)
//
//  1. session.Cipher.DecryptWithRecord tries the current and previous
//     session states on the live objects: a failed try (a message for an
//     older state, e.g. late after both sides started a session at once)
//     leaves a Diffie-Hellman step in the current state that the peer
//     never made, and the peer cannot read our next reply. Decrypt runs
//     the trial loop itself with the exported DecryptWithState on a copy
//     of each state and builds a new record with the winning state
//     promoted and the others exactly as loaded (trialDecrypt, promote).
//     TestOMEMOLateMessageAfterRekey shows the conversation breaking with
//     the library's loop and surviving with ours.
//  2. The cipher and builder keep whatever record LoadSession returned and
//     change it in place. The store adapter deserializes a fresh record
//     from bytes on every load (never nil, never shared), and Decrypt
//     writes a record back only when the whole message — Signal message
//     and AES-GCM payload — decrypted and authenticated: a forged, damaged
//     or replayed message changes nothing. The builder's SaveIdentity runs
//     before the message is authenticated, so the adapter ignores it and
//     the store records a device's identity key itself, after success.
//  3. Malformed input panics the library's parsers (an empty
//     PreKeySignalMessage, an empty ratchet or base key: ecc.DecodePoint
//     does not check the length). Every length and key is validated
//     before the library sees it, and every call into it runs under
//     recover. TestOMEMOMalformedNeverPanics and the fuzz targets hold
//     this; TestLibraryPanicsOnMalformed records that the library itself
//     still panics.
//  4. The library's default logger prints to stdout, some lines with key
//     material; it is replaced, process-wide, by one that drops everything.
//  5. Smaller ones: registration ids are drawn in 1..16380 and device ids
//     in 1..2³¹−1 (libsignal-protocol-c keeps them in an int32); prekey
//     ids start at 1 (0 means "none"); sessions are keyed by
//     Address.String(), not by pointer; received public keys of small
//     order are refused.
//
// # Trust
//
// A device's identity key is bound to its device id on first use: a
// different key for a known device is refused (ErrKeyChanged) until the
// caller Forgets the device. Whether the user trusts a key (Undecided,
// Verified, Distrusted) is recorded by SetTrust and reported with every
// decrypted Message; Encrypt refuses Distrusted devices. Which devices
// must be Verified for a conversation to count as private is the account
// layer's rule.
package omemo
