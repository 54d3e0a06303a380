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
