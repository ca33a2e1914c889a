/* util.c — allocation that never returns NULL, errors, addresses and times. */
#include "privaudit.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

void pa_error_set(struct pa_error *err, const char *fmt, ...)
{
	if (!err)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
}

/* Out of memory is the one failure the tool does not try to survive: exit 3
 * (internal error) rather than limp on with a half-built record. */
static void out_of_memory(size_t n)
{
	fprintf(stderr, "privaudit: out of memory allocating %zu bytes\n", n);
	exit(PA_EXIT_INTERNAL);
}

void *pa_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

void *pa_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory(n * size);
	return p;
}

void *pa_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory(n);
	return q;
}

char *pa_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = pa_xmalloc(n);
	memcpy(d, s, n);
	return d;
}

/* Decimal digits of v (< 1000) at p, no leading zeros; past the last. */
static char *put_octet(char *p, unsigned v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

const char *pa_addr_str(const struct pa_addr *a, char *buf, size_t len)
{
	/* IPv4 by hand: every flow and observation record prints two
	 * addresses, and glibc's inet_ntop formats IPv4 through sprintf. */
	if (a->family == 4 && len >= 16) {
		char *p = buf;
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = put_octet(p, a->bytes[i]);
		}
		*p = '\0';
	} else if (a->family == 4)
		inet_ntop(AF_INET, a->bytes, buf, (socklen_t)len);
	else if (a->family == 6)
		inet_ntop(AF_INET6, a->bytes, buf, (socklen_t)len);
	else
		snprintf(buf, len, "?");
	return buf;
}

bool pa_addr_parse(const char *s, struct pa_addr *out)
{
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, s, out->bytes) == 1) {
		out->family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, out->bytes) == 1) {
		out->family = 6;
		return true;
	}
	return false;
}

bool pa_addr_equal(const struct pa_addr *a, const struct pa_addr *b)
{
	size_t n = a->family == 4 ? 4 : 16;
	return a->family == b->family && memcmp(a->bytes, b->bytes, n) == 0;
}

static bool v4_private(const uint8_t *b)
{
	return b[0] == 10 || b[0] == 127 || b[0] == 0 ||
	       (b[0] == 172 && (b[1] & 0xf0) == 16) ||
	       (b[0] == 192 && b[1] == 168) ||
	       (b[0] == 100 && (b[1] & 0xc0) == 64) || /* CGNAT 100.64/10 */
	       (b[0] == 169 && b[1] == 254) ||         /* link-local */
	       (b[0] == 192 && b[1] == 0 && b[2] == 0) || /* IETF protocol assignments */
	       (b[0] == 198 && (b[1] & 0xfe) == 18) || /* benchmarking 198.18/15 */
	       (b[0] == 192 && b[1] == 0 && b[2] == 2) ||      /* TEST-NET-1 */
	       (b[0] == 198 && b[1] == 51 && b[2] == 100) ||   /* TEST-NET-2 */
	       (b[0] == 203 && b[1] == 0 && b[2] == 113) ||    /* TEST-NET-3 */
	       b[0] >= 224;                            /* multicast, reserved, broadcast */
}

bool pa_addr_is_private(const struct pa_addr *a)
{
	const uint8_t *b = a->bytes;
	if (a->family == 4)
		return v4_private(b);
	if (a->family != 6)
		return false;
	static const uint8_t zero[16];
	if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1)) /* :: and ::1 */
		return true;
	if ((b[0] & 0xfe) == 0xfc)                 /* ULA fc00::/7 */
		return true;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* link-local fe80::/10 */
		return true;
	if (b[0] == 0xff)                          /* multicast */
		return true;
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* documentation */
		return true;
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(b, mapped, 12) == 0)            /* IPv4-mapped */
		return v4_private(b + 12);
	return false;
}

/* Year, month, day of a count of days since 1970-01-01 (proleptic
 * Gregorian; H. Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* n as `width` decimal digits at p, zero-padded; past the last. */
static char *put_digits(char *p, unsigned long n, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + n % 10);
		n /= 10;
	}
	return p + width;
}

const char *pa_time_str(int64_t ts_us, char *buf, size_t len)
{
	time_t sec = (time_t)(ts_us / 1000000);
	long usec = (long)(ts_us % 1000000);
	if (usec < 0) {
		usec += 1000000;
		sec -= 1;
	}
	/* By hand for years 1000-9999 (every record prints two timestamps;
	 * gmtime_r + strftime + snprintf were a tenth of writing flows.jsonl);
	 * the C library for the rest. Same text either way (test-decode). */
	int64_t days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
	long in_day = (long)(sec - days * 86400);
	int64_t year;
	unsigned month, day;
	civil_from_days(days, &year, &month, &day);
	if (len >= 28 && year >= 1000 && year <= 9999) {
		char *p = put_digits(buf, (unsigned long)year, 4);
		*p++ = '-';
		p = put_digits(p, month, 2);
		*p++ = '-';
		p = put_digits(p, day, 2);
		*p++ = 'T';
		p = put_digits(p, (unsigned long)(in_day / 3600), 2);
		*p++ = ':';
		p = put_digits(p, (unsigned long)(in_day / 60 % 60), 2);
		*p++ = ':';
		p = put_digits(p, (unsigned long)(in_day % 60), 2);
		*p++ = '.';
		p = put_digits(p, (unsigned long)usec, 6);
		memcpy(p, "Z", 2);
		return buf;
	}
	struct tm tm;
	gmtime_r(&sec, &tm);
	char base[24];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06ldZ", base, usec);
	return buf;
}

bool pa_mkdir_p(const char *dir, struct pa_error *err)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
		pa_error_set(err, "%s: path too long", dir);
		return false;
	}
	for (char *p = path + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = 0;
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			pa_error_set(err, "%s: cannot create folder %s: %s", dir, path, strerror(errno));
			return false;
		}
		if (!c)
			break;
		*p = c;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		pa_error_set(err, "%s: not a folder", dir);
		return false;
	}
	return true;
}

/*
 * Length (2..4) of the well-formed UTF-8 sequence that starts at s, or 0
 * with *bad set to the length (1..3) of its maximal invalid subpart. The
 * ranges of the second byte (Unicode table 3-7) rule out overlong forms
 * (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points
 * above U+10FFFF (F4 90.., F5..FF).
 */
size_t pa_utf8_seq(const unsigned char *s, const unsigned char *end, size_t *bad)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		*bad = 1;
		return 0;
	}
	for (size_t i = 1; i < need; i++) {
		if (s + i >= end || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

const char *pa_utf8_clean(const char *s, char *out, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	size_t o = 0;
	bool clean = true;
	while (p < end) {
		size_t bad = 0, k = *p < 0x80 ? 1 : pa_utf8_seq(p, end, &bad);
		if (k && clean) {
			p += k;
			continue;
		}
		if (clean) { /* first damage: copy what came before */
			clean = false;
			o = (size_t)(p - (const unsigned char *)s);
			if (o > n - 4)
				o = n - 4; /* room left for U+FFFD and the NUL */
			while (o && ((unsigned char)s[o] & 0xc0) == 0x80)
				o--; /* cut at a whole character */
			memcpy(out, s, o);
		}
		const unsigned char *from = k ? p : (const unsigned char *)"\xef\xbf\xbd";
		size_t len = k ? k : 3;
		if (o + len + 1 > n)
			break;
		memcpy(out + o, from, len);
		o += len;
		p += k ? k : bad;
	}
	if (clean)
		return s;
	out[o] = 0;
	return out;
}

const char *pa_bytes_str(uint64_t b, char *buf, size_t len)
{
	if (b < 10000)
		snprintf(buf, len, "%llu B", (unsigned long long)b);
	else if (b < 10000000)
		snprintf(buf, len, "%.1f KB", (double)b / 1e3);
	else if (b < 10000000000ULL)
		snprintf(buf, len, "%.1f MB", (double)b / 1e6);
	else
		snprintf(buf, len, "%.2f GB", (double)b / 1e9);
	return buf;
}

/* The code point of a well-formed UTF-8 sequence of k bytes. */
static uint32_t utf8_code_point(const unsigned char *p, size_t k)
{
	uint32_t c = k == 2 ? p[0] & 0x1fu : k == 3 ? p[0] & 0x0fu : p[0] & 0x07u;
	for (size_t i = 1; i < k; i++)
		c = c << 6 | (p[i] & 0x3fu);
	return c;
}

/* Characters that change what a terminal shows rather than being shown:
 * C1 controls (some terminals act on U+009B as CSI) and the bidirectional
 * marks, embeddings, overrides and isolates that reorder the rest of a line. */
static bool invisible_control(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

const char *pa_term_safe(const char *s, char *out, size_t n)
{
	if (!s)
		return "";
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	size_t o = 0;
	while (p < end) {
		char esc[16];
		size_t bad = 0, k = *p < 0x80 ? 1 : pa_utf8_seq(p, end, &bad);
		const char *piece = (const char *)p;
		size_t len = k;
		if (!k) { /* invalid UTF-8: each byte as \xHH */
			snprintf(esc, sizeof esc, "\\x%02x", *p);
			piece = esc, len = strlen(esc), k = 1;
		} else if (k == 1 && (*p < 0x20 || *p == 0x7f)) {
			snprintf(esc, sizeof esc, "\\x%02x", *p);
			piece = esc, len = strlen(esc);
		} else if (k == 1 && *p == '\\') {
			piece = "\\\\", len = 2;
		} else if (k > 1 && invisible_control(utf8_code_point(p, k))) {
			snprintf(esc, sizeof esc, "\\u{%04x}", (unsigned)utf8_code_point(p, k));
			piece = esc, len = strlen(esc);
		}
		if (o + len + 1 > n)
			break; /* cut at a whole character or escape */
		memcpy(out + o, piece, len);
		o += len;
		p += k;
	}
	if (n)
		out[o < n ? o : n - 1] = 0;
	return out;
}
