/* fields.c — query/form/cookie/JSON field walkers and one-level base64. */
#include "app/fields.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELD_VALUE (1u << 20) /* longer values are emitted whole but not split or decoded */
#define MAX_JSON_LEAVES 4096
#define MAX_JSON_DEPTH 32
#define MIN_BASE64_LEN 16

void field_origin_add(struct field_origin *o, size_t end, uint64_t packet, int64_t ts_us)
{
	if (o->count && o->parts[o->count - 1].packet == packet) {
		o->parts[o->count - 1].end = end;
		return;
	}
	/* Past the table's size the last entry stands for every later packet:
	 * fields there get the completing packet, as without a map. */
	size_t i = o->count < FIELD_ORIGIN_MAX ? o->count++ : FIELD_ORIGIN_MAX - 1;
	o->parts[i].end = end;
	o->parts[i].packet = packet;
	o->parts[i].ts_us = ts_us;
}

/* The byte range of the value in the origin buffer: the value itself when it
 * lies there, the encoded text it was decoded from, or else its first
 * occurrence from the cursor on (JSON leaves come in document order). */
static bool locate(struct field_emitter *e, const uint8_t *v, size_t len, size_t *last)
{
	const struct field_origin *o = e->origin;
	const uint8_t *at = NULL;
	size_t n = len;
	if (v >= o->base && v + len <= o->base + o->len) {
		at = v;
	} else if (e->raw_at && e->raw_at >= o->base && e->raw_at + e->raw_len <= o->base + o->len) {
		at = e->raw_at, n = e->raw_len;
	} else if (len && e->cursor < o->len) {
		at = memmem(o->base + e->cursor, o->len - e->cursor, v, len);
		if (at)
			e->cursor = (size_t)(at - o->base) + len;
	}
	if (!at || !n)
		return false;
	*last = (size_t)(at - o->base) + n - 1;
	return true;
}

/* The field reference for value v: the packet of its last byte when known. */
static struct pa_field_ref resolve(struct field_emitter *e, const char *name, const uint8_t *v,
				   size_t len)
{
	struct pa_field_ref ref = e->ref;
	ref.field = name;
	size_t last;
	if (e->origin && e->origin->count && locate(e, v, len, &last)) {
		const struct field_origin *o = e->origin;
		size_t i = 0;
		while (i + 1 < o->count && o->parts[i].end <= last)
			i++;
		ref.packet = o->parts[i].packet;
		ref.ts_us = o->parts[i].ts_us;
	}
	return ref;
}

static void emit_raw(struct field_emitter *e, const char *name, const uint8_t *v, size_t len)
{
	struct pa_field_ref ref = resolve(e, name, v, len);
	e->sink(e->ctx, &ref, v, len);
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t fields_url_decode(const uint8_t *in, size_t len, uint8_t *out, bool plus_is_space)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '%' && i + 2 < len && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
			out[o++] = (uint8_t)(hexval(in[i + 1]) << 4 | hexval(in[i + 2]));
			i += 2;
		} else if (in[i] == '+' && plus_is_space) {
			out[o++] = ' ';
		} else {
			out[o++] = in[i];
		}
	}
	return o;
}

static bool is_b64_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '-' || c == '_';
}

bool fields_base64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
	while (len && in[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return false;
	bool std = false, url = false;
	for (size_t i = 0; i < len; i++) {
		if (!is_b64_char(in[i]))
			return false;
		std |= in[i] == '+' || in[i] == '/';
		url |= in[i] == '-' || in[i] == '_';
	}
	if (std && url)
		return false;
	/* OpenSSL decodes the standard, padded alphabet: translate and pad. */
	size_t padded = (len + 3) / 4 * 4;
	uint8_t *tmp = pa_xmalloc(padded + 1);
	for (size_t i = 0; i < len; i++)
		tmp[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	for (size_t i = len; i < padded; i++)
		tmp[i] = '=';
	int n = EVP_DecodeBlock(out, tmp, (int)padded);
	free(tmp);
	if (n < 0)
		return false;
	*out_len = (size_t)n - (padded - len); /* EVP_DecodeBlock counts padding as zero bytes */
	return true;
}

/* Worth decoding: long enough, base64 alphabet only, and not plain hex or
 * digits (an MD5 or an IMEI is not base64 text). */
static bool looks_base64(const uint8_t *v, size_t len)
{
	if (len < MIN_BASE64_LEN || len > MAX_FIELD_VALUE)
		return false;
	bool non_hex = false;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = v[i];
		if (c == '=' && i >= len - 2)
			continue;
		if (!is_b64_char(c))
			return false;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			non_hex = true;
	}
	return non_hex;
}

/* Decoded bytes that are mostly text are worth scanning; random binary
 * (a signature, an encrypted blob) is not a field. */
static bool mostly_printable(const uint8_t *v, size_t len)
{
	size_t printable = 0;
	for (size_t i = 0; i < len; i++)
		printable += (v[i] >= 0x20 && v[i] < 0x7f) || v[i] == '\n' || v[i] == '\r' || v[i] == '\t' ||
			     v[i] >= 0x80;
	return len && printable * 10 >= len * 9;
}

static void name_join(char *out, const char *prefix, char sep, const char *key, size_t keylen)
{
	size_t p = strlen(prefix);
	if (p >= FIELD_NAME_MAX - 2) {
		snprintf(out, FIELD_NAME_MAX, "%s", prefix);
		return;
	}
	memcpy(out, prefix, p);
	size_t n = 0;
	out[p] = sep;
	size_t room = FIELD_NAME_MAX - p - 2;
	for (size_t i = 0; i < keylen && n < room; i++) {
		uint8_t c = (uint8_t)key[i];
		out[p + 1 + n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[p + 1 + n] = '\0';
}

void fields_emit(struct field_emitter *e, const char *name, const uint8_t *v, size_t len)
{
	emit_raw(e, name, v, len);
	if (e->decoded_once || !looks_base64(v, len))
		return;
	uint8_t *dec = pa_xmalloc(len * 3 / 4 + 4);
	size_t n;
	if (fields_base64_decode(v, len, dec, &n) && mostly_printable(dec, n)) {
		char sub[FIELD_NAME_MAX];
		snprintf(sub, sizeof sub, "%s+base64", name);
		/* Decoded bytes are nowhere in the packets: every field inside
		 * gets the packet of the base64 text. */
		struct field_emitter inner = *e;
		inner.ref = resolve(e, name, v, len);
		inner.origin = NULL;
		inner.decoded_once = true;
		fields_emit_body(&inner, sub, NULL, dec, n);
	}
	free(dec);
}

void fields_emit_params(struct field_emitter *e, const char *prefix, const uint8_t *s, size_t len)
{
	if (len > MAX_FIELD_VALUE)
		return;
	uint8_t *val = pa_xmalloc(len + 1);
	char key[FIELD_NAME_MAX];
	char name[FIELD_NAME_MAX];
	size_t i = 0;
	while (i < len) {
		size_t start = i;
		while (i < len && s[i] != '&' && s[i] != ';')
			i++;
		const uint8_t *pair = s + start;
		size_t plen = i - start;
		i++; /* skip the separator */
		if (!plen)
			continue;
		const uint8_t *eq = memchr(pair, '=', plen);
		size_t klen = eq ? (size_t)(eq - pair) : plen;
		size_t kdec = fields_url_decode(pair, klen < sizeof key - 1 ? klen : sizeof key - 1,
						(uint8_t *)key, true);
		key[kdec] = '\0';
		name_join(name, prefix, ':', key, kdec);
		if (!eq) {
			fields_emit(e, name, (const uint8_t *)"", 0);
			continue;
		}
		size_t vlen = fields_url_decode(eq + 1, plen - klen - 1, val, true);
		e->raw_at = eq + 1, e->raw_len = plen - klen - 1;
		fields_emit(e, name, val, vlen);
		e->raw_at = NULL, e->raw_len = 0;
	}
	free(val);
}

void fields_emit_cookies(struct field_emitter *e, const char *prefix, const uint8_t *s, size_t len)
{
	char name[FIELD_NAME_MAX];
	size_t i = 0;
	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == ';'))
			i++;
		size_t start = i;
		while (i < len && s[i] != ';')
			i++;
		const uint8_t *pair = s + start;
		size_t plen = i - start;
		if (!plen)
			continue;
		const uint8_t *eq = memchr(pair, '=', plen);
		if (!eq)
			continue;
		name_join(name, prefix, ':', (const char *)pair, (size_t)(eq - pair));
		const uint8_t *v = eq + 1;
		size_t vlen = plen - (size_t)(v - pair);
		if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"')
			v++, vlen -= 2;
		/* Cookie values are often URL-encoded by the app. */
		uint8_t *dec = pa_xmalloc(vlen + 1);
		size_t dlen = fields_url_decode(v, vlen, dec, false);
		e->raw_at = v, e->raw_len = vlen;
		fields_emit(e, name, dec, dlen);
		e->raw_at = NULL, e->raw_len = 0;
		free(dec);
	}
}

struct json_walk {
	struct field_emitter *e;
	size_t leaves;
};

static void walk_json(struct json_walk *w, const char *path, json_t *j, int depth)
{
	if (w->leaves >= MAX_JSON_LEAVES || depth > MAX_JSON_DEPTH)
		return;
	char sub[FIELD_NAME_MAX];
	char buf[64];
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) {
			if (path[strlen(path) - 1] == ':')
				snprintf(sub, sizeof sub, "%s%s", path, k);
			else
				snprintf(sub, sizeof sub, "%s.%s", path, k);
			walk_json(w, sub, v, depth + 1);
		}
		return;
	}
	case JSON_ARRAY:
		for (size_t i = 0; i < json_array_size(j); i++) {
			snprintf(sub, sizeof sub, "%s[%zu]", path, i);
			walk_json(w, sub, json_array_get(j, i), depth + 1);
		}
		return;
	case JSON_STRING: {
		w->leaves++;
		const uint8_t *v = (const uint8_t *)json_string_value(j);
		size_t len = json_string_length(j);
		fields_emit(w->e, path, v, len);
		/* A string that holds JSON (double-encoded payloads) is walked once more. */
		if (!w->e->decoded_once && len >= 2 && (v[0] == '{' || v[0] == '[')) {
			struct field_emitter inner = *w->e;
			inner.decoded_once = true;
			fields_emit_json(&inner, path, v, len);
		}
		return;
	}
	case JSON_INTEGER:
		w->leaves++;
		snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		emit_raw(w->e, path, (const uint8_t *)buf, strlen(buf));
		return;
	case JSON_REAL:
		w->leaves++;
		snprintf(buf, sizeof buf, "%.10g", json_real_value(j));
		emit_raw(w->e, path, (const uint8_t *)buf, strlen(buf));
		return;
	default:
		return;
	}
}

bool fields_emit_json(struct field_emitter *e, const char *prefix, const uint8_t *s, size_t len)
{
	if (len > MAX_FIELD_VALUE)
		return false;
	json_error_t err;
	json_t *root = json_loadb((const char *)s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!root)
		return false;
	if (!json_is_object(root) && !json_is_array(root)) {
		json_decref(root);
		return false;
	}
	char path[FIELD_NAME_MAX];
	snprintf(path, sizeof path, "%s:", prefix);
	struct json_walk w = {.e = e};
	walk_json(&w, path, root, 0); /* top-level keys: "prefix:key"; arrays: "prefix:[i]" */
	json_decref(root);
	return true;
}

static bool looks_like_form(const uint8_t *s, size_t len)
{
	if (!len || !memchr(s, '=', len))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] == ' ' || s[i] == '{' || s[i] == '<')
			return false;
	return true;
}

static bool type_is(const char *content_type, const char *what)
{
	return content_type && strcasestr(content_type, what) != NULL;
}

void fields_emit_body(struct field_emitter *e, const char *prefix, const char *content_type,
		      const uint8_t *s, size_t len)
{
	emit_raw(e, prefix, s, len);
	if (!len || len > MAX_FIELD_VALUE)
		return;
	char sub[FIELD_NAME_MAX];
	size_t skip = 0;
	while (skip < len && (s[skip] == ' ' || s[skip] == '\r' || s[skip] == '\n' || s[skip] == '\t'))
		skip++;
	bool json_like = skip < len && (s[skip] == '{' || s[skip] == '[');
	if (type_is(content_type, "json") || json_like) {
		snprintf(sub, sizeof sub, "%s.json", prefix);
		if (fields_emit_json(e, sub, s, len))
			return;
	}
	if (type_is(content_type, "x-www-form-urlencoded") || looks_like_form(s, len)) {
		snprintf(sub, sizeof sub, "%s.form", prefix);
		fields_emit_params(e, sub, s, len);
	}
}
