//go:build libotr

// C side of the libotr harness: the OtrlMessageAppOps table, whose
// callbacks forward to exported Go functions, and small wrappers for
// things cgo cannot do directly (OTRL_INIT is a macro, opdata is a
// pointer-sized handle).
#ifndef SOTTO_LIBOTR_SHIM_H
#define SOTTO_LIBOTR_SHIM_H

#include <stdint.h>
#include <stdlib.h>
#include <libotr/proto.h>
#include <libotr/userstate.h>
#include <libotr/context.h>
#include <libotr/message.h>
#include <libotr/privkey.h>
#include <libotr/instag.h>
#include <libotr/tlv.h>

/* Kinds passed to sottoGoEvent for the non-SMP, non-message callbacks. */
enum {
    SOTTO_EV_GONE_SECURE = 1,
    SOTTO_EV_GONE_INSECURE,
    SOTTO_EV_STILL_SECURE,
    SOTTO_EV_NEW_FINGERPRINT
};

int sotto_init(void);
gcry_error_t sotto_instag_generate(OtrlUserState us, const char *account,
	const char *protocol);

gcry_error_t sotto_send(OtrlUserState us, uintptr_t h, const char *account,
	const char *protocol, const char *peer, const char *msg, char **out);
int sotto_receive(OtrlUserState us, uintptr_t h, const char *account,
	const char *protocol, const char *peer, const char *msg, char **out);
void sotto_disconnect(OtrlUserState us, uintptr_t h, const char *account,
	const char *protocol, const char *peer);

ConnContext *sotto_best_context(OtrlUserState us, const char *account,
	const char *protocol, const char *peer);
void sotto_smp_init(OtrlUserState us, uintptr_t h, ConnContext *ctx,
	const char *question, const unsigned char *secret, size_t len);
void sotto_smp_respond(OtrlUserState us, uintptr_t h, ConnContext *ctx,
	const unsigned char *secret, size_t len);
void sotto_smp_abort(OtrlUserState us, uintptr_t h, ConnContext *ctx);

gcry_error_t sotto_symkey(OtrlUserState us, uintptr_t h, ConnContext *ctx,
	unsigned int use, const unsigned char *usedata, size_t len,
	unsigned char *key);

/* Fingerprint of the context's active key, or of the master's first known
 * key when no session is up; NULL when none. */
Fingerprint *sotto_peer_fingerprint(ConnContext *ctx);

#endif
