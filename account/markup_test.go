package account

// Pidgin's HTML in OTR plaintext, against raw clients over Prosody that
// run our OTR engine and behave like libpurple (caps node
// http://pidgin.im/, HTML inside OTR) or like profanity (plain text).

import (
	"slices"
	"testing"

	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/internal/testbed"
	"github.com/sotto-im/sotto/otr"
)

// Caps nodes as the clients send them (libpurple 2.14; profanity 0.13).
const (
	pidginNode    = "http://pidgin.im/"
	profanityNode = "http://profanity-im.github.io"
)

// rawOTRPeer logs user in raw on res, sends Alice a directed presence
// with the caps node (none if ""), and goes private with her.
func rawOTRPeer(t *testing.T, srv *testbed.Server, a *peer, user, res, node string) *otrPeer {
	t.Helper()
	_, pw := srv.AddUser(t, user)
	r := loginRaw(t, srv, user+"@localhost", pw, res)
	pres := wire.OutPresence{To: a.jid}
	if node != "" {
		pres.Caps = &wire.Caps{Hash: "sha-1", Node: node, Ver: "AcN1/PEN8nq7AHD+9jpxMV4U6YM="}
	}
	if err := r.sess.Encode(r.ctx, pres); err != nil {
		t.Fatal(err)
	}
	p := newOTRPeer(t, r, a.jid+"/"+wire.DefaultResource)
	mark := a.rec.mark()
	p.sendAll(p.conv.Query().Send)
	p.pump("AKE with alice", func() bool { return p.conv.State() == otr.StateEncrypted })
	a.waitFor(mark, user+" private", isLevel(user+"@localhost", Unverified))
	return p
}

// TestHTMLFromLibpurplePeer: what a libpurple peer puts in OTR is shown
// as text: entities decoded, tags dropped, <br> as a newline, links as
// text with a differing address shown — never as markup.
func TestHTMLFromLibpurplePeer(t *testing.T) {
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool()})
	a.connect()
	bob := rawOTRPeer(t, srv, a, "bob", "pidgin", pidginNode)
	for _, tc := range []struct{ sent, shown string }{
		{"a &lt; b &amp; c &gt; d", "a < b & c > d"}, // seen from Pidgin 2.14
		{"plain <b>boldword</b> end", "plain boldword end"},
		{`<a href="https://sotto.im/">https://sotto.im/</a>`, "https://sotto.im/"},
		{`<a href="https://evil.example/">your bank</a>`, "your bank (https://evil.example/)"},
		{"first<br>second", "first\nsecond"},
		{`<font color="#0000FF">blue</font>&nbsp;text`, "blue text"},
		{"<b><i>nested <u>broken</b> tags", "nested broken tags"},
		{"<script>alert(1)</script> shown as text", "alert(1) shown as text"},
		{"1 <2 and 3> 0", "1 <2 and 3> 0"}, // no HTML in it: left alone
	} {
		mark := a.rec.mark()
		bob.encrypt(tc.sent)
		m := a.waitFor(mark, "bob's line "+tc.shown, func(e Event) bool {
			m, ok := e.(MessageReceived)
			return ok && m.Conv.Peer == "bob@localhost"
		}).(MessageReceived)
		if m.Body != tc.shown || !m.Encrypted {
			t.Errorf("bob sent %q inside OTR; alice shows %q (encrypted %v), want %q", tc.sent, m.Body, m.Encrypted, tc.shown)
		}
	}
}

// TestHTMLToLibpurplePeer: what Alice types reaches a libpurple peer
// escaped (so Pidgin shows it as typed), a peer learned to be one from
// the HTML it sent too, and a profanity-like peer gets it as typed.
func TestHTMLToLibpurplePeer(t *testing.T) {
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool()})
	a.connect()
	bob := rawOTRPeer(t, srv, a, "bob", "pidgin", pidginNode)
	carol := rawOTRPeer(t, srv, a, "carol", "profanity", profanityNode)
	dave := rawOTRPeer(t, srv, a, "dave", "adium", "") // no caps: learned from what he sends
	mark := a.rec.mark()
	dave.encrypt("hi <b>alice</b>")
	a.waitFor(mark, "dave's bold line", isMsg("dave@localhost", "hi alice"))

	typed := []string{
		"a < b & c > d",
		"lost? 1 <2 and 3> 0 <script>alert(1)</script> done",
		"tags <b>bold?</b> &amp; entity",
		"two\nlines",
	}
	escaped := []string{
		"a &lt; b &amp; c &gt; d",
		"lost? 1 &lt;2 and 3&gt; 0 &lt;script&gt;alert(1)&lt;/script&gt; done",
		"tags &lt;b&gt;bold?&lt;/b&gt; &amp;amp; entity",
		"two<br>lines",
	}
	for _, tc := range []struct {
		p    *otrPeer
		res  string
		want []string
	}{{bob, "pidgin", escaped}, {dave, "adium", escaped}, {carol, "profanity", typed}} {
		user := tc.p.jid[:len(tc.p.jid)-len("@localhost/"+tc.res)]
		conv := Conversation{Account: a.jid, Peer: user + "@localhost", Resource: tc.res}
		for _, s := range typed {
			id, err := a.m.Send(ctxT(t), conv, s)
			if err != nil {
				t.Fatal(err)
			}
			e := a.waitFor(0, "sent to "+user, func(e Event) bool {
				m, ok := e.(MessageStateChanged)
				// Sending: written, not yet acknowledged (XEP-0198).
				return ok && m.ID == id && m.State != Queued && m.State != Sending
			}).(MessageStateChanged)
			if e.State != SentEncrypted || e.Body != s {
				t.Fatalf("to %s: %+v, want SentEncrypted with the text as typed", user, e)
			}
		}
		tc.p.pump(user+"'s lines", func() bool { return len(tc.p.plain) >= len(typed) })
		if !slices.Equal(tc.p.plain, tc.want) {
			t.Errorf("%s (%s) received\n%q\nwant\n%q", user, tc.res, tc.p.plain, tc.want)
		}
	}
	assertNoPlaintext(t, srv, "alert(1)", "bold?")
}
