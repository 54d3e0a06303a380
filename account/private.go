package account

// Private conversations: one privConv per (contact, resource), each with
// its end-to-end session state (e2e.go; OTR today, otrsession.go), the
// queue of messages that wait for privacy, and the choice of resource.
//
// The rule this file exists for: a message the user typed is sent in the
// clear only when the policy is not Always, the conversation is plain
// (not Encrypted, not Finished, not being re-established) and was plain
// when the user typed it. Everything else is sent encrypted or reported
// Queued and later SentEncrypted or NotSent. sendWire double-checks by
// refusing unprotected text for messages that need privacy.

import (
	"errors"
	"strings"
	"time"
)

type peerKey struct{ peer, res string }

type queued struct {
	id, body    string
	since       int64 // unix nanos from the manager clock
	needPrivate bool  // only ever send this encrypted
	requeued    bool  // sent before, never acknowledged, queued again
	resent      bool  // already resent once after the peer could not read it
	// prev is the line that went out before this one in its
	// conversation, fixed when it first goes out (chained) and named on
	// every copy (order.go).
	prev    string
	chained bool
	// keep: the line waited (Queued) and may be kept on disk while it is
	// plain and allowed to be (waiting.go); typed orders a conversation's
	// kept lines (unix nanos when it went into the pipeline).
	keep  bool
	typed int64
}

type privConv struct {
	key   peerKey
	e2e   e2eSession
	queue []queued

	refresh     bool  // was private before a reconnect: re-run the AKE
	refreshSent bool  // query for the refresh went out
	querySentAt int64 // last query we sent (unix nanos), to avoid floods
	errorSentAt int64 // last OTR error we sent (unix nanos), same (throttleReplies)
	// queryRetries counts the queries re-sent while a private line waits
	// (queryRetryDue): a query or the peer's answer lost to a dropped link
	// must not leave the line waiting until it expires.
	queryRetries int
	smpWeAsked   bool
	active       int64 // last activity, for picking the resource
	// lastLine is the last line that went out for the first time
	// (queued.prev, order.go).
	lastLine string
	// lastSent is the last line that went out encrypted (resend.go).
	lastSent   queued
	lastSentAt int64
	// unreceipted: lines sent encrypted that the peer has not confirmed,
	// in the order sent (unreceipted.go).
	unreceipted []queued
}

func (pc *privConv) state() e2eState { return pc.e2e.State() }

// Re-sending the query while a private line waits: after 3 s (or the
// retry interval, WithQueryRetry, if shorter), then twice the retry
// interval (10 s) later, then never again for this wait (a contact without
// OTR sees at most three "?OTRv23?" offers for one line, all within its
// 60 s expiry).
const maxQueryRetries = 2

// refreshRetry is the longest a refresh (re-establishing a private
// conversation after a reconnect) waits for its AKE before it offers again:
// the AKE is a few small messages, so an unfinished one after 3 s was lost.
const refreshRetry = 3 * time.Second

// queryRetryDue is when the next query for a waiting private line goes
// out (manager clock, unix nanos), or false when none is owed: nothing
// waits for privacy, the session is encrypted or ended, a refresh owns
// the queries, the retries are used up, or the contact is offline (its
// coming online sends the query: peerCameOnline).
func (c *client) queryRetryDue(pc *privConv) (int64, bool) {
	if c.peerOffline(pc.key.peer) {
		return 0, false
	}
	return pc.queryRetryDue(c.m.opt.queryRetry)
}

func (pc *privConv) queryRetryDue(after time.Duration) (int64, bool) {
	if pc.queryRetries >= maxQueryRetries {
		return 0, false
	}
	if pc.refresh {
		// The refresh's query went out (refreshSent) but no AKE finished:
		// the answer, or a later AKE message, was lost to a link cut, or
		// crossing AKEs undid each other. Nothing else would ever offer
		// again (seen: lines held until they expired).
		if !pc.refreshSent {
			return 0, false
		}
		return pc.querySentAt + int64(min(after, refreshRetry))<<pc.queryRetries, true
	}
	if st := pc.state(); st == e2eEncrypted || st == e2eFinished {
		return 0, false
	}
	waits := false
	for _, q := range pc.queue {
		waits = waits || q.needPrivate
	}
	if !waits {
		return 0, false
	}
	if pc.queryRetries == 0 {
		// The first retry comes soon: the query a new line would have
		// sent may have been skipped as too close to the last one
		// (sendQuery), whose AKE finished or died meanwhile; without this
		// the line waited the whole retry interval.
		after = min(after, refreshRetry)
	}
	return pc.querySentAt + int64(after)<<pc.queryRetries, true
}

// policyFor is the contact's own policy, else the account's
// (Profile.effectivePolicy).
func (c *client) policyFor(peer string) Policy {
	return c.m.profile.effectivePolicy(c.account(), peer, c.settings.Policy)
}

// conv finds the privConv for (peer, res), moving a bare-JID one to res
// when the peer first answers from a resource, or makes a new one.
func (c *client) conv(peer, res string) (*privConv, error) {
	k := peerKey{peer, res}
	if pc, ok := c.convs[k]; ok {
		return pc, nil
	}
	if res != "" {
		if pc, ok := c.convs[peerKey{peer, ""}]; ok && pc.e2e.Protocol() != "OMEMO" { // OMEMO's stays on the bare JID
			delete(c.convs, pc.key)
			pc.key = k
			c.convs[k] = pc
			return pc, nil
		}
	}
	s, err := c.newSessionFor(peer, res) // omemo.go
	if err != nil {
		return nil, err
	}
	pc := &privConv{key: k, e2e: s}
	c.convs[k] = pc
	c.omemoConvCreated(pc)
	return pc, nil
}

// targetResource picks where a message to peer goes when the UI did not
// say: the most recently active conversation whose resource is online or
// private, else the best online resource, else the bare JID.
func (c *client) targetResource(peer string) string {
	var best *privConv
	for k, pc := range c.convs {
		if k.peer != peer || !(c.roster.online(peer, k.res) || pc.state() != e2ePlain) {
			continue
		}
		if best == nil || pc.active > best.active {
			best = pc
		}
	}
	if best != nil {
		return best.key.res
	}
	return c.roster.bestResource(peer)
}

// privateSibling returns the peer's private (or Finished) conversation on
// another resource when pc is plain, nil otherwise. A message typed into a
// chat the user sees as private goes there: otherwise anyone who can make
// a message arrive from a new resource of the peer (a second login on the
// peer's account, or a malicious server, which can forge any from) would
// make the next message go out in the clear to that resource.
func (c *client) privateSibling(pc *privConv) *privConv {
	if pc.state() != e2ePlain || pc.refresh {
		return nil
	}
	var best *privConv
	for k, o := range c.convs {
		if k.peer != pc.key.peer || o == pc || o.state() == e2ePlain {
			continue
		}
		enc := o.state() == e2eEncrypted
		if best == nil || (enc && best.state() != e2eEncrypted) ||
			(enc == (best.state() == e2eEncrypted) && o.active > best.active) {
			best = o
		}
	}
	return best
}

func (c *client) convID(pc *privConv) Conversation {
	return Conversation{Account: c.account(), Peer: pc.key.peer, Resource: pc.key.res}
}

// lookup resolves a UI conversation to its privConv (creating it).
func (c *client) lookup(conv Conversation) (*privConv, error) {
	peer, ok := bareJID(conv.Peer)
	if !ok {
		return nil, errBadContact(conv.Peer)
	}
	res := conv.Resource
	if res == "" && !c.omemoFor(peer) { // OMEMO talks to the bare JID
		res = c.targetResource(peer)
	}
	return c.conv(peer, res)
}

// receiveChat runs an incoming chat body through the conversation's
// end-to-end session. It reports whether a line was shown (receipts.go
// acknowledges only those).
func (c *client) receiveChat(peer, res, body string, at int64, id, prev string) (shown bool) {
	pc, err := c.conv(peer, res)
	if err != nil {
		// No session state (the key cannot be read right now): the text
		// the server delivered is still shown, as what it was on the wire.
		conv := Conversation{Account: c.account(), Peer: peer, Resource: res}
		if isOTR(body) {
			c.notice(conv, "a private message could not be read: "+err.Error())
			return false
		}
		c.notice(conv, "private conversations are not available right now: "+err.Error())
		c.m.emit(MessageReceived{Conv: conv, Body: stripOTRTag(body), Level: NotPrivate, Time: timeFromNanos(at)})
		return true
	}
	pc.active = c.nowNanos()
	wasPlain := c.peerPlain(peer) // history.go: only plain conversations are kept
	r, err := pc.e2e.Receive(body)
	switch {
	case errors.Is(err, errNoKeyYet):
		c.notice(c.convID(pc), "a private message could not be read: your private key is not loaded yet "+
			"(it is read when the account signs in; is the keyring locked?)")
	case err != nil:
		c.notice(c.convID(pc), "could not process a message: "+err.Error())
	}
	c.sendResult(pc, c.throttleReplies(pc, r.Send))
	c.e2eEvents(pc, r.Events)
	if r.HasText {
		e := MessageReceived{Conv: c.convID(pc), Body: c.textIn(peer, r.Text, r.Encrypted),
			Encrypted: r.Encrypted, Level: NotPrivate, Time: timeFromNanos(at)}
		if r.Encrypted {
			e.Fingerprint, e.OtherSession = r.Key, !r.Current
			e.Protocol = pc.e2e.Protocol()
			e.Level = Unverified
			if c.isVerified(peer, r.Key) {
				e.Level = Private
			}
		}
		if !e.Encrypted && wasPlain {
			c.keepPlain(e.Conv, false, e.Body, e.Time) // before emit: a chat it opens finds it
		}
		c.m.emit(e)
		c.lineShown(peer, id) // order.go
	}
	return r.HasText
}

// sendResult delivers protocol messages (AKE, SMP, queries, errors).
func (c *client) sendResult(pc *privConv, wire []string) {
	for _, w := range wire {
		_ = c.sendWire(pc, w, false)
	}
}

// protocolFloodGap: at most one OTR error and one query per conversation
// go out in this time as automatic replies (throttleReplies).
const protocolFloodGap = 3 * time.Second

// throttleReplies drops repeats of the two automatic replies that come in
// floods. After a link cut the peer's stream may deliver hundreds of lines
// encrypted for a session we no longer have: the OTR engine answers each
// with an error, the peer's engine answers each error with a query, and
// each query restarts the AKE on our side — hundreds of crossing AKEs that
// never finish (seen in TestLinkCutsThousandMessagesNoLoss). One error
// tells the peer all it needs (its lines go again in the new session:
// unreceipted.go), one query starts the AKE; a lost one is offered again
// (queryRetryDue).
func (c *client) throttleReplies(pc *privConv, out []string) []string {
	now := c.nowNanos()
	var keep []string
	for _, w := range out {
		switch {
		case strings.HasPrefix(w, "?OTR Error:"):
			if now-pc.errorSentAt < int64(protocolFloodGap) {
				continue
			}
			pc.errorSentAt = now
		case strings.HasPrefix(w, "?OTRv") || strings.HasPrefix(w, "?OTR?"):
			if now-pc.querySentAt < int64(protocolFloodGap) {
				continue
			}
			pc.querySentAt = now
		}
		keep = append(keep, w)
	}
	return keep
}
