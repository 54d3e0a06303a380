package account

import (
	"crypto/sha1"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/version"

	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/internal/testbed"
)

var capsVerRE = regexp.MustCompile(`ver=['"]([^'"]+)['"]`)

// lastOwnCaps is the ver of the last presence with Sotto's caps node the
// server received, "" if none.
func lastOwnCaps(srv *testbed.Server) string {
	ver := ""
	for _, line := range strings.Split(srv.StanzaLog(), "\n") {
		if strings.Contains(line, "RECV: <presence") && strings.Contains(line, CapsNode) {
			// Prosody writes attributes in any order: read the <c/> element.
			c := line[strings.Index(line, "<c "):]
			c = c[:strings.Index(c, ">")]
			if m := capsVerRE.FindStringSubmatch(c); m != nil {
				ver = m[1]
			}
		}
	}
	return ver
}

// waitOwnCaps waits for a presence with Sotto's caps whose ver is not
// old, and returns that ver.
func waitOwnCaps(t *testing.T, srv *testbed.Server, old string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if v := lastOwnCaps(srv); v != "" && v != old {
			return v
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no presence with caps other than %q; log:\n%s", old, srv.StanzaLog())
	return ""
}

func featureVars(info disco.Info) []string {
	var out []string
	for _, f := range info.Features {
		out = append(out, f.Var)
	}
	slices.Sort(out)
	return out
}

// TestDiscoInfoAndCaps: another client asks Alice's Sotto what it is
// (XEP-0030) and which version it runs (XEP-0092); the caps in Alice's
// presence (XEP-0115) verify against that disco#info; the Preferences
// opt-out refuses version queries and takes the feature out.
func TestDiscoInfoAndCaps(t *testing.T) {
	srv := testbed.Start(t)
	a := newPeer(t, srv, "alice", peerOpts{roots: srv.CertPool(), extra: []Option{WithSoftwareVersion("0.2.0")}})
	a.connect()
	_, pw := srv.AddUser(t, "bob")
	bob := loginRaw(t, srv, "bob@localhost", pw, "raw")
	alice := jid.MustParse(a.jid + "/" + wire.DefaultResource)
	ctx := ctxT(t)

	info, err := disco.GetInfo(ctx, "", alice, bob.sess)
	if err != nil {
		t.Fatalf("disco#info: %v", err)
	}
	if len(info.Identity) != 1 || info.Identity[0].Category != "client" || info.Identity[0].Type != "pc" || info.Identity[0].Name != "Sotto" {
		t.Fatalf("identities %+v, want one client/pc named Sotto", info.Identity)
	}
	want := []string{wire.NSCaps, wire.NSChatStates, wire.NSDiscoInfo, wire.NSVersion, wire.NSPing,
		wire.NSCarbons, wire.NSReceipts, wire.NSEME}
	slices.Sort(want)
	if got := featureVars(info); !slices.Equal(got, want) {
		t.Fatalf("features\n%q\nwant\n%q", got, want)
	}
	// Connect returns before the session's first stanzas are written:
	// wait for the initial presence.
	ver := waitOwnCaps(t, srv, "")
	if h := info.Hash(sha1.New()); h != ver {
		t.Fatalf("caps ver %q does not verify: disco#info hashes to %q", ver, h)
	}
	byNode, err := disco.GetInfo(ctx, CapsNode+"#"+ver, alice, bob.sess)
	if err != nil || !slices.Equal(featureVars(byNode), want) || byNode.Node != CapsNode+"#"+ver {
		t.Fatalf("disco#info for node#ver: %v, node %q, features %q", err, byNode.Node, featureVars(byNode))
	}
	if _, err := disco.GetInfo(ctx, "urn:example:no-such-node", alice, bob.sess); err == nil || !strings.Contains(err.Error(), "item-not-found") {
		t.Fatalf("disco#info for an unknown node: %v, want item-not-found", err)
	}
	v, err := version.Get(ctx, bob.sess, alice)
	if err != nil || v.Name != "Sotto" || v.Version != "0.2.0" || v.OS != "" {
		t.Fatalf("version: %+v, %v; want Sotto 0.2.0 and no OS", v, err)
	}

	// Opt out: version refused, the feature gone, the next presence's
	// caps verify against the new disco#info.
	if err := a.profile.SavePrefs(Prefs{HideVersion: true}); err != nil {
		t.Fatal(err)
	}
	if v, err := version.Get(ctx, bob.sess, alice); err == nil {
		t.Fatalf("version answered after opting out: %+v", v)
	} else if !strings.Contains(err.Error(), "service-unavailable") {
		t.Fatalf("version refused with %v, want service-unavailable", err)
	}
	info, err = disco.GetInfo(ctx, "", alice, bob.sess)
	if err != nil || slices.Contains(featureVars(info), wire.NSVersion) {
		t.Fatalf("after opting out: %v, features %q", err, featureVars(info))
	}
	if err := a.m.SetPresence(ctx, a.jid, Away, "out"); err != nil {
		t.Fatal(err)
	}
	ver2 := waitOwnCaps(t, srv, ver)
	if ver2 == ver || ver2 != info.Hash(sha1.New()) {
		t.Fatalf("caps after opting out %q (before %q), want the hash of the new disco#info %q", ver2, ver, info.Hash(sha1.New()))
	}
}
