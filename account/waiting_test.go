package account

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/internal/testbed"
)

// waitingPeers: alice (history on, Manual policy) and bob are friends on
// a Prosody with mod_offline, so a line that leaves while bob is still
// reconnecting reaches him later.
func waitingPeers(t *testing.T) (*testbed.Server, *peer, *peer) {
	t.Helper()
	srv := testbed.Start(t, testbed.WithModules("offline"))
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), policy: Manual})
	b := newPeer(t, srv, "bob", peerOpts{roots: srv.CertPool(), policy: Manual})
	if err := a.profile.SavePrefs(Prefs{PlainHistory: true}); err != nil {
		t.Fatal(err)
	}
	a.connect()
	b.connect()
	befriend(t, a, b)
	return srv, a, b
}

// serverDown stops Prosody and waits until p sees the link gone.
func serverDown(t *testing.T, srv *testbed.Server, ps ...*peer) {
	t.Helper()
	marks := make([]int, len(ps))
	for i, p := range ps {
		marks[i] = p.rec.mark()
	}
	srv.Stop()
	for i, p := range ps {
		p.waitFor(marks[i], "reconnecting", func(e Event) bool {
			c, ok := e.(ConnectionChanged)
			return ok && c.State == Reconnecting
		})
	}
}

func isConnected(e Event) bool {
	c, ok := e.(ConnectionChanged)
	return ok && c.State == Connected
}

// reopen quits p's Manager and runs a new one on the same profile folder
// (read again from disk) and secrets, as starting Sotto again does.
func reopen(t *testing.T, p *peer) *peer {
	t.Helper()
	p.stop()
	prof, err := OpenProfile(p.profile.Dir)
	if err != nil {
		t.Fatal(err)
	}
	q := runPeer(t, prof, p.store, p.jid, p.opts)
	q.secrets = p.secrets
	return q
}

// received counts bob's MessageReceived from from with body.
func received(p *peer, from, body string) int {
	n := 0
	for _, e := range p.rec.all() {
		if m, ok := e.(MessageReceived); ok && m.Conv.Peer == from && m.Body == body {
			n++
		}
	}
	return n
}

// TestPlainWaitingLineSurvivesRestart: the server is down, alice types a
// line to bob in a plain chat with history on; it waits, kept on disk
// (0600), and the quit warning has nothing to warn about. Alice quits;
// a new Manager on the same profile puts it back, with its id, and sends
// it when the server is back; bob gets it exactly once (a sentinel line
// after it proves nothing more came), and the disk copy is gone.
func TestPlainWaitingLineSurvivesRestart(t *testing.T) {
	srv, a, b := waitingPeers(t)
	serverDown(t, srv, a, b)
	text := "typed while the server was down " + randomID()
	ma := a.rec.mark()
	id, err := a.m.Send(ctxT(t), a.conv(b), text)
	if err != nil {
		t.Fatal(err)
	}
	q := a.waitFor(ma, "queued", msgState(id, Queued)).(MessageStateChanged)
	if !q.Kept {
		t.Fatalf("queued %+v, want Kept", q)
	}
	u, err := a.m.Unsent(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(u) != 1 || u[0].Lines != 0 || u[0].Kept != 1 || QuitWarning(u) != "" {
		t.Fatalf("Unsent %+v (warning %q), want the line kept and no warning", u, QuitWarning(u))
	}
	path := waitingPath(a.profile.Dir, a.jid)
	assertKeptFile(t, path, text, true)

	a2 := reopen(t, a)
	assertKeptFile(t, path, text, true) // quitting kept it
	a2.waitFor(0, "the line restored", func(e Event) bool {
		m, ok := e.(MessageStateChanged)
		return ok && m.ID == id && m.State == Queued && m.Kept && m.Body == text
	})
	srv.Restart(t)
	if err := a2.m.Connect(ctxT(t), a2.jid); err != nil {
		t.Fatal(err)
	}
	sent := a2.waitFor(0, "sent", msgState(id, SentPlain)).(MessageStateChanged)
	if !sent.Confirmed {
		t.Errorf("sent %+v, want Confirmed", sent)
	}
	b.waitFor(0, "the line", isMsg(a.jid, text))
	after := "after " + randomID()
	if _, err := a2.m.Send(ctxT(t), a2.conv(b), after); err != nil {
		t.Fatal(err)
	}
	b.waitFor(0, "the sentinel", isMsg(a.jid, after))
	if n := received(b, a.jid, text); n != 1 {
		t.Fatalf("bob got the waiting line %d times, want once", n)
	}
	if u, err := a2.m.Unsent(ctxT(t)); err != nil || len(u) != 0 {
		t.Fatalf("after sending: Unsent %+v, %v", u, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the waiting file is still there after the line left: %v", err)
	}
}

// assertKeptFile checks the waiting file exists (0600) with text, or
// does not hold text.
func assertKeptFile(t *testing.T, path, text string, want bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if !want {
		if err == nil && bytes.Contains(data, []byte(text)) {
			t.Fatalf("%s still holds %q", path, text)
		}
		return
	}
	if err != nil {
		t.Fatalf("the waiting file: %v", err)
	}
	if !bytes.Contains(data, []byte(text)) {
		t.Fatalf("%s does not hold the line: %s", path, data)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: mode %v, %v; want 0600", path, fi.Mode().Perm(), err)
	}
}

// TestRemoveQueuedLineNeverSent: two lines wait for the link; alice
// takes the first back (Removed; a second try is ErrNotWaiting; its disk
// copy goes). When the server is back the other one and a sentinel after
// it arrive, the removed one never does, not even at the server.
func TestRemoveQueuedLineNeverSent(t *testing.T) {
	srv, a, b := waitingPeers(t)
	serverDown(t, srv, a, b)
	ctx := ctxT(t)
	gone, stays := "take this back "+randomID(), "this one stays "+randomID()
	ma := a.rec.mark()
	goneID, err := a.m.Send(ctx, a.conv(b), gone)
	if err != nil {
		t.Fatal(err)
	}
	staysID, err := a.m.Send(ctx, a.conv(b), stays)
	if err != nil {
		t.Fatal(err)
	}
	a.waitFor(ma, "queued", msgState(staysID, Queued))
	if _, err := a.m.Unsent(ctx); err != nil { // writes the file now
		t.Fatal(err)
	}
	path := waitingPath(a.profile.Dir, a.jid)
	assertKeptFile(t, path, gone, true)
	if err := a.m.RemoveQueued(ctx, a.conv(b), goneID); err != nil {
		t.Fatal(err)
	}
	a.waitFor(ma, "removed", msgState(goneID, Removed))
	if err := a.m.RemoveQueued(ctx, a.conv(b), goneID); !errors.Is(err, ErrNotWaiting) {
		t.Fatalf("removing it again: %v, want ErrNotWaiting", err)
	}
	if u, err := a.m.Unsent(ctx); err != nil || len(u) != 1 || u[0].Kept != 1 {
		t.Fatalf("Unsent %+v, %v; want the one line left", u, err)
	}
	assertKeptFile(t, path, gone, false)
	assertKeptFile(t, path, stays, true)

	srv.Restart(t)
	a.waitFor(ma, "stays sent", msgState(staysID, SentPlain))
	if err := a.m.RemoveQueued(ctx, a.conv(b), staysID); !errors.Is(err, ErrNotWaiting) {
		t.Fatalf("removing a sent line: %v, want ErrNotWaiting", err)
	}
	after := "after " + randomID()
	if _, err := a.m.Send(ctx, a.conv(b), after); err != nil {
		t.Fatal(err)
	}
	b.waitFor(0, "stays", isMsg(a.jid, stays))
	b.waitFor(0, "the sentinel", isMsg(a.jid, after))
	if n := received(b, a.jid, gone); n != 0 {
		t.Fatalf("bob got the removed line %d times", n)
	}
	a.never(ma, "the removed line sent", func(e Event) bool {
		m, ok := e.(MessageStateChanged)
		return ok && m.ID == goneID && m.State != Queued && m.State != Removed
	})
	if strings.Contains(srv.Log(), gone) {
		t.Fatal("the server saw the removed line")
	}
	if !strings.Contains(srv.Log(), after) {
		t.Fatal("the server log does not show the sentinel: the check above proves nothing")
	}
}

// TestPrivateWaitingLineNeverOnDisk: with history on and the link down,
// a line to bob, whose policy is Always, waits in memory only — no file
// under the profile holds it in any encoding, before or after quitting —
// while a plain line to carol typed after it is kept (proving the file
// was written and would have been scanned). The quit warning counts the
// private line only, and says the plain one is saved.
func TestPrivateWaitingLineNeverOnDisk(t *testing.T) {
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), policy: Manual})
	if err := a.profile.SavePrefs(Prefs{PlainHistory: true}); err != nil {
		t.Fatal(err)
	}
	a.connect()
	ctx := ctxT(t)
	bob := Conversation{Account: a.jid, Peer: "bob@localhost"}
	carol := Conversation{Account: a.jid, Peer: "carol@localhost"}
	if err := a.m.SetPolicy(ctx, a.jid, bob.Peer, Always); err != nil {
		t.Fatal(err)
	}
	serverDown(t, srv, a)
	private, plain := "only ever encrypted "+randomID(), "plain and kept "+randomID()
	ma := a.rec.mark()
	pid, err := a.m.Send(ctx, bob, private)
	if err != nil {
		t.Fatal(err)
	}
	if q := a.waitFor(ma, "private queued", msgState(pid, Queued)).(MessageStateChanged); q.Kept {
		t.Fatalf("the private line is reported kept: %+v", q)
	}
	if _, err := a.m.Send(ctx, carol, plain); err != nil {
		t.Fatal(err)
	}
	u, err := a.m.Unsent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := QuitWarning(u)
	if !strings.Contains(w, "1 message to bob@localhost is not sent yet") || !strings.Contains(w, "never saved") ||
		!strings.Contains(w, "1 other waiting message is saved") {
		t.Fatalf("Unsent %+v, warning %q", u, w)
	}
	needles := map[string][]byte{}
	secretNeedles("the private line", []byte(private), needles)
	scan := func(when string) {
		found := false
		_ = filepath.WalkDir(a.profile.Dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for name, n := range needles {
				if bytes.Contains(data, n) {
					t.Errorf("%s: %s in %s", when, name, path)
				}
			}
			found = found || bytes.Contains(data, []byte(plain))
			return nil
		})
		if !found {
			t.Fatalf("%s: the plain line is in no file either: the scan proves nothing", when)
		}
	}
	scan("waiting")
	a.stop()
	scan("after quitting")
}

// TestRestoreWaitingChecksTheFile: what a start reads back is checked. A
// file that does not parse is moved aside (it holds the user's text), not
// deleted; in a good one, lines with a bad address or no text are
// skipped, an id of the wrong shape is replaced, the order is kept, and a
// contact whose policy became Always gets a line that may only go
// encrypted. History being off now, the file goes, but the lines still
// wait (in memory).
func TestRestoreWaitingChecksTheFile(t *testing.T) {
	prof, err := OpenProfile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const me = "alice@localhost"
	m := NewManager(prof, nil)
	path := waitingPath(prof.Dir, me)

	if err := os.WriteFile(path, []byte(`{"Version":1,"Account":"alice@lo`), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newClient(m, Settings{JID: me})
	c.restoreWaiting()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a damaged file stays in place: %v", err)
	}
	aside, _ := filepath.Glob(path + ".corrupt-*")
	if len(aside) != 1 || len(c.convs) != 0 {
		t.Fatalf("moved aside: %v; conversations %d", aside, len(c.convs))
	}

	if err := prof.SetContactPolicy(me, "carol@localhost", Always); err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":1,"Account":"alice@localhost","Lines":[
		{"ID":"0123456789abcdef","Peer":"not an address@@","Body":"lost"},
		{"ID":"0123456789abcde0","Peer":"bob@localhost","Body":""},
		{"ID":"<script>","Peer":"bob@localhost/phone","Body":"first"},
		{"ID":"0123456789abcde1","Peer":"bob@localhost","Body":"second"},
		{"ID":"0123456789abcde2","Peer":"carol@localhost","Body":"to carol"}]}`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	c = newClient(m, Settings{JID: me})
	c.restoreWaiting()
	bob := c.convs[peerKey{"bob@localhost", ""}]
	if bob == nil || len(bob.queue) != 2 || bob.queue[0].body != "first" || bob.queue[1].body != "second" {
		t.Fatalf("bob's queue %+v", bob)
	}
	if id := bob.queue[0].id; !lineID(id) || bob.queue[1].id != "0123456789abcde1" || bob.queue[0].needPrivate {
		t.Fatalf("ids %q %q, needPrivate %v", id, bob.queue[1].id, bob.queue[0].needPrivate)
	}
	carol := c.convs[peerKey{"carol@localhost", ""}]
	if carol == nil || len(carol.queue) != 1 || !carol.queue[0].needPrivate {
		t.Fatalf("carol's queue %+v, want one line that needs privacy", carol)
	}
	if len(c.convs) != 2 {
		t.Fatalf("%d conversations, want bob's and carol's", len(c.convs))
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("history is off: the file should be gone: %v", err)
	}
}
