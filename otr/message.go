package otr

// Unencoded and encoded message formats, spec §"Unencoded messages" and
// §"Encoded messages": query messages, whitespace tags, error messages, the
// "?OTR:" base-64 wrapper and the binary header (version, type, instance tags).

import (
	"bytes"
	"encoding/base64"
)

// Message types of the binary messages (spec §"Encoded messages").
const (
	msgDHCommit  byte = 0x02
	msgData      byte = 0x03
	msgDHKey     byte = 0x0a
	msgRevealSig byte = 0x11
	msgSig       byte = 0x12
)

// minInstanceTag is the smallest valid instance tag (spec §"Instance Tags").
const minInstanceTag = 0x100

var (
	otrMarker     = []byte("?OTR")
	encodedPrefix = []byte("?OTR:")
	errorPrefix   = []byte("?OTR Error:")

	// Whitespace tag, spec §"Tagged plaintext messages".
	wsBase = []byte("\x20\x09\x20\x20\x09\x09\x09\x09\x20\x09\x20\x09\x20\x09\x20\x20")
	wsV1   = []byte("\x20\x09\x20\x09\x20\x20\x09\x20")
	wsV2   = []byte("\x20\x20\x09\x09\x20\x20\x09\x20")
	wsV3   = []byte("\x20\x20\x09\x09\x20\x20\x09\x09")
)

// queryExplanation follows the query for people whose client has no OTR,
// as libotr does. Plain text: we do not know the sender's display name.
const queryExplanation = "\nI would like to start an Off-the-Record private conversation. " +
	"However, you do not have a plugin to support that.\n" +
	"See https://otr.cypherpunks.ca/ for more information."

// msgKind classifies an unfragmented incoming message.
type msgKind int

const (
	kindPlaintext msgKind = iota // no OTR marker (may carry a whitespace tag)
	kindQuery
	kindError
	kindEncoded
	kindUnknownOTR // "?OTR" followed by something we do not know
)

// classify decides what an incoming message is, in the order libotr and the
// spec imply: an encoded message or error/query wins over plaintext.
func classify(msg []byte) msgKind {
	i := bytes.Index(msg, otrMarker)
	if i < 0 {
		return kindPlaintext
	}
	switch {
	case bytes.Contains(msg, encodedPrefix):
		return kindEncoded
	case bytes.Contains(msg, errorPrefix):
		return kindError
	}
	for ; i >= 0; i = nextMarker(msg, i) {
		rest := msg[i+len(otrMarker):]
		if len(rest) > 0 && (rest[0] == '?' || rest[0] == 'v') {
			return kindQuery
		}
	}
	return kindUnknownOTR
}

func nextMarker(msg []byte, i int) int {
	j := bytes.Index(msg[i+1:], otrMarker)
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// queryVersions returns the versions (2 and 3 only) a query message offers.
// Version 1 ("?OTR?") and unknown identifiers are recognised and ignored.
func queryVersions(msg []byte) (v2, v3 bool) {
	for i := bytes.Index(msg, otrMarker); i >= 0; i = nextMarker(msg, i) {
		rest := msg[i+len(otrMarker):]
		if len(rest) > 0 && rest[0] == '?' {
			rest = rest[1:] // version 1 offered; skip it
		}
		if len(rest) == 0 || rest[0] != 'v' {
			continue
		}
		for _, ch := range rest[1:] {
			if ch == '?' {
				break
			}
			switch ch {
			case '2':
				v2 = true
			case '3':
				v3 = true
			}
		}
		return v2, v3
	}
	return false, false
}

// queryMessage builds "?OTRv23?" (or v2/v3 alone) plus the explanation.
func queryMessage(p Policy) []byte {
	if !p.enabled() {
		return nil
	}
	q := []byte("?OTRv")
	if p.has(AllowV2) {
		q = append(q, '2')
	}
	if p.has(AllowV3) {
		q = append(q, '3')
	}
	q = append(q, '?')
	return append(q, queryExplanation...)
}

// errorText extracts the human-readable part of an OTR Error Message.
func errorText(msg []byte) string {
	i := bytes.Index(msg, errorPrefix)
	if i < 0 {
		return ""
	}
	return string(bytes.TrimSpace(msg[i+len(errorPrefix):]))
}

func errorMessage(text string) []byte { return []byte("?OTR Error: " + text) }

// whitespaceTag builds the tag advertising the versions p allows.
func whitespaceTag(p Policy) []byte {
	t := append([]byte(nil), wsBase...)
	if p.has(AllowV2) {
		t = append(t, wsV2...)
	}
	if p.has(AllowV3) {
		t = append(t, wsV3...)
	}
	return t
}

// StripWhitespaceTag removes an OTR whitespace tag and the version tags
// that follow it (spec §"Tagged plaintext messages"), for plaintext that
// did not pass through a Conversation, such as a carbon copy of a message
// our other device received. Only known version tags are removed.
func StripWhitespaceTag(msg []byte) []byte {
	out, _, _, _ := stripWhitespaceTag(msg)
	return out
}

// stripWhitespaceTag removes the first whitespace tag and the version tags
// that follow it. found reports whether there was a tag at all.
func stripWhitespaceTag(msg []byte) (out []byte, found, v2, v3 bool) {
	i := bytes.Index(msg, wsBase)
	if i < 0 {
		return msg, false, false, false
	}
	j := i + len(wsBase)
	for len(msg)-j >= 8 {
		t := msg[j : j+8]
		switch {
		case bytes.Equal(t, wsV1):
		case bytes.Equal(t, wsV2):
			v2 = true
		case bytes.Equal(t, wsV3):
			v3 = true
		default:
			goto done
		}
		j += 8
	}
done:
	out = make([]byte, 0, len(msg)-(j-i))
	out = append(out, msg[:i]...)
	out = append(out, msg[j:]...)
	return out, true, v2, v3
}

// encode wraps a binary message as "?OTR:" base64 ".".
func encode(bin []byte) []byte {
	out := make([]byte, 0, len(encodedPrefix)+base64.StdEncoding.EncodedLen(len(bin))+1)
	out = append(out, encodedPrefix...)
	out = b64AppendEncode(out, bin)
	return append(out, '.')
}

// decode extracts and decodes the binary message of an encoded message.
// Whitespace inside the base-64 (line breaks added by a transport) is
// tolerated; anything else that is not base-64 is an error.
func decode(msg []byte) ([]byte, bool) {
	i := bytes.Index(msg, encodedPrefix)
	if i < 0 {
		return nil, false
	}
	body := msg[i+len(encodedPrefix):]
	end := bytes.IndexByte(body, '.')
	if end < 0 {
		return nil, false
	}
	body = body[:end]
	// The decoder skips CR and LF itself; only spaces and tabs need
	// stripping, and only a message that failed to decode is scanned for
	// them (a byte-by-byte scan cost 10% of a 1 KiB message's receive).
	bin, err := b64AppendDecode(nil, body)
	if err != nil && bytes.ContainsAny(body, " \t") {
		body = bytes.Map(func(r rune) rune {
			switch r {
			case ' ', '\t', '\r', '\n':
				return -1
			}
			return r
		}, body)
		bin, err = b64AppendDecode(nil, body)
	}
	if err != nil || len(bin) == 0 {
		return nil, false
	}
	return bin, true
}

// header is the common start of every binary message. Version 2 messages
// carry no instance tags; sender and receiver are then 0.
type header struct {
	version  int
	typ      byte
	sender   uint32
	receiver uint32
}

func appendHeader(b []byte, h header) []byte {
	b = appendShort(b, uint16(h.version))
	b = appendByte(b, h.typ)
	if h.version == 3 {
		b = appendInt(b, h.sender)
		b = appendInt(b, h.receiver)
	}
	return b
}

// parseHeader reads the header. Versions other than 2 and 3 are reported
// with ok=true so the caller can ignore them (version 1) deliberately.
func parseHeader(b []byte) (header, []byte, bool) {
	var h header
	v, rest, ok := readShort(b)
	if !ok {
		return h, b, false
	}
	h.version = int(v)
	if h.typ, rest, ok = readByte(rest); !ok {
		return h, b, false
	}
	if h.version == 3 {
		if h.sender, rest, ok = readInt(rest); !ok {
			return h, b, false
		}
		if h.receiver, rest, ok = readInt(rest); !ok {
			return h, b, false
		}
	}
	return h, rest, true
}

// ParseInstanceTags reads the protocol version and instance tags of an
// encoded OTR message or fragment, so the application can route it to the
// Conversation for that peer instance. Version 2 messages have no tags
// (sender and receiver are 0). ok is false for anything else.
func ParseInstanceTags(msg []byte) (version int, sender, receiver uint32, ok bool) {
	if f, isFrag, valid := parseFragment(msg); isFrag {
		if !valid {
			return 0, 0, 0, false
		}
		return f.version, f.sender, f.receiver, true
	}
	if classify(msg) != kindEncoded {
		return 0, 0, 0, false
	}
	bin, ok := decode(msg)
	if !ok {
		return 0, 0, 0, false
	}
	h, _, ok := parseHeader(bin)
	if !ok || (h.version != 2 && h.version != 3) {
		return 0, 0, 0, false
	}
	return h.version, h.sender, h.receiver, true
}
