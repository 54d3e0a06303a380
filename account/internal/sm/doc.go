// Package sm is XEP-0198 stream management on a mellium XMPP session, as
// the account loop uses it: count the stanzas that cross the stream both
// ways, acknowledge what we handled, learn what the server handled, and
// after a dropped link resume the stream and resend exactly what the
// server did not acknowledge.
//
// mellium v0.22.0 has no stream management; this package adds it without
// changing mellium:
//
//   - stream.go: Stream, the counters (h) and the queue of stanzas sent
//     and not yet acknowledged, kept across connections so a new one can
//     resume;
//   - negotiate.go: the informational <sm/> stream feature (Feature) and
//     the exchanges that replace or follow resource binding: Resume
//     (<resume/> → <resumed/> or <failed/>) and Enable (<enable/> →
//     <enabled/> or <failed/>), which package wire runs inside its bind
//     feature;
//   - ack.go: <r/> answered with <a h=…/> on Serve's goroutine (Handle),
//     <a/> applied to the queue, and WriteRequest to ask for an ack;
//   - count.go: Counter, a token writer that counts the stanzas a
//     handler writes (IQ replies) so our h matches the server's.
//
// Counting rules (XEP-0198 §4): outbound, every <message/>, <presence/>
// and <iq/> written after <enable/> (or after <resumed/>); inbound, every
// such stanza the handler has finished with after <enabled/> (or
// <resumed/>). The caller counts an outbound stanza with Stream.Sent while
// it holds the session's write lock, so the order of the queue is the
// order on the wire.
//
// A Stream is shared by the account loop and the Serve goroutine of the
// current session (acks and IQ replies are handled there), so it has a
// mutex; it owns no goroutine.
//
// Errors read "account: …": this package is internal to account and its
// errors reach the user through it.
package sm
