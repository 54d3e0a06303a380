package account

// OMEMO cases over the real Prosody: offline delivery, a restart after a
// crash, never in the clear, the loud new device, an unreadable keyring.

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sotto-im/sotto/internal/testbed"
	"github.com/sotto-im/sotto/secret"
)

// pair starts alice and bob (one device each) and makes them contacts
// who know each other's devices.
func omemoPair(t *testing.T, ao, bo deviceOpts) (srv *testbed.Server, a, b *device, aj, bj, apw, bpw string) {
	t.Helper()
	srv = omemoServer(t)
	aj, apw = srv.AddUser(t, "alice")
	bj, bpw = srv.AddUser(t, "bob")
	a = startDevice(t, srv, aj, apw, "a1", ao)
	b = startDevice(t, srv, bj, bpw, "b1", bo)
	befriend(t, a.peer, b.peer)
	a.knows(bj, b.ownID())
	b.knows(aj, a.ownID())
	return
}

func TestOMEMOFirstMessageWhilePeerOffline(t *testing.T) {
	srv := omemoServer(t)
	aj, apw := srv.AddUser(t, "alice")
	bj, bpw := srv.AddUser(t, "bob")
	b := startDevice(t, srv, bj, bpw, "b1", deviceOpts{})
	a := startDevice(t, srv, aj, apw, "a1", deviceOpts{}) // Opportunistic: plain would be allowed
	befriend(t, a.peer, b.peer)
	bid := b.ownID()
	b.knows(bj, bid) // published
	b.stop()
	// Alice has never talked to bob: the first line needs his list and
	// bundle, fetched while he is offline, and goes encrypted.
	first := "while you were away " + randomID()
	sendOK(t, a, bj, first)
	b2 := startDevice(t, srv, bj, bpw, "b1", deviceOpts{dir: b.profile.Dir, secrets: b.secrets})
	if got := b2.ownID(); got != bid {
		t.Fatalf("bob came back as device %d, was %d", got, bid)
	}
	m := b2.waitFor(0, "the offline message", omemoLine(aj, first)).(MessageReceived)
	if m.Time.IsZero() {
		t.Fatalf("offline line without time: %+v", m)
	}
	reply := "back now " + randomID()
	sendOK(t, b2, aj, reply)
	a.waitFor(0, "reply", omemoLine(bj, reply))
	assertNoPlaintext(t, srv, first, reply)
}

func TestOMEMOStateSurvivesKill(t *testing.T) {
	m1, m2 := "one "+randomID(), "two "+randomID()
	// The crash points: alice right as m2 is shown, bob right as m2 is
	// reported sent; the profile is copied there, in the loop.
	asrc, bsrc := t.TempDir(), t.TempDir()
	var adir, bdir string
	crashAt := func(dir *string, src string, pred func(Event) bool) Option {
		return func(o *options) {
			o.emitTap = func(e Event) {
				if *dir == "" && pred(e) {
					*dir = copyDir(t, src)
				}
			}
		}
	}
	srv, a, b, aj, bj, _, bpw := omemoPair(t,
		deviceOpts{dir: asrc, extra: []Option{crashAt(&adir, asrc, omemoLine("bob@localhost", m2))}},
		deviceOpts{dir: bsrc, extra: []Option{crashAt(&bdir, bsrc, func(e Event) bool {
			m, ok := e.(MessageStateChanged)
			return ok && m.Body == m2 && m.State == SentEncrypted
		})}})
	ids := []uint32{a.ownID(), b.ownID()}
	sendOK(t, a, bj, m1)
	b.waitFor(0, m1, omemoLine(aj, m1))
	sendOK(t, b, aj, m2)
	a.waitFor(0, m2, omemoLine(bj, m2))
	m2wire := b.wire()[len(b.wire())-1]
	a.stop()
	b.stop()
	a2 := startDevice(t, srv, aj, "", "a1", deviceOpts{dir: adir, secrets: a.secrets})
	b2 := startDevice(t, srv, bj, "", "b1", deviceOpts{dir: bdir, secrets: b.secrets})
	if got := []uint32{a2.ownID(), b2.ownID()}; got[0] != ids[0] || got[1] != ids[1] {
		t.Fatalf("devices after the restart %v, before %v", got, ids)
	}
	a2.knows(bj, ids[1])
	m3, m4 := "three "+randomID(), "four "+randomID()
	sendOK(t, a2, bj, m3)
	b2.waitFor(0, m3, omemoLine(aj, m3))
	// The session went on: no new session was started (a prekey message).
	if w := a2.wire(); len(w) == 0 || strings.Contains(w[len(w)-1], "prekey=") {
		t.Fatalf("alice started over after the restart: %q", w)
	}
	// The state on disk was saved before m2 was shown: the same message
	// again (a server replaying it after the crash) is not shown twice.
	replay := loginRaw(t, srv, bj, bpw, "replay")
	replay.sendRaw("<message xmlns='jabber:client' type='chat' id='r1' to='" + aj + "/a1'><body>fallback</body>" + m2wire + "</message>")
	replay.mustSend(aj+"/a1", "sentinel")
	a2.waitFor(0, "sentinel", isMsg(bj, "sentinel"))
	sendOK(t, b2, aj, m4)
	a2.waitFor(0, m4, omemoLine(bj, m4))
	a2.never(0, "m2 shown again", omemoLine(bj, m2))
	b2.never(0, "notice", func(e Event) bool {
		n, ok := e.(Notice)
		return ok && strings.Contains(n.Text, "could not be decrypted")
	})
	assertNoPlaintext(t, srv, m1, m2, m3, m4)
}

func TestOMEMONeverPlain(t *testing.T) {
	srv := omemoServer(t)
	aj, apw := srv.AddUser(t, "alice")
	bj, bpw := srv.AddUser(t, "bob")
	// Bob's list names a device whose bundle is nowhere (an old phone).
	ghost := loginRaw(t, srv, bj, bpw, "ghost")
	ghost.sendRaw(`<iq xmlns='jabber:client' type='set' id='g1'><pubsub xmlns='http://jabber.org/protocol/pubsub'>` +
		`<publish node='eu.siacs.conversations.axolotl.devicelist'><item id='current'><list xmlns='eu.siacs.conversations.axolotl'>` +
		`<device id='4242'/></list></item></publish><publish-options><x xmlns='jabber:x:data' type='submit'>` +
		`<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
		`<field var='pubsub#access_model'><value>open</value></field></x></publish-options></pubsub></iq>`)
	// Bob's real device comes after the ghost list: a new device, trusted
	// at once by the Preferences choice (the default holds it).
	a := startDevice(t, srv, aj, apw, "a1", deviceOpts{policy: Always, trustNew: true})
	a.until("the ghost list published", func() bool {
		for _, l := range strings.Split(srv.StanzaLog(), "\n") {
			if strings.Contains(l, "SEND: <iq") && strings.Contains(l, "id='g1'") && strings.Contains(l, "type='result'") {
				return true
			}
		}
		return false
	})

	s1 := "no session for this " + randomID()
	id1, err := a.m.Send(ctxT(t), Conversation{Account: aj, Peer: bj}, s1)
	if err != nil {
		t.Fatal(err)
	}
	a.waitFor(0, "queued", msgState(id1, Queued))
	ns := a.waitFor(0, "not sent", msgState(id1, NotSent)).(MessageStateChanged)
	if !strings.Contains(ns.Reason, "OMEMO devices can be reached") {
		t.Fatalf("reason %q", ns.Reason)
	}

	// Bob's real device comes: his list keeps the ghost and adds it.
	b := startDevice(t, srv, bj, bpw, "b1", deviceOpts{})
	bid := b.ownID()
	b.knows(bj, 4242, bid)
	s2 := "now there is one " + randomID()
	id2, err := a.m.Send(ctxT(t), Conversation{Account: aj, Peer: bj}, s2)
	if err != nil {
		t.Fatal(err)
	}
	a.waitFor(0, "sent encrypted", msgState(id2, SentEncrypted))
	b.waitFor(0, s2, omemoLine(aj, s2))

	// A message this device cannot decrypt is a notice, never its
	// fallback body as a line.
	fallback := "fallback " + randomID()
	ghost.sendRaw("<message xmlns='jabber:client' type='chat' id='u1' to='" + aj + "/a1'><body>" + fallback + "</body>" +
		"<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='4242'><key rid='7'>AAAA</key><iv>AAAAAAAAAAAAAAAA</iv></header>" +
		"<payload>AAAA</payload></encrypted></message>")
	ghost.mustSend(aj+"/a1", "sentinel")
	a.waitFor(0, "sentinel", isMsg(bj, "sentinel"))
	a.waitFor(0, "undecryptable notice", func(e Event) bool {
		n, ok := e.(Notice)
		return ok && strings.HasPrefix(n.Text, bj+"'s message could not be decrypted on this device")
	})
	a.never(0, "fallback shown", func(e Event) bool {
		m, ok := e.(MessageReceived)
		return ok && strings.Contains(m.Body, fallback)
	})
	assertNoPlaintext(t, srv, s1, s2)
}

func TestOMEMONewDeviceOfVerifiedContactIsLoud(t *testing.T) {
	srv, a, b1, aj, bj, _, bpw := omemoPair(t, deviceOpts{}, deviceOpts{})
	ctx := ctxT(t)
	first := "hello " + randomID()
	sendOK(t, a, bj, first)
	b1.waitFor(0, first, omemoLine(aj, first))
	// Alice compares bob's fingerprint (as his device shows it) and
	// verifies it.
	own, err := b1.m.OwnOMEMO(ctx, bj)
	if err != nil {
		t.Fatal(err)
	}
	mk := a.rec.mark()
	if err := a.m.SetOMEMOTrust(ctx, aj, bj, own.Device, strings.Repeat("0", 64), OMEMOVerified); err == nil {
		t.Fatal("a wrong fingerprint was accepted")
	}
	if err := a.m.SetOMEMOTrust(ctx, aj, bj, own.Device, own.Fingerprint, OMEMOVerified); err != nil {
		t.Fatal(err)
	}
	a.waitFor(mk, "Private", isLevel(bj, Private))

	mk = a.rec.mark()
	b2 := startDevice(t, srv, bj, bpw, "b2", deviceOpts{})
	b2id := b2.ownID()
	loud := a.waitFor(mk, "loud new device", func(e Event) bool {
		s, ok := e.(SecurityChanged)
		return ok && s.KeyChanged
	}).(SecurityChanged)
	if loud.Level != Unverified || loud.Protocol != "OMEMO" || !strings.Contains(loud.Reason, "new device") {
		t.Fatalf("new device reported as %+v", loud)
	}
	b2.knows(aj, a.ownID())
	fromOld, fromNew := "old device "+randomID(), "new device "+randomID()
	sendOK(t, b1, aj, fromOld)
	sendOK(t, b2, aj, fromNew)
	if m := a.waitFor(0, fromOld, omemoLine(bj, fromOld)).(MessageReceived); m.Level != Private || m.Fingerprint != own.Fingerprint {
		t.Fatalf("line from the verified device: %+v", m)
	}
	if m := a.waitFor(0, fromNew, omemoLine(bj, fromNew)).(MessageReceived); m.Level != Unverified {
		t.Fatalf("line from the new device: %+v", m)
	}
	if s := a.m.Security(Conversation{Account: aj, Peer: bj}); s.Level != Unverified {
		t.Fatalf("conversation %+v, want Unverified while the new device is not verified", s)
	}
	// Verifying the new one too makes the conversation Private again.
	devs, err := a.m.OMEMODevices(ctx, aj, bj)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if d.Device == b2id {
			mk = a.rec.mark()
			if err := a.m.SetOMEMOTrust(ctx, aj, bj, b2id, d.Fingerprint, OMEMOVerified); err != nil {
				t.Fatal(err)
			}
			a.waitFor(mk, "Private again", isLevel(bj, Private))
		}
	}
	if s := a.m.Security(Conversation{Account: aj, Peer: bj}); s.Level != Private {
		t.Fatalf("after verifying both: %+v (devices %+v)", s, devs)
	}
}

// lockedOMEMO is a keyring whose OMEMO key cannot be read (locked),
// while the password can; it records any attempt to replace the key.
type lockedOMEMO struct {
	secret.Store
	mu       sync.Mutex
	replaced bool
}

func (s *lockedOMEMO) Get(ctx context.Context, key string) ([]byte, error) {
	if strings.HasPrefix(key, "omemo-key:") {
		return nil, secret.ErrLocked
	}
	return s.Store.Get(ctx, key)
}

func (s *lockedOMEMO) Set(ctx context.Context, key string, v []byte) error {
	if strings.HasPrefix(key, "omemo-key:") {
		s.mu.Lock()
		s.replaced = true
		s.mu.Unlock()
	}
	return s.Store.Set(ctx, key, v)
}

func TestOMEMOLockedKeyNeverReplacedNeverPlain(t *testing.T) {
	store := &lockedOMEMO{Store: secret.NewMemory()}
	srv := omemoServer(t)
	bj, bpw := srv.AddUser(t, "bob")
	b := startDevice(t, srv, bj, bpw, "b1", deviceOpts{})
	b.knows(bj, b.ownID())
	cj, cpw := srv.AddUser(t, "carol")
	c := startDevice(t, srv, cj, cpw, "c1", deviceOpts{secrets: store})
	c.waitFor(0, "unavailable notice", func(e Event) bool {
		n, ok := e.(Notice)
		return ok && strings.Contains(n.Text, "OMEMO is not available")
	})
	befriend(t, c.peer, b.peer)
	// Carol knows bob uses OMEMO (his list), but cannot use it: a line
	// to him is not sent rather than sent in the clear.
	c.until("bob's list", func() bool {
		var ok bool
		_ = c.m.accountCall(ctxT(t), cj, func(cl *client, reply func(error)) {
			ok = len(cl.om().lists[bj].Devices) > 0
			reply(nil)
		})
		return ok
	})
	text := "must not leak " + randomID()
	id, err := c.m.Send(ctxT(t), Conversation{Account: cj, Peer: bj}, text)
	if err != nil {
		t.Fatal(err)
	}
	ns := c.waitFor(0, "not sent", msgState(id, NotSent)).(MessageStateChanged)
	if !strings.Contains(ns.Reason, "OMEMO is not available") {
		t.Fatalf("reason %q", ns.Reason)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if store.replaced {
		t.Fatal("the OMEMO key was replaced although it could not be read")
	}
	if _, err := c.m.OwnOMEMO(ctxT(t), cj); err == nil || !strings.Contains(err.Error(), "not available") {
		t.Fatalf("OwnOMEMO: %v", err)
	}
	// The archive was not read either (mam.go): its mark would move past
	// messages this device can decrypt once the keyring opens. (The
	// archive's answers came long before the round trips above.)
	if mk, ok := c.profile.ArchiveMark(cj); ok {
		t.Fatalf("the archive was read while OMEMO was unavailable (mark %q)", mk)
	}
	assertNoPlaintext(t, srv, text)
}

// TestOMEMOLostSessionRepaired: bob's device comes back from an old copy
// of its state (a restored backup) that has no session with alice. Her
// next message cannot be read there (a plain notice); bob's device offers
// a new session, and her message after that is read.
func TestOMEMOLostSessionRepaired(t *testing.T) {
	bsrc := t.TempDir()
	srv, a, b, aj, bj, _, _ := omemoPair(t, deviceOpts{}, deviceOpts{dir: bsrc})
	backup := copyDir(t, bsrc) // before any session with alice
	m1 := "before the loss " + randomID()
	sendOK(t, a, bj, m1)
	b.waitFor(0, m1, omemoLine(aj, m1))
	b.stop()
	b2 := startDevice(t, srv, bj, "", "b1", deviceOpts{dir: backup, secrets: b.secrets})
	b2.ownID()
	m2, m3 := "lost "+randomID(), "after the repair "+randomID()
	sent := len(a.wire())
	sendOK(t, a, bj, m2)
	b2.waitFor(0, "notice", func(e Event) bool {
		n, ok := e.(Notice)
		return ok && strings.Contains(n.Text, "a new one is offered")
	})
	// Alice answers the new session with a key transport of her own:
	// she has taken it.
	a.until("alice's key transport", func() bool {
		for _, w := range a.wire()[sent:] {
			if strings.HasPrefix(w, omemoPrefix) && !strings.Contains(w, "<payload>") {
				return true
			}
		}
		return false
	})
	sendOK(t, a, bj, m3)
	b2.waitFor(0, m3, omemoLine(aj, m3))
	b2.never(0, "the lost line", omemoLine(aj, m2))
	assertNoPlaintext(t, srv, m1, m2, m3)
}

// TestOMEMOFirstLineWaitsForTheList: alice (policy Opportunistic, plain
// allowed) writes to bob for the first time; she has never seen his
// device list (no subscription, so no notification). The line waits for
// the list, and goes encrypted with OMEMO, not in the clear.
func TestOMEMOFirstLineWaitsForTheList(t *testing.T) {
	srv := omemoServer(t)
	aj, apw := srv.AddUser(t, "alice")
	bj, bpw := srv.AddUser(t, "bob")
	b := startDevice(t, srv, bj, bpw, "b1", deviceOpts{})
	b.knows(bj, b.ownID())
	a := startDevice(t, srv, aj, apw, "a1", deviceOpts{})
	a.ownID()
	first := "first words " + randomID()
	id, err := a.m.Send(ctxT(t), Conversation{Account: aj, Peer: bj}, first)
	if err != nil {
		t.Fatal(err)
	}
	st := a.waitFor(0, "sent", func(e Event) bool {
		m, ok := e.(MessageStateChanged)
		return ok && m.ID == id && (m.State == SentEncrypted || m.State == SentPlain || m.State == NotSent)
	}).(MessageStateChanged)
	if st.State != SentEncrypted {
		t.Fatalf("first line %v (%s), want sent encrypted", st.State, st.Reason)
	}
	b.waitFor(0, first, omemoLine(aj, first))
	assertNoPlaintext(t, srv, first)
}

// TestOMEMOSwitchedToOTR: alice chooses OTR for bob although he
// publishes OMEMO devices: his OMEMO lines are still read, hers go with
// OTR; the choice survives a restart (it is in the state file).
func TestOMEMOSwitchedToOTR(t *testing.T) {
	srv, a, b, aj, bj, apw, _ := omemoPair(t, deviceOpts{policy: Always}, deviceOpts{})
	ctx := ctxT(t)
	if err := a.m.UseOMEMO(ctx, aj, bj, false); err != nil {
		t.Fatal(err)
	}
	back := "with OMEMO " + randomID()
	sendOK(t, b, aj, back)
	a.waitFor(0, back, omemoLine(bj, back))
	text := "with OTR " + randomID()
	sendOK(t, a, bj, text)
	if m := b.waitFor(0, text, isMsg(aj, text)).(MessageReceived); m.Protocol != "OTR" || !m.Encrypted {
		t.Fatalf("bob got %+v, want an OTR line", m)
	}
	a.stop()
	a2 := startDevice(t, srv, aj, apw, "a1", deviceOpts{dir: a.profile.Dir, secrets: a.secrets})
	a2.ownID()
	if use, err := a2.m.UsesOMEMO(ctx, aj, bj); err != nil || use {
		t.Fatalf("after a restart UsesOMEMO = %v, %v; want false", use, err)
	}
	assertNoPlaintext(t, srv, text, back)
}

// TestOMEMOServerWithoutPEPIsQuiet: on a server without PEP (no
// mod_pep), OMEMO is simply not there: no warning in the account's
// window about device lists or keys that could not be read or
// published. A ping through the loop after the OMEMO state is ready
// shows the server's answers to the PEP requests were handled.
func TestOMEMOServerWithoutPEPIsQuiet(t *testing.T) {
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), extra: []Option{WithOMEMO(true)}})
	a.connect()
	c, _ := a.m.client(a.jid)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ready := false
		if err := c.call(ctxT(t), func(reply func(error)) { ready = c.om().phase == omemoReady; reply(nil) }); err != nil {
			t.Fatal(err)
		}
		if ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the OMEMO state never loaded")
		}
		time.Sleep(20 * time.Millisecond)
	}
	loopRoster(t, a) // a ping through the loop: every earlier answer was handled
	a.rec.mu.Lock()
	defer a.rec.mu.Unlock()
	for _, e := range a.rec.events {
		if n, ok := e.(Notice); ok && strings.Contains(n.Text, "OMEMO") {
			t.Fatalf("a server without PEP gave the notice %q", n.Text)
		}
	}
}

// TestOMEMOSignedPreKeyRotates: a device signed in a week after its
// signed prekey was made publishes a new one (id 2), and its sessions go
// on.
func TestOMEMOSignedPreKeyRotates(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	clk := WithClock(func() time.Time { return time.Unix(0, clock.Load()) })
	srv, a, b, aj, bj, _, bpw := omemoPair(t, deviceOpts{}, deviceOpts{extra: []Option{clk}})
	bid := b.ownID()
	m1, m2, m3 := "one "+randomID(), "two "+randomID(), "three "+randomID()
	sendOK(t, a, bj, m1)
	b.waitFor(0, m1, omemoLine(aj, m1))
	sendOK(t, b, aj, m2)
	a.waitFor(0, m2, omemoLine(bj, m2))
	node := regexp.QuoteMeta("eu.siacs.conversations.axolotl.bundles:" + strconv.FormatUint(uint64(bid), 10))
	spk := regexp.MustCompile(`RECV: <iq[^\n]*<publish node=["']` + node + `["'][^\n]*signedPreKeyId=["'](\d+)["']`)
	published := func() map[string]bool {
		srv.Flush(t)
		ids := map[string]bool{}
		for _, m := range spk.FindAllStringSubmatch(srv.StanzaLog(), -1) {
			ids[m[1]] = true
		}
		return ids
	}
	if ids := published(); !ids["1"] || len(ids) != 1 {
		t.Fatalf("signed prekeys published before a week: %v", ids)
	}
	b.stop()
	clock.Add(int64(8 * 24 * time.Hour))
	b = startDevice(t, srv, bj, bpw, "b1", deviceOpts{dir: b.profile.Dir, secrets: b.secrets, extra: []Option{clk}})
	b.until("a bundle with signed prekey 2", func() bool { return published()["2"] })
	sendOK(t, a, bj, m3)
	b.waitFor(0, m3, omemoLine(aj, m3))
	b.never(0, "an undecryptable notice", undecryptable)
}

// heldDevice reports whether d sees device id of jid as held.
func (d *device) held(jid string, id uint32) bool {
	d.t.Helper()
	devs, err := d.m.OMEMODevices(context.Background(), d.jid, jid)
	if err != nil {
		d.t.Fatal(err)
	}
	for _, x := range devs {
		if x.Device == id {
			return x.Held
		}
	}
	d.t.Fatalf("%s does not know %s's device %d", d.jid, jid, id)
	return false
}

// TestOMEMONewDevicesHeld: no blind trust. A device a contact adds after
// the first list alice saw gets none of her messages until she accepts
// or verifies it; with Preferences' "trust new devices of unverified
// contacts" it gets them at once, but never once one of the contact's
// devices is verified.
func TestOMEMONewDevicesHeld(t *testing.T) {
	srv, a, b1, aj, bj, _, bpw := omemoPair(t, deviceOpts{}, deviceOpts{})
	ctx := ctxT(t)
	ids := map[string]uint32{"b1": b1.ownID()}
	join := func(res string) *device {
		t.Helper()
		mk := a.rec.mark()
		d := startDevice(t, srv, bj, bpw, res, deviceOpts{})
		ids[res] = d.ownID()
		want := []uint32{}
		for _, id := range ids {
			want = append(want, id)
		}
		a.knows(bj, want...)
		a.until("a session with "+res, func() bool {
			devs, _ := a.m.OMEMODevices(context.Background(), aj, bj)
			return slices.ContainsFunc(devs, func(x OMEMODevice) bool { return x.Device == ids[res] && x.HasSession })
		})
		if a.held(bj, ids[res]) {
			a.waitFor(mk, "the line about the new device", func(e Event) bool {
				n, ok := e.(Notice)
				return ok && strings.Contains(n.Text, "new OMEMO device ("+strconv.FormatUint(uint64(ids[res]), 10)+")")
			})
		}
		return d
	}
	to := func(res ...string) {
		t.Helper()
		body := "to " + strings.Join(res, "+") + " " + randomID()
		sendOK(t, a, bj, body)
		var want []uint32
		for _, r := range res {
			want = append(want, ids[r])
		}
		slices.Sort(want)
		if got := a.lastRecipients(); !slices.Equal(got, want) {
			t.Fatalf("%q went to %v, want %v (%v)", body, got, want, ids)
		}
	}
	to("b1")
	b2 := join("b2")
	if !a.held(bj, ids["b2"]) {
		t.Fatal("bob's new device is not held")
	}
	to("b1")
	// Alice accepts it without verifying.
	var fp string
	devs, _ := a.m.OMEMODevices(ctx, aj, bj)
	for _, d := range devs {
		if d.Device == ids["b2"] {
			fp = d.Fingerprint
		}
	}
	if err := a.m.SetOMEMOTrust(ctx, aj, bj, ids["b2"], fp, OMEMOUndecided); err != nil {
		t.Fatal(err)
	}
	to("b1", "b2")
	_ = b2

	// Preferences: trust new devices of unverified contacts.
	pr := a.profile.Prefs()
	pr.OMEMOTrustNewDevices = true
	if err := a.profile.SavePrefs(pr); err != nil {
		t.Fatal(err)
	}
	join("b3")
	if a.held(bj, ids["b3"]) {
		t.Fatal("a new device of an unverified contact is held although Preferences trust them")
	}
	to("b1", "b2", "b3")

	// Once a device of bob is verified, new ones wait, whatever the choice.
	own, err := b1.m.OwnOMEMO(ctx, bj)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.m.SetOMEMOTrust(ctx, aj, bj, ids["b1"], own.Fingerprint, OMEMOVerified); err != nil {
		t.Fatal(err)
	}
	join("b4")
	if !a.held(bj, ids["b4"]) {
		t.Fatal("a new device of a verified contact got messages at once")
	}
	to("b1", "b2", "b3")
	if s := a.m.Security(Conversation{Account: aj, Peer: bj}); s.Level != Unverified {
		t.Fatalf("conversation %+v with devices not verified", s)
	}
}

// TestOMEMOOwnNewDeviceHeld: a device our own account adds after the
// first list this device saw gets no copies of what is sent from here
// until it is accepted or verified (someone with the password could
// otherwise add one and read along); the new device itself takes the
// list it first sees as it is. Alice's a1 is told in plain words.
func TestOMEMOOwnNewDeviceHeld(t *testing.T) {
	srv, a1, _, aj, bj, apw, _ := omemoPair(t, deviceOpts{}, deviceOpts{})
	ctx := ctxT(t)
	sendOK(t, a1, bj, "before a2 "+randomID())
	mk := a1.rec.mark()
	a2 := startDevice(t, srv, aj, apw, "a2", deviceOpts{})
	id1, id2 := a1.ownID(), a2.ownID()
	a1.knows(aj, id1, id2)
	a1.until("a session with a2", func() bool {
		devs, _ := a1.m.OMEMODevices(context.Background(), aj, aj)
		return slices.ContainsFunc(devs, func(x OMEMODevice) bool { return x.Device == id2 && x.HasSession })
	})
	if !a1.held(aj, id2) {
		t.Fatal("a new device of our own account is not held")
	}
	a1.waitFor(mk, "the line about our new device", func(e Event) bool {
		n, ok := e.(Notice)
		return ok && n.Conv.Peer == "" && strings.Contains(n.Text, "your account has a new OMEMO device ("+
			strconv.FormatUint(uint64(id2), 10)+")")
	})
	a2.knows(aj, id1, id2)
	if a2.held(aj, id1) {
		t.Fatal("the new device holds the devices of the first list it saw")
	}
	body := "while a2 is held " + randomID()
	sendOK(t, a1, bj, body)
	if got := a1.lastRecipients(); slices.Contains(got, id2) {
		t.Fatalf("%q went to the held own device: %v", body, got)
	}
	var fp string
	devs, _ := a1.m.OMEMODevices(ctx, aj, aj)
	for _, d := range devs {
		if d.Device == id2 {
			fp = d.Fingerprint
		}
	}
	if err := a1.m.SetOMEMOTrust(ctx, aj, aj, id2, fp, OMEMOUndecided); err != nil {
		t.Fatal(err)
	}
	body = "after a2 was accepted " + randomID()
	sendOK(t, a1, bj, body)
	if got := a1.lastRecipients(); !slices.Contains(got, id2) {
		t.Fatalf("%q did not go to the accepted own device: %v", body, got)
	}
	a2.waitFor(0, body, carbonLine(bj, body))
}
