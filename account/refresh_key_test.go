package account

import (
	"testing"

	"github.com/sotto-im/sotto/otr"
)

// A refresh after the peer came back (or after our reconnect) that ends
// with a different key — one seen before for this contact but never
// verified, e.g. a key a man in the middle used earlier — must be reported:
// the conversation is no longer Private. It used to be silent because a
// refresh with a "known" key was taken for the same session.
func TestRefreshWithOtherKnownKeyIsReported(t *testing.T) {
	p, fs := pipeAccount(t)
	fs.send(`<presence xmlns='jabber:client' from='bob@localhost/laptop'/>`)
	bob := newTestBob(t, fs, "laptop")
	laptop := Conversation{Account: p.jid, Peer: "bob@localhost", Resource: "laptop"}
	if err := p.m.StartPrivate(ctxT(t), laptop); err != nil {
		t.Fatal(err)
	}
	bob.pump("AKE", func() bool { return bob.conv.State() == otr.StateEncrypted })
	first := p.waitFor(0, "unverified", func(e Event) bool {
		s, ok := e.(SecurityChanged)
		return ok && s.Conv == laptop && s.Level == Unverified
	}).(SecurityChanged)
	if err := p.m.SetVerified(ctxT(t), p.jid, "bob@localhost", first.Fingerprint, true); err != nil {
		t.Fatal(err)
	}
	p.waitFor(0, "private", func(e Event) bool {
		s, ok := e.(SecurityChanged)
		return ok && s.Conv == laptop && s.Level == Private
	})

	// Mallory answers for bob/laptop with bob's instance tag and her own
	// key, which alice has seen before (unverified).
	mk, err := otr.GenerateKey(randReader{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := otr.NewConfig(mk, otr.PolicyOpportunistic)
	cfg.InstanceTag = bob.conv.OurInstanceTag()
	mc, err := otr.NewConversation(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mfp := mk.Fingerprint().String()
	if err := p.profile.SetFingerprint(KnownFingerprint{Account: p.jid, Contact: "bob@localhost", Fingerprint: mfp}); err != nil {
		t.Fatal(err)
	}
	mallory := &testBob{t: t, fs: fs, res: "laptop", conv: mc, seen: bob.seen}
	mark := p.rec.mark()
	// bob/laptop "comes online again": alice refreshes the session.
	fs.send(`<presence xmlns='jabber:client' type='unavailable' from='bob@localhost/laptop'/>`)
	fs.send(`<presence xmlns='jabber:client' from='bob@localhost/laptop'/>`)
	mallory.pump("mallory's AKE", func() bool { return mc.State() == otr.StateEncrypted })
	got := p.waitFor(mark, "the new level after the refresh", func(e Event) bool {
		s, ok := e.(SecurityChanged)
		return ok && s.Conv == laptop
	}).(SecurityChanged)
	if got.Level != Unverified || got.Fingerprint != mfp || !got.KeyChanged {
		t.Fatalf("after a refresh with another key: %+v (want Unverified, %s, KeyChanged)", got, mfp)
	}
	if s := p.m.Security(laptop); s.Level != Unverified || s.Fingerprint != mfp {
		t.Fatalf("Security(laptop) = %+v", s)
	}
}
