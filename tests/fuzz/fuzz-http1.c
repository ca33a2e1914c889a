/*
 * fuzz-http1.c — the HTTP/1 decoder (libhttp-parser, chunked bodies,
 * gzip/deflate/brotli, query/form/cookie/JSON fields) fed arbitrary bytes.
 *
 * Input layout: byte 0 picks how the input is cut (seed for the cut points);
 * the rest is split at the first "\n--\n" into the client's bytes and the
 * server's bytes (no marker: everything is the client's). Each side is fed in
 * pieces at pseudo-random points, the two sides interleaved, sometimes with a
 * gap, then the connection ends. Every field handed to the sink is checked:
 * a NUL-terminated name and a value the sink may read whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/http1.h"

static void on_field(void *ctx, const struct pa_field_ref *ref, const uint8_t *v, size_t len)
{
	size_t *fields = ctx;
	volatile uint8_t sum = 0;
	if (!ref->field || strnlen(ref->field, FIELD_NAME_MAX) >= FIELD_NAME_MAX)
		abort();
	if (len && !v)
		abort();
	for (size_t i = 0; i < len; i++) /* ASan: the value is readable whole */
		sum ^= v[i];
	(void)sum;
	(*fields)++;
}

static uint32_t next(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint32_t state = data[0] * 2654435761u + 1;
	data++, size--;
	const uint8_t *server = NULL;
	size_t client_len = size, server_len = 0;
	for (size_t i = 0; i + 4 <= size; i++) {
		if (!memcmp(data + i, "\n--\n", 4)) {
			client_len = i;
			server = data + i + 4;
			server_len = size - i - 4;
			break;
		}
	}
	size_t fields = 0;
	struct field_emitter client = { .sink = on_field, .ctx = &fields };
	client.ref.protocol = "http";
	client.ref.dir = PA_DIR_FROM_SRC;
	struct field_emitter srv = client;
	srv.ref.dir = PA_DIR_FROM_DST;

	/* a small body bound so truncation paths run too */
	struct http1 *h = http1_new((state & 1) ? 64 : 0);
	size_t at[2] = { 0, 0 }, len[2] = { client_len, server_len };
	const uint8_t *side[2] = { data, server };
	uint64_t packet = 1;
	while (at[0] < len[0] || at[1] < len[1]) {
		int s = (next(&state) & 1) && at[1] < len[1] ? 1 : at[0] < len[0] ? 0 : 1;
		size_t left = len[s] - at[s];
		size_t n = 1 + next(&state) % (left < 64 ? left : 64);
		if ((next(&state) & 63) == 0) {
			http1_gap(h, s == 0, n, NULL);
		} else {
			/* a private copy, so reads past the piece are caught */
			uint8_t *piece = malloc(n);
			memcpy(piece, side[s] + at[s], n);
			http1_feed(h, s == 0, piece, n, packet++, 0, s == 0 ? &client : &srv);
			free(piece);
		}
		at[s] += n;
	}
	http1_finish(h, &client, &srv);
	const struct http1_stats *st = http1_stats(h);
	if (strnlen(http1_host(h), 256) >= 256 || st->bytes_skipped > size + 64 * size)
		abort();
	http1_free(h);
	return 0;
}
