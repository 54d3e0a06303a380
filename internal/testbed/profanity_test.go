package testbed_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/internal/testbed"
)

// TestProfanityOMEMO proves the profanity driver against itself: two
// profanity 0.13.1 over one Prosody, subscribed both ways, OMEMO on, one
// fingerprint verified each way out of band (read from the owner's own
// "/omemo fingerprint", trusted on the other side), a message each way
// arriving decrypted, and the server having seen only <encrypted> for
// them. Bob receives Alice's first message before he trusts her device:
// profanity decrypts it anyway (see the quirks in profanity.go).
func TestProfanityOMEMO(t *testing.T) {
	srv := testbed.Start(t, testbed.WithModules("pep", "offline"))
	aliceJID, alicePW := srv.AddUser(t, "alice")
	bobJID, bobPW := srv.AddUser(t, "bob")
	alice := testbed.StartProfanity(t, srv, aliceJID, alicePW)
	bob := testbed.StartProfanity(t, srv, bobJID, bobPW)
	testbed.SubscribeBoth(t, srv, aliceJID, alicePW, bobJID, bobPW)

	aliceDev := alice.GenerateOMEMO()
	bobDev := bob.GenerateOMEMO()
	aliceFP, bobFP := alice.Fingerprint(), bob.Fingerprint()
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	if !hex64.MatchString(aliceFP) || !hex64.MatchString(bobFP) || aliceFP == bobFP {
		t.Fatalf("fingerprints: alice %q, bob %q", aliceFP, bobFP)
	}
	t.Logf("alice device %s fingerprint %s; bob device %s fingerprint %s", aliceDev, aliceFP, bobDev, bobFP)

	alice.StartOMEMO(bobJID)
	if dev := alice.WaitFingerprint(bobJID, bobFP); dev != bobDev {
		t.Fatalf("alice knows bob's fingerprint under device %s, bob's device is %s", dev, bobDev)
	}
	alice.Trust(bobJID, bobFP)
	toBob := "to-bob-" + testbed.RandomPassword()
	alice.Send(bobJID, toBob)
	got := bob.WaitMessage(aliceJID, toBob)
	t.Logf("bob got %q at %s (alice not yet trusted)", got.Text, got.Time)

	bob.StartOMEMO(aliceJID)
	bob.Trust(aliceJID, aliceFP)
	toAlice := "to-alice-" + testbed.RandomPassword()
	bob.Send(aliceJID, toAlice)
	alice.WaitMessage(bobJID, toAlice)

	for _, p := range []struct {
		prof *testbed.Profanity
		pw   string
	}{{alice, alicePW}, {bob, bobPW}} {
		if strings.Contains(p.prof.Log(), p.pw) {
			t.Errorf("%s's password is in profanity's debug log", p.prof.JID())
		}
	}

	// Both messages were delivered, so Prosody has logged them.
	srv.Flush(t)
	log := srv.StanzaLog()
	for _, text := range []string{toBob, toAlice} {
		if strings.Contains(log, text) {
			t.Errorf("the server saw the plaintext %q", text)
		}
	}
	for _, dir := range [][2]string{{aliceJID, bobJID}, {bobJID, aliceJID}} {
		if n := countEncrypted(log, dir[0], dir[1]); n == 0 {
			t.Errorf("no OMEMO <encrypted> message from %s to %s in the stanza log", dir[0], dir[1])
		}
	}
}

// countEncrypted counts the legacy OMEMO messages Prosody delivered
// from from's profanity to to's.
func countEncrypted(log, from, to string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "SEND: <message") &&
			strings.Contains(line, "<encrypted xmlns='eu.siacs.conversations.axolotl'") &&
			strings.Contains(line, "from='"+from+"/") && strings.Contains(line, "to='"+to) {
			n++
		}
	}
	return n
}
