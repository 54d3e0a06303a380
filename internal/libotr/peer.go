//go:build libotr

package libotr

/*
#cgo pkg-config: libotr
#cgo LDFLAGS: -lgcrypt
#include "shim.h"
*/
import "C"

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Policy flags, re-exported from libotr's proto.h.
const (
	PolicyAllowV1            uint32 = C.OTRL_POLICY_ALLOW_V1
	PolicyAllowV2            uint32 = C.OTRL_POLICY_ALLOW_V2
	PolicyAllowV3            uint32 = C.OTRL_POLICY_ALLOW_V3
	PolicyRequireEncryption  uint32 = C.OTRL_POLICY_REQUIRE_ENCRYPTION
	PolicySendWhitespaceTag  uint32 = C.OTRL_POLICY_SEND_WHITESPACE_TAG
	PolicyWhitespaceStartAKE uint32 = C.OTRL_POLICY_WHITESPACE_START_AKE
	PolicyErrorStartAKE      uint32 = C.OTRL_POLICY_ERROR_START_AKE
	PolicyNever              uint32 = C.OTRL_POLICY_NEVER
	PolicyManual             uint32 = PolicyAllowV2 | PolicyAllowV3
	PolicyOpportunistic      uint32 = PolicyManual | PolicySendWhitespaceTag |
		PolicyWhitespaceStartAKE | PolicyErrorStartAKE
	PolicyAlways uint32 = PolicyManual | PolicyRequireEncryption |
		PolicyWhitespaceStartAKE | PolicyErrorStartAKE
)

var (
	initOnce sync.Once
	initErr  error
)

// Version is the version string of the linked libotr.
func Version() string { return C.GoString(C.otrl_version()) }

// Peer is one libotr user state holding one account's key and instance tag.
// It is not safe for concurrent use: libotr's callbacks run on the calling
// goroutine and append to the Peer's outbox and events.
type Peer struct {
	us        C.OtrlUserState
	h         cgo.Handle
	account   *C.char
	protocol  *C.char
	acctName  string
	policy    uint32
	maxSize   int
	outbox    []string
	events    []Event
	keyFile   []byte // the otr.private_key text our key came from
	dir       string // private temp dir for key files
	closed    bool
	gcryptErr error // first error seen in a callback (instag creation)
}

// NewPeer makes a user state for account on protocol (e.g. "prpl-jabber")
// with policy PolicyManual and no fragmentation. It has no key yet: call
// GenerateKey, ReadPrivateKeyFile or SetPrivateKey.
func NewPeer(account, protocol string) (*Peer, error) {
	initOnce.Do(func() {
		if C.sotto_init() != 0 {
			initErr = errors.New("libotr: otrl_init failed (header/library version mismatch)")
		}
	})
	if initErr != nil {
		return nil, initErr
	}
	dir, err := os.MkdirTemp("", "libotr-peer-")
	if err != nil {
		return nil, fmt.Errorf("libotr: %w", err)
	}
	p := &Peer{
		us:       C.otrl_userstate_create(),
		account:  C.CString(account),
		protocol: C.CString(protocol),
		acctName: account,
		policy:   PolicyManual,
		dir:      dir,
	}
	p.h = cgo.NewHandle(p)
	if err := gcryErr("otrl_instag_generate", C.sotto_instag_generate(p.us, p.account, p.protocol)); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Close frees the user state (contexts, keys, instance tags) and the
// temp directory.
func (p *Peer) Close() {
	if p.closed {
		return
	}
	p.closed = true
	C.otrl_userstate_free(p.us)
	p.h.Delete()
	C.free(unsafe.Pointer(p.account))
	C.free(unsafe.Pointer(p.protocol))
	os.RemoveAll(p.dir)
}

// Account is the account name given to NewPeer.
func (p *Peer) Account() string { return p.acctName }

// SetPolicy sets the OTRL_POLICY_* flags returned by the policy callback.
func (p *Peer) SetPolicy(flags uint32) { p.policy = flags }

// SetMaxMessageSize sets what the max_message_size callback returns; libotr
// fragments any wire message longer than n (0 = never).
func (p *Peer) SetMaxMessageSize(n int) { p.maxSize = n }

// InstanceTag is our instance tag for the account.
func (p *Peer) InstanceTag() uint32 {
	t := C.otrl_instag_find(p.us, p.account, p.protocol)
	if t == nil {
		return 0
	}
	return uint32(t.instag)
}

// SetInstanceTag replaces our instance tag, as a client restoring its
// otr.instance_tags file after a restart does.
func (p *Peer) SetInstanceTag(tag uint32) error {
	if old := C.otrl_instag_find(p.us, p.account, p.protocol); old != nil {
		C.otrl_instag_forget(old)
	}
	path := filepath.Join(p.dir, "instance_tags")
	line := fmt.Sprintf("%s\t%s\t%08x\n", p.acctName, C.GoString(p.protocol), tag)
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		return fmt.Errorf("libotr: %w", err)
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	if err := gcryErr("otrl_instag_read", C.otrl_instag_read(p.us, cpath)); err != nil {
		return err
	}
	if got := p.InstanceTag(); got != tag {
		return fmt.Errorf("libotr: instance tag is %#x after loading %#x", got, tag)
	}
	return nil
}

// GenerateKey makes a new DSA key with otrl_privkey_generate.
func (p *Peer) GenerateKey() error {
	return p.GenerateKeyFile(filepath.Join(p.dir, "generated.private_key"))
}

// GenerateKeyFile makes a new DSA key with otrl_privkey_generate, which
// writes libotr's otr.private_key S-expression file to path.
func (p *Peer) GenerateKeyFile(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	if err := gcryErr("otrl_privkey_generate", C.otrl_privkey_generate(p.us, cpath, p.account, p.protocol)); err != nil {
		return err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("libotr: %w", err)
	}
	p.keyFile = b
	return nil
}

// ReadPrivateKeyFile loads every key in an otr.private_key file.
func (p *Peer) ReadPrivateKeyFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("libotr: %w", err)
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	if err := gcryErr("otrl_privkey_read", C.otrl_privkey_read(p.us, cpath)); err != nil {
		return err
	}
	if C.otrl_privkey_find(p.us, p.account, p.protocol) == nil {
		return fmt.Errorf("libotr: %s has no key for %q", path, p.acctName)
	}
	p.keyFile = b
	return nil
}

// SetPrivateKey loads otr.private_key text (as from PrivateKeyFile).
func (p *Peer) SetPrivateKey(file []byte) error {
	path := filepath.Join(p.dir, "set.private_key")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		return fmt.Errorf("libotr: %w", err)
	}
	return p.ReadPrivateKeyFile(path)
}

// PrivateKeyFile is the otr.private_key text the current key came from.
func (p *Peer) PrivateKeyFile() []byte { return append([]byte(nil), p.keyFile...) }

// WritePrivateKeyFile writes the otr.private_key text of the current key.
func (p *Peer) WritePrivateKeyFile(path string) error {
	if p.keyFile == nil {
		return errors.New("libotr: no private key")
	}
	if err := os.WriteFile(path, p.keyFile, 0o600); err != nil {
		return fmt.Errorf("libotr: %w", err)
	}
	return nil
}

// ReadFingerprintsFile loads an otr.fingerprints file.
func (p *Peer) ReadFingerprintsFile(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	return gcryErr("otrl_privkey_read_fingerprints", C.otrl_privkey_read_fingerprints(p.us, cpath, nil, nil))
}

// WriteFingerprintsFile writes every known peer fingerprint and its trust.
func (p *Peer) WriteFingerprintsFile(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	return gcryErr("otrl_privkey_write_fingerprints", C.otrl_privkey_write_fingerprints(p.us, cpath))
}

// Fingerprint is our key's fingerprint as 40 lower-case hex digits, or ""
// without a key.
func (p *Peer) Fingerprint() string {
	var hash [20]C.uchar
	if C.otrl_privkey_fingerprint_raw(p.us, &hash[0], p.account, p.protocol) == nil {
		return ""
	}
	return hex.EncodeToString(C.GoBytes(unsafe.Pointer(&hash[0]), 20))
}

// context is the peer's most secure instance (or the master context), or
// nil when we never exchanged a message with peer.
func (p *Peer) context(peer string) *C.ConnContext {
	cpeer := C.CString(peer)
	defer C.free(unsafe.Pointer(cpeer))
	return C.sotto_best_context(p.us, p.account, p.protocol, cpeer)
}

// PeerFingerprint is the fingerprint (40 lower-case hex digits) of the key
// the session with peer uses, or of the first key on record; "" if none.
func (p *Peer) PeerFingerprint(peer string) string {
	fp := C.sotto_peer_fingerprint(p.context(peer))
	if fp == nil || fp.fingerprint == nil {
		return ""
	}
	return hex.EncodeToString(C.GoBytes(unsafe.Pointer(fp.fingerprint), 20))
}

// SetTrust sets the trust string ("" = untrusted, "verified", "smp", ...)
// of peer's current fingerprint.
func (p *Peer) SetTrust(peer, trust string) error {
	fp := C.sotto_peer_fingerprint(p.context(peer))
	if fp == nil {
		return fmt.Errorf("libotr: no fingerprint known for %q", peer)
	}
	ct := C.CString(trust)
	defer C.free(unsafe.Pointer(ct))
	C.otrl_context_set_trust(fp, ct)
	return nil
}

// Trust is the trust string of peer's current fingerprint ("" if none).
func (p *Peer) Trust(peer string) string {
	fp := C.sotto_peer_fingerprint(p.context(peer))
	if fp == nil || fp.trust == nil {
		return ""
	}
	return C.GoString(fp.trust)
}

// MessageState is "plaintext", "encrypted" or "finished" for peer's most
// secure instance.
func (p *Peer) MessageState(peer string) string {
	ctx := p.context(peer)
	if ctx == nil {
		return "plaintext"
	}
	switch ctx.msgstate {
	case C.OTRL_MSGSTATE_ENCRYPTED:
		return "encrypted"
	case C.OTRL_MSGSTATE_FINISHED:
		return "finished"
	default:
		return "plaintext"
	}
}

// AuthState is libotr's AKE state with peer's most secure instance:
// "none", "awaiting_dhkey", "awaiting_revealsig", "awaiting_sig", "v1_setup".
func (p *Peer) AuthState(peer string) string {
	ctx := p.context(peer)
	if ctx == nil {
		return "none"
	}
	switch ctx.auth.authstate {
	case C.OTRL_AUTHSTATE_AWAITING_DHKEY:
		return "awaiting_dhkey"
	case C.OTRL_AUTHSTATE_AWAITING_REVEALSIG:
		return "awaiting_revealsig"
	case C.OTRL_AUTHSTATE_AWAITING_SIG:
		return "awaiting_sig"
	case C.OTRL_AUTHSTATE_V1_SETUP:
		return "v1_setup"
	}
	return "none"
}

// ProtocolVersion is the OTR version of the session with peer (0 if none).
func (p *Peer) ProtocolVersion(peer string) int {
	ctx := p.context(peer)
	if ctx == nil || ctx.msgstate == C.OTRL_MSGSTATE_PLAINTEXT {
		return 0
	}
	return int(ctx.protocol_version)
}

// PeerInstanceTag is the instance tag of peer's most secure instance.
func (p *Peer) PeerInstanceTag(peer string) uint32 {
	ctx := p.context(peer)
	if ctx == nil {
		return 0
	}
	return uint32(ctx.their_instance)
}

// SSID is the secure session id of the session with peer and whether our
// user reads the first half in bold (OTRL_SESSIONID_FIRST_HALF_BOLD).
func (p *Peer) SSID(peer string) (ssid []byte, firstHalfBold bool) {
	ctx := p.context(peer)
	if ctx == nil || ctx.msgstate != C.OTRL_MSGSTATE_ENCRYPTED {
		return nil, false
	}
	ssid = C.GoBytes(unsafe.Pointer(&ctx.sessionid[0]), C.int(ctx.sessionid_len))
	return ssid, ctx.sessionid_half == C.OTRL_SESSIONID_FIRST_HALF_BOLD
}

func gcryErr(op string, e C.gcry_error_t) error {
	if e == 0 {
		return nil
	}
	return fmt.Errorf("libotr: %s: %s", op, C.GoString(C.gcry_strerror(e)))
}
