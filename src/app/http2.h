/*
 * http2.h — HTTP/2 over one connection (RFC 9113), as it comes out of TLS
 * decryption: the client connection preface, frames per stream, header
 * blocks (HEADERS + CONTINUATION) through nghttp2's HPACK inflater (one per
 * direction, as HPACK state is), DATA bodies per stream decoded by
 * Content-Encoding (body.h). Requests become fields like HTTP/1's under the
 * "http2." prefix: http2.method, http2.path, http2.query:<k>, http2.authority,
 * http2.header:<name>, http2.cookie:<k>, http2.body...; responses
 * http2.response.status, http2.response.header:<name>, http2.response.body.
 *
 * Frames are read as they stream in: no frame is buffered whole, only the
 * bodies of streams (bounded). A stream's state exists while it is open.
 */
#ifndef PA_HTTP2_H
#define PA_HTTP2_H

#include "app/fields.h"

struct http2_stats {
	uint64_t frames;
	uint64_t requests;        /* header blocks from the client */
	uint64_t responses;       /* header blocks from the server */
	uint64_t hpack_errors;    /* a header block failed to decode: that direction stops */
	uint64_t protocol_errors; /* bad preface, impossible frame lengths */
	uint64_t body_truncated;
	uint64_t body_undecoded;
	uint64_t streams_evicted; /* more concurrent streams than we follow */
};

struct http2;

struct http2 *http2_new(void);
void http2_free(struct http2 *h);

/* In-order bytes of one direction; packet/ts of the packet carrying them. */
void http2_feed(struct http2 *h, bool from_client, const uint8_t *data, size_t len,
		uint64_t packet, int64_t ts_us, struct field_emitter *e);
/* A hole in one direction: HPACK state is lost, that direction stops. */
void http2_gap(struct http2 *h, bool from_client, size_t len);
/* End of connection: bodies of streams that never ended are emitted. */
void http2_finish(struct http2 *h, struct field_emitter *client, struct field_emitter *server);

const struct http2_stats *http2_stats(const struct http2 *h);

/* True when data starts with the client connection preface (or a prefix of it). */
bool http2_looks_like_preface(const uint8_t *data, size_t len);

#endif
