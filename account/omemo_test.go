package account

// OMEMO over the real Prosody (mod_pep, offline storage, MAM): Sotto
// accounts with one or two devices each, each device a Manager with its
// own profile and secret store, as on separate machines.

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sotto-im/sotto/internal/testbed"
	"github.com/sotto-im/sotto/secret"
)

func omemoServer(t *testing.T) *testbed.Server {
	return testbed.Start(t, testbed.WithModules("pep", "offline", "mam"))
}

// device is one Sotto installation of an account.
type device struct {
	*peer
	res  string
	stop func() // ends the Manager (idempotent)
	mu   sync.Mutex
	tap  []string // every body the loop put on the wire
}

type deviceOpts struct {
	policy  Policy
	dir     string       // profile folder; "" = a new one
	secrets secret.Store // nil = a new secret.Memory
	extra   []Option
	// trustNew: Prefs.OMEMOTrustNewDevices (devices contacts add later
	// get messages at once).
	trustNew bool
}

// startDevice runs a Manager for jid (registered already) on resource
// res and connects it. A profile that has the account already (a
// restart) is used as it is.
func startDevice(t *testing.T, srv testbed.XMPP, jid, pw, res string, do deviceOpts) *device {
	t.Helper()
	if do.dir == "" {
		do.dir = t.TempDir()
	}
	mem, _ := do.secrets.(*secret.Memory)
	if do.secrets == nil {
		mem = secret.NewMemory()
		do.secrets = mem
	}
	prof, err := OpenProfile(do.dir)
	if err != nil {
		t.Fatal(err)
	}
	if do.trustNew {
		pr := prof.Prefs()
		pr.OMEMOTrustNewDevices = true
		if err := prof.SavePrefs(pr); err != nil {
			t.Fatal(err)
		}
	}
	d := &device{res: res}
	dialer := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, network, srv.Addr())
	}
	opts := append([]Option{WithPingInterval(2 * time.Second), WithReconnectBackoff(100*time.Millisecond, time.Second),
		WithPrivateTimeout(30 * time.Second), WithDialer(dialer), WithRootCAs(srv.CertPool()), WithOMEMO(true),
		withWireTap(func(_, body string) { d.mu.Lock(); d.tap = append(d.tap, body); d.mu.Unlock() })}, do.extra...)
	m := NewManager(prof, do.secrets, opts...)
	d.peer = &peer{t: t, m: m, jid: jid, rec: &recorder{}, profile: prof, secrets: mem}
	ctx, stop := runManager(m, d.rec.add)
	d.stop = sync.OnceFunc(func() {
		if !stop() {
			t.Errorf("%s/%s: Manager.Run did not return", jid, res)
		}
	})
	t.Cleanup(d.stop)
	if !slices.ContainsFunc(prof.Accounts(), func(s Settings) bool { return s.JID == jid }) {
		if err := m.AddAccount(ctx, Settings{JID: jid, Resource: res, Policy: do.policy}, pw); err != nil {
			t.Fatalf("AddAccount: %v", err)
		}
	}
	d.connect()
	return d
}

func (d *device) wire() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.tap)
}

// ownID is the device's OMEMO id once its state is loaded.
func (d *device) ownID() uint32 {
	d.t.Helper()
	var id OMEMOIdentity
	d.until("its OMEMO state", func() bool {
		var err error
		id, err = d.m.OwnOMEMO(context.Background(), d.jid)
		return err == nil
	})
	return id.Device
}

// until polls cond, as waitFor polls the events, for at most 30 s.
func (d *device) until(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			d.t.Fatalf("%s/%s: timed out waiting for %s; events:\n%s", d.jid, d.res, what, dump(d.rec.all()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// knows waits until d's view of jid's published devices is exactly ids.
func (d *device) knows(jid string, ids ...uint32) {
	d.t.Helper()
	slices.Sort(ids)
	d.until(fmt.Sprintf("%s's devices %v", jid, ids), func() bool {
		devs, err := d.m.OMEMODevices(context.Background(), d.jid, jid)
		if err != nil {
			return false
		}
		var active []uint32
		for _, x := range devs {
			if x.Active {
				active = append(active, x.Device)
			}
		}
		return slices.Equal(active, ids)
	})
}

// omemoLine is a predicate for an OMEMO line from peer with body.
func omemoLine(from, body string) func(Event) bool {
	return func(e Event) bool {
		m, ok := e.(MessageReceived)
		return ok && m.Conv.Peer == from && m.Body == body && m.Encrypted && m.Protocol == "OMEMO"
	}
}

// carbonLine: our own line, sent from our other device, decrypted here.
func carbonLine(to, body string) func(Event) bool {
	return func(e Event) bool {
		m, ok := e.(MessageStateChanged)
		return ok && m.Conv.Peer == to && m.Body == body && m.State == SentEncrypted && strings.HasPrefix(m.ID, "carbon-")
	}
}

func sendOK(t *testing.T, from *device, to string, body string) string {
	t.Helper()
	id, err := from.m.Send(ctxT(t), Conversation{Account: from.jid, Peer: to}, body)
	if err != nil {
		t.Fatal(err)
	}
	from.waitFor(0, "sent encrypted "+body, msgState(id, SentEncrypted))
	return id
}

// recipients are the rids of the last OMEMO element d sent.
func (d *device) lastRecipients() []uint32 {
	d.t.Helper()
	w := d.wire()
	for i := len(w) - 1; i >= 0; i-- {
		if !strings.HasPrefix(w[i], omemoPrefix) || !strings.Contains(w[i], "<payload>") {
			continue
		}
		var out []uint32
		for _, m := range regexp.MustCompile(`rid='(\d+)'`).FindAllStringSubmatch(w[i], -1) {
			n, _ := strconv.ParseUint(m[1], 10, 32)
			out = append(out, uint32(n))
		}
		slices.Sort(out)
		return out
	}
	d.t.Fatalf("%s sent no OMEMO message", d.jid)
	return nil
}

func TestOMEMOOverProsodyTwoDevicesEach(t *testing.T) {
	start := time.Now()
	srv := omemoServer(t)
	aj, apw := srv.AddUser(t, "alice")
	bj, bpw := srv.AddUser(t, "bob")
	// The second devices come after the first lists were seen: new
	// devices, trusted at once by the Preferences choice (no blind trust
	// otherwise: TestOMEMONewDevicesHeld).
	a1 := startDevice(t, srv, aj, apw, "a1", deviceOpts{policy: Always, trustNew: true})
	b1 := startDevice(t, srv, bj, bpw, "b1", deviceOpts{policy: Always, trustNew: true})
	befriend(t, a1.peer, b1.peer)
	a2 := startDevice(t, srv, aj, apw, "a2", deviceOpts{policy: Always, trustNew: true})
	b2 := startDevice(t, srv, bj, bpw, "b2", deviceOpts{policy: Always, trustNew: true})
	ids := map[*device]uint32{}
	for _, d := range []*device{a1, a2, b1, b2} {
		ids[d] = d.ownID()
	}
	// Every device learns every list from the server's notifications.
	for _, d := range []*device{a1, a2, b1, b2} {
		d.knows(aj, ids[a1], ids[a2])
		d.knows(bj, ids[b1], ids[b2])
	}
	t.Logf("4 devices ready after %v", time.Since(start).Round(time.Millisecond))

	texts := map[string]string{}
	for _, s := range []string{"a1", "b1", "a2", "b2"} {
		texts[s] = "from " + s + ": " + randomID()
	}
	type leg struct {
		from, mine *device // mine: the sender's other device (carbon)
		to         string
		readers    []*device
	}
	for _, l := range []leg{{a1, a2, bj, []*device{b1, b2}}, {b1, b2, aj, []*device{a1, a2}},
		{a2, a1, bj, []*device{b1, b2}}, {b2, b1, aj, []*device{a1, a2}}} {
		body := texts[l.from.res]
		sendOK(t, l.from, l.to, body)
		for _, r := range l.readers {
			m := r.waitFor(0, body, omemoLine(l.from.jid, body)).(MessageReceived)
			if m.Level != Unverified || m.Fingerprint == "" {
				t.Fatalf("%s/%s got %+v, want Unverified with the device's fingerprint", r.jid, r.res, m)
			}
		}
		l.mine.waitFor(0, "carbon of "+body, carbonLine(l.to, body))
		if got, want := l.from.lastRecipients(), sortedIDs(ids, l.mine, l.readers[0], l.readers[1]); !slices.Equal(got, want) {
			t.Fatalf("%s encrypted to %v, want %v", l.from.res, got, want)
		}
	}
	for _, d := range []*device{a1, b1} {
		if s := d.m.Security(Conversation{Account: d.jid, Peer: map[*device]string{a1: bj, b1: aj}[d]}); s.Level != Unverified || s.Protocol != "OMEMO" {
			t.Fatalf("%s: %+v", d.res, s)
		}
	}

	// Prekeys are refilled: each device that received a first message
	// published its bundle again.
	srv.Flush(t)
	log := srv.StanzaLog()
	for _, d := range []*device{b1, b2, a2} {
		node := "eu.siacs.conversations.axolotl.bundles:" + strconv.FormatUint(uint64(ids[d]), 10)
		if n := len(regexp.MustCompile(`RECV: <iq[^\n]*<publish node=["']`+regexp.QuoteMeta(node)+`["']`).FindAllString(log, -1)); n < 2 {
			t.Errorf("%s published its bundle %d times, want a republish after the first prekey message", d.res, n)
		}
	}

	// A removed device stops receiving.
	b2.stop()
	mk := a1.rec.mark()
	if err := b1.m.RemoveOMEMODevice(ctxT(t), bj, ids[b2]); err != nil {
		t.Fatal(err)
	}
	a1.waitFor(mk, "removal notice", func(e Event) bool {
		n, ok := e.(Notice)
		return ok && strings.Contains(n.Text, "removed a device ("+strconv.FormatUint(uint64(ids[b2]), 10)+")")
	})
	last := "after the removal: " + randomID()
	sendOK(t, a1, bj, last)
	b1.waitFor(0, last, omemoLine(aj, last))
	if got, want := a1.lastRecipients(), sortedIDs(ids, a2, b1); !slices.Equal(got, want) {
		t.Fatalf("after removing b2, a1 encrypted to %v, want %v", got, want)
	}

	bodies := []string{last}
	for _, s := range texts {
		bodies = append(bodies, s)
	}
	assertNoPlaintext(t, srv, bodies...)
	if !strings.Contains(log, "eu.siacs.conversations.axolotl") || !strings.Contains(log, "This message is OMEMO encrypted") {
		t.Fatal("the stanza log shows no OMEMO message: it proves nothing")
	}
	t.Logf("whole test %v", time.Since(start).Round(time.Millisecond))
}

func sortedIDs(ids map[*device]uint32, ds ...*device) []uint32 {
	var out []uint32
	for _, d := range ds {
		out = append(out, ids[d])
	}
	slices.Sort(out)
	return out
}

// copyDir copies a profile folder (files only): what a crash leaves on
// disk at that instant. It may run on a Manager's loop (no Fatal).
func copyDir(t *testing.T, from string) string {
	to := t.TempDir()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Error(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err == nil {
			err = os.WriteFile(filepath.Join(to, e.Name()), b, 0o600)
		}
		if err != nil {
			t.Error(err)
		}
	}
	return to
}
