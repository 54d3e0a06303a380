package account

import (
	"strings"
	"testing"
	"time"
)

// TestLinesShownInTypedOrder: lines that name the line before them
// (order.go) are shown in that order whatever order they arrive in; a line
// whose predecessor never comes is shown after the hold, and what followed
// it then too; a line that names nothing, or comes first in this run, is
// shown at once. Plain lines from a scripted peer, so the test needs no
// OTR: the order rule is the same for both.
func TestLinesShownInTypedOrder(t *testing.T) {
	const hold = 700 * time.Millisecond
	p, fs := pipeAccountUI(t, true, WithLineHold(hold))
	fs.waitGot("carbons enable", func(s string) bool { return strings.Contains(s, "urn:xmpp:carbons:2") })
	line := func(id, prev, body string) {
		f := ""
		if prev != "" {
			f = `<follows xmlns='urn:sotto-im:order:0' id='` + prev + `'/>`
		}
		fs.send(`<message xmlns='jabber:client' from='bob@localhost/x' to='alice@localhost/sotto' type='chat' id='` +
			id + `'><body>` + body + `</body>` + f + `</message>`)
	}
	const l1, l2, l3, l4, l5, l6, gone = "00000000000000a1", "00000000000000a2", "00000000000000a3",
		"00000000000000a4", "00000000000000a5", "00000000000000a6", "00000000000000ff"
	mark := p.rec.mark()
	line(l1, "0000000000000099", "one") // first from bob in this run: shown at once
	p.waitFor(mark, "one", isMsg("bob@localhost", "one"))
	line(l3, l2, "three") // before two
	line(l4, l3, "four")
	line(l2, l1, "two")
	p.waitFor(mark, "four", isMsg("bob@localhost", "four"))
	// A line whose predecessor never comes, one after it, and a sentinel
	// that names nothing.
	line(l5, gone, "five")
	line(l6, l5, "six")
	line("sentinel1", "", "plain sentinel")
	p.waitFor(mark, "plain sentinel", isMsg("bob@localhost", "plain sentinel"))
	p.waitFor(mark, "six", isMsg("bob@localhost", "six"))
	var got []string
	for _, e := range p.rec.all()[mark:] {
		if m, ok := e.(MessageReceived); ok {
			got = append(got, m.Body)
		}
	}
	want := "one two three four plain sentinel five six"
	if strings.Join(got, " ") != want {
		t.Fatalf("shown %q, want %q", strings.Join(got, " "), want)
	}
}
