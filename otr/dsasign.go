package otr

// DSA signing with a fixed-base table for the key's generator. Every AKE
// signs once with the account's long-term key, whose g never changes, so
// g^k comes from a comb table made on the key's first signature (about
// 0.8 ms, once per key and process; 64 KiB) instead of a full
// exponentiation mod the 1024-bit p each time.

import (
	"crypto/dsa" //nolint:staticcheck // OTR v2/v3 mandate DSA-1024; there is no alternative.
	"crypto/rand"
	"errors"
	"io"
	"math/big"
)

// Shape of the per-key table for 160-bit nonces: 10 squarings and 20
// multiplications mod p per signature.
const dsaCombRows, dsaCombCols = 8, 2

// signDSA is crypto/dsa.Sign (FIPS 186-3 §4.6, the digest not truncated,
// exactly as there) with g^k from the key's table. Like crypto/dsa since
// Go 1.24, the nonce k always comes from crypto/rand, never from a
// caller's reader: a deterministic test reader must not be able to make
// two signatures share a nonce, which would reveal the key.
func (k *PrivateKey) signDSA(digest []byte) (r, s *big.Int, err error) {
	q := k.Q
	tab := k.gComb()
	if tab == nil || q.BitLen()%8 != 0 || k.X.Sign() <= 0 {
		return dsa.Sign(rand.Reader, &k.PrivateKey, digest)
	}
	buf := make([]byte, q.BitLen()/8)
	defer clear(buf)
	for range 10 {
		nonce := new(big.Int)
		for nonce.Sign() <= 0 || nonce.Cmp(q) >= 0 {
			if _, err := io.ReadFull(rand.Reader, buf); err != nil {
				return nil, nil, err
			}
			nonce.SetBytes(buf)
		}
		// k⁻¹ by Fermat (k^(q-2)), as crypto/dsa does.
		kInv := new(big.Int).Exp(nonce, new(big.Int).Sub(q, bigTwo), q)
		r = tab.exp(nonce)
		wipeInt(nonce)
		r.Mod(r, q)
		if r.Sign() == 0 {
			continue
		}
		s = new(big.Int).Mul(k.X, r)
		s.Add(s, new(big.Int).SetBytes(digest))
		s.Mod(s, q)
		s.Mul(s, kInv)
		s.Mod(s, q)
		wipeInt(kInv)
		if s.Sign() != 0 {
			return r, s, nil
		}
	}
	return nil, nil, errors.New("otr: DSA key cannot sign")
}

// gComb returns the key's fixed-base table, making it on first use; nil if
// the key's p cannot use Montgomery arithmetic (even p: not a valid key).
// Two goroutines may both build it; one table wins.
func (k *PrivateKey) gComb() *comb {
	if t := k.gTable.Load(); t != nil {
		return t
	}
	ctx := newMont(k.P)
	if ctx == nil || k.G.Sign() <= 0 || k.G.Cmp(k.P) >= 0 {
		return nil
	}
	t := newComb(ctx, k.G, k.Q.BitLen(), dsaCombRows, dsaCombCols)
	k.gTable.CompareAndSwap(nil, t)
	return k.gTable.Load()
}
