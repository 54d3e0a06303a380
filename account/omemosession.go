package account

// OMEMO behind the e2e seam (e2e.go): one omemoSession per contact (its
// privConv is the bare JID's, res ""), over the account's omemo.Store.
// omemo.Peer knows the contact's and our own devices and encrypts to
// them; the loop (omemo.go) fetches device lists and bundles, feeds them
// in, saves the store and decides when the conversation is private.
//
// What OMEMO does not have, the session refuses in plain words: there is
// no SMP (devices are verified by fingerprint, OMEMODevices and
// SetOMEMOTrust) and no "finished" (the peer cannot end anything; End
// only stops this side from using OMEMO until Start).

import (
	"errors"
	"strings"
	"time"

	"github.com/sotto-im/sotto/omemo"
)

var errNoSMPInOMEMO = errors.New("account: OMEMO has no question-and-answer check: compare the device " +
	"fingerprints instead (the contact's devices list them, or scan their QR code)")

// omemoPrefix starts every <encrypted/> element omemo.Encrypted.Marshal
// writes: the wire form of an OMEMO message between session and stanza.
const omemoPrefix = "<encrypted xmlns='" + omemo.Namespace + "'>"

type omemoSession struct {
	c       *client
	contact string
	peer    *omemo.Peer // nil while OMEMO is unavailable (omemoAccount.why)
	ended   bool        // the user ended it; Start resumes

	// setup: the first round of list and bundle fetches is under way
	// (the privConv is held in refresh meanwhile, omemo.go).
	setup    bool
	fetching map[omemo.Address]bool
	failed   map[omemo.Address]string // why a bundle could not be used
	repaired map[omemo.Address]bool   // a new session was offered (omemoRepair)
}

func (s *omemoSession) Protocol() string { return "OMEMO" }

func (s *omemoSession) State() e2eState {
	if s.peer == nil || s.ended || s.peer.Level() == omemo.NotPrivate {
		return e2ePlain
	}
	return e2eEncrypted
}

// PeerKey: OMEMO has one key per device; securityOf asks omemoSecurity.
func (s *omemoSession) PeerKey() (string, bool) { return "", false }

func (s *omemoSession) AnyPrivate() bool {
	if s.peer == nil {
		return false
	}
	return s.State() != e2ePlain || len(s.peer.Recipients()) > 0
}

func (s *omemoSession) Start() []string {
	s.ended = false
	s.c.omemoStart(s)
	return nil
}

func (s *omemoSession) Send(text string) (e2eOut, error) {
	if s.peer == nil {
		return e2eOut{}, errors.New("account: " + s.c.om().why)
	}
	if s.ended {
		return e2eOut{}, errors.New("account: you ended the private conversation; start it again first")
	}
	e, err := s.peer.Send(text)
	if err != nil {
		return e2eOut{}, err
	}
	if err := s.c.omemoSave(); err != nil {
		return e2eOut{}, err // never sent when the ratchet step could not be saved
	}
	return e2eOut{Send: []string{string(e.Marshal())}}, nil
}

// Receive is the loop's path for a body that came to the contact's bare
// JID; OMEMO messages themselves take omemoIncoming (they are not
// bodies). A body is shown as what it was: plain.
func (s *omemoSession) Receive(body string) (e2eIn, error) {
	if isOTR(body) {
		return e2eIn{}, errors.New("account: an OTR message arrived where OMEMO is used; it was ignored")
	}
	return e2eIn{HasText: true, Text: stripOTRTag(body)}, nil
}

func (s *omemoSession) End() (e2eOut, error) {
	s.ended = true
	return e2eOut{}, nil
}

func (s *omemoSession) Verify(string, string) (e2eOut, error) { return e2eOut{}, errNoSMPInOMEMO }
func (s *omemoSession) Answer(string) (e2eOut, error)         { return e2eOut{}, errNoSMPInOMEMO }
func (s *omemoSession) AbortVerify() (e2eOut, error)          { return e2eOut{}, errNoSMPInOMEMO }
func (s *omemoSession) Tick() []string                        { return nil }
func (s *omemoSession) NextTick() (time.Time, bool)           { return time.Time{}, false }
func (s *omemoSession) SetPolicy(Policy) error                { return nil }

// Forget: the sessions are the account's store, kept on disk on purpose
// (a restart must not lose them); nothing is held here.
func (s *omemoSession) Forget() {}

func (s *omemoSession) Protected(body string) bool { return strings.HasPrefix(body, omemoPrefix) }
