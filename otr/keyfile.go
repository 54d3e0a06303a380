package otr

// Reading and writing libotr's key files, so a user can move keys and
// trusted fingerprints between Sotto and libotr clients (Pidgin, ...):
//
//   - otr.private_key: a libgcrypt S-expression
//     (privkeys (account (name "…") (protocol prpl-jabber)
//     (private-key (dsa (p #…#) (q #…#) (g #…#) (y #…#) (x #…#)))) …)
//   - otr.fingerprints: one line per known key,
//     remote<TAB>account<TAB>protocol<TAB>40 hex digits<TAB>trust
//
// The writers produce the same bytes libotr 4.1.1 writes.

import (
	"bytes"
	"crypto/dsa" //nolint:staticcheck // OTR v2/v3 mandate DSA-1024.
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// AccountKey is one account's long-term key in otr.private_key.
type AccountKey struct {
	Account  string // e.g. "alice@example.org" or, from Pidgin, "alice@example.org/"
	Protocol string // e.g. "prpl-jabber"
	Key      *PrivateKey
}

// ParsePrivateKeys reads libotr's otr.private_key. Input that is empty or
// only whitespace holds no keys. Any malformed account or invalid key makes
// the whole file an error (and no keys are returned), so a caller never
// rewrites the file with keys silently dropped.
func ParsePrivateKeys(data []byte) ([]AccountKey, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	top, err := parseSexp(data)
	if err != nil {
		return nil, fmt.Errorf("otr: private key file: %w", err)
	}
	if top.head() != "privkeys" {
		return nil, errors.New("otr: private key file: not a (privkeys ...) list")
	}
	var keys []AccountKey
	for i, e := range top.list[1:] {
		k, err := parseAccountKey(e)
		if err != nil {
			return nil, fmt.Errorf("otr: private key file: account %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// parseAccountKey reads (account (name N) (protocol P) (private-key (dsa ...))).
func parseAccountKey(e *sexp) (AccountKey, error) {
	if e.head() != "account" {
		return AccountKey{}, errors.New("not an (account ...) list")
	}
	name, ok := e.value("name")
	if !ok {
		return AccountKey{}, errors.New("no (name ...)")
	}
	proto, ok := e.value("protocol")
	if !ok {
		return AccountKey{}, fmt.Errorf("%q: no (protocol ...)", name)
	}
	ak := AccountKey{Account: string(name), Protocol: string(proto)}
	pk := e.find("private-key")
	if pk == nil {
		return AccountKey{}, fmt.Errorf("%q: no (private-key ...)", name)
	}
	d := pk.find("dsa")
	if d == nil {
		return AccountKey{}, fmt.Errorf("%q: private key is not DSA", name)
	}
	var v [5]*big.Int
	for i, n := range []string{"p", "q", "g", "y", "x"} {
		a, ok := d.value(n)
		if !ok {
			return AccountKey{}, fmt.Errorf("%q: DSA key has no %s", name, n)
		}
		v[i] = new(big.Int).SetBytes(a)
	}
	k := &PrivateKey{PrivateKey: dsa.PrivateKey{
		PublicKey: dsa.PublicKey{Parameters: dsa.Parameters{P: v[0], Q: v[1], G: v[2]}, Y: v[3]},
		X:         v[4],
	}}
	if err := validatePrivateKey(k); err != nil {
		return AccountKey{}, fmt.Errorf("%q: %w", name, err)
	}
	ak.Key = k
	return ak, nil
}

// validatePrivateKey checks the key is a consistent DSA key of the sizes
// OTR can use: q of 160 bits (signatures are two 20-byte halves), p of 1024
// to 3072 bits, q | p-1, g of order q, 0 < x < q and y = g^x. The
// primality test is Baillie-PSW only (ProbablyPrime(0)): the file is the
// user's own, so this guards against corruption, not a forger, and it keeps
// loading a key at ~4 ms instead of ~25 ms.
func validatePrivateKey(k *PrivateKey) error {
	p, q, g, y, x := k.P, k.Q, k.G, k.Y, k.X
	switch {
	case q.BitLen() != 160:
		return fmt.Errorf("otr: DSA q has %d bits, want 160", q.BitLen())
	case p.BitLen() < 1024 || p.BitLen() > 3072:
		return fmt.Errorf("otr: DSA p has %d bits, want 1024 to 3072", p.BitLen())
	case new(big.Int).Mod(new(big.Int).Sub(p, bigOne), q).Sign() != 0:
		return errors.New("otr: DSA q does not divide p-1")
	case g.Cmp(bigOne) <= 0 || g.Cmp(p) >= 0:
		return errors.New("otr: DSA g out of range")
	case x.Sign() <= 0 || x.Cmp(q) >= 0:
		return errors.New("otr: DSA x out of range")
	case !q.ProbablyPrime(0) || !p.ProbablyPrime(0):
		return errors.New("otr: DSA p or q is not prime")
	case new(big.Int).Exp(g, q, p).Cmp(bigOne) != 0:
		return errors.New("otr: DSA g does not have order q")
	case new(big.Int).Exp(g, x, p).Cmp(y) != 0:
		return errors.New("otr: DSA y does not match x")
	}
	return nil
}

// FormatPrivateKeys writes keys as libotr writes otr.private_key (the
// layout of gcry_sexp_sprint's advanced format, MPIs as signed big-endian
// hex with a leading 00 byte when the top bit is set). Entries with a nil
// Key are skipped.
func FormatPrivateKeys(keys []AccountKey) []byte {
	b := []byte("(privkeys\n")
	for _, k := range keys {
		if k.Key == nil {
			continue
		}
		b = append(b, " (account\n(name "...)
		b = appendSexpAtom(b, []byte(k.Account))
		b = append(b, ")\n(protocol "...)
		b = appendSexpAtom(b, []byte(k.Protocol))
		b = append(b, ")\n(private-key \n (dsa \n"...)
		for i, x := range []*big.Int{k.Key.P, k.Key.Q, k.Key.G, k.Key.Y, k.Key.X} {
			b = append(b, "  ("...)
			b = append(b, "pqgyx"[i], ' ')
			b = appendSexpAtom(b, signedMPIBytes(x))
			b = append(b, ")\n"...)
		}
		b = append(b, "  )\n )\n )\n"...)
	}
	return append(b, ")\n"...)
}

// signedMPIBytes is libgcrypt's GCRYMPI_FMT_STD for a non-negative x:
// big-endian, with a 00 byte in front when the top bit is set.
func signedMPIBytes(x *big.Int) []byte {
	b := x.Bytes()
	if len(b) > 0 && b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b
}

// FingerprintEntry is one line of otr.fingerprints.
type FingerprintEntry struct {
	Remote      string // the peer, e.g. "bob@example.org"
	Account     string // our account, e.g. "alice@example.org/" (Pidgin style)
	Protocol    string // e.g. "prpl-jabber"
	Fingerprint Fingerprint
	Trust       string // "" (not verified), "verified", "smp", ...
}

// Trusted reports whether the fingerprint is verified: like libotr, any
// non-empty trust string counts.
func (e FingerprintEntry) Trusted() bool { return e.Trust != "" }

// ParseFingerprints reads libotr's otr.fingerprints. Blank lines are
// skipped. Malformed lines are skipped too, and reported in the error,
// which names the first bad line; the good entries are returned either way.
func ParseFingerprints(data []byte) ([]FingerprintEntry, error) {
	var out []FingerprintEntry
	var bad, first int
	var firstErr error
	for i, line := range strings.Split(string(data), "\n") {
		// libotr ends every field at CR or LF.
		if j := strings.IndexByte(line, '\r'); j >= 0 {
			line = line[:j]
		}
		if line == "" {
			continue
		}
		e, err := parseFingerprintLine(line)
		if err != nil {
			if bad == 0 {
				first, firstErr = i+1, err
			}
			bad++
			continue
		}
		out = append(out, e)
	}
	if bad > 0 {
		return out, fmt.Errorf("otr: fingerprints: %d malformed line(s), first at line %d: %w", bad, first, firstErr)
	}
	return out, nil
}

// parseFingerprintLine splits remote, account, protocol, hex and trust; the
// trust field is optional and, as in libotr, runs to the end of the line.
func parseFingerprintLine(line string) (FingerprintEntry, error) {
	f := strings.SplitN(line, "\t", 5)
	if len(f) < 4 {
		return FingerprintEntry{}, errors.New("fewer than 4 tab-separated fields")
	}
	e := FingerprintEntry{Remote: f[0], Account: f[1], Protocol: f[2]}
	if len(f) == 5 {
		e.Trust = f[4]
	}
	h, err := hex.DecodeString(f[3])
	if err != nil || len(h) != len(e.Fingerprint) {
		return FingerprintEntry{}, errors.New("fingerprint is not 40 hex digits")
	}
	copy(e.Fingerprint[:], h)
	return e, nil
}

// FormatFingerprints writes entries as libotr does: lower-case hex and
// always a trust field, empty when not trusted. Entries with a tab, CR or
// LF in a text field cannot be represented and are skipped (XMPP addresses
// never contain them).
func FormatFingerprints(entries []FingerprintEntry) []byte {
	var b []byte
	for _, e := range entries {
		if strings.ContainsAny(e.Remote+e.Account+e.Protocol, "\t\r\n") ||
			strings.ContainsAny(e.Trust, "\r\n") {
			continue
		}
		b = fmt.Appendf(b, "%s\t%s\t%s\t%s\t%s\n", e.Remote, e.Account, e.Protocol, e.Fingerprint.Hex(), e.Trust)
	}
	return b
}
