/*
 * body.h — undoing Content-Encoding (gzip, deflate, br, stacked) with zlib
 * and brotli, into a bounded buffer: a decompression bomb stops at the bound
 * and is counted as truncated, never exhausts memory.
 */
#ifndef PA_BODY_H
#define PA_BODY_H

#include "privaudit.h"

enum body_status {
	BODY_OK,
	BODY_TRUNCATED,   /* output reached max_out: what fits is returned */
	BODY_CORRUPT,     /* the encoded data is damaged: what decoded before is returned */
	BODY_UNSUPPORTED, /* an encoding we do not know (e.g. zstd): input returned as is */
};
const char *body_status_name(enum body_status s);

/*
 * Decodes `in` per the Content-Encoding header value (NULL or "identity" =
 * none; "gzip, br" = gzip applied first, so undone last). *out is a new
 * buffer the caller frees (also on error; may hold partial output).
 */
enum body_status body_decode(const char *content_encoding, const uint8_t *in, size_t len,
			     size_t max_out, uint8_t **out, size_t *out_len);

#endif
