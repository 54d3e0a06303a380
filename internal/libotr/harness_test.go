//go:build libotr

package libotr

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const proto = "prpl-jabber"

// keyCache keeps one generated otr.private_key text per account so each
// test does not pay for DSA key generation again.
var keyCache sync.Map

// newLibotrPeer makes a libotr peer for account with a (cached) key.
func newLibotrPeer(t testing.TB, account string) *Peer {
	t.Helper()
	p, err := NewPeer(account, proto)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if b, ok := keyCache.Load(account); ok {
		if err := p.SetPrivateKey(b.([]byte)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := p.GenerateKey(); err != nil {
		t.Fatal(err)
	}
	keyCache.Store(account, p.PrivateKeyFile())
	return p
}

// pumpLibotr delivers both peers' outboxes to each other until both are
// empty and returns what each side was shown.
func pumpLibotr(t testing.TB, a, b *Peer) (shownA, shownB []string) {
	t.Helper()
	for round := 0; round < 100; round++ {
		outA, outB := a.Outbox(), b.Outbox()
		if len(outA) == 0 && len(outB) == 0 {
			return
		}
		for _, m := range outA {
			if s, ig, err := b.Receive(a.Account(), m); err != nil {
				t.Fatal(err)
			} else if !ig {
				shownB = append(shownB, s)
			}
		}
		for _, m := range outB {
			if s, ig, err := a.Receive(b.Account(), m); err != nil {
				t.Fatal(err)
			} else if !ig {
				shownA = append(shownA, s)
			}
		}
	}
	t.Fatal("pump: peers never went quiet")
	return
}

func hasEvent(evs []Event, k EventKind) (Event, bool) {
	for _, e := range evs {
		if e.Kind == k {
			return e, true
		}
	}
	return Event{}, false
}

func mustEvent(t testing.TB, who string, evs []Event, k EventKind) Event {
	t.Helper()
	e, ok := hasEvent(evs, k)
	if !ok {
		t.Fatalf("%s: no %v event in %v", who, k, evs)
	}
	return e
}

func mustMsgEvent(t testing.TB, who string, evs []Event, m MsgEvent) Event {
	t.Helper()
	for _, e := range evs {
		if e.Kind == EventMessage && e.Msg == m {
			return e
		}
	}
	t.Fatalf("%s: no %v message event in %v", who, m, evs)
	return Event{}
}

// libotrPair sets up two libotr peers and runs the AKE from a query.
func libotrPair(t testing.TB, policy uint32) (a, b *Peer) {
	t.Helper()
	a = newLibotrPeer(t, "alice@example.org/laptop")
	b = newLibotrPeer(t, "bob@example.org/desk")
	a.SetPolicy(policy)
	b.SetPolicy(policy)
	a.outbox = append(a.outbox, a.Query())
	pumpLibotr(t, a, b)
	return a, b
}

func TestSelfAKEDataSMPDisconnect(t *testing.T) {
	t.Logf("libotr %s", Version())
	a, b := libotrPair(t, PolicyManual)
	if sa, sb := a.MessageState(b.Account()), b.MessageState(a.Account()); sa != "encrypted" || sb != "encrypted" {
		t.Fatalf("states after AKE: %s / %s", sa, sb)
	}
	if e := mustEvent(t, "alice", a.Events(), EventGoneSecure); e.Version != 3 {
		t.Fatalf("alice went secure with v%d", e.Version)
	}
	mustEvent(t, "bob", b.Events(), EventGoneSecure)
	if got, want := a.PeerFingerprint(b.Account()), b.Fingerprint(); got != want || len(got) != 40 {
		t.Fatalf("alice sees bob as %q, bob is %q", got, want)
	}
	if got, want := b.PeerFingerprint(a.Account()), a.Fingerprint(); got != want {
		t.Fatalf("bob sees alice as %q, alice is %q", got, want)
	}
	if a.PeerInstanceTag(b.Account()) != b.InstanceTag() || b.InstanceTag() < 0x100 {
		t.Fatalf("instance tags: alice sees %#x, bob has %#x", a.PeerInstanceTag(b.Account()), b.InstanceTag())
	}

	// Data both ways, one long enough to need fragments.
	a.SetMaxMessageSize(300)
	b.SetMaxMessageSize(300)
	long := strings.Repeat("0123456789abcdef", 64)
	for i, tc := range []struct {
		from, to *Peer
		msg      string
	}{{a, b, "hello bob"}, {b, a, "hi alice"}, {a, b, long}, {b, a, long + "!"}} {
		wire, err := tc.from.Send(tc.to.Account(), tc.msg)
		if err != nil {
			t.Fatal(err)
		}
		if len(tc.msg) > 500 && len(wire) < 2 {
			t.Fatalf("case %d: %d-byte message not fragmented: %d wire messages", i, len(tc.msg), len(wire))
		}
		var shown []string
		for _, w := range wire {
			if strings.Contains(w, tc.msg) || !strings.HasPrefix(w, "?OTR") {
				t.Fatalf("case %d: plaintext on the wire: %.60q", i, w)
			}
			if len(w) > 300 {
				t.Fatalf("case %d: fragment of %d bytes > 300", i, len(w))
			}
			s, ig, err := tc.to.Receive(tc.from.Account(), w)
			if err != nil {
				t.Fatal(err)
			}
			if !ig {
				shown = append(shown, s)
			}
		}
		if len(shown) != 1 || shown[0] != tc.msg {
			t.Fatalf("case %d: shown %q", i, shown)
		}
		pumpLibotr(t, a, b) // heartbeats, if any
	}

	// SMP with a question: right answer.
	if err := a.InitiateSMP(b.Account(), "colour?", "blue"); err != nil {
		t.Fatal(err)
	}
	pumpLibotr(t, a, b)
	if e := mustEvent(t, "bob", b.Events(), EventSMPAskForAnswer); e.Question != "colour?" {
		t.Fatalf("question %q", e.Question)
	}
	if err := b.RespondSMP(a.Account(), "blue"); err != nil {
		t.Fatal(err)
	}
	pumpLibotr(t, a, b)
	mustEvent(t, "alice", a.Events(), EventSMPSuccess)
	mustEvent(t, "bob", b.Events(), EventSMPSuccess)
	if tr := a.Trust(b.Account()); tr != "smp" {
		t.Fatalf("alice's trust in bob after SMP: %q", tr)
	}

	// SMP with a shared secret: wrong answer.
	if err := b.InitiateSMP(a.Account(), "", "secret-1"); err != nil {
		t.Fatal(err)
	}
	pumpLibotr(t, a, b)
	mustEvent(t, "alice", a.Events(), EventSMPAskForSecret)
	if err := a.RespondSMP(b.Account(), "secret-2"); err != nil {
		t.Fatal(err)
	}
	pumpLibotr(t, a, b)
	mustEvent(t, "alice", a.Events(), EventSMPFailure)
	mustEvent(t, "bob", b.Events(), EventSMPFailure)

	// Alice ends: Bob goes to finished and cannot send.
	a.Disconnect(b.Account())
	pumpLibotr(t, a, b)
	if sa, sb := a.MessageState(b.Account()), b.MessageState(a.Account()); sa != "plaintext" || sb != "finished" {
		t.Fatalf("after disconnect: alice %s, bob %s", sa, sb)
	}
	b.Events()
	wire, err := b.Send(a.Account(), "anyone there?")
	if err != nil {
		t.Fatal(err)
	}
	if len(wire) != 0 {
		t.Fatalf("finished bob sent %q", wire)
	}
	mustMsgEvent(t, "bob", b.Events(), MsgEventConnectionEnded)
}

func TestSelfV2AndWhitespace(t *testing.T) {
	a := newLibotrPeer(t, "alice@example.org/laptop")
	b := newLibotrPeer(t, "bob@example.org/desk")
	a.SetPolicy(PolicyAllowV2 | PolicySendWhitespaceTag | PolicyWhitespaceStartAKE)
	b.SetPolicy(PolicyAllowV2 | PolicyWhitespaceStartAKE)
	wire, err := a.Send(b.Account(), "plain hello")
	if err != nil {
		t.Fatal(err)
	}
	if len(wire) != 1 || !strings.HasPrefix(wire[0], "plain hello \t  \t\t\t\t \t \t \t  ") {
		t.Fatalf("whitespace-tagged message %q", wire)
	}
	s, ig, err := b.Receive(a.Account(), wire[0])
	if err != nil || ig || s != "plain hello" {
		t.Fatalf("bob shown %q ignored=%v err=%v", s, ig, err)
	}
	pumpLibotr(t, a, b)
	if v := a.ProtocolVersion(b.Account()); v != 2 || b.ProtocolVersion(a.Account()) != 2 {
		t.Fatalf("versions %d / %d, want 2", v, b.ProtocolVersion(a.Account()))
	}
	w, err := b.Send(a.Account(), "over v2")
	if err != nil {
		t.Fatal(err)
	}
	if s, _, _ := a.Receive(b.Account(), w[0]); s != "over v2" {
		t.Fatalf("alice shown %q", s)
	}
}

func TestSelfKeyAndFingerprintFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := libotrPair(t, PolicyManual)
	keyPath := filepath.Join(dir, "otr.private_key")
	if err := a.WritePrivateKeyFile(keyPath); err != nil {
		t.Fatal(err)
	}
	fpPath := filepath.Join(dir, "otr.fingerprints")
	if err := a.SetTrust(b.Account(), "verified"); err != nil {
		t.Fatal(err)
	}
	if err := a.WriteFingerprintsFile(fpPath); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(fpPath)
	if err != nil {
		t.Fatal(err)
	}
	want := b.Account() + "\t" + a.Account() + "\t" + proto + "\t" + b.Fingerprint() + "\tverified\n"
	if string(raw) != want {
		t.Fatalf("fingerprints file %q, want %q", raw, want)
	}
	c, err := NewPeer(a.Account(), proto)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.ReadPrivateKeyFile(keyPath); err != nil {
		t.Fatal(err)
	}
	if c.Fingerprint() != a.Fingerprint() {
		t.Fatalf("reloaded key %s != %s", c.Fingerprint(), a.Fingerprint())
	}
	if err := c.ReadFingerprintsFile(fpPath); err != nil {
		t.Fatal(err)
	}
	if c.PeerFingerprint(b.Account()) != b.Fingerprint() || c.Trust(b.Account()) != "verified" {
		t.Fatalf("reloaded fingerprints: %q trust %q", c.PeerFingerprint(b.Account()), c.Trust(b.Account()))
	}
}
