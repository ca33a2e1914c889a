/*
 * fuzz-fields.c — the field walkers (query/form parameters, cookies, JSON
 * leaves, message bodies by content type and by sniffing) and the one-level
 * base64 re-scan, fed arbitrary bytes. Byte 0 picks the walker; the rest is
 * the text. Every emitted field name must be NUL-terminated and shorter than
 * FIELD_NAME_MAX, every value readable whole, and the base64 decoder must
 * agree with itself on the decoded length bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/fields.h"

static void on_field(void *ctx, const struct pa_field_ref *ref, const uint8_t *v, size_t len)
{
	size_t *fields = ctx;
	volatile uint8_t sum = 0;
	if (!ref->field || strnlen(ref->field, FIELD_NAME_MAX) >= FIELD_NAME_MAX)
		abort();
	for (size_t i = 0; i < len; i++)
		sum ^= v[i];
	(void)sum;
	(*fields)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++, size--;
	/* a private copy without a terminating NUL: reads past it are caught */
	uint8_t *text = malloc(size ? size : 1);
	memcpy(text, data, size);
	size_t fields = 0;
	struct field_emitter e = { .sink = on_field, .ctx = &fields };
	e.ref.protocol = "http";
	static const char *const types[] = { NULL, "application/json",
					     "application/x-www-form-urlencoded; charset=utf-8",
					     "text/plain" };
	switch (mode % 6) {
	case 0:
		fields_emit_params(&e, "http.query", text, size);
		break;
	case 1:
		fields_emit_cookies(&e, "http.cookie", text, size);
		break;
	case 2:
		fields_emit_json(&e, "http.body.json", text, size);
		break;
	case 3:
		fields_emit_body(&e, "http.body", types[(mode >> 3) & 3], text, size);
		break;
	case 4:
		fields_emit(&e, "http.header:X-Token", text, size);
		break;
	case 5: {
		uint8_t *out = malloc(size * 3 / 4 + 3);
		size_t n = 0;
		if (fields_base64_decode(text, size, out, &n) && n > size * 3 / 4 + 3)
			abort();
		uint8_t *dec = malloc(size ? size : 1);
		size_t d = fields_url_decode(text, size, dec, mode & 8);
		if (d > size)
			abort();
		free(dec);
		free(out);
		break;
	}
	}
	free(text);
	return 0;
}
