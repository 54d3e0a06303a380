package otr

// Wire-format primitives, spec §"Data types" (../shared/spec/otr-protocol-v3.html):
// BYTE, SHORT, INT, MPI, DATA, CTR and MAC. Encoders append to a slice;
// decoders follow the (value, rest, ok) convention and never panic on short
// or malformed input.

import (
	"encoding/binary"
	"math/big"
	"slices"
)

func appendByte(b []byte, v byte) []byte { return append(b, v) }

func appendShort(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }

func appendInt(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }

// appendData writes a 4-byte length followed by the bytes (DATA).
func appendData(b, d []byte) []byte {
	b = appendInt(b, uint32(len(d)))
	return append(b, d...)
}

// appendMPI writes an MPI in minimum-length encoding (no leading zero bytes).
// It writes the bytes straight into b (no temporary from x.Bytes()).
func appendMPI(b []byte, x *big.Int) []byte {
	n := (x.BitLen() + 7) / 8
	b = appendInt(b, uint32(n))
	b = slices.Grow(b, n)
	b = b[:len(b)+n]
	x.FillBytes(b[len(b)-n:])
	return b
}

// mpiLen is the encoded length of x as an MPI.
func mpiLen(x *big.Int) int { return 4 + (x.BitLen()+7)/8 }

func readByte(b []byte) (byte, []byte, bool) {
	if len(b) < 1 {
		return 0, b, false
	}
	return b[0], b[1:], true
}

func readShort(b []byte) (uint16, []byte, bool) {
	if len(b) < 2 {
		return 0, b, false
	}
	return binary.BigEndian.Uint16(b), b[2:], true
}

func readInt(b []byte) (uint32, []byte, bool) {
	if len(b) < 4 {
		return 0, b, false
	}
	return binary.BigEndian.Uint32(b), b[4:], true
}

// readData reads a DATA field. The returned slice aliases b.
func readData(b []byte) ([]byte, []byte, bool) {
	n, rest, ok := readInt(b)
	if !ok || uint64(n) > uint64(len(rest)) {
		return nil, b, false
	}
	return rest[:n], rest[n:], true
}

// readMPI reads an MPI. Non-minimal encodings (a leading zero byte) are
// accepted, as libotr accepts them, but the value is what counts.
func readMPI(b []byte) (*big.Int, []byte, bool) {
	d, rest, ok := readData(b)
	if !ok {
		return nil, b, false
	}
	return new(big.Int).SetBytes(d), rest, true
}

// readMPIs reads a count (INT) followed by that many MPIs, as in SMP TLVs.
// max bounds the count so a hostile length cannot make us allocate.
func readMPIs(b []byte, max int) ([]*big.Int, []byte, bool) {
	n, rest, ok := readInt(b)
	if !ok || n > uint32(max) {
		return nil, b, false
	}
	out := make([]*big.Int, 0, n)
	for i := uint32(0); i < n; i++ {
		var x *big.Int
		x, rest, ok = readMPI(rest)
		if !ok {
			return nil, b, false
		}
		out = append(out, x)
	}
	return out, rest, true
}

// appendMPIs writes a count (INT) followed by the MPIs.
func appendMPIs(b []byte, xs ...*big.Int) []byte {
	b = appendInt(b, uint32(len(xs)))
	for _, x := range xs {
		b = appendMPI(b, x)
	}
	return b
}
