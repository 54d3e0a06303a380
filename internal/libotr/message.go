//go:build libotr

package libotr

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Send passes a user message to otrl_message_sending with
// OTRL_FRAGMENT_SEND_ALL and returns every wire message that must go to
// peer, in order: the data message (fragments if longer than the max
// message size), the whitespace-tagged plaintext, a query message, or the
// unchanged plaintext. In the finished state libotr sends nothing and
// reports OTRL_MSGEVENT_CONNECTION_ENDED.
func (p *Peer) Send(peer, msg string) ([]string, error) {
	cpeer, cmsg := C.CString(peer), C.CString(msg)
	defer C.free(unsafe.Pointer(cpeer))
	defer C.free(unsafe.Pointer(cmsg))
	before := len(p.outbox)
	var out *C.char
	e := C.sotto_send(p.us, C.uintptr_t(p.h), p.account, p.protocol, cpeer, cmsg, &out)
	if out != nil {
		defer C.otrl_message_free(out)
	}
	if err := gcryErr("otrl_message_sending", e); err != nil {
		return nil, err
	}
	if out == nil {
		// libotr left the message alone: it goes out as typed.
		return []string{msg}, nil
	}
	// With SEND_ALL libotr already injected *out (or its fragments).
	wire := append([]string(nil), p.outbox[before:]...)
	p.outbox = p.outbox[:before]
	return wire, nil
}

// Receive passes one wire message from peer to otrl_message_receiving.
// ignored is true for internal protocol messages (nothing to show); shown
// is what the user would see otherwise. Anything libotr answers (AKE
// replies, SMP steps, heartbeats, errors) lands in the outbox.
func (p *Peer) Receive(peer, wire string) (shown string, ignored bool, err error) {
	cpeer, cmsg := C.CString(peer), C.CString(wire)
	defer C.free(unsafe.Pointer(cpeer))
	defer C.free(unsafe.Pointer(cmsg))
	var out *C.char
	ig := C.sotto_receive(p.us, C.uintptr_t(p.h), p.account, p.protocol, cpeer, cmsg, &out)
	if out != nil {
		defer C.otrl_message_free(out)
	}
	if ig != 0 {
		return "", true, nil
	}
	if out != nil {
		return C.GoString(out), false, nil
	}
	return wire, false, nil
}

// Query is libotr's default OTR query message for our policy.
func (p *Peer) Query() string {
	q := C.otrl_proto_default_query_msg(p.account, C.OtrlPolicy(p.policy))
	if q == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(q))
	return C.GoString(q)
}

// Outbox drains the messages libotr injected for the wire, in order.
func (p *Peer) Outbox() []string {
	o := p.outbox
	p.outbox = nil
	return o
}

// Events drains the callbacks' events, in order.
func (p *Peer) Events() []Event {
	e := p.events
	p.events = nil
	return e
}

// Disconnect ends every session with peer
// (otrl_message_disconnect_all_instances): an encrypted session sends the
// Disconnected TLV into the outbox and goes back to plaintext.
func (p *Peer) Disconnect(peer string) {
	cpeer := C.CString(peer)
	defer C.free(unsafe.Pointer(cpeer))
	C.sotto_disconnect(p.us, C.uintptr_t(p.h), p.account, p.protocol, cpeer)
}

func (p *Peer) smpContext(peer string) (*C.ConnContext, error) {
	ctx := p.context(peer)
	if ctx == nil || ctx.msgstate != C.OTRL_MSGSTATE_ENCRYPTED {
		return nil, fmt.Errorf("libotr: no encrypted session with %q", peer)
	}
	return ctx, nil
}

// InitiateSMP starts SMP with peer (question "" = plain shared secret);
// the first SMP message goes to the outbox.
func (p *Peer) InitiateSMP(peer, question, secret string) error {
	ctx, err := p.smpContext(peer)
	if err != nil {
		return err
	}
	var cq *C.char
	if question != "" {
		cq = C.CString(question)
		defer C.free(unsafe.Pointer(cq))
	}
	cs := C.CBytes([]byte(secret + "\x00"))
	defer C.free(cs)
	C.sotto_smp_init(p.us, C.uintptr_t(p.h), ctx, cq, (*C.uchar)(cs), C.size_t(len(secret)))
	return nil
}

// RespondSMP answers an SMP the peer started.
func (p *Peer) RespondSMP(peer, secret string) error {
	ctx, err := p.smpContext(peer)
	if err != nil {
		return err
	}
	cs := C.CBytes([]byte(secret + "\x00"))
	defer C.free(cs)
	C.sotto_smp_respond(p.us, C.uintptr_t(p.h), ctx, (*C.uchar)(cs), C.size_t(len(secret)))
	return nil
}

// AbortSMP aborts a running SMP; the abort TLV goes to the outbox.
func (p *Peer) AbortSMP(peer string) error {
	ctx, err := p.smpContext(peer)
	if err != nil {
		return err
	}
	C.sotto_smp_abort(p.us, C.uintptr_t(p.h), ctx)
	return nil
}

// ExtraSymmetricKey sends the extra symmetric key TLV to peer
// (otrl_message_symkey, v3 only) and returns the key.
func (p *Peer) ExtraSymmetricKey(peer string, use uint32, useData []byte) ([32]byte, error) {
	var key [32]byte
	ctx, err := p.smpContext(peer)
	if err != nil {
		return key, err
	}
	ud := C.CBytes(append(useData, 0))
	defer C.free(ud)
	var ck [C.OTRL_EXTRAKEY_BYTES]C.uchar
	e := C.sotto_symkey(p.us, C.uintptr_t(p.h), ctx, C.uint(use), (*C.uchar)(ud), C.size_t(len(useData)), &ck[0])
	if err := gcryErr("otrl_message_symkey", e); err != nil {
		return key, err
	}
	copy(key[:], C.GoBytes(unsafe.Pointer(&ck[0]), C.OTRL_EXTRAKEY_BYTES))
	return key, nil
}
