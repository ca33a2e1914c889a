/*
 * fuzz-http3.c — the HTTP/3 decoder (app/http3.c): stream types, frames,
 * SETTINGS, QPACK encoder streams and header blocks through libnghttp3,
 * bodies and their content encodings, holes, streams that end early.
 *
 * Input: chunks [u8 flags][u8 stream id][u16 length][bytes]; flags bit 0 =
 * from the server, bit 1 = the stream ends after these bytes, bit 2 = a
 * hole of `length` bytes instead of bytes.
 */
#include <stdint.h>
#include <string.h>

#include "app/http3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink_byte;

static void sink(void *ctx, const struct pa_field_ref *ref, const uint8_t *v, size_t len)
{
	uint8_t x = (uint8_t)strlen(ref->field);
	for (size_t i = 0; i < len; i++)
		x ^= v[i];
	sink_byte = x;
}

static void dns(void *ctx, const uint8_t *msg, size_t len, int64_t ts)
{
	sink_byte = (uint8_t)(len ? msg[0] : ts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http3 *h = http3_new(64 * 1024, dns, NULL);
	struct field_emitter ec = {.sink = sink, .ref = {.protocol = "quic-decrypted", .dir = PA_DIR_FROM_SRC}};
	struct field_emitter es = {.sink = sink, .ref = {.protocol = "quic-decrypted", .dir = PA_DIR_FROM_DST}};
	uint64_t packet = 1;
	while (size >= 4) {
		uint8_t flags = data[0];
		uint64_t id = data[1];
		size_t n = (size_t)data[2] << 8 | data[3];
		data += 4;
		size -= 4;
		bool from_client = !(flags & 1);
		if (flags & 4) {
			http3_stream(h, from_client, id, NULL, n, flags & 2, packet++, 0,
				     from_client ? &ec : &es);
			continue;
		}
		if (n > size)
			n = size;
		http3_stream(h, from_client, id, data, n, flags & 2, packet++, 0, from_client ? &ec : &es);
		data += n;
		size -= n;
	}
	http3_finish(h, &ec, &es);
	http3_free(h);
	return 0;
}
