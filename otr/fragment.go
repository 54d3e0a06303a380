package otr

// Fragmentation, spec §"Fragmentation". Version 3 fragments look like
// "?OTR|sender|receiver,k,n,piece," (tags in hex), version 2 ones like
// "?OTR,k,n,piece,". We send k and n as five zero-padded decimal digits and
// tags as eight hex digits, as libotr does; we accept any width.

import (
	"bytes"
	"fmt"
)

const (
	// maxFragments is the spec's bound: k and n are unsigned shorts.
	maxFragments = 65535
	// maxReassembled bounds the memory one peer can make us hold for a
	// message being reassembled. Real OTR messages are a few KiB.
	maxReassembled = 256 << 10
)

var (
	fragPrefixV3 = []byte("?OTR|")
	fragPrefixV2 = []byte("?OTR,")
)

type fragment struct {
	version          int
	sender, receiver uint32
	k, n             int
	piece            []byte
}

// parseFragment recognises a fragment. isFrag reports that the message
// claims to be one; valid that it also parses.
func parseFragment(msg []byte) (f fragment, isFrag, valid bool) {
	var rest []byte
	if i := bytes.Index(msg, fragPrefixV3); i >= 0 {
		f.version = 3
		rest = msg[i+len(fragPrefixV3):]
		var ok bool
		if f.sender, rest, ok = parseHexTag(rest, '|'); !ok {
			return f, true, false
		}
		if f.receiver, rest, ok = parseHexTag(rest, ','); !ok {
			return f, true, false
		}
	} else if i := bytes.Index(msg, fragPrefixV2); i >= 0 {
		f.version = 2
		rest = msg[i+len(fragPrefixV2):]
	} else {
		return f, false, false
	}
	var ok bool
	if f.k, rest, ok = parseDecimal(rest); !ok {
		return f, true, false
	}
	if f.n, rest, ok = parseDecimal(rest); !ok {
		return f, true, false
	}
	end := bytes.IndexByte(rest, ',')
	if end <= 0 { // no terminating comma, or an empty piece
		return f, true, false
	}
	f.piece = rest[:end]
	return f, true, true
}

// parseHexTag reads 1-8 hex digits followed by sep.
func parseHexTag(b []byte, sep byte) (uint32, []byte, bool) {
	var v uint32
	i := 0
	for ; i < len(b) && b[i] != sep; i++ {
		c := b[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, b, false
		}
		if i >= 8 {
			return 0, b, false
		}
		v = v<<4 | uint32(d)
	}
	if i == 0 || i == len(b) {
		return 0, b, false
	}
	return v, b[i+1:], true
}

// parseDecimal reads an unsigned short in decimal followed by ','.
func parseDecimal(b []byte) (int, []byte, bool) {
	v, i := 0, 0
	for ; i < len(b) && b[i] != ','; i++ {
		c := b[i]
		if c < '0' || c > '9' || i >= 10 {
			return 0, b, false
		}
		v = v*10 + int(c-'0')
	}
	if i == 0 || i == len(b) || v > maxFragments {
		return 0, b, false
	}
	return v, b[i+1:], true
}

// reassembler holds at most one partially received message, as the spec's
// (K, N, F) triple, plus the version and sender it came from.
type reassembler struct {
	k, n    int
	buf     []byte
	version int
	sender  uint32
}

func (r *reassembler) reset() {
	r.k, r.n, r.version, r.sender = 0, 0, 0, 0
	r.buf = nil
}

// add applies the spec's receiving rules to one fragment. It returns the
// complete message once the last piece arrives, or a non-empty problem when
// the fragment was discarded.
func (r *reassembler) add(f fragment) (complete []byte, problem string) {
	if f.k == 0 || f.n == 0 || f.k > f.n {
		return nil, "illegal fragment number"
	}
	switch {
	case f.k == 1:
		r.reset()
		r.k, r.n, r.version, r.sender = 1, f.n, f.version, f.sender
		r.buf = append(make([]byte, 0, len(f.piece)), f.piece...)
	case f.n == r.n && f.k == r.k+1 && f.version == r.version && f.sender == r.sender:
		if len(r.buf)+len(f.piece) > maxReassembled {
			r.reset()
			return nil, "reassembled message too large"
		}
		r.buf = append(r.buf, f.piece...)
		r.k = f.k
	default:
		r.reset()
		return nil, "fragment out of sequence"
	}
	if len(r.buf) > maxReassembled {
		r.reset()
		return nil, "reassembled message too large"
	}
	if r.n > 0 && r.k == r.n {
		complete = r.buf
		r.reset()
		return complete, ""
	}
	return nil, ""
}

// fragmentMessage splits an encoded message so each piece fits in size
// bytes. Messages that fit, non-encoded messages, and sizes too small for
// the fragment header are returned whole: there is nothing better to do.
func fragmentMessage(msg []byte, size, version int, sender, receiver uint32) [][]byte {
	if size <= 0 || len(msg) <= size || !bytes.HasPrefix(msg, encodedPrefix) {
		return [][]byte{msg}
	}
	overhead := len(fragmentHeader(version, sender, receiver, 1, 1)) + 1
	room := size - overhead
	if room < 1 {
		return [][]byte{msg}
	}
	n := (len(msg) + room - 1) / room
	if n > maxFragments {
		return [][]byte{msg}
	}
	out := make([][]byte, 0, n)
	for k := 1; k <= n; k++ {
		piece := msg[(k-1)*room : min(k*room, len(msg))]
		f := fragmentHeader(version, sender, receiver, k, n)
		f = append(f, piece...)
		out = append(out, append(f, ','))
	}
	return out
}

func fragmentHeader(version int, sender, receiver uint32, k, n int) []byte {
	if version == 3 {
		return fmt.Appendf(nil, "?OTR|%08x|%08x,%05d,%05d,", sender, receiver, k, n)
	}
	return fmt.Appendf(nil, "?OTR,%05d,%05d,", k, n)
}
