package otr

// Montgomery arithmetic modulo an odd number: the product and square
// every power in the engine is made of (the fixed-base comb for the
// generator in fixedbase.go, the variable-base powers and DSA
// verification in montexp.go). On amd64 with BMI2 and ADX they run in
// assembly (mont_amd64.s: 1536-bit product about 0.45× this file's Go
// loop and 0.55× math/big's, square about 0.6× a product); elsewhere the
// Go loop here is used for the comb only and everything else stays on
// big.Int.Exp, which is faster than this loop (1.45 µs against 2.9 µs
// per 1536-bit product when measured).
//
// Timing: mul and sqr are branch-free (the final subtraction is masked).
// Conversions to and from big.Int are not constant time; they handle the
// base (public in every use) and the result. See SECURITY.md "Timing side
// channels".

import (
	"math/big"
	"math/bits"
)

// maxMontWords bounds the modulus size: 4096 bits, the largest DSA p
// readPubKey accepts.
const maxMontWords = 64

// montCtx is Montgomery arithmetic modulo an odd m of n 64-bit words, with
// R = 2^(64n). A montCtx is immutable once made and safe for concurrent use.
type montCtx struct {
	mod *big.Int
	m   []uint64 // little-endian words of mod
	k0  uint64   // -m⁻¹ mod 2⁶⁴
	rr  []uint64 // R² mod m, to convert into Montgomery form
	one []uint64 // R mod m, the Montgomery form of 1
}

// newMont returns the context for an odd modulus m > 1 of at most
// maxMontWords words, or nil if m does not qualify.
func newMont(m *big.Int) *montCtx {
	if m.Sign() <= 0 || m.Bit(0) == 0 || m.BitLen() < 2 || m.BitLen() > 64*maxMontWords {
		return nil
	}
	n := (m.BitLen() + 63) / 64
	c := &montCtx{mod: new(big.Int).Set(m), m: toWords(m, n)}
	// Newton iteration for m⁻¹ mod 2⁶⁴: each step doubles the correct bits.
	inv := uint64(1)
	for range 6 {
		inv *= 2 - c.m[0]*inv
	}
	c.k0 = -inv
	r := new(big.Int).Lsh(bigOne, uint(64*n))
	c.one = toWords(new(big.Int).Mod(r, m), n)
	r.Mul(r, r)
	c.rr = toWords(r.Mod(r, m), n)
	return c
}

// words is the width of every operand of c.
func (c *montCtx) words() int { return len(c.m) }

// toWords writes x (0 <= x < 2^(64n)) as n little-endian 64-bit words,
// independent of big.Word's size.
func toWords(x *big.Int, n int) []uint64 {
	var buf [8 * maxMontWords]byte
	b := x.FillBytes(buf[:8*n])
	z := make([]uint64, n)
	for i := range z {
		j := len(b) - 8*(i+1)
		z[i] = uint64(b[j])<<56 | uint64(b[j+1])<<48 | uint64(b[j+2])<<40 | uint64(b[j+3])<<32 |
			uint64(b[j+4])<<24 | uint64(b[j+5])<<16 | uint64(b[j+6])<<8 | uint64(b[j+7])
	}
	clear(buf[:])
	return z
}

// fromWords is the inverse of toWords.
func fromWords(z []uint64) *big.Int {
	var buf [8 * maxMontWords]byte
	b := buf[:8*len(z)]
	for i, w := range z {
		j := len(b) - 8*(i+1)
		for k := range 8 {
			b[j+k] = byte(w >> (56 - 8*k))
		}
	}
	x := new(big.Int).SetBytes(b)
	clear(b)
	return x
}

// toMont returns x·R mod m in a new slice; x is reduced mod m first.
func (c *montCtx) toMont(x *big.Int) []uint64 {
	if x.Sign() < 0 || x.Cmp(c.mod) >= 0 {
		x = new(big.Int).Mod(x, c.mod)
	}
	z := toWords(x, c.words())
	c.mul(z, z, c.rr)
	return z
}

// fromMont returns the ordinary value of the Montgomery form x.
func (c *montCtx) fromMont(x []uint64) *big.Int {
	var oneBuf [maxMontWords]uint64
	one := oneBuf[:c.words()]
	one[0] = 1
	var zBuf [maxMontWords]uint64
	z := zBuf[:c.words()]
	c.mul(z, x, one)
	r := fromWords(z)
	clear(z)
	return r
}

// mul sets z = x·y·R⁻¹ mod m (operands < m, all of c.words() words); z may
// alias x or y. Separated operand scanning, as math/big's montgomery does:
// per word of y one row adds x·y[i] and one row adds u·m, each a single
// carry chain (a fused loop with two chains ran 12% slower: the compiler
// spilled its carries).
func (c *montCtx) mul(z, x, y []uint64) {
	m := c.m
	n := len(m)
	x, y, z = x[:n], y[:n], z[:n]
	if montADX && n%4 == 0 {
		montMulADX(&z[0], &x[0], &y[0], &m[0], n, c.k0)
		return
	}
	var tBuf [2 * maxMontWords]uint64
	t := tBuf[:2*n]
	var top uint64 // the carry above t[2n-1]
	for i := range n {
		c1 := addMulRow(t[i:i+n], x, y[i])
		u := t[i] * c.k0
		c2 := addMulRow(t[i:i+n], m, u)
		s, k1 := bits.Add64(top, c1, 0)
		s, k2 := bits.Add64(s, c2, 0)
		t[n+i] = s
		top = k1 + k2
	}
	// The result t[n:2n] (+ top·R) is < 2m: subtract m unless that
	// borrows, choosing by mask.
	r := t[n:]
	var dBuf [maxMontWords]uint64
	d := dBuf[:n]
	var b uint64
	for j := range n {
		d[j], b = bits.Sub64(r[j], m[j], b)
	}
	_, b = bits.Sub64(top, 0, b)
	keep := -b // all ones: t < m, keep t
	for j := range n {
		z[j] = r[j]&keep | d[j]&^keep
	}
	clear(t)
	clear(d)
}

// sqr sets z = x²·R⁻¹ mod m, as mul(z, x, x) does; z may alias x.
func (c *montCtx) sqr(z, x []uint64) {
	n := len(c.m)
	if montADX && n%4 == 0 {
		montSqrADX(&z[:n][0], &x[:n][0], &c.m[0], n, c.k0)
		return
	}
	c.mul(z, x, x)
}

// addMulRow sets t += x·y over len(x) words and returns the carry out.
// Unrolled four times; one carry chain.
func addMulRow(t, x []uint64, y uint64) (c uint64) {
	n := len(x)
	t = t[:n]
	j := 0
	for ; j+4 <= n; j += 4 {
		xs, ts := x[j:j+4:j+4], t[j:j+4:j+4]
		ts[0], c = mulAddWW(xs[0], y, ts[0], c)
		ts[1], c = mulAddWW(xs[1], y, ts[1], c)
		ts[2], c = mulAddWW(xs[2], y, ts[2], c)
		ts[3], c = mulAddWW(xs[3], y, ts[3], c)
	}
	for ; j < n; j++ {
		t[j], c = mulAddWW(x[j], y, t[j], c)
	}
	return c
}

// mulAddWW returns the low and high words of x·y + t + c (which cannot
// overflow two words).
func mulAddWW(x, y, t, c uint64) (lo, hi uint64) {
	hi, lo = bits.Mul64(x, y)
	var cc uint64
	lo, cc = bits.Add64(lo, c, 0)
	hi += cc
	lo, cc = bits.Add64(lo, t, 0)
	hi += cc
	return lo, hi
}
