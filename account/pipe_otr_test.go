package account

// OTR routing at pipe level: the test plays bob with its own
// otr.Conversation(s) behind the fake server.

import (
	"crypto/rand"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/sotto-im/sotto/otr"
)

// testBob is one OTR instance of bob on a resource.
type testBob struct {
	t    *testing.T
	fs   *fakeServer
	res  string
	conv *otr.Conversation
	seen int // how many client stanzas were looked at
	got  []otr.Result
}

func newTestBob(t *testing.T, fs *fakeServer, res string) *testBob {
	k, err := otr.GenerateKey(randReader{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := otr.NewConversation(otr.NewConfig(k, otr.PolicyOpportunistic))
	if err != nil {
		t.Fatal(err)
	}
	return &testBob{t: t, fs: fs, res: res, conv: c}
}

type randReader struct{}

func (randReader) Read(b []byte) (int, error) { return cryptoRand(b) }

// deliver sends bob's wire messages to alice from bob@localhost/res.
func (b *testBob) deliver(wire [][]byte) {
	for _, w := range wire {
		var esc strings.Builder
		_ = xml.EscapeText(&esc, w)
		b.fs.send(`<message xmlns='jabber:client' type='chat' from='bob@localhost/` + b.res +
			`' to='alice@localhost/sotto'><body>` + esc.String() + `</body></message>`)
	}
}

// pump feeds every message alice sent to bob/res into bob's conversation
// and delivers bob's answers, until cond holds.
func (b *testBob) pump(what string, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			b.t.Fatalf("bob/%s: timed out waiting for %s", b.res, what)
		}
		b.fs.mu.Lock()
		got := append([]string(nil), b.fs.got[b.seen:]...)
		b.seen = len(b.fs.got)
		b.fs.mu.Unlock()
		for _, s := range got {
			var m struct {
				XMLName xml.Name
				To      string `xml:"to,attr"`
				Body    string `xml:"body"`
			}
			if xml.Unmarshal([]byte(s), &m) != nil || m.XMLName.Local != "message" || m.To != "bob@localhost/"+b.res {
				continue
			}
			r, err := b.conv.Receive([]byte(m.Body))
			if err != nil {
				b.t.Fatalf("bob Receive: %v", err)
			}
			b.got = append(b.got, r)
			b.deliver(r.Send)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPipeOTRRoutesByResourceAndInstance(t *testing.T) {
	p, fs := pipeAccount(t)
	fs.send(`<presence xmlns='jabber:client' from='bob@localhost/laptop'/>`)
	bob := newTestBob(t, fs, "laptop")
	laptop := Conversation{Account: p.jid, Peer: "bob@localhost", Resource: "laptop"}
	if err := p.m.StartPrivate(ctxT(t), laptop); err != nil {
		t.Fatal(err)
	}
	bob.pump("AKE", func() bool { return bob.conv.State() == otr.StateEncrypted })
	p.waitFor(0, "alice private with laptop", func(e Event) bool {
		s, ok := e.(SecurityChanged)
		return ok && s.Conv == laptop && s.Level == Unverified
	})

	// bob's phone writes in plain: a separate conversation, the laptop
	// session is untouched.
	fs.send(`<message xmlns='jabber:client' type='chat' from='bob@localhost/phone'><body>plain from phone</body></message>`)
	m := p.waitFor(0, "phone message", isMsg("bob@localhost", "plain from phone")).(MessageReceived)
	if m.Conv.Resource != "phone" || m.Encrypted {
		t.Fatalf("phone message %+v", m)
	}

	// A second OTR instance on the same resource (bob started another
	// client with the same resource name) begins its own AKE: a D-H Commit
	// with a different sender instance tag. Alice must answer it in a
	// separate otr.Conversation and keep the laptop session.
	bob2 := newTestBob(t, fs, "laptop")
	bob2.seen = 1 << 30 // bob2 never reads; only its D-H Commit matters
	q, err := bob2.conv.Receive([]byte("?OTRv3?"))
	if err != nil || len(q.Send) == 0 {
		t.Fatalf("bob2 could not start an AKE: %v", err)
	}
	r, err := bob.conv.Send([]byte("from the real laptop session"))
	if err != nil {
		t.Fatal(err)
	}
	bob2.deliver(q.Send)
	bob.deliver(r.Send)
	fs.waitGot("a D-H Key for the second instance", func(string) bool {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		return strings.Count(strings.Join(fs.got, ""), "?OTR:AAMK") >= 2 // v3 D-H Key: 00 03 0a
	})
	got := p.waitFor(0, "message from the real session", isMsg("bob@localhost", "from the real laptop session")).(MessageReceived)
	if !got.Encrypted || got.Conv.Resource != "laptop" {
		t.Fatalf("%+v", got)
	}
	if s := p.m.Security(laptop); s.Level != Unverified {
		t.Fatalf("laptop session after the other instance: %+v", s)
	}
	// And alice's answer still decrypts for the original instance.
	if _, err := p.m.Send(ctxT(t), laptop, "still here"); err != nil {
		t.Fatal(err)
	}
	bob.pump("alice's reply", func() bool {
		for _, r := range bob.got {
			if string(r.Plaintext) == "still here" && r.Encrypted {
				return true
			}
		}
		return false
	})
	if strings.Contains(strings.Join(fs.got, ""), "still here") {
		t.Fatal("alice's reply went out in the clear")
	}
}

func cryptoRand(b []byte) (int, error) { return rand.Read(b) }
