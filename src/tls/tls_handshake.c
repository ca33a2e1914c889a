/*
 * tls_handshake.c — bounds-checked readers for hello messages
 * (tls_handshake.h). A cursor never reads past its end; any short field makes
 * the whole message malformed.
 */
#include "tls/tls_handshake.h"

#include <string.h>

struct cursor {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static const uint8_t *take(struct cursor *c, size_t n)
{
	if (c->bad || c->left < n) {
		c->bad = true;
		return NULL;
	}
	const uint8_t *r = c->p;
	c->p += n;
	c->left -= n;
	return r;
}

static uint32_t take_uint(struct cursor *c, size_t n)
{
	const uint8_t *p = take(c, n);
	uint32_t v = 0;
	for (size_t i = 0; p && i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* A length-prefixed vector as a sub-cursor. */
static struct cursor take_vector(struct cursor *c, size_t len_bytes)
{
	struct cursor sub = {0};
	size_t n = take_uint(c, len_bytes);
	sub.p = take(c, n);
	sub.left = sub.p ? n : 0;
	sub.bad = c->bad;
	return sub;
}

static const uint8_t hello_retry_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static void parse_alpn(struct cursor ext, char alpn[32])
{
	struct cursor list = take_vector(&ext, 2);
	struct cursor proto = take_vector(&list, 1);
	if (proto.bad || proto.left == 0 || proto.left >= 32)
		return;
	memcpy(alpn, proto.p, proto.left);
	alpn[proto.left] = '\0';
	for (size_t i = 0; i < proto.left; i++)
		if (alpn[i] < 0x21 || alpn[i] > 0x7e)
			alpn[i] = '?';
}

/* Walks extensions; is_server selects the meaning of supported_versions. */
static bool parse_extensions(struct cursor *c, struct tls_hello *h, bool is_server)
{
	if (c->left == 0)
		return true; /* no extensions at all */
	struct cursor exts = take_vector(c, 2);
	while (!exts.bad && exts.left > 0) {
		uint16_t type = (uint16_t)take_uint(&exts, 2);
		struct cursor ext = take_vector(&exts, 2);
		if (ext.bad)
			break;
		switch (type) {
		case 16: /* application_layer_protocol_negotiation */
			if (is_server)
				parse_alpn(ext, h->alpn);
			break;
		case 22: /* encrypt_then_mac */
			h->encrypt_then_mac = true;
			break;
		case 35: /* session_ticket */
			if (!is_server && ext.left <= TLS_TICKET_MAX) {
				memcpy(h->ticket, ext.p, ext.left);
				h->ticket_len = (uint16_t)ext.left;
			}
			break;
		case 43: /* supported_versions */
			if (is_server && ext.left == 2)
				h->version = (uint16_t)(ext.p[0] << 8 | ext.p[1]);
			break;
		default:
			break;
		}
	}
	return !exts.bad;
}

static bool parse_hello_common(struct cursor *c, struct tls_hello *h)
{
	memset(h, 0, sizeof(*h));
	h->legacy_version = (uint16_t)take_uint(c, 2);
	const uint8_t *random = take(c, 32);
	struct cursor sid = take_vector(c, 1);
	if (c->bad || sid.left > 32)
		return false;
	memcpy(h->random, random, 32);
	memcpy(h->session_id, sid.p, sid.left);
	h->session_id_len = (uint8_t)sid.left;
	h->version = h->legacy_version;
	return true;
}

bool tls_parse_client_hello(const uint8_t *p, size_t len, struct tls_hello *h)
{
	struct cursor c = {p, len, false};
	if (!parse_hello_common(&c, h))
		return false;
	take_vector(&c, 2); /* cipher suites */
	take_vector(&c, 1); /* compression methods */
	if (c.bad)
		return false;
	/* A client's supported_versions is a list; the server's choice counts. */
	return parse_extensions(&c, h, false);
}

bool tls_parse_server_hello(const uint8_t *p, size_t len, struct tls_hello *h)
{
	struct cursor c = {p, len, false};
	if (!parse_hello_common(&c, h))
		return false;
	h->cipher_suite = (uint16_t)take_uint(&c, 2);
	take(&c, 1); /* compression method */
	if (c.bad)
		return false;
	h->hello_retry = memcmp(h->random, hello_retry_random, 32) == 0;
	return parse_extensions(&c, h, true);
}

bool tls_parse_encrypted_extensions(const uint8_t *p, size_t len, char alpn[32])
{
	struct cursor c = {p, len, false};
	struct tls_hello h;
	memset(&h, 0, sizeof(h));
	if (!parse_extensions(&c, &h, true))
		return false;
	memcpy(alpn, h.alpn, sizeof(h.alpn));
	return true;
}

bool tls_parse_new_session_ticket(const uint8_t *p, size_t len, const uint8_t **ticket,
				  size_t *ticket_len)
{
	struct cursor c = {p, len, false};
	take(&c, 4); /* lifetime hint */
	struct cursor t = take_vector(&c, 2);
	if (t.bad || t.left == 0)
		return false;
	*ticket = t.p;
	*ticket_len = t.left;
	return true;
}
