package omemo

import (
	"encoding/hex"
	"errors"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Fingerprint is a device identity key's fingerprint as Conversations,
// Dino and profanity show it: the 32-byte Curve25519 key without the
// 0x05 type byte, in 64 lowercase hex digits. It returns "" for
// anything that is not a 33-byte key (or a bare 32-byte one).
func Fingerprint(identityKey []byte) string {
	switch {
	case len(identityKey) == keyLen && identityKey[0] == djbType:
		return hex.EncodeToString(identityKey[1:])
	case len(identityKey) == keyLen-1:
		return hex.EncodeToString(identityKey)
	}
	return ""
}

// ErrBadFingerprint is returned for text that is not a fingerprint.
var ErrBadFingerprint = errors.New("omemo: that is not an OMEMO fingerprint (64 hex digits)")

// ParseFingerprint reads a fingerprint typed or pasted by a user: 64
// hex digits in any case, spaces, colons and dashes ignored. It returns
// the 32 key bytes.
func ParseFingerprint(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', ':', '-':
			return -1
		}
		return r
	}, s)
	if len(s) != 64 {
		return nil, ErrBadFingerprint
	}
	b, err := hex.DecodeString(strings.ToLower(s))
	if err != nil {
		return nil, ErrBadFingerprint
	}
	return b, nil
}

// FormatFingerprint groups a fingerprint in eight blocks of eight digits,
// for reading aloud.
func FormatFingerprint(fp string) string {
	var b strings.Builder
	for i := 0; i < len(fp); i += 8 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fp[i:min(i+8, len(fp))])
	}
	return b.String()
}

// DeviceFingerprint is one device in a verification URI.
type DeviceFingerprint struct {
	Device      uint32
	Fingerprint string // 64 lowercase hex digits
}

// BuildURI makes the xmpp: URI Conversations shows as a QR code and
// scans to verify devices: xmpp:user@host?omemo-sid-<id>=<fp>;omemo-sid-…
// (devices in id order).
func BuildURI(jid string, devices []DeviceFingerprint) string {
	var b strings.Builder
	b.WriteString("xmpp:")
	b.WriteString(escapeJID(jid))
	ds := append([]DeviceFingerprint(nil), devices...)
	sort.Slice(ds, func(i, j int) bool { return ds[i].Device < ds[j].Device })
	for i, d := range ds {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte(';')
		}
		b.WriteString("omemo-sid-" + strconv.FormatUint(uint64(d.Device), 10) + "=" + d.Fingerprint)
	}
	return b.String()
}

// ErrBadURI is returned for text that is not an xmpp: URI.
var ErrBadURI = errors.New("omemo: that is not an xmpp: address with OMEMO fingerprints")

// ParseURI reads an xmpp: URI and the OMEMO device fingerprints in its
// query (omemo-sid-<id>=<fp>, separated by ';' or '&'). Other query
// parts (an action such as "message", ibr=y, …) are ignored; a device
// named twice keeps its first fingerprint. The JID is returned as
// written, percent-decoded; the caller normalises it.
func ParseURI(uri string) (jid string, devices []DeviceFingerprint, err error) {
	rest, ok := strings.CutPrefix(uri, "xmpp:")
	if !ok {
		if len(uri) >= 5 && strings.EqualFold(uri[:5], "xmpp:") {
			rest = uri[5:]
		} else {
			return "", nil, ErrBadURI
		}
	}
	if strings.HasPrefix(rest, "//") {
		return "", nil, ErrBadURI // an authority component: not what Conversations shows
	}
	rest, _, _ = strings.Cut(rest, "#")
	path, query, _ := strings.Cut(rest, "?")
	jid, err = url.PathUnescape(path)
	if err != nil || jid == "" || strings.ContainsAny(jid, " \t\r\n/") {
		return "", nil, ErrBadURI
	}
	seen := map[uint32]bool{}
	for _, part := range strings.FieldsFunc(query, func(r rune) bool { return r == ';' || r == '&' }) {
		k, v, ok := strings.Cut(part, "=")
		idText, isDevice := strings.CutPrefix(k, "omemo-sid-")
		if !ok || !isDevice {
			continue
		}
		id, err := parseDeviceID(idText)
		if err != nil {
			return "", nil, ErrBadURI
		}
		fp, err := ParseFingerprint(v)
		if err != nil {
			return "", nil, ErrBadURI
		}
		if !seen[id] {
			seen[id] = true
			devices = append(devices, DeviceFingerprint{Device: id, Fingerprint: hex.EncodeToString(fp)})
		}
	}
	return jid, devices, nil
}

// escapeJID percent-encodes what may not stand in an xmpp: URI's path.
func escapeJID(jid string) string {
	const keep = "-._~@!$'()*+,=:"
	var b strings.Builder
	for i := 0; i < len(jid); i++ {
		c := jid[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}
