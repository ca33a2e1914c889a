/*
 * tls_handshake.h — the few handshake messages the decryptor reads:
 * ClientHello, ServerHello, EncryptedExtensions and the TLS 1.2
 * NewSessionTicket. Every length is checked against the message bounds.
 */
#ifndef PA_TLS_HANDSHAKE_H
#define PA_TLS_HANDSHAKE_H

#include "privaudit.h"

enum {
	TLS_HS_CLIENT_HELLO = 1,
	TLS_HS_SERVER_HELLO = 2,
	TLS_HS_NEW_SESSION_TICKET = 4,
	TLS_HS_ENCRYPTED_EXTENSIONS = 8,
	TLS_HS_FINISHED = 20,
	TLS_HS_KEY_UPDATE = 24,
};

#define TLS_TICKET_MAX 1024

struct tls_hello {
	uint8_t random[32];
	uint8_t session_id[32];
	uint8_t session_id_len;
	uint16_t legacy_version;
	uint16_t version;          /* supported_versions when present, else legacy_version */
	uint16_t cipher_suite;     /* ServerHello */
	bool encrypt_then_mac;     /* extension 22 */
	bool hello_retry;          /* a ServerHello that is a HelloRetryRequest */
	uint16_t ticket_len;       /* ClientHello session_ticket extension */
	uint8_t ticket[TLS_TICKET_MAX];
	char alpn[32];             /* ServerHello: the chosen protocol */
};

/* Message bodies without the 4-byte handshake header. false: malformed. */
bool tls_parse_client_hello(const uint8_t *p, size_t len, struct tls_hello *h);
bool tls_parse_server_hello(const uint8_t *p, size_t len, struct tls_hello *h);
/* ALPN from EncryptedExtensions (TLS 1.3) into alpn (size >= 32). */
bool tls_parse_encrypted_extensions(const uint8_t *p, size_t len, char alpn[32]);
/* TLS 1.2 NewSessionTicket: the ticket bytes (pointer into p). */
bool tls_parse_new_session_ticket(const uint8_t *p, size_t len, const uint8_t **ticket,
				  size_t *ticket_len);

#endif
