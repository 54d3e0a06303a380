package omemo

import (
	"bytes"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestOMEMOXMLRoundTrip(t *testing.T) {
	s := newSample(t)
	l := DeviceList{Devices: []uint32{7, 1, 2147483647}}
	if got, err := ParseDeviceList(l.Marshal()); err != nil || !reflect.DeepEqual(got, l) {
		t.Fatalf("device list: %+v %v", got, err)
	}
	b := s.bob.s.Bundle()
	if len(b.PreKeys) != PreKeyCount {
		t.Fatalf("bundle has %d prekeys", len(b.PreKeys))
	}
	if got, err := ParseBundle(b.Marshal()); err != nil || !reflect.DeepEqual(got, b) {
		t.Fatalf("bundle: %v", err)
	}
	e, err := ParseEncrypted(s.preKeyX)
	if err != nil || !bytes.Equal(e.Marshal(), s.preKeyX) {
		t.Fatalf("encrypted: %v", err)
	}
	// The exact shape profanity and Conversations send and expect.
	want := "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='5'><key rid='6' prekey='true'>AQ==</key>" +
		"<key rid='7'>Ag==</key><iv>AAAAAAAAAAAAAAAA</iv></header><payload>Aw==</payload></encrypted>"
	x := (&Encrypted{SID: 5, Keys: []Key{{RID: 6, PreKey: true, Data: []byte{1}}, {RID: 7, Data: []byte{2}}},
		IV: make([]byte, 12), Payload: []byte{3}}).Marshal()
	if string(x) != want {
		t.Fatalf("encrypted XML\n got %s\nwant %s", x, want)
	}
	if !strings.HasPrefix(string(b.Marshal()), "<bundle xmlns='eu.siacs.conversations.axolotl'><signedPreKeyPublic signedPreKeyId='1'>") {
		t.Fatalf("bundle XML starts %s", b.Marshal()[:120])
	}
	// Other clients write double quotes, prefixes and whitespace.
	other := `<?xml version="1.0"?>
<o:encrypted xmlns:o="eu.siacs.conversations.axolotl">
  <o:header sid="5">
    <o:key prekey="1" rid="6">AQ==</o:key>
    <o:iv>AAAAAAAA
AAAAAAAA</o:iv>
  </o:header>
  <o:payload>Aw==</o:payload>
</o:encrypted>`
	got, err := ParseEncrypted([]byte(other))
	if err != nil || got.SID != 5 || !got.Keys[0].PreKey || got.Keys[0].RID != 6 || !bytes.Equal(got.Payload, []byte{3}) {
		t.Fatalf("other client's XML: %+v %v", got, err)
	}
	if BundleNode(42) != "eu.siacs.conversations.axolotl.bundles:42" || DeviceListNode != "eu.siacs.conversations.axolotl.devicelist" {
		t.Fatal("node names")
	}
}

func TestOMEMOFingerprint(t *testing.T) {
	s := newSample(t)
	fp := s.bob.s.Fingerprint()
	if len(fp) != 64 || strings.ToLower(fp) != fp || fp != Fingerprint(s.bob.s.IdentityKey()[1:]) {
		t.Fatalf("fingerprint %q", fp)
	}
	if Fingerprint(make([]byte, 10)) != "" {
		t.Fatal("fingerprint of a bad key")
	}
	f := FormatFingerprint(fp)
	if len(f) != 71 || strings.Count(f, " ") != 7 {
		t.Fatalf("formatted %q", f)
	}
	for _, in := range []string{fp, strings.ToUpper(f), strings.ReplaceAll(f, " ", ":")} {
		b, err := ParseFingerprint(in)
		if err != nil || Fingerprint(b) != fp {
			t.Fatalf("ParseFingerprint(%q): %v", in, err)
		}
	}
	for _, in := range []string{"", fp[:63], fp + "0", "g" + fp[1:]} {
		if _, err := ParseFingerprint(in); err == nil {
			t.Fatalf("ParseFingerprint(%q) accepted", in)
		}
	}
}

func TestOMEMOURI(t *testing.T) {
	fp1 := strings.Repeat("0123456789abcdef", 4)
	fp2 := strings.Repeat("fedcba9876543210", 4)
	devs := []DeviceFingerprint{{Device: 99, Fingerprint: fp2}, {Device: 12, Fingerprint: fp1}}
	u := BuildURI("alice@example.org", devs)
	want := "xmpp:alice@example.org?omemo-sid-12=" + fp1 + ";omemo-sid-99=" + fp2
	if u != want {
		t.Fatalf("URI\n got %s\nwant %s", u, want)
	}
	jid, got, err := ParseURI(u)
	if err != nil || jid != "alice@example.org" || len(got) != 2 || got[0].Device != 12 || got[1].Fingerprint != fp2 {
		t.Fatalf("ParseURI: %q %+v %v", jid, got, err)
	}
	// Conversations' form with an action and ibr, '&' separators, upper case.
	jid, got, err = ParseURI("xmpp:b%C3%B6b@example.org?message;omemo-sid-5=" + strings.ToUpper(fp1) + "&ibr=y")
	if err != nil || jid != "böb@example.org" || len(got) != 1 || got[0].Fingerprint != fp1 {
		t.Fatalf("ParseURI: %q %+v %v", jid, got, err)
	}
	if BuildURI("böb@example.org", nil) != "xmpp:b%C3%B6b@example.org" {
		t.Fatal(BuildURI("böb@example.org", nil))
	}
	for _, bad := range []string{"", "http://x", "xmpp:", "xmpp://a@b", "xmpp:a@b?omemo-sid-0=" + fp1,
		"xmpp:a@b?omemo-sid-1=" + fp1[:10], "xmpp:a%zz@b", "xmpp:a b@c"} {
		if _, _, err := ParseURI(bad); err == nil {
			t.Errorf("ParseURI(%q) accepted", bad)
		}
	}
}

func TestOMEMOStoreRefusesDamage(t *testing.T) {
	s := newSample(t)
	receive(t, s.bob, s.alice, s.preKeyX, "first")
	good, _ := s.bob.s.Marshal()
	if _, err := UnmarshalStore(good); err != nil {
		t.Fatal(err)
	}
	edits := map[string]func(string) string{
		"version":       func(j string) string { return strings.Replace(j, `"version":1`, `"version":2`, 1) },
		"unknown field": func(j string) string { return strings.Replace(j, `{"version":1`, `{"version":1,"x":1`, 1) },
		"device id": func(j string) string {
			return regexp.MustCompile(`"device_id":\d+`).ReplaceAllString(j, `"device_id":0`)
		},
		"prekey id": func(j string) string { return regexp.MustCompile(`"id":\d+`).ReplaceAllString(j, `"id":16777216`) },
		"remote identity": func(j string) string {
			return regexp.MustCompile(`"identity":"[^"]*"`).ReplaceAllString(j, `"identity":"BQ=="`)
		},
		"trailing data": func(j string) string { return j + "{}" },
		"identity private": func(j string) string {
			return strings.Replace(j, `"identity_private":"`, `"identity_private":"AAAA`, 1)
		},
		"session": func(j string) string {
			return regexp.MustCompile(`"session":"[^"]*"`).ReplaceAllString(j, `"session":"e30="`)
		},
		"session not json": func(j string) string {
			return regexp.MustCompile(`"session":"[^"]*"`).ReplaceAllString(j, `"session":"AAAA"`)
		},
	}
	for name, edit := range edits {
		if _, err := UnmarshalStore([]byte(edit(string(good)))); err == nil {
			t.Errorf("%s: damaged state accepted", name)
		}
	}
}
