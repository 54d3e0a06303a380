package markup

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Payloads as pidgin-otr puts them in the OTR plaintext (the first two
// were seen from Pidgin 2.14 over Prosody, FACTS.md); the rest are what
// libpurple's HTML editor and Adium produce, and broken or hostile markup.
var toText = []struct{ in, want string }{
	{"a &lt; b &amp; c &gt; d", "a < b & c > d"},
	{"plain <b>boldword</b> end", "plain boldword end"},
	{`<a href="https://x">https://x</a>`, "https://x"},
	{`see <a href="https://sotto.im/">https://sotto.im</a> now`, "see https://sotto.im now"},
	{`<a href="https://evil.example/">https://bank.example</a>`, "https://bank.example (https://evil.example/)"},
	{`<A HREF='mailto:bob@example.org'>bob@example.org</A>`, "bob@example.org"},
	{`<a href="https://x">click</a> and <a>no href</a>`, "click (https://x) and no href"},
	{"line one<br>line two<br/>line three<BR />four", "line one\nline two\nline three\nfour"},
	{`<font color="#FF0000" size="3">red</font> <FONT face="Sans">sans</FONT>`, "red sans"},
	{"a&nbsp;b&#160;c", "a b c"},
	{"&quot;q&quot; &#39;s&#39; &apos;a&apos; &#x263A; &eacute;", `"q" 's' 'a' ☺ é`},
	{"<b><i><u>nested</u></i></b>", "nested"},
	{"<b>unclosed <i>tags", "unclosed tags"},
	{"</b>stray close</i>", "stray close"},
	{"<script>alert(1)</script> done", "alert(1) done"},
	{"<style>p{}</style>x", "p{}x"},
	{`<img src="x.png" alt=":-)"> smile`, ":-) smile"},
	{"<p>para one</p><p>para two</p>", "para one\npara two"},
	{"<html><body>wrapped</body></html>", "wrapped"},
	{`<span style="font-weight: bold;">css bold</span>`, "css bold"},
	{"1 <2 and 3> 0", "1 <2 and 3> 0"},
	{"a < b > c", "a < b > c"},
	{"<3 you", "<3 you"},
	{"&amp;lt;b&amp;gt; double", "&lt;b&gt; double"},
	{"&unknownentity; stays", "&unknownentity; stays"},
	{"<b attr='broken>x", ""},
	{"<<b>>", "<>"},
	{"<!-- comment -->visible", "visible"},
	{"<br><br><br><br>many", "many"},
	{"top<div><div><div>deep</div></div></div>end", "top\ndeep\nend"},
	{"", ""},
	{"no html at all", "no html at all"},
}

func TestToText(t *testing.T) {
	for _, tc := range toText {
		if got := ToText(tc.in); got != tc.want {
			t.Errorf("ToText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLooksHTML(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"a &lt; b &amp; c &gt; d", true},
		{"plain <b>boldword</b> end", true},
		{"x<br>y", true},
		{`<a href="https://x">https://x</a>`, true},
		{`<FONT COLOR="#000">x</FONT>`, true},
		{"a&nbsp;b", true},
		{"&#8364;", true},
		{"1 <2 and 3> 0", false},
		{"a < b & c > d", false},
		{"<3", false},
		{"AT&T", false},
		{"x<y>z", false}, // not a tag libpurple writes
		{"fish & chips; ok", false},
		{"", false},
	} {
		if got := LooksHTML(tc.in); got != tc.want {
			t.Errorf("LooksHTML(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a < b & c > d", "a &lt; b &amp; c &gt; d"},
		{"lost? 1 <2 and 3> 0 <script>alert(1)</script> done",
			"lost? 1 &lt;2 and 3&gt; 0 &lt;script&gt;alert(1)&lt;/script&gt; done"},
		{"tags <b>bold?</b> &amp; entity", "tags &lt;b&gt;bold?&lt;/b&gt; &amp;amp; entity"},
		{"two\nlines\r\nthree\rfour", "two<br>lines<br>three<br>four"},
		{`"quotes" 'stay'`, `"quotes" 'stay'`},
		{"", ""},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestEscapeRoundTrip: what we escape for a libpurple peer, read back the
// way it renders it, is what the user typed (newlines included).
func TestEscapeRoundTrip(t *testing.T) {
	for _, s := range []string{
		"a < b & c > d", "lost? 1 <2 and 3> 0 <script>alert(1)</script> done",
		"tags <b>bold?</b> &amp; entity", "multi\nline\n\nwith gap", "&nbsp; literal",
	} {
		if got := ToText(Escape(s)); got != s {
			t.Errorf("ToText(Escape(%q)) = %q", s, got)
		}
	}
}

func FuzzToText(f *testing.F) {
	for _, tc := range toText {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := ToText(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("ToText(%q) = %q is not UTF-8", s, out)
		}
		if strings.Contains(out, "\n\n\n") {
			t.Fatalf("ToText(%q) = %q has a run of blank lines", s, out)
		}
		_ = LooksHTML(s)
		if !strings.ContainsAny(s, "\r\u00a0") && ToText(Escape(s)) != strings.Trim(s, "\n") &&
			!strings.Contains(s, "\n\n\n") && utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
			t.Fatalf("ToText(Escape(%q)) = %q", s, ToText(Escape(s)))
		}
	})
}
