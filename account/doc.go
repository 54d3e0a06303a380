// Package account runs Sotto's XMPP accounts and their OTR conversations,
// and keeps the user's settings (secrets go to a secret.Store, package secret).
//
// # Shape
//
// Manager (manager.go) runs all accounts of one Profile. Each account is a
// client (client.go): one goroutine that owns the XMPP session, the roster,
// presence and the OTR conversations and handles every input in a single
// select loop — requests from the public methods, decoded stanzas from the
// session's reader, the dial goroutine's result, timers. Public methods are
// synchronous, take a context and hand a closure to that loop; no lock
// guards session state. What the UI needs goes out as value snapshots on
// Events (events.go explains what happens when the UI reads slowly).
//
// # What it implements
//
//   - RFC 6120 client: the server found through DNS SRV (_xmpps-client,
//     direct TLS per XEP-0368, then _xmpp-client, then the domain; a typed
//     server or port overrides it; WithResolver injects the resolver), or
//     through a SOCKS5 proxy per account that resolves the name itself (no
//     DNS query of ours, proxy.go); dial (WithDialer), STARTTLS or direct
//     TLS, SASL SCRAM-SHA-256/1 (+PLUS on TLS 1.2 only, see wire's
//     saslFeature) and PLAIN — PLAIN only over TLS — and our own resource
//     binding (internal/wire; mellium's BindResource ignores the requested
//     resource, and OTR sessions are per full JID).
//   - XEP-0077 in-band registration (register.go): Register creates an
//     account before any login; refusals and forms it cannot fill are
//     reported in plain words.
//   - Server certificates: system roots (WithRootCAs in tests); otherwise
//     trust on first use — a CertificateQuestion event, the account waits
//     in Failed until TrustCertificate pins the SHA-256; a pinned
//     certificate that changes is refused with Changed set.
//   - RFC 6121 roster and presence (roster.go, presence.go), subscriptions
//     in both directions, presence per resource, our own presence.
//   - Messages (chat.go) to the full JID of the conversation's resource;
//     XEP-0280 carbons (accepted only from our own bare JID; carbons of OTR
//     messages ignored); XEP-0334 <no-copy/> and <no-permanent-store/> and
//     XEP-0280 <private/> on every OTR message.
//   - XEP-0199 pings as a watchdog (a silent link never makes Serve
//     return), reconnect with exponential backoff.
//   - Secrets (key.go): the password and the OTR key are read off the loop
//     when the account signs in; a key is made only when the store says
//     there is none. A locked keyring puts the account in KeyringLocked
//     until Connect is called again: nothing is replaced, nothing retried
//     on a timer.
//   - OTR v2/v3 through package otr (private.go, security.go): one
//     otr.Conversation per (contact, resource, peer instance tag); per
//     contact or per account policy; levels NotPrivate, Unverified,
//     Private (fingerprint verified in the Profile) and Finished; SMP;
//     private keys in the secret.Store under "otr-key:<jid>" in libotr's
//     file format, passwords under "password:<jid>".
//   - OMEMO (XEP-0384, eu.siacs.conversations.axolotl) through package
//     omemo, with WithOMEMO (omemo.go, omemosession.go, pep.go,
//     omemostate.go, omemoapi.go): a contact that publishes OMEMO devices
//     gets one conversation on its bare JID, encrypted to all its devices
//     and our other ones; everyone else gets OTR. Private means every
//     device of the contact is verified (OMEMODevices, SetOMEMOTrust,
//     VerifyOMEMOURI); each line carries its sending device's level. The
//     state is a 0600 profile file encrypted with a key held under
//     "omemo-key:<jid>", rewritten before anything it changed is sent or
//     shown.
//   - XEP-0313 message archive catch-up after a sign-in (mam.go, with
//     mellium's history shapes): from the archive mark (archivemark.go,
//     the last archive id only), paged, at most 1,000 a sign-in, each
//     message through the live receive path; copies are skipped by
//     XEP-0359 stanza-id or the sender's id, OTR is never answered.
//
// # Never in the clear
//
// A message is sent unencrypted only if the policy is not Always, the
// conversation is plain and it was plain when the user typed the message.
// Otherwise it is sent encrypted, or reported Queued and later
// SentEncrypted or NotSent with a reason; a Finished conversation refuses.
// After a reconnect a conversation that was private is re-established (an
// OTR query) before queued messages go out. Every Send produces at least
// one MessageStateChanged. Nothing is logged. Only if the user opts in
// (Prefs.PlainHistory) are messages of conversations that were not private
// kept on disk (history.go); a private conversation is never written.
//
// # Never lost silently
//
// XEP-0198 (streammgmt.go) makes "sent" mean the server has it; receipts
// (receipts.go) make "delivered" mean the peer's client has it; lines the
// server lost go again after the next AKE, re-encrypted (unreceipted.go);
// lines are shown in the order typed (order.go). Plain waiting lines are
// kept on disk across a restart where the history opt-in allows
// (waiting.go); Manager.Unsent tells the quit path what would still be
// lost (a private line is never stored), Manager.Resend sends a NotSent
// line again and Manager.RemoveQueued takes a waiting one back
// (unsent.go).
//
// Carbons sent from our other devices appear as MessageStateChanged with
// State SentPlain and an ID starting with "carbon-".
package account
