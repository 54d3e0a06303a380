package otr

// Policies and configuration, spec §"Policies" (../shared/spec/otr-protocol-v3.html).

import (
	"crypto/rand"
	"io"
	"math/big"
	"time"
)

// Policy is a set of the spec's policy flags. ALLOW_V1 does not exist here:
// version 1 is never spoken, only recognised and ignored.
type Policy uint16

// Policy flags, one per spec flag.
const (
	AllowV2 Policy = 1 << iota
	AllowV3
	RequireEncryption
	SendWhitespaceTag
	WhitespaceStartAKE
	ErrorStartAKE
)

// The spec's classic policy combinations (without version 1).
const (
	PolicyManual        = AllowV2 | AllowV3
	PolicyOpportunistic = AllowV2 | AllowV3 | SendWhitespaceTag | WhitespaceStartAKE | ErrorStartAKE
	PolicyAlways        = AllowV2 | AllowV3 | RequireEncryption | WhitespaceStartAKE | ErrorStartAKE
)

func (p Policy) has(f Policy) bool { return p&f == f }

// allows reports whether protocol version v may be used under p.
func (p Policy) allows(v int) bool {
	switch v {
	case 2:
		return p.has(AllowV2)
	case 3:
		return p.has(AllowV3)
	}
	return false
}

// enabled reports whether OTR is on at all; with no version allowed the
// spec says no special handling of messages is done.
func (p Policy) enabled() bool { return p&(AllowV2|AllowV3) != 0 }

// defaultHeartbeat is libotr's HEARTBEAT_INTERVAL.
const defaultHeartbeat = 60 * time.Second

// Config holds what a Conversation needs from the outside world.
type Config struct {
	Key    *PrivateKey
	Policy Policy
	// Rand is the source of all randomness (D-H exponents, AES keys, SMP).
	Rand io.Reader
	// Now is the clock, used only for heartbeats.
	Now func() time.Time
	// Sign makes a DSA signature of digest; nil means the key's own DSA
	// signing (dsasign.go: crypto/dsa's algorithm, nonce from crypto/rand).
	// The digest is the 32-byte SHA256-HMAC the spec signs; it is passed whole
	// (not truncated), and DSA arithmetic reduces it mod q, which is what
	// libgcrypt does with the raw MPI libotr hands it.
	Sign func(rand io.Reader, k *PrivateKey, digest []byte) (r, s *big.Int, err error)
	// InstanceTag is ours; 0 picks a random one >= 0x100 at NewConversation.
	InstanceTag uint32
	// FragmentSize is the maximum length of one wire message; 0 never fragments.
	FragmentSize int
	// HeartbeatInterval is how long we may stay silent after receiving a data
	// message before sending an empty one to rotate keys; 0 means 60 s.
	HeartbeatInterval time.Duration
}

// NewConfig returns a production configuration: crypto/rand and the real clock.
func NewConfig(key *PrivateKey, policy Policy) Config {
	return Config{Key: key, Policy: policy, Rand: rand.Reader, Now: time.Now}
}

func (cfg *Config) sign(digest []byte) (r, s *big.Int, err error) {
	if cfg.Sign != nil {
		return cfg.Sign(cfg.Rand, cfg.Key, digest)
	}
	return cfg.Key.signDSA(digest)
}

func (cfg *Config) heartbeat() time.Duration {
	if cfg.HeartbeatInterval > 0 {
		return cfg.HeartbeatInterval
	}
	return defaultHeartbeat
}
