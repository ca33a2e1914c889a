/*
 * quic_crypto.h — QUIC packet protection (RFC 9001 section 5, RFC 9369
 * section 3.3) through OpenSSL 3's libcrypto: Initial secrets from the
 * client's first Destination Connection ID, packet keys from a TLS 1.3
 * traffic secret, header protection masks, AEAD opening, key updates.
 *
 * Three versions are known. They differ in the Initial salt and in the
 * HKDF labels of the packet keys:
 *
 *   version      Initial salt            key/iv/hp labels   key update
 *   0x00000001   RFC 9001                "quic key" ...     "quic ku"
 *   0x6b3343cf   RFC 9369                "quicv2 key" ...   "quicv2 ku"
 *   0x709a50c4   draft-ietf-quic-v2      "quicv2 key" ...   "quic ku"
 *
 * The last is the provisional v2 number that ngtcp2 0.12 (Debian 12)
 * still speaks; it keys its updates with the v1 label.
 */
#ifndef PA_QUIC_CRYPTO_H
#define PA_QUIC_CRYPTO_H

#include "privaudit.h"

#define QUIC_VERSION_1 0x00000001u
#define QUIC_VERSION_2 0x6b3343cfu
#define QUIC_VERSION_2_DRAFT 0x709a50c4u

#define QUIC_SECRET_MAX 48
#define QUIC_TAG_LEN 16
#define QUIC_SAMPLE_LEN 16

/* Whether packets of this version can be opened (the three above). */
bool quic_version_supported(uint32_t version);
/* RFC 9369 renumbers the long header packet types: the v1 type of a v2
 * packet's two type bits (0 Initial, 1 0-RTT, 2 Handshake, 3 Retry). */
unsigned quic_long_type_v1(uint32_t version, unsigned type_bits);

/* The keys that protect one direction at one encryption level. */
struct quic_keys {
	bool ready;
	uint32_t version;
	uint16_t suite;          /* TLS 1.3 cipher suite id */
	uint8_t key_len;         /* 16 or 32 */
	uint8_t secret_len;      /* 32 or 48: the suite's hash length */
	uint8_t secret[QUIC_SECRET_MAX]; /* the traffic secret, for the next key update */
	uint8_t iv[12];
	void *aead;              /* EVP_CIPHER_CTX *, keyed once */
	void *hp;                /* EVP_CIPHER_CTX * (AES-ECB), NULL for ChaCha20 */
	uint8_t hp_key[32];      /* ChaCha20 header protection keys each sample */
};

/* The client's and server's Initial secrets (32 bytes each). */
bool quic_initial_secrets(uint32_t version, const uint8_t *dcid, size_t dcid_len,
			  uint8_t client[32], uint8_t server[32]);
/* Keys from a traffic secret of a TLS 1.3 suite (0x1301, 0x1302, 0x1303);
 * Initial keys use 0x1301. false: unknown suite, wrong secret length, or
 * libcrypto failed; *k is then cleared. */
bool quic_keys_set(struct quic_keys *k, uint32_t version, uint16_t suite, const uint8_t *secret,
		   size_t secret_len);
/* The keys of the next key phase (RFC 9001 section 6): next ≠ cur. */
bool quic_keys_update(const struct quic_keys *cur, struct quic_keys *next);
void quic_keys_clear(struct quic_keys *k);
/* Moves src into dst (dst cleared first, src left empty). */
void quic_keys_move(struct quic_keys *dst, struct quic_keys *src);

/* The 5-byte header protection mask of a 16-byte sample. */
bool quic_hp_mask(const struct quic_keys *k, const uint8_t sample[QUIC_SAMPLE_LEN],
		  uint8_t mask[5]);
/* Opens a packet payload: aad is the unprotected header, in holds
 * ciphertext and tag (len >= 16); out gets len - 16 bytes. false: the
 * tag did not verify (wrong key, damage). */
bool quic_aead_open(const struct quic_keys *k, uint64_t pn, const uint8_t *aad, size_t aad_len,
		    const uint8_t *in, size_t len, uint8_t *out);

/* HKDF-Expand-Label of TLS 1.3 with an empty context (exposed for tests). */
bool quic_hkdf_expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
			    const char *label, uint8_t *out, size_t out_len);

#endif
