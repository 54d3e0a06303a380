package otr

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// The fragment examples of spec §"Fragmentation" (v3 and v2 documents).
var (
	specV3Whole = "?OTR:AAMDJ+MVmSfjFZcAAAAAAQAAAAIAAADA1g5IjD1ZGLDVQEyCgCyn9hb" +
		"rL3KAbGDdzE2ZkMyTKl7XfkSxh8YJnudstiB74i4BzT0W2haClg6dMary/jo" +
		"9sMudwmUdlnKpIGEKXWdvJKT+hQ26h9nzMgEditLB8vjPEWAJ6gBXvZrY6ZQ" +
		"rx3gb4v0UaSMOMiR5sB7Eaulb2Yc6RmRnnlxgUUC2alosg4WIeFN951PLjSc" +
		"ajVba6dqlDi+q1H5tPvI5SWMN7PCBWIJ41+WvF+5IAZzQZYgNaVLbAAAAAAA" +
		"AAAEAAAAHwNiIi5Ms+4PsY/L2ipkTtquknfx6HodLvk3RAAAAAA==."
	specV3Frags = []string{
		"?OTR|5a73a599|27e31597,00001,00003,?OTR:AAMDJ+MVmSfjFZcAAAAA" +
			"AQAAAAIAAADA1g5IjD1ZGLDVQEyCgCyn9hbrL3KAbGDdzE2ZkMyTKl7XfkSx" +
			"h8YJnudstiB74i4BzT0W2haClg6dMary/jo9sMudwmUdlnKpIGEKXWdvJKT+" +
			"hQ26h9nzMgEditLB8v,",
		"?OTR|5a73a599|27e31597,00002,00003,jPEWAJ6gBXvZrY6ZQrx3gb4v0" +
			"UaSMOMiR5sB7Eaulb2Yc6RmRnnlxgUUC2alosg4WIeFN951PLjScajVba6dq" +
			"lDi+q1H5tPvI5SWMN7PCBWIJ41+WvF+5IAZzQZYgNaVLbAAAAAAAAAAEAAAA" +
			"HwNiIi5Ms+4PsY/L2i,",
		"?OTR|5a73a599|27e31597,00003,00003,pkTtquknfx6HodLvk3RAAAAAA==.,",
	}
	specV2Frags = []string{
		"?OTR,1,3,?OTR:AAEDAAAAAQAAAAEAAADAVf3Ei72ZgFeKqWvLMnuVPVCwxk,",
		"?OTR,2,3,JvPUerB9mtf4bqQDFthfoz,",
		"?OTR,3,3,AacLJ1DiI.,",
	}
)

func feed(r *reassembler, frags []string) (string, []string) {
	var done string
	var problems []string
	for _, s := range frags {
		f, isFrag, ok := parseFragment([]byte(s))
		if !isFrag || !ok {
			problems = append(problems, "parse")
			continue
		}
		whole, problem := r.add(f)
		if problem != "" {
			problems = append(problems, problem)
		}
		if whole != nil {
			done = string(whole)
		}
	}
	return done, problems
}

func TestSpecFragments(t *testing.T) {
	var r reassembler
	got, problems := feed(&r, specV3Frags)
	if got != specV3Whole || problems != nil {
		t.Fatalf("v3: %q %v", got, problems)
	}
	got, problems = feed(&r, specV2Frags)
	want := "?OTR:AAEDAAAAAQAAAAEAAADAVf3Ei72ZgFeKqWvLMnuVPVCwxkJvPUerB9mtf4bqQDFthfozAacLJ1DiI."
	if got != want || problems != nil {
		t.Fatalf("v2: %q %v", got, problems)
	}
}

func TestFragmentRoundTrip(t *testing.T) {
	msg := []byte(specV3Whole)
	for _, v := range []int{2, 3} {
		for _, size := range []int{37, 40, 60, 100, 299, len(msg), len(msg) + 1} {
			frags := fragmentMessage(msg, size, v, 0x5a73a599, 0x100)
			if size >= len(msg) && len(frags) != 1 {
				t.Fatalf("fragmented a message that fits")
			}
			var r reassembler
			var strs []string
			for _, f := range frags {
				if len(f) > size {
					t.Fatalf("v%d size %d: fragment of %d bytes", v, size, len(f))
				}
				strs = append(strs, string(f))
			}
			if len(frags) == 1 {
				if !bytes.Equal(frags[0], msg) {
					t.Fatal("single message changed")
				}
				continue
			}
			prefix := "?OTR|5a73a599|00000100,00001,"
			if v == 2 {
				prefix = "?OTR,00001,"
			}
			if !strings.HasPrefix(strs[0], prefix) {
				t.Fatalf("v%d header %q", v, strs[0])
			}
			got, problems := feed(&r, strs)
			if got != string(msg) || problems != nil {
				t.Fatalf("v%d size %d: %v", v, size, problems)
			}
		}
	}
	// Too small for any piece, or not an encoded message: sent whole.
	if len(fragmentMessage(msg, 30, 3, 1, 1)) != 1 || len(fragmentMessage([]byte("?OTRv23? long query"), 5, 3, 1, 1)) != 1 {
		t.Fatal("fragmented what cannot be")
	}
}

func TestFragmentParseErrors(t *testing.T) {
	for _, in := range []string{
		"?OTR|5a73a599|27e31597,00001,00003,abc", // no final comma
		"?OTR|5a73a599|27e31597,00001,00003,,",   // empty piece
		"?OTR|5a73a59z|27e31597,1,3,abc,",
		"?OTR|123456789|1,1,3,abc,",
		"?OTR||1,1,3,abc,",
		"?OTR|1|1,65536,65536,abc,",
		"?OTR|1|1,1,x,abc,",
		"?OTR|1|1,1,,abc,",
		"?OTR,1,3",
		"?OTR,-1,3,abc,",
		"?OTR,99999999999,3,abc,",
	} {
		_, isFrag, ok := parseFragment([]byte(in))
		if !isFrag || ok {
			t.Errorf("%q: isFrag=%v ok=%v", in, isFrag, ok)
		}
	}
}

func TestReassemblyRules(t *testing.T) {
	fr := func(k, n int, piece string) string { return fmt.Sprintf("?OTR|100|200,%d,%d,%s,", k, n, piece) }
	for _, tc := range []struct {
		name     string
		frags    []string
		want     string
		problems int
	}{
		{"in order", []string{fr(1, 2, "ab"), fr(2, 2, "cd")}, "abcd", 0},
		{"single", []string{fr(1, 1, "x")}, "x", 0},
		{"k zero", []string{fr(0, 2, "ab")}, "", 1},
		{"n zero", []string{fr(1, 0, "ab")}, "", 1},
		{"k > n", []string{fr(3, 2, "ab")}, "", 1},
		{"missing first", []string{fr(2, 2, "cd")}, "", 1},
		{"skip", []string{fr(1, 3, "a"), fr(3, 3, "c")}, "", 1},
		{"repeat", []string{fr(1, 3, "a"), fr(2, 3, "b"), fr(2, 3, "b"), fr(3, 3, "c")}, "", 2},
		{"n changes", []string{fr(1, 3, "a"), fr(2, 4, "b"), fr(3, 3, "c")}, "", 2},
		{"restart on k=1", []string{fr(1, 3, "a"), fr(1, 2, "x"), fr(2, 2, "y")}, "xy", 0},
		{"sender changes", []string{fr(1, 2, "a"), "?OTR|101|200,2,2,b,"}, "", 1},
		{"version changes", []string{fr(1, 2, "a"), "?OTR,2,2,b,"}, "", 1},
	} {
		var r reassembler
		got, problems := feed(&r, tc.frags)
		if got != tc.want || len(problems) != tc.problems {
			t.Errorf("%s: got %q problems %v", tc.name, got, problems)
		}
	}
}

func TestReassemblyBounded(t *testing.T) {
	var r reassembler
	piece := strings.Repeat("A", 1000)
	n := maxReassembled/1000 + 10
	var problem string
	for k := 1; k <= n && problem == ""; k++ {
		f, _, ok := parseFragment([]byte(fmt.Sprintf("?OTR,%d,%d,%s,", k, n, piece)))
		if !ok {
			t.Fatal("parse")
		}
		var whole []byte
		whole, problem = r.add(f)
		if whole != nil {
			t.Fatal("oversized message reassembled")
		}
	}
	if !strings.Contains(problem, "too large") || len(r.buf) != 0 {
		t.Fatalf("problem %q, %d bytes held", problem, len(r.buf))
	}
}

func TestConversationFragments(t *testing.T) {
	p := newPair(t, PolicyManual, PolicyManual, 0)
	p.secure(p.a)
	res, _ := p.a.c.Send([]byte(strings.Repeat("long message ", 40)))
	frags := fragmentMessage(res.Send[0], 120, 3, p.a.c.ourTag, p.b.c.ourTag)
	if len(frags) < 4 {
		t.Fatal("too few fragments")
	}
	// Missing the middle: discarded with an event, nothing shown.
	var evs []Event
	for i, f := range frags {
		if i == 1 {
			continue
		}
		r := receiveOne(t, p.b.c, f)
		if r.Plaintext != nil {
			t.Fatal("partial message shown")
		}
		evs = append(evs, r.Events...)
	}
	if !hasText(evs, EventMalformed, "fragment") {
		t.Fatalf("events %v", evs)
	}
	// Truncated fragment.
	wantOnly(t, receiveOne(t, p.b.c, frags[0][:len(frags[0])-1]), EventMalformed, "fragment")
	// Fragment for another instance.
	other := fragmentMessage(res.Send[0], 120, 3, p.a.c.ourTag, p.b.c.ourTag+1)
	wantOnly(t, receiveOne(t, p.b.c, other[0]), EventInstanceMismatch, "")
	// Fragments interrupted by a plaintext message are forgotten.
	receiveOne(t, p.b.c, frags[0])
	receiveOne(t, p.b.c, []byte("plain interruption"))
	for _, f := range frags[1:] {
		if r := receiveOne(t, p.b.c, f); r.Plaintext != nil {
			t.Fatal("reassembled across an unfragmented message")
		}
	}
	// Complete, in order: delivered.
	var got []byte
	for _, f := range frags {
		r := receiveOne(t, p.b.c, f)
		if r.Plaintext != nil {
			got = r.Plaintext
		}
	}
	if !bytes.HasPrefix(got, []byte("long message")) {
		t.Fatalf("got %q", got)
	}
	// Reassembled text that is not an OTR message.
	junk := []string{"?OTR|" + fmt.Sprintf("%x|%x", p.a.c.ourTag, p.b.c.ourTag) + ",1,1,hello,"}
	wantOnly(t, receiveOne(t, p.b.c, []byte(junk[0])), EventMalformed, "not an OTR message")
}
