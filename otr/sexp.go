package otr

// A small reader and writer for the libgcrypt S-expressions libotr stores
// its private keys in (otr.private_key). The reader accepts libgcrypt's
// "advanced" transport syntax: lists, bare tokens, "quoted strings" with C
// escapes, #hex#, |base64| and canonical length-prefixed atoms (4:abcd).
// Display hints ([...]) are not used by libotr and are rejected. The reader
// is bounded in input size and nesting depth and never panics.
//
// The writer reproduces gcry_sexp_sprint(GCRYSEXP_FMT_ADVANCED) byte for
// byte for the shapes libotr writes, so files we write look exactly like
// files libotr writes (checked against libotr 4.1.1 / libgcrypt 1.10).

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

const (
	maxSexpSize  = 4 << 20 // bytes; a key is about 1.2 KB, so this allows thousands of accounts
	maxSexpDepth = 16      // libotr's files nest 5 deep
)

// sexp is a list (list != nil or isList) or an atom (atom).
type sexp struct {
	isList bool
	list   []*sexp
	atom   []byte
}

// head is the first element of a list if it is an atom, else "".
func (s *sexp) head() string {
	if !s.isList || len(s.list) == 0 || s.list[0].isList {
		return ""
	}
	return string(s.list[0].atom)
}

// find returns the first direct sub-list whose head is name.
func (s *sexp) find(name string) *sexp {
	for _, e := range s.list {
		if e.isList && e.head() == name {
			return e
		}
	}
	return nil
}

// value returns the atom in (name value), or false.
func (s *sexp) value(name string) ([]byte, bool) {
	e := s.find(name)
	if e == nil || len(e.list) < 2 || e.list[1].isList {
		return nil, false
	}
	return e.list[1].atom, true
}

type sexpParser struct {
	b   []byte
	pos int
}

// parseSexp parses exactly one S-expression, surrounded by optional
// whitespace.
func parseSexp(b []byte) (*sexp, error) {
	if len(b) > maxSexpSize {
		return nil, fmt.Errorf("s-expression larger than %d bytes", maxSexpSize)
	}
	p := &sexpParser{b: b}
	p.skipSpace()
	if p.pos >= len(p.b) || p.b[p.pos] != '(' {
		return nil, errors.New("s-expression does not start with '('")
	}
	s, err := p.parseList(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.b) {
		return nil, fmt.Errorf("s-expression: trailing data at offset %d", p.pos)
	}
	return s, nil
}

func (p *sexpParser) errorf(format string, args ...any) error {
	return fmt.Errorf("s-expression at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func isSexpSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (p *sexpParser) skipSpace() {
	for p.pos < len(p.b) && isSexpSpace(p.b[p.pos]) {
		p.pos++
	}
}

// parseList parses from the '(' at p.pos to its ')'.
func (p *sexpParser) parseList(depth int) (*sexp, error) {
	if depth >= maxSexpDepth {
		return nil, p.errorf("nested deeper than %d", maxSexpDepth)
	}
	p.pos++ // '('
	s := &sexp{isList: true}
	for {
		p.skipSpace()
		if p.pos >= len(p.b) {
			return nil, p.errorf("unclosed list")
		}
		switch p.b[p.pos] {
		case ')':
			p.pos++
			return s, nil
		case '(':
			e, err := p.parseList(depth + 1)
			if err != nil {
				return nil, err
			}
			s.list = append(s.list, e)
		default:
			a, err := p.parseAtom()
			if err != nil {
				return nil, err
			}
			s.list = append(s.list, &sexp{atom: a})
		}
	}
}

func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("-./_:*+=", c) >= 0
}

// parseAtom parses one atom in any of the transport encodings.
func (p *sexpParser) parseAtom() ([]byte, error) {
	c := p.b[p.pos]
	switch {
	case c == '"':
		return p.parseString()
	case c == '#':
		return p.parseDelimited('#', decodeSexpHex)
	case c == '|':
		return p.parseDelimited('|', base64.StdEncoding.DecodeString)
	case c >= '0' && c <= '9':
		return p.parseVerbatim()
	case isTokenChar(c):
		start := p.pos
		for p.pos < len(p.b) && isTokenChar(p.b[p.pos]) {
			p.pos++
		}
		return []byte(string(p.b[start:p.pos])), nil
	}
	return nil, p.errorf("unexpected character %q", c)
}

// parseVerbatim parses the canonical form "<decimal length>:<bytes>".
func (p *sexpParser) parseVerbatim() ([]byte, error) {
	n := 0
	for p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '9' {
		n = n*10 + int(p.b[p.pos]-'0')
		if n > len(p.b) {
			return nil, p.errorf("atom length too large")
		}
		p.pos++
	}
	if p.pos >= len(p.b) || p.b[p.pos] != ':' {
		return nil, p.errorf("expected ':' after atom length")
	}
	p.pos++
	if n > len(p.b)-p.pos {
		return nil, p.errorf("atom runs past the end")
	}
	a := []byte(string(p.b[p.pos : p.pos+n]))
	p.pos += n
	return a, nil
}

// parseDelimited reads #hex# or |base64|; whitespace inside is ignored,
// as libgcrypt allows.
func (p *sexpParser) parseDelimited(end byte, decode func(string) ([]byte, error)) ([]byte, error) {
	p.pos++
	var sb strings.Builder
	for p.pos < len(p.b) && p.b[p.pos] != end {
		if c := p.b[p.pos]; !isSexpSpace(c) {
			sb.WriteByte(c)
		}
		p.pos++
	}
	if p.pos >= len(p.b) {
		return nil, p.errorf("unterminated %c atom", end)
	}
	p.pos++
	a, err := decode(sb.String())
	if err != nil {
		return nil, p.errorf("bad %c atom: %v", end, err)
	}
	return a, nil
}

// decodeSexpHex decodes #hex#; like libgcrypt it rejects an odd digit count.
func decodeSexpHex(s string) ([]byte, error) {
	return hex.DecodeString(s)
}

// parseString reads a "quoted string" with libgcrypt's escapes.
func (p *sexpParser) parseString() ([]byte, error) {
	p.pos++
	var out []byte
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		p.pos++
		switch c {
		case '"':
			return out, nil
		case '\\':
			var err error
			if out, err = p.parseEscape(out); err != nil {
				return nil, err
			}
		default:
			out = append(out, c)
		}
	}
	return nil, p.errorf("unterminated string")
}

// parseEscape handles the character after a backslash.
func (p *sexpParser) parseEscape(out []byte) ([]byte, error) {
	if p.pos >= len(p.b) {
		return nil, p.errorf("unterminated string")
	}
	c := p.b[p.pos]
	p.pos++
	if i := strings.IndexByte(`btvnfr"'\`, c); i >= 0 {
		return append(out, "\b\t\v\n\f\r\"'\\"[i]), nil
	}
	switch {
	case c == '\n' || c == '\r': // line continuation: \<LF>, \<CR>, \<CR><LF>, \<LF><CR>
		if p.pos < len(p.b) && (p.b[p.pos] == '\n' || p.b[p.pos] == '\r') && p.b[p.pos] != c {
			p.pos++
		}
		return out, nil
	case c == 'x':
		if p.pos+2 > len(p.b) {
			return nil, p.errorf("short \\x escape")
		}
		v, err := hex.DecodeString(string(p.b[p.pos : p.pos+2]))
		if err != nil {
			return nil, p.errorf("bad \\x escape")
		}
		p.pos += 2
		return append(out, v[0]), nil
	case c >= '0' && c <= '7':
		if p.pos+2 > len(p.b) {
			return nil, p.errorf("short octal escape")
		}
		v := int(c - '0')
		for _, d := range p.b[p.pos : p.pos+2] {
			if d < '0' || d > '7' {
				return nil, p.errorf("bad octal escape")
			}
			v = v*8 + int(d-'0')
		}
		if v > 0xff {
			return nil, p.errorf("octal escape out of range")
		}
		p.pos += 2
		return append(out, byte(v)), nil
	}
	return nil, p.errorf("unknown escape \\%c", c)
}

// appendSexpAtom writes an atom the way gcry_sexp_sprint's advanced format
// chooses: a bare token if it looks like one, a quoted string if it is
// printable, else #HEX#.
func appendSexpAtom(b, a []byte) []byte {
	switch sexpEncoding(a) {
	case sexpToken:
		return append(b, a...)
	case sexpString:
		return appendSexpString(b, a)
	}
	b = append(b, '#')
	b = append(b, strings.ToUpper(hex.EncodeToString(a))...)
	return append(b, '#')
}

const (
	sexpHex = iota
	sexpString
	sexpToken
)

// sexpEncoding mirrors libgcrypt's rule for picking the advanced encoding.
func sexpEncoding(a []byte) int {
	if len(a) == 0 {
		return sexpString
	}
	if a[0]&0x80 != 0 || a[0] == 0 {
		return sexpHex // looks like a negative number or binary
	}
	token := true
	for _, c := range a {
		if (c < 0x20 || c >= 0x7f && c <= 0xa0) && strings.IndexByte("\b\t\v\n\f\r\"'\\", c) < 0 {
			return sexpHex
		}
		if !isTokenChar(c) {
			token = false
		}
	}
	if token && !(a[0] >= '0' && a[0] <= '9') {
		return sexpToken
	}
	return sexpString
}

func appendSexpString(b, a []byte) []byte {
	b = append(b, '"')
	for _, c := range a {
		if i := strings.IndexByte("\b\t\v\n\f\r\"'\\", c); i >= 0 {
			b = append(b, '\\', `btvnfr"'\`[i])
		} else if c < 0x20 || c >= 0x7f && c <= 0xa0 {
			b = fmt.Appendf(b, "\\x%02x", c)
		} else {
			b = append(b, c)
		}
	}
	return append(b, '"')
}
