/* body.c — Content-Encoding decoding with zlib and brotli. */
#include "app/body.h"

#include <brotli/decode.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

const char *body_status_name(enum body_status s)
{
	static const char *const names[] = {"ok", "truncated", "corrupt", "unsupported"};
	return (unsigned)s < 4 ? names[s] : "?";
}

struct buf {
	uint8_t *p;
	size_t len, cap, max;
};

static bool buf_room(struct buf *b)
{
	if (b->len < b->cap)
		return true;
	if (b->cap >= b->max)
		return false;
	size_t n = b->cap ? b->cap * 2 : 16384;
	if (n > b->max)
		n = b->max;
	b->p = pa_xrealloc(b->p, n);
	b->cap = n;
	return true;
}

/* gzip and zlib-wrapped deflate by header detection (windowBits 47); raw
 * deflate (what some servers send as "deflate") on a second try. */
static enum body_status inflate_all(const uint8_t *in, size_t len, struct buf *out, int window_bits)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, window_bits) != Z_OK)
		return BODY_CORRUPT;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	enum body_status st = BODY_OK;
	for (;;) {
		if (!buf_room(out)) {
			st = BODY_TRUNCATED;
			break;
		}
		z.next_out = out->p + out->len;
		z.avail_out = (uInt)(out->cap - out->len);
		int rc = inflate(&z, Z_NO_FLUSH);
		out->len = out->cap - z.avail_out;
		if (rc == Z_STREAM_END) {
			/* gzip members may follow each other */
			if (z.avail_in && window_bits == 47 && inflateReset(&z) == Z_OK)
				continue;
			break;
		}
		if (rc == Z_BUF_ERROR && z.avail_in == 0) {
			st = BODY_TRUNCATED; /* input ended early: partial body */
			break;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			st = BODY_CORRUPT;
			break;
		}
	}
	inflateEnd(&z);
	return st;
}

static enum body_status brotli_all(const uint8_t *in, size_t len, struct buf *out)
{
	BrotliDecoderState *s = BrotliDecoderCreateInstance(NULL, NULL, NULL);
	if (!s)
		return BODY_CORRUPT;
	size_t avail_in = len;
	const uint8_t *next_in = in;
	enum body_status st = BODY_OK;
	for (;;) {
		if (!buf_room(out)) {
			st = BODY_TRUNCATED;
			break;
		}
		size_t avail_out = out->cap - out->len;
		uint8_t *next_out = out->p + out->len;
		BrotliDecoderResult r = BrotliDecoderDecompressStream(s, &avail_in, &next_in, &avail_out,
								      &next_out, NULL);
		out->len = out->cap - avail_out;
		if (r == BROTLI_DECODER_RESULT_SUCCESS)
			break;
		if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT)
			continue;
		st = r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT ? BODY_TRUNCATED : BODY_CORRUPT;
		break;
	}
	BrotliDecoderDestroyInstance(s);
	return st;
}

static enum body_status decode_one(const char *enc, size_t enc_len, const uint8_t *in, size_t len,
				   struct buf *out)
{
	if ((enc_len == 4 && !strncasecmp(enc, "gzip", 4)) || (enc_len == 6 && !strncasecmp(enc, "x-gzip", 6)))
		return inflate_all(in, len, out, 47);
	if (enc_len == 7 && !strncasecmp(enc, "deflate", 7)) {
		enum body_status st = inflate_all(in, len, out, 47);
		if (st == BODY_CORRUPT && out->len == 0)
			st = inflate_all(in, len, out, -15);
		return st;
	}
	if (enc_len == 2 && !strncasecmp(enc, "br", 2))
		return brotli_all(in, len, out);
	return BODY_UNSUPPORTED;
}

enum body_status body_decode(const char *content_encoding, const uint8_t *in, size_t len,
			     size_t max_out, uint8_t **out, size_t *out_len)
{
	/* Split the header into tokens, last applied first. */
	const char *tok[8];
	size_t tok_len[8], n = 0;
	for (const char *p = content_encoding ? content_encoding : ""; *p && n < 8;) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		const char *start = p;
		while (*p && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		if (p > start && !(p - start == 8 && !strncasecmp(start, "identity", 8))) {
			tok[n] = start;
			tok_len[n++] = (size_t)(p - start);
		}
	}

	uint8_t *cur = pa_xmalloc(len ? len : 1);
	memcpy(cur, in, len);
	size_t cur_len = len;
	enum body_status st = BODY_OK;
	while (n-- > 0) {
		struct buf b = {.max = max_out};
		enum body_status s = decode_one(tok[n], tok_len[n], cur, cur_len, &b);
		if (s == BODY_UNSUPPORTED) {
			free(b.p);
			st = BODY_UNSUPPORTED;
			break;
		}
		free(cur);
		cur = b.p ? b.p : pa_xmalloc(1);
		cur_len = b.len;
		if (s != BODY_OK) {
			st = s;
			break;
		}
	}
	if (cur_len > max_out) {
		cur_len = max_out;
		st = BODY_TRUNCATED;
	}
	*out = cur;
	*out_len = cur_len;
	return st;
}
