//go:build amd64 && !purego

package otr

import "golang.org/x/sys/cpu"

// On amd64 with AVX2 the base-64 loops first run 24 bytes (32
// characters) per step in assembly (b64_amd64.s), after the vectorised
// encoding and decoding of Muła and Lemire ("Faster Base64 Encoding and
// Decoding Using AVX2 Instructions", ACM TOPS 2018): a byte shuffle and
// two multiplications split 3 bytes into four 6-bit values, and one
// table lookup per 16 bytes maps them to the alphabet; decoding checks
// every character with two nibble tables and packs with two multiply-
// adds. Whatever the vector loop leaves (the tail, padding, line breaks,
// anything invalid) goes through the scalar code in b64.go.
var b64AVX2 = cpu.X86.HasAVX2

// b64EncodeAVX2 encodes src into dst 24 bytes at a time while src has
// at least 28 bytes (it reads 16 at offset 12) and dst 32; it returns
// how many bytes of src it consumed (32/24 of that were written).
//
//go:noescape
func b64EncodeAVX2(dst, src []byte) int

// b64DecodeAVX2 decodes src into dst 32 characters at a time while src
// has at least 32 and dst room for 32 bytes (24 are kept), stopping
// before the first block holding anything but the alphabet; it returns
// how many characters of src it consumed (3/4 of that were written).
//
//go:noescape
func b64DecodeAVX2(dst, src []byte) int

func b64EncodeVec(dst, src []byte) (out, in []byte) {
	if !b64AVX2 {
		return dst, src
	}
	n := b64EncodeAVX2(dst, src)
	return dst[n/3*4:], src[n:]
}

func b64DecodeVec(dst, src []byte) (out, in []byte) {
	if !b64AVX2 {
		return dst, src
	}
	n := b64DecodeAVX2(dst, src)
	return dst[n/4*3:], src[n:]
}
