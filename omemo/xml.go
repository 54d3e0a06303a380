package omemo

// XML codecs for the eu.siacs.conversations.axolotl namespace, as
// Conversations, Dino, Gajim and profanity speak it (see ../shared/FACTS.md,
// "OMEMO as profanity 0.13.1 speaks it"):
//
//	<list xmlns='eu.siacs.conversations.axolotl'><device id='…'/>…</list>
//	<bundle xmlns='…'><signedPreKeyPublic signedPreKeyId='1'>…</signedPreKeyPublic>
//	  <signedPreKeySignature>…</signedPreKeySignature><identityKey>…</identityKey>
//	  <prekeys><preKeyPublic preKeyId='…'>…</preKeyPublic>…</prekeys></bundle>
//	<encrypted xmlns='…'><header sid='…'><key rid='…' prekey='true'>…</key>…
//	  <iv>…</iv></header><payload>…</payload></encrypted>
//
// Parsing is strict: every id is checked, every key is 33 bytes starting
// with 0x05, the signature is 64 bytes and the IV 12. Marshalling writes
// only numbers and base64, so it needs no escaping.

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Namespace is the OMEMO namespace deployed clients use (XEP-0384 0.3).
const Namespace = "eu.siacs.conversations.axolotl"

// DeviceListNode is the PEP node holding a user's device list (item "current").
const DeviceListNode = Namespace + ".devicelist"

// BundleNode is the PEP node holding one device's bundle (item "current").
func BundleNode(device uint32) string {
	return Namespace + ".bundles:" + strconv.FormatUint(uint64(device), 10)
}

// Limits on what we accept from the network. Deployed clients publish a
// handful of devices and 100 prekeys; the limits only bound the work a
// hostile server or contact can make us do.
const (
	maxDevices   = 256
	maxPreKeys   = 1000
	maxKeys      = 1000    // <key> elements in one header
	maxKeyData   = 4096    // one serialized Signal message
	maxPayload   = 1 << 20 // decoded payload bytes
	maxPreKeyID  = 0xFFFFFF
	maxDeviceID  = 1<<31 - 1 // libsignal-protocol-c keeps device ids in an int32
	keyLen       = 33        // 0x05 ‖ 32-byte Curve25519 key
	signatureLen = 64
	ivLen        = 12
	djbType      = 0x05
)

// ErrMalformed is wrapped by every error about XML or bytes that fail a check.
var ErrMalformed = errors.New("omemo: malformed data")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// DeviceList is a user's published list of OMEMO devices.
type DeviceList struct {
	Devices []uint32
}

type xmlDeviceList struct {
	XMLName xml.Name `xml:"eu.siacs.conversations.axolotl list"`
	Devices []struct {
		ID *string `xml:"id,attr"`
	} `xml:"eu.siacs.conversations.axolotl device"`
}

// ParseDeviceList decodes a <list/> element. Duplicate ids are dropped.
func ParseDeviceList(b []byte) (DeviceList, error) {
	var x xmlDeviceList
	if err := unmarshalXML(b, &x); err != nil {
		return DeviceList{}, err
	}
	if len(x.Devices) > maxDevices {
		return DeviceList{}, malformed("the device list has %d devices, more than %d", len(x.Devices), maxDevices)
	}
	var l DeviceList
	seen := map[uint32]bool{}
	for _, d := range x.Devices {
		if d.ID == nil {
			return DeviceList{}, malformed("a device in the list has no id")
		}
		id, err := parseDeviceID(*d.ID)
		if err != nil {
			return DeviceList{}, err
		}
		if !seen[id] {
			seen[id] = true
			l.Devices = append(l.Devices, id)
		}
	}
	return l, nil
}

// Marshal encodes the list as a <list/> element.
func (l DeviceList) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString("<list xmlns='" + Namespace + "'>")
	for _, id := range l.Devices {
		b.WriteString("<device id='" + strconv.FormatUint(uint64(id), 10) + "'/>")
	}
	b.WriteString("</list>")
	return b.Bytes()
}

// PreKey is one published one-time prekey.
type PreKey struct {
	ID  uint32
	Key []byte // 33 bytes
}

// Bundle is one device's published keys.
type Bundle struct {
	SignedPreKeyID        uint32
	SignedPreKey          []byte // 33 bytes
	SignedPreKeySignature []byte // 64 bytes, XEdDSA over SignedPreKey by IdentityKey
	IdentityKey           []byte // 33 bytes
	PreKeys               []PreKey
}

type xmlBundle struct {
	XMLName      xml.Name `xml:"eu.siacs.conversations.axolotl bundle"`
	SignedPreKey []struct {
		ID   *string `xml:"signedPreKeyId,attr"`
		Data string  `xml:",chardata"`
	} `xml:"eu.siacs.conversations.axolotl signedPreKeyPublic"`
	Signature []string `xml:"eu.siacs.conversations.axolotl signedPreKeySignature"`
	Identity  []string `xml:"eu.siacs.conversations.axolotl identityKey"`
	PreKeys   []struct {
		Keys []struct {
			ID   *string `xml:"preKeyId,attr"`
			Data string  `xml:",chardata"`
		} `xml:"eu.siacs.conversations.axolotl preKeyPublic"`
	} `xml:"eu.siacs.conversations.axolotl prekeys"`
}

// ParseBundle decodes a <bundle/> element. It checks sizes and ids; the
// signature is checked when a session is built from the bundle.
func ParseBundle(b []byte) (*Bundle, error) {
	var x xmlBundle
	if err := unmarshalXML(b, &x); err != nil {
		return nil, err
	}
	if len(x.SignedPreKey) != 1 || x.SignedPreKey[0].ID == nil {
		return nil, malformed("the bundle does not have one signed prekey with an id")
	}
	if len(x.Signature) != 1 {
		return nil, malformed("the bundle does not have one signed prekey signature")
	}
	if len(x.Identity) != 1 {
		return nil, malformed("the bundle does not have one identity key")
	}
	if len(x.PreKeys) != 1 {
		return nil, malformed("the bundle does not have one prekeys element")
	}
	var out Bundle
	spk := x.SignedPreKey[0]
	id, err := strconv.ParseUint(*spk.ID, 10, 32)
	if err != nil {
		return nil, malformed("the signed prekey id %q is not a number", clip(*spk.ID))
	}
	out.SignedPreKeyID = uint32(id)
	if out.SignedPreKey, err = decodeKey("signed prekey", spk.Data); err != nil {
		return nil, err
	}
	if out.SignedPreKeySignature, err = decodeFixed("signed prekey signature", x.Signature[0], signatureLen); err != nil {
		return nil, err
	}
	if out.IdentityKey, err = decodeKey("identity key", x.Identity[0]); err != nil {
		return nil, err
	}
	keys := x.PreKeys[0].Keys
	if len(keys) > maxPreKeys {
		return nil, malformed("the bundle has %d prekeys, more than %d", len(keys), maxPreKeys)
	}
	seen := map[uint32]bool{}
	for _, k := range keys {
		if k.ID == nil {
			return nil, malformed("a prekey has no id")
		}
		pid, err := strconv.ParseUint(*k.ID, 10, 32)
		if err != nil || pid == 0 || pid > maxPreKeyID {
			return nil, malformed("the prekey id %q is not a number from 1 to %d", clip(*k.ID), maxPreKeyID)
		}
		if seen[uint32(pid)] {
			return nil, malformed("prekey id %d appears twice", pid)
		}
		seen[uint32(pid)] = true
		key, err := decodeKey("prekey", k.Data)
		if err != nil {
			return nil, err
		}
		out.PreKeys = append(out.PreKeys, PreKey{ID: uint32(pid), Key: key})
	}
	return &out, nil
}

// Marshal encodes the bundle as a <bundle/> element.
func (b *Bundle) Marshal() []byte {
	var w bytes.Buffer
	w.WriteString("<bundle xmlns='" + Namespace + "'>")
	w.WriteString("<signedPreKeyPublic signedPreKeyId='" + strconv.FormatUint(uint64(b.SignedPreKeyID), 10) + "'>")
	w.WriteString(b64(b.SignedPreKey) + "</signedPreKeyPublic>")
	w.WriteString("<signedPreKeySignature>" + b64(b.SignedPreKeySignature) + "</signedPreKeySignature>")
	w.WriteString("<identityKey>" + b64(b.IdentityKey) + "</identityKey><prekeys>")
	for _, k := range b.PreKeys {
		w.WriteString("<preKeyPublic preKeyId='" + strconv.FormatUint(uint64(k.ID), 10) + "'>" + b64(k.Key) + "</preKeyPublic>")
	}
	w.WriteString("</prekeys></bundle>")
	return w.Bytes()
}

// Key is the message key encrypted for one device.
type Key struct {
	RID    uint32 // the recipient device
	PreKey bool   // Data is a PreKeySignalMessage (it builds a session)
	Data   []byte // a serialized (PreKey)SignalMessage
}

// Encrypted is an <encrypted/> element. A message without Payload is a
// key-transport element: it only moves the sessions forward.
type Encrypted struct {
	SID     uint32 // the sending device
	Keys    []Key
	IV      []byte // 12 bytes
	Payload []byte // AES-128-GCM ciphertext without the tag; nil for key transport
}

type xmlEncrypted struct {
	XMLName xml.Name `xml:"eu.siacs.conversations.axolotl encrypted"`
	Header  []struct {
		SID  *string `xml:"sid,attr"`
		Keys []struct {
			RID    *string `xml:"rid,attr"`
			PreKey *string `xml:"prekey,attr"`
			Data   string  `xml:",chardata"`
		} `xml:"eu.siacs.conversations.axolotl key"`
		IV []string `xml:"eu.siacs.conversations.axolotl iv"`
	} `xml:"eu.siacs.conversations.axolotl header"`
	Payload []string `xml:"eu.siacs.conversations.axolotl payload"`
}

// ParseEncrypted decodes an <encrypted/> element.
func ParseEncrypted(b []byte) (*Encrypted, error) {
	var x xmlEncrypted
	if err := unmarshalXML(b, &x); err != nil {
		return nil, err
	}
	if len(x.Header) != 1 {
		return nil, malformed("the encrypted message has %d headers, not one", len(x.Header))
	}
	h := &x.Header[0]
	if h.SID == nil {
		return nil, malformed("the encrypted message does not say which device sent it")
	}
	var out Encrypted
	var err error
	if out.SID, err = parseDeviceID(*h.SID); err != nil {
		return nil, err
	}
	if len(h.Keys) == 0 {
		return nil, malformed("the encrypted message has no keys")
	}
	if len(h.Keys) > maxKeys {
		return nil, malformed("the encrypted message has %d keys, more than %d", len(h.Keys), maxKeys)
	}
	for _, k := range h.Keys {
		if k.RID == nil {
			return nil, malformed("a key in the encrypted message has no recipient device")
		}
		var key Key
		if key.RID, err = parseDeviceID(*k.RID); err != nil {
			return nil, err
		}
		if k.PreKey != nil {
			switch *k.PreKey {
			case "true", "1":
				key.PreKey = true
			case "false", "0":
			default:
				return nil, malformed("the prekey flag %q is not true or false", clip(*k.PreKey))
			}
		}
		if key.Data, err = decodeB64("key", k.Data, maxKeyData); err != nil {
			return nil, err
		}
		if len(key.Data) == 0 {
			return nil, malformed("a key in the encrypted message is empty")
		}
		out.Keys = append(out.Keys, key)
	}
	if len(h.IV) != 1 {
		return nil, malformed("the encrypted message has %d IVs, not one", len(h.IV))
	}
	if out.IV, err = decodeFixed("IV", h.IV[0], ivLen); err != nil {
		return nil, err
	}
	switch len(x.Payload) {
	case 0:
	case 1:
		if out.Payload, err = decodeB64("payload", x.Payload[0], maxPayload); err != nil {
			return nil, err
		}
		if out.Payload == nil {
			out.Payload = []byte{} // an empty payload is a message, not key transport
		}
	default:
		return nil, malformed("the encrypted message has %d payloads", len(x.Payload))
	}
	return &out, nil
}

// Marshal encodes the element as an <encrypted/> element.
func (e *Encrypted) Marshal() []byte {
	var w bytes.Buffer
	w.WriteString("<encrypted xmlns='" + Namespace + "'><header sid='" + strconv.FormatUint(uint64(e.SID), 10) + "'>")
	for _, k := range e.Keys {
		w.WriteString("<key rid='" + strconv.FormatUint(uint64(k.RID), 10) + "'")
		if k.PreKey {
			w.WriteString(" prekey='true'")
		}
		w.WriteString(">" + b64(k.Data) + "</key>")
	}
	w.WriteString("<iv>" + b64(e.IV) + "</iv></header>")
	if e.Payload != nil {
		w.WriteString("<payload>" + b64(e.Payload) + "</payload>")
	}
	w.WriteString("</encrypted>")
	return w.Bytes()
}

// unmarshalXML decodes one element into v. encoding/xml does not panic on
// bad input; the recover is a second line for the fuzzers to hold us to.
func unmarshalXML(b []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = malformed("the XML could not be read")
		}
	}()
	if len(b) == 0 {
		return malformed("the XML is empty")
	}
	if err := xml.Unmarshal(b, v); err != nil {
		return malformed("the XML could not be read (%s)", clip(err.Error()))
	}
	return nil
}

func parseDeviceID(s string) (uint32, error) {
	id, err := strconv.ParseUint(s, 10, 32)
	if err != nil || id == 0 || id > maxDeviceID {
		return 0, malformed("the device id %q is not a number from 1 to %d", clip(s), maxDeviceID)
	}
	return uint32(id), nil
}

func decodeKey(what, s string) ([]byte, error) {
	k, err := decodeFixed(what, s, keyLen)
	if err != nil {
		return nil, err
	}
	if err := checkPoint(what, k); err != nil {
		return nil, err
	}
	return k, nil
}

func decodeFixed(what, s string, n int) ([]byte, error) {
	b, err := decodeB64(what, s, n)
	if err != nil {
		return nil, err
	}
	if len(b) != n {
		return nil, malformed("the %s is %d bytes, not %d", what, len(b), n)
	}
	return b, nil
}

// decodeB64 decodes standard base64, ignoring whitespace (some clients
// wrap lines) and accepting missing padding.
func decodeB64(what, s string, max int) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	if base64.StdEncoding.DecodedLen(len(s)) > max+3 {
		return nil, malformed("the %s is longer than %d bytes", what, max)
	}
	enc := base64.StdEncoding
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	b, err := enc.Strict().DecodeString(s)
	if err != nil {
		return nil, malformed("the %s is not base64", what)
	}
	if len(b) > max {
		return nil, malformed("the %s is longer than %d bytes", what, max)
	}
	return b, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// clip shortens text from the network before it goes into an error.
func clip(s string) string {
	const n = 40
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
