package otr

import (
	"bytes"
	"testing"
)

// TestStateTable checks spec §"State transitions" for each message state
// (Bob's) and each kind of received message.
func TestStateTable(t *testing.T) {
	type want struct {
		shown     string // plaintext shown, "" for none
		encrypted bool
		events    []EventKind
		startsAKE bool // a D-H commit is sent
		query     bool // a query is sent
		errReply  bool // an OTR error message is sent
	}
	const (
		plain = "plain"
		tag   = "tagged"
		query = "query"
		errm  = "error"
		data  = "data"
	)
	inputs := []string{plain, tag, query, errm, data}
	table := map[MsgState]map[string]want{
		StatePlaintext: {
			plain: {shown: "hello"},
			tag:   {shown: "hello", startsAKE: true},
			query: {startsAKE: true},
			errm:  {events: []EventKind{EventErrorReceived}, query: true},
			data:  {events: []EventKind{EventUnreadable}, errReply: true},
		},
		StateEncrypted: {
			plain: {shown: "hello", events: []EventKind{EventPlaintextReceived}},
			tag:   {shown: "hello", events: []EventKind{EventPlaintextReceived}, startsAKE: true},
			query: {startsAKE: true},
			errm:  {events: []EventKind{EventErrorReceived}, query: true},
			data:  {shown: "secret", encrypted: true},
		},
		StateFinished: {
			plain: {shown: "hello", events: []EventKind{EventPlaintextReceived}},
			tag:   {shown: "hello", events: []EventKind{EventPlaintextReceived}, startsAKE: true},
			query: {startsAKE: true},
			errm:  {events: []EventKind{EventErrorReceived}, query: true},
			data:  {events: []EventKind{EventUnreadable}, errReply: true},
		},
	}
	for _, st := range []MsgState{StatePlaintext, StateEncrypted, StateFinished} {
		for _, in := range inputs {
			t.Run(st.String()+"/"+in, func(t *testing.T) {
				p := newPair(t, PolicyOpportunistic, PolicyOpportunistic, 0)
				p.secure(p.a)
				res, _ := p.a.c.Send([]byte("secret"))
				msg := map[string][]byte{
					plain: []byte("hello"),
					tag:   append([]byte("hello"), whitespaceTag(PolicyManual)...),
					query: queryMessage(PolicyManual),
					errm:  []byte("?OTR Error: something"),
					data:  res.Send[0],
				}[in]
				switch st {
				case StatePlaintext:
					if _, err := p.b.c.End(); err != nil {
						t.Fatal(err)
					}
				case StateFinished:
					end, _ := p.a.c.End()
					p.deliver(p.a, end.Send)
				}
				if p.b.c.State() != st {
					t.Fatalf("setup: state %v", p.b.c.State())
				}
				r := receiveOne(t, p.b.c, msg)
				w := table[st][in]
				if string(r.Plaintext) != w.shown || (w.shown == "") != (r.Plaintext == nil) || r.Encrypted != w.encrypted {
					t.Errorf("plaintext %q encrypted %v", r.Plaintext, r.Encrypted)
				}
				var kinds []EventKind
				for _, e := range r.Events {
					kinds = append(kinds, e.Kind)
				}
				if len(kinds) != len(w.events) || (len(kinds) > 0 && kinds[0] != w.events[0]) {
					t.Errorf("events %v, want %v", kinds, w.events)
				}
				var commit, q, e bool
				for _, s := range r.Send {
					commit = commit || isType(s, msgDHCommit)
					q = q || bytes.HasPrefix(s, []byte("?OTRv"))
					e = e || bytes.HasPrefix(s, []byte("?OTR Error:"))
				}
				if commit != w.startsAKE || q != w.query || e != w.errReply {
					t.Errorf("commit %v query %v error %v, want %v %v %v", commit, q, e, w.startsAKE, w.query, w.errReply)
				}
				if w.startsAKE && p.b.c.ake.state != authAwaitingDHKey {
					t.Errorf("authstate %v", p.b.c.ake.state)
				}
				if p.b.c.State() != st {
					t.Errorf("state changed to %v", p.b.c.State())
				}
			})
		}
	}
}

func isType(msg []byte, typ byte) bool {
	bin, ok := decode(msg)
	if !ok {
		return false
	}
	h, _, ok := parseHeader(bin)
	return ok && h.typ == typ
}

// TestAuthStateTable checks "Receiving a D-H Commit Message" in each
// authstate.
func TestAuthStateTable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(p *pair) // puts Alice in the state
		want    authState
		resends bool // replies with exactly the message it sent before
	}{
		{"none", func(p *pair) {}, authAwaitingRevealSig, false},
		{"awaiting revealsig", func(p *pair) {
			c := commitFrom(t, p.b.c)
			receiveOne(t, p.a.c, c)
		}, authAwaitingRevealSig, true},
		{"awaiting sig", func(p *pair) {
			rb := receiveOne(t, p.a.c, []byte("?OTRv3?"))
			ra := receiveOne(t, p.b.c, rb.Send[0])
			receiveOne(t, p.a.c, ra.Send[0])
		}, authAwaitingRevealSig, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, PolicyManual, PolicyManual, 0)
			tc.setup(p)
			before := bytes.Clone(p.a.c.ake.lastMsg)
			other := newPair(t, PolicyManual, PolicyManual, 0) // a second "Bob" with the same tag
			r := receiveOne(t, p.a.c, commitFrom(t, other.b.c))
			if p.a.c.ake.state != tc.want || len(r.Send) != 1 || !isType(r.Send[0], msgDHKey) {
				t.Fatalf("state %v, sent %d", p.a.c.ake.state, len(r.Send))
			}
			bin, _ := decode(r.Send[0])
			if got := bytes.Equal(bin, before); got != tc.resends {
				t.Fatalf("resent old D-H key: %v, want %v", got, tc.resends)
			}
		})
	}
}

// commitFrom makes c (with a fresh AKE) produce a D-H commit.
func commitFrom(t *testing.T, c *Conversation) []byte {
	t.Helper()
	r := receiveOne(t, c, []byte("?OTRv3?"))
	if len(r.Send) != 1 || !isType(r.Send[0], msgDHCommit) {
		t.Fatal("no commit")
	}
	return r.Send[0]
}
