package otr

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

// TestBase64MatchesStdlib: every length from 0 to 300 and inputs with
// padding, line breaks and bad characters give the standard library's
// result, error or not.
func TestBase64MatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 300; n++ {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		got := b64AppendEncode([]byte("?OTR:"), src)
		want := base64.StdEncoding.AppendEncode([]byte("?OTR:"), src)
		if !bytes.Equal(got, want) {
			t.Fatalf("encode %d bytes: %q, want %q", n, got, want)
		}
		checkDecode(t, want[5:])
	}
	for _, s := range []string{"", "=", "QQ==", "QQ=", "QQ", "QUJD", "QUJDRA==", "QUJD\nRA==",
		"QU\r\nJDRA==", "QUJD RA==", "QUJD*A==", "QUJDRA==QUJD", "QUJDRA=", "////", "++++////",
		"QUJDREVGR0hJSktM\nTU5P", "QUJDREVGR0hJSktMTU5P\n", "\nQUJD", "QUJDREVGR0hJSktMTU5=",
		"QUJDREVGR0hJSktMTU5PUA", "QUJDREVGR0hJSktMTU5PUB=="} {
		checkDecode(t, []byte(s))
	}
}

func checkDecode(t *testing.T, src []byte) {
	t.Helper()
	got, err := b64AppendDecode([]byte("x"), src)
	want, werr := base64.StdEncoding.AppendDecode([]byte("x"), src)
	if (err == nil) != (werr == nil) {
		t.Fatalf("decode %q: error %v, stdlib %v", src, err, werr)
	}
	if err == nil && !bytes.Equal(got, want) {
		t.Fatalf("decode %q: %x, stdlib %x", src, got, want)
	}
}

func FuzzBase64Decode(f *testing.F) {
	for _, s := range []string{"QUJDRA==", "QUJD\nRA==", "QUJD*A==", "////++++", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkDecode(t, src)
		enc := b64AppendEncode(nil, src)
		if want := base64.StdEncoding.EncodeToString(src); string(enc) != want {
			t.Fatalf("encode %x: %q, want %q", src, enc, want)
		}
	})
}

func BenchmarkBase64(b *testing.B) {
	src := make([]byte, 1100)
	enc := []byte(base64.StdEncoding.EncodeToString(src))
	buf := make([]byte, 0, 2048)
	b.Run("ours/encode", func(b *testing.B) {
		for b.Loop() {
			buf = b64AppendEncode(buf[:0], src)
		}
	})
	b.Run("stdlib/encode", func(b *testing.B) {
		for b.Loop() {
			buf = base64.StdEncoding.AppendEncode(buf[:0], src)
		}
	})
	b.Run("ours/decode", func(b *testing.B) {
		for b.Loop() {
			buf, _ = b64AppendDecode(buf[:0], enc)
		}
	})
	b.Run("stdlib/decode", func(b *testing.B) {
		for b.Loop() {
			buf, _ = base64.StdEncoding.AppendDecode(buf[:0], enc)
		}
	})
}

// The vector loops (amd64 with AVX2) agree with encoding/base64 for every
// length and stop at, never past, a character outside the alphabet, a
// line break or padding anywhere in a block.
func TestBase64VectorEdges(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	src := make([]byte, 600)
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	enc := base64.StdEncoding.EncodeToString(src)
	if b64AVX2 {
		// The assembly itself: whole steps only, exactly the standard output.
		out := make([]byte, 800)
		rest, in := b64EncodeVec(out, src[:100])
		if n := 100 - len(in); n != 96 || len(out)-len(rest) != 128 || string(out[:128]) != enc[:128] {
			t.Fatalf("vector encode consumed %d bytes, wrote %q; want 96 and %q", n, out[:128], enc[:128])
		}
		rest, in = b64DecodeVec(out, []byte(enc[:100]))
		if n := 100 - len(in); n != 96 || len(out)-len(rest) != 72 || !bytes.Equal(out[:72], src[:72]) {
			t.Fatalf("vector decode consumed %d characters; want 96 and the bytes back", n)
		}
	}
	for _, bad := range []byte{'=', '\n', '\r', ' ', '-', '_', '.', ':', '@', '[', '`', '{', 0, 0x80, 0xff} {
		for pos := 0; pos < 200; pos++ {
			b := []byte(enc[:200])
			b[pos] = bad
			checkDecode(t, b)
		}
	}
}
