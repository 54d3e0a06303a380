package otr

import (
	"bytes"
	"math/big"
	"os"
	"reflect"
	"strings"
	"testing"
)

// testdata/otr.private_key and otr.fingerprints were written by libotr
// 4.1.1 itself (otrl_privkey_generate, otrl_privkey_write_fingerprints);
// the fingerprints below are what otrl_privkey_fingerprint printed for it.
var libotrKeys = []struct{ account, protocol, fp string }{
	{"carol@example.org/", "prpl-jabber", "256486AB 8CF2876B 7D0EF564 B9677141 9D0E10D1"},
	{"alice@example.org", "prpl-jabber", "75C5DB24 ABE8EC56 2C1DA113 4388D910 2CA92295"},
	{"bob", "prpl-jabber", "D928B5AD 2A629E71 8E103388 209C4C59 78F57460"},
	{`d"q\x`, "prpl-irc", "7D51C085 18CEBBDF 8AEE8B76 7FC1DA07 9865D7AD"},
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseLibotrPrivateKeys(t *testing.T) {
	data := readTestdata(t, "otr.private_key")
	keys, err := ParsePrivateKeys(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(libotrKeys) {
		t.Fatalf("got %d keys, want %d", len(keys), len(libotrKeys))
	}
	for i, want := range libotrKeys {
		k := keys[i]
		if k.Account != want.account || k.Protocol != want.protocol || k.Key.Fingerprint().String() != want.fp {
			t.Errorf("key %d: %q %q %s, want %q %q %s", i, k.Account, k.Protocol,
				k.Key.Fingerprint(), want.account, want.protocol, want.fp)
		}
	}
	// Writing them back gives libotr's file byte for byte, including the
	// leading 00 of MPIs with the top bit set and the token/string choice.
	if out := FormatPrivateKeys(keys); !bytes.Equal(out, data) {
		t.Fatalf("FormatPrivateKeys differs from libotr's file:\n%s", out)
	}
	if !bytes.Contains(data, []byte("(p #00")) || !bytes.Contains(data, []byte("(name bob)")) {
		t.Fatal("fixture lost the cases it is meant to cover")
	}
}

func TestPrivateKeyNamesEncodeLikeLibgcrypt(t *testing.T) {
	keys, err := ParsePrivateKeys(readTestdata(t, "otr.private_key"))
	if err != nil {
		t.Fatal(err)
	}
	k := keys[0].Key
	// Expected encodings as libotr 4.1.1 / libgcrypt 1.10 wrote them.
	cases := map[string]string{
		"alice@example.org/": `(name "alice@example.org/")`,
		"bob":                `(name bob)`,
		"":                   `(name "")`,
		"1abc":               `(name "1abc")`,
		"tab\there":          `(name "tab\there")`,
		"à é":                `(name #C3A020C3A9#)`,
		"é":                  `(name #C3A9#)`,
		"aé":                 `(name "aé")`,
		`q"\'`:               `(name "q\"\\\'")`,
		"a\x01":              `(name #6101#)`,
	}
	for name, want := range cases {
		out := FormatPrivateKeys([]AccountKey{{Account: name, Protocol: "prpl-jabber", Key: k}})
		if !bytes.Contains(out, []byte("\n"+want+"\n")) {
			t.Errorf("name %q: want %s in\n%s", name, want, out[:60])
		}
		back, err := ParsePrivateKeys(out)
		if err != nil || len(back) != 1 || back[0].Account != name {
			t.Errorf("name %q does not round-trip: %v %v", name, back, err)
		}
	}
}

func TestFormatPrivateKeysLayout(t *testing.T) {
	k := &PrivateKey{}
	k.P, k.Q, k.G, k.Y, k.X = big.NewInt(0x80), big.NewInt(0x7f), big.NewInt(0x1234), big.NewInt(0xff00), big.NewInt(0x0102)
	got := string(FormatPrivateKeys([]AccountKey{{"a@b", "prpl-jabber", k}}))
	want := "(privkeys\n (account\n(name \"a@b\")\n(protocol prpl-jabber)\n(private-key \n (dsa \n" +
		"  (p #0080#)\n  (q #7F#)\n  (g #1234#)\n  (y #00FF00#)\n  (x #0102#)\n  )\n )\n )\n)\n"
	if got != want {
		t.Fatalf("layout:\n%q\nwant\n%q", got, want)
	}
	if got := string(FormatPrivateKeys(nil)); got != "(privkeys\n)\n" {
		t.Fatalf("empty: %q", got)
	}
}

// The reader accepts every atom encoding libgcrypt does, not just the ones
// libotr happens to write.
func TestParsePrivateKeysOtherEncodings(t *testing.T) {
	keys, err := ParsePrivateKeys(readTestdata(t, "otr.private_key"))
	if err != nil {
		t.Fatal(err)
	}
	k := keys[1].Key
	hexOf := func(x *big.Int) string {
		var b []byte
		return string(appendSexpAtom(b, signedMPIBytes(x)))
	}
	p := hexOf(k.P)
	spaced := p[:20] + " \n\t" + p[20:] // whitespace inside #hex#
	in := "  (privkeys (account (name |YWxpY2VAZXhhbXBsZS5vcmc=|) (protocol \"prpl-\\\n\\x6aab\\142er\")" +
		"(private-key (dsa (p " + spaced + ")(q " + hexOf(k.Q) + ")(g " + hexOf(k.G) + ")(y " + hexOf(k.Y) +
		")(x " + hexOf(k.X) + ")(extra 1:a)b()c)))(account (name 5:carol) (protocol prpl-irc)" +
		"(private-key (dsa (x " + hexOf(k.X) + ")(y " + hexOf(k.Y) + ")(g " + hexOf(k.G) + ")(q " + hexOf(k.Q) +
		")(p " + hexOf(k.P) + ")))))\r\n"
	got, err := ParsePrivateKeys([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Account != "alice@example.org" || got[0].Protocol != "prpl-jabber" ||
		got[1].Account != "carol" || got[0].Key.Fingerprint() != k.Fingerprint() ||
		got[1].Key.Fingerprint() != k.Fingerprint() || got[0].Key.X.Cmp(k.X) != 0 {
		t.Fatalf("got %+v", got)
	}
}

func TestParsePrivateKeysRejects(t *testing.T) {
	good := string(readTestdata(t, "otr.private_key"))
	keys, _ := ParsePrivateKeys([]byte(good))
	k := keys[1].Key
	withKey := func(f func(k *PrivateKey)) string {
		c := &PrivateKey{}
		c.P, c.Q, c.G = new(big.Int).Set(k.P), new(big.Int).Set(k.Q), new(big.Int).Set(k.G)
		c.Y, c.X = new(big.Int).Set(k.Y), new(big.Int).Set(k.X)
		f(c)
		return string(FormatPrivateKeys([]AccountKey{{"a", "p", c}}))
	}
	cases := map[string]struct{ in, errPart string }{
		"y mismatch":      {withKey(func(c *PrivateKey) { c.Y.Add(c.Y, bigOne) }), "y does not match"},
		"x zero":          {withKey(func(c *PrivateKey) { c.X.SetInt64(0) }), "x out of range"},
		"x = q":           {withKey(func(c *PrivateKey) { c.X.Set(c.Q) }), "x out of range"},
		"q 161 bits":      {withKey(func(c *PrivateKey) { c.Q.Lsh(c.Q, 1) }), "q has 161 bits"},
		"p small":         {withKey(func(c *PrivateKey) { c.P.Rsh(c.P, 100) }), "p has"},
		"g = 1":           {withKey(func(c *PrivateKey) { c.G.SetInt64(1) }), "g out of range"},
		"g wrong order":   {withKey(func(c *PrivateKey) { c.G.SetInt64(2) }), "order q"},
		"missing x":       {strings.Replace(good, "(x #", "(z #", 1), "no x"},
		"rsa key":         {strings.Replace(good, "(dsa", "(rsa", 1), "not DSA"},
		"no name":         {strings.Replace(good, "(name", "(nom", 1), "no (name"},
		"not privkeys":    {strings.Replace(good, "privkeys", "pubkeys", 1), "not a (privkeys"},
		"not account":     {strings.Replace(good, "(account", "(acct", 1), "not an (account"},
		"unclosed":        {good[:len(good)-3], "unclosed list"},
		"trailing":        {good + "(x)", "trailing data"},
		"odd hex":         {strings.Replace(good, "(x #", "(x #0", 1), "bad # atom"},
		"bad escape":      {`(privkeys (account (name "a\q")))`, "unknown escape"},
		"bad token char":  {`(privkeys (account (name @a)))`, "unexpected character"},
		"verbatim long":   {`(privkeys (account (name 9:a)))`, "past the end"},
		"unterminated":    {`(privkeys (account (name "abc`, "unterminated string"},
		"display hint":    {`(privkeys [x]a)`, "unexpected character"},
		"not a list":      {`privkeys`, "does not start"},
		"too deep":        {strings.Repeat("(", 40) + strings.Repeat(")", 40), "nested deeper"},
		"too large":       {"(" + strings.Repeat(" ", maxSexpSize) + ")", "larger than"},
		"name is a list":  {strings.Replace(good, `(name "carol@example.org/")`, `(name (x))`, 1), "no (name"},
		"protocol absent": {strings.Replace(good, "(protocol prpl-jabber)", "", 1), "no (protocol"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			keys, err := ParsePrivateKeys([]byte(c.in))
			if err == nil || keys != nil {
				t.Fatalf("accepted: %d keys", len(keys))
			}
			if !strings.Contains(err.Error(), c.errPart) || !strings.HasPrefix(err.Error(), "otr: ") {
				t.Fatalf("error %q, want it to contain %q", err, c.errPart)
			}
		})
	}
	if keys, err := ParsePrivateKeys([]byte(" \n")); err != nil || keys != nil {
		t.Fatalf("blank file: %v %v", keys, err)
	}
}

func TestParseLibotrFingerprints(t *testing.T) {
	data := readTestdata(t, "otr.fingerprints")
	got, err := ParseFingerprints(data)
	if err != nil {
		t.Fatal(err)
	}
	fp := func(s string) Fingerprint {
		f, err := ParseFingerprint(s)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	want := []FingerprintEntry{
		{"bob@example.org", "alice@example.org/", "prpl-jabber", fp("0123456789abcdef0123456789abcdef01234567"), "verified"},
		{"carol@example.org", "alice@example.org/", "prpl-jabber", fp("89abcdef0123456789abcdef0123456789abcdef"), "smp"},
		{"dave@example.net", "alice@example.org/", "prpl-jabber", fp("fedcba9876543210fedcba9876543210fedcba98"), ""},
		{"erin@example.net", "bob", "prpl-irc", fp("00112233445566778899aabbccddeeff00112233"), ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if !got[0].Trusted() || !got[1].Trusted() || got[2].Trusted() {
		t.Fatal("Trusted() wrong")
	}
	if out := FormatFingerprints(got); !bytes.Equal(out, data) {
		t.Fatalf("FormatFingerprints differs from libotr's file:\n%q\n%q", out, data)
	}
}

// The same input libotr was given to produce testdata/otr.fingerprints:
// upper-case hex, CRLF, a missing trust field, and two lines libotr skips.
func TestParseFingerprintsMalformedLines(t *testing.T) {
	in := "bob@example.org\talice@example.org/\tprpl-jabber\t0123456789abcdef0123456789abcdef01234567\tverified\n" +
		"carol@example.org\talice@example.org/\tprpl-jabber\t89ABCDEF0123456789abcdef0123456789ABCDEF\tsmp\n" +
		"\n" +
		"dave@example.net\talice@example.org/\tprpl-jabber\tfedcba9876543210fedcba9876543210fedcba98\t\n" +
		"erin@example.net\tbob\tprpl-irc\t00112233445566778899aabbccddeeff00112233\r\n" +
		"bad line without tabs\n" +
		"x\ty\tz\t0123\tverified\n"
	got, err := ParseFingerprints([]byte(in))
	if err == nil || !strings.Contains(err.Error(), "2 malformed line(s), first at line 6") {
		t.Fatalf("error %v, want one naming line 6", err)
	}
	if len(got) != 4 || got[3].Remote != "erin@example.net" || got[3].Trust != "" || got[1].Trust != "smp" {
		t.Fatalf("good entries: %+v", got)
	}
	if out := FormatFingerprints(got); !bytes.Equal(out, readTestdata(t, "otr.fingerprints")) {
		t.Fatalf("libotr wrote a different file for this input:\n%s", out)
	}
}

func TestFingerprintsRoundTrip(t *testing.T) {
	in := []FingerprintEntry{
		{"bob@example.org", "alice@example.org/Home", "prpl-jabber", Fingerprint{1, 2, 3}, "smp"},
		{"é@example.org", "alice", "prpl-jabber", Fingerprint{19: 0xff}, ""},
		{"tab\tbad", "alice", "prpl-jabber", Fingerprint{}, "verified"}, // cannot be written
		{"carol", "alice", "prpl-jabber", Fingerprint{}, "odd\ttrust"},
	}
	out := FormatFingerprints(in)
	got, err := ParseFingerprints(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []FingerprintEntry{in[0], in[1], in[3]}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func FuzzParsePrivateKeys(f *testing.F) {
	f.Add(readTestdata(f, "otr.private_key"))
	f.Add([]byte(`(privkeys (account (name "a\x41\101") (protocol |cA==|) (private-key (dsa (p 1:a)))))`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParsePrivateKeys(data)
		if err != nil {
			return
		}
		back, err := ParsePrivateKeys(FormatPrivateKeys(keys))
		if err != nil || len(back) != len(keys) {
			t.Fatalf("re-parse of formatted keys: %d keys, %v", len(back), err)
		}
		for i := range keys {
			if back[i].Account != keys[i].Account || back[i].Protocol != keys[i].Protocol ||
				back[i].Key.X.Cmp(keys[i].Key.X) != 0 || back[i].Key.Fingerprint() != keys[i].Key.Fingerprint() {
				t.Fatalf("key %d changed in the round trip", i)
			}
		}
	})
}

func FuzzParseFingerprints(f *testing.F) {
	f.Add(readTestdata(f, "otr.fingerprints"))
	f.Add([]byte("a\tb\tc\t0123456789abcdef0123456789abcdef01234567\r\n\tx\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, _ := ParseFingerprints(data)
		back, err := ParseFingerprints(FormatFingerprints(entries))
		if err != nil || !reflect.DeepEqual(back, entries) && len(entries) > 0 {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, entries, back)
		}
	})
}
