package otr

// Instances of one peer address, spec §"Instance Tags": a version 3 client
// may be signed in several times under one address, each instance with its
// own tag and its own session. Peer owns them all, routes each incoming
// message to its instance, knows which one outgoing messages go to, and
// evicts and wipes the ones it cannot keep.

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// DefaultMaxInstances bounds the sessions a Peer keeps: a peer (or a
// server forging its address) cannot make us hold unbounded state by
// inventing instance tags.
const DefaultMaxInstances = 4

// NewInstanceTag returns a random instance tag (≥ 0x100, spec §"Instance
// Tags"). A client picks one and keeps it; Config.InstanceTag takes it.
func NewInstanceTag(rand io.Reader) (uint32, error) {
	for {
		var b [4]byte
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return 0, fmt.Errorf("otr: reading randomness: %w", err)
		}
		if t := binary.BigEndian.Uint32(b[:]); t >= minInstanceTag {
			return t, nil
		}
	}
}

// A Peer holds every Conversation with one peer address. The current one
// is where Send, End and SMP go; it becomes the one whose AKE finished
// last. Older instances keep decrypting what their peer instance sends,
// and Receive says which instance a message came through, so the caller
// can show the protection of that instance rather than the current one's.
//
// A Peer is not safe for concurrent use.
type Peer struct {
	cfg   Config // InstanceTag set: all our instances share one tag
	max   int
	cur   *Conversation
	insts []*Conversation // cur included
	used  []uint64        // last use of insts[i], a logical clock
	clock uint64
}

// NewPeer makes a Peer with one plaintext Conversation. cfg.InstanceTag 0
// picks a random tag for this Peer; max ≤ 0 means DefaultMaxInstances.
func NewPeer(cfg Config, max int) (*Peer, error) {
	if max <= 0 {
		max = DefaultMaxInstances
	}
	if cfg.InstanceTag == 0 && cfg.Rand != nil {
		t, err := NewInstanceTag(cfg.Rand)
		if err != nil {
			return nil, err
		}
		cfg.InstanceTag = t
	}
	c, err := NewConversation(cfg)
	if err != nil {
		return nil, err
	}
	p := &Peer{cfg: cfg, max: max}
	p.cur = p.add(c)
	return p, nil
}

func (p *Peer) add(c *Conversation) *Conversation {
	p.clock++
	p.insts = append(p.insts, c)
	p.used = append(p.used, p.clock)
	return c
}

func (p *Peer) touch(c *Conversation) {
	p.clock++
	for i, in := range p.insts {
		if in == c {
			p.used[i] = p.clock
		}
	}
}

// Current is the instance outgoing messages go to.
func (p *Peer) Current() *Conversation { return p.cur }

// Instances returns every instance, the current one included.
func (p *Peer) Instances() []*Conversation { return append([]*Conversation(nil), p.insts...) }

// Receive routes msg to its instance (by the sender's instance tag of a v3
// message; anything else goes to the current one) and runs it there. An
// instance whose AKE finishes becomes the current one. in is the instance
// that handled msg: its state and fingerprint are the protection msg had.
func (p *Peer) Receive(msg []byte) (res Result, in *Conversation, err error) {
	in = p.route(msg)
	res, err = in.Receive(msg)
	p.touch(in)
	for _, ev := range res.Events {
		if ev.Kind == EventGoneSecure || ev.Kind == EventStillSecure {
			p.cur = in
		}
	}
	return res, in, err
}

// route picks the instance for msg, making a new one for a v3 message
// from an unknown sender instance while the current one is bound to
// another instance and encrypted. A current instance that is not bound
// yet, or not encrypted, takes the message itself: the engine binds it or
// reports EventInstanceMismatch.
func (p *Peer) route(msg []byte) *Conversation {
	v, sender, _, ok := ParseInstanceTags(msg)
	if !ok || v != 3 {
		return p.cur
	}
	for _, in := range p.insts {
		if in.PeerInstanceTag() == sender {
			return in
		}
	}
	if p.cur.PeerInstanceTag() == 0 || p.cur.State() != StateEncrypted {
		return p.cur
	}
	if len(p.insts) >= p.max && !p.evict() {
		return p.cur
	}
	n, err := NewConversation(p.cfg)
	if err != nil {
		return p.cur
	}
	return p.add(n)
}

// evict forgets the least recently used instance other than the current
// one, preferring one that is not encrypted (ended, or never private).
// It reports false when only the current instance is left.
func (p *Peer) evict() bool {
	victim := -1
	for i, in := range p.insts {
		if in == p.cur {
			continue
		}
		if victim < 0 {
			victim = i
			continue
		}
		vEnc := p.insts[victim].State() == StateEncrypted
		iEnc := in.State() == StateEncrypted
		if (vEnc && !iEnc) || (vEnc == iEnc && p.used[i] < p.used[victim]) {
			victim = i
		}
	}
	if victim < 0 {
		return false
	}
	p.insts[victim].Forget()
	p.insts = append(p.insts[:victim], p.insts[victim+1:]...)
	p.used = append(p.used[:victim], p.used[victim+1:]...)
	return true
}

// Tick collects the heartbeats of every instance (Conversation.Tick).
func (p *Peer) Tick() Result {
	var res Result
	for _, in := range p.insts {
		res.Send = append(res.Send, in.Tick().Send...)
	}
	return res
}

// NextTick is the earliest Conversation.NextTick of every instance.
func (p *Peer) NextTick() (time.Time, bool) {
	var next time.Time
	ok := false
	for _, in := range p.insts {
		if t, due := in.NextTick(); due && (!ok || t.Before(next)) {
			next, ok = t, true
		}
	}
	return next, ok
}

// Reset forgets every instance and starts over with one plaintext
// Conversation under policy pol (our instance tag stays). It is how a new
// policy takes effect on a conversation that is not private.
func (p *Peer) Reset(pol Policy) error {
	cfg := p.cfg
	cfg.Policy = pol
	c, err := NewConversation(cfg)
	if err != nil {
		return err
	}
	p.Forget()
	p.cfg = cfg
	p.insts, p.used = nil, nil
	p.cur = p.add(c)
	return nil
}

// Forget wipes the secrets of every instance without sending anything
// (Conversation.Forget).
func (p *Peer) Forget() {
	for _, in := range p.insts {
		in.Forget()
	}
}
