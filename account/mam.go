package account

// Catching up from the server's message archive (XEP-0313) after a sign-in:
// what came while this device was offline but was delivered elsewhere (to
// our other devices, live), which offline storage therefore never gives
// us — above all OMEMO messages encrypted for this device too.
//
// When a fresh session starts (not a resumed one) we ask our server
// (disco#info on our bare JID) whether it archives for us. If it does, and
// once the OMEMO state is loaded (so archived and offline lines come out in
// the order they came), the archive is read from the account's mark — the
// id of the last archived message this device took or saw (archivemark.go;
// that id is all that is kept) — in pages of mamPage, at most mamMax
// messages a sign-in; past that a line says more are waiting, and the next
// sign-in goes on from there. The first sign-in on a server with an
// archive takes no old messages: it asks for the newest id and starts from
// there. Everything runs on the loop, one stanza at a time, between
// everything else: neither the sign-in nor the UI waits for it.
//
// Each archived message goes through the same path as a live one:
//   - OMEMO (the contact's, and ours from our other devices, as a carbon
//     would bring them) through omemoIncoming: decrypted once, shown with
//     the level of the device that sent it; a copy of a message already
//     decrypted (offline storage, a carbon, the live message) is a replay
//     to the OMEMO store and is dropped without a word;
//   - plain text is shown Not private (ours from another device as a sent
//     line; ours from this device is not shown again);
//   - OTR data cannot be read later (its keys are gone by design): it is
//     never shown as text nor answered; one plain line per contact says a
//     private OTR message came while Sotto was offline;
//   - other protocols' payloads say which protocol it was (eme.go).
//
// Copies are recognised by the archive's own id (XEP-0359 <stanza-id/>
// from our server, on live, offline and carbon copies) and by the
// sender's message id (or its <origin-id/>): every message this session
// handled leaves both in a bounded set, and an archived message with
// either is skipped. Only our own server's <stanza-id by='our JID'/> is
// believed (it strips such elements from what others send, XEP-0359 §7),
// and archive results only from our own account.
//
// mellium's history package gives the shapes: history.Query builds the
// query, history.Result decodes its end (<fin/>). Its Handler.Fetch is not
// used: it sends the IQ itself and waits on another goroutine, past the
// loop that owns the stream (stream management counts every stanza we
// write, wire.CountedHandler) and the OMEMO state.

import (
	"encoding/xml"
	"strings"
	"time"

	"mellium.im/xmpp/history"
	"mellium.im/xmpp/jid"

	"github.com/sotto-im/sotto/account/internal/wire"
)

const (
	mamPage = 100  // messages per query (RSM max)
	mamMax  = 1000 // messages per sign-in
	// maxMAMSeen bounds the copy filter; it is cleared when full (the
	// copies it catches come in the same sign-in, within minutes).
	maxMAMSeen = 8192
	// mamSaveGap: a mark moved by live messages is written at most this
	// often (and when the session ends).
	mamSaveGap = 10 * time.Second
)

// mamState is the account's catch-up, owned by the loop.
type mamState struct {
	archive bool   // our server archives for us (this session)
	query   string // the running query's id, "" if none
	first   bool   // the running query only finds the newest id
	taken   int    // archived messages taken this sign-in
	pos     string // the last archive id of the running query
	// done: the catch-up reached the newest message; live messages move
	// the mark from then on (before, the mark must stay where the
	// archive was read up to).
	done    bool
	mark    string
	dirty   bool
	savedAt time.Time
	seen    map[string]struct{}
	otrSaid map[string]bool // contacts whose unreadable OTR was reported
	// taking: an archived message is going through the receive path.
	taking bool
}

// mamSessionStarted: a fresh session; ask whether the server archives.
func (c *client) mamSessionStarted() {
	c.mamSave()
	mk, _ := c.m.profile.ArchiveMark(c.account())
	seen := c.mam.seen
	c.mam = mamState{seen: seen, mark: mk, otrSaid: map[string]bool{}}
	c.sendIQ(wire.OutIQ{Type: "get", To: c.account(), DiscoInfo: &wire.DiscoInfoQuery{}}, func(q *wire.IQ) {
		if q == nil || q.Type != "result" || !q.DiscoInfo.Has(wire.NSMAM) || c.mam.archive {
			return
		}
		c.mam.archive = true
		if c.omemoOn() {
			c.omemoWhenReady(c.mamBegin) // after the OMEMO lines that came first
			return
		}
		c.mamBegin()
	})
}

// mamBegin starts reading the archive: from the mark, or (first sign-in)
// only the newest id.
func (c *client) mamBegin() {
	if c.sess == nil || c.mam.query != "" {
		return
	}
	if c.omemoOn() && c.om().phase != omemoReady {
		// The OMEMO state cannot be read now (a locked keyring): reading
		// on would move the mark past messages this device could decrypt
		// at the next sign-in. The mark stays where it is.
		return
	}
	mk, ok := c.m.profile.ArchiveMark(c.account())
	if !ok {
		c.mamQuery(history.Query{Last: true, Limit: 1}, true)
		return
	}
	c.mam.mark = mk
	c.mamQuery(history.Query{PageID: mk, Limit: c.mamPageSize()}, false)
}

func (c *client) mamPageSize() uint64 {
	if c.m.opt.mamPage > 0 {
		return uint64(c.m.opt.mamPage)
	}
	return mamPage
}

func (c *client) mamLimit() int {
	if c.m.opt.mamMax > 0 {
		return c.m.opt.mamMax
	}
	return mamMax
}

// mamQuery sends one page's query; mamFin takes its end.
func (c *client) mamQuery(q history.Query, first bool) {
	q.ID = randomID()
	c.mam.query, c.mam.first, c.mam.pos = q.ID, first, ""
	c.sendIQ(wire.OutIQ{Type: "set", MAM: &q}, func(r *wire.IQ) { c.mamFin(q.ID, r) })
}

// mamFin: the server sent every message of the page (they came before
// this answer, in order, on the same stream).
func (c *client) mamFin(id string, q *wire.IQ) {
	if c.mam.query != id {
		return
	}
	c.mam.query = ""
	c.omemoArchivedSaved() // the page's OMEMO lines, whatever the answer
	acct := Conversation{Account: c.account()}
	if q == nil {
		return // the link is gone; the next sign-in starts from the mark
	}
	if q.Type == "error" {
		if q.Error.Condition() == "item-not-found" && !c.mam.first {
			// The mark is no longer in the archive (it expired, or the
			// account was moved): start from now.
			c.notice(acct, "the server's archive no longer has the place Sotto read up to; "+
				"messages sent while you were offline may be missing")
			c.mamQuery(history.Query{Last: true, Limit: 1}, true)
			return
		}
		c.notice(acct, "the server's message archive could not be read ("+q.Error.Condition()+
			"); messages sent while you were offline may be missing")
		return
	}
	var res history.Result
	if q.MAMFin == nil || xml.Unmarshal(*q.MAMFin, &res) != nil {
		c.notice(acct, "the server's message archive sent an answer Sotto cannot read; "+
			"messages sent while you were offline may be missing")
		return
	}
	last := res.Set.Last
	if len(last) > maxArchiveMark {
		last = "" // never a mark we cannot keep; the page's own last id below
	}
	if last == "" {
		last = c.mam.pos
	}
	if last != "" || c.mam.first {
		// On the first query, "" is an empty archive: everything in it
		// later is new.
		c.mam.mark, c.mam.dirty = last, true
	}
	defer c.mamSave() // after the line below: a test that sees the mark sees the line
	switch {
	case c.mam.first || res.Complete || last == "":
		c.mam.done = true
	case c.mam.taken >= c.mamLimit():
		c.notice(acct, "more messages are waiting in the server's archive than Sotto reads at one sign-in; "+
			"the next ones are read when you sign in again")
	default:
		c.mamQuery(history.Query{PageID: last, Limit: c.mamPageSize()}, false)
	}
}

// mamSave writes the mark if it moved, never before the OMEMO state of
// the lines it moved past.
func (c *client) mamSave() {
	if !c.mam.dirty || !c.omemoArchivedSaved() {
		return
	}
	if err := c.m.profile.SetArchiveMark(c.account(), c.mam.mark); err == nil {
		c.mam.dirty = false
		c.mam.savedAt = time.Now()
	}
}

// mamHousekeeping writes a mark live messages moved, now and then.
func (c *client) mamHousekeeping(now time.Time) {
	if c.mam.dirty && now.Sub(c.mam.savedAt) >= mamSaveGap {
		c.mamSave()
	}
}

func (c *client) mamSeen(k string) bool {
	_, ok := c.mam.seen[k]
	return ok
}

func (c *client) mamMarkSeen(k string) {
	if c.mam.seen == nil || len(c.mam.seen) >= maxMAMSeen {
		c.mam.seen = map[string]struct{}{}
	}
	c.mam.seen[k] = struct{}{}
}

// mamKeys are the keys a copy of m would be known by: our archive's id
// and the sender's ids (fromBare is the sender's bare JID).
func (c *client) mamKeys(m *wire.Message, fromBare, archiveID string) []string {
	var ks []string
	if archiveID != "" {
		ks = append(ks, "a\x00"+archiveID)
	}
	for _, s := range m.StanzaIDs {
		if s.By == c.account() && s.ID != "" {
			ks = append(ks, "a\x00"+s.ID)
		}
	}
	if m.ID != "" {
		ks = append(ks, "m\x00"+fromBare+"\x00"+m.ID)
	}
	if m.OriginID != nil && m.OriginID.ID != "" {
		ks = append(ks, "m\x00"+fromBare+"\x00"+m.OriginID.ID)
	}
	return ks
}

// mamNoteLive records a message (or the message a carbon forwards) that
// came live or from offline storage, so its archived copy is skipped; once
// the catch-up is done, our archive's id on it moves the mark.
func (c *client) mamNoteLive(m *wire.Message) {
	if m == nil {
		return
	}
	from := c.account()
	if m.From != "" {
		j, err := jid.Parse(m.From)
		if err != nil {
			return
		}
		from = j.Bare().String()
	}
	for _, k := range c.mamKeys(m, from, "") {
		c.mamMarkSeen(k)
	}
	if !c.mam.done || !c.mam.archive {
		return
	}
	for _, s := range m.StanzaIDs {
		if s.By == c.account() && s.ID != "" && len(s.ID) <= maxArchiveMark {
			c.mam.mark, c.mam.dirty = s.ID, true
		}
	}
}

// mamResult takes one message of an archive query. Only our own archive
// may send them (from our bare JID, which mellium blanks to "").
func (c *client) mamResult(m *wire.Message) {
	r := m.MAM
	if (m.From != "" && m.From != c.account()) || r.QueryID == "" || r.QueryID != c.mam.query {
		return
	}
	if r.ID != "" && len(r.ID) <= maxArchiveMark {
		c.mam.pos = r.ID
	}
	if c.mam.first {
		return // the newest id only: nothing in it is new to this device
	}
	c.mam.taken++
	if fwd := r.Forwarded.Message; fwd != nil {
		at := c.nowNanos()
		if r.Forwarded.Delay != nil {
			if t, err := time.Parse(time.RFC3339, r.Forwarded.Delay.Stamp); err == nil {
				at = t.UnixNano()
			}
		}
		c.mamTake(fwd, r.ID, at)
	}
}

// mamTake runs one archived message through the receive path (see the
// top of the file).
func (c *client) mamTake(fwd *wire.Message, archiveID string, at int64) {
	from, err1 := jid.Parse(fwd.From)
	to, err2 := jid.Parse(fwd.To)
	if err1 != nil || err2 != nil || from.Localpart() == "" || to.Localpart() == "" {
		return
	}
	switch fwd.Type {
	case "error", "groupchat", "headline":
		return
	}
	fromBare, toBare := from.Bare().String(), to.Bare().String()
	sent := fromBare == c.account()
	contact, res := fromBare, from.Resourcepart()
	if sent {
		contact, res = toBare, to.Resourcepart()
	} else if toBare != c.account() {
		return
	}
	if contact == c.account() || c.isBlocked(contact, res) {
		return
	}
	keys := c.mamKeys(fwd, fromBare, archiveID)
	for _, k := range keys {
		if c.mamSeen(k) {
			return // delivered live, from offline storage or as a carbon: shown already
		}
	}
	for _, k := range keys {
		c.mamMarkSeen(k)
	}
	conv := Conversation{Account: c.account(), Peer: contact, Resource: res}
	if fwd.OMEMO != nil && c.omemoOn() {
		sender, id := contact, fwd.ID
		if sent {
			sender = c.account()
		}
		if c.om().phase != omemoReady {
			c.notice(conv, "a message that came while you were offline could not be decrypted: "+c.om().why)
			return
		}
		c.mam.taking = true
		c.omemoIncoming(fwd, contact, sender, id, at, sent)
		c.mam.taking = false
		return
	}
	if fwd.Body == nil {
		return // a chat state or a receipt: nothing to show now
	}
	body := *fwd.Body
	switch {
	case otherEncryption(fwd) != "":
		if !sent {
			c.receiveOtherEncrypted(fwd, contact, res, at) // eme.go
		}
	case isOTR(body):
		// Never answered (no OTR error, no query): that would be sent now,
		// to a session that ended long ago.
		if !sent && isOTRData(body) && !c.mam.otrSaid[contact] {
			c.mam.otrSaid[contact] = true
			c.notice(Conversation{Account: c.account(), Peer: contact},
				"a private (OTR) message from "+contact+" came while Sotto was offline; it cannot be read now "+
					"(OTR messages can only be read while both sides are online)")
		}
	case sent:
		if c.sess != nil && res == c.sess.LocalAddr().Resourcepart() {
			return // typed on this device, shown then
		}
		text := stripOTRTag(body)
		c.keepPlain(conv, true, text, timeFromNanos(at))
		c.m.emit(MessageStateChanged{Conv: conv, ID: "carbon-" + fwd.ID, Body: text, State: SentPlain, Time: timeFromNanos(at)})
	default:
		text := c.textIn(contact, stripOTRTag(body), false)
		if c.peerPlain(contact) {
			c.keepPlain(conv, false, text, timeFromNanos(at))
		}
		c.m.emit(MessageReceived{Conv: conv, Body: text, Level: NotPrivate, Time: timeFromNanos(at)})
	}
}

// isOTRData: an OTR message that carried text or key exchange, as opposed
// to a query or an error (which say nothing a user needs later).
func isOTRData(body string) bool {
	for _, p := range []string{"?OTR:", "?OTR|", "?OTR,"} {
		if strings.Contains(body, p) {
			return true
		}
	}
	return false
}
