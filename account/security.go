package account

// Security levels, end-to-end session events -> account events,
// verification (SMP) and trust.

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// isVerified reports whether the profile marks fp verified for peer.
func (c *client) isVerified(peer, fp string) bool {
	for _, k := range c.m.profile.Fingerprints() {
		if k.Account == c.account() && k.Contact == peer && k.Fingerprint == fp {
			return k.Verified
		}
	}
	return false
}

// securityOf is the conversation's current level as the UI shows it.
func (c *client) securityOf(pc *privConv) SecurityChanged {
	if _, ok := pc.e2e.(*omemoSession); ok {
		return c.omemoSecurity(pc)
	}
	sc := SecurityChanged{Conv: c.convID(pc), Level: NotPrivate, Protocol: pc.e2e.Protocol()}
	switch pc.state() {
	case e2eEncrypted:
		sc.Fingerprint, _ = pc.e2e.PeerKey()
		sc.Verified = c.isVerified(pc.key.peer, sc.Fingerprint)
		sc.Level = Unverified
		if sc.Verified {
			sc.Level = Private
		}
	case e2eFinished:
		sc.Level = Finished
		sc.Fingerprint, _ = pc.e2e.PeerKey()
	}
	return sc
}

func (c *client) emitSecurity(pc *privConv, reason string) SecurityChanged {
	sc := c.securityOf(pc)
	sc.Reason = reason
	c.m.emit(sc)
	return sc
}

// noticeWindow: a notice with the same text for the same conversation is
// shown at most once per window. A hostile peer can make every stanza it
// sends produce a notice (10,000 bad fragments made 7,380 of them); the
// user needs to learn that it happens, not to read it 7,380 times. The
// count of hidden ones is added to the next copy shown after the window.
const noticeWindow = 10 * time.Second

// maxNoticeMemos bounds the memory of recent notices: past it, the memory
// starts over (at worst a repeat is shown early).
const maxNoticeMemos = 256

type noticeKey struct {
	conv Conversation
	text string
}

type noticeMemo struct {
	at     int64 // unix nanos of the copy last shown
	hidden int
}

func (c *client) notice(conv Conversation, text string) {
	now := c.nowNanos()
	k := noticeKey{conv, text}
	if m, ok := c.notices[k]; ok {
		if now-m.at < int64(noticeWindow) {
			m.hidden++
			return
		}
		if m.hidden > 0 {
			text = fmt.Sprintf("%s (%d more like this were not shown)", text, m.hidden)
		}
	}
	if c.notices == nil || len(c.notices) >= maxNoticeMemos {
		c.notices = map[noticeKey]*noticeMemo{}
	}
	c.notices[k] = &noticeMemo{at: now}
	c.m.emit(Notice{Conv: conv, Text: text})
}

// e2eEvents turns the session's events into account events.
func (c *client) e2eEvents(pc *privConv, evs []e2eEvent) {
	conv := c.convID(pc)
	for _, ev := range evs {
		switch ev.Kind {
		case evPrivate:
			c.wentSecure(pc, ev)
		case evPeerEnded:
			if !ev.Current {
				continue
			}
			c.emitSecurity(pc, pc.key.peer+" ended the private conversation; end it too or start it again")
			c.failQueue(pc, true, "not sent: "+pc.key.peer+" ended the private conversation")
		case evVerifyAsked:
			if !ev.Current {
				c.notice(conv, pc.key.peer+" asked to verify your identity from another session than the one "+
					"this chat uses (another device or login, or someone else); the request was declined")
				continue
			}
			pc.smpWeAsked = false
			c.m.emit(SMPRequested{Conv: conv, Question: ev.Question})
		case evVerifyDone:
			c.smpFinished(pc, ev)
		case evUnreadable:
			c.notice(conv, "an encrypted message could not be read: "+ev.Text)
		case evMalformed:
			c.notice(conv, "a malformed private message was ignored: "+ev.Text)
		case evPeerError:
			c.notice(conv, "the other side reported a problem with the private conversation: "+ev.Text)
			if ev.Current {
				c.resendAfterPeerError(pc) // resend.go
			}
		case evPlainWhilePriv:
			c.notice(conv, "the next message arrived unencrypted")
		case evMisdirected:
			c.notice(conv, "a private message from "+pc.key.peer+" was meant for another session of yours "+
				"(another device, or Sotto before a restart) and could not be read here; "+
				"if "+pc.key.peer+" keeps sending, start the private conversation again")
		}
	}
}

// wentSecure: record the fingerprint, report the level, send what waited.
func (c *client) wentSecure(pc *privConv, ev e2eEvent) {
	fp := ev.Key
	known, keyChanged := false, false
	for _, k := range c.m.profile.Fingerprints() {
		if k.Account != c.account() || k.Contact != pc.key.peer {
			continue
		}
		if k.Fingerprint == fp {
			known = true
		} else if k.Verified {
			keyChanged = true
		}
	}
	if known {
		keyChanged = false
	} else if err := c.m.profile.SetFingerprint(KnownFingerprint{Account: c.account(),
		Contact: pc.key.peer, Fingerprint: fp}); err != nil {
		c.notice(c.convID(pc), "could not save the contact's fingerprint: "+err.Error())
	}
	wasRefresh := pc.refresh
	pc.refresh, pc.refreshSent = false, false
	sc := c.securityOf(pc)
	prev := c.m.Security(c.convID(pc))
	// The level last reported for this conversation lost its verified key
	// (a re-AKE with another key, even one seen before): say so loudly.
	if prev.Level == Private && prev.Fingerprint != sc.Fingerprint && sc.Level != Private {
		keyChanged = true
	}
	// A refresh is silent only if it changed nothing the user was told:
	// same level, same key. A "known" key is not enough — it may be one
	// seen (unverified) before, and the chat must not keep saying Private.
	same := prev.Level == sc.Level && prev.Fingerprint == sc.Fingerprint
	if !ev.Renewed || !wasRefresh || !known || !same {
		sc.NewFingerprint, sc.KeyChanged = !known, keyChanged
		switch {
		case keyChanged:
			sc.Reason = pc.key.peer + " is using a different key than the one you verified"
		case sc.Level == Private:
			sc.Reason = "private conversation started"
		default:
			sc.Reason = "private conversation started; " + pc.key.peer + "'s identity is not verified yet"
		}
		c.m.emit(sc)
	}
	pc.queryRetries = 0
	c.resendUnreceipted(pc) // unreceipted.go
	c.flushQueue(pc)
}

func (c *client) smpFinished(pc *privConv, ev e2eEvent) {
	if !ev.Current {
		return // a declined request from another session (e2eEvents)
	}
	weAsked := pc.smpWeAsked
	pc.smpWeAsked = false
	if ev.Outcome == SMPSucceeded && weAsked {
		// Only the asker learns that the peer knows the secret; the
		// answerer verifies by asking in turn (UI offers that).
		if ev.Key != "" {
			if err := c.m.profile.SetFingerprint(KnownFingerprint{Account: c.account(),
				Contact: pc.key.peer, Fingerprint: ev.Key, Verified: true, How: "smp"}); err != nil {
				c.notice(c.convID(pc), "could not save the verification: "+err.Error())
			}
			c.emitSecurity(pc, "you verified "+pc.key.peer+"'s identity")
		}
	}
	c.m.emit(SMPResult{Conv: c.convID(pc), Outcome: ev.Outcome, WeAsked: weAsked})
	if (ev.Outcome == SMPFailed || ev.Outcome == SMPCheated) && ev.Key != "" && c.isVerified(pc.key.peer, ev.Key) {
		c.dropVerification(pc, ev.Key)
	}
}

// dropVerification: a failed check on a verified key takes the
// verification back, on either side of the check. A failure is what a man
// in the middle looks like (or a mistyped answer: the user checks again);
// libotr clients do the same.
func (c *client) dropVerification(pc *privConv, fp string) {
	if err := c.m.profile.SetFingerprint(KnownFingerprint{Account: c.account(),
		Contact: pc.key.peer, Fingerprint: fp}); err != nil {
		c.notice(c.convID(pc), "could not save that the verification was taken back: "+err.Error())
	}
	for k, o := range c.convs {
		if k.peer != pc.key.peer || o.state() == e2ePlain {
			continue
		}
		reason := ""
		if o == pc {
			reason = "the identity check failed, so " + pc.key.peer + " is no longer verified: either the answers " +
				"differed, or someone is between you. Check again with a question only " + pc.key.peer + " can answer."
		}
		c.emitSecurity(o, reason)
	}
}

// trustChanged re-reports every private conversation with contact after
// the profile's verification changed.
func (c *client) trustChanged(contact string) {
	for k, pc := range c.convs {
		if k.peer == contact && pc.state() != e2ePlain {
			c.emitSecurity(pc, "")
		}
	}
}

// policyChanged starts the session state of plain conversations over
// (forgetting what it drops) so the new policy applies; private ones keep
// theirs until they end (Always is also enforced by send, whatever the
// engine's policy).
func (c *client) policyChanged(contact string) {
	for k, pc := range c.convs {
		if (contact != "" && k.peer != contact) || pc.state() != e2ePlain {
			continue
		}
		if err := pc.e2e.SetPolicy(c.policyFor(k.peer)); err != nil {
			c.notice(c.convID(pc), "the new policy could not be applied: "+err.Error())
		}
	}
}

func (c *client) startPrivate(conv Conversation) error {
	pc, err := c.lookup(conv)
	if err != nil {
		return err
	}
	if c.sess == nil {
		return errNotConnected
	}
	c.sendQuery(pc, true)
	return nil
}

// sendQuery sends an OTR query unless one went out very recently.
func (c *client) sendQuery(pc *privConv, force bool) {
	now := c.nowNanos()
	if !force && now-pc.querySentAt < int64(3*time.Second) {
		return
	}
	pc.querySentAt = now
	c.sendResult(pc, pc.e2e.Start())
}

func (c *client) endPrivate(conv Conversation) error {
	pc, err := c.lookup(conv)
	if err != nil {
		return err
	}
	r, err := pc.e2e.End()
	if err != nil {
		return err
	}
	if c.sess != nil {
		c.sendResult(pc, r.Send)
	}
	pc.refresh, pc.refreshSent = false, false
	c.failQueue(pc, true, "not sent: you ended the private conversation")
	c.emitSecurity(pc, "you ended the private conversation")
	return nil
}

// smpCall runs a verification action on the conversation's current
// session.
func (c *client) smpCall(conv Conversation, f func(e2eSession) (e2eOut, error)) (*privConv, error) {
	pc, err := c.lookup(conv)
	if err != nil {
		return nil, err
	}
	if c.sess == nil {
		return nil, errNotConnected
	}
	if pc.state() != e2eEncrypted {
		return nil, errors.New("account: the conversation is not private")
	}
	r, err := f(pc.e2e)
	if err != nil {
		return nil, err
	}
	c.sendResult(pc, r.Send)
	c.e2eEvents(pc, r.Events)
	return pc, nil
}

func (c *client) authenticate(conv Conversation, question, secret string) error {
	if strings.TrimSpace(secret) == "" {
		return errors.New("account: the answer must not be empty")
	}
	pc, err := c.smpCall(conv, func(s e2eSession) (e2eOut, error) { return s.Verify(question, secret) })
	if err == nil {
		pc.smpWeAsked = true
	}
	return err
}

func (c *client) answerSMP(conv Conversation, secret string) error {
	_, err := c.smpCall(conv, func(s e2eSession) (e2eOut, error) { return s.Answer(secret) })
	return err
}

func (c *client) abortSMP(conv Conversation) error {
	pc, err := c.smpCall(conv, func(s e2eSession) (e2eOut, error) { return s.AbortVerify() })
	if err == nil {
		pc.smpWeAsked = false
	}
	return err
}
