package account

// OTR integration: one privConv per (contact, resource), each holding one
// otr.Conversation per peer instance tag; private keys; security levels;
// SMP; the rules that keep plaintext off the wire.
//
// The rule this file exists for: a message the user typed is sent in the
// clear only when the policy is not Always, the conversation is plain
// (not Encrypted, not Finished, not being re-established) and was plain
// when the user typed it. Everything else is sent encrypted or reported
// Queued and later SentEncrypted or NotSent. sendWire double-checks by
// refusing non-OTR text for messages that need privacy.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/sotto-im/sotto/otr"
)

// maxInstances bounds the OTR conversations per (contact, resource): a
// peer cannot make us keep unbounded state by inventing instance tags.
const maxInstances = 4

type peerKey struct{ peer, res string }

type queued struct {
	id, body    string
	since       int64 // unix nanos from the manager clock
	needPrivate bool  // only ever send this encrypted
}

type privConv struct {
	key   peerKey
	cur   *otr.Conversation   // outgoing messages go here
	insts []*otr.Conversation // all instances, cur included
	queue []queued

	refresh     bool  // was private before a reconnect: re-run the AKE
	refreshSent bool  // query for the refresh went out
	querySentAt int64 // last query we sent (unix nanos), to avoid floods
	smpWeAsked  bool
	active      int64 // last activity, for picking the resource
}

var keyMu sync.Mutex // serialises key generation across accounts

// loadKey returns the account's OTR key from the SecretStore, generating
// and storing one if there is none (or if fresh is true).
func (m *Manager) loadKey(ctx context.Context, account string, fresh bool) (*otr.PrivateKey, error) {
	keyMu.Lock()
	defer keyMu.Unlock()
	if !fresh {
		b, err := m.secrets.Get(ctx, otrKeyName(account))
		if err == nil {
			keys, perr := otr.ParsePrivateKeys(b)
			clear(b)
			if perr != nil || len(keys) != 1 {
				return nil, fmt.Errorf("account: the stored private key of %s is damaged: %v", account, perr)
			}
			return keys[0].Key, nil
		}
		if !errors.Is(err, ErrSecretNotFound) {
			return nil, fmt.Errorf("account: reading the private key: %w", err)
		}
	}
	k, err := otr.GenerateKey(m.opt.rand)
	if err != nil {
		return nil, fmt.Errorf("account: generating a private key: %w", err)
	}
	b := otr.FormatPrivateKeys([]otr.AccountKey{{Account: account, Protocol: "prpl-jabber", Key: k}})
	err = m.secrets.Set(ctx, otrKeyName(account), b)
	clear(b)
	if err != nil {
		return nil, fmt.Errorf("account: saving the private key: %w", err)
	}
	return k, nil
}

func otrPolicy(p Policy) otr.Policy {
	switch p {
	case Manual:
		return otr.PolicyManual
	case Always:
		return otr.PolicyAlways
	}
	return otr.PolicyOpportunistic
}

// policyFor is the contact's own policy, else the account's
// (Profile.effectivePolicy).
func (c *client) policyFor(peer string) Policy {
	return c.m.profile.effectivePolicy(c.account(), peer, c.settings.Policy)
}

func (c *client) newOTR(peer string) (*otr.Conversation, error) {
	if c.key == nil {
		k, err := c.m.loadKey(c.ctx, c.account(), false)
		if err != nil {
			return nil, err
		}
		c.key = k
	}
	for c.instanceTag < 0x100 {
		var b [4]byte
		if _, err := c.m.opt.rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("account: reading randomness: %w", err)
		}
		c.instanceTag = binary.BigEndian.Uint32(b[:])
	}
	cfg := otr.NewConfig(c.key, otrPolicy(c.policyFor(peer)))
	cfg.Rand, cfg.Now, cfg.InstanceTag = c.m.opt.rand, c.m.opt.now, c.instanceTag
	return otr.NewConversation(cfg)
}

// conv finds the privConv for (peer, res), moving a bare-JID one to res
// when the peer first answers from a resource, or makes a new one.
func (c *client) conv(peer, res string) (*privConv, error) {
	k := peerKey{peer, res}
	if pc, ok := c.convs[k]; ok {
		return pc, nil
	}
	if res != "" {
		if pc, ok := c.convs[peerKey{peer, ""}]; ok {
			delete(c.convs, pc.key)
			pc.key = k
			c.convs[k] = pc
			return pc, nil
		}
	}
	o, err := c.newOTR(peer)
	if err != nil {
		return nil, err
	}
	pc := &privConv{key: k, cur: o, insts: []*otr.Conversation{o}}
	c.convs[k] = pc
	return pc, nil
}

// targetResource picks where a message to peer goes when the UI did not
// say: the most recently active conversation whose resource is online or
// private, else the best online resource, else the bare JID.
func (c *client) targetResource(peer string) string {
	var best *privConv
	for k, pc := range c.convs {
		if k.peer != peer || !(c.roster.online(peer, k.res) || pc.cur.State() != otr.StatePlaintext) {
			continue
		}
		if best == nil || pc.active > best.active {
			best = pc
		}
	}
	if best != nil {
		return best.key.res
	}
	return c.roster.bestResource(peer)
}

// privateSibling returns the peer's private (or Finished) conversation on
// another resource when pc is plain, nil otherwise. A message typed into a
// chat the user sees as private goes there: otherwise anyone who can make
// a message arrive from a new resource of the peer (a second login on the
// peer's account, or a malicious server, which can forge any from) would
// make the next message go out in the clear to that resource.
func (c *client) privateSibling(pc *privConv) *privConv {
	if pc.cur.State() != otr.StatePlaintext || pc.refresh {
		return nil
	}
	var best *privConv
	for k, o := range c.convs {
		if k.peer != pc.key.peer || o == pc || o.cur.State() == otr.StatePlaintext {
			continue
		}
		enc := o.cur.State() == otr.StateEncrypted
		if best == nil || (enc && best.cur.State() != otr.StateEncrypted) ||
			(enc == (best.cur.State() == otr.StateEncrypted) && o.active > best.active) {
			best = o
		}
	}
	return best
}

func (c *client) convID(pc *privConv) Conversation {
	return Conversation{Account: c.account(), Peer: pc.key.peer, Resource: pc.key.res}
}

// lookup resolves a UI conversation to its privConv (creating it).
func (c *client) lookup(conv Conversation) (*privConv, error) {
	peer, ok := bareJID(conv.Peer)
	if !ok {
		return nil, errBadContact(conv.Peer)
	}
	res := conv.Resource
	if res == "" {
		res = c.targetResource(peer)
	}
	return c.conv(peer, res)
}

// route picks the instance for an incoming body (spec §"Instance Tags").
func (c *client) route(pc *privConv, body []byte) *otr.Conversation {
	v, sender, _, ok := otr.ParseInstanceTags(body)
	if !ok || v != 3 {
		return pc.cur
	}
	for _, in := range pc.insts {
		if in.PeerInstanceTag() == sender {
			return in
		}
	}
	if pc.cur.PeerInstanceTag() == 0 || pc.cur.State() != otr.StateEncrypted || len(pc.insts) >= maxInstances {
		return pc.cur // the engine rebinds or reports the mismatch
	}
	n, err := c.newOTR(pc.key.peer)
	if err != nil {
		return pc.cur
	}
	pc.insts = append(pc.insts, n)
	return n
}

// receiveChat runs an incoming chat body through OTR.
func (c *client) receiveChat(peer, res, body string, at int64) {
	pc, err := c.conv(peer, res)
	if err != nil {
		c.notice(Conversation{Account: c.account(), Peer: peer, Resource: res}, err.Error())
		return
	}
	pc.active = c.nowNanos()
	wasPlain := c.peerPlain(peer) // history.go: only plain conversations are kept
	in := c.route(pc, []byte(body))
	r, err := in.Receive([]byte(body))
	if err != nil {
		c.notice(c.convID(pc), "could not process a message: "+err.Error())
	}
	c.sendResult(pc, r.Send)
	c.otrEvents(pc, in, r.Events)
	if r.Plaintext != nil {
		e := MessageReceived{Conv: c.convID(pc), Body: string(r.Plaintext),
			Encrypted: r.Encrypted, Time: timeFromNanos(at)}
		if !e.Encrypted && wasPlain {
			c.keepPlain(e.Conv, false, e.Body, e.Time) // before emit: a chat it opens finds it
		}
		c.m.emit(e)
	}
}

// sendResult delivers protocol messages (AKE, SMP, queries, errors).
func (c *client) sendResult(pc *privConv, wire [][]byte) {
	for _, w := range wire {
		_ = c.sendWire(pc.key, string(w), false)
	}
}
