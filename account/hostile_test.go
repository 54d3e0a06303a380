package account

// A hostile peer on the Prosody test bed. Alice (a Manager) is in a
// private conversation with Bob (another Manager) and has verified him.
// Mallory, a raw mellium client with its own OTR engine, and a second
// login on Bob's account ("an unknown resource") send everything a
// hostile peer can; inject() plays a malicious server that forges stanzas
// from Bob's real address. Alice must never crash, never show attacker
// text as an encrypted message from Bob, say what happened in a Notice,
// keep her memory bounded, and keep the conversation with Bob working.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/ping"

	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/internal/testbed"
	"github.com/sotto-im/sotto/otr"
)

// rawClient is a bare XMPP login that sends whatever the test writes.
type rawClient struct {
	t    *testing.T
	ctx  context.Context
	sess *xmpp.Session
	jid  string // full JID

	mu  sync.Mutex
	got []wire.Message
}

// loginRaw logs user in on resource res (TLS, SCRAM, our own bind).
func loginRaw(t *testing.T, srv testbed.XMPP, user, pw, res string) *rawClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	sess, err := xmpp.NewClientSession(ctx, jid.MustParse(user), conn,
		xmpp.StartTLS(srv.TLSConfig()), xmpp.SASL("", pw, sasl.ScramSha1), wire.BindFeature(res, nil))
	if err != nil {
		conn.Close()
		t.Fatalf("raw login %s: %v", user, err)
	}
	r := &rawClient{t: t, sess: sess, jid: sess.LocalAddr().String(), ctx: ctx}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sess.Serve(xmpp.HandlerFunc(func(tr xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			if start.Name.Local != "message" {
				return nil
			}
			var m wire.Message
			d := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), tr))
			if d.Decode(&m) == nil && m.Body != nil {
				r.mu.Lock()
				r.got = append(r.got, m)
				r.mu.Unlock()
			}
			return nil
		}))
	}()
	t.Cleanup(func() {
		_ = sess.Close()
		conn.Close()
		<-done
	})
	return r
}

// send writes one chat message; OTR bodies get no special treatment. The
// context is the test's, never one cancelled per write (see client.write
// for the mellium race that would cause).
func (r *rawClient) send(to, body string) error {
	return r.sess.Encode(r.ctx, wire.OutMessage{ID: randomID(), To: to, Type: "chat", Body: body})
}

func (r *rawClient) mustSend(to, body string) {
	r.t.Helper()
	if err := r.send(to, body); err != nil {
		r.t.Fatalf("%s: send: %v", r.jid, err)
	}
}

func (r *rawClient) presence() {
	r.t.Helper()
	if err := r.sess.Encode(r.ctx, wire.OutPresence{}); err != nil {
		r.t.Fatal(err)
	}
}

// presenceTo sends directed presence to to: the raw client is online for
// that one contact without a subscription. A ping after it returns once
// to has handled the presence (one stream, in order).
func (r *rawClient) presenceTo(to string) {
	r.t.Helper()
	if err := r.sess.Encode(r.ctx, wire.OutPresence{To: to}); err != nil {
		r.t.Fatal(err)
	}
	if err := ping.Send(r.ctx, r.sess, jid.MustParse(to)); err != nil {
		r.t.Fatalf("ping %s after presence: %v", to, err)
	}
}

// next returns the bodies received since *seen and advances it.
func (r *rawClient) next(seen *int) []wire.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]wire.Message(nil), r.got[*seen:]...)
	*seen = len(r.got)
	return out
}

// otrPeer is Mallory's OTR engine on top of a raw client.
type otrPeer struct {
	*rawClient
	to   string
	rand *switchRand
	conv *otr.Conversation
	seen int
	// plain is every message the engine decrypted, in order.
	plain []string
	// wire is every data message Mallory sent, for replays.
	wire []string
}

// switchRand is crypto/rand until zero is set; then it reads zeros
// (Mallory uses that to build SMP values out of range).
type switchRand struct {
	mu   sync.Mutex
	zero bool
}

func (s *switchRand) Read(b []byte) (int, error) {
	s.mu.Lock()
	z := s.zero
	s.mu.Unlock()
	if z {
		clear(b)
		return len(b), nil
	}
	return rand.Read(b)
}

func newOTRPeer(t *testing.T, r *rawClient, to string) *otrPeer {
	t.Helper()
	k, err := otr.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sr := &switchRand{}
	cfg := otr.NewConfig(k, otr.PolicyManual)
	cfg.Rand = sr
	c, err := otr.NewConversation(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &otrPeer{rawClient: r, to: to, rand: sr, conv: c}
}

func (p *otrPeer) sendAll(wire [][]byte) {
	p.t.Helper()
	for _, w := range wire {
		p.mustSend(p.to, string(w))
	}
}

// pump feeds what arrived to the engine and sends its answers until cond
// holds.
func (p *otrPeer) pump(what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			p.t.Fatalf("mallory: timed out waiting for %s", what)
		}
		for _, m := range p.next(&p.seen) {
			res, err := p.conv.Receive([]byte(*m.Body))
			if err != nil {
				p.t.Fatal(err)
			}
			if res.Encrypted {
				p.plain = append(p.plain, string(res.Plaintext))
			}
			p.sendAll(res.Send)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// encrypt sends text as a data message and returns the wire form.
func (p *otrPeer) encrypt(text string) string {
	p.t.Helper()
	res, err := p.conv.Send([]byte(text))
	if err != nil || len(res.Send) != 1 {
		p.t.Fatalf("mallory: Send: %v (%d messages)", err, len(res.Send))
	}
	p.sendAll(res.Send)
	p.wire = append(p.wire, string(res.Send[0]))
	return string(res.Send[0])
}

// hostileBed: Alice and Bob private, Alice has verified Bob; Mallory
// logged in raw.
type hostileBed struct {
	srv      *testbed.Server
	a, b     *peer
	mallory  *rawClient
	aliceRes string // Alice's full JID
	bobFull  string
}

func newHostileBed(t *testing.T) *hostileBed {
	t.Helper()
	return newHostileBedWith(t, peerOpts{})
}

// newHostileBedWith is newHostileBed with options for Alice.
func newHostileBedWith(t *testing.T, alice peerOpts) *hostileBed {
	t.Helper()
	srv, a, b := privatePair(t, alice, peerOpts{})
	ctx := ctxT(t)
	fb, _ := b.m.OwnFingerprint(ctx, b.jid)
	mark := a.rec.mark()
	if err := a.m.SetVerified(ctx, a.jid, b.jid, fb, true); err != nil {
		t.Fatal(err)
	}
	a.waitFor(mark, "alice verified bob", isLevel(b.jid, Private))
	_, mpw := srv.AddUser(t, "mallory")
	m := loginRaw(t, srv, "mallory@localhost", mpw, "evil")
	return &hostileBed{srv: srv, a: a, b: b, mallory: m,
		aliceRes: a.jid + "/" + wire.DefaultResource, bobFull: b.jid + "/" + wire.DefaultResource}
}

// bobConv is the verified conversation as Alice's events name it.
func (h *hostileBed) bobConv() Conversation {
	return Conversation{Account: h.a.jid, Peer: h.b.jid, Resource: wire.DefaultResource}
}

// genuine sends a message from Bob to Alice and checks it arrives
// encrypted: the conversation survived.
func (h *hostileBed) genuine(t *testing.T, text string) {
	t.Helper()
	mark := h.a.rec.mark()
	if _, err := h.b.m.Send(ctxT(t), h.b.conv(h.a), text); err != nil {
		t.Fatal(err)
	}
	m := h.a.waitFor(mark, "genuine message", isMsg(h.b.jid, text)).(MessageReceived)
	if !m.Encrypted {
		t.Fatalf("genuine message not encrypted: %+v", m)
	}
	if s := h.a.m.Security(h.bobConv()); s.Level != Private {
		t.Fatalf("alice's conversation with bob is %v, want Private", s.Level)
	}
}

// noForgedPrivate fails if anything but the genuine texts arrived as an
// encrypted message from Bob, or Bob's conversation left Private.
func (h *hostileBed) noForgedPrivate(t *testing.T, genuine ...string) {
	t.Helper()
	ok := map[string]bool{}
	for _, g := range genuine {
		ok[g] = true
	}
	h.a.never(0, "attacker text as Bob's private message", func(e Event) bool {
		switch e := e.(type) {
		case MessageReceived:
			return e.Encrypted && e.Conv.Peer == h.b.jid && !ok[e.Body]
		case SecurityChanged:
			return e.Conv.Peer != h.b.jid && e.Level == Private
		}
		return false
	})
}

// notices returns the texts of Alice's notices since mark.
func notices(p *peer, mark int) []string {
	var out []string
	for _, e := range p.rec.all()[mark:] {
		if n, ok := e.(Notice); ok {
			out = append(out, n.Text)
		}
	}
	return out
}

func waitNotice(p *peer, mark int, sub string) Notice {
	p.t.Helper()
	return p.waitFor(mark, "notice with "+sub, func(e Event) bool {
		n, ok := e.(Notice)
		return ok && strings.Contains(n.Text, sub)
	}).(Notice)
}

// sentinel sends a plain message from r and waits until Alice shows it:
// everything r sent before has been processed.
func (h *hostileBed) sentinel(t *testing.T, r *rawClient, text string) {
	t.Helper()
	r.mustSend(h.aliceRes, text)
	h.a.waitFor(0, "sentinel "+text, func(e Event) bool {
		m, ok := e.(MessageReceived)
		return ok && m.Body == text
	})
}

// inject hands Alice's loop a message as if the server had delivered it
// from `from`: the malicious-server case, where the from address is
// whatever the attacker wants.
func inject(t *testing.T, p *peer, from, body string) {
	t.Helper()
	c, err := p.m.client(p.jid)
	if err != nil {
		t.Fatal(err)
	}
	err = c.call(ctxT(t), func(reply func(error)) {
		c.handleMessage(&wire.Message{From: from, Type: "chat", Body: &body})
		reply(nil)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// instanceTags returns Alice's and Bob's instance tags of the conversation
// with Bob as Alice holds them.
func instanceTags(t *testing.T, p *peer, peerJID, res string) (ours, theirs uint32) {
	t.Helper()
	c, _ := p.m.client(p.jid)
	_ = c.call(ctxT(t), func(reply func(error)) {
		if pc, ok := c.convs[peerKey{peerJID, res}]; ok {
			cur := pc.e2e.(*otrSession).peer.Current()
			ours, theirs = cur.OurInstanceTag(), cur.PeerInstanceTag()
		}
		reply(nil)
	})
	if ours == 0 || theirs == 0 {
		t.Fatalf("no v3 conversation with %s/%s", peerJID, res)
	}
	return ours, theirs
}

func frag(sender, receiver uint32, k, n int, piece string) string {
	return fmt.Sprintf("?OTR|%08x|%08x,%05d,%05d,%s,", sender, receiver, k, n, piece)
}

func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

func TestHostilePeerMalformedOTR(t *testing.T) {
	h := newHostileBed(t)
	a, to := h.a, h.aliceRes
	mal := newOTRPeer(t, h.mallory, to)

	// Garbage before any session.
	mark := a.rec.mark()
	mal.mustSend(to, "?OTR:!!!this is not base64!!!.")
	mal.mustSend(to, "?OTR:"+base64.StdEncoding.EncodeToString([]byte{0, 4, 3, 1, 2, 3, 4, 5, 6, 7, 8})+".") // version 4
	mal.mustSend(to, "?OTR:"+base64.StdEncoding.EncodeToString([]byte{0, 1, 3, 9, 9, 9})+".")                // version 1
	mal.mustSend(to, "?OTR:AAMD.")                                                                           // truncated header
	mal.mustSend(to, "?OTR:"+base64.StdEncoding.EncodeToString(append([]byte{0, 3, 3, 0, 0, 1, 0, 0, 0, 0x99, 0x99}, make([]byte, 40)...))+".")
	h.sentinel(t, h.mallory, "sentinel 1")
	waitNotice(a, mark, "bad base64")
	waitNotice(a, mark, "truncated")
	t.Logf("garbage before a session: %d notices: %q", len(notices(a, mark)), notices(a, mark))

	// Mallory goes private with Alice (unverified, of course).
	mark = a.rec.mark()
	mal.sendAll(mal.conv.Query().Send)
	mal.pump("AKE with alice", func() bool { return mal.conv.State() == otr.StateEncrypted })
	sec := a.waitFor(mark, "alice private with mallory", isLevel("mallory@localhost", Unverified)).(SecurityChanged)
	if sec.Verified {
		t.Fatal("mallory verified")
	}
	mal.encrypt("hello from mallory")
	m := a.waitFor(mark, "mallory's message", isMsg("mallory@localhost", "hello from mallory")).(MessageReceived)
	if m.Conv.Peer != "mallory@localhost" {
		t.Fatalf("filed under %+v", m.Conv)
	}

	// Replayed data message: same counter.
	mark = a.rec.mark()
	mal.mustSend(to, mal.wire[0])
	waitNotice(a, mark, "replay")
	// Tampered: flip a byte inside the ciphertext; the MAC fails.
	bin, _ := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(mal.encrypt("to be tampered"), "?OTR:"), "."))
	a.waitFor(mark, "untampered", isMsg("mallory@localhost", "to be tampered"))
	bin[len(bin)-30] ^= 0xff
	mal.mustSend(to, "?OTR:"+base64.StdEncoding.EncodeToString(bin)+".")
	// Wrong instance tags: a copy addressed to another instance of Alice.
	wrong := append([]byte(nil), bin...)
	wrong[7], wrong[8], wrong[9], wrong[10] = 0x00, 0x00, 0x01, 0x01
	mal.mustSend(to, "?OTR:"+base64.StdEncoding.EncodeToString(wrong)+".")
	// Out-of-order and malformed fragments.
	mt, at := mal.conv.OurInstanceTag(), mal.conv.PeerInstanceTag()
	mal.mustSend(to, frag(mt, at, 2, 3, "BBBB"))
	mal.mustSend(to, frag(mt, at, 1, 3, "?OTR:AAMD"))
	mal.mustSend(to, frag(mt, at, 3, 3, "CCCC"))
	mal.mustSend(to, frag(mt, at, 4, 3, "DDDD"))
	mal.mustSend(to, "?OTR|zz|yy,1,2,x,")
	// A 200 KB fragment (under Prosody's 256 KiB stanza limit), never finished.
	mal.mustSend(to, frag(mt, at, 1, 2, "?OTR:"+strings.Repeat("A", 200<<10)))
	h.sentinel(t, h.mallory, "sentinel 2")
	waitNotice(a, mark, "bad MAC")
	waitNotice(a, mark, "out of sequence")
	waitNotice(a, mark, "malformed fragment")
	t.Logf("replay/tamper/fragments: %d notices: %q", len(notices(a, mark)), notices(a, mark))

	// SMP with values out of range: Mallory's random source returns zeros,
	// so g2a = g^0 = 1.
	mark = a.rec.mark()
	mal.rand.mu.Lock()
	mal.rand.zero = true
	mal.rand.mu.Unlock()
	res, err := mal.conv.Authenticate("", []byte("guess"))
	mal.rand.mu.Lock()
	mal.rand.zero = false
	mal.rand.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	mal.sendAll(res.Send)
	r := a.waitFor(mark, "SMP result", func(e Event) bool { _, ok := e.(SMPResult); return ok }).(SMPResult)
	if r.Outcome != SMPCheated || r.Conv.Peer != "mallory@localhost" {
		t.Fatalf("SMP with g2a = 1: %+v, want cheated", r)
	}
	a.never(mark, "SMP request for bad values", func(e Event) bool { _, ok := e.(SMPRequested); return ok })

	// A carbon forged by Mallory claiming Bob sent Alice something.
	carbon := `<message xmlns='jabber:client' to='` + to + `'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
		`<message xmlns='jabber:client' from='` + h.bobFull + `' to='` + to + `' type='chat'><body>forged carbon from bob</body></message>` +
		`</forwarded></received></message>`
	if err := h.mallory.sess.Send(h.mallory.ctx, xml.NewDecoder(strings.NewReader(carbon))); err != nil {
		t.Fatal(err)
	}
	h.sentinel(t, h.mallory, "sentinel 3")
	a.never(0, "forged carbon", func(e Event) bool {
		m, ok := e.(MessageReceived)
		return ok && strings.Contains(m.Body, "forged carbon")
	})

	// Through all of it: Bob's conversation is untouched and still works.
	h.noForgedPrivate(t)
	h.genuine(t, "still private after mallory")
	assertNoPlaintext(t, h.srv, "still private after mallory")
}

func TestHostileUnknownResourceCannotDowngrade(t *testing.T) {
	h := newHostileBed(t)
	a := h.a
	bpw, err := h.b.secrets.Get(context.Background(), passwordKey(h.b.jid))
	if err != nil {
		t.Fatal(err)
	}
	// Bob's account, another resource: stolen password, or a malicious
	// server (which can claim any from address).
	evil := loginRaw(t, h.srv, h.b.jid, string(bpw), "evil")
	evil.presence()
	mark := a.rec.mark()
	evil.mustSend(h.aliceRes, "it's me, Bob, on my new phone. what's the code?")
	evil.mustSend(h.aliceRes, "?OTR:AAMDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=.")
	got := a.waitFor(mark, "message from the unknown resource", isMsg(h.b.jid, "it's me, Bob, on my new phone. what's the code?")).(MessageReceived)
	if got.Encrypted || got.Conv.Resource != "evil" {
		t.Fatalf("message from bob/evil shown as %+v", got)
	}
	h.noForgedPrivate(t)

	// The UI files that message under Bob's chat and may now address the
	// chat to bob/evil, or leave the resource empty. Either way, what
	// Alice types in her private chat with Bob must not go out in the
	// clear.
	secret1, secret2 := "the code is 4711", "the vault opens at 9"
	ctx := ctxT(t)
	id1, err := a.m.Send(ctx, Conversation{Account: a.jid, Peer: h.b.jid, Resource: "evil"}, secret1)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := a.m.Send(ctx, Conversation{Account: a.jid, Peer: h.b.jid}, secret2)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{id1, id2} {
		st := a.waitFor(mark, "fate of "+id, func(e Event) bool {
			m, ok := e.(MessageStateChanged)
			return ok && m.ID == id && m.State != Queued && m.State != Sending
		}).(MessageStateChanged)
		t.Logf("%q to %s: %v %s", st.Body, st.Conv.Resource, st.State, st.Reason)
		if st.State == SentPlain {
			t.Fatalf("message typed in a private chat sent in the clear to %+v", st.Conv)
		}
	}
	for _, s := range []string{secret1, secret2} {
		if m := h.b.waitFor(0, "bob gets "+s, isMsg(a.jid, s)).(MessageReceived); !m.Encrypted {
			t.Fatalf("bob got %+v", m)
		}
	}
	assertNoPlaintext(t, h.srv, secret1, secret2)
	h.genuine(t, "bob is still bob")
}

// TestHostileServerForgesFromBob: the server (or anyone who can make it
// deliver stanzas from Bob's full JID) replays, tampers with and
// injects messages in the verified conversation itself.
func TestHostileServerForgesFromBob(t *testing.T) {
	h := newHostileBed(t)
	a := h.a
	h.genuine(t, "first genuine")
	h.genuine(t, "second genuine")
	// Bob's last data message as the server relayed it.
	var last string
	for _, line := range strings.Split(h.srv.StanzaLog(), "\n") {
		if strings.Contains(line, "from='"+h.bobFull) || strings.Contains(line, `from="`+h.bobFull) {
			if i := strings.Index(line, "<body>?OTR:AAMD"); i >= 0 {
				j := strings.Index(line[i:], "</body>")
				last = line[i+len("<body>") : i+j]
			}
		}
	}
	if last == "" {
		t.Fatal("no data message from bob in the stanza log")
	}
	mark := a.rec.mark()
	inject(t, a, h.bobFull, last) // replay
	waitNotice(a, mark, "replay")
	bin, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(last, "?OTR:"), "."))
	if err != nil {
		t.Fatal(err)
	}
	bin[len(bin)-30] ^= 0x01
	inject(t, a, h.bobFull, "?OTR:"+base64.StdEncoding.EncodeToString(bin)+".")
	waitNotice(a, mark, "bad MAC")
	// Plaintext "from Bob" in the middle of a private conversation.
	inject(t, a, h.bobFull, "please send the code in plain, otr is broken")
	m := a.waitFor(mark, "injected plaintext", isMsg(h.b.jid, "please send the code in plain, otr is broken")).(MessageReceived)
	if m.Encrypted {
		t.Fatal("injected plaintext shown as encrypted")
	}
	waitNotice(a, mark, "unencrypted")
	// A forged "Bob ended the conversation" is just another data message
	// without the keys: unreadable, the session stays.
	inject(t, a, h.bobFull, "?OTR:AAMDAAAAAAAAAAABAAAAAQAAAAEAAAAA.")
	t.Logf("forgeries from bob's address: %q", notices(a, mark))
	h.noForgedPrivate(t, "first genuine", "second genuine", "after forgeries")
	h.genuine(t, "after forgeries")
}

func TestHostileFragmentFloodMemoryBounded(t *testing.T) {
	h := newHostileBed(t)
	a := h.a
	mal := newOTRPeer(t, h.mallory, h.aliceRes)
	mal.sendAll(mal.conv.Query().Send)
	mal.pump("AKE with alice", func() bool { return mal.conv.State() == otr.StateEncrypted })
	mt, at := mal.conv.OurInstanceTag(), mal.conv.PeerInstanceTag()
	base := heapInuse()
	mark := a.rec.mark()

	// 10,000 fragments of one message through the server: 1 MB in
	// 100-byte pieces, more than the reassembly bound.
	const pieces = 10000
	start := time.Now()
	piece := strings.Repeat("A", 100)
	for k := 1; k <= pieces; k++ {
		mal.mustSend(h.aliceRes, frag(mt, at, k, pieces, piece))
	}
	h.sentinel(t, h.mallory, "after the flood")
	n := notices(a, mark)
	t.Logf("%d fragments via prosody processed in %v; alice showed %d notices", pieces,
		time.Since(start).Round(time.Millisecond), len(n))
	if len(n) == 0 {
		t.Fatal("no notice for the discarded fragments")
	}
	if len(n) > 50 {
		t.Fatalf("%d notices for one flood: the user is flooded too", len(n))
	}

	// A 10 MB fragment cannot pass Prosody (256 KiB stanza limit: it
	// closes Mallory's stream); a malicious server could send it anyway.
	err := h.mallory.send(h.aliceRes, frag(mt, at, 1, 2, strings.Repeat("B", 10<<20)))
	t.Logf("10 MB fragment through prosody: %v", err)
	ours, theirs := instanceTags(t, a, h.b.jid, wire.DefaultResource)
	mark = a.rec.mark()
	inject(t, a, h.bobFull, frag(theirs, ours, 1, 2, "?OTR:"+strings.Repeat("B", 10<<20)))
	waitNotice(a, mark, "too large")
	// And a flood in the verified conversation itself.
	start = time.Now()
	for k := 1; k <= pieces; k++ {
		inject(t, a, h.bobFull, frag(theirs, ours, k, pieces, piece))
	}
	t.Logf("%d injected fragments from bob's address processed in %v", pieces, time.Since(start).Round(time.Millisecond))
	grown := int64(heapInuse()) - int64(base)
	t.Logf("heap in use grew by %.1f MiB (floods of %d fragments and a 10 MiB fragment)", float64(grown)/(1<<20), pieces)
	if grown > 32<<20 {
		t.Fatalf("heap grew by %d MiB", grown>>20)
	}
	h.noForgedPrivate(t, "survived the flood")
	h.genuine(t, "survived the flood")
	if s := a.m.Security(Conversation{Account: a.jid, Peer: "mallory@localhost", Resource: "evil"}); s.Level != Unverified {
		t.Fatalf("alice's conversation with mallory: %v", s.Level)
	}
}
