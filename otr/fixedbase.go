package otr

// Fixed-base exponentiation of the generator g = 2 of the 1536-bit group
// with precomputed tables: the Lim–Lee comb ("More flexible exponentiation
// with precomputation", CRYPTO '94). Every D-H key pair (AKE and data
// keys, 320-bit exponents) and a third of the SMP's powers (g1^r, g1^a2,
// g1^D, …, 1536-bit exponents) are powers of g, so this is where most of
// the engine's exponentiation time went.
//
// An l-bit exponent is cut into h rows of a bits and each row into v
// columns of b bits (a = v·b). For each column j the table holds the 2^h
// products of g^(2^(i·a + j·b)) over subsets of the rows, so one pass of b
// squarings with v table multiplications each computes g^e: b squarings
// and v·b multiplications instead of l squarings and l/4 multiplications.
//
// The tables are built once per process, on first use (for the 1536-bit
// one about 2,600 Montgomery multiplications, as much as one ordinary
// exponentiation; the 320-bit one a third of that) and are read-only
// afterwards.
//
// Timing trade-off, chosen by measurement: the tables are indexed
// directly by secret exponent bits, so which cache lines a lookup touches
// depends on the exponent. That is the same kind of leak big.Int.Exp has
// (it indexes its 16-entry window table by secret exponent nibbles and
// ends each multiplication with a data-dependent subtraction), which the
// engine used for these powers before and still uses for every
// variable-base power. A constant-time lookup (a masked scan of the whole
// column) was built and measured: it made g^e 1.9× (1536-bit) and 2× (320-
// bit) slower than direct indexing, losing most of the gain over
// big.Int.Exp. The Montgomery multiplication itself is branch-free. See
// SECURITY.md "Timing side channels".

import (
	"math/big"
	"sync"
)

// comb is a fixed-base table for one base, modulus and exponent length.
type comb struct {
	ctx     *montCtx
	h, v, b int      // rows, columns per row, bits per column
	bits    int      // the largest exponent length the table covers, h·v·b
	tab     []uint64 // v columns × 2^h entries × n words, Montgomery form
}

// newComb precomputes the table of base^e for exponents of up to l bits.
func newComb(ctx *montCtx, base *big.Int, l, h, v int) *comb {
	a := (l + h - 1) / h
	b := (a + v - 1) / v
	n := ctx.words()
	cb := &comb{ctx: ctx, h: h, v: v, b: b, bits: h * v * b}
	// gen[k] = base^(2^(k·b)) for k < h·v; row i, column j is k = i·v + j.
	gen := make([][]uint64, h*v)
	cur := ctx.toMont(base)
	for k := range gen {
		gen[k] = append([]uint64(nil), cur...)
		if k+1 < len(gen) {
			for range b {
				ctx.sqr(cur, cur)
			}
		}
	}
	size := 1 << h
	cb.tab = make([]uint64, v*size*n)
	for j := range v {
		col := cb.tab[j*size*n : (j+1)*size*n]
		copy(col[:n], ctx.one)
		for s := 1; s < size; s++ {
			low := 0
			for s>>low&1 == 0 {
				low++
			}
			prev := col[(s&(s-1))*n : (s&(s-1))*n+n]
			ctx.mul(col[s*n:s*n+n], prev, gen[low*v+j])
		}
	}
	return cb
}

// exp returns base^e mod m for 0 <= e < 2^cb.bits. The sequence of
// multiplications depends only on the table's shape, never on e; which
// table entries are read does (see the file comment).
func (cb *comb) exp(e *big.Int) *big.Int {
	ctx, n := cb.ctx, cb.ctx.words()
	ew := toWords(e, (cb.bits+63)/64)
	defer clear(ew)
	bit := func(pos int) int { return int(ew[pos>>6] >> (pos & 63) & 1) }
	var accBuf [maxMontWords]uint64
	acc := accBuf[:n]
	copy(acc, ctx.one)
	size := 1 << cb.h
	a := cb.v * cb.b
	for k := cb.b - 1; k >= 0; k-- {
		ctx.sqr(acc, acc)
		for j := cb.v - 1; j >= 0; j-- {
			s := 0
			for i := range cb.h {
				s |= bit(i*a+j*cb.b+k) << i
			}
			off := (j*size + s) * n
			ctx.mul(acc, acc, cb.tab[off:off+n])
		}
	}
	r := ctx.fromMont(acc)
	clear(acc)
	return r
}

// The two tables for g: 320-bit D-H exponents (spec §"Authenticated Key
// Exchange": x "at least 320 bits") and 1536-bit SMP exponents. Cost is b
// squarings and v·b multiplications; the shapes were chosen by measurement
// (thread CPU time, min of 10 rounds, against big.Int.Exp 2.57 ms and
// 0.55 ms): 1536-bit 8×4 0.74 ms (8×2 0.85, 6×3 1.01), 320-bit 8×2
// 0.17 ms (8×1 0.24, 6×2 0.25). Tables: 192 KiB and 96 KiB.
const (
	dhCombRows, dhCombCols   = 8, 2
	smpCombRows, smpCombCols = 8, 4
	smpExpBits               = 8 * smpExpBytes
)

var (
	groupMont = sync.OnceValue(func() *montCtx { return newMont(groupP) })
	dhComb    = sync.OnceValue(func() *comb {
		return newComb(groupMont(), groupG, 8*dhSecretBytes, dhCombRows, dhCombCols)
	})
	smpComb = sync.OnceValue(func() *comb {
		return newComb(groupMont(), groupG, smpExpBits, smpCombRows, smpCombCols)
	})
)

// expGDH returns g^e mod p for a D-H private exponent and counts it in
// *n, like modExp. An exponent longer than the table covers (the engine
// makes none; only a caller could pass one) falls back to big.Int.Exp.
func expGDH(n *int, e *big.Int) *big.Int { return dhComb().count(n, e) }

// expGSMP is expGDH for the SMP's 1536-bit exponents.
func expGSMP(n *int, e *big.Int) *big.Int { return smpComb().count(n, e) }

func (cb *comb) count(n *int, e *big.Int) *big.Int {
	if e.Sign() < 0 || e.BitLen() > cb.bits {
		return modExp(n, groupG, e)
	}
	*n++
	return cb.exp(e)
}
