//go:build libotr

#include <stdio.h>
#include <string.h>
#include "shim.h"
#include "_cgo_export.h"

int sotto_init(void)
{
    /* OTRL_INIT is a macro that exits the process on a version mismatch;
     * call otrl_init directly so the Go side can report the error. */
    return otrl_init(OTRL_VERSION_MAJOR, OTRL_VERSION_MINOR,
	    OTRL_VERSION_SUB) ? -1 : 0;
}

gcry_error_t sotto_instag_generate(OtrlUserState us, const char *account,
	const char *protocol)
{
    /* The harness keeps instance tags in memory only: libotr insists on
     * writing them to a FILE*, so hand it an anonymous temporary file. */
    FILE *f = tmpfile();
    gcry_error_t err;
    if (!f) return gcry_error(GPG_ERR_ENOMEM);
    err = otrl_instag_generate_FILEp(us, f, account, protocol);
    fclose(f);
    return err;
}

#define H(opdata) ((uintptr_t)(opdata))

static OtrlPolicy cb_policy(void *opdata, ConnContext *ctx)
{
    (void)ctx;
    return sottoGoPolicy(H(opdata));
}

static int cb_is_logged_in(void *opdata, const char *a, const char *p,
	const char *r)
{
    (void)opdata; (void)a; (void)p; (void)r;
    return 1; /* in-memory peers are always reachable */
}

static void cb_inject(void *opdata, const char *a, const char *p,
	const char *recipient, const char *message)
{
    (void)a; (void)p;
    sottoGoInject(H(opdata), (char *)recipient, (char *)message);
}

static void cb_new_fingerprint(void *opdata, OtrlUserState us,
	const char *a, const char *p, const char *username,
	unsigned char fp[20])
{
    (void)us; (void)a; (void)p; (void)fp;
    sottoGoEvent(H(opdata), SOTTO_EV_NEW_FINGERPRINT, (char *)username,
	    NULL, 0, 0);
}

static void cb_gone_secure(void *opdata, ConnContext *ctx)
{
    sottoGoEvent(H(opdata), SOTTO_EV_GONE_SECURE, ctx->username, NULL,
	    (int)ctx->protocol_version, 0);
}

static void cb_gone_insecure(void *opdata, ConnContext *ctx)
{
    sottoGoEvent(H(opdata), SOTTO_EV_GONE_INSECURE, ctx->username, NULL,
	    0, 0);
}

static void cb_still_secure(void *opdata, ConnContext *ctx, int is_reply)
{
    sottoGoEvent(H(opdata), SOTTO_EV_STILL_SECURE, ctx->username, NULL,
	    (int)ctx->protocol_version, is_reply);
}

static int cb_max_message_size(void *opdata, ConnContext *ctx)
{
    (void)ctx;
    return sottoGoMaxMessageSize(H(opdata));
}

static const char *cb_account_name(void *opdata, const char *account,
	const char *protocol)
{
    (void)opdata; (void)protocol;
    return strdup(account);
}

static void cb_account_name_free(void *opdata, const char *name)
{
    (void)opdata;
    free((char *)name);
}

static void cb_received_symkey(void *opdata, ConnContext *ctx,
	unsigned int use, const unsigned char *usedata, size_t usedatalen,
	const unsigned char *symkey)
{
    sottoGoSymKey(H(opdata), ctx->username, use, (unsigned char *)usedata,
	    usedatalen, (unsigned char *)symkey);
}

static const char *cb_error_message(void *opdata, ConnContext *ctx,
	OtrlErrorCode code)
{
    (void)opdata; (void)ctx;
    switch (code) {
    case OTRL_ERRCODE_ENCRYPTION_ERROR:
	return strdup("Error occurred encrypting message.");
    case OTRL_ERRCODE_MSG_NOT_IN_PRIVATE:
	return strdup("You sent encrypted data to a peer who wasn't "
		"expecting it.");
    case OTRL_ERRCODE_MSG_UNREADABLE:
	return strdup("You transmitted an unreadable encrypted message.");
    case OTRL_ERRCODE_MSG_MALFORMED:
	return strdup("You transmitted a malformed data message.");
    default:
	return strdup("Unknown error.");
    }
}

static void cb_error_message_free(void *opdata, const char *msg)
{
    (void)opdata;
    free((char *)msg);
}

static void cb_smp_event(void *opdata, OtrlSMPEvent ev, ConnContext *ctx,
	unsigned short progress, char *question)
{
    sottoGoSMPEvent(H(opdata), (int)ev, ctx ? ctx->username : NULL,
	    question, (int)progress);
}

static void cb_msg_event(void *opdata, OtrlMessageEvent ev,
	ConnContext *ctx, const char *message, gcry_error_t err)
{
    sottoGoMsgEvent(H(opdata), (int)ev, ctx ? ctx->username : NULL,
	    (char *)message, (char *)(err ? gcry_strerror(err) : NULL));
}

static void cb_create_instag(void *opdata, const char *account,
	const char *protocol)
{
    sottoGoCreateInstag(H(opdata), (char *)account, (char *)protocol);
}

static const OtrlMessageAppOps sotto_ops = {
    .policy = cb_policy,
    .create_privkey = NULL, /* keys are made explicitly by the test */
    .is_logged_in = cb_is_logged_in,
    .inject_message = cb_inject,
    .update_context_list = NULL,
    .new_fingerprint = cb_new_fingerprint,
    .write_fingerprints = NULL,
    .gone_secure = cb_gone_secure,
    .gone_insecure = cb_gone_insecure,
    .still_secure = cb_still_secure,
    .max_message_size = cb_max_message_size,
    .account_name = cb_account_name,
    .account_name_free = cb_account_name_free,
    .received_symkey = cb_received_symkey,
    .otr_error_message = cb_error_message,
    .otr_error_message_free = cb_error_message_free,
    .resent_msg_prefix = NULL,
    .resent_msg_prefix_free = NULL,
    .handle_smp_event = cb_smp_event,
    .handle_msg_event = cb_msg_event,
    .create_instag = cb_create_instag,
    .convert_msg = NULL,
    .convert_free = NULL,
    .timer_control = NULL,
};

gcry_error_t sotto_send(OtrlUserState us, uintptr_t h, const char *account,
	const char *protocol, const char *peer, const char *msg, char **out)
{
    /* SEND_ALL: libotr injects every wire message (fragmented if needed)
     * through inject_message; *out is then only a hint that it did. */
    return otrl_message_sending(us, &sotto_ops, (void *)h, account,
	    protocol, peer, OTRL_INSTAG_BEST, msg, NULL, out,
	    OTRL_FRAGMENT_SEND_ALL, NULL, NULL, NULL);
}

int sotto_receive(OtrlUserState us, uintptr_t h, const char *account,
	const char *protocol, const char *peer, const char *msg, char **out)
{
    OtrlTLV *tlvs = NULL;
    int ignore = otrl_message_receiving(us, &sotto_ops, (void *)h, account,
	    protocol, peer, msg, out, &tlvs, NULL, NULL, NULL);
    otrl_tlv_free(tlvs);
    return ignore;
}

void sotto_disconnect(OtrlUserState us, uintptr_t h, const char *account,
	const char *protocol, const char *peer)
{
    otrl_message_disconnect_all_instances(us, &sotto_ops, (void *)h,
	    account, protocol, peer);
}

ConnContext *sotto_best_context(OtrlUserState us, const char *account,
	const char *protocol, const char *peer)
{
    ConnContext *m = otrl_context_find(us, peer, account, protocol,
	    OTRL_INSTAG_MASTER, 0, NULL, NULL, NULL);
    if (!m) return NULL;
    return otrl_context_find_recent_secure_instance(m);
}

void sotto_smp_init(OtrlUserState us, uintptr_t h, ConnContext *ctx,
	const char *question, const unsigned char *secret, size_t len)
{
    if (question) {
	otrl_message_initiate_smp_q(us, &sotto_ops, (void *)h, ctx,
		question, secret, len);
    } else {
	otrl_message_initiate_smp(us, &sotto_ops, (void *)h, ctx, secret,
		len);
    }
}

void sotto_smp_respond(OtrlUserState us, uintptr_t h, ConnContext *ctx,
	const unsigned char *secret, size_t len)
{
    otrl_message_respond_smp(us, &sotto_ops, (void *)h, ctx, secret, len);
}

void sotto_smp_abort(OtrlUserState us, uintptr_t h, ConnContext *ctx)
{
    otrl_message_abort_smp(us, &sotto_ops, (void *)h, ctx);
}

Fingerprint *sotto_peer_fingerprint(ConnContext *ctx)
{
    if (!ctx) return NULL;
    if (ctx->active_fingerprint && ctx->active_fingerprint->fingerprint)
	return ctx->active_fingerprint;
    if (ctx->m_context && ctx->m_context->fingerprint_root.next)
	return ctx->m_context->fingerprint_root.next;
    return NULL;
}

gcry_error_t sotto_symkey(OtrlUserState us, uintptr_t h, ConnContext *ctx,
	unsigned int use, const unsigned char *usedata, size_t len,
	unsigned char *key)
{
    return otrl_message_symkey(us, &sotto_ops, (void *)h, ctx, use, usedata,
	    len, key);
}
