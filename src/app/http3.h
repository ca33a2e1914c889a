/*
 * http3.h — HTTP/3 (RFC 9114) on the decrypted streams of one QUIC
 * connection: request streams (client-initiated bidirectional) carry
 * HEADERS and DATA frames; unidirectional streams are the control stream
 * (SETTINGS), the QPACK encoder and decoder streams (RFC 9204) and push
 * streams. Header blocks decode through Debian's libnghttp3 QPACK decoder
 * (one per direction, fed by that direction's encoder stream, so dynamic
 * table references resolve; a block that refers to entries not yet
 * received waits for them). Requests and responses become fields under
 * "http3.", with the same names and body decoders as HTTP/2:
 * http3.method, http3.path, http3.query:<k>, http3.authority,
 * http3.header:<name>, http3.cookie:<k>, http3.body(.json:, .form:),
 * http3.response.status, http3.response.header:<name>,
 * http3.response.body.
 *
 * A DNS over HTTPS answer (content-type application/dns-message) is also
 * handed to the DNS callback, so DoH/3 names feed the recipient map.
 *
 * Bounded: at most HTTP3_STREAMS_MAX streams followed at once, header
 * blocks up to HTTP3_HEADER_BLOCK_MAX, bodies up to max_body.
 */
#ifndef PA_HTTP3_H
#define PA_HTTP3_H

#include "app/fields.h"

#define HTTP3_STREAMS_MAX 32
#define HTTP3_HEADER_BLOCK_MAX (64u * 1024)

struct http3_stats {
	uint64_t frames;
	uint64_t requests;        /* header blocks from the client */
	uint64_t responses;       /* header blocks from the server */
	uint64_t qpack_errors;    /* a header block or encoder stream failed: that direction stops */
	uint64_t protocol_errors; /* impossible frame lengths, oversized header blocks */
	uint64_t body_truncated;
	uint64_t body_undecoded;
	uint64_t streams_evicted;
	uint64_t stream_gaps;     /* streams that lost bytes: their frames were dropped */
};

/* A DNS message carried over HTTP/3 (DoH): the answer side. */
typedef void (*http3_dns_fn)(void *ctx, const uint8_t *msg, size_t len, int64_t ts_us);

struct http3;

struct http3 *http3_new(size_t max_body, http3_dns_fn dns, void *dns_ctx);
void http3_free(struct http3 *h);

/* In-order bytes of QUIC stream `id` (data NULL: a hole of len bytes);
 * fin: the stream ends here. */
void http3_stream(struct http3 *h, bool from_client, uint64_t id, const uint8_t *data, size_t len,
		  bool fin, uint64_t packet, int64_t ts_us, struct field_emitter *e);
/* End of connection: bodies of streams that never ended are emitted. */
void http3_finish(struct http3 *h, struct field_emitter *client, struct field_emitter *server);

const struct http3_stats *http3_stats(const struct http3 *h);

#endif
