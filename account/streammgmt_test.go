package account

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/sotto-im/sotto/account/internal/sm"
	"github.com/sotto-im/sotto/account/internal/wire"
	"github.com/sotto-im/sotto/otr"
	"github.com/sotto-im/sotto/secret"
)

// TestReceiptBeforeAckKeepsStateOrder: the peer's receipt for a line
// overtakes the server's XEP-0198 ack (it can, after a resumption). The
// line is reported sent (confirmed) before delivered, the ack that
// follows reports nothing more, and when the stream is lost afterwards
// the line is not queued to be sent again: the peer has it.
func TestReceiptBeforeAckKeepsStateOrder(t *testing.T) {
	prof, err := OpenProfile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(prof, secret.NewMemory())
	m.events = newEventQueue(1) // never pumped: inspected below
	c := newClient(m, Settings{JID: "alice@localhost", Policy: Opportunistic})
	c.ctx = context.Background()
	fuzzKeyOnce.Do(func() {
		k, err := otr.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		fuzzKey = k
	})
	c.key = fuzzKey
	pc, err := c.conv("bob@localhost", "")
	if err != nil {
		t.Fatal(err)
	}
	const id = "0123456789abcdef"
	tag := &lineTag{pc: pc, q: queued{id: id, body: "hi bob"}, enc: true}
	c.lineSending(tag)
	c.ext.receipts = map[string]pendingReceipt{id: {pc: pc.key, id: id, body: "hi bob"}}

	c.handleSignals(&wire.Message{MessageExt: wire.MessageExt{Receipt: &wire.ReceiptRef{ID: id}}}, "bob@localhost", "x")
	c.acked([]sm.Item{{Seq: 1, Tag: tag}})
	c.requeueLost([]sm.Item{{Seq: 1, Tag: tag}})

	var states []OutState
	for _, e := range m.events.items {
		if ms, ok := e.(MessageStateChanged); ok && ms.ID == id {
			states = append(states, ms.State)
			if ms.State == SentEncrypted && !ms.Confirmed {
				t.Errorf("sent without Confirmed: %+v", ms)
			}
		}
	}
	if len(states) != 2 || states[0] != SentEncrypted || states[1] != Delivered {
		t.Fatalf("states %v, want [sent encrypted delivered]", states)
	}
	if len(pc.queue) != 0 || len(c.sending) != 0 {
		t.Fatalf("queue %+v, sending %v: a delivered line was kept to be sent again", pc.queue, c.sending)
	}
}
