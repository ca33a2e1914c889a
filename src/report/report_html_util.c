/*
 * report_html_util.c — the output buffer of report.html with its escaping,
 * guarded readers of the report document, and number formats.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/report_html_internal.h"

/* ---- buffer ---------------------------------------------------------------- */

static bool reserve(struct html *h, size_t more)
{
	if (h->overflow)
		return false;
	if (more > HTML_MAX_BYTES || h->len + more > HTML_MAX_BYTES) {
		h->overflow = true;
		return false;
	}
	if (h->len + more + 1 > h->cap) {
		size_t cap = h->cap ? h->cap : 65536;
		while (cap < h->len + more + 1)
			cap *= 2;
		h->buf = pa_xrealloc(h->buf, cap);
		h->cap = cap;
	}
	return true;
}

static void put(struct html *h, const char *s, size_t n)
{
	if (!reserve(h, n))
		return;
	memcpy(h->buf + h->len, s, n);
	h->len += n;
	h->buf[h->len] = '\0';
}

void h_raw(struct html *h, const char *s)
{
	put(h, s, strlen(s));
}

void h_fmt(struct html *h, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		put(h, small, (size_t)n);
		return;
	}
	if (!reserve(h, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(h->buf + h->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	h->len += (size_t)n;
}

/*
 * Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there
 * are not one (overlong forms, surrogates and values past U+10FFFF included).
 * *cp receives the code point.
 */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t n;
	uint32_t v, min;
	if ((c & 0xe0) == 0xc0) {
		n = 2, v = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, v = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* Characters that reorder or hide text around them (bidi controls, the
 * zero-width ones): a hostname must read as the bytes it is made of. */
static bool deceptive(uint32_t cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0x200e || cp == 0x200f || cp == 0x061c || (cp >= 0x200b && cp <= 0x200d) ||
	       cp == 0xfeff;
}

/* Escapes up to max_chars characters of s; returns true when s was longer. */
static bool escape(struct html *h, const char *s, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0;
	while (*p) {
		if (chars++ == max_chars)
			return true;
		uint32_t cp;
		size_t n = utf8_seq(p, &cp);
		char tmp[16];
		if (n == 0) {
			h_raw(h, "\xef\xbf\xbd"); /* U+FFFD for a byte that is not UTF-8 */
			p++;
			continue;
		}
		if (n == 1) {
			switch (cp) {
			case '&': h_raw(h, "&amp;"); break;
			case '<': h_raw(h, "&lt;"); break;
			case '>': h_raw(h, "&gt;"); break;
			case '"': h_raw(h, "&quot;"); break;
			case '\'': h_raw(h, "&#39;"); break;
			case '\t': case '\n': put(h, (const char *)p, 1); break;
			default:
				if (cp < 0x20 || cp == 0x7f) {
					snprintf(tmp, sizeof tmp, "\\x%02X", (unsigned)cp);
					h_raw(h, tmp);
				} else {
					put(h, (const char *)p, 1);
				}
			}
		} else if ((cp >= 0x80 && cp < 0xa0) || deceptive(cp)) {
			snprintf(tmp, sizeof tmp, "\\u%04X", (unsigned)cp);
			h_raw(h, tmp);
		} else {
			put(h, (const char *)p, n);
		}
		p += n;
	}
	return false;
}

void h_text(struct html *h, const char *s)
{
	if (s)
		escape(h, s, SIZE_MAX);
}

void h_text_trunc(struct html *h, const char *s, size_t max_chars)
{
	if (s && escape(h, s, max_chars))
		h_raw(h, "\xe2\x80\xa6");
}

void h_text_or_dash(struct html *h, const char *s)
{
	if (s && s[0])
		h_text(h, s);
	else
		h_raw(h, "<span class=\"muted\">\xe2\x80\x94</span>");
}

void h_elem(struct html *h, const char *tag, const char *cls, const char *text)
{
	if (cls)
		h_fmt(h, "<%s class=\"%s\">", tag, cls);
	else
		h_fmt(h, "<%s>", tag);
	h_text(h, text);
	h_fmt(h, "</%s>", tag);
}

size_t utf8_chars(const char *s)
{
	size_t chars = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (p && *p) {
		uint32_t cp;
		size_t n = utf8_seq(p, &cp);
		p += n ? n : 1;
		chars++;
	}
	return chars;
}

/* ---- readers --------------------------------------------------------------- */

const json_t *j_get(const json_t *o, const char *dotted_path)
{
	char key[128];
	const char *p = dotted_path;
	while (o && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof key || !json_is_object(o))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		p += n + (dot ? 1 : 0);
	}
	return o;
}

const char *j_str(const json_t *o, const char *dotted_path)
{
	return json_string_value(j_get(o, dotted_path)); /* NULL unless a string */
}

const char *j_jurisdiction(const json_t *o, char *buf, size_t len)
{
	const char *j = j_str(o, "jurisdiction"), *country = j_str(o, "jurisdiction_country");
	if (!j || !country || !strcmp(j, country))
		return j;
	snprintf(buf, len, "%s:%s", j, country);
	return buf;
}

uint64_t j_u64(const json_t *o, const char *dotted_path)
{
	const json_t *v = j_get(o, dotted_path);
	if (json_is_integer(v))
		return json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
	if (json_is_real(v) && json_real_value(v) > 0 && json_real_value(v) < 1.8e19)
		return (uint64_t)json_real_value(v);
	return 0;
}

double j_num(const json_t *o, const char *dotted_path, double fallback)
{
	const json_t *v = j_get(o, dotted_path);
	if (!json_is_number(v))
		return fallback;
	double d = json_number_value(v);
	return isfinite(d) ? d : fallback;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **j_sorted_keys(const json_t *o, size_t *n)
{
	*n = json_object_size(o); /* 0 unless an object */
	const char **keys = pa_xcalloc(*n + 1, sizeof *keys);
	size_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v)
		keys[i++] = k;
	qsort(keys, *n, sizeof *keys, cmp_str);
	return keys;
}

size_t j_len(const json_t *o, const char *dotted_path)
{
	return json_array_size(j_get(o, dotted_path)); /* 0 unless an array */
}

/* ---- formats --------------------------------------------------------------- */

const char *fmt_count(uint64_t v, char *buf, size_t len)
{
	char digits[32];
	int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
	size_t o = 0;
	for (int i = 0; i < n && o + 2 < len; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

const char *fmt_duration(int64_t us, char *buf, size_t len)
{
	if (us < 0)
		us = 0;
	if (us < 1000)
		snprintf(buf, len, "%lld \xc2\xb5s", (long long)us);
	else if (us < 1000000)
		snprintf(buf, len, "%.1f ms", (double)us / 1e3);
	else if (us < 60000000)
		snprintf(buf, len, "%.2f s", (double)us / 1e6);
	else if (us < 3600000000LL)
		snprintf(buf, len, "%lld min %lld s", (long long)(us / 60000000),
			 (long long)(us / 1000000 % 60));
	else
		snprintf(buf, len, "%lld h %lld min", (long long)(us / 3600000000LL),
			 (long long)(us / 60000000 % 60));
	return buf;
}

bool parse_iso_time(const char *s, int64_t *us)
{
	if (!s)
		return false;
	int year, mon, day, hour, min, sec, used = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &mon, &day, &hour, &min, &sec, &used) != 6 ||
	    used != 19)
		return false;
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return false;
	const char *p = s + used;
	long frac = 0;
	if (*p == '.') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 6)
				frac = frac * 10 + (*p - '0');
		if (!digits)
			return false;
		for (; digits < 6; digits++)
			frac *= 10;
	}
	if (strcmp(p, "Z") != 0)
		return false;
	struct tm tm = {.tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = day,
			.tm_hour = hour, .tm_min = min, .tm_sec = sec};
	time_t t = timegm(&tm);
	*us = (int64_t)t * 1000000 + frac;
	return true;
}
