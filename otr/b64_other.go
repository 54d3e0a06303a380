//go:build !amd64 || purego

package otr

// Without the amd64 vector loops everything goes through b64.go.
const b64AVX2 = false

func b64EncodeVec(dst, src []byte) (out, in []byte) { return dst, src }
func b64DecodeVec(dst, src []byte) (out, in []byte) { return dst, src }
