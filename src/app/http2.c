/*
 * http2.c — HTTP/2 frames, HPACK and per-stream request assembly (http2.h).
 *
 * Each direction is a small state machine over a byte stream: 9-byte frame
 * header, then the payload consumed piecewise (padding and priority bytes
 * skipped), header block bytes fed to the HPACK inflater as they arrive,
 * DATA bytes appended to the stream's body.
 */
#include "app/http2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nghttp2/nghttp2.h>

#include "app/body.h"

#define H2_MAX_STREAMS 16
#define H2_MAX_BODY (1024 * 1024)

enum {
	F_DATA = 0,
	F_HEADERS = 1,
	F_SETTINGS = 4,
	F_RST_STREAM = 3,
	F_CONTINUATION = 9,
};
enum { FL_END_STREAM = 0x1, FL_END_HEADERS = 0x4, FL_PADDED = 0x8, FL_PRIORITY = 0x20 };

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN 24

struct h2_stream {
	uint32_t id;           /* 0 = free slot */
	uint64_t last_use;
	char content_type[128];
	char content_encoding[64];
	uint8_t *body;
	size_t body_len;
	bool body_over;
	uint64_t packet;       /* packet of the body's last byte */
	int64_t ts_us;
};

struct h2_side {
	bool is_client;
	bool dead;
	size_t preface_have;
	nghttp2_hd_inflater *inflater;
	/* current frame */
	uint8_t fh[9];
	size_t fh_have;
	uint32_t flen, fstream;
	uint8_t ftype, fflags;
	size_t foff;          /* payload bytes consumed */
	size_t content_start; /* after pad length / priority */
	size_t pad;
	uint8_t setting[6];
	size_t setting_have;
	/* header block under way */
	uint32_t hb_stream;
	bool hb_end_stream;
	/* Streams under way, allocated when they open: a slot is free when
	 * NULL or when its id is 0. */
	struct h2_stream *streams[H2_MAX_STREAMS];
	uint64_t clock;
};

struct http2 {
	struct h2_side side[2];
	struct http2_stats stats;
};

struct http2 *http2_new(void)
{
	struct http2 *h = pa_xcalloc(1, sizeof(*h));
	for (int i = 0; i < 2; i++) {
		h->side[i].is_client = i == 0;
		if (nghttp2_hd_inflate_new(&h->side[i].inflater) != 0)
			h->side[i].dead = true;
	}
	return h;
}

void http2_free(struct http2 *h)
{
	if (!h)
		return;
	for (int i = 0; i < 2; i++) {
		if (h->side[i].inflater)
			nghttp2_hd_inflate_del(h->side[i].inflater);
		for (int k = 0; k < H2_MAX_STREAMS; k++)
			if (h->side[i].streams[k]) {
				free(h->side[i].streams[k]->body);
				free(h->side[i].streams[k]);
			}
	}
	free(h);
}

const struct http2_stats *http2_stats(const struct http2 *h)
{
	return &h->stats;
}

bool http2_looks_like_preface(const uint8_t *data, size_t len)
{
	size_t n = len < PREFACE_LEN ? len : PREFACE_LEN;
	return n > 0 && memcmp(data, preface, n) == 0;
}

/* ---- streams -------------------------------------------------------------- */

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

static void stream_emit_body(struct http2 *h, struct h2_side *side, struct h2_stream *st,
			     struct field_emitter *e)
{
	if (!st->body_len)
		return;
	if (st->body_over)
		h->stats.body_truncated++;
	uint8_t *dec;
	size_t dec_len;
	enum body_status bs = body_decode(st->content_encoding[0] ? st->content_encoding : NULL,
					  st->body, st->body_len, H2_MAX_BODY, &dec, &dec_len);
	if (bs == BODY_TRUNCATED)
		h->stats.body_truncated++;
	else if (bs == BODY_CORRUPT || bs == BODY_UNSUPPORTED)
		h->stats.body_undecoded++;
	uint64_t sp = e->ref.packet;
	int64_t sts = e->ref.ts_us;
	e->ref.packet = st->packet;
	e->ref.ts_us = st->ts_us;
	fields_emit_body(e, side->is_client ? "http2.body" : "http2.response.body",
			 st->content_type[0] ? st->content_type : NULL, dec, dec_len);
	e->ref.packet = sp;
	e->ref.ts_us = sts;
	free(dec);
}

static void stream_close(struct http2 *h, struct h2_side *side, struct h2_stream *st,
			 struct field_emitter *e)
{
	if (e)
		stream_emit_body(h, side, st, e);
	for (int k = 0; k < H2_MAX_STREAMS; k++)
		if (side->streams[k] == st)
			side->streams[k] = NULL;
	free(st->body);
	free(st);
}

/* A free slot reads as a stream of id 0 (a stream 0 takes the first one). */
static struct h2_stream *slot_stream(struct h2_side *side, int k)
{
	if (!side->streams[k])
		side->streams[k] = pa_xcalloc(1, sizeof(struct h2_stream));
	return side->streams[k];
}

static uint32_t slot_id(const struct h2_side *side, int k)
{
	return side->streams[k] ? side->streams[k]->id : 0;
}

static struct h2_stream *stream_get(struct http2 *h, struct h2_side *side, uint32_t id,
				    bool create, struct field_emitter *e)
{
	int oldest = -1, free_slot = -1;
	for (int i = 0; i < H2_MAX_STREAMS; i++) {
		uint32_t sid = slot_id(side, i);
		if (sid == id) {
			struct h2_stream *st = slot_stream(side, i);
			st->last_use = ++side->clock;
			return st;
		}
		if (!sid && free_slot < 0)
			free_slot = i;
		if (sid && (oldest < 0 || side->streams[i]->last_use < side->streams[oldest]->last_use))
			oldest = i;
	}
	if (!create)
		return NULL;
	if (free_slot < 0) {
		h->stats.streams_evicted++;
		stream_close(h, side, side->streams[oldest], e);
		free_slot = oldest;
	}
	struct h2_stream *st = slot_stream(side, free_slot);
	st->id = id;
	st->last_use = ++side->clock;
	return st;
}

static void copy_text(char *dst, size_t cap, const uint8_t *v, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* One decoded header of a block. */
static void on_header(struct http2 *h, struct h2_side *side, struct h2_stream *st,
		      const uint8_t *name, size_t nlen, const uint8_t *v, size_t vlen,
		      struct field_emitter *e)
{
	char fname[FIELD_NAME_MAX];
	uint64_t packet = e->ref.packet;
	int64_t ts = e->ref.ts_us;
	char lname[96];
	copy_text(lname, sizeof(lname), name, nlen);
	if (side->is_client && strcmp(lname, ":path") == 0) {
		const uint8_t *q = memchr(v, '?', vlen);
		size_t path_len = q ? (size_t)(q - v) : vlen;
		uint8_t *path = pa_xmalloc(path_len + 1);
		size_t n = fields_url_decode(v, path_len, path, false);
		emit_at(e, packet, ts, "http2.path", path, n);
		free(path);
		if (q)
			fields_emit_params(e, "http2.query", q + 1, vlen - path_len - 1);
		return;
	}
	if (lname[0] == ':') {
		snprintf(fname, sizeof(fname), "%s%s", side->is_client ? "http2." : "http2.response.",
			 lname + 1);
		emit_at(e, packet, ts, fname, v, vlen);
		return;
	}
	snprintf(fname, sizeof(fname), "%s:%s",
		 side->is_client ? "http2.header" : "http2.response.header", lname);
	emit_at(e, packet, ts, fname, v, vlen);
	if (st && strcasecmp(lname, "content-type") == 0)
		copy_text(st->content_type, sizeof(st->content_type), v, vlen);
	else if (st && strcasecmp(lname, "content-encoding") == 0)
		copy_text(st->content_encoding, sizeof(st->content_encoding), v, vlen);
	else if (side->is_client && strcasecmp(lname, "cookie") == 0)
		fields_emit_cookies(e, "http2.cookie", v, vlen);
	(void)h;
}

/* Header block bytes; final: the last bytes of the block. */
static void header_block(struct http2 *h, struct h2_side *side, const uint8_t *p, size_t len,
			 bool final, struct field_emitter *e)
{
	struct h2_stream *st = stream_get(h, side, side->hb_stream, true, e);
	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ssize_t used = nghttp2_hd_inflate_hd2(side->inflater, &nv, &flags, p, len, final);
		if (used < 0) {
			h->stats.hpack_errors++;
			side->dead = true;
			return;
		}
		p += used;
		len -= (size_t)used;
		if (flags & NGHTTP2_HD_INFLATE_EMIT)
			on_header(h, side, st, nv.name, nv.namelen, nv.value, nv.valuelen, e);
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(side->inflater);
			break;
		}
		if (len == 0 && !(flags & NGHTTP2_HD_INFLATE_EMIT))
			break;
	}
	if (final) {
		if (side->is_client)
			h->stats.requests++;
		else
			h->stats.responses++;
		if (side->hb_end_stream)
			stream_close(h, side, st, e);
	}
}

static void data_bytes(struct http2 *h, struct h2_side *side, const uint8_t *p, size_t len,
		       struct field_emitter *e)
{
	struct h2_stream *st = stream_get(h, side, side->fstream, true, e);
	size_t room = H2_MAX_BODY - st->body_len;
	size_t n = len < room ? len : room;
	if (n < len)
		st->body_over = true;
	if (n) {
		st->body = pa_xrealloc(st->body, st->body_len + n);
		memcpy(st->body + st->body_len, p, n);
		st->body_len += n;
	}
	st->packet = e->ref.packet;
	st->ts_us = e->ref.ts_us;
}

/* A SETTINGS entry from this side governs the other side's HPACK encoder. */
static void on_setting(struct http2 *h, struct h2_side *side, const uint8_t *s6)
{
	uint16_t id = (uint16_t)(s6[0] << 8 | s6[1]);
	uint32_t v = (uint32_t)s6[2] << 24 | (uint32_t)s6[3] << 16 | (uint32_t)s6[4] << 8 | s6[5];
	struct h2_side *other = &h->side[side->is_client ? 1 : 0];
	if (id == 1 && other->inflater && v <= (1u << 24))
		nghttp2_hd_inflate_change_table_size(other->inflater, v);
}

/* Payload bytes [foff, foff+len) of the current frame. */
static void frame_payload(struct http2 *h, struct h2_side *side, const uint8_t *p, size_t len,
			  struct field_emitter *e)
{
	while (len > 0 && !side->dead) {
		size_t off = side->foff;
		bool paddable = side->ftype == F_DATA || side->ftype == F_HEADERS;
		if (off == 0 && paddable) {
			side->pad = (side->fflags & FL_PADDED) ? p[0] : 0;
			side->content_start = (side->fflags & FL_PADDED) ? 1 : 0;
			if (side->ftype == F_HEADERS && (side->fflags & FL_PRIORITY))
				side->content_start += 5;
			if (side->content_start + side->pad > side->flen) {
				h->stats.protocol_errors++;
				side->dead = true;
				return;
			}
		}
		size_t content_end = side->flen - side->pad;
		size_t n;
		if (off < side->content_start) {
			n = side->content_start - off; /* pad length / priority: skip */
		} else if (off < content_end) {
			n = content_end - off;
			if (n > len)
				n = len;
			bool last = off + n == content_end;
			switch (side->ftype) {
			case F_HEADERS:
			case F_CONTINUATION:
				header_block(h, side, p, n, last && (side->fflags & FL_END_HEADERS), e);
				break;
			case F_DATA:
				data_bytes(h, side, p, n, e);
				break;
			case F_SETTINGS:
				for (size_t i = 0; i < n; i++) {
					side->setting[side->setting_have++] = p[i];
					if (side->setting_have == 6) {
						on_setting(h, side, side->setting);
						side->setting_have = 0;
					}
				}
				break;
			default:
				break;
			}
		} else {
			n = side->flen - off; /* padding */
		}
		if (n > len)
			n = len;
		side->foff += n;
		p += n;
		len -= n;
	}
}

static void frame_start(struct http2 *h, struct h2_side *side, struct field_emitter *e)
{
	const uint8_t *f = side->fh;
	side->flen = (uint32_t)f[0] << 16 | (uint32_t)f[1] << 8 | f[2];
	side->ftype = f[3];
	side->fflags = f[4];
	side->fstream = ((uint32_t)f[5] << 24 | (uint32_t)f[6] << 16 | (uint32_t)f[7] << 8 | f[8]) &
			0x7fffffff;
	side->foff = 0;
	side->pad = 0;
	side->content_start = 0;
	side->setting_have = 0;
	h->stats.frames++;
	if (side->ftype == F_HEADERS) {
		side->hb_stream = side->fstream;
		side->hb_end_stream = side->fflags & FL_END_STREAM;
	}
	if ((side->ftype == F_DATA || side->ftype == F_HEADERS) && (side->fflags & FL_PADDED) &&
	    side->flen == 0) {
		h->stats.protocol_errors++;
		side->dead = true;
	}
	/* A header block with no bytes still ends. */
	if ((side->ftype == F_HEADERS || side->ftype == F_CONTINUATION) && side->flen == 0 &&
	    (side->fflags & FL_END_HEADERS))
		header_block(h, side, (const uint8_t *)"", 0, true, e);
}

static void frame_end(struct http2 *h, struct h2_side *side, struct field_emitter *e)
{
	if (side->ftype == F_DATA && (side->fflags & FL_END_STREAM)) {
		struct h2_stream *st = stream_get(h, side, side->fstream, false, e);
		if (st)
			stream_close(h, side, st, e);
	} else if (side->ftype == F_RST_STREAM) {
		/* The sender will send no more on this stream: what it sent is
		 * complete. The peer's half stays open: a server answering early
		 * and resetting (nginx does so for a body it will not read) does
		 * not unsend the DATA the client already has in flight, and that
		 * body still leaves the device. */
		struct h2_stream *st = stream_get(h, side, side->fstream, false, e);
		if (st)
			stream_close(h, side, st, e);
	}
}

void http2_feed(struct http2 *h, bool from_client, const uint8_t *data, size_t len,
		uint64_t packet, int64_t ts_us, struct field_emitter *e)
{
	struct h2_side *side = &h->side[from_client ? 0 : 1];
	uint64_t sp = e->ref.packet;
	int64_t sts = e->ref.ts_us;
	e->ref.packet = packet;
	e->ref.ts_us = ts_us;
	if (from_client && side->preface_have < PREFACE_LEN && !side->dead) {
		size_t n = PREFACE_LEN - side->preface_have;
		if (n > len)
			n = len;
		if (memcmp(data, preface + side->preface_have, n) != 0) {
			h->stats.protocol_errors++;
			side->dead = true;
		}
		side->preface_have += n;
		data += n;
		len -= n;
	}
	while (len > 0 && !side->dead) {
		if (side->fh_have < 9) {
			size_t n = 9 - side->fh_have;
			if (n > len)
				n = len;
			memcpy(side->fh + side->fh_have, data, n);
			side->fh_have += n;
			data += n;
			len -= n;
			if (side->fh_have < 9)
				break;
			frame_start(h, side, e);
		} else {
			size_t n = side->flen - side->foff;
			if (n > len)
				n = len;
			frame_payload(h, side, data, n, e);
			data += n;
			len -= n;
		}
		if (side->fh_have == 9 && side->foff == side->flen && !side->dead) {
			frame_end(h, side, e);
			side->fh_have = 0;
		}
	}
	e->ref.packet = sp;
	e->ref.ts_us = sts;
}

void http2_gap(struct http2 *h, bool from_client, size_t len)
{
	if (len)
		h->side[from_client ? 0 : 1].dead = true;
}

void http2_finish(struct http2 *h, struct field_emitter *client, struct field_emitter *server)
{
	for (int i = 0; i < 2; i++) {
		struct field_emitter *e = i == 0 ? client : server;
		for (int k = 0; k < H2_MAX_STREAMS; k++)
			if (slot_id(&h->side[i], k))
				stream_close(h, &h->side[i], h->side[i].streams[k], e);
	}
}
