package account

import (
	"strconv"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/internal/testbed"
)

// TestOMEMOWithProfanity: Sotto and profanity 0.13.1 (libsignal-protocol-c,
// an independent OMEMO implementation) over Prosody: a message each way,
// decrypted; each side verifies the other's fingerprint as the owner's
// own client shows it; after that Sotto labels profanity's lines Private;
// the server saw no plaintext.
func TestOMEMOWithProfanity(t *testing.T) {
	srv := omemoServer(t)
	aj, apw := srv.AddUser(t, "alice")
	bj, bpw := srv.AddUser(t, "bob")
	bob := testbed.StartProfanity(t, srv, bj, bpw)
	testbed.SubscribeBoth(t, srv, aj, apw, bj, bpw)
	a := startDevice(t, srv, aj, apw, "sotto", deviceOpts{})
	a.ownID()
	own, err := a.m.OwnOMEMO(ctxT(t), aj)
	if err != nil {
		t.Fatal(err)
	}
	bobDev, err := strconv.ParseUint(bob.GenerateOMEMO(), 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	bobFP := bob.Fingerprint()
	a.knows(bj, uint32(bobDev))

	toBob := "sotto to profanity " + randomID()
	sendOK(t, a, bj, toBob)
	bob.WaitMessage(aj, toBob)

	// Bob trusts alice's device by the fingerprint her Sotto shows.
	bob.StartOMEMO(aj)
	bob.Trust(aj, own.Fingerprint)
	toAlice := "profanity to sotto " + randomID()
	bob.Send(aj, toAlice)
	if m := a.waitFor(0, toAlice, omemoLine(bj, toAlice)).(MessageReceived); m.Level != Unverified || m.Fingerprint != bobFP {
		t.Fatalf("alice got %+v; want Unverified from fingerprint %s", m, bobFP)
	}

	// Alice verifies bob's device: the fingerprint Sotto knows for it is
	// the one profanity shows as its own.
	devs, err := a.m.OMEMODevices(ctxT(t), aj, bj)
	if err != nil || len(devs) != 1 || devs[0].Device != uint32(bobDev) || devs[0].Fingerprint != bobFP {
		t.Fatalf("alice knows bob's devices %+v (%v), profanity says %d %s", devs, err, bobDev, bobFP)
	}
	mk := a.rec.mark()
	if err := a.m.SetOMEMOTrust(ctxT(t), aj, bj, uint32(bobDev), bobFP, OMEMOVerified); err != nil {
		t.Fatal(err)
	}
	a.waitFor(mk, "Private", isLevel(bj, Private))
	again := "verified now " + randomID()
	bob.Send(aj, again)
	if m := a.waitFor(0, again, omemoLine(bj, again)).(MessageReceived); m.Level != Private {
		t.Fatalf("after verifying: %+v", m)
	}
	reply := "and back " + randomID()
	sendOK(t, a, bj, reply)
	bob.WaitMessage(aj, reply)
	srv.Flush(t)
	log := srv.StanzaLog()
	for _, s := range []string{toBob, toAlice, again, reply} {
		if strings.Contains(log, s) {
			t.Errorf("the server saw %q", s)
		}
	}
}
