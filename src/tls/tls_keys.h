/*
 * tls_keys.h — cipher suites, key derivation and record protection for the
 * TLS decryptor, all through OpenSSL 3's libcrypto: EVP_KDF "TLS1-PRF" (TLS
 * 1.2 key expansion), EVP_KDF "HKDF" in expand-only mode with the TLS 1.3
 * HkdfLabel, EVP_CIPHER for AES-GCM, ChaCha20-Poly1305 and AES-CBC, and
 * EVP_MAC "HMAC" for the CBC suites.
 */
#ifndef PA_TLS_KEYS_H
#define PA_TLS_KEYS_H

#include "privaudit.h"

#define TLS_RECORD_HEADER 5
#define TLS_MAX_PLAINTEXT 16384
#define TLS_MAX_CIPHERTEXT (TLS_MAX_PLAINTEXT + 2048)

enum tls_cipher_kind { TLS_CIPHER_GCM, TLS_CIPHER_CHACHA, TLS_CIPHER_CBC };

struct tls_suite {
	uint16_t id;
	const char *name;        /* IANA name */
	bool tls13;
	enum tls_cipher_kind kind;
	uint8_t key_len;
	const char *prf_digest;  /* TLS 1.2 PRF / TLS 1.3 HKDF hash */
	const char *mac_digest;  /* CBC suites only */
	uint8_t mac_len;         /* CBC suites only */
};

/* The suite we can decrypt, NULL when not supported. */
const struct tls_suite *tls_suite_find(uint16_t id);
/* IANA name of any suite id for reports ("0x1234" style when unknown); buf >= 8. */
const char *tls_suite_name(uint16_t id, char *buf, size_t len);

/* Protection of one direction: key, IV / salt, MAC key, sequence number. */
struct tls_dir_keys {
	const struct tls_suite *suite;
	bool ready;
	bool encrypt_then_mac;
	uint64_t seq;
	uint8_t key[32];
	uint8_t iv[12];           /* TLS 1.3 / ChaCha: the full static IV; GCM 1.2: 4-byte salt */
	uint8_t mac_key[48];
	uint8_t secret[48];       /* TLS 1.3 traffic secret, for KeyUpdate */
	uint8_t secret_len;
	void *cipher_ctx;         /* EVP_CIPHER_CTX *, keyed once */
	void *mac_ctx;            /* EVP_MAC_CTX * (CBC suites) */
};

void tls_dir_keys_clear(struct tls_dir_keys *k);

/* TLS 1.2: key expansion from the master secret; fills client and server keys. */
bool tls12_derive_keys(const struct tls_suite *suite, const uint8_t master[48],
		       const uint8_t client_random[32], const uint8_t server_random[32],
		       bool encrypt_then_mac, struct tls_dir_keys *client,
		       struct tls_dir_keys *server);
/* TLS 1.3: traffic keys of one direction from its traffic secret. */
bool tls13_set_secret(const struct tls_suite *suite, const uint8_t *secret, size_t secret_len,
		      struct tls_dir_keys *k);
/* TLS 1.3 KeyUpdate: the next traffic secret of that direction. */
bool tls13_key_update(struct tls_dir_keys *k);

/*
 * Decrypts one record (header + fragment). On success the plaintext is in
 * out (room for TLS_MAX_CIPHERTEXT bytes), *out_len set, and for TLS 1.3 the
 * inner content type replaces *type. The sequence number advances only on
 * success. false: authentication failed or the record is malformed.
 */
bool tls_record_decrypt(struct tls_dir_keys *k, uint8_t *type, const uint8_t *header,
			const uint8_t *fragment, size_t len, uint8_t *out, size_t *out_len);

#endif
