/*
 * tls_session.h — passive decryption of one TLS connection with secrets from
 * a key log (keylog.h): TLS 1.2 (AES-GCM, ChaCha20-Poly1305, AES-CBC with
 * SHA-1/SHA-2 MACs, encrypt-then-MAC, resumption by session id and ticket)
 * and TLS 1.3 (AES-GCM, ChaCha20-Poly1305, handshake and application
 * secrets, KeyUpdate).
 *
 * One session per TCP flow, fed with each direction's in-order bytes (as
 * tcp_stream delivers them). Decrypted application data comes out through a
 * callback, in order, tagged with the packet that completed its record. A
 * record that fails authentication is counted and dropped: no byte of it is
 * ever handed on.
 *
 * Memory: the struct itself; a record buffer per direction while a record
 * spans segments (the record's size); a handshake message buffer likewise;
 * the hellos until the keys are in use; a bounded queue of records while the
 * key is not known yet; the keys while the session is among the most recent
 * to decrypt (tls_session_set_hot_limit).
 */
#ifndef PA_TLS_SESSION_H
#define PA_TLS_SESSION_H

#include "tls/keylog.h"

/* Plaintext application data of one direction, in stream order. */
typedef void (*tls_plaintext_fn)(void *ctx, bool from_client, const uint8_t *data, size_t len,
				 uint64_t packet, int64_t ts_us);

struct tls_info {
	uint16_t version;          /* 0x0303 TLS 1.2, 0x0304 TLS 1.3; 0 before the ServerHello */
	uint16_t cipher_suite;     /* 0 before the ServerHello */
	const char *cipher_name;   /* IANA name, or "0x...." for suites we do not know */
	bool decrypted;            /* at least one record decrypted */
	bool resumed;              /* TLS 1.2 abbreviated handshake */
	bool gap;                  /* a direction lost bytes: decryption stopped there */
	uint64_t records_decrypted;
	uint64_t records_failed;      /* authentication failed (wrong key) or malformed */
	uint64_t records_undecrypted; /* protected records we had no key for */
	uint64_t plaintext_bytes;     /* application data handed to the callback */
	uint64_t decrypted_bytes[2];  /* record bytes (header + ciphertext) that decrypted, [0] client */
	uint64_t cleartext_bytes[2];  /* records sent unprotected: hellos, certificates, CCS */
	uint32_t key_updates;         /* TLS 1.3 KeyUpdate messages followed */
	/* Why nothing was decrypted (NULL when something was): "no-key",
	 * "unsupported-suite", "unsupported-version", "gap", "not-tls",
	 * "handshake-incomplete", "bad-key" (every record failed authentication). */
	const char *reason;
	char alpn[32];             /* "h2", "http/1.1", "" when none negotiated / not seen */
	char cipher_buf[8];        /* backing for cipher_name of unknown suites */
};

struct tls_session;

/* `kl` may be NULL (nothing will decrypt; the handshake is still parsed) and
 * must outlive the session. It is written to only to remember TLS 1.2 master
 * secrets by session id and ticket for later resumed connections. */
struct tls_session *tls_session_new(struct keylog *kl);
void tls_session_free(struct tls_session *s);

/* In-order bytes of one direction. packet/ts: the packet carrying them. */
void tls_session_data(struct tls_session *s, bool from_client, const uint8_t *data, size_t len,
		      uint64_t packet, int64_t ts_us, tls_plaintext_fn plaintext_cb, void *ctx);
/* Looks again for the secrets of a connection whose records wait for them
 * (growing key log, keylog.h): call when the key log may have moved with no
 * new byte of the flow to trigger it, and before the flow ends. */
void tls_session_retry(struct tls_session *s, tls_plaintext_fn plaintext_cb, void *ctx);
/* A hole of len bytes in one direction: record framing is lost there, that
 * direction is no longer decrypted. */
void tls_session_gap(struct tls_session *s, bool from_client, size_t len);

void tls_session_info(const struct tls_session *s, struct tls_info *info);

/* Bytes of an established, idle session's state (memory accounting): when
 * decrypted, parked (what derives its keys again, not the keys); records in
 * flight not counted. */
size_t tls_session_state_size(bool decrypted);

/*
 * How many sessions of the calling thread keep their keys and OpenSSL's
 * cipher contexts (about 1 KiB a direction) between records: the ones that
 * decrypted most recently; the others park them (default and most: 64).
 * Waking a parked session costs a key derivation. Tests lower it.
 */
void tls_session_set_hot_limit(size_t n);

/* True when data (the first bytes a client sent) starts like a TLS record
 * carrying a ClientHello: the test for creating a session. */
bool tls_looks_like_client_hello(const uint8_t *data, size_t len);

#endif
