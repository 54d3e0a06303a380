package otr

import (
	"bytes"
	"testing"
)

func TestQueryVersions(t *testing.T) {
	for _, tc := range []struct {
		in     string
		v2, v3 bool
	}{
		{"?OTR?", false, false},
		{"?OTRv2?", true, false},
		{"?OTRv3?", false, true},
		{"?OTRv23?", true, true},
		{"?OTRv32?", true, true},
		{"?OTR?v2?", true, false},
		{"?OTRv24x?", true, false},
		{"?OTR?v24x?", true, false},
		{"?OTR?v?", false, false},
		{"?OTRv?", false, false},
		{"hello ?OTRv23? and some explanation", true, true},
		{"?OTRv2", true, false}, // unterminated: still an offer
		{"?OTRv?3?", false, false},
	} {
		v2, v3 := queryVersions([]byte(tc.in))
		if v2 != tc.v2 || v3 != tc.v3 {
			t.Errorf("%q: got v2=%v v3=%v", tc.in, v2, v3)
		}
	}
}

func TestQueryMessage(t *testing.T) {
	for p, want := range map[Policy]string{
		PolicyManual: "?OTRv23?", AllowV2: "?OTRv2?", AllowV3: "?OTRv3?", RequireEncryption: "",
	} {
		got := string(queryMessage(p))
		if want == "" {
			if got != "" {
				t.Errorf("policy %b: %q", p, got)
			}
			continue
		}
		if len(got) < len(want)+20 || got[:len(want)] != want || got[len(want)] != '\n' {
			t.Errorf("policy %b: %q", p, got)
		}
	}
}

func TestClassify(t *testing.T) {
	for in, want := range map[string]msgKind{
		"hello":                   kindPlaintext,
		"":                        kindPlaintext,
		"?OTRv23?\nplease":        kindQuery,
		"?OTR?":                   kindQuery,
		"?OTR Error: bad":         kindError,
		"oops ?OTR Error: bad":    kindError,
		"?OTR:AAMDAAAA.":          kindEncoded,
		"?OTRx":                   kindUnknownOTR,
		"?OTR":                    kindUnknownOTR,
		"see ?OTR and ?OTRv3? ok": kindQuery,
	} {
		if got := classify([]byte(in)); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}

func TestWhitespaceTag(t *testing.T) {
	tag := whitespaceTag(PolicyManual)
	if !bytes.Equal(tag, append(append(bytes.Clone(wsBase), wsV2...), wsV3...)) {
		t.Fatalf("tag %q", tag)
	}
	for _, tc := range []struct {
		in            string
		out           string
		found, v2, v3 bool
	}{
		{"hi" + string(tag), "hi", true, true, true},
		{string(wsBase) + string(wsV1) + string(wsV3) + "x", "x", true, false, true},
		{"a" + string(wsBase) + string(wsV2) + "b", "ab", true, true, false},
		{"a" + string(wsBase) + "        tail", "a        tail", true, false, false},
		{"no tag", "no tag", false, false, false},
	} {
		out, found, v2, v3 := stripWhitespaceTag([]byte(tc.in))
		if string(out) != tc.out || found != tc.found || v2 != tc.v2 || v3 != tc.v3 {
			t.Errorf("%q: %q %v %v %v", tc.in, out, found, v2, v3)
		}
	}
}

func TestEncodeDecode(t *testing.T) {
	bin := []byte{0, 3, 2, 1, 2, 3, 4, 5, 6, 7, 8, 0xff}
	enc := encode(bin)
	if string(enc) != "?OTR:AAMCAQIDBAUGBwj/." {
		t.Fatalf("%q", enc)
	}
	for _, in := range []string{string(enc), "x " + string(enc) + " y", "?OTR:AAMC\nAQID\r\nBAUGBwj/."} {
		got, ok := decode([]byte(in))
		if !ok || !bytes.Equal(got, bin) {
			t.Errorf("%q: %x %v", in, got, ok)
		}
	}
}

func TestHeader(t *testing.T) {
	for _, h := range []header{{3, msgData, 0x100, 0xffffffff}, {2, msgDHKey, 0, 0}} {
		b := appendHeader(nil, h)
		got, rest, ok := parseHeader(append(b, 9))
		if !ok || got != h || !bytes.Equal(rest, []byte{9}) {
			t.Errorf("%+v: %+v %v", h, got, ok)
		}
	}
	if _, _, ok := parseHeader([]byte{0, 3, 3, 0, 0}); ok {
		t.Error("short v3 header accepted")
	}
}

func TestParseInstanceTags(t *testing.T) {
	v3 := encode(appendHeader(nil, header{3, msgDHCommit, 0x1234, 0}))
	v2 := encode(appendHeader(nil, header{2, msgDHCommit, 0, 0}))
	for _, tc := range []struct {
		in   string
		v    int
		s, r uint32
		ok   bool
	}{
		{string(v3), 3, 0x1234, 0, true},
		{string(v2), 2, 0, 0, true},
		{"?OTR|5a73a599|27e31597,00001,00003,?OTR:AAMDJ+MV,", 3, 0x5a73a599, 0x27e31597, true},
		{"?OTR,1,3,?OTR:AAED,", 2, 0, 0, true},
		{"?OTR|zz|1,1,1,x,", 0, 0, 0, false},
		{"hello", 0, 0, 0, false},
		{"?OTRv23?", 0, 0, 0, false},
		{"?OTR:AAEKAAAA.", 0, 0, 0, false},
	} {
		v, s, r, ok := ParseInstanceTags([]byte(tc.in))
		if v != tc.v || s != tc.s || r != tc.r || ok != tc.ok {
			t.Errorf("%q: %d %x %x %v", tc.in, v, s, r, ok)
		}
	}
}

func TestErrorText(t *testing.T) {
	if got := errorText([]byte("?OTR Error: You sent junk. ")); got != "You sent junk." {
		t.Fatalf("%q", got)
	}
	if got := string(errorMessage("x")); got != "?OTR Error: x" {
		t.Fatalf("%q", got)
	}
}
