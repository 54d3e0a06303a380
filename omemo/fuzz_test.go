package omemo

import (
	"bytes"
	"reflect"
	"sync"
	"testing"
)

// One sample for all fuzz targets: NewStore costs 100 key generations.
var (
	fuzzOnce   sync.Once
	fuzzSample *sample
)

func sampleFor(f *testing.F) *sample {
	fuzzOnce.Do(func() { fuzzSample = newSample(f) })
	return fuzzSample
}

func FuzzDeviceList(f *testing.F) {
	s := sampleFor(f)
	f.Add(s.list)
	f.Add([]byte("<list xmlns='eu.siacs.conversations.axolotl'/>"))
	f.Add([]byte("<list xmlns='eu.siacs.conversations.axolotl'><device id='0'/></list>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseDeviceList(b)
		if err != nil {
			return
		}
		again, err := ParseDeviceList(l.Marshal())
		if err != nil || !reflect.DeepEqual(again, l) {
			t.Fatalf("re-encoded list does not parse back: %v", err)
		}
	})
}

func FuzzBundle(f *testing.F) {
	s := sampleFor(f)
	f.Add(s.bundleX)
	f.Add(s.bundleX[:200])
	f.Fuzz(func(t *testing.T, b []byte) {
		bu, err := ParseBundle(b)
		if err != nil {
			return
		}
		again, err := ParseBundle(bu.Marshal())
		if err != nil || !reflect.DeepEqual(again, bu) {
			t.Fatalf("re-encoded bundle does not parse back: %v", err)
		}
		// Building a session from whatever parsed must not panic either.
		st, err := UnmarshalStore(s.stored)
		if err != nil {
			t.Fatal(err)
		}
		_ = st.BuildSession(Address{JID: "x@y", Device: 1}, bu)
	})
}

func FuzzEncrypted(f *testing.F) {
	s := sampleFor(f)
	f.Add(s.preKeyX)
	f.Add(s.signalX)
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEncrypted(b)
		if err != nil {
			return
		}
		if !bytes.Equal(mustParse(t, e.Marshal()).Marshal(), e.Marshal()) {
			t.Fatal("re-encoded element does not parse back")
		}
		// Whatever parses goes to Decrypt: an error or a message, never a panic.
		_, _ = s.bob.s.Decrypt(e, s.alice.jid)
	})
}

func mustParse(t *testing.T, b []byte) *Encrypted {
	e, err := ParseEncrypted(b)
	if err != nil {
		t.Fatalf("re-encoded element: %v", err)
	}
	return e
}

// FuzzSignalKey feeds the bytes of a <key> element, the libsignal wire
// messages, to Decrypt, both as a PreKeySignalMessage and as a
// SignalMessage.
func FuzzSignalKey(f *testing.F) {
	s := sampleFor(f)
	f.Add(s.preKey, true)
	f.Add(s.signal, false)
	f.Add([]byte{}, true)
	f.Add([]byte{0x33}, false)
	e0, _ := ParseEncrypted(s.preKeyX)
	f.Fuzz(func(t *testing.T, data []byte, prekey bool) {
		e := *e0
		e.Keys = []Key{{RID: s.bob.s.DeviceID(), PreKey: prekey, Data: data}}
		_, _ = s.bob.s.Decrypt(&e, s.alice.jid)
	})
}

func FuzzStoredState(f *testing.F) {
	s := sampleFor(f)
	f.Add(s.stored)
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := UnmarshalStore(b)
		if err != nil {
			return
		}
		out, err := st.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		again, err := UnmarshalStore(out)
		if err != nil {
			t.Fatalf("re-marshalled state refused: %v", err)
		}
		out2, _ := again.Marshal()
		if !bytes.Equal(out, out2) {
			t.Fatal("Marshal is not stable")
		}
		// A state that loads must work: encrypt to every session in it.
		for _, d := range st.devices {
			if d.session != nil {
				_, _ = st.Encrypt([]byte("x"), []Address{d.addr})
			}
		}
	})
}
