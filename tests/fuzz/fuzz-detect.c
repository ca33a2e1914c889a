/*
 * fuzz-detect.c — the signature engine's scan of untrusted bytes: the
 * bundled signatures and the lab phone's values over a raw stream cut into
 * chunks at places the input chooses, with gaps, then the same bytes as one
 * decoded field. Checks what every observation must satisfy: a value
 * (masked or not) that fits its buffer, a packet that carried the stream,
 * and each report inside the bytes fed.
 *
 * Run from the repository root (the engine loads signatures/ and
 * signatures/devices/lab-phone.yaml):
 *   build-fuzz/tests/fuzz-detect -max_len=4096 tests/fuzz/corpus/detect
 * Input: byte 0 = chunk size seed, byte 1 = where gaps fall; the rest is
 * the stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

static struct detect_engine *engine;
static struct detect_scratch *scratch;

struct seen {
	uint64_t max_packet;
	size_t count;
};

static void on_obs(void *ctx, const struct pa_observation *o)
{
	struct seen *s = ctx;
	if (strnlen(o->value, sizeof o->value) >= sizeof o->value || !o->type || !o->type[0])
		abort();
	if (o->packet > s->max_packet)
		abort(); /* placed in a packet that never carried the stream */
	s->count++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!engine) {
		struct pa_diag diag = {.out = stderr};
		engine = detect_engine_load("signatures", "signatures/devices/lab-phone.yaml", &diag);
		if (!engine)
			abort(); /* run from the repository root */
		scratch = detect_scratch_alloc(engine);
	}
	if (size < 2)
		return 0;
	unsigned chunk_seed = data[0], gap_seed = data[1];
	data += 2, size -= 2;

	struct pa_field_ref ref = {.protocol = "tcp", .field = "tcp.payload", .dir = PA_DIR_FROM_SRC};
	struct detect_stream *st = detect_stream_open(engine, &ref, true);
	if (!st)
		abort();
	struct seen seen = {0};
	size_t off = 0;
	uint64_t packet = 0;
	while (off < size) {
		size_t chunk = 1 + (chunk_seed * (packet + 7) + off) % 97;
		if (chunk > size - off)
			chunk = size - off;
		/* a private copy per chunk: reads outside it are caught */
		uint8_t *copy = malloc(chunk);
		memcpy(copy, data + off, chunk);
		seen.max_packet = ++packet;
		detect_stream_scan(st, scratch, copy, chunk, packet, (int64_t)packet, on_obs, &seen);
		free(copy);
		off += chunk;
		if (gap_seed && packet % (gap_seed % 8 + 2) == 0)
			detect_stream_gap(st, scratch, on_obs, &seen);
	}
	detect_stream_close(st, scratch, on_obs, &seen);

	uint8_t *field = malloc(size ? size : 1);
	memcpy(field, data, size);
	struct pa_field_ref fref = {.protocol = "http", .field = "http.query:imei",
				    .dir = PA_DIR_FROM_SRC, .packet = 1};
	seen.max_packet = 1;
	detect_scan_field(engine, scratch, &fref, true, field, size, on_obs, &seen);
	free(field);
	return 0;
}
