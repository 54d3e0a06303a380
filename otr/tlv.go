package otr

// TLV records carried after the NUL in a data message's plaintext, spec
// §"Data Message" / "TLV records".

const (
	tlvPadding      uint16 = 0
	tlvDisconnected uint16 = 1
	tlvSMP1         uint16 = 2
	tlvSMP2         uint16 = 3
	tlvSMP3         uint16 = 4
	tlvSMP4         uint16 = 5
	tlvSMPAbort     uint16 = 6
	tlvSMP1Q        uint16 = 7
	tlvExtraSymKey  uint16 = 8
)

type tlv struct {
	typ   uint16
	value []byte
}

func appendTLV(b []byte, t tlv) []byte {
	b = appendShort(b, t.typ)
	b = appendShort(b, uint16(len(t.value)))
	return append(b, t.value...)
}

// parseTLVs parses zero or more TLVs filling all of b. A truncated record
// makes the whole list invalid.
func parseTLVs(b []byte) ([]tlv, bool) {
	var out []tlv
	for len(b) > 0 {
		typ, rest, ok := readShort(b)
		if !ok {
			return nil, false
		}
		n, rest, ok := readShort(rest)
		if !ok || int(n) > len(rest) {
			return nil, false
		}
		out = append(out, tlv{typ: typ, value: rest[:n]})
		b = rest[n:]
	}
	return out, true
}
