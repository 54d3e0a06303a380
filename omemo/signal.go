package omemo

// Parsing of libsignal's wire messages with every length checked first.
//
// go.mau.fi/libsignal v0.2.1 panics on malformed input (FACTS.md, OMEMO
// trap 3): an empty PreKeySignalMessage (index out of range on byte 0),
// an empty ratchet or base key (ecc.DecodePoint reads bytes[0] and does
// not check the length). So the protobuf is decoded with the library's
// serializer, each field is validated here, and only then is the
// library's message object built; all of it runs under recover.

import (
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/serialize"
	"golang.org/x/crypto/curve25519"
)

// messageVersion is the first byte of every version-3 Signal message:
// (message version << 4) | current version.
const messageVersion = 3

// guard runs f and turns a panic into an error.
func guard(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = malformed("the %s could not be read", what)
		}
	}()
	return f()
}

func parseSignalMessage(ser *serialize.Serializer, b []byte) (m *protocol.SignalMessage, err error) {
	err = guard("Signal message", func() error {
		// version byte, at least a ratchet key and a counter, the 8-byte MAC
		if len(b) < 1+keyLen+protocol.MacLength || b[0]>>4 != messageVersion {
			return malformed("the Signal message is too short or not version 3")
		}
		st, err := ser.SignalMessage.Deserialize(b)
		if err != nil {
			return malformed("the Signal message could not be decoded")
		}
		if err := checkPoint("ratchet key", st.RatchetKey); err != nil {
			return err
		}
		// AES-256-CBC with PKCS#7 padding: whole blocks, at least one.
		if len(st.CipherText) == 0 || len(st.CipherText)%16 != 0 {
			return malformed("the Signal message's ciphertext is not whole blocks")
		}
		if len(st.Mac) != protocol.MacLength {
			return malformed("the Signal message's MAC is not %d bytes", protocol.MacLength)
		}
		m, err = protocol.NewSignalMessageFromStruct(st, ser.SignalMessage)
		if err != nil {
			return malformed("the Signal message is not valid")
		}
		return nil
	})
	return m, err
}

func parsePreKeySignalMessage(ser *serialize.Serializer, b []byte) (m *protocol.PreKeySignalMessage, err error) {
	err = guard("PreKeySignalMessage", func() error {
		if len(b) < 2 || b[0]>>4 != messageVersion {
			return malformed("the PreKeySignalMessage is too short or not version 3")
		}
		st, err := ser.PreKeySignalMessage.Deserialize(b)
		if err != nil {
			return malformed("the PreKeySignalMessage could not be decoded")
		}
		if err := checkPoint("base key", st.BaseKey); err != nil {
			return err
		}
		if err := checkPoint("identity key", st.IdentityKey); err != nil {
			return err
		}
		if st.PreKeyID != nil && !st.PreKeyID.IsEmpty && st.PreKeyID.Value > maxPreKeyID {
			return malformed("the PreKeySignalMessage names prekey %d, out of range", st.PreKeyID.Value)
		}
		if _, err := parseSignalMessage(ser, st.Message); err != nil {
			return err
		}
		m, err = protocol.NewPreKeySignalMessageFromStruct(st, ser.PreKeySignalMessage, ser.SignalMessage)
		if err != nil {
			return malformed("the PreKeySignalMessage is not valid")
		}
		return nil
	})
	return m, err
}

// checkPoint accepts a 33-byte Curve25519 public key (0x05 ‖ 32 bytes)
// that is not of small order. A small-order key would make a
// Diffie-Hellman result the attacker knows (all zeros); X25519 with any
// clamped scalar maps exactly those keys to zero, which curve25519.X25519
// reports as an error.
func checkPoint(what string, k []byte) error {
	if len(k) != keyLen || k[0] != djbType {
		return malformed("the %s is not a 33-byte Curve25519 key", what)
	}
	if _, err := curve25519.X25519(probeScalar[:], k[1:]); err != nil {
		return malformed("the %s is a weak key", what)
	}
	return nil
}

// probeScalar is any scalar: clamping makes it a multiple of the
// cofactor, so low-order points go to zero whatever its value.
var probeScalar = [32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}
