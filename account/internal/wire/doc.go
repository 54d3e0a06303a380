// Package wire is the XMPP wire as package account uses it: logging in
// and the shapes of the stanzas the account loop sends and receives.
//
// # Logging in (dial.go, bind.go)
//
// Dial connects one account (RFC 6120): TCP through the caller's dialer,
// STARTTLS or direct TLS (XEP-0368), the certificate check (system roots,
// else a pinned SHA-256, else a CertProblem for the user to decide),
// SASL SCRAM-SHA-256/1 (+PLUS) and PLAIN — PLAIN only over TLS — and our
// own resource binding (BindFeature; mellium's BindResource sends an
// empty <resource/>, and OTR sessions are per full JID, so the name must
// be stable). Failures retrying cannot fix are typed: CertProblem,
// AuthError, NoTLSError.
//
// # Receiving (handler.go)
//
// Handler is what Session.Serve runs. It decodes every top-level stanza
// whole into a Message, Presence or IQ and hands it to the account loop on
// a channel as an Inbound; IQs are routed through mellium's mux
// (mellium.im/xmpp/mux), where ping (XEP-0199, mellium's ping package) and
// roster pushes (RFC 6121 §2.1.6) are answered, so later work registers a
// handler on the mux (mux.Option) instead of growing a catch-all. Handler
// explains which stanzas mux cannot route without changing what Sotto
// does, and why those keep a hand-written path.
//
// # Sending (stanza.go)
//
// OutMessage, OutPresence and OutIQ are the stanzas the loop writes with
// Session.Encode.
//
// Handlers run on Serve's goroutine, which holds the session's locks: they
// never call the session's Send methods (that deadlocks) and answer
// through the token encoder they are given.
//
// The package owns no goroutine of its own beyond the one hand-off
// described in Handler, and keeps no state between stanzas.
//
// Errors read "account: …": this package is internal to account, and its
// errors reach the user unchanged through account's API (the UI strips
// that prefix).
package wire
