//go:build libsignal

package libsignal

/*
#cgo pkg-config: libsignal-protocol-c libcrypto
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"
)

// Error codes of libsignal-protocol-c (signal_protocol.h) the tests look for.
const (
	ErrDuplicateMessage = -1001 // SG_ERR_DUPLICATE_MESSAGE
	ErrInvalidMessage   = -1005 // SG_ERR_INVALID_MESSAGE
	ErrNoSession        = -1008 // SG_ERR_NO_SESSION
)

// Error is a libsignal-protocol-c error code.
type Error struct {
	Op   string
	Code int
}

func (e *Error) Error() string {
	return fmt.Sprintf("libsignal-protocol-c: %s: error %d", e.Op, e.Code)
}

// IsCode reports whether err is a libsignal-protocol-c error with code.
func IsCode(err error, code int) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

func check(op string, rc C.int) error {
	if rc < 0 {
		return &Error{Op: op, Code: int(rc)}
	}
	return nil
}

// Address names one device of one user.
type Address struct {
	JID    string
	Device uint32
}

// Peer is one OMEMO device run by libsignal-protocol-c, with the
// payload cipher (AES-128-GCM) done by OpenSSL and the XML written and
// read by this package, not by package omemo. It is not safe for
// concurrent use.
type Peer struct {
	p      *C.sotto_peer
	JID    string
	Device uint32
}

// NewPeer makes a device with a new identity, signed prekey 1 and
// prekeys 1..npre.
func NewPeer(jid string, device uint32, npre int) (*Peer, error) {
	p := C.sotto_peer_new(C.int32_t(device), C.unsigned(npre))
	if p == nil {
		return nil, errors.New("libsignal-protocol-c: creating a peer failed")
	}
	return &Peer{p: p, JID: jid, Device: device}, nil
}

// Close frees the C state.
func (p *Peer) Close() {
	if p.p != nil {
		C.sotto_peer_free(p.p)
		p.p = nil
	}
}

// Addr is the peer's own address.
func (p *Peer) Addr() Address { return Address{JID: p.JID, Device: p.Device} }

// IdentityKey is the 33-byte public identity key.
func (p *Peer) IdentityKey() ([]byte, error) {
	var out [33]byte
	if err := check("identity", C.sotto_peer_identity(p.p, (*C.uint8_t)(&out[0]))); err != nil {
		return nil, err
	}
	return out[:], nil
}

// PreKeyCount is how many one-time prekeys the peer has left.
func (p *Peer) PreKeyCount() int { return int(C.sotto_peer_prekey_count(p.p)) }

// BundleXML is the peer's bundle as profanity publishes it.
func (p *Peer) BundleXML() ([]byte, error) {
	ik, err := p.IdentityKey()
	if err != nil {
		return nil, err
	}
	var spkID C.uint32_t
	var spk [33]byte
	var sig [64]byte
	if err := check("signed prekey", C.sotto_peer_signed_prekey(p.p, &spkID, (*C.uint8_t)(&spk[0]), (*C.uint8_t)(&sig[0]))); err != nil {
		return nil, err
	}
	b64 := base64.StdEncoding.EncodeToString
	var w bytes.Buffer
	fmt.Fprintf(&w, `<bundle xmlns="eu.siacs.conversations.axolotl"><signedPreKeyPublic signedPreKeyId="%d">%s</signedPreKeyPublic>`, spkID, b64(spk[:]))
	fmt.Fprintf(&w, `<signedPreKeySignature>%s</signedPreKeySignature><identityKey>%s</identityKey><prekeys>`, b64(sig[:]), b64(ik))
	for i := 0; i < p.PreKeyCount(); i++ {
		var id C.uint32_t
		var k [33]byte
		if err := check("prekey", C.sotto_peer_prekey(p.p, C.int(i), &id, (*C.uint8_t)(&k[0]))); err != nil {
			return nil, err
		}
		fmt.Fprintf(&w, `<preKeyPublic preKeyId="%d">%s</preKeyPublic>`, id, b64(k[:]))
	}
	w.WriteString(`</prekeys></bundle>`)
	return w.Bytes(), nil
}

type xmlBundle struct {
	XMLName xml.Name `xml:"eu.siacs.conversations.axolotl bundle"`
	SPK     struct {
		ID   uint32 `xml:"signedPreKeyId,attr"`
		Data string `xml:",chardata"`
	} `xml:"signedPreKeyPublic"`
	Sig     string `xml:"signedPreKeySignature"`
	IK      string `xml:"identityKey"`
	PreKeys []struct {
		ID   uint32 `xml:"preKeyId,attr"`
		Data string `xml:",chardata"`
	} `xml:"prekeys>preKeyPublic"`
}

func unb64(s string, n int) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || (n > 0 && len(b) != n) {
		return nil, fmt.Errorf("harness: bad base64 field (%d bytes, want %d)", len(b), n)
	}
	return b, nil
}

// BuildSession starts a session with a device from its bundle XML, using
// the prekey at index pick (0 if out of range).
func (p *Peer) BuildSession(to Address, bundleXML []byte, pick int) error {
	var b xmlBundle
	if err := xml.Unmarshal(bundleXML, &b); err != nil {
		return fmt.Errorf("harness: bundle: %w", err)
	}
	spk, err := unb64(b.SPK.Data, 33)
	if err != nil {
		return err
	}
	sig, err := unb64(b.Sig, 64)
	if err != nil {
		return err
	}
	ik, err := unb64(b.IK, 33)
	if err != nil {
		return err
	}
	var pkID uint32
	pk := make([]byte, 33)
	if len(b.PreKeys) > 0 {
		if pick < 0 || pick >= len(b.PreKeys) {
			pick = 0
		}
		if pk, err = unb64(b.PreKeys[pick].Data, 33); err != nil {
			return err
		}
		pkID = b.PreKeys[pick].ID
	}
	name := C.CString(to.JID)
	defer C.free(unsafe.Pointer(name))
	return check("build session", C.sotto_peer_build(p.p, name, C.int32_t(to.Device), C.uint32_t(pkID),
		(*C.uint8_t)(&pk[0]), C.uint32_t(b.SPK.ID), (*C.uint8_t)(&spk[0]), (*C.uint8_t)(&sig[0]), (*C.uint8_t)(&ik[0])))
}

// HasSession reports whether the peer has a session with the device.
func (p *Peer) HasSession(a Address) bool {
	name := C.CString(a.JID)
	defer C.free(unsafe.Pointer(name))
	return C.sotto_peer_has_session(p.p, name, C.int32_t(a.Device)) == 1
}

// EncryptKey runs libsignal's session_cipher_encrypt for one device.
func (p *Peer) EncryptKey(to Address, msg []byte) (data []byte, prekey bool, err error) {
	name := C.CString(to.JID)
	defer C.free(unsafe.Pointer(name))
	var out *C.uint8_t
	var n C.size_t
	var pk C.int
	rc := C.sotto_peer_encrypt(p.p, name, C.int32_t(to.Device), (*C.uint8_t)(unsafe.SliceData(msg)), C.size_t(len(msg)), &out, &n, &pk)
	if err := check("encrypt", rc); err != nil {
		return nil, false, err
	}
	defer C.sotto_free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(n)), pk == 1, nil
}

// DecryptKey runs libsignal's decrypt for a (PreKey)SignalMessage.
func (p *Peer) DecryptKey(from Address, data []byte, prekey bool) ([]byte, error) {
	name := C.CString(from.JID)
	defer C.free(unsafe.Pointer(name))
	var out *C.uint8_t
	var n C.size_t
	pk := C.int(0)
	if prekey {
		pk = 1
	}
	if len(data) == 0 {
		data = []byte{0}[:0:1] // never hand C a nil pointer
	}
	rc := C.sotto_peer_decrypt(p.p, name, C.int32_t(from.Device), (*C.uint8_t)(unsafe.SliceData(data)), C.size_t(len(data)), pk, &out, &n)
	if err := check("decrypt", rc); err != nil {
		return nil, err
	}
	defer C.sotto_free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(n)), nil
}

// Encrypt makes an OMEMO <encrypted/> element for the devices, as
// profanity does: AES-128-GCM (OpenSSL), key ‖ tag through each session.
func (p *Peer) Encrypt(plaintext []byte, to ...Address) ([]byte, error) {
	var key, iv [16]byte
	if C.sotto_random((*C.uint8_t)(&key[0]), 16) != 0 || C.sotto_random((*C.uint8_t)(&iv[0]), 12) != 0 {
		return nil, errors.New("harness: no randomness")
	}
	ct := make([]byte, len(plaintext)+1)
	var tag [16]byte
	if C.sotto_gcm_seal((*C.uint8_t)(&key[0]), (*C.uint8_t)(&iv[0]), (*C.uint8_t)(unsafe.SliceData(append(plaintext[:len(plaintext):len(plaintext)], 0))),
		C.size_t(len(plaintext)), (*C.uint8_t)(&ct[0]), (*C.uint8_t)(&tag[0])) != 0 {
		return nil, errors.New("harness: AES-GCM failed")
	}
	ct = ct[:len(plaintext)]
	keyMat := append(key[:16:16], tag[:]...)
	b64 := base64.StdEncoding.EncodeToString
	var w bytes.Buffer
	fmt.Fprintf(&w, `<encrypted xmlns="eu.siacs.conversations.axolotl"><header sid="%d">`, p.Device)
	for _, a := range to {
		data, pk, err := p.EncryptKey(a, keyMat)
		if err != nil {
			return nil, err
		}
		attr := ""
		if pk {
			attr = ` prekey="true"`
		}
		fmt.Fprintf(&w, `<key rid="%d"%s>%s</key>`, a.Device, attr, b64(data))
	}
	fmt.Fprintf(&w, `<iv>%s</iv></header><payload>%s</payload></encrypted>`, b64(iv[:12]), b64(ct))
	return w.Bytes(), nil
}

type xmlEncrypted struct {
	XMLName xml.Name `xml:"eu.siacs.conversations.axolotl encrypted"`
	Header  struct {
		SID  uint32 `xml:"sid,attr"`
		Keys []struct {
			RID    uint32 `xml:"rid,attr"`
			PreKey string `xml:"prekey,attr"`
			Data   string `xml:",chardata"`
		} `xml:"key"`
		IV string `xml:"iv"`
	} `xml:"header"`
	Payload *string `xml:"payload"`
}

// Decrypt reads an <encrypted/> element from jid and returns the text.
func (p *Peer) Decrypt(jid string, x []byte) ([]byte, error) {
	var e xmlEncrypted
	if err := xml.Unmarshal(x, &e); err != nil {
		return nil, fmt.Errorf("harness: encrypted: %w", err)
	}
	iv, err := unb64(e.Header.IV, 12)
	if err != nil {
		return nil, err
	}
	for _, k := range e.Header.Keys {
		if k.RID != p.Device {
			continue
		}
		data, err := unb64(k.Data, 0)
		if err != nil {
			return nil, err
		}
		pk, _ := strconv.ParseBool(k.PreKey)
		keyMat, err := p.DecryptKey(Address{JID: jid, Device: e.Header.SID}, data, pk)
		if err != nil {
			return nil, err
		}
		if len(keyMat) != 32 {
			return nil, fmt.Errorf("harness: key material is %d bytes, not 32", len(keyMat))
		}
		if e.Payload == nil {
			return nil, nil
		}
		ct, err := unb64(*e.Payload, 0)
		if err != nil {
			return nil, err
		}
		pt := make([]byte, len(ct)+1)
		if C.sotto_gcm_open((*C.uint8_t)(&keyMat[0]), (*C.uint8_t)(&iv[0]), (*C.uint8_t)(unsafe.SliceData(append(ct[:len(ct):len(ct)], 0))), C.size_t(len(ct)),
			(*C.uint8_t)(&keyMat[16]), (*C.uint8_t)(&pt[0])) != 0 {
			return nil, errors.New("harness: the payload does not authenticate")
		}
		return pt[:len(ct)], nil
	}
	return nil, errors.New("harness: no key for this device")
}
