package testbed

// A small XMPP client of the test bed's own (mellium) for what a driven
// client cannot be asked reliably: reading PEP nodes and the roster,
// setting up presence subscriptions, and seeding an empty OMEMO device
// list (see profanity.go). It logs in as a second resource of the
// account and never sends available presence, so the server routes no
// chat messages, carbons or PEP notifications to it.

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/pubsub"
	"mellium.im/xmpp/stanza"
)

// Legacy OMEMO (XEP-0384 v0.3, "siacs"), the only one profanity 0.13.1
// speaks.
const (
	nsOMEMOLegacy      = "eu.siacs.conversations.axolotl"
	nodeDeviceList     = nsOMEMOLegacy + ".devicelist"
	nodeBundlePrefix   = nsOMEMOLegacy + ".bundles:"
	clientCallTimeout  = 10 * time.Second
	clientLoginTimeout = 10 * time.Second
)

// peerClient is the test bed's own session on an account.
type peerClient struct {
	s    *xmpp.Session
	done chan struct{} // closed when Serve returns
}

// dialPeerClient logs in as jidStr/resource over STARTTLS, trusting only
// the server's own certificate.
func dialPeerClient(srv XMPP, jidStr, password, resource string) (*peerClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), clientLoginTimeout)
	defer cancel()
	j, err := jid.Parse(jidStr)
	if err != nil {
		return nil, fmt.Errorf("testbed: bad JID %q: %w", jidStr, err)
	}
	if j, err = j.WithResource(resource); err != nil {
		return nil, err
	}
	conn, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("testbed: dial %s: %w", srv.Addr(), err)
	}
	tlsCfg := &tls.Config{ServerName: srv.Domain(), RootCAs: srv.CertPool(), MinVersion: tls.VersionTLS12}
	s, err := xmpp.NewClientSession(ctx, j, conn,
		xmpp.StartTLS(tlsCfg),
		xmpp.SASL("", password, sasl.ScramSha256, sasl.ScramSha1),
		xmpp.BindResource())
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("testbed: log in %s: %w", j, err)
	}
	c := &peerClient{s: s, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		_ = s.Serve(nil) // answers unexpected IQs with an error
	}()
	return c, nil
}

func (c *peerClient) close() {
	_ = c.s.Close()
	select {
	case <-c.done:
	case <-time.After(2 * time.Second):
	}
	_ = c.s.Conn().Close()
}

// deviceList returns the device ids in the legacy OMEMO device list of
// owner ("" = this account); found is false when the node does not exist.
func (c *peerClient) deviceList(owner string) (ids []string, found bool, err error) {
	items, found, err := c.items(owner, nodeDeviceList)
	if err != nil || !found {
		return nil, found, err
	}
	for _, it := range items {
		var list struct {
			XMLName xml.Name `xml:"eu.siacs.conversations.axolotl list"`
			Device  []struct {
				ID string `xml:"id,attr"`
			} `xml:"device"`
		}
		if xml.Unmarshal(it, &list) == nil {
			for _, d := range list.Device {
				ids = append(ids, d.ID)
			}
		}
	}
	return ids, true, nil
}

// items fetches every item of node (raw XML of each item's payload).
func (c *peerClient) items(owner, node string) (items [][]byte, found bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), clientCallTimeout)
	defer cancel()
	iq := stanza.IQ{Type: stanza.GetIQ}
	if owner != "" {
		if iq.To, err = jid.Parse(owner); err != nil {
			return nil, false, err
		}
	}
	it := pubsub.FetchIQ(ctx, iq, c.s, pubsub.Query{Node: node})
	for it.Next() {
		_, r := it.Item()
		var b strings.Builder
		e := xml.NewEncoder(&b)
		if _, err := xmlstream.Copy(e, r); err != nil {
			it.Close()
			return nil, true, err
		}
		if err := e.Flush(); err != nil {
			it.Close()
			return nil, true, err
		}
		items = append(items, []byte(b.String()))
	}
	err = it.Err()
	it.Close()
	var se stanza.Error
	if errors.As(err, &se) && se.Condition == stanza.ItemNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return items, true, nil
}

// seedDeviceList publishes an empty legacy device list when the account
// has none yet (see the profanity quirks in profanity.go); an existing
// list, e.g. one with Sotto's device in it, is left alone.
func (c *peerClient) seedDeviceList() error {
	_, found, err := c.deviceList("")
	if err != nil || found {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientCallTimeout)
	defer cancel()
	list := xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: nsOMEMOLegacy, Local: "list"}})
	_, err = pubsub.Publish(ctx, c.s, nodeDeviceList, "current", list)
	return err
}

// rosterItem is one roster entry as the server holds it.
type rosterItem struct {
	JID          string `xml:"jid,attr"`
	Subscription string `xml:"subscription,attr"`
	Ask          string `xml:"ask,attr"`
}

// roster fetches the account's roster (RFC 6121 §2.1.3), with the ask
// attribute mellium's roster package does not keep.
func (c *peerClient) roster() (map[string]rosterItem, error) {
	ctx, cancel := context.WithTimeout(context.Background(), clientCallTimeout)
	defer cancel()
	q := xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: "jabber:iq:roster", Local: "query"}})
	resp, err := c.s.SendIQ(ctx, stanza.IQ{Type: stanza.GetIQ}.Wrap(q))
	if err != nil {
		return nil, err
	}
	defer resp.Close()
	var iq struct {
		XMLName xml.Name     `xml:"iq"`
		Type    string       `xml:"type,attr"`
		Items   []rosterItem `xml:"query>item"`
	}
	if err := xml.NewTokenDecoder(resp).Decode(&iq); err != nil {
		return nil, err
	}
	if iq.Type != "result" {
		return nil, fmt.Errorf("testbed: roster get answered %q", iq.Type)
	}
	m := make(map[string]rosterItem, len(iq.Items))
	for _, it := range iq.Items {
		m[it.JID] = it
	}
	return m, nil
}

// presence sends a subscription presence (subscribe, subscribed) to.
func (c *peerClient) presence(typ stanza.PresenceType, to string) error {
	j, err := jid.Parse(to)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientCallTimeout)
	defer cancel()
	return c.s.Send(ctx, stanza.Presence{Type: typ, To: j}.Wrap(nil))
}

// SubscribeBoth makes accounts a and b subscribed to each other's
// presence (RFC 6121, "both"), whatever clients they run (profanity,
// Sotto): the test bed logs in to each as a resource of its own, sends
// the subscribe / subscribed presences one step at a time, each after
// the server has recorded the previous one in the rosters, and waits
// until both rosters say "both". Clients signed in get the roster pushes
// and each other's presence.
func SubscribeBoth(t testing.TB, srv XMPP, aJID, aPassword, bJID, bPassword string) {
	t.Helper()
	a, err := dialPeerClient(srv, aJID, aPassword, "testbed-sub")
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer a.close()
	b, err := dialPeerClient(srv, bJID, bPassword, "testbed-sub")
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer b.close()
	type side struct {
		c   *peerClient
		jid string
	}
	for _, pair := range [][2]side{{{a, aJID}, {b, bJID}}, {{b, bJID}, {a, aJID}}} {
		from, to := pair[0], pair[1]
		if err := from.c.presence(stanza.SubscribePresence, to.jid); err != nil {
			t.Fatalf("testbed: subscribe %s to %s: %v", from.jid, to.jid, err)
		}
		waitRoster(t, from.c, to.jid, "ask=subscribe", func(it rosterItem) bool {
			return it.Ask == "subscribe" || it.Subscription == "to" || it.Subscription == "both"
		})
		if err := to.c.presence(stanza.SubscribedPresence, from.jid); err != nil {
			t.Fatalf("testbed: approve %s for %s: %v", from.jid, to.jid, err)
		}
		waitRoster(t, from.c, to.jid, "subscription to", func(it rosterItem) bool {
			return it.Subscription == "to" || it.Subscription == "both"
		})
	}
	waitRoster(t, a, bJID, "subscription both", func(it rosterItem) bool { return it.Subscription == "both" })
	waitRoster(t, b, aJID, "subscription both", func(it rosterItem) bool { return it.Subscription == "both" })
}

// rosterWait bounds each roster step; the server records each at once.
const rosterWait = 10 * time.Second

// waitRoster polls c's roster until the entry for contact satisfies ok.
func waitRoster(t testing.TB, c *peerClient, contact, what string, ok func(rosterItem) bool) {
	t.Helper()
	deadline := time.Now().Add(rosterWait)
	for {
		r, err := c.roster()
		if err == nil && ok(r[contact]) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testbed: %s's roster entry for %s never had %s: %+v (%v)", c.s.LocalAddr(), contact, what, r[contact], err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
