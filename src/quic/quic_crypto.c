/*
 * quic_crypto.c — QUIC packet protection with libcrypto (quic_crypto.h).
 */
#include "quic/quic_crypto.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

/* RFC 9001 section 5.2, RFC 9369 section 3.3.1, draft-ietf-quic-v2 (as
 * ngtcp2 0.12 builds it). */
static const uint8_t salt_v1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
				    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
static const uint8_t salt_v2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
				    0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
static const uint8_t salt_v2_draft[20] = {0xa7, 0x07, 0xc2, 0x03, 0xa5, 0x9b, 0x47,
					  0x18, 0x4a, 0x1d, 0x62, 0xca, 0x57, 0x04,
					  0x06, 0xea, 0x7a, 0xe3, 0xe5, 0xd3};

struct version_info {
	uint32_t version;
	const uint8_t *salt;
	const char *key, *iv, *hp, *ku;
	bool v2_types; /* long header types renumbered (RFC 9369 section 3.2) */
};

static const struct version_info versions[] = {
	{QUIC_VERSION_1, salt_v1, "quic key", "quic iv", "quic hp", "quic ku", false},
	{QUIC_VERSION_2, salt_v2, "quicv2 key", "quicv2 iv", "quicv2 hp", "quicv2 ku", true},
	{QUIC_VERSION_2_DRAFT, salt_v2_draft, "quicv2 key", "quicv2 iv", "quicv2 hp", "quic ku",
	 true},
};

static const struct version_info *version_find(uint32_t version)
{
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
		if (versions[i].version == version)
			return &versions[i];
	return NULL;
}

bool quic_version_supported(uint32_t version)
{
	return version_find(version) != NULL;
}

unsigned quic_long_type_v1(uint32_t version, unsigned type_bits)
{
	const struct version_info *v = version_find(version);
	if (!v || !v->v2_types)
		return type_bits & 3;
	/* v2: Initial 0b01, 0-RTT 0b10, Handshake 0b11, Retry 0b00 */
	return (type_bits + 3) & 3;
}

bool quic_hkdf_expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
			    const char *label, uint8_t *out, size_t out_len)
{
	uint8_t info[2 + 1 + 255 + 1];
	size_t label_len = strlen(label);
	if (label_len > 255 - 6)
		return false;
	info[0] = (uint8_t)(out_len >> 8);
	info[1] = (uint8_t)out_len;
	info[2] = (uint8_t)(6 + label_len);
	memcpy(info + 3, "tls13 ", 6);
	memcpy(info + 9, label, label_len);
	info[9 + label_len] = 0; /* empty context */
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (!ctx)
		return false;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, 10 + label_len),
		OSSL_PARAM_construct_end(),
	};
	bool ok = EVP_KDF_derive(ctx, out, out_len, params) == 1;
	EVP_KDF_CTX_free(ctx);
	return ok;
}

static bool hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
			 uint8_t out[32])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (!ctx)
		return false;
	int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
	/* An empty connection ID is legal: OpenSSL wants a non-NULL key. */
	static const uint8_t empty[1];
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						  (void *)(ikm_len ? ikm : empty), ikm_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
		OSSL_PARAM_construct_end(),
	};
	bool ok = EVP_KDF_derive(ctx, out, 32, params) == 1;
	EVP_KDF_CTX_free(ctx);
	return ok;
}

bool quic_initial_secrets(uint32_t version, const uint8_t *dcid, size_t dcid_len,
			  uint8_t client[32], uint8_t server[32])
{
	const struct version_info *v = version_find(version);
	uint8_t initial[32];
	if (!v || !hkdf_extract(v->salt, 20, dcid, dcid_len, initial))
		return false;
	bool ok = quic_hkdf_expand_label("SHA256", initial, 32, "client in", client, 32) &&
		  quic_hkdf_expand_label("SHA256", initial, 32, "server in", server, 32);
	OPENSSL_cleanse(initial, sizeof initial);
	return ok;
}

void quic_keys_clear(struct quic_keys *k)
{
	EVP_CIPHER_CTX_free(k->aead);
	EVP_CIPHER_CTX_free(k->hp);
	OPENSSL_cleanse(k, sizeof *k);
	memset(k, 0, sizeof *k);
}

void quic_keys_move(struct quic_keys *dst, struct quic_keys *src)
{
	quic_keys_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof *src);
}

bool quic_keys_set(struct quic_keys *k, uint32_t version, uint16_t suite, const uint8_t *secret,
		   size_t secret_len)
{
	quic_keys_clear(k);
	const struct version_info *v = version_find(version);
	const char *digest = suite == 0x1302 ? "SHA384" : "SHA256";
	size_t hash_len = suite == 0x1302 ? 48 : 32;
	const EVP_CIPHER *aead = suite == 0x1301   ? EVP_aes_128_gcm()
				 : suite == 0x1302 ? EVP_aes_256_gcm()
				 : suite == 0x1303 ? EVP_chacha20_poly1305()
						   : NULL;
	if (!v || !aead || secret_len != hash_len)
		return false;
	k->version = version;
	k->suite = suite;
	k->key_len = suite == 0x1301 ? 16 : 32;
	k->secret_len = (uint8_t)secret_len;
	memcpy(k->secret, secret, secret_len);
	uint8_t key[32];
	bool ok = quic_hkdf_expand_label(digest, secret, secret_len, v->key, key, k->key_len) &&
		  quic_hkdf_expand_label(digest, secret, secret_len, v->iv, k->iv, 12) &&
		  quic_hkdf_expand_label(digest, secret, secret_len, v->hp, k->hp_key, k->key_len);
	EVP_CIPHER_CTX *c = ok ? EVP_CIPHER_CTX_new() : NULL;
	k->aead = c;
	ok = c && EVP_DecryptInit_ex(c, aead, NULL, key, NULL) == 1;
	OPENSSL_cleanse(key, sizeof key);
	if (ok && suite != 0x1303) {
		EVP_CIPHER_CTX *h = EVP_CIPHER_CTX_new();
		k->hp = h;
		ok = h &&
		     EVP_EncryptInit_ex(h, k->key_len == 16 ? EVP_aes_128_ecb() : EVP_aes_256_ecb(),
					NULL, k->hp_key, NULL) == 1;
		if (ok)
			EVP_CIPHER_CTX_set_padding(h, 0);
	}
	if (!ok) {
		quic_keys_clear(k);
		return false;
	}
	k->ready = true;
	return true;
}

bool quic_keys_update(const struct quic_keys *cur, struct quic_keys *next)
{
	const struct version_info *v = version_find(cur->version);
	if (!cur->ready || !v)
		return false;
	uint8_t secret[QUIC_SECRET_MAX];
	const char *digest = cur->secret_len == 48 ? "SHA384" : "SHA256";
	bool ok = quic_hkdf_expand_label(digest, cur->secret, cur->secret_len, v->ku, secret,
					 cur->secret_len) &&
		  quic_keys_set(next, cur->version, cur->suite, secret, cur->secret_len);
	/* Header protection keys do not change with the key phase (RFC 9001 6.1). */
	if (ok) {
		memcpy(next->hp_key, cur->hp_key, sizeof next->hp_key);
		if (cur->hp && EVP_EncryptInit_ex(next->hp, NULL, NULL, cur->hp_key, NULL) != 1)
			ok = false;
	}
	OPENSSL_cleanse(secret, sizeof secret);
	return ok;
}

bool quic_hp_mask(const struct quic_keys *k, const uint8_t sample[QUIC_SAMPLE_LEN], uint8_t mask[5])
{
	uint8_t out[16];
	int outl = 0;
	if (k->hp) {
		if (EVP_EncryptUpdate(k->hp, out, &outl, sample, 16) != 1 || outl != 16)
			return false;
		memcpy(mask, out, 5);
		return true;
	}
	/* ChaCha20: the sample is the 4-byte counter then the 12-byte nonce,
	 * exactly OpenSSL's 16-byte IV layout; the mask is five bytes of
	 * keystream (zeros encrypted). */
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	static const uint8_t zeros[5];
	bool ok = c && EVP_EncryptInit_ex(c, EVP_chacha20(), NULL, k->hp_key, sample) == 1 &&
		  EVP_EncryptUpdate(c, mask, &outl, zeros, 5) == 1 && outl == 5;
	EVP_CIPHER_CTX_free(c);
	return ok;
}

bool quic_aead_open(const struct quic_keys *k, uint64_t pn, const uint8_t *aad, size_t aad_len,
		    const uint8_t *in, size_t len, uint8_t *out)
{
	if (!k->ready || len < QUIC_TAG_LEN || len > INT32_MAX || aad_len > INT32_MAX)
		return false;
	uint8_t nonce[12];
	memcpy(nonce, k->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	EVP_CIPHER_CTX *c = k->aead;
	size_t clen = len - QUIC_TAG_LEN;
	int outl = 0, finl = 0;
	return EVP_DecryptInit_ex(c, NULL, NULL, NULL, nonce) == 1 &&
	       EVP_DecryptUpdate(c, NULL, &outl, aad, (int)aad_len) == 1 &&
	       EVP_DecryptUpdate(c, out, &outl, in, (int)clen) == 1 &&
	       EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, QUIC_TAG_LEN, (void *)(in + clen)) == 1 &&
	       EVP_DecryptFinal_ex(c, out + outl, &finl) == 1;
}
