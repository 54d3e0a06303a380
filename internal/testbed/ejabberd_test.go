package testbed_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/stanza"

	"github.com/sotto-im/sotto/internal/testbed"
)

// TestEjabberdLogKeepsBursts: ejabberd's stanza log is the evidence the
// account tests read (no plaintext, so many OTR bodies), so it must not
// lose lines when stanzas come fast. Erlang's logger drops, silently,
// every event past burst_limit_max_count (ejabberd: 500) within
// burst_limit_window_time (1 s); a test that went private right after
// ejabberd started crossed it (the AKE, both SMPs and their acks in a
// second) and missed OTR bodies or the Flush marker itself. 2,000 pings
// in one go are about 6,000 log lines: every reply must be in the log.
func TestEjabberdLogKeepsBursts(t *testing.T) {
	srv := testbed.SharedEjabberd(t)
	user, pass := srv.AddUser(t, "burst")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := login(ctx, t, srv, user, pass)
	const n = 2000
	prefix := "burst-" + fmt.Sprint(time.Now().UnixNano()) + "-"
	results := make(chan string, n)
	go func() {
		_ = s.Serve(xmpp.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			for _, a := range start.Attr {
				if a.Name.Local == "id" && strings.HasPrefix(a.Value, prefix) {
					results <- a.Value
				}
			}
			return nil
		}))
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		ping := stanza.IQ{ID: fmt.Sprintf("%s%d", prefix, i), Type: stanza.GetIQ}.Wrap(
			xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: "urn:xmpp:ping", Local: "ping"}}))
		if err := s.Send(ctx, ping); err != nil {
			t.Fatalf("ping %d: %v", i, err)
		}
	}
	// Sentinel: ejabberd answered every ping, so it logged them all.
	for i := 0; i < n; i++ {
		select {
		case <-results:
		case <-ctx.Done():
			t.Fatalf("only %d of %d pings answered", i, n)
		}
	}
	t.Logf("%d pings answered in %v", n, time.Since(start))
	srv.Flush(t)
	log := srv.StanzaLog()
	missing, first := 0, -1
	for i := 0; i < n; i++ {
		// ejabberd logs each result it sends on a line of its own.
		if !strings.Contains(log, fmt.Sprintf("id='%s%d'", prefix, i)) {
			if missing++; first < 0 {
				first = i
			}
		}
	}
	if missing > 0 {
		t.Fatalf("ejabberd's log lost %d of %d ping results (the first: %d)", missing, n, first)
	}
}
