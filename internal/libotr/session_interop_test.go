//go:build libotr

package libotr

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sotto-im/sotto/otr"
)

// TestInteropLibotrEnds: libotr disconnects; we must go to Finished,
// report it, refuse to send, and be able to start over.
func TestInteropLibotrEnds(t *testing.T) {
	for _, c := range []akeCase{akeCases[0], akeCases[4]} {
		t.Run(c.name, func(t *testing.T) {
			lib, o := goSecure(t, c, 0)
			lib.Disconnect(ourName)
			if st := lib.MessageState(ourName); st != "plaintext" {
				t.Fatalf("libotr after disconnect: %s", st)
			}
			pump(t, lib, o)
			ourEv := o.Events()
			noTrouble(t, lib, lib.Events(), o, ourEv)
			mustOurEvent(t, ourEv, otr.EventPeerEnded)
			if o.conv.State() != otr.StateFinished {
				t.Fatalf("our state %v, want finished", o.conv.State())
			}
			res, err := o.conv.Send([]byte("are you there?"))
			if !errors.Is(err, otr.ErrFinished) || len(res.Send) != 0 {
				t.Fatalf("Send in Finished: %q, %v", res.Send, err)
			}
			// A plaintext from libotr now is a plaintext to us (warned).
			w, _ := lib.Send(ourName, "plain again")
			if p := o.receive(w[0]); string(p) != "plain again" {
				t.Fatalf("ours shown %q", p)
			}
			o.must(o.conv.End())
			if o.conv.State() != otr.StatePlaintext || len(o.Outbox()) != 0 {
				t.Fatalf("End from Finished: state %v", o.conv.State())
			}
			o.Events()
			ourQuery(t, lib, o)
			pump(t, lib, o)
			checkSecure(t, lib, o, c.version)
			exchange(t, lib, o, "back again", "welcome back")
		})
	}
}

// TestInteropOursEnds: we end; libotr must go to finished and refuse to
// send until its user ends too.
func TestInteropOursEnds(t *testing.T) {
	for _, c := range []akeCase{akeCases[0], akeCases[4]} {
		t.Run(c.name, func(t *testing.T) {
			lib, o := goSecure(t, c, 0)
			o.must(o.conv.End())
			if o.conv.State() != otr.StatePlaintext {
				t.Fatalf("our state after End: %v", o.conv.State())
			}
			pump(t, lib, o)
			libEv := lib.Events()
			noTrouble(t, lib, libEv, o, o.Events())
			if st := lib.MessageState(ourName); st != "finished" {
				t.Fatalf("libotr state %s after our End (events %v)", st, libEv)
			}
			w, err := lib.Send(ourName, "hello?")
			if err != nil || len(w) != 0 {
				t.Fatalf("libotr sent %q in finished (%v)", w, err)
			}
			mustMsgEvent(t, "libotr", lib.Events(), MsgEventConnectionEnded)
			lib.Disconnect(ourName)
			if lib.MessageState(ourName) != "plaintext" || len(lib.Outbox()) != 0 {
				t.Fatalf("libotr disconnect from finished: %s", lib.MessageState(ourName))
			}
			libQuery(t, lib, o)
			pump(t, lib, o)
			checkSecure(t, lib, o, c.version)
			exchange(t, lib, o, "again", "again back")
		})
	}
}

// TestInteropExtraSymmetricKey: both directions must derive the same key
// and carry use and use-data intact (v3 only).
func TestInteropExtraSymmetricKey(t *testing.T) {
	lib, o := goSecure(t, akeCases[0], 0)
	key, res, err := o.conv.ExtraSymmetricKey(0x01020304, []byte("file-transfer:42"))
	if err != nil {
		t.Fatal(err)
	}
	o.take(res, nil)
	pump(t, lib, o)
	e := mustEvent(t, "libotr", lib.Events(), EventSymKey)
	if e.Key != key || e.Use != 0x01020304 || string(e.UseData) != "file-transfer:42" {
		t.Fatalf("libotr got key %x use %#x data %q; we have %x", e.Key, e.Use, e.UseData, key)
	}
	lkey, err := lib.ExtraSymmetricKey(ourName, 7, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	pump(t, lib, o)
	oe := mustOurEvent(t, o.Events(), otr.EventExtraKey)
	if oe.ExtraKey != lkey || oe.ExtraUse != 7 || string(oe.ExtraUseData) != "x" {
		t.Fatalf("ours got key %x use %d data %q; libotr has %x", oe.ExtraKey, oe.ExtraUse, oe.ExtraUseData, lkey)
	}
	if bytes.Equal(key[:], lkey[:]) {
		t.Fatal("two different data messages gave the same extra key")
	}
	exchange(t, lib, o, "after keys", "ok")
}

// TestInteropOursRestarted: our side loses its session (app restart, same
// key and instance tag) while libotr is still encrypted. libotr's next data
// message is unreadable to us; we answer with an OTR error, libotr
// (ERROR_START_AKE) re-queries, and the session comes back.
func TestInteropOursRestarted(t *testing.T) {
	lib, o := goSecure(t, akeCases[0], 0)
	lib.SetPolicy(PolicyManual | PolicyErrorStartAKE)
	o2 := newOursWithTag(t, o.key, otr.PolicyManual, 0, o.conv.OurInstanceTag())
	w, err := lib.Send(ourName, "you won't read this")
	if err != nil {
		t.Fatal(err)
	}
	if p := o2.receive(w[0]); p != nil {
		t.Fatalf("restarted side showed %q", p)
	}
	ev := o2.Events()
	mustOurEvent(t, ev, otr.EventUnreadable)
	errMsg := o2.Outbox()
	if len(errMsg) != 1 || !strings.HasPrefix(string(errMsg[0]), "?OTR Error:") {
		t.Fatalf("restarted side replied %q", errMsg)
	}
	o2.errs = nil
	s, ig, err := lib.Receive(ourName, string(errMsg[0]))
	if err != nil || !ig {
		t.Fatalf("libotr on our error: %q ignored=%v %v", s, ig, err)
	}
	mustMsgEvent(t, "libotr", lib.Events(), MsgEventRcvdGeneralErr)
	pump(t, lib, o2)
	// libotr keeps its (same-fingerprint) session and reports still_secure.
	checkSecureWith(t, lib, o2, 3, EventStillSecure)
	exchange(t, lib, o2, "recovered", "yes")
}

// TestInteropLibotrRestarted: libotr loses its session (restart with the
// same key and instance tag) while we are encrypted. libotr silently drops
// our data message (it never answers in plaintext, see message.c), so the
// user restarts OTR from our side, and the new AKE must replace the old
// session on our side.
func TestInteropLibotrRestarted(t *testing.T) {
	lib, o := goSecure(t, akeCases[0], 0)
	lib2 := newLib(t, PolicyManual, 0)
	if err := lib2.SetInstanceTag(lib.InstanceTag()); err != nil {
		t.Fatal(err)
	}
	res, err := o.conv.Send([]byte("lost"))
	if err != nil {
		t.Fatal(err)
	}
	// libotr only creates a context for an unknown sender instance on a
	// DH-Commit, so our data message is dropped without a word.
	s, ig, _ := lib2.Receive(ourName, string(res.Send[0]))
	if !ig || len(lib2.Outbox()) != 0 {
		t.Fatalf("restarted libotr showed %q / answered", s)
	}
	lib2.Events()
	ourQuery(t, lib2, o)
	pump(t, lib2, o)
	libEv, ourEv := lib2.Events(), o.Events()
	noTrouble(t, lib2, libEv, o, ourEv)
	_, gone := hasOurEvent(ourEv, otr.EventGoneSecure)
	_, still := hasOurEvent(ourEv, otr.EventStillSecure)
	if !gone && !still {
		t.Fatalf("ours: no secure event after re-AKE: %v", ourEv)
	}
	mustEvent(t, "libotr", libEv, EventGoneSecure)
	exchange(t, lib2, o, "recovered", "yes")
}

// TestInteropOurHeartbeat: after libotr's message, once our heartbeat
// interval has passed, Tick sends an empty data message that libotr logs
// as a heartbeat and does not show.
func TestInteropOurHeartbeat(t *testing.T) {
	lib, o := goSecure(t, akeCases[0], 0)
	w, _ := lib.Send(ourName, "ping")
	if p := o.receive(w[0]); string(p) != "ping" {
		t.Fatalf("shown %q", p)
	}
	if res := o.conv.Tick(); len(res.Send) != 0 {
		t.Fatalf("heartbeat before the interval: %q", res.Send)
	}
	o.now = o.now.Add(61 * time.Second)
	res := o.conv.Tick()
	if len(res.Send) != 1 {
		t.Fatalf("no heartbeat after 61 s: %q", res.Send)
	}
	s, ig, _ := lib.Receive(ourName, string(res.Send[0]))
	if !ig {
		t.Fatalf("libotr showed our heartbeat as %q", s)
	}
	mustMsgEvent(t, "libotr", lib.Events(), MsgEventLogHeartbeatRcvd)
	if res := o.conv.Tick(); len(res.Send) != 0 {
		t.Fatalf("second heartbeat without new data: %q", res.Send)
	}
	exchange(t, lib, o, "after heartbeat", "ok")
}

// TestInteropStaleMessageToLibotr: a data message from an old session
// reaches libotr after a re-AKE. libotr answers with an OTR error; we
// (ERROR_START_AKE) report it and start a new AKE.
func TestInteropStaleMessageToLibotr(t *testing.T) {
	lib, o := goSecure(t, akeCases[2], 0) // opportunistic both sides
	stale, err := o.conv.Send([]byte("from the old session"))
	if err != nil {
		t.Fatal(err)
	}
	o.Events()
	ourQuery(t, lib, o)
	pump(t, lib, o)
	noTrouble(t, lib, lib.Events(), o, o.Events())
	// After a second exchange both sides have rotated past the old keys.
	exchange(t, lib, o, "new session", "yes")
	exchange(t, lib, o, "new session 2", "yes 2")
	s, ig, _ := lib.Receive(ourName, string(stale.Send[0]))
	if !ig {
		t.Fatalf("libotr showed stale message %q", s)
	}
	libEv := lib.Events()
	mustMsgEvent(t, "libotr", libEv, MsgEventRcvdUnreadable)
	errMsg := lib.Outbox()
	if len(errMsg) != 1 || !strings.HasPrefix(errMsg[0], "?OTR Error:") {
		t.Fatalf("libotr answered %q", errMsg)
	}
	if p := o.receive(errMsg[0]); p != nil {
		t.Logf("ours shows the error text %q", p)
	}
	ourEv := o.Events()
	if e := mustOurEvent(t, ourEv, otr.EventErrorReceived); !strings.Contains(e.Text, "unreadable") {
		t.Fatalf("error event text %q", e.Text)
	}
	// ErrorStartAKE: we must have sent something that restarts OTR.
	if len(o.out) == 0 {
		t.Fatal("ours did not restart the AKE after the error")
	}
	o.errs = nil
	pump(t, lib, o)
	noTrouble(t, lib, lib.Events(), o, o.Events())
	if lib.MessageState(ourName) != "encrypted" || o.conv.State() != otr.StateEncrypted {
		t.Fatal("not encrypted after error-started AKE")
	}
	exchange(t, lib, o, "after error", "ok")
}
