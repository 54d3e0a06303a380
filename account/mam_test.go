package account

// Catching up from the server's archive (mam.go) over the real Prosody
// with mod_mam: OMEMO lines a device missed while offline, plain and OTR
// lines, and copies that came by two ways.

import (
	"encoding/xml"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/ping"

	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/internal/testbed"
)

// archiveMark waits until d has an archive mark other than not (its
// first sign-in found the newest id, or a catch-up moved it) and
// returns it.
func (d *device) archiveMark(not string, had bool) string {
	d.t.Helper()
	var mk string
	d.until("the archive mark", func() bool {
		var ok bool
		mk, ok = d.profile.ArchiveMark(d.jid)
		return ok && (!had || mk != not)
	})
	return mk
}

// count is how many events from index from match pred.
func (p *peer) count(from int, pred func(Event) bool) int {
	n := 0
	evs := p.rec.all()
	for _, e := range evs[min(from, len(evs)):] {
		if pred(e) {
			n++
		}
	}
	return n
}

func undecryptable(e Event) bool {
	n, ok := e.(Notice)
	return ok && strings.Contains(n.Text, "could not be decrypted")
}

// mamTrio is alice (a1) and bob on two devices, b1 befriended, b2 added
// after alice and b1 saw bob's first list: trusted at once by the
// Preferences choice on both (TestOMEMONewDevicesHeld and
// TestOMEMOOwnNewDeviceHeld have the default).
func mamTrio(t *testing.T) (srv *testbed.Server, a, b1, b2 *device, aj, bj, bpw string) {
	t.Helper()
	srv = omemoServer(t)
	aj, apw := srv.AddUser(t, "alice")
	bj, bpw = srv.AddUser(t, "bob")
	a = startDevice(t, srv, aj, apw, "a1", deviceOpts{policy: Always, trustNew: true})
	b1 = startDevice(t, srv, bj, bpw, "b1", deviceOpts{policy: Always, trustNew: true})
	befriend(t, a.peer, b1.peer)
	b2 = startDevice(t, srv, bj, bpw, "b2", deviceOpts{policy: Always})
	return srv, a, b1, b2, aj, bj, bpw
}

func TestOMEMOMAMCatchUp(t *testing.T) {
	srv, a, b1, b2, aj, bj, bpw := mamTrio(t)
	ids := map[*device]uint32{a: a.ownID(), b1: b1.ownID(), b2: b2.ownID()}
	for _, d := range []*device{a, b1, b2} {
		d.knows(aj, ids[a])
		d.knows(bj, ids[b1], ids[b2])
	}
	// b2's first sign-in took nothing old: only the newest id.
	b2.archiveMark("", false)
	hello := "hello all of bob " + randomID()
	sendOK(t, a, bj, hello)
	b2.waitFor(0, hello, omemoLine(aj, hello))
	b2.stop()
	mk, _ := b2.profile.ArchiveMark(bj) // moved by the live line

	// While b2 is away: alice writes (b1 reads live, so offline storage
	// keeps nothing for b2), and b1 answers (carbons go to no one).
	type line struct {
		from *device
		body string
	}
	var lines []line
	for i, from := range []*device{a, a, b1, a, b1} {
		to := bj
		if from == b1 {
			to = aj
		}
		body := "missed " + string(rune('1'+i)) + " " + randomID()
		sendOK(t, from, to, body)
		if from == a {
			b1.waitFor(0, body, omemoLine(aj, body))
			if got := a.lastRecipients(); !containsID(got, ids[b2]) {
				t.Fatalf("alice encrypted to %v, not to b2 (%d)", got, ids[b2])
			}
		} else {
			a.waitFor(0, body, omemoLine(bj, body))
		}
		lines = append(lines, line{from, body})
	}

	b2 = startDevice(t, srv, bj, bpw, "b2", deviceOpts{policy: Always, dir: b2.profile.Dir, secrets: b2.secrets})
	b2.archiveMark(mk, true) // the catch-up's page was taken (it ends the first query)
	// Sentinel: a live line after the catch-up; everything before it was
	// handled by then.
	live := "live again " + randomID()
	sendOK(t, a, bj, live)
	b2.waitFor(0, live, omemoLine(aj, live))

	var order []string
	for _, e := range b2.rec.all() {
		switch m := e.(type) {
		case MessageReceived:
			if strings.HasPrefix(m.Body, "missed ") {
				if !m.Encrypted || m.Protocol != "OMEMO" || m.Level != Unverified || m.Fingerprint == "" || m.Conv.Peer != aj {
					t.Errorf("archived line %+v: want an OMEMO line from alice, Unverified, with her fingerprint", m)
				}
				if m.Time.IsZero() {
					t.Errorf("archived line without its time: %+v", m)
				}
				order = append(order, m.Body)
			}
		case MessageStateChanged:
			if strings.HasPrefix(m.Body, "missed ") {
				if m.State != SentEncrypted || !strings.HasPrefix(m.ID, "carbon-") || m.Conv.Peer != aj {
					t.Errorf("archived own line %+v: want one sent encrypted from the other device", m)
				}
				order = append(order, m.Body)
			}
		}
	}
	var want []string
	for _, l := range lines {
		want = append(want, l.body)
	}
	if strings.Join(order, "\n") != strings.Join(want, "\n") {
		t.Log(dump(b2.rec.all()))
		t.Fatalf("b2 showed the missed lines as\n%s\nwant each once, in order:\n%s", strings.Join(order, "\n"), strings.Join(want, "\n"))
	}
	if n := b2.count(0, omemoLine(aj, hello)); n != 0 {
		t.Fatalf("the line b2 saw before it went away came back %d times from the archive", n)
	}
	b2.never(0, "an undecryptable notice", undecryptable)
	bodies := []string{hello, live}
	bodies = append(bodies, want...)
	assertNoPlaintext(t, srv, bodies...)
	if !strings.Contains(srv.StanzaLog(), "urn:xmpp:mam:2") {
		t.Fatal("no archive query in the stanza log: the test proves nothing")
	}
}

func containsID(ids []uint32, id uint32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// TestMAMCatchUpPlainAndOTR: plain lines (the contact's and ours from
// another client) come back Not private; archived OTR data is neither
// shown nor answered: one plain line says a private message came.
func TestMAMCatchUpPlainAndOTR(t *testing.T) { forEachMAMServer(t, mamCatchUpPlainAndOTR) }

// forEachMAMServer runs body against Prosody with mod_mam and against
// the shared ejabberd (mod_mam, everything archived).
func forEachMAMServer(t *testing.T, body func(t *testing.T, srv testbed.XMPP)) {
	t.Run("prosody", func(t *testing.T) { body(t, omemoServer(t)) })
	t.Run("ejabberd", func(t *testing.T) { body(t, testbed.SharedEjabberd(t)) })
}

func mamCatchUpPlainAndOTR(t *testing.T, srv testbed.XMPP) {
	aj, apw := srv.AddUser(t, "alice")
	bj, bpw := srv.AddUser(t, "bob")
	a := startDevice(t, srv, aj, apw, "a1", deviceOpts{})
	b := startDevice(t, srv, bj, bpw, "b1", deviceOpts{})
	befriend(t, a.peer, b.peer)
	b.archiveMark("", false)
	b.stop()
	a.stop()
	mk, _ := b.profile.ArchiveMark(bj)
	// Alice and bob on plain clients; bob's Sotto is away, his other
	// client online, so nothing goes to offline storage.
	ar := loginRaw(t, srv, aj, apw, "plain")
	br := loginRaw(t, srv, bj, bpw, "plain")
	ar.presence()
	br.presence()
	p1, p2, own := "plain one "+randomID(), "plain two "+randomID(), "bob from elsewhere "+randomID()
	ar.mustSend(bj, p1)
	ar.mustSend(bj, "?OTR:AAMDq2dFuVhTiaMAAAAAAQAAAAIAAADAVf3Ei72ZgFeKqWvLMnuVPVCwxktsOZ1QdjeLp6jn62mCVtlY9nS6sRkecpjuLYHRxyTdRu2iEVtSsjZqK55ovZ35SfkOPHeFYa9BIuxWi9djHMVKQ8KOVGAVLibjZ6P8LreDSKtWDv9YQjIEnkwFVGCPfpBq2SX4VTQfJAQXHggR8izKxPvluXUdG9rIPh4cac98++VLdIuFMiEXjUIoTX2rEzunaCLMy0VIfowlRsgsKGrwhCCv7hBWyglbzwz+AAAAAAAAAAEAAAAF8wDaQo5Ss3dn0Z08iAc3ReUrO1B8dJz2I/HBhPJaAFYfN")
	ar.mustSend(bj, "?OTR:AAMDq2dFuVhTiaMAAAAAAQAAAAIAAADAVf3Ei72ZgFeKqWvLMnuVPVCwxktsOZ1QdjeLp6jn62mCVtlY9nS6sRkecpjuLYHRxyTdRu2iEVtSsjZqK55ovZ35SfkOPHeFYa9BIuxWi9djHMVKQ8KOVGAVLibjZ6P8LreDSKtWDv9YQjIEnkwFVGCPfpBq2SX4VTQfJAQXHggR8izKxPvluXUdG9rIPh4cac98++VLdIuFMiEXjUIoTX2rEzunaCLMy0VIfowlRsgsKGrwhCCv7hBWyglbzwz+AAAAAAAAAAIAAAAF8wDaQo5Ss3dn0Z08iAc3ReUrO1B8dJz2I/HBhPJaAFYfM")
	ar.mustSend(bj, "?OTRv3?")
	ar.mustSend(bj, p2)
	seen := 0
	arrived := func(body string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			for _, m := range br.next(&seen) {
				if m.Body != nil && *m.Body == body {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("bob's other client never got %q", body)
			}
		}
	}
	arrived(p2) // in the archive before bob's own line (two streams)
	br.mustSend(aj, own)
	// A round trip on bob's stream: the server took own before the answer.
	if err := ping.Send(br.ctx, br.sess, jid.MustParse("localhost")); err != nil {
		t.Fatal(err)
	}
	ar.mustSend(bj, "sentinel before the catch-up")
	arrived("sentinel before the catch-up")

	b = startDevice(t, srv, bj, bpw, "b1", deviceOpts{dir: b.profile.Dir, secrets: b.secrets})
	b.archiveMark(mk, true)
	b.waitFor(0, "the sentinel", isMsg(aj, "sentinel before the catch-up"))
	var got []string
	for _, e := range b.rec.all() {
		switch m := e.(type) {
		case MessageReceived:
			if m.Conv.Peer == aj {
				if m.Encrypted || m.Level != NotPrivate {
					t.Errorf("plain archived line %+v: want Not private", m)
				}
				got = append(got, m.Body)
			}
		case MessageStateChanged:
			if m.Body == own && (m.State != SentPlain || !strings.HasPrefix(m.ID, "carbon-")) {
				t.Errorf("own archived line %+v: want one sent plain from the other client", m)
			}
			if m.Body == own {
				got = append(got, "me: "+m.Body)
			}
		}
	}
	want := []string{p1, p2, "me: " + own, "sentinel before the catch-up"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("bob's Sotto showed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	otr := b.count(0, func(e Event) bool {
		n, ok := e.(Notice)
		return ok && strings.Contains(n.Text, "private (OTR) message from "+aj+" came while Sotto was offline")
	})
	if otr != 1 {
		t.Fatalf("%d lines about the archived OTR messages, want 1; events:\n%s", otr, dump(b.rec.all()))
	}
	for _, w := range b.wire() {
		if strings.Contains(w, "?OTR") {
			t.Fatalf("bob's Sotto answered an archived OTR message: %q", w)
		}
	}
}

// TestMAMCatchUpNoDoubles: what offline storage delivers is in the
// archive too; each line is shown once, and the OMEMO copy never reads
// as undecryptable.
func TestMAMCatchUpNoDoubles(t *testing.T) {
	srv, a, b, aj, bj, apw, bpw := omemoPair(t, deviceOpts{}, deviceOpts{})
	b.archiveMark("", false)
	first := "before " + randomID()
	sendOK(t, a, bj, first)
	b.waitFor(0, first, omemoLine(aj, first))
	b.stop()
	mk, _ := b.profile.ArchiveMark(bj)
	o1, o2 := "offline omemo one "+randomID(), "offline omemo two "+randomID()
	sendOK(t, a, bj, o1)
	sendOK(t, a, bj, o2)
	ar := loginRaw(t, srv, aj, apw, "plain")
	p1 := "offline plain " + randomID()
	ar.mustSend(bj, p1)

	b = startDevice(t, srv, bj, bpw, "b1", deviceOpts{dir: b.profile.Dir, secrets: b.secrets})
	b.archiveMark(mk, true)
	live := "live " + randomID()
	sendOK(t, a, bj, live)
	b.waitFor(0, live, omemoLine(aj, live))
	for _, body := range []string{o1, o2} {
		if n := b.count(0, omemoLine(aj, body)); n != 1 {
			t.Fatalf("%q shown %d times; events:\n%s", body, n, dump(b.rec.all()))
		}
	}
	if n := b.count(0, isMsg(aj, p1)); n != 1 {
		t.Fatalf("the plain line was shown %d times; events:\n%s", n, dump(b.rec.all()))
	}
	b.never(0, "an undecryptable notice", undecryptable)
	assertNoPlaintext(t, srv, first, o1, o2, live)
	// Offline storage did deliver them (else this proves nothing about
	// copies): the stanza log shows the delayed copies sent to b1.
	log := srv.StanzaLog()
	if !strings.Contains(log, "urn:xmpp:mam:2") || !strings.Contains(log, "urn:xmpp:delay") {
		t.Fatal("the stanza log shows no archive query or no offline delivery")
	}
}

func withMAMPages(page, max int) Option {
	return func(o *options) { o.mamPage, o.mamMax = page, max }
}

// TestMAMCatchUpPagedAndBounded: the archive is read page by page, at
// most mamMax a sign-in, then a line says more wait; the next sign-in
// goes on from there.
func TestMAMCatchUpPagedAndBounded(t *testing.T) { forEachMAMServer(t, mamCatchUpPagedAndBounded) }

func mamCatchUpPagedAndBounded(t *testing.T, srv testbed.XMPP) {
	aj, apw := srv.AddUser(t, "alice")
	bj, bpw := srv.AddUser(t, "bob")
	small := deviceOpts{extra: []Option{withMAMPages(2, 3)}}
	ar := loginRaw(t, srv, aj, apw, "plain")
	br := loginRaw(t, srv, bj, bpw, "plain")
	br.presence() // online elsewhere: nothing goes to offline storage
	seen := 0
	write := func(prefix string, n int) []string {
		var out []string
		for i := range n {
			body := prefix + string(rune('1'+i)) + " " + randomID()
			ar.mustSend(bj+"/plain", body) // to the other client: bob's archive keeps it
			out = append(out, body)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if got := br.next(&seen); len(got) > 0 && *got[len(got)-1].Body == out[n-1] {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatal("bob's other client never got the last line")
			}
		}
	}
	// The archive has old lines before this device's first sign-in:
	// they are not read.
	write("old ", 3)
	b := startDevice(t, srv, bj, bpw, "b1", small)
	b.archiveMark("", false)
	b.stop()
	if n := b.count(0, func(e Event) bool { _, ok := e.(MessageReceived); return ok }); n != 0 {
		t.Fatalf("the first sign-in showed %d old lines from the archive", n)
	}
	sent := write("line ", 5)
	shown := func(d *device) []string {
		var out []string
		for _, e := range d.rec.all() {
			if m, ok := e.(MessageReceived); ok && m.Conv.Peer == aj {
				out = append(out, m.Body)
			}
		}
		return out
	}
	more := func(e Event) bool {
		n, ok := e.(Notice)
		return ok && strings.Contains(n.Text, "more messages are waiting in the server's archive")
	}
	mk, _ := b.profile.ArchiveMark(bj)
	small.dir, small.secrets = b.profile.Dir, b.secrets
	b = startDevice(t, srv, bj, bpw, "b1", small)
	b.waitFor(0, "the line that more wait", more)
	if got := shown(b); strings.Join(got, "\n") != strings.Join(sent[:4], "\n") {
		t.Fatalf("first sign-in showed\n%s\nwant two pages of two:\n%s", strings.Join(got, "\n"), strings.Join(sent[:4], "\n"))
	}
	mk2 := b.archiveMark(mk, true)
	b.stop()
	b = startDevice(t, srv, bj, bpw, "b1", small)
	b.archiveMark(mk2, true)
	if got := shown(b); len(got) != 1 || got[0] != sent[4] {
		t.Fatalf("second sign-in showed %q, want only %q", got, sent[4])
	}
	b.never(0, "a line that more wait", more)
}

// TestPipeArchiveChecks: over a scripted server, archive results are
// taken only from our own account and for our query; only our own
// server's stanza-id marks a copy; OTR in the archive is never answered.
func TestPipeArchiveChecks(t *testing.T) {
	type query struct{ id, qid string }
	queries := make(chan query, 4)
	qidRe := regexp.MustCompile(`queryid="([^"]+)"`)
	answer := func(start xml.StartElement, s string) (string, bool) {
		switch {
		case start.Name.Local == "iq" && strings.Contains(s, wire.NSDiscoInfo) && attr(start, "to") == "alice@localhost":
			return `<iq type='result' id='` + attr(start, "id") + `' from='alice@localhost'><query xmlns='` + wire.NSDiscoInfo +
				`'><feature var='urn:xmpp:mam:2'/></query></iq>`, true
		case start.Name.Local == "iq" && strings.Contains(s, wire.NSMAM):
			m := qidRe.FindStringSubmatch(s)
			if m == nil || !regexp.MustCompile(`<after[^>]*>A0</after>`).MatchString(s) {
				t.Errorf("archive query %s: want one after the mark A0", s)
				return "", true
			}
			queries <- query{attr(start, "id"), m[1]}
			return "", true
		}
		return "", false
	}
	p, fs := pipeAccountWith(t, true, answer, func(pr *Profile) {
		if err := pr.SetArchiveMark("alice@localhost", "A0"); err != nil {
			t.Fatal(err)
		}
	})
	var q query
	select {
	case q = <-queries:
	case <-time.After(10 * time.Second):
		t.Fatal("no archive query")
	}
	result := func(from, qid, id, inner string) string {
		if from != "" {
			from = ` from='` + from + `'`
		}
		return `<message xmlns='jabber:client' to='alice@localhost/sotto'` + from + `><result xmlns='urn:xmpp:mam:2' queryid='` + qid +
			`' id='` + id + `'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05Z'/>` +
			inner + `</forwarded></result></message>`
	}
	bob := func(id, body, extra string) string {
		return `<message xmlns='jabber:client' from='bob@localhost/x' to='alice@localhost' type='chat' id='` + id + `'><body>` +
			body + `</body>` + extra + `</message>`
	}
	fs.send(result("bob@localhost/x", q.qid, "F1", bob("f1", "forged archive", "")))
	fs.send(result("", "not-ours", "F2", bob("f2", "wrong query", "")))
	fs.send(result("", q.qid, "A1", bob("m1", "archived one", "")))
	// A live line whose stanza-id is bob's, not our server's: it says
	// nothing about our archive.
	fs.send(bob("live1", "live", `<stanza-id xmlns='urn:xmpp:sid:0' by='bob@localhost' id='A2'/>`))
	fs.send(result("alice@localhost", q.qid, "A2", bob("m2", "archived two", "")))
	// A live line our server archived as A3: its archived copy is skipped.
	fs.send(bob("m3", "live three", `<stanza-id xmlns='urn:xmpp:sid:0' by='alice@localhost' id='A3'/>`))
	fs.send(result("", q.qid, "A3", bob("m3", "live three", "")))
	fs.send(result("", q.qid, "A4", bob("o1", "?OTR:AAMDJ+MVmSfjFZcAAAAAAQAAAAIAAADA", "")))
	fs.send(result("", q.qid, "A5", bob("o2", "?OTR:AAMDJ+MVmSfjFZcAAAAAAgAAAAIAAADA", "")))
	fs.send(result("", q.qid, "A6", bob("o3", "?OTRv3?", "")))
	fs.send(`<iq xmlns='jabber:client' type='result' id='` + q.id + `'><fin xmlns='urn:xmpp:mam:2' complete='true'>` +
		`<set xmlns='http://jabber.org/protocol/rsm'><first>A1</first><last>A6</last></set></fin></iq>`)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if mk, _ := p.profile.ArchiveMark("alice@localhost"); mk == "A6" {
			break // the page's end was handled, so everything before it
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mark never moved to A6; events:\n%s", dump(p.rec.all()))
		}
	}

	var got []string
	for _, e := range p.rec.all() {
		if m, ok := e.(MessageReceived); ok {
			got = append(got, m.Body)
		}
	}
	if want := []string{"archived one", "live", "archived two", "live three"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("shown %q, want %q", got, want)
	}
	otr := p.count(0, func(e Event) bool {
		n, ok := e.(Notice)
		return ok && strings.Contains(n.Text, "private (OTR) message from bob@localhost came while Sotto was offline")
	})
	if otr != 1 {
		t.Fatalf("%d lines about archived OTR, want 1; events:\n%s", otr, dump(p.rec.all()))
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, s := range fs.got {
		if strings.HasPrefix(s, "<message") && strings.Contains(s, "?OTR") {
			t.Fatalf("the client answered archived OTR: %s", s)
		}
	}
}

// TestOMEMOMAMCatchUpSavesPerPage: a catch-up writes the OMEMO state once
// per page of the archive, not once per line (each save writes and syncs
// the whole state), and still before the archive mark moves: after a
// restart nothing is read twice and the session goes on.
func TestOMEMOMAMCatchUpSavesPerPage(t *testing.T) {
	srv, a, b1, b2, aj, bj, bpw := mamTrio(t)
	a.knows(bj, b1.ownID(), b2.ownID())
	hello := "hello " + randomID()
	sendOK(t, a, bj, hello)
	b2.waitFor(0, hello, omemoLine(aj, hello))
	b2.stop()
	mk, _ := b2.profile.ArchiveMark(bj)
	const n = 20
	var missed []string
	for i := range n {
		body := "missed " + strconv.Itoa(i) + " " + randomID()
		sendOK(t, a, bj, body)
		b1.waitFor(0, body, omemoLine(aj, body)) // read live by b1: nothing in offline storage
		missed = append(missed, body)
	}
	saves := func(d *device) int {
		var got int
		if err := d.m.omemoCall(ctxT(t), bj, func(c *client, o *omemoAccount) error { got = o.saves; return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	restart := func() {
		b2 = startDevice(t, srv, bj, bpw, "b2", deviceOpts{policy: Always, dir: b2.profile.Dir, secrets: b2.secrets})
	}
	restart()
	mk = b2.archiveMark(mk, true)
	live := "live " + randomID()
	sendOK(t, a, bj, live)
	b2.waitFor(0, live, omemoLine(aj, live)) // sentinel: the catch-up was handled
	for _, body := range missed {
		if c := b2.count(0, omemoLine(aj, body)); c != 1 {
			t.Fatalf("%q shown %d times", body, c)
		}
	}
	// The sign-in itself saves a few times (bundle, lists, the live line);
	// one save per archived line would be at least n.
	if s := saves(b2); s >= n/2 {
		t.Fatalf("%d saves of the OMEMO state for a catch-up of %d lines in one page", s, n)
	} else {
		t.Logf("%d saves of the OMEMO state for a sign-in with %d archived lines", s, n)
	}
	b2.stop()
	restart()
	b2.archiveMark("", true)
	again := "after the restart " + randomID()
	sendOK(t, a, bj, again)
	b2.waitFor(0, again, omemoLine(aj, again))
	for _, body := range append(missed, live) {
		if c := b2.count(0, omemoLine(aj, body)); c != 0 {
			t.Fatalf("%q read again after the restart", body)
		}
	}
	b2.never(0, "an undecryptable notice", undecryptable)
}
