/* test-http2.c — HTTP/2 frames to fields (app/http2.c): the connection
 * preface, HPACK header blocks (nghttp2's deflater makes them, so dynamic
 * table references are exercised) split over CONTINUATION frames and fed in
 * every segmentation, gzip DATA bodies, interleaved streams, padding and
 * priority, resets, and garbage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "app/http2.h"

#define MAX_SEEN 256
#define IMEI "358240051111110"
#define DEVID "9774d56d682e549c"

struct seen {
	char field[MAX_SEEN][FIELD_NAME_MAX];
	char value[MAX_SEEN][512];
	uint64_t packet[MAX_SEEN];
	enum pa_dir dir[MAX_SEEN];
	size_t n;
};

static void sink(void *ctx, const struct pa_field_ref *ref, const uint8_t *v, size_t len)
{
	struct seen *s = ctx;
	if (s->n == MAX_SEEN)
		return;
	snprintf(s->field[s->n], FIELD_NAME_MAX, "%s", ref->field);
	size_t n = len < 511 ? len : 511;
	memcpy(s->value[s->n], v, n);
	s->value[s->n][n] = '\0';
	s->packet[s->n] = ref->packet;
	s->dir[s->n] = ref->dir;
	s->n++;
}

static const char *value_of(const struct seen *s, const char *field)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->field[i], field))
			return s->value[i];
	return NULL;
}

static const char *last_value_of(const struct seen *s, const char *field)
{
	const char *v = NULL;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->field[i], field))
			v = s->value[i];
	return v ? v : "";
}

static size_t count_of(const struct seen *s, const char *field)
{
	size_t c = 0;
	for (size_t i = 0; i < s->n; i++)
		c += !strcmp(s->field[i], field);
	return c;
}

static uint64_t packet_of(const struct seen *s, const char *field)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->field[i], field))
			return s->packet[i];
	return 0;
}

static void assert_value(const struct seen *s, const char *field, const char *value)
{
	const char *v = value_of(s, field);
	if (!v)
		fail_msg("field %s not emitted (%zu fields)", field, s->n);
	assert_string_equal(v, value);
}

/* ---- building a connection ---------------------------------------------- */

struct wire {
	uint8_t b[65536];
	size_t n;
};

static void put(struct wire *w, const void *p, size_t n)
{
	assert_true(w->n + n <= sizeof(w->b));
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void frame(struct wire *w, uint8_t type, uint8_t flags, uint32_t stream, const void *p,
		  size_t n)
{
	uint8_t h[9] = {(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
			(uint8_t)(stream >> 24), (uint8_t)(stream >> 16), (uint8_t)(stream >> 8),
			(uint8_t)stream};
	put(w, h, 9);
	if (n)
		put(w, p, n);
}

static void preface(struct wire *w)
{
	put(w, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	frame(w, 4, 0, 0, NULL, 0); /* empty SETTINGS */
}

#define NV(n, v)                                                                              \
	{                                                                                     \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1,                 \
			NGHTTP2_NV_FLAG_NONE                                                  \
	}

/* An HPACK block of the headers, with the direction's deflater. */
static size_t hpack(nghttp2_hd_deflater *d, const nghttp2_nv *nv, size_t n, uint8_t *out,
		    size_t cap)
{
	ssize_t r = nghttp2_hd_deflate_hd(d, out, cap, nv, n);
	assert_true(r > 0);
	return (size_t)r;
}

static size_t gzip_bytes(const char *in, uint8_t *out, size_t cap)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)strlen(in);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t n = cap - z.avail_out;
	deflateEnd(&z);
	return n;
}

/* Feeds the whole wire in pieces of `step` bytes (0: at once), each piece
 * one "packet" numbered from first_packet. */
static void feed(struct http2 *h, bool from_client, const struct wire *w, size_t step,
		 uint64_t first_packet, struct field_emitter *e)
{
	if (!step)
		step = w->n;
	uint64_t pkt = first_packet;
	for (size_t off = 0; off < w->n; off += step, pkt++) {
		size_t n = w->n - off < step ? w->n - off : step;
		http2_feed(h, from_client, w->b + off, n, pkt, 1000, e);
	}
}

static struct field_emitter emitter(struct seen *s, enum pa_dir dir)
{
	struct field_emitter e = {.sink = sink, .ctx = s};
	e.ref.protocol = "tls-decrypted";
	e.ref.dir = dir;
	return e;
}

/* ---- tests -------------------------------------------------------------- */

static void test_preface(void **state)
{
	(void)state;
	static const char p[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	assert_true(http2_looks_like_preface((const uint8_t *)p, 24));
	assert_true(http2_looks_like_preface((const uint8_t *)p, 5)); /* a prefix so far */
	assert_false(http2_looks_like_preface((const uint8_t *)"GET / HTTP/1.1\r\n", 16));
	assert_false(http2_looks_like_preface((const uint8_t *)p, 0));

	/* A client that does not start with the preface is not HTTP/2: nothing
	 * is read from it, the error is counted. */
	struct seen s = {0};
	struct field_emitter e = emitter(&s, PA_DIR_FROM_SRC);
	struct http2 *h = http2_new();
	http2_feed(h, true, (const uint8_t *)"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27, 1, 0, &e);
	assert_int_equal(http2_stats(h)->protocol_errors, 1);
	assert_int_equal(http2_stats(h)->frames, 0);
	assert_int_equal(s.n, 0);
	http2_free(h);
}

/* A request's header block through HPACK with indexed and literal headers,
 * split into HEADERS + 2 CONTINUATION frames, fed in every segment size
 * from 1 byte up: the same fields come out, with the packet of the block's
 * last byte. The second request reuses the dynamic table. */
static void test_headers_continuation(void **state)
{
	(void)state;
	for (size_t step = 0; step <= 64; step += (step < 12 ? 1 : 13)) {
		nghttp2_hd_deflater *d;
		assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
		nghttp2_nv req[] = {
			NV(":method", "GET"),
			NV(":scheme", "https"),
			NV(":authority", "api.example.cn"),
			NV(":path", "/v1/collect?imei=" IMEI "&os=android%2014"),
			NV("x-device-id", DEVID),
			NV("cookie", "sid=abc; uid=" DEVID),
			NV("user-agent", "okhttp/4.9.3"),
		};
		uint8_t block[1024];
		size_t n = hpack(d, req, sizeof(req) / sizeof(req[0]), block, sizeof(block));
		assert_true(n > 30);

		struct wire w = {0};
		preface(&w);
		size_t a = n / 3, b = 2 * n / 3;
		frame(&w, 1, 0x01, 1, block, a);                 /* HEADERS, END_STREAM */
		frame(&w, 9, 0x00, 1, block + a, b - a);         /* CONTINUATION */
		frame(&w, 9, 0x04, 1, block + b, n - b);         /* CONTINUATION, END_HEADERS */
		/* Second request: mostly dynamic table references now. */
		nghttp2_nv req2[] = {
			NV(":method", "GET"),
			NV(":scheme", "https"),
			NV(":authority", "api.example.cn"),
			NV(":path", "/v1/second"),
			NV("x-device-id", DEVID),
		};
		size_t n2 = hpack(d, req2, sizeof(req2) / sizeof(req2[0]), block, sizeof(block));
		frame(&w, 1, 0x05, 3, block, n2);
		nghttp2_hd_deflate_del(d);

		struct seen s = {0};
		struct field_emitter e = emitter(&s, PA_DIR_FROM_SRC);
		struct http2 *h = http2_new();
		feed(h, true, &w, step, 1, &e);
		assert_int_equal(http2_stats(h)->hpack_errors, 0);
		assert_int_equal(http2_stats(h)->protocol_errors, 0);
		assert_int_equal(http2_stats(h)->requests, 2);
		assert_int_equal(http2_stats(h)->frames, 5);
		assert_value(&s, "http2.method", "GET");
		assert_value(&s, "http2.authority", "api.example.cn");
		assert_value(&s, "http2.path", "/v1/collect");
		assert_value(&s, "http2.query:imei", IMEI);
		assert_value(&s, "http2.query:os", "android 14");
		assert_value(&s, "http2.header:x-device-id", DEVID);
		assert_value(&s, "http2.cookie:uid", DEVID);
		assert_value(&s, "http2.header:user-agent", "okhttp/4.9.3");
		assert_int_equal(count_of(&s, "http2.header:x-device-id"), 2);
		assert_int_equal(count_of(&s, "http2.path"), 2);
		assert_string_equal(last_value_of(&s, "http2.path"), "/v1/second");
		/* Emitted with the packet holding the header's bytes (whole feed: 1). */
		if (step == 0)
			assert_int_equal(packet_of(&s, "http2.query:imei"), 1);
		else
			assert_true(packet_of(&s, "http2.query:imei") > 1);
		for (size_t i = 0; i < s.n; i++)
			assert_int_equal(s.dir[i], PA_DIR_FROM_SRC);
		http2_free(h);
	}
}

/* A POST with a gzip JSON body in two DATA frames (one padded), the
 * response with its status and body; the body's fields carry the packet of
 * its last byte. */
static void test_data_gzip(void **state)
{
	(void)state;
	nghttp2_hd_deflater *dc, *ds;
	assert_int_equal(nghttp2_hd_deflate_new(&dc, 4096), 0);
	assert_int_equal(nghttp2_hd_deflate_new(&ds, 4096), 0);
	uint8_t block[512], gz[512];
	size_t gz_len = gzip_bytes("{\"android_id\":\"" DEVID "\",\"loc\":{\"lat\":31.2304,"
				   "\"lon\":121.4737}}",
				   gz, sizeof(gz));
	nghttp2_nv req[] = {
		NV(":method", "POST"),         NV(":scheme", "https"),
		NV(":authority", "a.example"), NV(":path", "/upload"),
		NV("content-type", "application/json"), NV("content-encoding", "gzip"),
	};
	struct wire c = {0};
	preface(&c);
	frame(&c, 1, 0x04, 1, block, hpack(dc, req, 6, block, sizeof(block)));
	struct wire c2 = {0};
	size_t half = gz_len / 2;
	uint8_t padded[512];
	padded[0] = 7; /* pad length */
	memcpy(padded + 1, gz, half);
	memset(padded + 1 + half, 0, 7);
	frame(&c2, 0, 0x08, 1, padded, 1 + half + 7);   /* DATA, PADDED */
	frame(&c2, 0, 0x01, 1, gz + half, gz_len - half); /* DATA, END_STREAM */

	nghttp2_nv resp[] = {NV(":status", "200"), NV("content-type", "text/plain")};
	struct wire sv = {0};
	frame(&sv, 4, 0, 0, NULL, 0);
	frame(&sv, 1, 0x04, 1, block, hpack(ds, resp, 2, block, sizeof(block)));
	frame(&sv, 0, 0x01, 1, "ok\n", 3);
	nghttp2_hd_deflate_del(dc);
	nghttp2_hd_deflate_del(ds);

	struct seen s = {0};
	struct field_emitter ec = emitter(&s, PA_DIR_FROM_SRC);
	struct field_emitter es = emitter(&s, PA_DIR_FROM_DST);
	struct http2 *h = http2_new();
	feed(h, true, &c, 0, 10, &ec);
	feed(h, false, &sv, 0, 11, &es);
	assert_null(value_of(&s, "http2.body.json:android_id")); /* body not complete yet */
	feed(h, true, &c2, 0, 12, &ec);
	assert_value(&s, "http2.body.json:android_id", DEVID);
	assert_value(&s, "http2.body.json:loc.lat", "31.2304");
	assert_int_equal(packet_of(&s, "http2.body.json:android_id"), 12);
	assert_value(&s, "http2.method", "POST");
	assert_value(&s, "http2.header:content-encoding", "gzip");
	assert_value(&s, "http2.response.status", "200");
	assert_value(&s, "http2.response.body", "ok\n");
	assert_int_equal(packet_of(&s, "http2.response.status"), 11);
	assert_int_equal(http2_stats(h)->body_undecoded, 0);
	assert_int_equal(http2_stats(h)->requests, 1);
	assert_int_equal(http2_stats(h)->responses, 1);
	http2_free(h);
}

/* Streams 1, 3 and 5 interleaved frame by frame, with a HEADERS carrying
 * priority and padding; each body is assembled from its own frames only. */
static void test_interleaved_streams(void **state)
{
	(void)state;
	nghttp2_hd_deflater *d;
	assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
	uint8_t block[512];
	struct wire w = {0};
	preface(&w);
	static const char *paths[] = {"/one", "/three", "/five"};
	for (int i = 0; i < 3; i++) {
		nghttp2_nv nv[] = {
			NV(":method", "POST"), NV(":scheme", "https"), NV(":authority", "x.example"),
			{(uint8_t *)":path", (uint8_t *)paths[i], 5, strlen(paths[i]),
			 NGHTTP2_NV_FLAG_NONE},
			NV("content-type", "application/x-www-form-urlencoded"),
		};
		size_t n = hpack(d, nv, 5, block, sizeof(block));
		uint32_t id = 1 + 2 * (uint32_t)i;
		if (i == 1) {
			/* PADDED | PRIORITY | END_HEADERS: pad len, 5 priority bytes, block, pad. */
			uint8_t f[600];
			f[0] = 3;
			memset(f + 1, 0, 5);
			memcpy(f + 6, block, n);
			memset(f + 6 + n, 0, 3);
			frame(&w, 1, 0x2c, id, f, 6 + n + 3);
		} else {
			frame(&w, 1, 0x04, id, block, n);
		}
	}
	frame(&w, 0, 0, 3, "imei=" IMEI "&", 21);
	frame(&w, 0, 0, 1, "a=1&", 4);
	frame(&w, 0, 0, 5, "mac=8c%3Abe", 11);
	frame(&w, 0, 0, 3, "k=", 2);
	frame(&w, 0, 1, 1, "b=2", 3);
	frame(&w, 0, 1, 3, "v", 1);
	frame(&w, 0, 1, 5, "%3Abe", 5);
	nghttp2_hd_deflate_del(d);

	for (size_t step = 0; step <= 7; step += 7) {
		struct seen s = {0};
		struct field_emitter e = emitter(&s, PA_DIR_FROM_SRC);
		struct http2 *h = http2_new();
		feed(h, true, &w, step, 1, &e);
		assert_int_equal(http2_stats(h)->protocol_errors, 0);
		assert_int_equal(http2_stats(h)->requests, 3);
		assert_int_equal(count_of(&s, "http2.body"), 3);
		assert_value(&s, "http2.body.form:imei", IMEI);
		assert_value(&s, "http2.body.form:k", "v");
		assert_value(&s, "http2.body.form:a", "1");
		assert_value(&s, "http2.body.form:b", "2");
		assert_value(&s, "http2.body.form:mac", "8c:be:be");
		assert_int_equal(count_of(&s, "http2.path"), 3);
		http2_free(h);
	}
}

/* A server that answers early and resets the stream does not make the
 * client's body, already in flight, disappear (nginx does this). */
static void test_reset_keeps_peer_body(void **state)
{
	(void)state;
	nghttp2_hd_deflater *dc, *ds;
	assert_int_equal(nghttp2_hd_deflate_new(&dc, 4096), 0);
	assert_int_equal(nghttp2_hd_deflate_new(&ds, 4096), 0);
	uint8_t block[512];
	nghttp2_nv req[] = {NV(":method", "POST"), NV(":scheme", "https"),
			    NV(":authority", "a.example"), NV(":path", "/p"),
			    NV("content-type", "application/json"), NV("content-encoding", "gzip")};
	nghttp2_nv resp[] = {NV(":status", "200")};
	uint8_t gz[256];
	size_t gz_len = gzip_bytes("{\"imei\":\"" IMEI "\"}", gz, sizeof(gz));
	struct wire c = {0}, c2 = {0}, sv = {0};
	preface(&c);
	frame(&c, 1, 0x04, 1, block, hpack(dc, req, 6, block, sizeof(block)));
	frame(&sv, 1, 0x05, 1, block, hpack(ds, resp, 1, block, sizeof(block)));
	frame(&sv, 3, 0, 1, "\0\0\0\0", 4); /* RST_STREAM NO_ERROR */
	/* The content encoding comes from the request's headers, sent before. */
	frame(&c2, 0, 0x01, 1, gz, gz_len);
	nghttp2_hd_deflate_del(dc);
	nghttp2_hd_deflate_del(ds);

	struct seen s = {0};
	struct field_emitter ec = emitter(&s, PA_DIR_FROM_SRC);
	struct field_emitter es = emitter(&s, PA_DIR_FROM_DST);
	struct http2 *h = http2_new();
	feed(h, true, &c, 0, 1, &ec);
	feed(h, false, &sv, 0, 2, &es);
	feed(h, true, &c2, 0, 3, &ec);
	assert_value(&s, "http2.body.json:imei", IMEI);
	http2_free(h);

	/* A body that never ends comes out at finish. */
	memset(&s, 0, sizeof(s));
	h = http2_new();
	feed(h, true, &c, 0, 1, &ec);
	struct wire c3 = {0};
	frame(&c3, 0, 0x00, 1, gz, gz_len);
	feed(h, true, &c3, 0, 4, &ec);
	assert_null(value_of(&s, "http2.body.json:imei"));
	http2_finish(h, &ec, &es);
	assert_value(&s, "http2.body.json:imei", IMEI);
	assert_int_equal(packet_of(&s, "http2.body.json:imei"), 4);
	http2_free(h);
}

/* Garbage: damaged HPACK, impossible padding, random bytes after the
 * preface, a gap. Counted, never a crash, nothing invented. */
static void test_garbage(void **state)
{
	(void)state;
	struct seen s = {0};
	struct field_emitter e = emitter(&s, PA_DIR_FROM_SRC);

	/* HPACK: index 0 is invalid; the direction stops. */
	struct wire w = {0};
	preface(&w);
	frame(&w, 1, 0x04, 1, "\x80\x80\x80", 3);
	frame(&w, 1, 0x04, 3, "\x82", 1); /* would be :method GET */
	struct http2 *h = http2_new();
	feed(h, true, &w, 0, 1, &e);
	assert_int_equal(http2_stats(h)->hpack_errors, 1);
	assert_null(value_of(&s, "http2.method"));
	http2_free(h);

	/* Pad length larger than the frame. */
	memset(&w, 0, sizeof(w));
	preface(&w);
	frame(&w, 0, 0x08, 1, "\x09xyz", 4);
	h = http2_new();
	feed(h, true, &w, 0, 1, &e);
	assert_int_equal(http2_stats(h)->protocol_errors, 1);
	http2_free(h);

	/* Pseudo-random bytes after a good preface, in odd segments, both ways. */
	uint32_t x = 12345;
	for (int round = 0; round < 50; round++) {
		memset(&w, 0, sizeof(w));
		preface(&w);
		for (int i = 0; i < 2000; i++) {
			x = x * 1103515245 + 12345;
			uint8_t b = (uint8_t)(x >> 16);
			put(&w, &b, 1);
		}
		h = http2_new();
		feed(h, true, &w, 1 + (size_t)round * 7, 1, &e);
		feed(h, false, &w, 3 + (size_t)round, 1, &e);
		http2_finish(h, &e, &e);
		http2_free(h);
	}

	/* After a gap, that direction says nothing more. */
	memset(&s, 0, sizeof(s));
	nghttp2_hd_deflater *d;
	assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
	uint8_t block[256];
	nghttp2_nv req[] = {NV(":method", "GET"), NV(":scheme", "https"), NV(":authority", "a"),
			    NV(":path", "/after-gap")};
	memset(&w, 0, sizeof(w));
	frame(&w, 1, 0x05, 1, block, hpack(d, req, 4, block, sizeof(block)));
	nghttp2_hd_deflate_del(d);
	h = http2_new();
	struct wire p = {0};
	preface(&p);
	feed(h, true, &p, 0, 1, &e);
	http2_gap(h, true, 100);
	feed(h, true, &w, 0, 2, &e);
	assert_int_equal(s.n, 0);
	http2_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preface),
		cmocka_unit_test(test_headers_continuation),
		cmocka_unit_test(test_data_gzip),
		cmocka_unit_test(test_interleaved_streams),
		cmocka_unit_test(test_reset_keeps_peer_body),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
