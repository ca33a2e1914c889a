/* jsonw.c — a JSON record written straight into a reused buffer. */
#include "report/jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privaudit.h"

void jw_init(struct jsonw *w)
{
	memset(w, 0, sizeof *w);
}

void jw_free(struct jsonw *w)
{
	free(w->buf);
	jw_init(w);
}

void jw_reset(struct jsonw *w)
{
	w->len = 0;
	w->comma = false;
	w->depth = 0;
}

/* Room for n more bytes; where they go. */
static char *reserve(struct jsonw *w, size_t n)
{
	if (w->cap - w->len < n) {
		size_t cap = w->cap ? w->cap : 1024;
		while (cap - w->len < n)
			cap *= 2;
		w->buf = pa_xrealloc(w->buf, cap);
		w->cap = cap;
	}
	return w->buf + w->len;
}

/* Room for a value of at most n bytes and its leading comma. */
static char *value_start(struct jsonw *w, size_t n)
{
	char *p = reserve(w, n + 1);
	if (w->comma)
		*p++ = ',';
	w->comma = true;
	return p;
}

static void value_end(struct jsonw *w, char *p)
{
	w->len = (size_t)(p - w->buf);
}

static void container_open(struct jsonw *w, char c)
{
	char *p = value_start(w, 1);
	*p++ = c;
	value_end(w, p);
	w->comma = false;
	w->depth++;
}

static void container_close(struct jsonw *w, char c)
{
	char *p = reserve(w, 1);
	*p++ = c;
	value_end(w, p);
	w->comma = true;
	if (w->depth)
		w->depth--;
}

void jw_object_open(struct jsonw *w)
{
	container_open(w, '{');
}

void jw_object_close(struct jsonw *w)
{
	container_close(w, '}');
}

void jw_array_open(struct jsonw *w)
{
	container_open(w, '[');
}

void jw_array_close(struct jsonw *w)
{
	container_close(w, ']');
}

static const char hex[] = "0123456789abcdef";

static char *put_escape(char *p, unsigned char c)
{
	static const char short_form[0x20] = {
		['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
	};
	*p++ = '\\';
	if (c == '"' || c == '\\') {
		*p++ = (char)c;
	} else if (short_form[c]) {
		*p++ = short_form[c];
	} else {
		memcpy(p, "u00", 3);
		p[3] = hex[c >> 4];
		p[4] = hex[c & 15];
		p += 5;
	}
	return p;
}

/* The quoted string; at most 6 * n + 2 bytes (every byte \u00XX or \ufffd). */
static char *put_string(char *p, const unsigned char *s, size_t n)
{
	const unsigned char *end = s + n;
	*p++ = '"';
	while (s < end) {
		unsigned char c = *s;
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*p++ = (char)c;
			s++;
		} else if (c < 0x80) {
			p = put_escape(p, c);
			s++;
		} else {
			size_t bad, k = pa_utf8_seq(s, end, &bad);
			if (k) {
				memcpy(p, s, k);
				p += k;
				s += k;
			} else {
				memcpy(p, "\\ufffd", 6);
				p += 6;
				s += bad;
			}
		}
	}
	*p++ = '"';
	return p;
}

void jw_key(struct jsonw *w, const char *key)
{
	size_t n = strlen(key);
	char *p = value_start(w, 6 * n + 3);
	p = put_string(p, (const unsigned char *)key, n);
	*p++ = ':';
	value_end(w, p);
	w->comma = false;
}

void jw_string_len(struct jsonw *w, const char *s, size_t n)
{
	char *p = value_start(w, 6 * n + 2);
	value_end(w, put_string(p, (const unsigned char *)s, n));
}

void jw_string(struct jsonw *w, const char *s)
{
	if (s)
		jw_string_len(w, s, strlen(s));
	else
		jw_null(w);
}

static char *put_uint(char *p, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof tmp;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(p, tmp + i, sizeof tmp - i);
	return p + sizeof tmp - i;
}

void jw_uint(struct jsonw *w, uint64_t v)
{
	value_end(w, put_uint(value_start(w, 20), v));
}

void jw_int(struct jsonw *w, int64_t v)
{
	char *p = value_start(w, 21);
	if (v < 0) {
		*p++ = '-';
		p = put_uint(p, 0 - (uint64_t)v);
	} else {
		p = put_uint(p, (uint64_t)v);
	}
	value_end(w, p);
}

static void put_literal(struct jsonw *w, const char *lit, size_t n)
{
	char *p = value_start(w, n);
	memcpy(p, lit, n);
	value_end(w, p + n);
}

void jw_bool(struct jsonw *w, bool v)
{
	if (v)
		put_literal(w, "true", 4);
	else
		put_literal(w, "false", 5);
}

void jw_null(struct jsonw *w)
{
	put_literal(w, "null", 4);
}

void jw_fixed(struct jsonw *w, double v, int decimals)
{
	static const uint64_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000,
					 10000000, 100000000, 1000000000};
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	double scaled = round(v * (double)pow10[decimals]);
	if (fabs(scaled) >= 9e15) { /* past exact integers in a double: let printf round */
		char tmp[40];
		int n = snprintf(tmp, sizeof tmp, "%.17g", v);
		if (!strpbrk(tmp, ".e")) /* still a real */
			n += snprintf(tmp + n, sizeof tmp - (size_t)n, ".0");
		put_literal(w, tmp, (size_t)n);
		return;
	}
	/* The digits of the integer round(v * 10^d): its decimal value is what
	 * round(v * 10^d) / 10^d approximates, so both parse to the same double. */
	uint64_t u = (uint64_t)fabs(scaled), scale = pow10[decimals];
	uint64_t ip = u / scale, frac = u % scale;
	char *p = value_start(w, 40);
	if (scaled < 0)
		*p++ = '-';
	p = put_uint(p, ip);
	*p++ = '.';
	int digits = decimals ? decimals : 1;
	while (digits > 1 && frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	for (int i = digits - 1; i >= 0; i--) {
		p[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	p += digits;
	value_end(w, p);
}

void jw_raw(struct jsonw *w, const char *s, size_t n)
{
	char *p = reserve(w, n);
	memcpy(p, s, n);
	w->len += n;
}
