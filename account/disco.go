package account

// Service discovery (XEP-0030), entity capabilities (XEP-0115) and
// software version (XEP-0092): what other clients learn about Sotto.
//
// mellium's disco.Handle answers disco#info on the session's mux from the
// features and identities registered there (mux.Feature, mux.Ident); our
// iterator below registers Sotto's. The answers are built on Serve's
// goroutine from the profile's preferences (safe to read there), never
// from loop state, so turning version replies off in Preferences takes
// effect at the next query; the caps hash in our presence follows at the
// next presence we send.

import (
	"crypto/sha1" // XEP-0115 §5: SHA-1 is the hash every client verifies
	"encoding/xml"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/disco/info"
	"mellium.im/xmpp/mux"
	"mellium.im/xmpp/stanza"
	"mellium.im/xmpp/version"

	"github.com/sotto-im/sotto/account/internal/wire"
)

// CapsNode is the XEP-0115 node naming Sotto.
const CapsNode = "https://sotto.im"

// identity is what Sotto is (XEP-0030 registry: a desktop client).
var identity = info.Identity{Category: "client", Type: "pc", Name: "Sotto"}

// WithSoftwareVersion sets the version Sotto reports (XEP-0092); main sets
// it from the build.
func WithSoftwareVersion(v string) Option { return func(o *options) { o.version = v } }

// discoFeatures is what Sotto supports now, given the preferences.
func (m *Manager) discoFeatures() []info.Feature {
	pr := m.profile.Prefs()
	vars := []string{
		wire.NSDiscoInfo, wire.NSCaps, wire.NSPing, wire.NSCarbons, wire.NSEME,
	}
	if !pr.NoTypingOrReceipts {
		vars = append(vars, wire.NSReceipts, wire.NSChatStates)
	}
	if !pr.HideVersion {
		vars = append(vars, wire.NSVersion)
	}
	out := make([]info.Feature, len(vars))
	for i, v := range vars {
		out[i] = info.Feature{Var: v}
	}
	return out
}

// capsVer is the XEP-0115 §5.1 verification string of our disco#info.
func (m *Manager) capsVer() string {
	return disco.Info{Identity: []info.Identity{identity}, Features: m.discoFeatures()}.Hash(sha1.New())
}

// ownCaps is the <c/> element of our presence.
func (m *Manager) ownCaps() *wire.Caps {
	return &wire.Caps{Hash: "sha-1", Node: CapsNode, Ver: m.capsVer()}
}

// discoIter answers for our root node and for node#ver (XEP-0115 §6.2);
// any other node gets no identity or feature.
type discoIter struct{ m *Manager }

func (d discoIter) ours(node string) bool {
	return node == "" || node == CapsNode+"#"+d.m.capsVer()
}

func (d discoIter) ForFeatures(node string, f func(info.Feature) error) error {
	if !d.ours(node) {
		return nil
	}
	for _, ft := range d.m.discoFeatures() {
		if err := f(ft); err != nil {
			return err
		}
	}
	return nil
}

func (d discoIter) ForIdentities(node string, f func(info.Identity) error) error {
	if !d.ours(node) {
		return nil
	}
	return f(identity)
}

// extensionHandlers are the mux options of one session (wire.Handler).
func (c *client) extensionHandlers() []mux.Option {
	m := c.m
	it := discoIter{m: m}
	return []mux.Option{
		disco.Handle(),
		mux.Feature(it),
		mux.Ident(it),
		mux.IQFunc(stanza.GetIQ, xml.Name{Space: wire.NSVersion, Local: "query"},
			func(iq stanza.IQ, t xmlstream.TokenReadEncoder, _ *xml.StartElement) error {
				if m.profile.Prefs().HideVersion {
					return nil // Serve answers service-unavailable, as if unsupported
				}
				// No operating system: it says more about the user than
				// a peer needs.
				q := version.Query{Name: "Sotto", Version: m.opt.version}
				_, err := xmlstream.Copy(t, iq.Result(q.TokenReader()))
				return err
			}),
	}
}
