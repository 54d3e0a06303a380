package account

// What has not left yet, taking a waiting line back, and sending again
// (issue 16).
//
// Quitting: a line still Queued (waiting for the link, for privacy, for
// room in the stream) or Sending (written, not acknowledged by the
// server) lives in memory. A plain waiting line whose text may be stored
// (the history opt-in allows it: waiting.go) is also kept on disk and
// sent when Sotto starts again, so it is not lost. Every other one is:
// the rule is never to store the plaintext of a private conversation, and
// a queued private line is exactly that; so the quit path asks Unsent and
// warns ("2 messages to bob are not sent yet; quit anyway?") about those
// only, and says how many more survive.
//
// Taking back: a Queued line can be removed (RemoveQueued) until it
// leaves; it is reported Removed and never sent afterwards, and its disk
// copy goes with it.
//
// Resending: a line reported NotSent can be sent again with one action,
// Resend. It keeps its id (a receiver that did get it after all drops the
// copy), and it goes the way a new line would — encrypted in the current
// private session if there is one — except that a line that needed
// privacy still needs it: it never goes in plain; it waits until the
// conversation is private (and the query that starts it goes out) or is
// reported NotSent again. Lines reported NotSent are remembered in memory
// only: after a restart there is nothing to resend (ErrNothingToResend).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// UnsentLines is what one conversation would lose if Sotto quit now.
type UnsentLines struct {
	Conv Conversation
	// Lines is how many lines are Queued or Sending and not kept on disk
	// (lost on quit); Private how many of them may only go encrypted (the
	// UI may say they are private).
	Lines, Private int
	// Kept is how many more wait but are kept on disk: they are sent when
	// Sotto starts again (waiting.go).
	Kept int
}

// Unsent lists, for every running account, the conversations with lines
// that have not reached the server yet, sorted by account and contact.
// Lines that reached it (Sent, waiting for the peer's receipt) are not
// listed: the server delivers them whether Sotto runs or not.
func (m *Manager) Unsent(ctx context.Context) ([]UnsentLines, error) {
	m.mu.Lock()
	clients := make([]*client, 0, len(m.clients))
	for _, c := range m.clients {
		clients = append(clients, c)
	}
	m.mu.Unlock()
	var out []UnsentLines
	for _, c := range clients {
		var part []UnsentLines
		err := c.call(ctx, func(reply func(error)) { part = c.unsent(); reply(nil) })
		if errors.Is(err, errStopped) {
			continue // removed meanwhile: nothing of it is left to lose
		}
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Conv, out[j].Conv
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		if a.Peer != b.Peer {
			return a.Peer < b.Peer
		}
		return a.Resource < b.Resource
	})
	return out, nil
}

// QuitWarning is the question to ask before quitting with u unsent, or ""
// when nothing would be lost (lines kept on disk are not lost).
func QuitWarning(u []UnsentLines) string {
	byPeer := map[string]int{}
	var peers []string
	private, kept := 0, 0
	for _, x := range u {
		kept += x.Kept
		if x.Lines == 0 {
			continue
		}
		if byPeer[x.Conv.Peer] == 0 {
			peers = append(peers, x.Conv.Peer)
		}
		byPeer[x.Conv.Peer] += x.Lines
		private += x.Private
	}
	if len(peers) == 0 {
		return ""
	}
	var parts []string
	for _, p := range peers {
		n := byPeer[p]
		word := "messages"
		if n == 1 {
			word = "message"
		}
		parts = append(parts, fmt.Sprintf("%d %s to %s", n, word, p))
	}
	verb := "are"
	if len(parts) == 1 && byPeer[peers[0]] == 1 {
		verb = "is"
	}
	s := strings.Join(parts, ", ") + " " + verb + " not sent yet; they are lost if you quit now"
	if private > 0 {
		s += " (private messages are never saved to disk)"
	}
	if kept == 1 {
		s += "; 1 other waiting message is saved and is sent when Sotto starts again"
	} else if kept > 1 {
		s += fmt.Sprintf("; %d other waiting messages are saved and are sent when Sotto starts again", kept)
	}
	return s + ". Quit anyway?"
}

// unsent is Unsent for this account, in the loop. The waiting file is
// brought up to date first, so Kept counts what the disk holds.
func (c *client) unsent() []UnsentLines {
	c.syncWaiting(true)
	by := map[peerKey]*UnsentLines{}
	add := func(pc *privConv, id string, private bool) {
		u := by[pc.key]
		if u == nil {
			u = &UnsentLines{Conv: c.convID(pc)}
			by[pc.key] = u
		}
		switch {
		case !private && c.kept(id):
			u.Kept++
		case private:
			u.Lines++
			u.Private++
		default:
			u.Lines++
		}
	}
	for _, pc := range c.convs {
		for _, q := range pc.queue {
			add(pc, q.id, q.needPrivate)
		}
	}
	for _, tag := range c.sending {
		if !tag.sent {
			add(tag.pc, tag.q.id, tag.q.needPrivate || tag.enc)
		}
	}
	var out []UnsentLines
	for _, u := range by {
		out = append(out, *u)
	}
	return out
}

// maxNotSent bounds the lines kept for Resend (the oldest are forgotten).
const maxNotSent = 256

// notSentLine is a line reported NotSent, kept (in memory only) for
// Resend.
type notSentLine struct {
	key peerKey
	q   queued
}

// notSent reports q NotSent and keeps it for Resend.
func (c *client) notSent(pc *privConv, q queued, reason string) {
	if c.notSentLines == nil {
		c.notSentLines = map[string]notSentLine{}
	}
	if len(c.notSentLines) >= maxNotSent {
		oldest := ""
		for id, l := range c.notSentLines {
			if oldest == "" || l.q.since < c.notSentLines[oldest].q.since {
				oldest = id
			}
		}
		delete(c.notSentLines, oldest)
	}
	q.since = c.nowNanos()
	c.notSentLines[q.id] = notSentLine{key: pc.key, q: q}
	c.msgState(pc, q.id, q.body, NotSent, reason)
}

// ErrNotWaiting: RemoveQueued was given a line that does not wait (any
// more): it left meanwhile, was reported NotSent, or is unknown.
var ErrNotWaiting = errors.New("account: that message is not waiting any more")

// RemoveQueued takes back the Queued line id of conv: it is reported
// Removed and never sent (see the top of unsent.go). A line already
// written (Sending) cannot be taken back.
func (m *Manager) RemoveQueued(ctx context.Context, conv Conversation, id string) error {
	return m.accountCall(ctx, conv.Account, func(c *client, reply func(error)) { reply(c.removeQueued(conv, id)) })
}

func (c *client) removeQueued(conv Conversation, id string) error {
	bare, ok := bareJID(conv.Peer)
	if !ok {
		return errBadContact(conv.Peer)
	}
	for k, pc := range c.convs {
		if k.peer != bare {
			continue
		}
		for i, q := range pc.queue {
			if q.id != id {
				continue
			}
			pc.queue = slices.Delete(pc.queue, i, i+1)
			c.msgState(pc, q.id, q.body, Removed, "")
			if c.sess != nil && !pc.refresh {
				c.flushQueue(pc) // the lines it held back may go now
			}
			return nil
		}
	}
	return ErrNotWaiting
}

// ErrNothingToResend: Resend was given a line that is not NotSent (sent
// meanwhile, never reported NotSent, or from before a restart).
var ErrNothingToResend = errors.New("account: that message is not waiting to be resent")

// Resend sends the NotSent line id of conv again (see the top of
// unsent.go). Its MessageStateChanged events carry the same id.
func (m *Manager) Resend(ctx context.Context, conv Conversation, id string) error {
	return m.accountCall(ctx, conv.Account, func(c *client, reply func(error)) { reply(c.resend(conv, id)) })
}

func (c *client) resend(conv Conversation, id string) error {
	l, ok := c.notSentLines[id]
	if bare, _ := bareJID(conv.Peer); !ok || l.key.peer != bare {
		return ErrNothingToResend
	}
	pc, ok := c.convs[l.key]
	if !ok {
		var err error
		if pc, err = c.conv(l.key.peer, l.key.res); err != nil {
			return err
		}
	}
	if alt := c.privateSibling(pc); alt != nil {
		pc = alt
	}
	delete(c.notSentLines, id)
	c.sendLine(pc, id, l.q.body, l.q.needPrivate)
	return nil
}
