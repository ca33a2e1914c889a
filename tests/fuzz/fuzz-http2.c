/*
 * fuzz-http2.c — the HTTP/2 decoder (app/http2.c): frames, HPACK through
 * nghttp2, stream bodies and their content encodings, on both directions.
 *
 * Input: chunks [u8 flags][u16 length][bytes]; flags bit 0 = from the
 * server, bit 1 = a gap. The client side gets the preface prepended when
 * flags bit 2 of the first chunk is set, so mutations reach frames quickly.
 */
#include <stdint.h>
#include <string.h>

#include "app/http2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink_byte;

static void sink(void *ctx, const struct pa_field_ref *ref, const uint8_t *v, size_t len)
{
	uint8_t x = (uint8_t)strlen(ref->field);
	for (size_t i = 0; i < len; i++)
		x ^= v[i];
	sink_byte = x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http2 *h = http2_new();
	struct field_emitter ec = {.sink = sink, .ref = {.protocol = "tls-decrypted", .dir = PA_DIR_FROM_SRC}};
	struct field_emitter es = {.sink = sink, .ref = {.protocol = "tls-decrypted", .dir = PA_DIR_FROM_DST}};
	if (size && (data[0] & 4)) {
		static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
		http2_feed(h, true, (const uint8_t *)preface, 24, 1, 0, &ec);
	}
	uint64_t packet = 2;
	while (size >= 3) {
		uint8_t flags = data[0];
		size_t n = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		bool from_client = !(flags & 1);
		if (flags & 2) {
			http2_gap(h, from_client, n);
			continue;
		}
		if (n > size)
			n = size;
		http2_feed(h, from_client, data, n, packet++, 0, from_client ? &ec : &es);
		data += n;
		size -= n;
	}
	http2_finish(h, &ec, &es);
	const struct http2_stats *st = http2_stats(h);
	sink_byte = (uint8_t)(st->frames + st->requests);
	http2_free(h);
	return 0;
}
