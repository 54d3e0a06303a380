package otr

// Receiving, spec §"The protocol state machine" / "State transitions" for
// the nine kinds of received message, plus fragment reassembly and the
// instance-tag rules of §"Instance Tags".

import "bytes"

// Error texts we send; the wording follows libotr's so users recognise it.
const (
	errTextUnreadable = "You transmitted an unreadable encrypted message."
	errTextNotPrivate = "You sent encrypted data to a peer that was not expecting it."
)

// Receive processes one incoming message body. Malformed input never
// returns an error: it is reported as an event and otherwise ignored. An
// error means our own side failed (for example the random source).
func (c *Conversation) Receive(in []byte) (Result, error) {
	var res Result
	if !c.cfg.Policy.enabled() {
		res.Plaintext = bytes.Clone(in)
		return res, nil
	}
	f, isFrag, valid := parseFragment(in)
	if !isFrag {
		c.frag.reset()
		return res, c.receiveWhole(&res, in)
	}
	if !valid {
		res.event(Event{Kind: EventMalformed, Text: "malformed fragment"})
		return res, nil
	}
	if f.version == 3 && !c.tagsOK(&res, f.sender, f.receiver, true) {
		return res, nil
	}
	if !c.cfg.Policy.allows(f.version) {
		return res, nil
	}
	whole, problem := c.frag.add(f)
	if problem != "" {
		res.event(Event{Kind: EventMalformed, Text: "fragment discarded: " + problem})
		return res, nil
	}
	if whole == nil {
		return res, nil
	}
	if classify(whole) != kindEncoded {
		res.event(Event{Kind: EventMalformed, Text: "reassembled fragments are not an OTR message"})
		return res, nil
	}
	return res, c.receiveWhole(&res, whole)
}

func (c *Conversation) receiveWhole(res *Result, in []byte) error {
	switch classify(in) {
	case kindEncoded:
		return c.receiveEncoded(res, in)
	case kindError:
		res.event(Event{Kind: EventErrorReceived, Text: errorText(in)})
		if c.cfg.Policy.has(ErrorStartAKE) {
			res.Send = append(res.Send, queryMessage(c.cfg.Policy))
		}
		return nil
	case kindQuery:
		v2, v3 := queryVersions(in)
		return c.offerReceived(res, v2, v3)
	case kindUnknownOTR:
		res.event(Event{Kind: EventMalformed, Text: "unrecognised OTR message"})
		return nil
	}
	return c.receivePlaintext(res, in)
}

// receivePlaintext handles plaintext with or without a whitespace tag.
func (c *Conversation) receivePlaintext(res *Result, in []byte) error {
	msg, tagged, v2, v3 := stripWhitespaceTag(in)
	if !tagged {
		c.stopWSTag = true // he answered in plaintext: stop advertising
	}
	if len(msg) > 0 {
		res.Plaintext = bytes.Clone(msg)
		if c.state != StatePlaintext || c.cfg.Policy.has(RequireEncryption) {
			res.event(Event{Kind: EventPlaintextReceived})
		}
	}
	if tagged && c.cfg.Policy.has(WhitespaceStartAKE) {
		return c.offerReceived(res, v2, v3)
	}
	return nil
}

// offerReceived starts the AKE with the highest version both sides allow
// ("Receiving a Query Message" and the whitespace-tag case).
func (c *Conversation) offerReceived(res *Result, v2, v3 bool) error {
	var v int
	switch {
	case v3 && c.cfg.Policy.has(AllowV3):
		v = 3
	case v2 && c.cfg.Policy.has(AllowV2):
		v = 2
	default:
		return nil
	}
	bin, err := c.startAKE(v)
	if err != nil {
		return err
	}
	c.queue(res, bin)
	return nil
}

// tagsOK applies the instance-tag rules to a v3 message. zeroOK says a
// receiver tag of 0 is acceptable (D-H Commit, and fragments, whose type is
// not known yet).
func (c *Conversation) tagsOK(res *Result, sender, receiver uint32, zeroOK bool) bool {
	switch {
	case sender < minInstanceTag:
		res.event(Event{Kind: EventMalformed, Text: "invalid sender instance tag"})
		return false
	case receiver == 0 && !zeroOK:
		res.event(Event{Kind: EventInstanceMismatch, Text: "message not addressed to an instance"})
		return false
	case receiver != 0 && receiver != c.ourTag:
		res.event(Event{Kind: EventInstanceMismatch, Text: TextForAnotherInstance})
		return false
	case c.peerTag != 0 && sender != c.peerTag && !c.mayRebind():
		res.event(Event{Kind: EventInstanceMismatch, Text: "message from another peer instance"})
		return false
	}
	return true
}

// mayRebind reports whether a message from a new peer instance may take
// over this conversation: only while no session exists or is being built
// with a particular instance.
func (c *Conversation) mayRebind() bool {
	return c.state != StateEncrypted && (c.ake.state == authNone || c.ake.state == authAwaitingDHKey)
}

func (c *Conversation) receiveEncoded(res *Result, in []byte) error {
	bin, ok := decode(in)
	if !ok {
		res.event(Event{Kind: EventMalformed, Text: "bad base64 in OTR message"})
		return nil
	}
	h, body, ok := parseHeader(bin)
	if !ok {
		res.event(Event{Kind: EventMalformed, Text: "truncated OTR message header"})
		return nil
	}
	if h.version != 2 && h.version != 3 {
		return nil // version 1 or unknown: ignored, as the spec allows
	}
	if !c.cfg.Policy.allows(h.version) {
		return nil
	}
	if h.version == 3 {
		if !c.tagsOK(res, h.sender, h.receiver, h.typ == msgDHCommit) {
			return nil
		}
	}
	switch h.typ {
	case msgData:
		return c.receiveData(res, h, bin, body)
	case msgDHCommit, msgDHKey, msgRevealSig, msgSig:
		return c.receiveAKE(res, h, body)
	}
	res.event(Event{Kind: EventMalformed, Text: "unknown OTR message type"})
	return nil
}

// receiveAKE dispatches the four AKE messages.
func (c *Conversation) receiveAKE(res *Result, h header, body []byte) error {
	c.stopWSTag = true
	var (
		reply   []byte
		done    *akeResult
		problem string
		err     error
	)
	before := c.peerTag
	if h.version == 3 {
		c.peerTag = h.sender // our reply goes to this instance
	}
	switch h.typ {
	case msgDHCommit:
		reply, problem, err = c.handleDHCommit(h, body)
	case msgDHKey:
		reply, problem, err = c.handleDHKey(h, body)
	case msgRevealSig:
		reply, done, problem, err = c.handleRevealSig(h, body)
	case msgSig:
		done, problem = c.handleSig(h, body)
	}
	if reply == nil && done == nil {
		c.peerTag = before // ignored: stay bound to whoever we were talking to
	}
	if err != nil {
		return err
	}
	if problem != "" {
		res.event(Event{Kind: EventMalformed, Text: problem})
	}
	if reply != nil {
		c.queue(res, reply)
	}
	if done != nil {
		return c.goSecure(res, done)
	}
	return nil
}

// receiveData implements "Receiving a Data Message".
func (c *Conversation) receiveData(res *Result, h header, whole, body []byte) error {
	d, ok := parseDataMessage(whole, body)
	if !ok {
		res.event(Event{Kind: EventMalformed, Text: "malformed data message"})
		return nil
	}
	ignore := d.flags&flagIgnoreUnreadable != 0
	if c.state != StateEncrypted || h.version != c.version {
		if !ignore {
			text := "encrypted message received outside a private conversation"
			if c.state == StateEncrypted {
				text = "data message version does not match the session"
			}
			res.event(Event{Kind: EventUnreadable, Text: text})
			res.Send = append(res.Send, errorMessage(errTextNotPrivate))
		}
		return nil
	}
	plain, s, problem, err := c.keys.open(d, c.newDHPair)
	if err != nil {
		return err
	}
	switch problem {
	case openUnreadable:
		if !ignore {
			res.event(Event{Kind: EventUnreadable, Text: "encrypted message with unknown keys"})
			res.Send = append(res.Send, errorMessage(errTextUnreadable))
		}
		return nil
	case openBadMAC:
		res.event(Event{Kind: EventMalformed, Text: "data message with bad MAC"})
		if !ignore {
			res.Send = append(res.Send, errorMessage(errTextUnreadable))
		}
		return nil
	case openReplay:
		res.event(Event{Kind: EventMalformed, Text: "data message counter not increasing (replay)"})
		return nil
	case openBadDH:
		res.event(Event{Kind: EventMalformed, Text: "data message: next D-H key out of range"})
		return nil
	}
	c.unansweredRx = true
	msg, tlvs := splitPlaintext(plain)
	defer clear(plain[len(msg):]) // the TLVs; the text itself is handed out
	if len(msg) > 0 {
		// open decrypted in place into the buffer decode made for this
		// message alone, so the text needs no copy.
		res.Plaintext = msg[:len(msg):len(msg)]
		res.Encrypted = true
	}
	if err := c.handleTLVs(res, tlvs, s); err != nil {
		return err
	}
	if c.state == StateEncrypted && c.heartbeatDue() {
		return c.sendData(res, flagIgnoreUnreadable, nil, nil)
	}
	return nil
}

// handleTLVs acts on the TLVs of an authentic data message. The
// Disconnected TLV is applied last so SMP and extra-key TLVs in the same
// message are still seen with the session's keys.
func (c *Conversation) handleTLVs(res *Result, tlvs []tlv, s *sessionKeys) error {
	disconnected := false
	for _, t := range tlvs {
		switch t.typ {
		case tlvDisconnected:
			disconnected = true
		case tlvExtraSymKey:
			if c.version == 3 && len(t.value) >= 4 {
				use, data, _ := readInt(t.value)
				res.event(Event{Kind: EventExtraKey, ExtraKey: s.extra, ExtraUse: use,
					ExtraUseData: bytes.Clone(data)})
			}
		case tlvSMP1, tlvSMP2, tlvSMP3, tlvSMP4, tlvSMPAbort, tlvSMP1Q:
			if err := c.receiveSMP(res, t); err != nil {
				return err
			}
		}
	}
	if disconnected {
		c.wipeSession()
		c.state = StateFinished
		res.event(Event{Kind: EventPeerEnded})
	}
	return nil
}
