package otr

// Base-64 for OTR's encoded messages. Half the CPU of a 1 KiB data
// message went to encoding/base64 (issue 17), which looks up one 6-bit
// group at a time. These work on whole quanta through larger tables:
// encoding maps 12 bits to two characters at once, decoding ORs four
// per-position tables into the 24 bits of a quantum and checks them with
// one comparison. Anything the fast path does not cover (padding, line
// breaks, invalid input) is left to encoding/base64 from the quantum
// where it starts, so the accepted language is exactly the standard
// encoding's (TestBase64MatchesStdlib, FuzzBase64Decode).

import (
	"encoding/base64"
	"encoding/binary"
	"slices"
)

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// b64Invalid marks a character outside the alphabet in the decode tables
// (above the 24 bits a quantum fills).
const b64Invalid = 1 << 24

var (
	b64Pairs [4096]uint16   // 12 bits → two characters, first in the low byte
	b64Dec   [4][256]uint32 // character at position i of a quantum → its bits
)

func init() {
	for v := range b64Pairs {
		b64Pairs[v] = uint16(b64Alphabet[v>>6]) | uint16(b64Alphabet[v&63])<<8
	}
	for i := range b64Dec {
		for c := range b64Dec[i] {
			b64Dec[i][c] = b64Invalid
		}
	}
	for v := 0; v < 64; v++ {
		c := b64Alphabet[v]
		for i := range b64Dec {
			b64Dec[i][c] = uint32(v) << (6 * (3 - i))
		}
	}
}

// b64AppendEncode appends the standard (padded) encoding of src to dst.
func b64AppendEncode(dst, src []byte) []byte {
	n := len(dst)
	el := base64.StdEncoding.EncodedLen(len(src))
	dst = slices.Grow(dst, el)[:n+el]
	out := dst[n:]
	out, src = b64EncodeVec(out, src) // 24 bytes a step where the CPU can (b64_amd64.go)
	// Six bytes → eight characters: one 64-bit load (the two bytes past
	// the six must exist), four 12-bit lookups, one store; two quanta per
	// round. Re-slicing instead of indexing leaves no bounds checks in the
	// loop.
	for len(src) >= 14 && len(out) >= 16 {
		v := binary.BigEndian.Uint64(src)
		w := binary.BigEndian.Uint64(src[6:])
		binary.LittleEndian.PutUint64(out, b64Quantum(v))
		binary.LittleEndian.PutUint64(out[8:], b64Quantum(w))
		src, out = src[12:], out[16:]
	}
	for len(src) >= 8 && len(out) >= 8 {
		binary.LittleEndian.PutUint64(out, b64Quantum(binary.BigEndian.Uint64(src)))
		src, out = src[6:], out[8:]
	}
	base64.StdEncoding.Encode(out, src)
	return dst
}

// b64Quantum encodes the top six bytes of v as eight characters, the
// first in the low byte.
func b64Quantum(v uint64) uint64 {
	return uint64(b64Pairs[v>>52]) | uint64(b64Pairs[v>>40&0xfff])<<16 |
		uint64(b64Pairs[v>>28&0xfff])<<32 | uint64(b64Pairs[v>>16&0xfff])<<48
}

// b64AppendDecode appends the decoding of src to dst, accepting exactly
// what base64.StdEncoding.AppendDecode accepts.
func b64AppendDecode(dst, src []byte) ([]byte, error) {
	n := len(dst)
	max := len(src) / 4 * 3
	// +8: room for the last 8-byte store, and for the vector loop's
	// 32-byte stores (24 kept) up to the last whole block.
	dst = slices.Grow(dst, max+8)[:n+max+8]
	out := dst[n:]
	out, src = b64DecodeVec(out, src) // 32 characters a step where the CPU can (b64_amd64.go)
	// Eight characters → six bytes, written as one 64-bit store. Stop one
	// quantum short of the end: the last may hold padding.
	for len(src) >= 12 && len(out) >= 8 {
		c := binary.LittleEndian.Uint64(src) // eight characters, first low
		v := b64Dec[0][byte(c)] | b64Dec[1][byte(c>>8)] | b64Dec[2][byte(c>>16)] | b64Dec[3][byte(c>>24)]
		w := b64Dec[0][byte(c>>32)] | b64Dec[1][byte(c>>40)] | b64Dec[2][byte(c>>48)] | b64Dec[3][byte(c>>56)]
		if v|w >= b64Invalid {
			break
		}
		binary.BigEndian.PutUint64(out, uint64(v)<<40|uint64(w)<<16)
		src, out = src[8:], out[6:]
	}
	o := len(dst) - n - len(out)
	return base64.StdEncoding.AppendDecode(dst[:n+o], src)
}
