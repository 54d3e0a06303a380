package otr

import (
	"crypto/dsa" //nolint:staticcheck // OTR v2/v3 mandate DSA-1024.
	"crypto/rand"
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
	b.Run("mont-mul", func(b *testing.B) {
		ctx := groupMont()
		z := ctx.toMont(x)
		for b.Loop() {
			ctx.mul(z, z, z)
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
