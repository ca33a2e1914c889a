/*
 * http1.h — HTTP/1.x over one TCP connection, on Debian's libhttp-parser:
 * requests from the client side, responses from the server side, pipelining,
 * chunked and Content-Length bodies, bodies ended by close, HEAD and 1xx
 * responses. Every request part becomes a named field (fields.h); bodies are
 * decoded (chunked, then Content-Encoding) up to a bound before their fields
 * are walked.
 */
#ifndef PA_HTTP1_H
#define PA_HTTP1_H

#include "app/fields.h"

struct http1_stats {
	uint64_t requests;
	uint64_t responses;
	uint64_t parse_errors;    /* the stream stopped being HTTP; parsing resumes at the next message start */
	uint64_t body_truncated;  /* bodies longer than the bound: the rest not scanned */
	uint64_t body_undecoded;  /* content encodings that failed or are unknown */
	uint64_t bytes_skipped;   /* bytes not parsed (after an error, in gaps) */
	/* By side (0 client, 1 server): stream bytes scanned raw because the
	 * parser rejected them (the message under way at an error, what
	 * follows until the next message start, what follows an Upgrade), and
	 * body bytes not read: past the bound of a compressed body, or of
	 * one whose decoded form exceeds HTTP1_MAX_INFLATE. */
	uint64_t unparsed[2];
	uint64_t body_bytes_truncated[2];
};

/* Decoded bodies are walked as fields up to max_body; the decoded bytes past
 * it are scanned raw up to this many times max_body. */
#define HTTP1_INFLATE_FACTOR 16

struct http1;

/* max_body: bound on a decoded body (0 = 1 MiB). */
struct http1 *http1_new(size_t max_body);
void http1_free(struct http1 *h);

/* Bytes of the connection in stream order from one side. `e` carries the
 * sink and the field template (protocol, dir); packet/ts are of the packet
 * that carried these bytes. */
void http1_feed(struct http1 *h, bool from_client, const uint8_t *data, size_t len,
		uint64_t packet, int64_t ts_us, struct field_emitter *e);
/* A hole in one side's stream: the message under way is abandoned; what it
 * had goes to `e` (its body so far as fields, a head as raw bytes; NULL:
 * dropped). */
void http1_gap(struct http1 *h, bool from_client, size_t len, struct field_emitter *e);
/* End of the connection: bodies delimited by the close are complete now. */
void http1_finish(struct http1 *h, struct field_emitter *client, struct field_emitter *server);

/* Host header of the latest request ("" before any). */
const char *http1_host(const struct http1 *h);
const struct http1_stats *http1_stats(const struct http1 *h);

/* Bytes of a connection's state between messages (memory accounting); the
 * Host text and a message under way come on top. */
size_t http1_state_size(void);

/* True when data starts like an HTTP/1 request line ("GET /", "POST /" ...). */
bool http1_looks_like_request(const uint8_t *data, size_t len);

#endif
