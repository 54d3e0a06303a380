package sm

// The counters and the queue of unacknowledged stanzas (XEP-0198 §4, §5).

import (
	"encoding/xml"
	"errors"
	"sync"
	"time"
)

// NS is the XEP-0198 namespace (version 3).
const NS = "urn:xmpp:sm:3"

// Item is one stanza we sent that the server has not acknowledged yet.
type Item struct {
	Seq uint32 // its number in the stream (1 = the first after enable)
	// Stanza is the value to encode again after a resumption; nil for a
	// stanza that must not be resent (a reply written by a handler).
	Stanza any
	// Tag is what the caller attached (a chat line): handed back when the
	// stanza is acknowledged, resent or lost.
	Tag any
}

// Outcome is what the last negotiation did, for the caller to act on
// once the session is up (Stream.TakeOutcome).
type Outcome struct {
	// Enabled: stream management is on for the new session.
	Enabled bool
	// Resumed: the previous stream was resumed; Acked were acknowledged
	// by the <resumed h=…/>, Resend must be written again now, in order.
	Resumed bool
	Acked   []Item
	Resend  []Item
	// Lost: the previous stream could not be resumed (the server said
	// <failed/>, or has no stream management): these were sent and never
	// acknowledged. The server may or may not have handled them. With
	// Resumed too: an earlier stream was lost, then the link died before
	// that outcome was taken, and the new stream was resumed.
	Lost []Item
	// Failed is the server's reason when resumption or enabling failed.
	Failed string
}

// Stream is the stream-management state of one account across its
// connections. Its methods are safe for concurrent use.
type Stream struct {
	mu        sync.Mutex
	enabled   bool   // counting on the current session
	id        string // resumption id, "" = cannot resume
	max       time.Duration
	in        uint32 // inbound stanzas handled
	out       uint32 // outbound stanzas sent (seq of the last)
	acked     uint32 // the server's last h
	queue     []Item // seq acked+1 … out
	later     []Item // written while the link was down (Later), Seq 0
	requested bool   // an <r/> is outstanding
	outcome   Outcome
	early     []Early // stanzas that came before <enabled/> (TakeEarly)
}

// Early is a stanza the server sent between resource binding and its
// answer to <enable/>: routed to the new session before stream
// management counts (XEP-0198 §4 counts from <enabled/> on). Inner holds
// its tokens after Start, the end element last.
type Early struct {
	Start xml.StartElement
	Inner []xml.Token
}

// maxEarly bounds what is kept from before <enabled/>: a real server
// routes a few stanzas there at most (a message that came while the
// client signed in); a server that floods that window loses the rest.
const maxEarly = 1000

// TakeEarly returns, once, the stanzas that came before <enabled/>, in
// order; the session handles them (uncounted) before anything else.
func (s *Stream) TakeEarly() []Early {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.early
	s.early = nil
	return e
}

func (s *Stream) keepEarly(e Early) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.early) < maxEarly {
		s.early = append(s.early, e)
	}
}

// New returns a Stream with nothing enabled.
func New() *Stream { return &Stream{} }

// ErrBadAck is an <a/> or <resumed/> whose h acknowledges stanzas we
// never sent: the counts disagree and the stream cannot be trusted.
var ErrBadAck = errors.New("account: the server acknowledged messages that were never sent")

// Enabled reports whether the current session counts stanzas.
func (s *Stream) Enabled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enabled
}

// CanResume reports whether a dropped stream may be resumed.
func (s *Stream) CanResume() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id != ""
}

// Sent counts one outbound stanza. The caller holds the session's write
// lock, so sequence numbers follow the wire. A no-op unless enabled.
func (s *Stream) Sent(stanza, tag any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.enabled {
		return
	}
	s.out++
	s.queue = append(s.queue, Item{Seq: s.out, Stanza: stanza, Tag: tag})
}

// Later keeps a stanza the caller wanted to write while the link is down
// and the stream may be resumed: it is handed back with the resumption's
// Resend (after the unacknowledged ones), or as Lost.
func (s *Stream) Later(stanza, tag any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.later = append(s.later, Item{Stanza: stanza, Tag: tag})
}

// TakeLater returns what Later kept since the last negotiation.
func (s *Stream) TakeLater() []Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.later
	s.later = nil
	return l
}

// Handled counts one inbound stanza the handler is done with.
func (s *Stream) Handled() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.enabled {
		s.in++
	}
}

// In is the h we report: inbound stanzas handled.
func (s *Stream) In() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.in
}

// Ack applies the server's h and returns the items it acknowledges, in
// order. h counts modulo 2^32 (§4).
func (s *Stream) Ack(h uint32) ([]Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requested = false
	return s.ackLocked(h)
}

func (s *Stream) ackLocked(h uint32) ([]Item, error) {
	n := h - s.acked // wraps like the counter
	if n > s.out-s.acked {
		return nil, ErrBadAck
	}
	done := append([]Item(nil), s.queue[:n]...)
	s.queue = append(s.queue[:0:0], s.queue[n:]...)
	s.acked = h
	return done, nil
}

// Outstanding reports how many tagged items (chat lines) wait for an ack.
func (s *Stream) Outstanding() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, it := range append(s.queue[:len(s.queue):len(s.queue)], s.later...) {
		if it.Tag != nil {
			n++
		}
	}
	return n
}

// Request marks an <r/> as sent; it returns false if one is already
// outstanding (no need to ask twice) or if counting is off.
func (s *Stream) Request() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.enabled || s.requested {
		return false
	}
	s.requested = true
	return true
}

// Requested reports whether an <r/> is unanswered.
func (s *Stream) Requested() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requested
}

// Detach: the link is gone. Counting stops; the queue and counters stay
// for a resumption.
func (s *Stream) Detach() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enabled, s.requested = false, false
}

// Abandon gives up the stream (no resumption will be tried) and returns
// what was never acknowledged.
func (s *Stream) Abandon() []Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.abandonLocked()
}

func (s *Stream) abandonLocked() []Item {
	lost := append(s.queue, s.later...)
	s.later = nil
	s.enabled, s.id, s.max, s.requested = false, "", 0, false
	s.in, s.out, s.acked, s.queue = 0, 0, 0, nil
	return lost
}

// TakeOutcome returns what the last negotiation did and clears it.
func (s *Stream) TakeOutcome() Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.outcome
	s.outcome = Outcome{}
	return o
}

// NoSM: the new session has no stream management.
func (s *Stream) NoSM(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseLocked()
	s.outcome.Failed = reason
}

// loseLocked gives up the stream: what was never acknowledged, and what
// an earlier resumption handed back that nobody took (the link died
// before the session was used), go to outcome.Lost, in order.
func (s *Stream) loseLocked() {
	lost := append(s.outcome.Resend, s.abandonLocked()...)
	s.outcome.Lost = append(s.outcome.Lost, lost...)
	s.outcome.Resend, s.outcome.Resumed = nil, false
}

// enabledNow: <enabled/> arrived; counting starts from zero both ways.
func (s *Stream) enabledNow(id string, max time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseLocked()
	s.enabled, s.id, s.max = true, id, max
	s.outcome.Enabled = true
}

// resumedNow: <resumed h/> arrived. What it acknowledges is done; the
// rest is handed back to be written again (and counted again by Sent).
// An outcome nobody took yet (the link died between an earlier
// negotiation and the session's use) is kept: its Acked and Lost still
// count, and what it handed back to resend comes first.
func (s *Stream) resumedNow(h uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	acked, err := s.ackLocked(h)
	if err != nil {
		return err
	}
	prev := s.outcome
	s.outcome = Outcome{Enabled: true, Resumed: true, Acked: append(prev.Acked, acked...), Lost: prev.Lost,
		Resend: append(append(prev.Resend, s.queue...), s.later...)}
	s.queue, s.later = nil, nil
	s.out = s.acked
	s.enabled = true
	return nil
}

// resumeFailed: <failed/> to our <resume/>; h (if the server gave one)
// acknowledges what it did handle before the drop (XEP-0198 1.6 §5).
func (s *Stream) resumeFailed(h *uint32, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var acked []Item
	if h != nil {
		acked, _ = s.ackLocked(*h) // a bad h changes nothing we trust
	}
	s.outcome.Acked = append(s.outcome.Acked, acked...)
	s.loseLocked()
	s.outcome.Failed = reason
}

// resumeArgs is what <resume/> carries.
func (s *Stream) resumeArgs() (id string, h uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id, s.in
}
