package account

// OTR behind the e2e seam (e2e.go): the account's long-term key, its
// instance tag, one otr.Peer per contact resource (the engine owns the
// routing of several peer instances), and the translation of the engine's
// events into the loop's.

import (
	"strings"
	"time"

	"github.com/sotto-im/sotto/otr"
)

func otrPolicy(p Policy) otr.Policy {
	switch p {
	case Manual:
		return otr.PolicyManual
	case Always:
		return otr.PolicyAlways
	}
	return otr.PolicyOpportunistic
}

// newSession makes the end-to-end session state for a new (contact,
// resource): today always OTR. Without the account's key (read off the
// loop when it signs in, key.go) it is a keylessSession until keyReady.
func (c *client) newSession(peer string) (e2eSession, error) {
	if c.key == nil {
		return keylessSession{}, nil
	}
	if c.instanceTag == 0 {
		c.instanceTag = c.settings.InstanceTag
	}
	if c.instanceTag == 0 {
		t, err := otr.NewInstanceTag(c.m.opt.rand)
		if err != nil {
			return nil, err
		}
		c.instanceTag, c.settings.InstanceTag = t, t
		if err := c.m.profile.SetInstanceTag(c.account(), t); err != nil {
			// The session works; only a restart would pick a new tag.
			c.notice(Conversation{Account: c.account(), Peer: peer},
				"could not save this account's OTR instance tag: "+err.Error())
		}
	}
	cfg := otr.NewConfig(c.key, otrPolicy(c.policyFor(peer)))
	cfg.Rand, cfg.Now, cfg.InstanceTag = c.m.opt.rand, c.m.opt.now, c.instanceTag
	p, err := otr.NewPeer(cfg, otr.DefaultMaxInstances)
	if err != nil {
		return nil, err
	}
	return &otrSession{peer: p}, nil
}

// isOTR reports whether a body is OTR protocol text (query, AKE, data,
// error, fragment). libotr looks for "?OTR" anywhere, so do we.
func isOTR(body string) bool { return strings.Contains(body, "?OTR") }

// stripOTRTag removes an OTR whitespace tag from plain text that did not
// pass through a session (a carbon of another device's message).
func stripOTRTag(body string) string {
	return string(otr.StripWhitespaceTag([]byte(body)))
}

// otrSession is an e2eSession over all OTR instances of one peer address.
type otrSession struct {
	peer *otr.Peer
}

func (s *otrSession) Protocol() string { return "OTR" }

func (s *otrSession) State() e2eState { return otrState(s.peer.Current().State()) }

func otrState(st otr.MsgState) e2eState {
	switch st {
	case otr.StateEncrypted:
		return e2eEncrypted
	case otr.StateFinished:
		return e2eFinished
	}
	return e2ePlain
}

func (s *otrSession) PeerKey() (string, bool) { return fingerprint(s.peer.Current()) }

func fingerprint(in *otr.Conversation) (string, bool) {
	f, ok := in.PeerFingerprint()
	if !ok {
		return "", false
	}
	return f.String(), true
}

func (s *otrSession) AnyPrivate() bool {
	for _, in := range s.peer.Instances() {
		if in.State() != otr.StatePlaintext {
			return true
		}
	}
	return false
}

func (s *otrSession) Start() []string {
	q := s.peer.Current().Query()
	if len(q.Send) == 0 {
		// Policy Manual still allows v2/v3, so this only happens with a
		// policy that disables OTR: use the full offer.
		return []string{"?OTRv23?"}
	}
	return wireText(q.Send)
}

func (s *otrSession) Send(text string) (e2eOut, error) {
	return s.onCurrent(func(in *otr.Conversation) (otr.Result, error) { return in.Send([]byte(text)) })
}

func (s *otrSession) Receive(body string) (e2eIn, error) {
	r, in, err := s.peer.Receive([]byte(body))
	out := e2eIn{e2eOut: s.out(in, r)}
	if r.Plaintext != nil {
		out.HasText, out.Text, out.Encrypted = true, string(r.Plaintext), r.Encrypted
		if r.Encrypted {
			out.Key, _ = fingerprint(in)
			out.Current = in == s.peer.Current()
		}
	}
	return out, err
}

func (s *otrSession) End() (e2eOut, error) {
	return s.onCurrent(func(in *otr.Conversation) (otr.Result, error) { return in.End() })
}

func (s *otrSession) Verify(question, secret string) (e2eOut, error) {
	return s.onCurrent(func(in *otr.Conversation) (otr.Result, error) {
		return in.Authenticate(question, []byte(secret))
	})
}

func (s *otrSession) Answer(secret string) (e2eOut, error) {
	return s.onCurrent(func(in *otr.Conversation) (otr.Result, error) { return in.RespondSMP([]byte(secret)) })
}

func (s *otrSession) AbortVerify() (e2eOut, error) {
	return s.onCurrent(func(in *otr.Conversation) (otr.Result, error) { return in.AbortSMP() })
}

func (s *otrSession) Tick() []string { return wireText(s.peer.Tick().Send) }

func (s *otrSession) NextTick() (time.Time, bool) { return s.peer.NextTick() }

func (s *otrSession) SetPolicy(p Policy) error { return s.peer.Reset(otrPolicy(p)) }

func (s *otrSession) Forget() { s.peer.Forget() }

func (s *otrSession) Protected(body string) bool { return strings.HasPrefix(body, "?OTR") }

// onCurrent runs one user action on the current instance. On error the
// messages it produced are dropped, as the engine's callers always did.
func (s *otrSession) onCurrent(f func(*otr.Conversation) (otr.Result, error)) (e2eOut, error) {
	in := s.peer.Current()
	r, err := f(in)
	if err != nil {
		return e2eOut{}, err
	}
	return s.out(in, r), nil
}

func (s *otrSession) out(in *otr.Conversation, r otr.Result) e2eOut {
	out := e2eOut{Send: wireText(r.Send)}
	cur := in == s.peer.Current()
	for _, ev := range r.Events {
		e := e2eEvent{Current: cur}
		switch ev.Kind {
		case otr.EventGoneSecure, otr.EventStillSecure:
			e.Kind, e.Key, e.Renewed = evPrivate, ev.Fingerprint.String(), ev.Kind == otr.EventStillSecure
		case otr.EventPeerEnded:
			e.Kind = evPeerEnded
		case otr.EventSMPQuestion, otr.EventSMPSecretNeeded:
			e.Kind, e.Question = evVerifyAsked, ev.Question
			if !cur {
				// The user answers in the chat, which talks to the
				// current session: a request from another one is
				// declined here, and the loop says so.
				if ab, err := in.AbortSMP(); err == nil {
					out.Send = append(out.Send, wireText(ab.Send)...)
				}
			}
		case otr.EventSMPSucceeded, otr.EventSMPFailed, otr.EventSMPAborted, otr.EventSMPCheated:
			e.Kind = evVerifyDone
			e.Outcome = map[otr.EventKind]SMPOutcome{otr.EventSMPSucceeded: SMPSucceeded,
				otr.EventSMPFailed: SMPFailed, otr.EventSMPAborted: SMPAborted,
				otr.EventSMPCheated: SMPCheated}[ev.Kind]
		case otr.EventUnreadable:
			e.Kind, e.Text = evUnreadable, ev.Text
		case otr.EventMalformed:
			e.Kind, e.Text = evMalformed, ev.Text
		case otr.EventErrorReceived:
			e.Kind, e.Text = evPeerError, ev.Text
		case otr.EventPlaintextReceived:
			e.Kind = evPlainWhilePriv
		case otr.EventInstanceMismatch:
			if ev.Text != otr.TextForAnotherInstance {
				continue // routing noise of crossing AKEs: nothing the user can act on
			}
			e.Kind = evMisdirected
		default:
			continue // extra key, encryption required: nothing to tell
		}
		if e.Key == "" {
			e.Key, _ = fingerprint(in)
		}
		out.Events = append(out.Events, e)
	}
	return out
}

func wireText(msgs [][]byte) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m)
	}
	return out
}
