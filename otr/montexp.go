package otr

// Variable-base powers on the Montgomery product of mont.go, used where
// that product runs in assembly (montADX, else big.Int.Exp and
// crypto/dsa do the work): the D-H secret g^xy, the SMP's powers of
// other bases, and DSA verification, where g^u1·y^u2 shares its
// squarings (Straus's simultaneous exponentiation in 2-bit windows: one
// squaring per bit for both powers). With the Go loop that did not pay
// (see mont.go); with the assembly product it does.
//
// Timing: like big.Int.Exp, both walk the exponent in fixed windows and
// multiply once per window whatever its digits, so the sequence of
// products depends only on the exponent's length in 64-bit words; the
// table entry a window reads depends on its digits (see fixedbase.go and
// SECURITY.md "Timing side channels").

import (
	"crypto/dsa" //nolint:staticcheck // OTR v2/v3 mandate DSA-1024.
	"math/big"
)

// exp returns base^e mod c.mod for e >= 0.
func (c *montCtx) exp(base, e *big.Int) *big.Int {
	n := c.words()
	ew := toWords(e, (e.BitLen()+63)/64)
	defer clear(ew)
	w := 4
	if len(ew) > 8 {
		w = 5
	}
	size := 1 << w
	tab := make([]uint64, size*n)
	defer clear(tab)
	copy(tab, c.one)
	b := c.toMont(base)
	copy(tab[n:2*n], b)
	clear(b)
	for i := 2; i < size; i++ {
		c.mul(tab[i*n:(i+1)*n], tab[(i-1)*n:i*n], tab[n:2*n])
	}
	var accBuf [maxMontWords]uint64
	acc := accBuf[:n]
	copy(acc, c.one)
	for pos := (64*len(ew)+w-1)/w*w - w; pos >= 0; pos -= w {
		for range w {
			c.sqr(acc, acc)
		}
		d := windowAt(ew, pos, w)
		c.mul(acc, acc, tab[d*n:(d+1)*n])
	}
	r := c.fromMont(acc)
	clear(acc)
	return r
}

// exp2 returns b1^e1 · b2^e2 mod c.mod for e1, e2 >= 0, walking both
// exponents at once in 2-bit windows with a table of the 16 products
// b1^i·b2^j (i, j < 4): one squaring per bit and one product per two
// bits for both, where two separate powers need a squaring per bit each.
func (c *montCtx) exp2(b1, e1, b2, e2 *big.Int) *big.Int {
	const w = 2
	n := c.words()
	words := (max(e1.BitLen(), e2.BitLen()) + 63) / 64
	ew1, ew2 := toWords(e1, words), toWords(e2, words)
	defer clear(ew1)
	defer clear(ew2)
	tab := make([]uint64, 16*n)
	defer clear(tab)
	at := func(i, j int) []uint64 { k := (i<<w | j) * n; return tab[k : k+n] }
	copy(at(0, 0), c.one)
	m1, m2 := c.toMont(b1), c.toMont(b2)
	copy(at(1, 0), m1)
	copy(at(0, 1), m2)
	clear(m1)
	clear(m2)
	for i := 2; i < 4; i++ {
		c.mul(at(i, 0), at(i-1, 0), at(1, 0))
		c.mul(at(0, i), at(0, i-1), at(0, 1))
	}
	for i := 1; i < 4; i++ {
		for j := 1; j < 4; j++ {
			c.mul(at(i, j), at(i, 0), at(0, j))
		}
	}
	var accBuf [maxMontWords]uint64
	acc := accBuf[:n]
	copy(acc, c.one)
	for pos := 64*words - w; pos >= 0; pos -= w {
		c.sqr(acc, acc)
		c.sqr(acc, acc)
		c.mul(acc, acc, at(windowAt(ew1, pos, w), windowAt(ew2, pos, w)))
	}
	r := c.fromMont(acc)
	clear(acc)
	return r
}

// windowAt returns the w bits of the little-endian words e starting at
// bit pos (bits past the end read as zero).
func windowAt(e []uint64, pos, w int) int {
	i, s := pos/64, uint(pos%64)
	v := e[i] >> s
	if s+uint(w) > 64 && i+1 < len(e) {
		v |= e[i+1] << (64 - s)
	}
	return int(v & (1<<w - 1))
}

// verifyDSA is crypto/dsa.Verify (FIPS 186-3 §4.7, the same checks in
// the same order) with g^u1·y^u2 as one simultaneous exponentiation when
// the assembly product is there; otherwise it is dsa.Verify itself.
func verifyDSA(pub *dsa.PublicKey, hash []byte, r, s *big.Int) bool {
	ctx := newMont(pub.P)
	if !montADX || ctx == nil || ctx.words()%4 != 0 {
		return dsa.Verify(pub, hash, r, s)
	}
	q := pub.Q
	if r.Sign() < 1 || r.Cmp(q) >= 0 || s.Sign() < 1 || s.Cmp(q) >= 0 {
		return false
	}
	w := new(big.Int).ModInverse(s, q)
	if w == nil || q.BitLen()%8 != 0 {
		return false
	}
	u1 := new(big.Int).SetBytes(hash)
	u1.Mul(u1, w).Mod(u1, q)
	u2 := w.Mul(r, w).Mod(w, q)
	v := ctx.exp2(pub.G, u1, pub.Y, u2)
	return v.Mod(v, q).Cmp(r) == 0
}
