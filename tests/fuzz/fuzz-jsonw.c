/*
 * fuzz-jsonw.c — arbitrary bytes as the strings of a flows.jsonl-like record
 * (a key, a value, an array element; the first byte picks where the input is
 * cut in two). Whatever the bytes, jansson must read the line back, with the
 * key, the strings and the number where they were put, and valid UTF-8 must
 * come back unchanged.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/jsonw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const json_t *s, const uint8_t *bytes, size_t n)
{
	return json_string_length(s) == n && memcmp(json_string_value(s), bytes, n) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jsonw w; /* reused across inputs, as across lines */
	if (size < 1)
		return 0;
	size_t cut = 1 + (size - 1) * data[0] / 255;
	const char *a = (const char *)data + 1, *b = (const char *)data + cut;
	size_t an = cut - 1, bn = size - cut;
	char *key = malloc(an + 1); /* a as a C string: up to its first NUL */
	memcpy(key, a, an);
	key[an] = 0;

	jw_reset(&w);
	jw_object_open(&w);
	jw_key(&w, "flow_id");
	jw_uint(&w, size);
	jw_key(&w, "value");
	jw_string_len(&w, a, an);
	jw_key(&w, "list");
	jw_array_open(&w);
	jw_string_len(&w, b, bn);
	jw_fixed(&w, (double)size / 7.0, 3);
	jw_array_close(&w);
	jw_key(&w, "");
	jw_object_open(&w);
	jw_key(&w, key);
	jw_null(&w);
	jw_object_close(&w);
	jw_object_close(&w);
	jw_raw(&w, "\n", 1);

	json_error_t jerr;
	json_t *j = json_loadb(w.buf, w.len, JSON_ALLOW_NUL, &jerr);
	if (!j || w.depth != 0)
		abort();
	json_t *v = json_object_get(j, "value"), *list = json_object_get(j, "list");
	if (json_integer_value(json_object_get(j, "flow_id")) != (json_int_t)size ||
	    !json_is_string(v) || json_array_size(list) != 2 ||
	    !json_is_string(json_array_get(list, 0)) || !json_is_real(json_array_get(list, 1)) ||
	    json_object_size(json_object_get(j, "")) != 1)
		abort();
	/* json_stringn() takes only valid UTF-8: such bytes must come back as they were */
	json_t *check = json_stringn(a, an);
	if (check && !same(v, data + 1, an))
		abort();
	json_decref(check);
	json_decref(j);
	free(key);
	return 0;
}
