package account

// The store's own tests (files, modes, damaged lines, bounded reads,
// clearing) are in internal/history; these test the glue and the rules of
// what is kept, against Prosody.

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/internal/testbed"
	"github.com/sotto-im/sotto/secret"
)

const (
	histAcct = "alice@example.org"
	histPeer = "bob@example.org"
)

// histManager is a Manager that is not running: History and ClearHistory
// work on the profile directory alone.
func histManager(t *testing.T) *Manager {
	t.Helper()
	prof, err := OpenProfile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return NewManager(prof, secret.NewMemory())
}

func mustHistory(t *testing.T, m *Manager, acct, peer string, max int) []HistoryLine {
	t.Helper()
	got, err := m.History(acct, peer, max)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	return got
}

func bodies(ls []HistoryLine) string {
	var b []string
	for _, l := range ls {
		d := "<"
		if l.Outgoing {
			d = ">"
		}
		b = append(b, d+l.Body)
	}
	return strings.Join(b, "|")
}

// The Manager files a contact under its bare JID, in the profile's
// history folder, and refuses addresses that cannot name a file.
func TestHistoryPeerAddress(t *testing.T) {
	m := histManager(t)
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	for i, s := range []string{"one", "two", "three", "four"} {
		if err := m.appendHistory(histAcct, histPeer, i%2 == 1, s, t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if want := "<one|>two|<three|>four"; bodies(mustHistory(t, m, histAcct, histPeer, 10)) != want {
		t.Fatalf("got %q, want %q", bodies(mustHistory(t, m, histAcct, histPeer, 10)), want)
	}
	if _, err := os.Stat(filepath.Join(m.profile.Dir, "history", histAcct)); err != nil {
		t.Fatalf("no account folder in the profile's history folder: %v", err)
	}
	// Unknown contact: nothing, no error; a resource is ignored.
	if got := mustHistory(t, m, histAcct, "carol@example.org", 10); len(got) != 0 {
		t.Fatalf("carol: %v", got)
	}
	if got := mustHistory(t, m, histAcct, histPeer+"/laptop", 10); len(got) != 4 {
		t.Fatalf("with a resource: %d lines", len(got))
	}
	ctx := context.Background()
	if err := m.ClearHistory(ctx, histAcct, histPeer+"/laptop"); err != nil {
		t.Fatal(err)
	}
	if got := mustHistory(t, m, histAcct, histPeer, 10); len(got) != 0 {
		t.Fatalf("after clearing with a resource: %q", bodies(got))
	}
	for _, bad := range []string{"../evil", "..", "a/b@c", "", `c:\x`} {
		if err := m.ClearHistory(ctx, bad, ""); err == nil {
			t.Errorf("ClearHistory(%q) accepted", bad)
		}
		if _, err := m.History(bad, histPeer, 1); err == nil {
			t.Errorf("History(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "no-at-sign", "@example.org"} {
		if err := m.appendHistory(histAcct, bad, false, "x", t0); err == nil {
			t.Errorf("appendHistory to %q accepted", bad)
		}
		if _, err := m.History(histAcct, bad, 1); err == nil {
			t.Errorf("History(%q) accepted", bad)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := m.ClearHistory(done, histAcct, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("ClearHistory with a cancelled context: %v", err)
	}
}

// historyPeers logs in alice and bob (Manual policy: nothing goes private
// by itself) as friends, with PlainHistory as given.
func historyPeers(t *testing.T, aliceKeeps, bobKeeps bool) (*testbed.Server, *peer, *peer) {
	t.Helper()
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), policy: Manual})
	b := newPeer(t, srv, "bob", peerOpts{roots: srv.CertPool(), policy: Manual})
	for p, on := range map[*peer]bool{a: aliceKeeps, b: bobKeeps} {
		if err := p.profile.SavePrefs(Prefs{PlainHistory: on}); err != nil {
			t.Fatal(err)
		}
	}
	a.connect()
	b.connect()
	befriend(t, a, b)
	return srv, a, b
}

// exchange sends body from p to q and waits until it is SentPlain/SentEncrypted
// as want and q has it.
func exchange(t *testing.T, p, q *peer, body string, want OutState) {
	t.Helper()
	id, err := p.m.Send(ctxT(t), p.conv(q), body)
	if err != nil {
		t.Fatal(err)
	}
	p.waitFor(0, body+" "+want.String(), msgState(id, want))
	q.waitFor(0, "received "+body, isMsg(p.jid, body))
}

func TestPlainHistoryKeepsPlainChat(t *testing.T) {
	_, a, b := historyPeers(t, true, false)
	exchange(t, a, b, "hello bob, in plain", SentPlain)
	exchange(t, b, a, "hi alice, plain too", SentPlain)
	got := mustHistory(t, a.m, a.jid, b.jid, 200)
	if want := ">hello bob, in plain|<hi alice, plain too"; bodies(got) != want {
		t.Fatalf("alice's history %q, want %q", bodies(got), want)
	}
	if time.Since(got[1].Time) > time.Minute {
		t.Fatalf("time %v", got[1].Time)
	}
	// Bob did not opt in: he has no history at all.
	if _, err := os.Stat(filepath.Join(b.profile.Dir, "history")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("bob (PlainHistory off) has a history folder: %v", err)
	}

	// Switched off: nothing more is written, what was kept stays.
	if err := a.profile.SavePrefs(Prefs{PlainHistory: false}); err != nil {
		t.Fatal(err)
	}
	exchange(t, a, b, "not kept, out", SentPlain)
	exchange(t, b, a, "not kept, in", SentPlain)
	if got := bodies(mustHistory(t, a.m, a.jid, b.jid, 200)); got != ">hello bob, in plain|<hi alice, plain too" {
		t.Fatalf("after switching off: %q", got)
	}
	if err := a.m.ClearHistory(ctxT(t), a.jid, ""); err != nil {
		t.Fatal(err)
	}
	if got := mustHistory(t, a.m, a.jid, b.jid, 200); len(got) != 0 {
		t.Fatalf("after ClearHistory: %q", bodies(got))
	}
}

// With PlainHistory on for both, a conversation that goes private leaves
// nothing of its private part on disk — neither side, no file anywhere in
// the profiles — and a plain line that arrives while the conversation is
// Finished is not kept either.
func TestPlainHistoryNeverKeepsPrivate(t *testing.T) {
	_, a, b := historyPeers(t, true, true)
	exchange(t, a, b, "plain before private", SentPlain)

	ma, mb := a.rec.mark(), b.rec.mark()
	if err := a.m.StartPrivate(ctxT(t), a.conv(b)); err != nil {
		t.Fatal(err)
	}
	a.waitFor(ma, "alice private", isLevel(b.jid, Unverified))
	b.waitFor(mb, "bob private", isLevel(a.jid, Unverified))
	secrets := []string{"private: the eagle lands at noon", "private: bring the cake", "private: third"}
	exchange(t, a, b, secrets[0], SentEncrypted)
	exchange(t, b, a, secrets[1], SentEncrypted)
	exchange(t, a, b, secrets[2], SentEncrypted)

	// Plain lines "from bob" while the chat is private — on the private
	// resource, from another resource of his (whose own conversation is
	// plain: only the contact-wide rule stops it) and as carbons from our
	// other device — are shown with a warning but never kept.
	injected := []string{"private: injected on his resource", "private: from his other resource",
		"private: carbon received", "private: carbon sent"}
	bobFull := b.jid + "/" + wire.DefaultResource
	inject(t, a, bobFull, injected[0])
	inject(t, a, b.jid+"/evil", injected[1])
	injectCarbon(t, a, &wire.Carbon{}, nil, b.jid+"/evil", a.jid+"/phone", injected[2])
	injectCarbon(t, a, nil, &wire.Carbon{}, a.jid+"/phone", b.jid, injected[3])
	for _, s := range injected[:3] {
		if m := a.waitFor(0, s, isMsg(b.jid, s)).(MessageReceived); m.Encrypted {
			t.Fatalf("injected %+v", m)
		}
	}
	a.waitFor(0, injected[3], func(e Event) bool {
		m, ok := e.(MessageStateChanged)
		return ok && m.Body == injected[3] && m.State == SentPlain
	})
	secrets = append(secrets, injected...)

	// Bob ends; alice is Finished and gets a plain line she must not keep
	// (her chat still looks private to her). Bob's side is plain again.
	ma = a.rec.mark()
	if err := b.m.EndPrivate(ctxT(t), b.conv(a)); err != nil {
		t.Fatal(err)
	}
	a.waitFor(ma, "alice finished", isLevel(b.jid, Finished))
	const afterEnd = "plain after bob ended"
	exchange(t, b, a, afterEnd, SentPlain)

	if got, want := bodies(mustHistory(t, a.m, a.jid, b.jid, 200)), ">plain before private"; got != want {
		t.Errorf("alice's history %q, want %q", got, want)
	}
	if got, want := bodies(mustHistory(t, b.m, b.jid, a.jid, 200)), "<plain before private|>"+afterEnd; got != want {
		t.Errorf("bob's history %q, want %q", got, want)
	}
	for _, p := range []*peer{a, b} {
		files := 0
		err := filepath.WalkDir(p.profile.Dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			files++
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, s := range secrets {
				if bytes.Contains(data, []byte(s)) || bytes.Contains(data, []byte("eagle")) {
					t.Errorf("%s: %s holds private text %q", p.jid, path, s)
				}
			}
			if p == a && bytes.Contains(data, []byte(afterEnd)) {
				t.Errorf("alice kept a line that arrived while Finished (%s)", path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: scanned %d files", p.jid, files)
	}
}

// injectCarbon hands p's loop a XEP-0280 carbon (received or sent) from
// our own account, as the server would deliver it.
func injectCarbon(t *testing.T, p *peer, recv, sent *wire.Carbon, from, to, body string) {
	t.Helper()
	c, err := p.m.client(p.jid)
	if err != nil {
		t.Fatal(err)
	}
	w := recv
	if w == nil {
		w = sent
	}
	w.Forwarded.Message = &wire.Message{From: from, To: to, Type: "chat", Body: &body}
	err = c.call(ctxT(t), func(reply func(error)) {
		c.handleMessage(&wire.Message{From: p.jid, Received: recv, Sent: sent})
		reply(nil)
	})
	if err != nil {
		t.Fatal(err)
	}
}
