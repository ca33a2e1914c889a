/*
 * http1.c — HTTP/1.x messages to fields, on libhttp-parser.
 *
 * A kept-alive connection spends most of its life between messages, so
 * each side holds only the parser's state then; what a message gathers
 * (URL, header being read, content type, body, the packets behind the body)
 * is allocated when it starts and freed when it ends.
 */
#include "app/http1.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/body.h"

#define MAX_URL (64u * 1024)
#define MAX_HEADER_VALUE (64u * 1024)
#define MAX_HEADER_NAME 128
#define METHOD_QUEUE 32 /* pipelined requests awaiting a response */

/* The message under way on one side. */
struct message {
	uint8_t *url;
	size_t url_len;
	char hname[MAX_HEADER_NAME];
	size_t hname_len;
	uint8_t *hval;
	size_t hval_len;
	bool have_header;
	bool body_over;
	uint64_t url_packet, value_packet;
	char content_type[128];
	char content_encoding[64];
	uint8_t *body;
	size_t body_len, body_cap;
	struct field_origin origin; /* which packet brought which body bytes */
};

struct side {
	http_parser parser;
	struct http1 *conn;
	bool is_request;
	bool broken; /* after a parse error: scan raw until a message start */
	bool head_done; /* the message under way is past its headers */
	struct message *m; /* NULL between messages */
	/* Bytes fed since the message under way started, while it is in its
	 * request/status line and headers: scanned raw if the parser rejects it. */
	uint8_t *head_raw;
	size_t head_raw_len;

	/* the feed under way */
	struct field_emitter *e;
	uint64_t packet;
	int64_t ts_us;
};

struct http1 {
	struct side client, server;
	size_t max_body;
	char *host; /* Host of the latest request, NULL before any */
	uint8_t methods[METHOD_QUEUE]; /* enum http_method of requests not answered yet */
	unsigned method_head, method_count;
	struct http1_stats stats;
};

static const http_parser_settings *settings(void);

static void side_init(struct side *s, struct http1 *h, bool is_request)
{
	http_parser_init(&s->parser, is_request ? HTTP_REQUEST : HTTP_RESPONSE);
	s->parser.data = s;
	s->conn = h;
	s->is_request = is_request;
}

struct http1 *http1_new(size_t max_body)
{
	struct http1 *h = pa_xcalloc(1, sizeof *h);
	h->max_body = max_body ? max_body : (1u << 20);
	side_init(&h->client, h, true);
	side_init(&h->server, h, false);
	return h;
}

static void reset_message(struct side *s)
{
	struct message *m = s->m;
	if (!m)
		return;
	free(m->url);
	free(m->hval);
	free(m->body);
	free(m);
	s->m = NULL;
}

/* The message under way, started on its first byte. */
static struct message *message_of(struct side *s)
{
	if (!s->m)
		s->m = pa_xcalloc(1, sizeof *s->m);
	return s->m;
}

void http1_free(struct http1 *h)
{
	if (!h)
		return;
	reset_message(&h->client);
	reset_message(&h->server);
	free(h->client.head_raw);
	free(h->server.head_raw);
	free(h->host);
	free(h);
}

/* ---- emitting ------------------------------------------------------------- */

static int side_index(const struct side *s)
{
	return s->is_request ? 0 : 1;
}

/* Stream bytes of this side scanned as they are: the parser could not
 * make sense of them (field "http.unparsed"), or they lie past what the
 * decoder keeps of a body (`field` the body's name). */
static void emit_raw(struct side *s, const char *field, const uint8_t *v, size_t len)
{
	struct field_emitter *e = s->e;
	if (!len || !e || !e->raw)
		return;
	struct pa_field_ref ref = e->ref;
	ref.field = field;
	ref.packet = s->packet;
	ref.ts_us = s->ts_us;
	e->raw(e->ctx, &ref, v, len);
}

static void emit_unparsed(struct side *s, const uint8_t *v, size_t len)
{
	s->conn->stats.unparsed[side_index(s)] += len;
	emit_raw(s, "http.unparsed", v, len);
}

static void head_raw_clear(struct side *s)
{
	free(s->head_raw);
	s->head_raw = NULL;
	s->head_raw_len = 0;
}

static void emit(struct side *s, uint64_t packet, const char *name, const uint8_t *v, size_t len)
{
	struct field_emitter *e = s->e;
	uint64_t saved_packet = e->ref.packet;
	e->ref.packet = packet;
	fields_emit(e, name, v, len);
	e->ref.packet = saved_packet;
}

static void emit_request_line(struct side *s)
{
	struct message *m = message_of(s);
	const char *method = http_method_str((enum http_method)s->parser.method);
	emit(s, m->url_packet, "http.method", (const uint8_t *)method, strlen(method));
	const uint8_t *q = m->url ? memchr(m->url, '?', m->url_len) : NULL;
	size_t path_len = q ? (size_t)(q - m->url) : m->url_len;
	uint8_t *path = pa_xmalloc(path_len + 1);
	size_t n = fields_url_decode(m->url, path_len, path, false);
	emit(s, m->url_packet, "http.path", path, n);
	free(path);
	if (q) {
		uint64_t saved = s->e->ref.packet;
		s->e->ref.packet = m->url_packet;
		fields_emit_params(s->e, "http.query", q + 1, m->url_len - path_len - 1);
		s->e->ref.packet = saved;
	}
}

static void copy_header_text(char *dst, size_t cap, const uint8_t *v, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* The Host header, as long as the 255 bytes the report keeps of it. */
static void set_host(struct http1 *h, const uint8_t *v, size_t len)
{
	size_t n = len < 255 ? len : 255;
	free(h->host);
	h->host = pa_xmalloc(n + 1);
	memcpy(h->host, v, n);
	h->host[n] = '\0';
}

static void finish_header(struct side *s)
{
	struct message *m = s->m;
	if (!m || !m->have_header)
		return;
	m->have_header = false;
	m->hname[m->hname_len] = '\0';
	char name[FIELD_NAME_MAX];
	snprintf(name, sizeof name, "%s:%s", s->is_request ? "http.header" : "http.response.header",
		 m->hname);
	emit(s, m->value_packet, name, m->hval ? m->hval : (const uint8_t *)"", m->hval_len);

	if (!strcasecmp(m->hname, "Content-Type"))
		copy_header_text(m->content_type, sizeof m->content_type, m->hval, m->hval_len);
	else if (!strcasecmp(m->hname, "Content-Encoding"))
		copy_header_text(m->content_encoding, sizeof m->content_encoding, m->hval, m->hval_len);
	else if (s->is_request && !strcasecmp(m->hname, "Host"))
		set_host(s->conn, m->hval, m->hval_len);
	else if (s->is_request && !strcasecmp(m->hname, "Cookie")) {
		uint64_t saved = s->e->ref.packet;
		s->e->ref.packet = m->value_packet;
		fields_emit_cookies(s->e, "http.cookie", m->hval, m->hval_len);
		s->e->ref.packet = saved;
	}
	m->hname_len = 0;
	m->hval_len = 0;
}

static void emit_body(struct side *s)
{
	struct message *m = s->m;
	if (!m || !m->body_len)
		return;
	struct http1 *h = s->conn;
	if (m->body_over)
		h->stats.body_truncated++;
	uint8_t *dec;
	size_t dec_len;
	const char *body_name = s->is_request ? "http.body" : "http.response.body";
	enum body_status st = body_decode(m->content_encoding[0] ? m->content_encoding : NULL,
					  m->body, m->body_len, h->max_body, &dec, &dec_len);
	if (st == BODY_TRUNCATED && dec_len >= h->max_body) {
		/* Inflates past the bound: the fields come from the first
		 * max_body bytes, the rest is scanned raw, up to a bound that
		 * keeps a decompression bomb's cost finite. */
		uint8_t *more;
		size_t more_len;
		size_t hard = h->max_body * HTTP1_INFLATE_FACTOR;
		enum body_status st2 = body_decode(m->content_encoding, m->body, m->body_len, hard,
						   &more, &more_len);
		if (more_len > dec_len)
			emit_raw(s, body_name, more + dec_len, more_len - dec_len);
		free(more);
		if (st2 == BODY_TRUNCATED && more_len >= hard) {
			/* how much of the encoded body this covers is unknown:
			 * all of it is counted as not read */
			h->stats.body_bytes_truncated[side_index(s)] += m->body_len;
		}
	}
	if (st == BODY_TRUNCATED)
		h->stats.body_truncated++;
	else if (st == BODY_CORRUPT || st == BODY_UNSUPPORTED)
		h->stats.body_undecoded++;
	uint64_t saved = s->e->ref.packet;
	s->e->ref.packet = s->packet;
	/* Bytes as they came (no content coding): fields get the packet that
	 * carried them. Decompressed bytes exist only once the whole body is in. */
	bool as_sent = st == BODY_OK && dec_len == m->body_len &&
		       (!m->content_encoding[0] || !strcasecmp(m->content_encoding, "identity"));
	if (as_sent) {
		m->origin.base = dec;
		m->origin.len = dec_len;
		s->e->origin = &m->origin;
		s->e->cursor = 0;
	}
	fields_emit_body(s->e, body_name, m->content_type[0] ? m->content_type : NULL, dec, dec_len);
	s->e->origin = NULL;
	s->e->ref.packet = saved;
	free(dec);
}

/* ---- parser callbacks ----------------------------------------------------- */

static int append(uint8_t **buf, size_t *len, size_t max, const char *at, size_t n)
{
	if (*len >= max)
		return 0;
	if (n > max - *len)
		n = max - *len;
	*buf = pa_xrealloc(*buf, *len + n + 1);
	memcpy(*buf + *len, at, n);
	*len += n;
	return 0;
}

static int on_message_begin(http_parser *p)
{
	struct side *s = p->data;
	reset_message(s);
	s->head_done = false;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct side *s = p->data;
	struct message *m = message_of(s);
	m->url_packet = s->packet;
	return append(&m->url, &m->url_len, MAX_URL, at, n);
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct side *s = p->data;
	struct message *m = message_of(s);
	if (m->have_header)
		finish_header(s);
	size_t room = MAX_HEADER_NAME - 1 - m->hname_len;
	if (n > room)
		n = room;
	memcpy(m->hname + m->hname_len, at, n);
	m->hname_len += n;
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct side *s = p->data;
	struct message *m = message_of(s);
	m->have_header = true;
	m->value_packet = s->packet;
	return append(&m->hval, &m->hval_len, MAX_HEADER_VALUE, at, n);
}

static int on_headers_complete(http_parser *p)
{
	struct side *s = p->data;
	struct http1 *h = s->conn;
	finish_header(s);
	s->head_done = true;
	head_raw_clear(s);
	if (s->is_request) {
		emit_request_line(s);
		if (h->method_count < METHOD_QUEUE) {
			h->methods[(h->method_head + h->method_count) % METHOD_QUEUE] = (uint8_t)p->method;
			h->method_count++;
		}
		return 0;
	}
	/* A response to HEAD has headers only, whatever Content-Length says. */
	bool head = h->method_count && h->methods[h->method_head] == HTTP_HEAD;
	return head ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct side *s = p->data;
	struct message *m = message_of(s);
	size_t max = s->conn->max_body;
	if (m->body_len + n > max) {
		size_t keep = max - m->body_len;
		m->body_over = true;
		/* Past the bound: bytes as sent are still scanned raw; encoded
		 * ones cannot be read without what came before, so are not. */
		bool identity = !m->content_encoding[0] || !strcasecmp(m->content_encoding, "identity");
		if (identity)
			emit_raw(s, s->is_request ? "http.body" : "http.response.body",
				 (const uint8_t *)at + keep, n - keep);
		else
			s->conn->stats.body_bytes_truncated[side_index(s)] += n - keep;
		n = keep;
	}
	if (!n)
		return 0;
	if (m->body_len + n > m->body_cap) {
		size_t cap = m->body_cap ? m->body_cap * 2 : 4096;
		while (cap < m->body_len + n)
			cap *= 2;
		m->body = pa_xrealloc(m->body, cap);
		m->body_cap = cap;
	}
	memcpy(m->body + m->body_len, at, n);
	m->body_len += n;
	field_origin_add(&m->origin, m->body_len, s->packet, s->ts_us);
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct side *s = p->data;
	struct http1 *h = s->conn;
	emit_body(s);
	if (s->is_request) {
		h->stats.requests++;
	} else {
		h->stats.responses++;
		/* 1xx responses do not answer the request */
		if (p->status_code >= 200 && h->method_count) {
			h->method_head = (h->method_head + 1) % METHOD_QUEUE;
			h->method_count--;
		}
	}
	reset_message(s);
	return 0;
}

static const http_parser_settings *settings(void)
{
	static const http_parser_settings st = {
		.on_message_begin = on_message_begin,
		.on_url = on_url,
		.on_header_field = on_header_field,
		.on_header_value = on_header_value,
		.on_headers_complete = on_headers_complete,
		.on_body = on_body,
		.on_message_complete = on_message_complete,
	};
	return &st;
}

/* ---- feeding -------------------------------------------------------------- */

bool http1_looks_like_request(const uint8_t *d, size_t len)
{
	static const char *const methods[] = {"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ",
					      "PATCH ", "CONNECT ", "TRACE "};
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		size_t n = strlen(methods[i]);
		if (len >= n && !memcmp(d, methods[i], n))
			return true;
	}
	return false;
}

static bool looks_like_response(const uint8_t *d, size_t len)
{
	return len >= 7 && !memcmp(d, "HTTP/1.", 7);
}

/* After an error, the stream is HTTP again where a message starts at a
 * segment boundary; anything else is scanned raw and counted. */
static size_t resync(struct side *s, const uint8_t *d, size_t len)
{
	bool start = s->is_request ? http1_looks_like_request(d, len) : looks_like_response(d, len);
	if (!start)
		return len;
	reset_message(s);
	http_parser_init(&s->parser, s->is_request ? HTTP_REQUEST : HTTP_RESPONSE);
	s->parser.data = s;
	s->broken = false;
	s->head_done = false;
	return 0;
}

/* Cap on head_raw: http-parser rejects heads past 80 KiB itself. */
#define MAX_HEAD_RAW (96u * 1024)

static void feed(struct http1 *h, struct side *s, const uint8_t *data, size_t len);

void http1_feed(struct http1 *h, bool from_client, const uint8_t *data, size_t len,
		uint64_t packet, int64_t ts_us, struct field_emitter *e)
{
	struct side *s = from_client ? &h->client : &h->server;
	s->e = e;
	s->packet = packet;
	s->ts_us = ts_us;
	e->ref.packet = packet;
	e->ref.ts_us = ts_us;
	feed(h, s, data, len);
	s->e = NULL; /* the emitter lives for this call only */
}

static void feed(struct http1 *h, struct side *s, const uint8_t *data, size_t len)
{
	if (s->broken) {
		size_t skip = resync(s, data, len);
		h->stats.bytes_skipped += skip;
		emit_unparsed(s, data, skip);
		if (skip == len)
			return;
	}
	size_t n = http_parser_execute(&s->parser, settings(), (const char *)data, len);
	if (s->parser.upgrade) {
		/* CONNECT or Upgrade (WebSocket): what follows is not HTTP/1. */
		s->broken = true;
		h->stats.bytes_skipped += len - n;
		emit_unparsed(s, data + n, len - n);
		return;
	}
	if (HTTP_PARSER_ERRNO(&s->parser) != HPE_OK) {
		/* Nothing the parser saw of this message is lost: its fields so
		 * far (a partial body) are emitted, and its bytes from the start
		 * of the message scanned raw. */
		h->stats.parse_errors++;
		h->stats.bytes_skipped += len - n;
		if (s->m && s->head_done)
			emit_body(s);
		emit_unparsed(s, s->head_raw, s->head_raw_len);
		emit_unparsed(s, data, len);
		head_raw_clear(s);
		reset_message(s);
		s->broken = true;
		return;
	}
	/* A head still under way: keep its bytes in case the parser rejects
	 * it later (this whole feed: the message may have started in it). */
	if (s->m && !s->head_done) {
		size_t take = len;
		if (s->head_raw_len + take > MAX_HEAD_RAW)
			take = s->head_raw_len < MAX_HEAD_RAW ? MAX_HEAD_RAW - s->head_raw_len : 0;
		if (take) {
			s->head_raw = pa_xrealloc(s->head_raw, s->head_raw_len + take);
			memcpy(s->head_raw + s->head_raw_len, data, take);
			s->head_raw_len += take;
		}
	} else if (s->head_raw) {
		head_raw_clear(s);
	}
}

void http1_gap(struct http1 *h, bool from_client, size_t len, struct field_emitter *e)
{
	struct side *s = from_client ? &h->client : &h->server;
	h->stats.bytes_skipped += len;
	s->e = e;
	if (!s->broken) {
		/* the head so far cannot be parsed now: scanned raw */
		emit_unparsed(s, s->head_raw, s->head_raw_len);
		head_raw_clear(s);
		if (s->m && s->head_done && e)
			emit_body(s);
		reset_message(s);
		s->broken = true;
	}
	s->e = NULL;
}

void http1_finish(struct http1 *h, struct field_emitter *client, struct field_emitter *server)
{
	struct side *sides[2] = {&h->client, &h->server};
	struct field_emitter *es[2] = {client, server};
	for (int i = 0; i < 2; i++) {
		struct side *s = sides[i];
		if (s->broken || !es[i])
			continue;
		s->e = es[i];
		/* Tell the parser the connection closed: a body delimited by the
		 * close completes. An unfinished message still gives what it has:
		 * its body so far as fields, a head cut short as raw bytes. */
		http_parser_execute(&s->parser, settings(), NULL, 0);
		if (s->m && s->head_done)
			emit_body(s);
		emit_unparsed(s, s->head_raw, s->head_raw_len);
		head_raw_clear(s);
		reset_message(s);
		s->e = NULL;
	}
}

const char *http1_host(const struct http1 *h)
{
	return h->host ? h->host : "";
}

const struct http1_stats *http1_stats(const struct http1 *h)
{
	return &h->stats;
}

size_t http1_state_size(void)
{
	return sizeof(struct http1);
}
