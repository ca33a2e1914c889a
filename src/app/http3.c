/*
 * http3.c — HTTP/3 frames, QPACK and per-stream request assembly (http3.h).
 *
 * Each QUIC stream is a small state machine over its in-order bytes: for a
 * unidirectional stream first its type, then (control, request streams)
 * frames of varint type and length. HEADERS payloads are kept whole (they
 * are small and a block may have to wait for the encoder stream), DATA
 * bytes are appended to the stream's body, everything else is skipped.
 */
#include "app/http3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nghttp3/nghttp3.h>

#include "app/body.h"

enum { F_DATA = 0x0, F_HEADERS = 0x1, F_SETTINGS = 0x4 };
enum { SETTING_QPACK_MAX_TABLE_CAPACITY = 0x1, SETTING_QPACK_BLOCKED_STREAMS = 0x7 };
enum stream_kind { K_UNI_TYPE, K_REQUEST, K_CONTROL, K_ENCODER, K_SKIP };

#define SETTINGS_MAX 4096
#define QPACK_CAPACITY_MAX (1u << 20) /* larger tables are refused (memory) */
#define ENCODER_PENDING_MAX (64u * 1024)

struct h3_stream {
	uint64_t id;
	bool from_client;
	uint64_t last_use;
	uint8_t kind;             /* enum stream_kind */
	bool dead;                /* lost bytes or broke framing: ignored from here */
	uint8_t hdr[16];          /* the varints under way (stream type, frame header) */
	size_t hdr_have;
	bool in_frame;
	uint64_t ftype, flen, foff;
	uint8_t *block;           /* HEADERS / SETTINGS payload */
	size_t block_len;
	bool block_over;
	bool blocked;             /* the header block waits for encoder instructions */
	uint64_t block_packet;
	int64_t block_ts;
	nghttp3_qpack_stream_context *sctx;
	char content_type[128];
	char content_encoding[64];
	uint8_t *body;
	size_t body_len;
	bool body_over;
	uint64_t packet;          /* packet of the body's last byte */
	int64_t ts_us;
};

struct h3_side {
	nghttp3_qpack_decoder *decoder; /* decodes this side's header blocks */
	bool decoder_fed;               /* encoder instructions went into it */
	bool dead;                      /* QPACK state lost: header blocks no longer decode */
	bool settings_seen;
	uint64_t qpack_capacity;        /* this side's SETTINGS: what the peer's encoder may use */
	uint64_t qpack_blocked;
};

struct http3 {
	struct h3_side side[2]; /* 0 client, 1 server */
	struct h3_stream *streams[HTTP3_STREAMS_MAX];
	uint64_t clock;
	size_t max_body;
	http3_dns_fn dns;
	void *dns_ctx;
	struct http3_stats stats;
};

struct http3 *http3_new(size_t max_body, http3_dns_fn dns, void *dns_ctx)
{
	struct http3 *h = pa_xcalloc(1, sizeof *h);
	h->max_body = max_body ? max_body : 1024 * 1024;
	h->dns = dns;
	h->dns_ctx = dns_ctx;
	return h;
}

static void stream_free(struct h3_stream *st)
{
	if (st->sctx)
		nghttp3_qpack_stream_context_del(st->sctx);
	free(st->block);
	free(st->body);
	free(st);
}

void http3_free(struct http3 *h)
{
	if (!h)
		return;
	for (int i = 0; i < HTTP3_STREAMS_MAX; i++)
		if (h->streams[i])
			stream_free(h->streams[i]);
	for (int i = 0; i < 2; i++)
		if (h->side[i].decoder)
			nghttp3_qpack_decoder_del(h->side[i].decoder);
	free(h);
}

const struct http3_stats *http3_stats(const struct http3 *h)
{
	return &h->stats;
}

/* ---- QPACK ---------------------------------------------------------------- */

/*
 * The decoder of side s's header blocks. Its table capacity is what the
 * other side announced in its SETTINGS (RFC 9204 3.2.3: the Required
 * Insert Count is encoded modulo a function of it). Made when first
 * needed; one made before those SETTINGS arrived (capacity 0, the default
 * of RFC 9204 5) is made again when they do, as long as no encoder
 * instruction went into it.
 */
static nghttp3_qpack_decoder *decoder_of(struct http3 *h, int s)
{
	struct h3_side *side = &h->side[s], *peer = &h->side[1 - s];
	if (side->dead)
		return NULL;
	if (!side->decoder) {
		uint64_t cap = peer->qpack_capacity < QPACK_CAPACITY_MAX ? peer->qpack_capacity
									  : QPACK_CAPACITY_MAX;
		uint64_t blocked = peer->qpack_blocked < HTTP3_STREAMS_MAX ? peer->qpack_blocked
									    : HTTP3_STREAMS_MAX;
		if (nghttp3_qpack_decoder_new(&side->decoder, (size_t)cap, (size_t)blocked,
					      nghttp3_mem_default()) != 0) {
			side->decoder = NULL;
			side->dead = true;
		}
	}
	return side->decoder;
}

static void qpack_failed(struct http3 *h, int s)
{
	h->stats.qpack_errors++;
	h->side[s].dead = true;
}

/* ---- fields --------------------------------------------------------------- */

static void copy_text(char *dst, size_t cap, const uint8_t *v, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static void emit_at(struct field_emitter *e, uint64_t packet, int64_t ts, const char *name,
		    const uint8_t *v, size_t len)
{
	uint64_t sp = e->ref.packet;
	int64_t st = e->ref.ts_us;
	e->ref.packet = packet;
	e->ref.ts_us = ts;
	fields_emit(e, name, v, len);
	e->ref.packet = sp;
	e->ref.ts_us = st;
}

static void on_header(struct h3_stream *st, const uint8_t *name, size_t nlen, const uint8_t *v,
		      size_t vlen, struct field_emitter *e)
{
	char fname[FIELD_NAME_MAX], lname[96];
	bool client = st->from_client;
	uint64_t packet = st->block_packet;
	int64_t ts = st->block_ts;
	copy_text(lname, sizeof lname, name, nlen);
	if (client && strcmp(lname, ":path") == 0) {
		const uint8_t *q = memchr(v, '?', vlen);
		size_t path_len = q ? (size_t)(q - v) : vlen;
		uint8_t *path = pa_xmalloc(path_len + 1);
		size_t n = fields_url_decode(v, path_len, path, false);
		emit_at(e, packet, ts, "http3.path", path, n);
		free(path);
		if (q) {
			uint64_t sp = e->ref.packet;
			e->ref.packet = packet;
			fields_emit_params(e, "http3.query", q + 1, vlen - path_len - 1);
			e->ref.packet = sp;
		}
		return;
	}
	if (lname[0] == ':') {
		snprintf(fname, sizeof fname, "%s%s", client ? "http3." : "http3.response.", lname + 1);
		emit_at(e, packet, ts, fname, v, vlen);
		return;
	}
	snprintf(fname, sizeof fname, "%s:%s", client ? "http3.header" : "http3.response.header",
		 lname);
	emit_at(e, packet, ts, fname, v, vlen);
	if (strcasecmp(lname, "content-type") == 0) {
		copy_text(st->content_type, sizeof st->content_type, v, vlen);
	} else if (strcasecmp(lname, "content-encoding") == 0) {
		copy_text(st->content_encoding, sizeof st->content_encoding, v, vlen);
	} else if (client && strcasecmp(lname, "cookie") == 0) {
		uint64_t sp = e->ref.packet;
		e->ref.packet = packet;
		fields_emit_cookies(e, "http3.cookie", v, vlen);
		e->ref.packet = sp;
	}
}

/* The body of a stream that ended: fields, and a DoH answer to the DNS map. */
static void emit_body(struct http3 *h, struct h3_stream *st, struct field_emitter *e)
{
	if (!st->body_len)
		return;
	if (st->body_over)
		h->stats.body_truncated++;
	uint8_t *dec;
	size_t dec_len;
	enum body_status bs = body_decode(st->content_encoding[0] ? st->content_encoding : NULL,
					  st->body, st->body_len, h->max_body, &dec, &dec_len);
	if (bs == BODY_TRUNCATED)
		h->stats.body_truncated++;
	else if (bs == BODY_CORRUPT || bs == BODY_UNSUPPORTED)
		h->stats.body_undecoded++;
	uint64_t sp = e->ref.packet;
	int64_t sts = e->ref.ts_us;
	e->ref.packet = st->packet;
	e->ref.ts_us = st->ts_us;
	fields_emit_body(e, st->from_client ? "http3.body" : "http3.response.body",
			 st->content_type[0] ? st->content_type : NULL, dec, dec_len);
	e->ref.packet = sp;
	e->ref.ts_us = sts;
	if (!st->from_client && h->dns && strcasecmp(st->content_type, "application/dns-message") == 0)
		h->dns(h->dns_ctx, dec, dec_len, st->ts_us);
	free(dec);
	free(st->body);
	st->body = NULL;
	st->body_len = 0;
}

/* ---- header blocks -------------------------------------------------------- */

/* Decodes the stream's header block; one that refers to dynamic table
 * entries not yet inserted stays, for the encoder stream to unblock. */
static void decode_block(struct http3 *h, struct h3_stream *st, struct field_emitter *e)
{
	int s = st->from_client ? 0 : 1;
	nghttp3_qpack_decoder *dec = decoder_of(h, s);
	st->blocked = false;
	if (!dec)
		goto done;
	if (!st->sctx && nghttp3_qpack_stream_context_new(&st->sctx, (int64_t)st->id,
							  nghttp3_mem_default()) != 0) {
		st->sctx = NULL;
		goto done;
	}
	const uint8_t *p = st->block;
	size_t len = st->block_len;
	for (;;) {
		nghttp3_qpack_nv nv;
		uint8_t flags = 0;
		nghttp3_ssize n = nghttp3_qpack_decoder_read_request(dec, st->sctx, &nv, &flags, p,
								     len, 1);
		if (n < 0) {
			qpack_failed(h, s);
			goto done;
		}
		p += n;
		len -= (size_t)n;
		if (flags & NGHTTP3_QPACK_DECODE_FLAG_EMIT) {
			nghttp3_vec name = nghttp3_rcbuf_get_buf(nv.name);
			nghttp3_vec value = nghttp3_rcbuf_get_buf(nv.value);
			on_header(st, name.base, name.len, value.base, value.len, e);
			nghttp3_rcbuf_decref(nv.name);
			nghttp3_rcbuf_decref(nv.value);
		}
		if (flags & NGHTTP3_QPACK_DECODE_FLAG_FINAL)
			break;
		if (flags & NGHTTP3_QPACK_DECODE_FLAG_BLOCKED) {
			memmove(st->block, p, len);
			st->block_len = len;
			st->blocked = true;
			return;
		}
		if (n == 0 && !(flags & NGHTTP3_QPACK_DECODE_FLAG_EMIT))
			break;
	}
	if (st->from_client)
		h->stats.requests++;
	else
		h->stats.responses++;
done:
	/* Deleted, not reset: libnghttp3's reset drops a half-read name or value
	 * without releasing it, which a block that fails mid-field leaves. */
	if (st->sctx) {
		nghttp3_qpack_stream_context_del(st->sctx);
		st->sctx = NULL;
	}
	st->block_len = 0;
}

/* Encoder instructions of side s: they may unblock that side's blocks. */
static void encoder_bytes(struct http3 *h, int s, const uint8_t *p, size_t len,
			  struct field_emitter *e)
{
	nghttp3_qpack_decoder *dec = decoder_of(h, s);
	if (!dec)
		return;
	h->side[s].decoder_fed = true;
	if (nghttp3_qpack_decoder_read_encoder(dec, p, len) < 0) {
		qpack_failed(h, s);
		return;
	}
	for (int i = 0; i < HTTP3_STREAMS_MAX; i++) {
		struct h3_stream *st = h->streams[i];
		if (st && st->blocked && st->from_client == (s == 0))
			decode_block(h, st, e);
	}
}

static void on_settings(struct http3 *h, int s, const uint8_t *p, size_t len)
{
	struct h3_side *side = &h->side[s];
	size_t pos = 0;
	while (pos < len) {
		uint64_t id, v;
		size_t at = pos;
		/* two varints: identifier and value */
		size_t n1 = (size_t)1 << (p[at] >> 6);
		if (len - at < n1)
			break;
		id = p[at] & 0x3f;
		for (size_t i = 1; i < n1; i++)
			id = id << 8 | p[at + i];
		at += n1;
		if (at >= len)
			break;
		size_t n2 = (size_t)1 << (p[at] >> 6);
		if (len - at < n2)
			break;
		v = p[at] & 0x3f;
		for (size_t i = 1; i < n2; i++)
			v = v << 8 | p[at + i];
		pos = at + n2;
		if (id == SETTING_QPACK_MAX_TABLE_CAPACITY)
			side->qpack_capacity = v;
		else if (id == SETTING_QPACK_BLOCKED_STREAMS)
			side->qpack_blocked = v;
	}
	side->settings_seen = true;
	/* The peer's decoder, made before these arrived and still unused, is
	 * made again with the capacity they give. */
	struct h3_side *peer = &h->side[1 - s];
	if (peer->decoder && !peer->decoder_fed) {
		nghttp3_qpack_decoder_del(peer->decoder);
		peer->decoder = NULL;
	}
}

/* ---- streams -------------------------------------------------------------- */

static struct h3_stream *stream_get(struct http3 *h, bool from_client, uint64_t id,
				    struct field_emitter *e)
{
	int free_slot = -1, oldest = -1;
	for (int i = 0; i < HTTP3_STREAMS_MAX; i++) {
		struct h3_stream *st = h->streams[i];
		if (!st) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (st->id == id && st->from_client == from_client) {
			st->last_use = ++h->clock;
			return st;
		}
		if (oldest < 0 || st->last_use < h->streams[oldest]->last_use)
			oldest = i;
	}
	if (free_slot < 0) {
		h->stats.streams_evicted++;
		emit_body(h, h->streams[oldest], e);
		stream_free(h->streams[oldest]);
		h->streams[oldest] = NULL;
		free_slot = oldest;
	}
	struct h3_stream *st = pa_xcalloc(1, sizeof *st);
	st->id = id;
	st->from_client = from_client;
	st->last_use = ++h->clock;
	/* Bidirectional streams are requests (client-initiated ones; a server
	 * opens none in HTTP/3); unidirectional ones start with their type. */
	st->kind = (id & 2) ? K_UNI_TYPE : (id & 1) ? K_SKIP : K_REQUEST;
	h->streams[free_slot] = st;
	return st;
}

static void stream_close(struct http3 *h, struct h3_stream *st, struct field_emitter *e)
{
	emit_body(h, st, e);
	for (int i = 0; i < HTTP3_STREAMS_MAX; i++)
		if (h->streams[i] == st)
			h->streams[i] = NULL;
	stream_free(st);
}

/* Takes bytes into st->hdr until it holds `count` complete varints;
 * returns the bytes used, sets *done when they are complete. */
static size_t take_varints(struct h3_stream *st, const uint8_t *p, size_t len, int count,
			   bool *done)
{
	size_t used = 0;
	*done = false;
	while (used < len) {
		st->hdr[st->hdr_have++] = p[used++];
		/* walk the varints held so far */
		size_t at = 0;
		int complete = 0;
		while (at < st->hdr_have) {
			size_t n = (size_t)1 << (st->hdr[at] >> 6);
			if (st->hdr_have - at < n)
				break;
			at += n;
			complete++;
		}
		if (complete == count) {
			*done = true;
			return used;
		}
	}
	return used;
}

static uint64_t varint_at(const uint8_t *p, size_t *at)
{
	size_t n = (size_t)1 << (p[*at] >> 6);
	uint64_t v = p[*at] & 0x3f;
	for (size_t i = 1; i < n; i++)
		v = v << 8 | p[*at + i];
	*at += n;
	return v;
}

/* Payload bytes of the current frame. */
static void frame_bytes(struct http3 *h, struct h3_stream *st, const uint8_t *p, size_t n,
			uint64_t packet, int64_t ts)
{
	switch (st->ftype) {
	case F_HEADERS:
	case F_SETTINGS: {
		size_t cap = st->ftype == F_SETTINGS ? SETTINGS_MAX : HTTP3_HEADER_BLOCK_MAX;
		if (st->block_len + n > cap) {
			st->block_over = true;
			return;
		}
		if (!st->block)
			st->block = pa_xmalloc(cap);
		memcpy(st->block + st->block_len, p, n);
		st->block_len += n;
		st->block_packet = packet;
		st->block_ts = ts;
		break;
	}
	case F_DATA: {
		if (st->kind != K_REQUEST)
			break;
		size_t room = h->max_body - st->body_len;
		size_t take = n < room ? n : room;
		if (take < n)
			st->body_over = true;
		if (take) {
			st->body = pa_xrealloc(st->body, st->body_len + take);
			memcpy(st->body + st->body_len, p, take);
			st->body_len += take;
		}
		st->packet = packet;
		st->ts_us = ts;
		break;
	}
	default:
		break;
	}
}

static void frame_end(struct http3 *h, struct h3_stream *st, struct field_emitter *e)
{
	int s = st->from_client ? 0 : 1;
	if (st->block_over) {
		h->stats.protocol_errors++;
	} else if (st->ftype == F_HEADERS && st->kind == K_REQUEST) {
		if (st->block_len)
			decode_block(h, st, e);
	} else if (st->ftype == F_SETTINGS && st->kind == K_CONTROL) {
		on_settings(h, s, st->block, st->block_len);
	}
	if (!st->blocked)
		st->block_len = 0;
	st->block_over = false;
	st->in_frame = false;
}

/* Framed bytes of a request or control stream. */
static void frames(struct http3 *h, struct h3_stream *st, const uint8_t *p, size_t len,
		   uint64_t packet, int64_t ts, struct field_emitter *e)
{
	while (len && !st->dead) {
		if (!st->in_frame) {
			bool done;
			size_t used = take_varints(st, p, len, 2, &done);
			p += used;
			len -= used;
			if (!done)
				return;
			size_t at = 0;
			st->ftype = varint_at(st->hdr, &at);
			st->flen = varint_at(st->hdr, &at);
			st->hdr_have = 0;
			st->foff = 0;
			st->in_frame = true;
			h->stats.frames++;
			/* Another HEADERS frame (trailers) while the previous block
			 * still waits: one context cannot hold both, so the stream
			 * stops here. */
			if (st->blocked && st->ftype == F_HEADERS) {
				st->dead = true;
				return;
			}
			if (st->flen == 0)
				frame_end(h, st, e);
			continue;
		}
		uint64_t left = st->flen - st->foff;
		size_t n = left < len ? (size_t)left : len;
		frame_bytes(h, st, p, n, packet, ts);
		st->foff += n;
		p += n;
		len -= n;
		if (st->foff == st->flen)
			frame_end(h, st, e);
	}
}

void http3_stream(struct http3 *h, bool from_client, uint64_t id, const uint8_t *data, size_t len,
		  bool fin, uint64_t packet, int64_t ts_us, struct field_emitter *e)
{
	/* Client-initiated streams have even ids, server-initiated odd ones;
	 * both directions of a bidirectional stream share one id, so the
	 * sender tells them apart. */
	struct h3_stream *st = stream_get(h, from_client, id, e);
	if (!data) {
		if (!st->dead)
			h->stats.stream_gaps++;
		/* An encoder stream with a hole: the table is lost for good. */
		if (st->kind == K_ENCODER)
			qpack_failed(h, from_client ? 0 : 1);
		st->dead = true;
		len = 0;
	}
	if (st->kind == K_UNI_TYPE && len) {
		bool done;
		size_t used = take_varints(st, data, len, 1, &done);
		data += used;
		len -= used;
		if (done) {
			size_t at = 0;
			uint64_t type = varint_at(st->hdr, &at);
			st->hdr_have = 0;
			st->kind = type == 0x00 ? K_CONTROL : type == 0x02 ? K_ENCODER : K_SKIP;
		}
	}
	if (len && !st->dead) {
		switch (st->kind) {
		case K_REQUEST:
		case K_CONTROL:
			frames(h, st, data, len, packet, ts_us, e);
			break;
		case K_ENCODER:
			encoder_bytes(h, from_client ? 0 : 1, data, len, e);
			break;
		default:
			break;
		}
	}
	/* A stream whose block waits for the encoder stays until it decodes
	 * (or the connection ends). */
	if (fin && !st->blocked)
		stream_close(h, st, e);
}

void http3_finish(struct http3 *h, struct field_emitter *client, struct field_emitter *server)
{
	for (int i = 0; i < HTTP3_STREAMS_MAX; i++) {
		struct h3_stream *st = h->streams[i];
		if (st)
			stream_close(h, st, st->from_client ? client : server);
	}
}
