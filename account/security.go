package account

// Security levels, OTR events -> account events, SMP and trust.

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sotto-im/sotto/otr"
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
	sc := SecurityChanged{Conv: c.convID(pc), Level: NotPrivate}
	switch pc.cur.State() {
	case otr.StateEncrypted:
		f, _ := pc.cur.PeerFingerprint()
		sc.Fingerprint = f.String()
		sc.Verified = c.isVerified(pc.key.peer, sc.Fingerprint)
		sc.Level = Unverified
		if sc.Verified {
			sc.Level = Private
		}
	case otr.StateFinished:
		sc.Level = Finished
		if f, ok := pc.cur.PeerFingerprint(); ok {
			sc.Fingerprint = f.String()
		}
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

// otrEvents turns the engine's events into account events.
func (c *client) otrEvents(pc *privConv, in *otr.Conversation, evs []otr.Event) {
	conv := c.convID(pc)
	for _, ev := range evs {
		switch ev.Kind {
		case otr.EventGoneSecure, otr.EventStillSecure:
			pc.cur = in
			c.wentSecure(pc, ev)
		case otr.EventPeerEnded:
			if in != pc.cur {
				continue
			}
			c.emitSecurity(pc, pc.key.peer+" ended the private conversation; end it too or start it again")
			c.failQueue(pc, true, "not sent: "+pc.key.peer+" ended the private conversation")
		case otr.EventSMPQuestion, otr.EventSMPSecretNeeded:
			pc.smpWeAsked = false
			c.m.emit(SMPRequested{Conv: conv, Question: ev.Question})
		case otr.EventSMPSucceeded, otr.EventSMPFailed, otr.EventSMPAborted, otr.EventSMPCheated:
			c.smpFinished(pc, in, ev.Kind)
		case otr.EventUnreadable:
			c.notice(conv, "an encrypted message could not be read: "+ev.Text)
		case otr.EventMalformed:
			c.notice(conv, "a malformed private message was ignored: "+ev.Text)
		case otr.EventErrorReceived:
			c.notice(conv, "the other side reported a problem with the private conversation: "+ev.Text)
		case otr.EventPlaintextReceived:
			c.notice(conv, "the next message arrived unencrypted")
		}
	}
}

// wentSecure: record the fingerprint, report the level, send what waited.
func (c *client) wentSecure(pc *privConv, ev otr.Event) {
	fp := ev.Fingerprint.String()
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
	if ev.Kind == otr.EventGoneSecure || !wasRefresh || !known || !same {
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
	c.flushQueue(pc)
}

func (c *client) smpFinished(pc *privConv, in *otr.Conversation, kind otr.EventKind) {
	out := map[otr.EventKind]SMPOutcome{otr.EventSMPSucceeded: SMPSucceeded,
		otr.EventSMPFailed: SMPFailed, otr.EventSMPAborted: SMPAborted, otr.EventSMPCheated: SMPCheated}[kind]
	weAsked := pc.smpWeAsked
	pc.smpWeAsked = false
	if kind == otr.EventSMPSucceeded && weAsked {
		// Only the asker learns that the peer knows the secret; the
		// answerer verifies by asking in turn (UI offers that).
		if f, ok := in.PeerFingerprint(); ok {
			if err := c.m.profile.SetFingerprint(KnownFingerprint{Account: c.account(),
				Contact: pc.key.peer, Fingerprint: f.String(), Verified: true, How: "smp"}); err != nil {
				c.notice(c.convID(pc), "could not save the verification: "+err.Error())
			}
			c.emitSecurity(pc, "you verified "+pc.key.peer+"'s identity")
		}
	}
	c.m.emit(SMPResult{Conv: c.convID(pc), Outcome: out, WeAsked: weAsked})
}

// trustChanged re-reports every private conversation with contact after
// the profile's verification changed.
func (c *client) trustChanged(contact string) {
	for k, pc := range c.convs {
		if k.peer == contact && pc.cur.State() != otr.StatePlaintext {
			c.emitSecurity(pc, "")
		}
	}
}

// policyChanged rebuilds the OTR state of plain conversations so the new
// policy applies; private ones keep theirs until they end (Always is also
// enforced by send, whatever the engine's policy).
func (c *client) policyChanged(contact string) {
	for k, pc := range c.convs {
		if (contact != "" && k.peer != contact) || pc.cur.State() != otr.StatePlaintext {
			continue
		}
		if o, err := c.newOTR(k.peer); err == nil {
			pc.cur, pc.insts = o, []*otr.Conversation{o}
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
	q := pc.cur.Query()
	if len(q.Send) == 0 {
		// Policy Manual still allows v2/v3, so this only happens with a
		// policy that disables OTR: use the full offer.
		q.Send = [][]byte{[]byte("?OTRv23?")}
	}
	pc.querySentAt = now
	c.sendResult(pc, q.Send)
}

func (c *client) endPrivate(conv Conversation) error {
	pc, err := c.lookup(conv)
	if err != nil {
		return err
	}
	r, err := pc.cur.End()
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

// smpCall runs an SMP action on the conversation's current instance.
func (c *client) smpCall(conv Conversation, f func(*otr.Conversation) (otr.Result, error)) (*privConv, error) {
	pc, err := c.lookup(conv)
	if err != nil {
		return nil, err
	}
	if c.sess == nil {
		return nil, errNotConnected
	}
	if pc.cur.State() != otr.StateEncrypted {
		return nil, errors.New("account: the conversation is not private")
	}
	r, err := f(pc.cur)
	if err != nil {
		return nil, err
	}
	c.sendResult(pc, r.Send)
	c.otrEvents(pc, pc.cur, r.Events)
	return pc, nil
}

func (c *client) authenticate(conv Conversation, question, secret string) error {
	if strings.TrimSpace(secret) == "" {
		return errors.New("account: the answer must not be empty")
	}
	pc, err := c.smpCall(conv, func(o *otr.Conversation) (otr.Result, error) {
		return o.Authenticate(question, []byte(secret))
	})
	if err == nil {
		pc.smpWeAsked = true
	}
	return err
}

func (c *client) answerSMP(conv Conversation, secret string) error {
	_, err := c.smpCall(conv, func(o *otr.Conversation) (otr.Result, error) {
		return o.RespondSMP([]byte(secret))
	})
	return err
}

func (c *client) abortSMP(conv Conversation) error {
	pc, err := c.smpCall(conv, func(o *otr.Conversation) (otr.Result, error) { return o.AbortSMP() })
	if err == nil {
		pc.smpWeAsked = false
	}
	return err
}
