package account

// Service discovery (XEP-0030), entity capabilities (XEP-0115) and
// software version (XEP-0092): what other clients learn about Sotto.
//
// The disco#info handler is ours, with mellium's disco.Info to build and
// hash the answer: mellium's disco.Handle reads the query's attributes on
// a goroutine while the session's encoder rewrites the same start element
// (a data race under -race, seen in TestDiscoInfoAndCaps). The answers are built on Serve's
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
	if m.opt.omemo {
		vars = append(vars, wire.NSOMEMO+".devicelist+notify") // XEP-0163 §4: send us device lists
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

// discoInfo answers disco#info for our root node and for node#ver
// (XEP-0115 §6.2), and item-not-found for any other node (XEP-0030 §3.1).
func (m *Manager) discoInfo(iq stanza.IQ, t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	node := ""
	for _, a := range start.Attr {
		if a.Name.Local == "node" {
			node = a.Value
		}
	}
	if node != "" && node != CapsNode+"#"+m.capsVer() {
		_, err := xmlstream.Copy(t, iq.Error(stanza.Error{Type: stanza.Cancel, Condition: stanza.ItemNotFound}))
		return err
	}
	info := disco.Info{InfoQuery: disco.InfoQuery{Node: node}, Identity: []info.Identity{identity}, Features: m.discoFeatures()}
	_, err := xmlstream.Copy(t, iq.Result(info.TokenReader()))
	return err
}

// extensionHandlers are the mux options of one session (wire.Handler).
// They run on Serve's goroutine and read only the profile's preferences.
func (c *client) extensionHandlers() []mux.Option {
	m := c.m
	return []mux.Option{
		mux.IQFunc(stanza.GetIQ, xml.Name{Space: wire.NSDiscoInfo, Local: "query"}, m.discoInfo),
		mux.IQFunc(stanza.GetIQ, xml.Name{Space: wire.NSVersion, Local: "query"},
			func(iq stanza.IQ, t xmlstream.TokenReadEncoder, _ *xml.StartElement) error {
				if m.profile.Prefs().HideVersion {
					return nil // answered service-unavailable (wire), as if unsupported
				}
				// No operating system: it says more about the user than
				// a peer needs.
				q := version.Query{Name: "Sotto", Version: m.opt.version}
				_, err := xmlstream.Copy(t, iq.Result(q.TokenReader()))
				return err
			}),
	}
}
