/*
 * tls_keys.c — suites, key schedule and record decryption (tls_keys.h).
 * Every cryptographic operation is libcrypto's; this file only arranges
 * labels, nonces and additional data as RFC 5246, 7905, 7366 and 8446 say.
 */
#include "tls/tls_keys.h"

#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#define GCM 0
#define SHA256 "SHA256"
#define SHA384 "SHA384"

static const struct tls_suite suites[] = {
	/* TLS 1.3 */
	{0x1301, "TLS_AES_128_GCM_SHA256", true, TLS_CIPHER_GCM, 16, SHA256, NULL, 0},
	{0x1302, "TLS_AES_256_GCM_SHA384", true, TLS_CIPHER_GCM, 32, SHA384, NULL, 0},
	{0x1303, "TLS_CHACHA20_POLY1305_SHA256", true, TLS_CIPHER_CHACHA, 32, SHA256, NULL, 0},
	/* TLS 1.2 AEAD */
	{0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", false, TLS_CIPHER_GCM, 16, SHA256, NULL, 0},
	{0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", false, TLS_CIPHER_GCM, 32, SHA384, NULL, 0},
	{0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", false, TLS_CIPHER_GCM, 16, SHA256, NULL, 0},
	{0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", false, TLS_CIPHER_GCM, 32, SHA384, NULL, 0},
	{0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", false, TLS_CIPHER_GCM, 16, SHA256, NULL, 0},
	{0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", false, TLS_CIPHER_GCM, 32, SHA384, NULL, 0},
	{0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", false, TLS_CIPHER_GCM, 16, SHA256, NULL, 0},
	{0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", false, TLS_CIPHER_GCM, 32, SHA384, NULL, 0},
	{0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, TLS_CIPHER_CHACHA, 32, SHA256, NULL, 0},
	{0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", false, TLS_CIPHER_CHACHA, 32, SHA256, NULL, 0},
	{0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, TLS_CIPHER_CHACHA, 32, SHA256, NULL, 0},
	/* TLS 1.2 CBC */
	{0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", false, TLS_CIPHER_CBC, 16, SHA256, "SHA1", 20},
	{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", false, TLS_CIPHER_CBC, 32, SHA256, "SHA1", 20},
	{0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", false, TLS_CIPHER_CBC, 16, SHA256, "SHA1", 20},
	{0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", false, TLS_CIPHER_CBC, 32, SHA256, "SHA1", 20},
	{0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", false, TLS_CIPHER_CBC, 16, SHA256, "SHA1", 20},
	{0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", false, TLS_CIPHER_CBC, 32, SHA256, "SHA1", 20},
	{0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", false, TLS_CIPHER_CBC, 16, SHA256, "SHA1", 20},
	{0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", false, TLS_CIPHER_CBC, 32, SHA256, "SHA1", 20},
	{0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", false, TLS_CIPHER_CBC, 16, SHA256, SHA256, 32},
	{0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", false, TLS_CIPHER_CBC, 32, SHA256, SHA256, 32},
	{0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", false, TLS_CIPHER_CBC, 16, SHA256, SHA256, 32},
	{0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", false, TLS_CIPHER_CBC, 32, SHA256, SHA256, 32},
	{0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", false, TLS_CIPHER_CBC, 16, SHA256, SHA256, 32},
	{0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", false, TLS_CIPHER_CBC, 32, SHA384, SHA384, 48},
	{0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", false, TLS_CIPHER_CBC, 16, SHA256, SHA256, 32},
	{0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", false, TLS_CIPHER_CBC, 32, SHA384, SHA384, 48},
};

const struct tls_suite *tls_suite_find(uint16_t id)
{
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i].id == id)
			return &suites[i];
	return NULL;
}

const char *tls_suite_name(uint16_t id, char *buf, size_t len)
{
	const struct tls_suite *s = tls_suite_find(id);
	if (s)
		return s->name;
	snprintf(buf, len, "0x%04x", id);
	return buf;
}

void tls_dir_keys_clear(struct tls_dir_keys *k)
{
	EVP_CIPHER_CTX_free(k->cipher_ctx);
	EVP_MAC_CTX_free(k->mac_ctx);
	OPENSSL_cleanse(k, sizeof(*k));
}

static const EVP_CIPHER *suite_cipher(const struct tls_suite *s)
{
	switch (s->kind) {
	case TLS_CIPHER_GCM:
		return s->key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
	case TLS_CIPHER_CHACHA:
		return EVP_chacha20_poly1305();
	case TLS_CIPHER_CBC:
		return s->key_len == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
	}
	return NULL;
}

/* Keys the cipher (and MAC) contexts once; records then only set the IV. */
static bool keys_activate(struct tls_dir_keys *k)
{
	EVP_CIPHER_CTX_free(k->cipher_ctx);
	EVP_MAC_CTX_free(k->mac_ctx);
	k->mac_ctx = NULL;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	k->cipher_ctx = c;
	k->ready = false;
	if (!c || EVP_DecryptInit_ex(c, suite_cipher(k->suite), NULL, k->key, NULL) != 1)
		return false;
	if (k->suite->kind == TLS_CIPHER_CBC) {
		EVP_CIPHER_CTX_set_padding(c, 0);
		EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		if (!mac)
			return false;
		k->mac_ctx = EVP_MAC_CTX_new(mac);
		EVP_MAC_free(mac);
		OSSL_PARAM params[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
							 (char *)k->suite->mac_digest, 0),
			OSSL_PARAM_construct_end(),
		};
		if (!k->mac_ctx || EVP_MAC_init(k->mac_ctx, k->mac_key, k->suite->mac_len, params) != 1)
			return false;
	}
	k->seq = 0;
	k->ready = true;
	return true;
}

static bool tls_prf(const char *digest, const uint8_t *secret, size_t secret_len,
		    const uint8_t *seed, size_t seed_len, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (!ctx)
		return false;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, secret_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)seed, seed_len),
		OSSL_PARAM_construct_end(),
	};
	bool ok = EVP_KDF_derive(ctx, out, out_len, params) == 1;
	EVP_KDF_CTX_free(ctx);
	return ok;
}

bool tls12_derive_keys(const struct tls_suite *suite, const uint8_t master[48],
		       const uint8_t client_random[32], const uint8_t server_random[32],
		       bool encrypt_then_mac, struct tls_dir_keys *client,
		       struct tls_dir_keys *server)
{
	static const char label[] = "key expansion";
	uint8_t seed[sizeof(label) - 1 + 64];
	memcpy(seed, label, sizeof(label) - 1);
	memcpy(seed + sizeof(label) - 1, server_random, 32);
	memcpy(seed + sizeof(label) - 1 + 32, client_random, 32);

	size_t mac = suite->kind == TLS_CIPHER_CBC ? suite->mac_len : 0;
	size_t key = suite->key_len;
	size_t iv = suite->kind == TLS_CIPHER_GCM ? 4 : suite->kind == TLS_CIPHER_CHACHA ? 12 : 16;
	uint8_t block[2 * (48 + 32 + 16)];
	if (!tls_prf(suite->prf_digest, master, 48, seed, sizeof(seed), block, 2 * (mac + key + iv)))
		return false;
	const uint8_t *p = block;
	tls_dir_keys_clear(client);
	tls_dir_keys_clear(server);
	client->suite = server->suite = suite;
	client->encrypt_then_mac = server->encrypt_then_mac = encrypt_then_mac;
	memcpy(client->mac_key, p, mac), p += mac;
	memcpy(server->mac_key, p, mac), p += mac;
	memcpy(client->key, p, key), p += key;
	memcpy(server->key, p, key), p += key;
	if (iv <= sizeof(client->iv)) { /* CBC IVs are explicit per record */
		memcpy(client->iv, p, iv), p += iv;
		memcpy(server->iv, p, iv);
	}
	OPENSSL_cleanse(block, sizeof(block));
	return keys_activate(client) && keys_activate(server);
}

/* HKDF-Expand-Label(secret, label, "", len) of RFC 8446 section 7.1. */
static bool hkdf_expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
			      const char *label, uint8_t *out, size_t out_len)
{
	uint8_t info[2 + 1 + 255 + 1];
	size_t label_len = strlen(label);
	info[0] = (uint8_t)(out_len >> 8);
	info[1] = (uint8_t)out_len;
	info[2] = (uint8_t)(6 + label_len);
	memcpy(info + 3, "tls13 ", 6);
	memcpy(info + 9, label, label_len);
	info[9 + label_len] = 0; /* empty context */
	size_t info_len = 10 + label_len;

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
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, info_len),
		OSSL_PARAM_construct_end(),
	};
	bool ok = EVP_KDF_derive(ctx, out, out_len, params) == 1;
	EVP_KDF_CTX_free(ctx);
	return ok;
}

bool tls13_set_secret(const struct tls_suite *suite, const uint8_t *secret, size_t secret_len,
		      struct tls_dir_keys *k)
{
	size_t hash_len = strcmp(suite->prf_digest, SHA384) == 0 ? 48 : 32;
	if (secret_len != hash_len)
		return false;
	tls_dir_keys_clear(k);
	k->suite = suite;
	memcpy(k->secret, secret, secret_len);
	k->secret_len = (uint8_t)secret_len;
	if (!hkdf_expand_label(suite->prf_digest, secret, secret_len, "key", k->key, suite->key_len) ||
	    !hkdf_expand_label(suite->prf_digest, secret, secret_len, "iv", k->iv, 12))
		return false;
	return keys_activate(k);
}

bool tls13_key_update(struct tls_dir_keys *k)
{
	if (!k->suite || !k->suite->tls13)
		return false;
	uint8_t next[48];
	const struct tls_suite *suite = k->suite;
	size_t n = k->secret_len;
	if (!hkdf_expand_label(suite->prf_digest, k->secret, n, "traffic upd", next, n))
		return false;
	bool ok = tls13_set_secret(suite, next, n, k);
	OPENSSL_cleanse(next, sizeof(next));
	return ok;
}

static void put_seq(uint8_t out[8], uint64_t seq)
{
	for (int i = 7; i >= 0; i--, seq >>= 8)
		out[i] = (uint8_t)seq;
}

static bool aead_open(struct tls_dir_keys *k, const uint8_t nonce[12], const uint8_t *aad,
		      size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = k->cipher_ctx;
	int outl, finl;
	if (len < 16)
		return false;
	size_t clen = len - 16;
	if (EVP_DecryptInit_ex(c, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &outl, aad, (int)aad_len) != 1 ||
	    EVP_DecryptUpdate(c, out, &outl, in, (int)clen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, (void *)(in + clen)) != 1)
		return false;
	return EVP_DecryptFinal_ex(c, out + outl, &finl) == 1;
}

static bool hmac_check(struct tls_dir_keys *k, const uint8_t *pseudo_header, const uint8_t *data,
		       size_t len, const uint8_t *expected)
{
	uint8_t mac[64];
	size_t mac_len = 0;
	EVP_MAC_CTX *m = k->mac_ctx;
	if (EVP_MAC_init(m, NULL, 0, NULL) != 1 || EVP_MAC_update(m, pseudo_header, 13) != 1 ||
	    EVP_MAC_update(m, data, len) != 1 || EVP_MAC_final(m, mac, &mac_len, sizeof(mac)) != 1)
		return false;
	return mac_len == k->suite->mac_len && CRYPTO_memcmp(mac, expected, mac_len) == 0;
}

static bool cbc_decrypt(struct tls_dir_keys *k, const uint8_t *iv, const uint8_t *in, size_t len,
			uint8_t *out)
{
	EVP_CIPHER_CTX *c = k->cipher_ctx;
	int outl, finl;
	return EVP_DecryptInit_ex(c, NULL, NULL, NULL, iv) == 1 &&
	       EVP_DecryptUpdate(c, out, &outl, in, (int)len) == 1 &&
	       EVP_DecryptFinal_ex(c, out + outl, &finl) == 1;
}

/* Padding of a decrypted CBC record: n bytes of value n-1... returns the
 * plaintext length without it, or SIZE_MAX when malformed. */
static size_t cbc_unpad(const uint8_t *p, size_t len, size_t min_rest)
{
	if (len == 0)
		return SIZE_MAX;
	size_t pad = p[len - 1];
	if (pad + 1 + min_rest > len)
		return SIZE_MAX;
	for (size_t i = 0; i <= pad; i++)
		if (p[len - 1 - i] != pad)
			return SIZE_MAX;
	return len - pad - 1;
}

static bool cbc_open(struct tls_dir_keys *k, uint8_t type, const uint8_t *header,
		     const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
	size_t mac_len = k->suite->mac_len;
	uint8_t ph[13];
	put_seq(ph, k->seq);
	ph[8] = type;
	ph[9] = header[1];
	ph[10] = header[2];
	if (k->encrypt_then_mac) {
		/* IV | ciphertext | MAC(seq | header | IV | ciphertext) */
		if (len < 16 + 16 + mac_len || (len - mac_len) % 16 != 0)
			return false;
		size_t body = len - mac_len;
		ph[11] = (uint8_t)(body >> 8);
		ph[12] = (uint8_t)body;
		if (!hmac_check(k, ph, in, body, in + body))
			return false;
		if (!cbc_decrypt(k, in, in + 16, body - 16, out))
			return false;
		size_t n = cbc_unpad(out, body - 16, 0);
		if (n == SIZE_MAX)
			return false;
		*out_len = n;
		return true;
	}
	/* IV | E(plaintext | MAC | padding) */
	if (len < 16 + 16 || len % 16 != 0)
		return false;
	if (!cbc_decrypt(k, in, in + 16, len - 16, out))
		return false;
	size_t n = cbc_unpad(out, len - 16, mac_len);
	if (n == SIZE_MAX)
		return false;
	n -= mac_len;
	ph[11] = (uint8_t)(n >> 8);
	ph[12] = (uint8_t)n;
	if (!hmac_check(k, ph, out, n, out + n))
		return false;
	*out_len = n;
	return true;
}

bool tls_record_decrypt(struct tls_dir_keys *k, uint8_t *type, const uint8_t *header,
			const uint8_t *fragment, size_t len, uint8_t *out, size_t *out_len)
{
	if (!k->ready || len > TLS_MAX_CIPHERTEXT)
		return false;
	uint8_t nonce[12];
	bool ok;
	if (k->suite->tls13) {
		memcpy(nonce, k->iv, 12);
		for (int i = 0; i < 8; i++)
			nonce[11 - i] ^= (uint8_t)(k->seq >> (8 * i));
		if (!aead_open(k, nonce, header, TLS_RECORD_HEADER, fragment, len, out))
			return false;
		/* Inner plaintext: content | type | zero padding. */
		size_t n = len - 16;
		while (n > 0 && out[n - 1] == 0)
			n--;
		if (n == 0)
			return false;
		*type = out[n - 1];
		*out_len = n - 1;
		k->seq++;
		return true;
	}
	uint8_t aad[13];
	put_seq(aad, k->seq);
	aad[8] = *type;
	aad[9] = header[1];
	aad[10] = header[2];
	switch (k->suite->kind) {
	case TLS_CIPHER_GCM:
		/* salt(4) | explicit nonce (8, first bytes of the fragment) */
		if (len < 8 + 16)
			return false;
		memcpy(nonce, k->iv, 4);
		memcpy(nonce + 4, fragment, 8);
		aad[11] = (uint8_t)((len - 24) >> 8);
		aad[12] = (uint8_t)(len - 24);
		ok = aead_open(k, nonce, aad, 13, fragment + 8, len - 8, out);
		*out_len = len - 24;
		break;
	case TLS_CIPHER_CHACHA:
		if (len < 16)
			return false;
		memcpy(nonce, k->iv, 12);
		for (int i = 0; i < 8; i++)
			nonce[11 - i] ^= (uint8_t)(k->seq >> (8 * i));
		aad[11] = (uint8_t)((len - 16) >> 8);
		aad[12] = (uint8_t)(len - 16);
		ok = aead_open(k, nonce, aad, 13, fragment, len, out);
		*out_len = len - 16;
		break;
	case TLS_CIPHER_CBC:
		ok = cbc_open(k, *type, header, fragment, len, out, out_len);
		break;
	default:
		ok = false;
	}
	if (ok)
		k->seq++;
	return ok;
}
