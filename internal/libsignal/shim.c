//go:build libsignal

// See shim.h. Written for this harness from libsignal-protocol-c's
// headers (signal_protocol.h documents each callback) and OpenSSL 3's
// EVP API; single-threaded, so no locking functions are installed.

#include "shim.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/core_names.h>

#include <signal_protocol.h>
#include <key_helper.h>
#include <session_builder.h>
#include <session_cipher.h>
#include <session_pre_key.h>
#include <protocol.h>
#include <curve.h>
#include <ratchet.h>

#define MAX_ITEMS 1024

typedef struct {
	uint32_t id;
	signal_buffer *rec;
} id_rec;

typedef struct {
	char *name;
	size_t name_len;
	int32_t device;
	signal_buffer *rec;
} addr_rec;

struct sotto_peer {
	signal_context *ctx;
	signal_protocol_store_context *store;
	ratchet_identity_key_pair *identity;
	uint32_t reg_id;
	id_rec prekeys[MAX_ITEMS];
	int nprekeys;
	id_rec spks[4];
	int nspks;
	addr_rec sessions[MAX_ITEMS];
	int nsessions;
	addr_rec identities[MAX_ITEMS];
	int nidentities;
};

/* ---- crypto provider (OpenSSL 3) ---- */

static int c_random(uint8_t *data, size_t len, void *ud) {
	(void)ud;
	return RAND_bytes(data, (int)len) == 1 ? 0 : SG_ERR_UNKNOWN;
}

static int c_hmac_init(void **hctx, const uint8_t *key, size_t key_len, void *ud) {
	(void)ud;
	static const uint8_t zero = 0;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac) return SG_ERR_UNKNOWN;
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (!c) return SG_ERR_NOMEM;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	/* A NULL key means "keep the previous one" to OpenSSL; never pass it. */
	if (!EVP_MAC_init(c, key_len ? key : &zero, key_len, params)) {
		EVP_MAC_CTX_free(c);
		return SG_ERR_UNKNOWN;
	}
	*hctx = c;
	return 0;
}

static int c_hmac_update(void *hctx, const uint8_t *data, size_t len, void *ud) {
	(void)ud;
	return EVP_MAC_update(hctx, data, len) ? 0 : SG_ERR_UNKNOWN;
}

static int c_hmac_final(void *hctx, signal_buffer **out, void *ud) {
	(void)ud;
	uint8_t md[EVP_MAX_MD_SIZE];
	size_t n = 0;
	if (!EVP_MAC_final(hctx, md, &n, sizeof md)) return SG_ERR_UNKNOWN;
	*out = signal_buffer_create(md, n);
	return *out ? 0 : SG_ERR_NOMEM;
}

static void c_hmac_cleanup(void *hctx, void *ud) {
	(void)ud;
	EVP_MAC_CTX_free(hctx);
}

static int c_sha512_init(void **dctx, void *ud) {
	(void)ud;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c) return SG_ERR_NOMEM;
	if (!EVP_DigestInit_ex(c, EVP_sha512(), NULL)) {
		EVP_MD_CTX_free(c);
		return SG_ERR_UNKNOWN;
	}
	*dctx = c;
	return 0;
}

static int c_sha512_update(void *dctx, const uint8_t *data, size_t len, void *ud) {
	(void)ud;
	return EVP_DigestUpdate(dctx, data, len) ? 0 : SG_ERR_UNKNOWN;
}

/* The library reuses a digest context after final, so final re-arms it. */
static int c_sha512_final(void *dctx, signal_buffer **out, void *ud) {
	(void)ud;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (!EVP_DigestFinal_ex(dctx, md, &n)) return SG_ERR_UNKNOWN;
	if (!EVP_DigestInit_ex(dctx, EVP_sha512(), NULL)) return SG_ERR_UNKNOWN;
	*out = signal_buffer_create(md, n);
	return *out ? 0 : SG_ERR_NOMEM;
}

static void c_sha512_cleanup(void *dctx, void *ud) {
	(void)ud;
	EVP_MD_CTX_free(dctx);
}

static const EVP_CIPHER *aes(int cipher, size_t key_len) {
	int cbc = cipher == SG_CIPHER_AES_CBC_PKCS5;
	if (!cbc && cipher != SG_CIPHER_AES_CTR_NOPADDING) return NULL;
	switch (key_len) {
	case 16: return cbc ? EVP_aes_128_cbc() : EVP_aes_128_ctr();
	case 24: return cbc ? EVP_aes_192_cbc() : EVP_aes_192_ctr();
	case 32: return cbc ? EVP_aes_256_cbc() : EVP_aes_256_ctr();
	}
	return NULL;
}

static int c_crypt(int enc, signal_buffer **out, int cipher, const uint8_t *key, size_t key_len,
		const uint8_t *iv, size_t iv_len, const uint8_t *in, size_t len) {
	const EVP_CIPHER *ev = aes(cipher, key_len);
	if (!ev || iv_len != 16) return SG_ERR_UNKNOWN;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	if (!c) return SG_ERR_NOMEM;
	uint8_t *buf = malloc(len + 32);
	int n1 = 0, n2 = 0, ok = 0;
	if (buf && EVP_CipherInit_ex(c, ev, NULL, key, iv, enc) &&
			EVP_CIPHER_CTX_set_padding(c, cipher == SG_CIPHER_AES_CBC_PKCS5) &&
			EVP_CipherUpdate(c, buf, &n1, in, (int)len) &&
			EVP_CipherFinal_ex(c, buf + n1, &n2)) {
		*out = signal_buffer_create(buf, (size_t)(n1 + n2));
		ok = *out != NULL;
	}
	EVP_CIPHER_CTX_free(c);
	free(buf);
	return ok ? 0 : SG_ERR_UNKNOWN;
}

static int c_encrypt(signal_buffer **out, int cipher, const uint8_t *key, size_t key_len,
		const uint8_t *iv, size_t iv_len, const uint8_t *pt, size_t len, void *ud) {
	(void)ud;
	return c_crypt(1, out, cipher, key, key_len, iv, iv_len, pt, len);
}

static int c_decrypt(signal_buffer **out, int cipher, const uint8_t *key, size_t key_len,
		const uint8_t *iv, size_t iv_len, const uint8_t *ct, size_t len, void *ud) {
	(void)ud;
	return c_crypt(0, out, cipher, key, key_len, iv, iv_len, ct, len);
}

/* ---- in-memory stores ---- */

static addr_rec *find_addr(addr_rec *t, int n, const signal_protocol_address *a) {
	for (int i = 0; i < n; i++)
		if (t[i].device == a->device_id && t[i].name_len == a->name_len &&
				memcmp(t[i].name, a->name, a->name_len) == 0)
			return &t[i];
	return NULL;
}

static int put_addr(addr_rec *t, int *n, const signal_protocol_address *a, const uint8_t *d, size_t len) {
	addr_rec *r = find_addr(t, *n, a);
	if (!r) {
		if (*n == MAX_ITEMS) return SG_ERR_NOMEM;
		r = &t[(*n)++];
		r->name = malloc(a->name_len + 1);
		if (!r->name) return SG_ERR_NOMEM;
		memcpy(r->name, a->name, a->name_len);
		r->name[a->name_len] = 0;
		r->name_len = a->name_len;
		r->device = a->device_id;
	} else {
		signal_buffer_bzero_free(r->rec);
	}
	r->rec = signal_buffer_create(d, len);
	return r->rec ? 0 : SG_ERR_NOMEM;
}

static void drop_addr(addr_rec *t, int *n, addr_rec *r) {
	free(r->name);
	signal_buffer_bzero_free(r->rec);
	*r = t[--(*n)];
}

static id_rec *find_id(id_rec *t, int n, uint32_t id) {
	for (int i = 0; i < n; i++)
		if (t[i].id == id) return &t[i];
	return NULL;
}

static int put_id(id_rec *t, int *n, int max, uint32_t id, const uint8_t *d, size_t len) {
	id_rec *r = find_id(t, *n, id);
	if (!r) {
		if (*n == max) return SG_ERR_NOMEM;
		r = &t[(*n)++];
		r->id = id;
	} else {
		signal_buffer_bzero_free(r->rec);
	}
	r->rec = signal_buffer_create(d, len);
	return r->rec ? 0 : SG_ERR_NOMEM;
}

static void drop_id(id_rec *t, int *n, id_rec *r) {
	signal_buffer_bzero_free(r->rec);
	*r = t[--(*n)];
}

static int s_load(signal_buffer **rec, signal_buffer **urec, const signal_protocol_address *a, void *ud) {
	sotto_peer *p = ud;
	addr_rec *r = find_addr(p->sessions, p->nsessions, a);
	*urec = NULL;
	if (!r) return 0;
	*rec = signal_buffer_copy(r->rec);
	return *rec ? 1 : SG_ERR_NOMEM;
}

static int s_subdevices(signal_int_list **out, const char *name, size_t name_len, void *ud) {
	sotto_peer *p = ud;
	signal_int_list *l = signal_int_list_alloc();
	if (!l) return SG_ERR_NOMEM;
	int n = 0;
	for (int i = 0; i < p->nsessions; i++)
		if (p->sessions[i].name_len == name_len && memcmp(p->sessions[i].name, name, name_len) == 0) {
			signal_int_list_push_back(l, p->sessions[i].device);
			n++;
		}
	*out = l;
	return n;
}

static int s_store(const signal_protocol_address *a, uint8_t *rec, size_t len, uint8_t *urec, size_t ulen, void *ud) {
	(void)urec; (void)ulen;
	sotto_peer *p = ud;
	return put_addr(p->sessions, &p->nsessions, a, rec, len);
}

static int s_contains(const signal_protocol_address *a, void *ud) {
	sotto_peer *p = ud;
	return find_addr(p->sessions, p->nsessions, a) != NULL;
}

static int s_delete(const signal_protocol_address *a, void *ud) {
	sotto_peer *p = ud;
	addr_rec *r = find_addr(p->sessions, p->nsessions, a);
	if (!r) return 0;
	drop_addr(p->sessions, &p->nsessions, r);
	return 1;
}

static int s_delete_all(const char *name, size_t name_len, void *ud) {
	sotto_peer *p = ud;
	int n = 0;
	for (int i = 0; i < p->nsessions;)
		if (p->sessions[i].name_len == name_len && memcmp(p->sessions[i].name, name, name_len) == 0) {
			drop_addr(p->sessions, &p->nsessions, &p->sessions[i]);
			n++;
		} else {
			i++;
		}
	return n;
}

static int pk_load(signal_buffer **rec, uint32_t id, void *ud) {
	sotto_peer *p = ud;
	id_rec *r = find_id(p->prekeys, p->nprekeys, id);
	if (!r) return SG_ERR_INVALID_KEY_ID;
	*rec = signal_buffer_copy(r->rec);
	return *rec ? SG_SUCCESS : SG_ERR_NOMEM;
}

static int pk_store(uint32_t id, uint8_t *rec, size_t len, void *ud) {
	sotto_peer *p = ud;
	return put_id(p->prekeys, &p->nprekeys, MAX_ITEMS, id, rec, len);
}

static int pk_contains(uint32_t id, void *ud) {
	sotto_peer *p = ud;
	return find_id(p->prekeys, p->nprekeys, id) != NULL;
}

static int pk_remove(uint32_t id, void *ud) {
	sotto_peer *p = ud;
	id_rec *r = find_id(p->prekeys, p->nprekeys, id);
	if (r) drop_id(p->prekeys, &p->nprekeys, r);
	return 0;
}

static int spk_load(signal_buffer **rec, uint32_t id, void *ud) {
	sotto_peer *p = ud;
	id_rec *r = find_id(p->spks, p->nspks, id);
	if (!r) return SG_ERR_INVALID_KEY_ID;
	*rec = signal_buffer_copy(r->rec);
	return *rec ? SG_SUCCESS : SG_ERR_NOMEM;
}

static int spk_store(uint32_t id, uint8_t *rec, size_t len, void *ud) {
	sotto_peer *p = ud;
	return put_id(p->spks, &p->nspks, 4, id, rec, len);
}

static int spk_contains(uint32_t id, void *ud) {
	sotto_peer *p = ud;
	return find_id(p->spks, p->nspks, id) != NULL;
}

static int spk_remove(uint32_t id, void *ud) {
	sotto_peer *p = ud;
	id_rec *r = find_id(p->spks, p->nspks, id);
	if (r) drop_id(p->spks, &p->nspks, r);
	return 0;
}

static int id_pair(signal_buffer **pub, signal_buffer **priv, void *ud) {
	sotto_peer *p = ud;
	int rc = ec_public_key_serialize(pub, ratchet_identity_key_pair_get_public(p->identity));
	if (rc < 0) return rc;
	return ec_private_key_serialize(priv, ratchet_identity_key_pair_get_private(p->identity));
}

static int id_reg(void *ud, uint32_t *reg) {
	*reg = ((sotto_peer *)ud)->reg_id;
	return 0;
}

static int id_save(const signal_protocol_address *a, uint8_t *key, size_t len, void *ud) {
	sotto_peer *p = ud;
	if (!key) {
		addr_rec *r = find_addr(p->identities, p->nidentities, a);
		if (r) drop_addr(p->identities, &p->nidentities, r);
		return 0;
	}
	return put_addr(p->identities, &p->nidentities, a, key, len);
}

/* Trust on first use per device, as profanity does before the user decides. */
static int id_trusted(const signal_protocol_address *a, uint8_t *key, size_t len, void *ud) {
	sotto_peer *p = ud;
	addr_rec *r = find_addr(p->identities, p->nidentities, a);
	if (!r) return 1;
	return signal_buffer_len(r->rec) == len && memcmp(signal_buffer_data(r->rec), key, len) == 0;
}

/* ---- peers ---- */

sotto_peer *sotto_peer_new(int32_t device_id, unsigned npre) {
	(void)device_id;
	sotto_peer *p = calloc(1, sizeof *p);
	if (!p) return NULL;
	signal_crypto_provider cp = {
		.random_func = c_random,
		.hmac_sha256_init_func = c_hmac_init,
		.hmac_sha256_update_func = c_hmac_update,
		.hmac_sha256_final_func = c_hmac_final,
		.hmac_sha256_cleanup_func = c_hmac_cleanup,
		.sha512_digest_init_func = c_sha512_init,
		.sha512_digest_update_func = c_sha512_update,
		.sha512_digest_final_func = c_sha512_final,
		.sha512_digest_cleanup_func = c_sha512_cleanup,
		.encrypt_func = c_encrypt,
		.decrypt_func = c_decrypt,
		.user_data = p,
	};
	signal_protocol_session_store ss = {
		.load_session_func = s_load, .get_sub_device_sessions_func = s_subdevices,
		.store_session_func = s_store, .contains_session_func = s_contains,
		.delete_session_func = s_delete, .delete_all_sessions_func = s_delete_all,
		.user_data = p,
	};
	signal_protocol_pre_key_store pks = {
		.load_pre_key = pk_load, .store_pre_key = pk_store,
		.contains_pre_key = pk_contains, .remove_pre_key = pk_remove, .user_data = p,
	};
	signal_protocol_signed_pre_key_store spks = {
		.load_signed_pre_key = spk_load, .store_signed_pre_key = spk_store,
		.contains_signed_pre_key = spk_contains, .remove_signed_pre_key = spk_remove, .user_data = p,
	};
	signal_protocol_identity_key_store iks = {
		.get_identity_key_pair = id_pair, .get_local_registration_id = id_reg,
		.save_identity = id_save, .is_trusted_identity = id_trusted, .user_data = p,
	};
	signal_protocol_key_helper_pre_key_list_node *head = NULL;
	session_signed_pre_key *spk = NULL;
	signal_buffer *buf = NULL;
	if (signal_context_create(&p->ctx, p) < 0 ||
			signal_context_set_crypto_provider(p->ctx, &cp) < 0 ||
			signal_protocol_store_context_create(&p->store, p->ctx) < 0 ||
			signal_protocol_store_context_set_session_store(p->store, &ss) < 0 ||
			signal_protocol_store_context_set_pre_key_store(p->store, &pks) < 0 ||
			signal_protocol_store_context_set_signed_pre_key_store(p->store, &spks) < 0 ||
			signal_protocol_store_context_set_identity_key_store(p->store, &iks) < 0 ||
			signal_protocol_key_helper_generate_identity_key_pair(&p->identity, p->ctx) < 0 ||
			signal_protocol_key_helper_generate_registration_id(&p->reg_id, 0, p->ctx) < 0 ||
			signal_protocol_key_helper_generate_pre_keys(&head, 1, npre, p->ctx) < 0 ||
			signal_protocol_key_helper_generate_signed_pre_key(&spk, p->identity, 1, 0, p->ctx) < 0)
		goto fail;
	for (signal_protocol_key_helper_pre_key_list_node *n = head; n; n = signal_protocol_key_helper_key_list_next(n)) {
		session_pre_key *k = signal_protocol_key_helper_key_list_element(n);
		if (session_pre_key_serialize(&buf, k) < 0) goto fail;
		int rc = pk_store(session_pre_key_get_id(k), signal_buffer_data(buf), signal_buffer_len(buf), p);
		signal_buffer_bzero_free(buf);
		buf = NULL;
		if (rc < 0) goto fail;
	}
	if (session_signed_pre_key_serialize(&buf, spk) < 0) goto fail;
	if (spk_store(1, signal_buffer_data(buf), signal_buffer_len(buf), p) < 0) goto fail;
	signal_buffer_bzero_free(buf);
	signal_protocol_key_helper_key_list_free(head);
	SIGNAL_UNREF(spk);
	return p;
fail:
	if (buf) signal_buffer_bzero_free(buf);
	if (head) signal_protocol_key_helper_key_list_free(head);
	if (spk) SIGNAL_UNREF(spk);
	sotto_peer_free(p);
	return NULL;
}

void sotto_peer_free(sotto_peer *p) {
	if (!p) return;
	while (p->nsessions) drop_addr(p->sessions, &p->nsessions, &p->sessions[0]);
	while (p->nidentities) drop_addr(p->identities, &p->nidentities, &p->identities[0]);
	while (p->nprekeys) drop_id(p->prekeys, &p->nprekeys, &p->prekeys[0]);
	while (p->nspks) drop_id(p->spks, &p->nspks, &p->spks[0]);
	if (p->identity) SIGNAL_UNREF(p->identity);
	if (p->store) signal_protocol_store_context_destroy(p->store);
	if (p->ctx) signal_context_destroy(p->ctx);
	free(p);
}

static int copy_pub(const ec_public_key *k, uint8_t out[33]) {
	signal_buffer *b = NULL;
	int rc = ec_public_key_serialize(&b, k);
	if (rc < 0) return rc;
	if (signal_buffer_len(b) != 33) rc = SG_ERR_UNKNOWN;
	else memcpy(out, signal_buffer_data(b), 33);
	signal_buffer_free(b);
	return rc;
}

int sotto_peer_identity(sotto_peer *p, uint8_t out[33]) {
	return copy_pub(ratchet_identity_key_pair_get_public(p->identity), out);
}

int sotto_peer_signed_prekey(sotto_peer *p, uint32_t *id, uint8_t pub[33], uint8_t sig[64]) {
	if (!p->nspks) return SG_ERR_INVALID_KEY_ID;
	session_signed_pre_key *k = NULL;
	int rc = session_signed_pre_key_deserialize(&k, signal_buffer_data(p->spks[0].rec), signal_buffer_len(p->spks[0].rec), p->ctx);
	if (rc < 0) return rc;
	*id = session_signed_pre_key_get_id(k);
	rc = copy_pub(ec_key_pair_get_public(session_signed_pre_key_get_key_pair(k)), pub);
	if (rc == 0 && session_signed_pre_key_get_signature_len(k) == 64)
		memcpy(sig, session_signed_pre_key_get_signature(k), 64);
	else if (rc == 0)
		rc = SG_ERR_UNKNOWN;
	SIGNAL_UNREF(k);
	return rc;
}

int sotto_peer_prekey_count(sotto_peer *p) { return p->nprekeys; }

int sotto_peer_prekey(sotto_peer *p, int i, uint32_t *id, uint8_t pub[33]) {
	if (i < 0 || i >= p->nprekeys) return SG_ERR_INVALID_KEY_ID;
	session_pre_key *k = NULL;
	int rc = session_pre_key_deserialize(&k, signal_buffer_data(p->prekeys[i].rec), signal_buffer_len(p->prekeys[i].rec), p->ctx);
	if (rc < 0) return rc;
	*id = session_pre_key_get_id(k);
	rc = copy_pub(ec_key_pair_get_public(session_pre_key_get_key_pair(k)), pub);
	SIGNAL_UNREF(k);
	return rc;
}

int sotto_peer_build(sotto_peer *p, const char *name, int32_t device,
		uint32_t pre_key_id, const uint8_t pre_key[33],
		uint32_t spk_id, const uint8_t spk[33], const uint8_t sig[64],
		const uint8_t identity[33]) {
	signal_protocol_address a = { name, strlen(name), device };
	ec_public_key *pk = NULL, *sk = NULL, *ik = NULL;
	session_pre_key_bundle *bundle = NULL;
	session_builder *b = NULL;
	int rc;
	if ((pre_key_id && (rc = curve_decode_point(&pk, pre_key, 33, p->ctx)) < 0) ||
			(rc = curve_decode_point(&sk, spk, 33, p->ctx)) < 0 ||
			(rc = curve_decode_point(&ik, identity, 33, p->ctx)) < 0 ||
			(rc = session_pre_key_bundle_create(&bundle, 0, device, pre_key_id, pk, spk_id, sk, sig, 64, ik)) < 0 ||
			(rc = session_builder_create(&b, p->store, &a, p->ctx)) < 0)
		goto out;
	rc = session_builder_process_pre_key_bundle(b, bundle);
out:
	if (b) session_builder_free(b);
	if (bundle) SIGNAL_UNREF(bundle);
	if (pk) SIGNAL_UNREF(pk);
	if (sk) SIGNAL_UNREF(sk);
	if (ik) SIGNAL_UNREF(ik);
	return rc;
}

static int copy_out(signal_buffer *b, uint8_t **out, size_t *out_len) {
	*out_len = signal_buffer_len(b);
	*out = malloc(*out_len ? *out_len : 1);
	if (!*out) return SG_ERR_NOMEM;
	memcpy(*out, signal_buffer_data(b), *out_len);
	return 0;
}

int sotto_peer_encrypt(sotto_peer *p, const char *name, int32_t device,
		const uint8_t *msg, size_t len, uint8_t **out, size_t *out_len, int *prekey) {
	signal_protocol_address a = { name, strlen(name), device };
	session_cipher *c = NULL;
	ciphertext_message *m = NULL;
	int rc = session_cipher_create(&c, p->store, &a, p->ctx);
	if (rc < 0) return rc;
	rc = session_cipher_encrypt(c, msg, len, &m);
	if (rc == 0) {
		*prekey = ciphertext_message_get_type(m) == CIPHERTEXT_PREKEY_TYPE;
		rc = copy_out(ciphertext_message_get_serialized(m), out, out_len);
		SIGNAL_UNREF(m);
	}
	session_cipher_free(c);
	return rc;
}

int sotto_peer_decrypt(sotto_peer *p, const char *name, int32_t device,
		const uint8_t *data, size_t len, int prekey, uint8_t **out, size_t *out_len) {
	signal_protocol_address a = { name, strlen(name), device };
	session_cipher *c = NULL;
	signal_buffer *pt = NULL;
	int rc = session_cipher_create(&c, p->store, &a, p->ctx);
	if (rc < 0) return rc;
	if (prekey) {
		pre_key_signal_message *m = NULL;
		rc = pre_key_signal_message_deserialize(&m, data, len, p->ctx);
		if (rc == 0) {
			rc = session_cipher_decrypt_pre_key_signal_message(c, m, NULL, &pt);
			SIGNAL_UNREF(m);
		}
	} else {
		signal_message *m = NULL;
		rc = signal_message_deserialize(&m, data, len, p->ctx);
		if (rc == 0) {
			rc = session_cipher_decrypt_signal_message(c, m, NULL, &pt);
			SIGNAL_UNREF(m);
		}
	}
	if (rc == 0) {
		rc = copy_out(pt, out, out_len);
		signal_buffer_bzero_free(pt);
	}
	session_cipher_free(c);
	return rc;
}

int sotto_peer_has_session(sotto_peer *p, const char *name, int32_t device) {
	signal_protocol_address a = { name, strlen(name), device };
	return s_contains(&a, p);
}

/* ---- AES-128-GCM ---- */

int sotto_gcm_seal(const uint8_t key[16], const uint8_t iv[12],
		const uint8_t *pt, size_t len, uint8_t *ct, uint8_t tag[16]) {
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, key, iv) &&
		EVP_EncryptUpdate(c, ct, &n, pt, (int)len) &&
		EVP_EncryptFinal_ex(c, ct + n, &n) &&
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag);
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

int sotto_gcm_open(const uint8_t key[16], const uint8_t iv[12],
		const uint8_t *ct, size_t len, const uint8_t tag[16], uint8_t *pt) {
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok = c && EVP_DecryptInit_ex(c, EVP_aes_128_gcm(), NULL, key, iv) &&
		EVP_DecryptUpdate(c, pt, &n, ct, (int)len) &&
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag) &&
		EVP_DecryptFinal_ex(c, pt + n, &n) > 0;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

int sotto_random(uint8_t *buf, size_t len) { return RAND_bytes(buf, (int)len) == 1 ? 0 : -1; }

void sotto_free(void *ptr) { free(ptr); }
