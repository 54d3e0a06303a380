package otr

// The Diffie-Hellman group used by the AKE, data-message key exchange and
// SMP: the 1536-bit MODP group of RFC 3526 with generator 2 (spec §"Authenticated
// Key Exchange"; SMP §"Socialist Millionaires' Protocol" works in the same
// group with q = (p-1)/2).

import "math/big"

var (
	groupP = mustHex("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1" +
		"29024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
		"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245" +
		"E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
		"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D" +
		"C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
		"83655D23DCA3AD961C62F356208552BB9ED529077096966D" +
		"670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF")
	groupG     = big.NewInt(2)
	groupQ     = new(big.Int).Rsh(groupP, 1) // (p-1)/2, prime
	groupPMin2 = new(big.Int).Sub(groupP, big.NewInt(2))
	bigOne     = big.NewInt(1)
	bigTwo     = big.NewInt(2)
)

func mustHex(s string) *big.Int {
	x, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("otr: bad constant")
	}
	return x
}

// validGroupElement reports whether 2 <= x <= p-2, the range check the spec
// requires for every received D-H public value and SMP group element.
func validGroupElement(x *big.Int) bool {
	return x != nil && x.Cmp(bigTwo) >= 0 && x.Cmp(groupPMin2) <= 0
}

// validExponent reports whether 1 <= x < q, the range SMP requires for
// received exponents (the D values of the zero-knowledge proofs).
func validExponent(x *big.Int) bool {
	return x != nil && x.Sign() > 0 && x.Cmp(groupQ) < 0
}

// opCounts counts one Conversation's public-key operations so tests and
// benchmarks can compare them with the minimum the spec needs (see
// exps_test.go). The counts live in the Conversation, not in a package
// variable, so concurrent conversations neither race nor mix their counts.
type opCounts struct {
	dh     int // exponentiations in the D-H group for the AKE and data keys
	sign   int // DSA signatures made (one exponentiation mod the DSA p each)
	verify int // DSA signatures checked (two exponentiations each)
}

// modExp returns base^e mod p and counts it in *n. Every exponentiation
// the engine does in the 1536-bit group goes through here: the AKE and the
// data keys count into opCounts.dh, SMP into smpState.exps.
func modExp(n *int, base, e *big.Int) *big.Int {
	*n++
	if montADX && e.Sign() >= 0 {
		return groupMont().exp(base, e)
	}
	return new(big.Int).Exp(base, e, groupP)
}
