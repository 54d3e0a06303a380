//go:build libotr

package libotr

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"unsafe"
)

// EventKind says which libotr callback produced an Event.
type EventKind int

// Event kinds: one per ui-ops callback, SMP events split by OtrlSMPEvent.
const (
	EventGoneSecure      EventKind = iota + 1 // gone_secure; Version set
	EventGoneInsecure                         // gone_insecure
	EventStillSecure                          // still_secure; IsReply set
	EventNewFingerprint                       // new_fingerprint
	EventSymKey                               // received_symkey; Use, UseData, Key set
	EventMessage                              // handle_msg_event; Msg, Text, Err set
	EventSMPError                             // OTRL_SMPEVENT_ERROR
	EventSMPAbort                             // OTRL_SMPEVENT_ABORT
	EventSMPCheated                           // OTRL_SMPEVENT_CHEATED
	EventSMPAskForAnswer                      // OTRL_SMPEVENT_ASK_FOR_ANSWER; Question set
	EventSMPAskForSecret                      // OTRL_SMPEVENT_ASK_FOR_SECRET
	EventSMPInProgress                        // OTRL_SMPEVENT_IN_PROGRESS
	EventSMPSuccess                           // OTRL_SMPEVENT_SUCCESS
	EventSMPFailure                           // OTRL_SMPEVENT_FAILURE
)

var eventNames = map[EventKind]string{
	EventGoneSecure: "gone_secure", EventGoneInsecure: "gone_insecure",
	EventStillSecure: "still_secure", EventNewFingerprint: "new_fingerprint",
	EventSymKey: "received_symkey", EventMessage: "msg_event",
	EventSMPError: "smp_error", EventSMPAbort: "smp_abort",
	EventSMPCheated: "smp_cheated", EventSMPAskForAnswer: "smp_ask_for_answer",
	EventSMPAskForSecret: "smp_ask_for_secret", EventSMPInProgress: "smp_in_progress",
	EventSMPSuccess: "smp_success", EventSMPFailure: "smp_failure",
}

func (k EventKind) String() string {
	if s, ok := eventNames[k]; ok {
		return s
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// MsgEvent is libotr's OtrlMessageEvent.
type MsgEvent int

// Message events, in libotr's order.
const (
	MsgEventNone MsgEvent = iota
	MsgEventEncryptionRequired
	MsgEventEncryptionError
	MsgEventConnectionEnded
	MsgEventSetupError
	MsgEventMsgReflected
	MsgEventMsgResent
	MsgEventRcvdNotInPrivate
	MsgEventRcvdUnreadable
	MsgEventRcvdMalformed
	MsgEventLogHeartbeatRcvd
	MsgEventLogHeartbeatSent
	MsgEventRcvdGeneralErr
	MsgEventRcvdUnencrypted
	MsgEventRcvdUnrecognized
	MsgEventRcvdForOtherInstance
)

var msgEventNames = [...]string{
	"none", "encryption_required", "encryption_error", "connection_ended",
	"setup_error", "msg_reflected", "msg_resent", "rcvdmsg_not_in_private",
	"rcvdmsg_unreadable", "rcvdmsg_malformed", "log_heartbeat_rcvd",
	"log_heartbeat_sent", "rcvdmsg_general_err", "rcvdmsg_unencrypted",
	"rcvdmsg_unrecognized", "rcvdmsg_for_other_instance",
}

func (m MsgEvent) String() string {
	if m >= 0 && int(m) < len(msgEventNames) {
		return msgEventNames[m]
	}
	return fmt.Sprintf("MsgEvent(%d)", int(m))
}

// Event is one libotr callback, recorded for the test to inspect.
type Event struct {
	Kind     EventKind
	Peer     string   // context->username
	Version  int      // protocol version for GoneSecure/StillSecure
	IsReply  bool     // still_secure's is_reply
	Question string   // SMP question for EventSMPAskForAnswer
	Progress int      // SMP progress percent
	Msg      MsgEvent // for EventMessage
	Text     string   // message text for EventMessage (error text, plaintext)
	Err      string   // gcry error text for EventMessage
	Use      uint32   // received_symkey use
	UseData  []byte   // received_symkey use-specific data
	Key      [32]byte // received_symkey extra symmetric key
}

func (e Event) String() string {
	switch e.Kind {
	case EventMessage:
		return fmt.Sprintf("msg_event(%v, %q, %q)", e.Msg, e.Text, e.Err)
	case EventSMPAskForAnswer:
		return fmt.Sprintf("smp_ask_for_answer(%q)", e.Question)
	case EventGoneSecure:
		return fmt.Sprintf("gone_secure(v%d)", e.Version)
	}
	return e.Kind.String()
}

func peerOf(h C.uintptr_t) *Peer { return cgo.Handle(h).Value().(*Peer) }

func goStr(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

//export sottoGoPolicy
func sottoGoPolicy(h C.uintptr_t) C.uint { return C.uint(peerOf(h).policy) }

//export sottoGoMaxMessageSize
func sottoGoMaxMessageSize(h C.uintptr_t) C.int { return C.int(peerOf(h).maxSize) }

//export sottoGoInject
func sottoGoInject(h C.uintptr_t, recipient, msg *C.char) {
	p := peerOf(h)
	if s := goStr(msg); s != "" {
		p.outbox = append(p.outbox, s)
	}
}

//export sottoGoCreateInstag
func sottoGoCreateInstag(h C.uintptr_t, account, protocol *C.char) {
	p := peerOf(h)
	if err := gcryErr("otrl_instag_generate", C.sotto_instag_generate(p.us, account, protocol)); err != nil && p.gcryptErr == nil {
		p.gcryptErr = err
	}
}

//export sottoGoEvent
func sottoGoEvent(h C.uintptr_t, kind C.int, peer, text *C.char, a, b C.int) {
	p := peerOf(h)
	ev := Event{Peer: goStr(peer), Text: goStr(text)}
	switch kind {
	case C.SOTTO_EV_GONE_SECURE:
		ev.Kind, ev.Version = EventGoneSecure, int(a)
	case C.SOTTO_EV_GONE_INSECURE:
		ev.Kind = EventGoneInsecure
	case C.SOTTO_EV_STILL_SECURE:
		ev.Kind, ev.Version, ev.IsReply = EventStillSecure, int(a), b != 0
	case C.SOTTO_EV_NEW_FINGERPRINT:
		ev.Kind = EventNewFingerprint
	default:
		return
	}
	p.events = append(p.events, ev)
}

var smpKinds = map[C.int]EventKind{
	C.OTRL_SMPEVENT_ERROR:          EventSMPError,
	C.OTRL_SMPEVENT_ABORT:          EventSMPAbort,
	C.OTRL_SMPEVENT_CHEATED:        EventSMPCheated,
	C.OTRL_SMPEVENT_ASK_FOR_ANSWER: EventSMPAskForAnswer,
	C.OTRL_SMPEVENT_ASK_FOR_SECRET: EventSMPAskForSecret,
	C.OTRL_SMPEVENT_IN_PROGRESS:    EventSMPInProgress,
	C.OTRL_SMPEVENT_SUCCESS:        EventSMPSuccess,
	C.OTRL_SMPEVENT_FAILURE:        EventSMPFailure,
}

//export sottoGoSMPEvent
func sottoGoSMPEvent(h C.uintptr_t, ev C.int, peer, question *C.char, progress C.int) {
	k, ok := smpKinds[ev]
	if !ok {
		return
	}
	p := peerOf(h)
	p.events = append(p.events, Event{Kind: k, Peer: goStr(peer), Question: goStr(question), Progress: int(progress)})
}

//export sottoGoMsgEvent
func sottoGoMsgEvent(h C.uintptr_t, ev C.int, peer, message, errText *C.char) {
	p := peerOf(h)
	p.events = append(p.events, Event{Kind: EventMessage, Msg: MsgEvent(ev), Peer: goStr(peer),
		Text: goStr(message), Err: goStr(errText)})
}

//export sottoGoSymKey
func sottoGoSymKey(h C.uintptr_t, peer *C.char, use C.uint, usedata *C.uchar, n C.size_t, key *C.uchar) {
	p := peerOf(h)
	ev := Event{Kind: EventSymKey, Peer: goStr(peer), Use: uint32(use)}
	if n > 0 {
		ev.UseData = C.GoBytes(unsafe.Pointer(usedata), C.int(n))
	}
	copy(ev.Key[:], C.GoBytes(unsafe.Pointer(key), C.OTRL_EXTRAKEY_BYTES))
	p.events = append(p.events, ev)
}
