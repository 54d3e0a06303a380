package markup

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxInput bounds the work done on one message; longer input is cut. An
// OTR message is at most a few hundred kilobytes in practice.
const maxInput = 1 << 20

// Escape makes text safe and faithful for a peer that renders HTML:
// & < > become entities and newlines <br>, as libpurple itself sends what
// a user typed. Quotes are left alone (they only matter inside
// attributes, which Escape never writes).
func Escape(text string) string {
	var b strings.Builder
	b.Grow(len(text) + len(text)/8)
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\r':
			if i+1 < len(text) && text[i+1] == '\n' {
				continue // \r\n is one line break
			}
			b.WriteString("<br>")
		case '\n':
			b.WriteString("<br>")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// htmlish matches what libpurple writes: an element it uses (opening or
// closing) or a character reference. A bare "<" or "a<b" is not HTML;
// "<3" and "< 2" are not either.
var htmlish = regexp.MustCompile(`(?i)</?(a|b|i|u|s|em|strong|br|font|span|p|div|html|body|img|sub|sup|strike|del|ins|pre|code|blockquote|ul|ol|li|hr|h[1-6]|tt|big|small|script|style)(\s[^<>]*)?/?>|&(#[0-9]{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});`)

// LooksHTML reports whether s carries HTML a libpurple client would
// write: one of its tags or an entity.
func LooksHTML(s string) bool {
	if len(s) > maxInput {
		s = s[:maxInput]
	}
	return htmlish.MatchString(s)
}

// block elements end a line when they close.
var block = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Li: true, atom.Blockquote: true, atom.Pre: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Tr: true, atom.Ul: true, atom.Ol: true, atom.Table: true,
}

// ToText turns HTML into plain text: tags are dropped and their text kept
// (a <script> or <style> element's too: Sotto shows it as text, it never
// runs or renders anything), entities are decoded, <br>, <hr> and the end
// of block elements become newlines, &nbsp; a space, and a link whose
// address differs from its text becomes "text (address)". Runs of
// newlines are kept to at most two and the result is trimmed of
// surrounding blank lines. It never fails: broken markup is read the way
// a browser would (html.Tokenizer), and whatever is not a tag is text.
func ToText(s string) string {
	if len(s) > maxInput {
		s = s[:maxInput]
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var out strings.Builder
	type link struct {
		href  string
		start int // out.Len() when the <a> opened
	}
	var links []link
	nl := func() { out.WriteByte('\n') }
	// endLine starts a new line unless one was just started.
	endLine := func() {
		if o := out.String(); o != "" && o[len(o)-1] != '\n' {
			nl()
		}
	}
	for {
		switch z.Next() {
		case html.ErrorToken:
			return tidy(out.String())
		case html.TextToken:
			out.WriteString(strings.ReplaceAll(string(z.Text()), "\u00a0", " "))
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			switch {
			case a == atom.Br || a == atom.Hr:
				nl()
			case block[a]:
				endLine()
			case a == atom.A:
				href := ""
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "href" {
						href = strings.TrimSpace(string(v))
					}
				}
				links = append(links, link{href: href, start: out.Len()})
			case a == atom.Img:
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "alt" && len(v) > 0 {
						out.Write(v)
					}
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch {
			case a == atom.A && len(links) > 0:
				l := links[len(links)-1]
				links = links[:len(links)-1]
				text := strings.TrimSpace(out.String()[l.start:])
				if l.href != "" && !sameLink(l.href, text) {
					out.WriteString(" (" + l.href + ")")
				}
			case a == atom.Br:
				nl() // "</br>" is read as <br> by browsers too
			case block[a]:
				endLine()
			}
		}
	}
}

// sameLink: the text already shows the address (libpurple links bare
// URLs with the URL as text; mailto: links show the address alone).
func sameLink(href, text string) bool {
	if text == "" {
		return false
	}
	return href == text || strings.TrimPrefix(href, "mailto:") == text ||
		strings.TrimSuffix(href, "/") == strings.TrimSuffix(text, "/")
}

// tidy trims blank lines at both ends and collapses runs of more than two
// newlines (nested blocks each end a line).
func tidy(s string) string {
	s = strings.Trim(s, "\n")
	for strings.Contains(s, "\n\n\n") {
		s = strings.ReplaceAll(s, "\n\n\n", "\n\n")
	}
	return s
}
