package omemo

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/serialize"
	"go.mau.fi/libsignal/util/optional"
)

// conversation returns two devices with a working session, a
// PreKeySignalMessage and a SignalMessage (their <key> data) that bob
// has not yet received, and the XML of each.
type sample struct {
	alice, bob       *testDevice
	preKey, signal   []byte // key data
	preKeyX, signalX []byte // <encrypted/> XML
	list, bundleX    []byte
	stored           []byte
}

func newSample(t testing.TB) *sample {
	t.Helper()
	s := &sample{alice: newDevice(t, "alice@example.org"), bob: newDevice(t, "bob@example.org")}
	connect(t, s.alice, s.bob)
	s.preKeyX = send(t, s.alice, "first", s.bob)
	e, _ := ParseEncrypted(s.preKeyX)
	s.preKey = e.Keys[0].Data

	// A second pair whose session is acknowledged, for a SignalMessage.
	c, d := newDevice(t, "carol@example.org"), newDevice(t, "dave@example.org")
	connect(t, c, d)
	receive(t, d, c, send(t, c, "x", d), "x")
	receive(t, c, d, send(t, d, "y", c), "y")
	s.signalX = send(t, c, "second", d)
	e, _ = ParseEncrypted(s.signalX)
	s.signal = e.Keys[0].Data

	s.list = DeviceList{Devices: []uint32{1, 2, 3}}.Marshal()
	s.bundleX = s.bob.s.Bundle().Marshal()
	var err error
	if s.stored, err = s.bob.s.Marshal(); err != nil {
		t.Fatal(err)
	}
	return s
}

// preKeyWith re-serializes a PreKeySignalMessage with fields replaced.
func preKeyWith(t testing.TB, data []byte, edit func(*protocol.PreKeySignalMessageStructure)) []byte {
	t.Helper()
	ser := serialize.NewProtoBufSerializer()
	st, err := ser.PreKeySignalMessage.Deserialize(data)
	if err != nil {
		t.Fatal(err)
	}
	edit(st)
	return ser.PreKeySignalMessage.Serialize(st)
}

func signalWith(t testing.TB, data []byte, edit func(*protocol.SignalMessageStructure)) []byte {
	t.Helper()
	ser := serialize.NewProtoBufSerializer()
	st, err := ser.SignalMessage.Deserialize(data)
	if err != nil {
		t.Fatal(err)
	}
	edit(st)
	return ser.SignalMessage.Serialize(st)
}

// badKeyData is Signal message data that must be refused, among them
// the inputs that panic go.mau.fi/libsignal v0.2.1's parsers.
func badKeyData(t testing.TB, s *sample) map[string][]byte {
	bad := map[string][]byte{
		"empty":                 {},
		"version byte only":     {0x33},
		"version 2":             append([]byte{0x22}, s.signal[1:]...),
		"garbage":               bytes.Repeat([]byte{0xff}, 64),
		"signal as prekey":      s.signal,
		"prekey as signal":      s.preKey,
		"empty base key":        preKeyWith(t, s.preKey, func(p *protocol.PreKeySignalMessageStructure) { p.BaseKey = []byte{} }),
		"short base key":        preKeyWith(t, s.preKey, func(p *protocol.PreKeySignalMessageStructure) { p.BaseKey = []byte{5} }),
		"empty identity key":    preKeyWith(t, s.preKey, func(p *protocol.PreKeySignalMessageStructure) { p.IdentityKey = []byte{} }),
		"zero identity key":     preKeyWith(t, s.preKey, func(p *protocol.PreKeySignalMessageStructure) { p.IdentityKey = append([]byte{5}, make([]byte, 32)...) }),
		"empty inner message":   preKeyWith(t, s.preKey, func(p *protocol.PreKeySignalMessageStructure) { p.Message = []byte{} }),
		"prekey id too large":   preKeyWith(t, s.preKey, func(p *protocol.PreKeySignalMessageStructure) { p.PreKeyID = optional.NewOptionalUint32(1 << 30) }),
		"empty ratchet key":     signalWith(t, s.signal, func(m *protocol.SignalMessageStructure) { m.RatchetKey = []byte{} }),
		"ratchet key type 6":    signalWith(t, s.signal, func(m *protocol.SignalMessageStructure) { m.RatchetKey[0] = 6 }),
		"empty ciphertext":      signalWith(t, s.signal, func(m *protocol.SignalMessageStructure) { m.CipherText = []byte{} }),
		"ciphertext not blocks": signalWith(t, s.signal, func(m *protocol.SignalMessageStructure) { m.CipherText = m.CipherText[1:] }),
	}
	for i := 0; i < len(s.preKey); i += 7 {
		bad["prekey cut at "+itoa(i)] = s.preKey[:i]
	}
	for i := 0; i < len(s.signal); i += 3 {
		bad["signal cut at "+itoa(i)] = s.signal[:i]
	}
	return bad
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestOMEMOMalformedNeverPanics(t *testing.T) {
	s := newSample(t)
	ser := serialize.NewProtoBufSerializer()

	t.Run("signal messages", func(t *testing.T) {
		before, _ := s.bob.s.Marshal()
		for name, data := range badKeyData(t, s) {
			for _, pk := range []bool{true, false} {
				// The guards in parse…: an error, never a panic.
				var err error
				if pk {
					_, err = parsePreKeySignalMessage(ser, data)
				} else {
					_, err = parseSignalMessage(ser, data)
				}
				genuine := name == "signal as prekey" && !pk || name == "prekey as signal" && pk
				if genuine {
					continue // the real thing, under its own flag
				}
				if err == nil {
					t.Errorf("%s (prekey %v): parsed", name, pk)
				}
				// Decrypt on the whole element: refused, store unchanged.
				e, _ := ParseEncrypted(s.preKeyX)
				e.Keys[0].Data, e.Keys[0].PreKey = data, pk
				if m, err := s.bob.s.Decrypt(e, s.alice.jid); err == nil {
					t.Errorf("%s (prekey %v): decrypted to %q", name, pk, m.Plaintext)
				}
			}
		}
		after, _ := s.bob.s.Marshal()
		if !bytes.Equal(before, after) {
			t.Error("refused messages changed bob's store")
		}
		// Sentinel: after all that, the real message still decrypts.
		receive(t, s.bob, s.alice, s.preKeyX, "first")
	})

	t.Run("xml", func(t *testing.T) {
		decoders := map[string]func([]byte) error{
			"device list": func(b []byte) error { _, err := ParseDeviceList(b); return err },
			"bundle":      func(b []byte) error { _, err := ParseBundle(b); return err },
			"encrypted":   func(b []byte) error { _, err := ParseEncrypted(b); return err },
			"store":       func(b []byte) error { _, err := UnmarshalStore(b); return err },
		}
		valid := map[string][]byte{"device list": s.list, "bundle": s.bundleX, "encrypted": s.signalX, "store": s.stored}
		for name, dec := range decoders {
			if err := dec(valid[name]); err != nil {
				t.Fatalf("%s: the valid sample fails: %v", name, err)
			}
			inputs := map[string][]byte{"empty": nil, "garbage": []byte("\x00\xff<<>>&&"), "other xml": []byte("<a/>")}
			v := valid[name]
			for i := 0; i < len(v); i += 1 + len(v)/300 {
				inputs["cut at "+itoa(i)] = v[:i]
			}
			for in, b := range inputs {
				if err := dec(b); err == nil {
					t.Errorf("%s, %s: accepted", name, in)
				}
			}
		}
	})

	t.Run("fields", func(t *testing.T) {
		ns := " xmlns='" + Namespace + "'"
		key := base64.StdEncoding.EncodeToString(s.bob.s.IdentityKey())
		sig := base64.StdEncoding.EncodeToString(make([]byte, 64))
		iv := base64.StdEncoding.EncodeToString(make([]byte, 12))
		bundle := func(spkID, spk, sg, ik, pkID, pk string) string {
			return "<bundle" + ns + "><signedPreKeyPublic signedPreKeyId='" + spkID + "'>" + spk +
				"</signedPreKeyPublic><signedPreKeySignature>" + sg + "</signedPreKeySignature><identityKey>" + ik +
				"</identityKey><prekeys><preKeyPublic preKeyId='" + pkID + "'>" + pk + "</preKeyPublic></prekeys></bundle>"
		}
		enc := func(sid, rid, pk, data, ivv, payload string) string {
			return "<encrypted" + ns + "><header sid='" + sid + "'><key rid='" + rid + "' prekey='" + pk + "'>" + data +
				"</key><iv>" + ivv + "</iv></header>" + payload + "</encrypted>"
		}
		good := []string{
			"<list" + ns + "/>",
			"<list" + ns + "><device id='1'/><device id='2147483647'/><device id='1'/></list>",
			bundle("1", key, sig, key, "1", key),
			bundle("0", key, sig, strings.ReplaceAll(key, "A", "A\n"), "16777215", key),
			enc("1", "2", "true", "AA==", iv, ""),
			enc("1", "2", "1", "AA", iv, "<payload></payload>"),
		}
		bad := []string{
			"<list/>",
			"<list xmlns='urn:other'><device id='1'/></list>",
			"<list" + ns + "><device/></list>",
			"<list" + ns + "><device id='0'/></list>",
			"<list" + ns + "><device id='2147483648'/></list>",
			"<list" + ns + "><device id='-1'/></list>",
			"<list" + ns + "><device id='+1'/></list>",
			"<list" + ns + "><device id=' 1'/></list>",
			"<list" + ns + "><device id='x'/></list>",
			"<list" + ns + ">" + strings.Repeat("<device id='1'/>", maxDevices+1) + "</list>",
			"<bundle" + ns + "/>",
			bundle("x", key, sig, key, "1", key),
			bundle("1", key[:8], sig, key, "1", key),
			bundle("1", key, sig[:8], key, "1", key),
			bundle("1", key, sig, "!!!!", "1", key),
			bundle("1", key, sig, key, "0", key),
			bundle("1", key, sig, key, "16777216", key),
			bundle("1", key, sig, key, "1", base64.StdEncoding.EncodeToString(append([]byte{6}, make([]byte, 32)...))),
			bundle("1", key, sig, key, "1", base64.StdEncoding.EncodeToString(append([]byte{5}, make([]byte, 32)...))), // small order
			enc("1", "2", "true", "", iv, ""),
			enc("0", "2", "true", "AA==", iv, ""),
			enc("1", "0", "true", "AA==", iv, ""),
			enc("1", "2", "yes", "AA==", iv, ""),
			enc("1", "2", "true", "A", iv, ""),
			enc("1", "2", "true", "AA==", base64.StdEncoding.EncodeToString(make([]byte, 16)), ""),
			enc("1", "2", "true", "AA==", "", ""),
			enc("1", "2", "true", "AA==", iv, "<payload>***</payload>"),
			enc("1", "2", "true", "AA==", iv, "<payload/><payload/>"),
			"<encrypted" + ns + "><header sid='1'><iv>" + iv + "</iv></header></encrypted>",
			strings.Replace(enc("1", "2", "true", "AA==", iv, ""), "</header>", "</header><header sid='3'><key rid='2'>AA==</key></header>", 1),
			strings.Replace(bundle("1", key, sig, key, "1", key), "</identityKey>", "</identityKey><identityKey>"+key+"</identityKey>", 1),
			strings.Replace(bundle("1", key, sig, key, "1", key), "<prekeys>", "<prekeys></prekeys><prekeys>", 1),
			"<encrypted" + ns + "><payload>AA==</payload></encrypted>",
		}
		parse := func(x string) error {
			var err error
			switch {
			case strings.HasPrefix(x, "<list"):
				_, err = ParseDeviceList([]byte(x))
			case strings.HasPrefix(x, "<bundle"):
				_, err = ParseBundle([]byte(x))
			default:
				_, err = ParseEncrypted([]byte(x))
			}
			return err
		}
		for _, x := range good {
			if err := parse(x); err != nil {
				t.Errorf("refused %s: %v", clip(x), err)
			}
		}
		for _, x := range bad {
			if err := parse(x); err == nil {
				t.Errorf("accepted %s", x)
			}
		}
	})
}

// TestLibraryPanicsOnMalformed keeps the reason for the guards on
// record: if a new library version stops panicking, this says so.
func TestLibraryPanicsOnMalformed(t *testing.T) {
	s := newSample(t)
	ser := serialize.NewProtoBufSerializer()
	panics := func(f func()) (p bool) {
		defer func() { p = recover() != nil }()
		f()
		return false
	}
	cases := map[string]func(){
		"empty PreKeySignalMessage": func() { protocol.NewPreKeySignalMessageFromBytes(nil, ser.PreKeySignalMessage, ser.SignalMessage) },
		"empty base key": func() {
			protocol.NewPreKeySignalMessageFromBytes(preKeyWith(t, s.preKey, func(p *protocol.PreKeySignalMessageStructure) { p.BaseKey = []byte{} }), ser.PreKeySignalMessage, ser.SignalMessage)
		},
		"empty ratchet key": func() {
			protocol.NewSignalMessageFromBytes(signalWith(t, s.signal, func(m *protocol.SignalMessageStructure) { m.RatchetKey = []byte{} }), ser.SignalMessage)
		},
	}
	for name, f := range cases {
		if !panics(f) {
			t.Errorf("%s: the library no longer panics", name)
		}
	}
}
