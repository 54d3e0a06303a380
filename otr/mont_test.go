package otr

import (
	"bytes"
	"crypto/dsa" //nolint:staticcheck // OTR v2/v3 mandate DSA-1024.
	"crypto/rand"
	"fmt"
	"math/big"
	"testing"
)

// edgeExps are exponents where window and comb code tends to go wrong:
// zero, one, all-ones of each table's length, and single high bits.
func edgeExps(bits int) []*big.Int {
	allOnes := new(big.Int).Sub(new(big.Int).Lsh(bigOne, uint(bits)), bigOne)
	return []*big.Int{
		big.NewInt(0), big.NewInt(1), big.NewInt(2), big.NewInt(0xffff),
		allOnes, new(big.Int).Lsh(bigOne, uint(bits-1)), new(big.Int).Rsh(allOnes, 1),
		new(big.Int).Sub(groupQ, bigOne), groupQ,
	}
}

func randBelow(t testing.TB, bits int) *big.Int {
	x, err := rand.Int(rand.Reader, new(big.Int).Lsh(bigOne, uint(bits)))
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestFixedBaseMatchesExp: both comb tables give g^e exactly as
// big.Int.Exp does, for edge and random exponents of every length they
// cover (and one longer, which falls back).
func TestFixedBaseMatchesExp(t *testing.T) {
	cases := []struct {
		name string
		f    func(*int, *big.Int) *big.Int
		bits int
	}{{"dh", expGDH, 8 * dhSecretBytes}, {"smp", expGSMP, smpExpBits}}
	for _, c := range cases {
		es := edgeExps(c.bits)
		for range 20 {
			es = append(es, randBelow(t, c.bits), randBelow(t, 1+int(randBelow(t, 11).Int64())*c.bits/10))
		}
		es = append(es, new(big.Int).Lsh(bigOne, uint(c.bits+70))) // longer than the table
		for _, e := range es {
			if e.BitLen() > c.bits+100 {
				continue
			}
			n := 0
			got := c.f(&n, e)
			if want := new(big.Int).Exp(groupG, e, groupP); got.Cmp(want) != 0 {
				t.Fatalf("%s: g^%x wrong", c.name, e)
			}
			if n != 1 {
				t.Fatalf("%s: counted %d exponentiations for one", c.name, n)
			}
		}
	}
}

func BenchmarkFixedBase(b *testing.B) {
	e := randBelow(b, smpExpBits)
	d := randBelow(b, 8*dhSecretBytes)
	n := 0
	expGSMP(&n, e)
	expGDH(&n, d)
	b.Run("smp-comb", func(b *testing.B) {
		for b.Loop() {
			expGSMP(&n, e)
		}
	})
	b.Run("smp-bigExp", func(b *testing.B) {
		for b.Loop() {
			new(big.Int).Exp(groupG, e, groupP)
		}
	})
	b.Run("dh-comb", func(b *testing.B) {
		for b.Loop() {
			expGDH(&n, d)
		}
	})
	b.Run("dh-bigExp", func(b *testing.B) {
		for b.Loop() {
			new(big.Int).Exp(groupG, d, groupP)
		}
	})
	x := new(big.Int).Add(randBelow(b, 1535), bigTwo)
	for _, adx := range []bool{montADX, false} {
		b.Run(fmt.Sprintf("mont-mul-adx=%v", adx), func(b *testing.B) {
			was := montADX
			defer func() { montADX = was }()
			montADX = adx
			ctx := groupMont()
			z := ctx.toMont(x)
			for b.Loop() {
				ctx.mul(z, z, z)
			}
		})
	}
	b.Run("mont-sqr", func(b *testing.B) {
		ctx := groupMont()
		z := ctx.toMont(x)
		for b.Loop() {
			ctx.sqr(z, z)
		}
	})
}

// TestDSASignVerifies: our signatures verify with crypto/dsa, a changed
// digest does not, and the key's table gives g^k exactly as big.Int.Exp.
func TestDSASignVerifies(t *testing.T) {
	key := testKey(t, 2)
	for i := range 30 {
		h := randBelow(t, 256).FillBytes(make([]byte, 32))
		r, s, err := key.signDSA(h)
		if err != nil {
			t.Fatal(err)
		}
		if !dsa.Verify(&key.PublicKey, h, r, s) {
			t.Fatalf("signature %d does not verify", i)
		}
		h[i%32] ^= 1
		if dsa.Verify(&key.PublicKey, h, r, s) {
			t.Fatalf("signature %d verifies for another digest", i)
		}
	}
	tab := key.gComb()
	for _, e := range append(edgeExps(160), randBelow(t, 160), new(big.Int).Sub(key.Q, bigOne)) {
		if e.BitLen() > tab.bits {
			continue
		}
		if got, want := tab.exp(e), new(big.Int).Exp(key.G, e, key.P); got.Cmp(want) != 0 {
			t.Fatalf("g^%x mod the DSA p wrong", e)
		}
	}
}

// TestMontMulMatchesBig: the Montgomery product (and square) equals x·y·R⁻¹ mod m
// computed with big.Int, on the assembly path and on the Go loop, for
// moduli of 1 to 64 words (the assembly takes multiples of four) and
// operands at the edges: 0, 1, m−1, m−2 and random ones; also with z
// aliasing x and y. The moduli include all-ones words, where a lost
// carry shows.
func TestMontMulMatchesBig(t *testing.T) {
	adx := montADX
	t.Cleanup(func() { montADX = adx })
	var mods []*big.Int
	for _, n := range []int{1, 2, 3, 4, 5, 8, 12, 16, 17, 24, 32, 48, 64} {
		bits := 64 * n
		allOnes := new(big.Int).Sub(new(big.Int).Lsh(bigOne, uint(bits)), bigOne)
		mods = append(mods, allOnes, new(big.Int).SetBit(randBelow(t, bits), 0, 1).SetBit(allOnes, 0, 1))
		m := randBelow(t, bits)
		m.SetBit(m, bits-1, 1).SetBit(m, 0, 1)
		mods = append(mods, m)
		if n > 1 {
			short := randBelow(t, bits-40) // a modulus well below 2^(64n)
			mods = append(mods, short.SetBit(short, bits-41, 1).SetBit(short, 0, 1))
		}
	}
	mods = append(mods, groupP)
	for _, m := range mods {
		ctx := newMont(m)
		if ctx == nil {
			t.Fatalf("no context for a %d-bit modulus", m.BitLen())
		}
		n := ctx.words()
		rInv := new(big.Int).ModInverse(new(big.Int).Lsh(bigOne, uint(64*n)), m)
		vals := []*big.Int{big.NewInt(0), big.NewInt(1), new(big.Int).Sub(m, bigOne), new(big.Int).Sub(m, bigTwo)}
		for range 6 {
			vals = append(vals, new(big.Int).Mod(randBelow(t, m.BitLen()), m))
		}
		for _, path := range []bool{false, true} {
			if path && !adx {
				continue
			}
			montADX = path
			for _, x := range vals {
				for _, y := range vals {
					want := new(big.Int).Mul(x, y)
					want.Mul(want, rInv).Mod(want, m)
					xw, yw := toWords(x, n), toWords(y, n)
					z := make([]uint64, n)
					ctx.mul(z, xw, yw)
					if got := fromWords(z); got.Cmp(want) != 0 {
						t.Fatalf("adx=%v, %d-bit m=%x: x·y·R⁻¹ = %x, want %x (x=%x y=%x)", path, m.BitLen(), m, got, want, x, y)
					}
					if x == y {
						sq := make([]uint64, n)
						ctx.sqr(sq, xw)
						if got := fromWords(sq); got.Cmp(want) != 0 {
							t.Fatalf("adx=%v, %d-bit m=%x: x²·R⁻¹ = %x, want %x (x=%x)", path, m.BitLen(), m, got, want, x)
						}
						ctx.sqr(sq, sq) // z aliases x
						want2 := new(big.Int).Mul(want, want)
						if want2.Mul(want2, rInv).Mod(want2, m); fromWords(sq).Cmp(want2) != 0 {
							t.Fatalf("adx=%v, %d-bit: square wrong with z aliasing x", path, m.BitLen())
						}
					}
					ctx.mul(xw, xw, yw) // z aliases x
					ctx.mul(yw, toWords(x, n), yw)
					if fromWords(xw).Cmp(want) != 0 || fromWords(yw).Cmp(want) != 0 {
						t.Fatalf("adx=%v, %d-bit: wrong with z aliasing an operand", path, m.BitLen())
					}
				}
			}
		}
	}
	if !adx {
		t.Log("this CPU has no BMI2+ADX: only the Go loop was checked")
	}
}

// TestMontExpMatchesBig: exp and exp2 give what big.Int.Exp gives, in the
// D-H group and modulo a DSA key's p, for edge and random exponents of
// the lengths the engine uses (160-bit DSA, 320-bit D-H, 1536-bit SMP)
// and bases at the edges (0, 1, p−1, a base ≥ p).
func TestMontExpMatchesBig(t *testing.T) {
	if !montADX {
		t.Log("no BMI2+ADX: exp and exp2 still run, on the Go loop")
	}
	key := testKey(t, 2)
	for _, m := range []*big.Int{groupP, key.P} {
		ctx := newMont(m)
		bases := []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(2), new(big.Int).Sub(m, bigOne),
			new(big.Int).Add(m, big.NewInt(5)), randBelow(t, m.BitLen()-1)}
		var es []*big.Int
		for _, bits := range []int{160, 320, 1536} {
			es = append(es, edgeExps(bits)...)
			es = append(es, randBelow(t, bits), randBelow(t, bits/2+1))
		}
		for _, b := range bases {
			for _, e := range es {
				want := new(big.Int).Exp(b, e, m)
				if got := ctx.exp(b, e); got.Cmp(want) != 0 {
					t.Fatalf("%d-bit m: %x^%x = %x, want %x", m.BitLen(), b, e, got, want)
				}
			}
		}
		for i, b1 := range bases {
			b2 := bases[(i+3)%len(bases)]
			for j, e1 := range es {
				e2 := es[(j*7+1)%len(es)]
				want := new(big.Int).Exp(b1, e1, m)
				want.Mul(want, new(big.Int).Exp(b2, e2, m)).Mod(want, m)
				if got := ctx.exp2(b1, e1, b2, e2); got.Cmp(want) != 0 {
					t.Fatalf("%d-bit m: %x^%x·%x^%x wrong", m.BitLen(), b1, e1, b2, e2)
				}
			}
		}
	}
}

// TestVerifyDSAMatchesCrypto: verifyDSA accepts and refuses exactly what
// crypto/dsa.Verify does: good signatures, a changed digest, r or s out
// of range (0, q, negative), s without an inverse, another key.
func TestVerifyDSAMatchesCrypto(t *testing.T) {
	key, other := testKey(t, 1), testKey(t, 2)
	q := key.Q
	for i := range 40 {
		h := randBelow(t, 256).FillBytes(make([]byte, 32))
		r, s, err := key.signDSA(h)
		if err != nil {
			t.Fatal(err)
		}
		bad := append([]byte(nil), h...)
		bad[i%32] ^= 1
		cases := []struct {
			pub  *dsa.PublicKey
			h    []byte
			r, s *big.Int
			want bool
		}{
			{&key.PublicKey, h, r, s, true},
			{&key.PublicKey, bad, r, s, false},
			{&other.PublicKey, h, r, s, false},
			{&key.PublicKey, h, new(big.Int), s, false},
			{&key.PublicKey, h, r, new(big.Int), false},
			{&key.PublicKey, h, q, s, false},
			{&key.PublicKey, h, r, new(big.Int).Add(s, q), false},
			{&key.PublicKey, h, new(big.Int).Neg(r), s, false},
			{&key.PublicKey, h, new(big.Int).Add(r, bigOne), s, false},
		}
		for k, c := range cases {
			if got, std := verifyDSA(c.pub, c.h, c.r, c.s), dsa.Verify(c.pub, c.h, c.r, c.s); got != c.want || std != c.want {
				t.Fatalf("signature %d case %d: verifyDSA %v, crypto/dsa %v, want %v", i, k, got, std, c.want)
			}
		}
	}
}

// FuzzMontMul: for a modulus and operands taken from the input (padded
// to 4, 16 or 24 words, so the assembly runs where the CPU has it), the
// product and the square agree with big.Int. Inputs full of 0xff words
// and long carry runs are where a dropped carry would show.
func FuzzMontMul(f *testing.F) {
	f.Add(uint8(0), []byte{0xff, 0xff, 0xff}, []byte{0xff}, []byte{1})
	f.Add(uint8(1), bytes.Repeat([]byte{0xff}, 128), bytes.Repeat([]byte{0xff}, 127), bytes.Repeat([]byte{0xfe}, 100))
	f.Add(uint8(2), groupP.Bytes(), bytes.Repeat([]byte{0x80, 0}, 90), []byte{2})
	f.Fuzz(func(t *testing.T, size uint8, mb, xb, yb []byte) {
		n := []int{4, 16, 24}[int(size)%3]
		m := new(big.Int).SetBytes(mb)
		m.SetBit(m, 0, 1)
		if m.BitLen() > 64*n || m.BitLen() < 2 {
			return
		}
		ctx := newMont(m)
		if ctx == nil {
			t.Fatal("no context for an odd modulus")
		}
		// Pad the context to n words (newMont takes the fewest words).
		if ctx.words() != n {
			ctx = &montCtx{mod: ctx.mod, m: toWords(m, n), k0: ctx.k0}
			r := new(big.Int).Lsh(bigOne, uint(64*n))
			ctx.one = toWords(new(big.Int).Mod(r, m), n)
			r.Mul(r, r)
			ctx.rr = toWords(r.Mod(r, m), n)
		}
		x := new(big.Int).Mod(new(big.Int).SetBytes(xb), m)
		y := new(big.Int).Mod(new(big.Int).SetBytes(yb), m)
		rInv := new(big.Int).ModInverse(new(big.Int).Lsh(bigOne, uint(64*n)), m)
		z := make([]uint64, n)
		ctx.mul(z, toWords(x, n), toWords(y, n))
		want := new(big.Int).Mul(x, y)
		if want.Mul(want, rInv).Mod(want, m); fromWords(z).Cmp(want) != 0 {
			t.Fatalf("n=%d m=%x: x·y·R⁻¹ = %x, want %x", n, m, fromWords(z), want)
		}
		ctx.sqr(z, toWords(x, n))
		want.Mul(x, x).Mul(want, rInv).Mod(want, m)
		if fromWords(z).Cmp(want) != 0 {
			t.Fatalf("n=%d m=%x: x²·R⁻¹ = %x, want %x", n, m, fromWords(z), want)
		}
	})
}

// BenchmarkMontExp: a variable-base power (1536-bit and 320-bit
// exponents) and a DSA verification, ours against math/big and
// crypto/dsa.
func BenchmarkMontExp(b *testing.B) {
	base := new(big.Int).Add(randBelow(b, 1535), bigTwo)
	ctx := groupMont()
	for _, bits := range []int{320, 1536} {
		e := randBelow(b, bits)
		b.Run(fmt.Sprintf("exp%d-ours", bits), func(b *testing.B) {
			for b.Loop() {
				ctx.exp(base, e)
			}
		})
		b.Run(fmt.Sprintf("exp%d-bigExp", bits), func(b *testing.B) {
			for b.Loop() {
				new(big.Int).Exp(base, e, groupP)
			}
		})
	}
	key := testKey(b, 1)
	h := randBelow(b, 256).FillBytes(make([]byte, 32))
	r, s, err := key.signDSA(h)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("dsa-verify-ours", func(b *testing.B) {
		for b.Loop() {
			if !verifyDSA(&key.PublicKey, h, r, s) {
				b.Fatal("no")
			}
		}
	})
	b.Run("dsa-verify-crypto", func(b *testing.B) {
		for b.Loop() {
			if !dsa.Verify(&key.PublicKey, h, r, s) {
				b.Fatal("no")
			}
		}
	})
}
