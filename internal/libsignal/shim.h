//go:build libsignal

// C side of the libsignal-protocol-c harness: an OpenSSL 3 crypto
// provider, in-memory stores, and a few calls that hide the library's
// reference counting from Go. One sotto_peer is one OMEMO device.
#ifndef SOTTO_LIBSIGNAL_SHIM_H
#define SOTTO_LIBSIGNAL_SHIM_H

#include <stdint.h>
#include <stddef.h>

typedef struct sotto_peer sotto_peer;

/* Creates a device with a new identity, registration id, signed prekey
 * (id 1) and prekeys 1..npre. Returns NULL on failure. */
sotto_peer *sotto_peer_new(int32_t device_id, unsigned npre);
void sotto_peer_free(sotto_peer *p);

/* The 33-byte identity key, the signed prekey (33) and its signature (64),
 * and prekey i (0-based) of the ones left: its id and 33-byte public key.
 * Return 0 or a negative error. */
int sotto_peer_identity(sotto_peer *p, uint8_t out[33]);
int sotto_peer_signed_prekey(sotto_peer *p, uint32_t *id, uint8_t pub[33], uint8_t sig[64]);
int sotto_peer_prekey_count(sotto_peer *p);
int sotto_peer_prekey(sotto_peer *p, int i, uint32_t *id, uint8_t pub[33]);

/* Builds a session with (name, device) from a bundle (pre_key_id 0: none). */
int sotto_peer_build(sotto_peer *p, const char *name, int32_t device,
	uint32_t pre_key_id, const uint8_t pre_key[33],
	uint32_t spk_id, const uint8_t spk[33], const uint8_t sig[64],
	const uint8_t identity[33]);

/* Encrypts msg for (name, device). *out (free with sotto_free) holds the
 * serialized message; *prekey is 1 for a PreKeySignalMessage. */
int sotto_peer_encrypt(sotto_peer *p, const char *name, int32_t device,
	const uint8_t *msg, size_t len, uint8_t **out, size_t *out_len, int *prekey);

/* Decrypts a serialized (PreKey)SignalMessage from (name, device). */
int sotto_peer_decrypt(sotto_peer *p, const char *name, int32_t device,
	const uint8_t *data, size_t len, int prekey, uint8_t **out, size_t *out_len);

int sotto_peer_has_session(sotto_peer *p, const char *name, int32_t device);

/* AES-128-GCM through OpenSSL, OMEMO's payload cipher: ct gets len bytes
 * and tag 16. sotto_gcm_open returns 0 only if the tag verifies. */
int sotto_gcm_seal(const uint8_t key[16], const uint8_t iv[12],
	const uint8_t *pt, size_t len, uint8_t *ct, uint8_t tag[16]);
int sotto_gcm_open(const uint8_t key[16], const uint8_t iv[12],
	const uint8_t *ct, size_t len, const uint8_t tag[16], uint8_t *pt);
int sotto_random(uint8_t *buf, size_t len);

void sotto_free(void *ptr);

#endif
