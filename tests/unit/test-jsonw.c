/* test-jsonw.c — the JSON record writer of flows.jsonl and
 * observations.jsonl: every record it builds is parsed back with jansson and
 * must hold what was put in. Strings of arbitrary bytes always parse; invalid
 * UTF-8 becomes U+FFFD the way Unicode recommends; integers reach the ends
 * of their range; reals print short and parse to the rounded value; commas
 * and nesting; a JSON Lines file written through its temporary name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/jsonl.h"
#include "report/jsonw.h"
#include "report/observations_out.h"
#include "util/hasher.h"
#include "util/sha256.h"

/* w's text as a NUL-terminated string (for failure messages and strcmp). */
static const char *text(struct jsonw *w)
{
	jw_raw(w, "", 1);
	w->len--;
	return w->buf;
}

static json_t *parse(struct jsonw *w)
{
	json_error_t jerr;
	json_t *j = json_loadb(w->buf, w->len, JSON_ALLOW_NUL, &jerr);
	if (!j)
		fail_msg("does not parse (%s at %d): %.*s", jerr.text, jerr.position, (int)w->len, w->buf);
	assert_int_equal(w->depth, 0);
	return j;
}

/* The string value of {"s": bytes} after a round trip, malloc'ed; *n its length. */
static char *round_trip(const char *bytes, size_t len, size_t *n)
{
	struct jsonw w;
	jw_init(&w);
	jw_object_open(&w);
	jw_key(&w, "s");
	jw_string_len(&w, bytes, len);
	jw_object_close(&w);
	json_t *j = parse(&w);
	json_t *s = json_object_get(j, "s");
	assert_true(json_is_string(s));
	*n = json_string_length(s);
	char *out = malloc(*n + 1);
	memcpy(out, json_string_value(s), *n + 1);
	json_decref(j);
	jw_free(&w);
	return out;
}

static void assert_round_trip(const char *in, size_t len, const char *want)
{
	size_t n;
	char *got = round_trip(in, len, &n);
	if (n != strlen(want) || memcmp(got, want, n) != 0)
		fail_msg("got \"%s\", want \"%s\"", got, want);
	free(got);
}

static void test_record(void **state)
{
	(void)state;
	struct jsonw w;
	jw_init(&w);
	for (int round = 0; round < 3; round++) { /* the buffer is reused */
		jw_reset(&w);
		jw_object_open(&w);
		jw_kv_uint(&w, "id", 42);
		jw_kv_string(&w, "name", "蓝信 lanxin");
		jw_kv_string(&w, "none", NULL);
		jw_kv_string(&w, "empty", "");
		jw_kv_bool(&w, "yes", true);
		jw_kv_bool(&w, "no", false);
		jw_kv_null(&w, "nothing");
		jw_kv_int(&w, "neg", -7);
		jw_kv_fixed(&w, "rtt", 145.49299999999999, 3);
		jw_key(&w, "list");
		jw_array_open(&w);
		jw_string(&w, "a");
		jw_uint(&w, 1);
		jw_object_open(&w);
		jw_kv_string(&w, "inner", "x");
		jw_object_close(&w);
		jw_array_close(&w);
		jw_key(&w, "obj");
		jw_object_open(&w);
		jw_kv_uint(&w, "scanned", 10);
		jw_object_close(&w);
		jw_object_close(&w);
		assert_string_equal(text(&w),
			"{\"id\":42,\"name\":\"蓝信 lanxin\",\"none\":null,\"empty\":\"\",\"yes\":true,"
			"\"no\":false,\"nothing\":null,\"neg\":-7,\"rtt\":145.493,"
			"\"list\":[\"a\",1,{\"inner\":\"x\"}],\"obj\":{\"scanned\":10}}");
		json_t *j = parse(&w);
		assert_int_equal(json_object_size(j), 11);
		assert_int_equal(json_integer_value(json_object_get(j, "id")), 42);
		assert_string_equal(json_string_value(json_object_get(j, "name")), "蓝信 lanxin");
		assert_true(json_is_null(json_object_get(j, "none")));
		assert_string_equal(json_string_value(json_object_get(j, "empty")), "");
		assert_true(json_is_true(json_object_get(j, "yes")));
		assert_true(json_is_false(json_object_get(j, "no")));
		assert_int_equal(json_integer_value(json_object_get(j, "neg")), -7);
		assert_true(json_real_value(json_object_get(j, "rtt")) == 145.493);
		json_t *list = json_object_get(j, "list");
		assert_int_equal(json_array_size(list), 3);
		assert_string_equal(json_string_value(json_object_get(json_array_get(list, 2), "inner")), "x");
		json_decref(j);
	}
	jw_free(&w);
}

static void test_nesting(void **state)
{
	(void)state;
	struct jsonw w;
	jw_init(&w);
	jw_object_open(&w);
	jw_key(&w, "a");
	jw_array_open(&w);
	jw_array_close(&w);
	jw_key(&w, "b");
	jw_object_open(&w);
	jw_object_close(&w);
	jw_key(&w, "c");
	jw_array_open(&w);
	jw_int(&w, 1);
	jw_array_open(&w);
	jw_int(&w, 2);
	jw_object_open(&w);
	jw_object_close(&w);
	jw_array_open(&w);
	jw_array_open(&w);
	jw_array_close(&w);
	jw_array_close(&w);
	jw_array_close(&w);
	jw_object_open(&w);
	jw_kv_null(&w, "d");
	jw_object_close(&w);
	jw_array_close(&w);
	jw_object_close(&w);
	assert_string_equal(text(&w), "{\"a\":[],\"b\":{},\"c\":[1,[2,{},[[]]],{\"d\":null}]}");
	json_decref(parse(&w));
	/* a top-level array and an empty object */
	jw_reset(&w);
	jw_array_open(&w);
	jw_object_open(&w);
	jw_object_close(&w);
	jw_string(&w, "");
	jw_array_close(&w);
	assert_string_equal(text(&w), "[{},\"\"]");
	json_decref(parse(&w));
	jw_free(&w);
}

static void test_integers(void **state)
{
	(void)state;
	static const int64_t ints[] = {0, 1, -1, 9, 10, -10, 65535, INT32_MAX, INT32_MIN,
				       (int64_t)1 << 53, INT64_MAX, INT64_MIN + 1, INT64_MIN};
	static const uint64_t uints[] = {0, 1, 10, 99, 100, UINT32_MAX, (uint64_t)INT64_MAX};
	struct jsonw w;
	jw_init(&w);
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		jw_reset(&w);
		jw_array_open(&w);
		jw_int(&w, ints[i]);
		jw_array_close(&w);
		json_t *j = parse(&w);
		assert_true(json_integer_value(json_array_get(j, 0)) == ints[i]);
		json_decref(j);
	}
	for (size_t i = 0; i < sizeof uints / sizeof uints[0]; i++) {
		jw_reset(&w);
		jw_array_open(&w);
		jw_uint(&w, uints[i]);
		jw_array_close(&w);
		json_t *j = parse(&w);
		assert_true((uint64_t)json_integer_value(json_array_get(j, 0)) == uints[i]);
		json_decref(j);
	}
	/* past json_int_t, the text is still the number */
	jw_reset(&w);
	jw_uint(&w, UINT64_MAX);
	assert_string_equal(text(&w), "18446744073709551615");
	jw_reset(&w);
	jw_int(&w, INT64_MIN);
	assert_string_equal(text(&w), "-9223372036854775808");
	jw_free(&w);
}

static void assert_fixed(double v, int decimals, const char *want)
{
	struct jsonw w;
	jw_init(&w);
	jw_fixed(&w, v, decimals);
	if (strcmp(text(&w), want) != 0)
		fail_msg("%.17g with %d decimals: got %s, want %s", v, decimals, w.buf, want);
	jw_free(&w);
}

static void test_fixed(void **state)
{
	(void)state;
	assert_fixed(145.49299999999999, 3, "145.493");
	assert_fixed(0, 3, "0.0");
	assert_fixed(2.5, 3, "2.5");
	assert_fixed(2, 3, "2.0");
	assert_fixed(0.001, 3, "0.001");
	assert_fixed(0.0004, 3, "0.0");
	assert_fixed(0.0005, 3, "0.001"); /* half away from zero, as round() */
	assert_fixed(-1.5, 3, "-1.5");
	assert_fixed(-0.0001, 3, "0.0");
	assert_fixed(1.23456789, 0, "1.0");
	assert_fixed(1.23456789, 9, "1.23456789");
	assert_fixed(10.1, 1, "10.1");
	assert_fixed(NAN, 3, "null");
	assert_fixed(INFINITY, 3, "null");
	assert_fixed(-INFINITY, 3, "null");
	assert_fixed(1e20, 3, "1e+20");
	assert_fixed(9e12, 3, "9000000000000.0");
	assert_fixed(-9e12, 3, "-9000000000000.0");
	assert_fixed(8.9e12, 3, "8900000000000.0");

	/* Parses to the double round(v * 1000) / 1000 names. */
	struct jsonw w;
	jw_init(&w);
	srand(7);
	for (int i = 0; i < 20000; i++) {
		double v = (double)rand() / RAND_MAX * (i % 2 ? 1e6 : 10.0);
		jw_reset(&w);
		jw_array_open(&w);
		jw_fixed(&w, v, 3);
		jw_array_close(&w);
		json_t *j = parse(&w);
		double got = json_number_value(json_array_get(j, 0)), want = round(v * 1000.0) / 1000.0;
		if (fabs(got - want) > 1e-9 || got != want)
			fail_msg("%.17g: wrote %s, parses to %.17g, want %.17g", v, text(&w), got, want);
		json_decref(j);
	}
	jw_free(&w);
}

static void test_escapes(void **state)
{
	(void)state;
	assert_round_trip("", 0, "");
	assert_round_trip("quote \" backslash \\ slash /", 27, "quote \" backslash \\ slash /");
	assert_round_trip("\b\f\n\r\t\x01\x1f\x7f", 8, "\b\f\n\r\t\x01\x1f\x7f");
	/* every control byte, NUL included, escaped and back */
	char ctl[32];
	for (int i = 0; i < 32; i++)
		ctl[i] = (char)i;
	size_t n;
	char *got = round_trip(ctl, sizeof ctl, &n);
	assert_int_equal(n, sizeof ctl);
	assert_memory_equal(got, ctl, sizeof ctl);
	free(got);

	struct jsonw w;
	jw_init(&w);
	jw_string_len(&w, "\x00\x01\n\"\\", 5);
	assert_string_equal(text(&w), "\"\\u0000\\u0001\\n\\\"\\\\\"");
	jw_reset(&w);
	/* keys go through the same escaping */
	jw_object_open(&w);
	jw_kv_uint(&w, "a\"b\n", 1);
	jw_object_close(&w);
	assert_string_equal(text(&w), "{\"a\\\"b\\n\":1}");
	json_decref(parse(&w));
	jw_free(&w);
}

#define FFFD "\xef\xbf\xbd"

static void test_utf8(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} cases[] = {
		/* valid: kept as is, at the edges of every range */
		{"\xc2\x80", "\xc2\x80"},
		{"\xdf\xbf", "\xdf\xbf"},
		{"\xe0\xa0\x80", "\xe0\xa0\x80"},
		{"\xed\x9f\xbf", "\xed\x9f\xbf"},         /* U+D7FF */
		{"\xee\x80\x80", "\xee\x80\x80"},         /* U+E000 */
		{"\xef\xbf\xbf", "\xef\xbf\xbf"},
		{"\xf0\x90\x80\x80", "\xf0\x90\x80\x80"}, /* U+10000 */
		{"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"}, /* emoji */
		{"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"}, /* U+10FFFF */
		{"中国 example.cn", "中国 example.cn"},
		/* stray continuation and never-valid bytes */
		{"\x80", FFFD},
		{"a\xbf" "b", "a" FFFD "b"},
		{"\xfe\xff", FFFD FFFD},
		{"\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD},
		/* overlong */
		{"\xc0\xaf", FFFD FFFD},
		{"\xc1\xbf", FFFD FFFD},
		{"\xe0\x80\xaf", FFFD FFFD FFFD},
		{"\xe0\x9f\xbf", FFFD FFFD FFFD},
		{"\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD},
		{"\xf0\x8f\xbf\xbf", FFFD FFFD FFFD FFFD},
		/* surrogates */
		{"\xed\xa0\x80", FFFD FFFD FFFD},
		{"\xed\xbf\xbf", FFFD FFFD FFFD},
		{"\xed\xa0\xbd\xed\xb8\x80", FFFD FFFD FFFD FFFD FFFD FFFD},
		/* above U+10FFFF */
		{"\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD},
		/* cut short: the maximal subpart is one U+FFFD */
		{"\xc3", FFFD},
		{"\xe2\x82", FFFD},
		{"\xf0\x9f\x98", FFFD},
		{"\xe2\x82x", FFFD "x"},
		{"\xf0\x9f\x98\"", FFFD "\""},
		{"\xf0\x9f\xc3\xa9", FFFD "\xc3\xa9"},
		/* Unicode 3.9, table 3-8 */
		{"a\xf1\x80\x80\xe1\x80\xc2" "b\x80" "c\x80\xbf" "d",
		 "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_round_trip(cases[i].in, strlen(cases[i].in), cases[i].want);

	/* The replacement is written as the escape \ufffd. */
	struct jsonw w;
	jw_init(&w);
	jw_string(&w, "x\xff");
	assert_string_equal(text(&w), "\"x\\ufffd\"");
	jw_free(&w);
}

/* An independent check of well-formed UTF-8: decode each code point in full,
 * then reject overlong forms, surrogates and values above U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], len, cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			len = 2, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			len = 3, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			len = 4, cp = c & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < min[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += len;
	}
	return true;
}

/* Random code points of every length, surrogates left out, as UTF-8. */
static size_t utf8_random(unsigned char *s, size_t cap)
{
	static const uint32_t top[] = {0x7f, 0x7ff, 0xffff, 0x10ffff};
	size_t n = 0;
	for (int k = rand() % 16; k > 0; k--) {
		uint32_t cp = (uint32_t)rand() % (top[rand() % 4] + 1);
		if (cp >= 0xd800 && cp <= 0xdfff)
			cp = 0xe000;
		unsigned char b[4];
		size_t len;
		if (cp < 0x80) {
			b[0] = (unsigned char)cp, len = 1;
		} else if (cp < 0x800) {
			b[0] = (unsigned char)(0xc0 | cp >> 6), b[1] = (unsigned char)(0x80 | (cp & 0x3f)), len = 2;
		} else if (cp < 0x10000) {
			b[0] = (unsigned char)(0xe0 | cp >> 12), b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
			b[2] = (unsigned char)(0x80 | (cp & 0x3f)), len = 3;
		} else {
			b[0] = (unsigned char)(0xf0 | cp >> 18), b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
			b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f)), b[3] = (unsigned char)(0x80 | (cp & 0x3f));
			len = 4;
		}
		if (n + len > cap)
			break;
		memcpy(s + n, b, len);
		n += len;
	}
	return n;
}

/* Arbitrary bytes always make a record jansson reads; valid UTF-8 comes
 * back unchanged, anything else with U+FFFD in it. */
static void test_random_bytes(void **state)
{
	(void)state;
	/* bytes weighted towards what breaks JSON and UTF-8 */
	static const unsigned char pool[] = {0x00, 0x01, 0x08, 0x0a, 0x1f, '"', '\\', '/', 'a', 0x7f,
					     0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf,
					     0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff};
	struct jsonw w;
	jw_init(&w);
	srand(20261123);
	unsigned valid = 0, invalid = 0;
	for (int iter = 0; iter < 30000; iter++) {
		unsigned char s[64];
		size_t n;
		if (iter % 3) {
			n = (size_t)rand() % sizeof s;
			for (size_t i = 0; i < n; i++)
				s[i] = rand() % 2 ? pool[rand() % sizeof pool] : (unsigned char)rand();
		} else {
			/* valid text, every third of it with one byte changed */
			n = utf8_random(s, sizeof s);
			if (iter % 2 && n)
				s[rand() % n] = pool[rand() % sizeof pool];
		}
		jw_reset(&w);
		jw_object_open(&w);
		jw_key(&w, "k");
		jw_string_len(&w, (const char *)s, n);
		jw_key(&w, "a");
		jw_array_open(&w);
		jw_string_len(&w, (const char *)s, n);
		jw_uint(&w, n);
		jw_array_close(&w);
		jw_object_close(&w);
		json_t *j = parse(&w);
		json_t *v = json_object_get(j, "k");
		assert_true(json_is_string(v));
		assert_true(json_equal(v, json_array_get(json_object_get(j, "a"), 0)));
		const char *got = json_string_value(v);
		size_t got_n = json_string_length(v);
		if (utf8_valid(s, n)) {
			valid++;
			assert_int_equal(got_n, n);
			assert_memory_equal(got, s, n);
		} else {
			invalid++;
			assert_true(utf8_valid((const unsigned char *)got, got_n));
			assert_non_null(memmem(got, got_n, FFFD, 3));
		}
		json_decref(j);
	}
	/* both kinds were exercised */
	if (valid < 3000 || invalid < 3000)
		fail_msg("%u valid, %u invalid strings", valid, invalid);
	jw_free(&w);
}

/* A value with invalid UTF-8 keeps its key (jansson's json_pack refused it). */
static void test_observation_record(void **state)
{
	(void)state;
	struct pa_observation obs = {
		.type = "imei", .source = "pattern", .encoding = "raw", .protocol = "http",
		.flow_id = 3, .packet = 17, .ts_us = 1700000000123456, .echo = false,
	};
	snprintf(obs.field, sizeof obs.field, "http.query:im\xffi");
	snprintf(obs.value, sizeof obs.value, "86803403151826\xc0");
	struct observation_record r = {
		.obs = &obs, .hostname = "", .jurisdiction = "CN", .dst_ip = "192.0.2.1", .dst_port = 80,
	};
	struct jsonw w;
	jw_init(&w);
	observation_record_json(&w, &r, true);
	json_t *j = parse(&w);
	static const char *const keys[] = {"format_version", "type", "source", "encoding", "field",
					   "protocol", "flow_id", "packet", "count", "first_packet",
					   "last_packet", "ts", "hostname", "query_name", "jurisdiction",
					   "jurisdiction_country", "dst_ip", "dst_port", "echo", "value"};
	assert_int_equal(json_object_size(j), sizeof keys / sizeof keys[0]);
	size_t i = 0;
	const char *key;
	json_t *val;
	json_object_foreach(j, key, val)
		assert_string_equal(key, keys[i++]);
	assert_string_equal(json_string_value(json_object_get(j, "field")), "http.query:im" FFFD "i");
	assert_string_equal(json_string_value(json_object_get(j, "value")), "86803403151826" FFFD);
	assert_true(json_is_null(json_object_get(j, "hostname")));
	assert_true(json_is_null(json_object_get(j, "query_name"))); /* not a DNS name: null, not left out */
	assert_string_equal(json_string_value(json_object_get(j, "jurisdiction_country")), "CN");
	assert_string_equal(json_string_value(json_object_get(j, "ts")), "2023-11-14T22:13:20.123456Z");
	assert_int_equal(json_integer_value(json_object_get(j, "dst_port")), 80);
	/* not counted yet: seen once, first and last packet the same */
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "last_packet")), 17);
	json_decref(j);
	jw_free(&w);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[4096];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* Lines land under a temporary name, the final name appears on close. */
static void test_jsonl_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/pa-test-jsonw.XXXXXX", path[128], tmp[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/x.jsonl", dir);
	snprintf(tmp, sizeof tmp, "%s/.x.jsonl.tmp", dir);
	struct pa_error err = {{0}};
	struct jsonl_out *o = jsonl_open(dir, "x.jsonl", false, &err);
	assert_non_null(o);
	for (int i = 0; i < 3; i++) {
		struct jsonw *w = jsonl_line(o);
		jw_object_open(w);
		jw_kv_int(w, "i", i);
		jw_kv_string(w, "s", i == 1 ? "a\nb" : NULL);
		jw_object_close(w);
		jsonl_write(o);
	}
	assert_int_equal(jsonl_lines(o), 3);
	struct stat st;
	assert_int_equal(stat(path, &st), -1);
	struct pa_file_hash hash;
	assert_true(jsonl_close(o, &hash, &err));
	assert_int_equal(stat(tmp, &st), -1);
	assert_string_equal(slurp(path), "{\"i\":0,\"s\":null}\n{\"i\":1,\"s\":\"a\\nb\"}\n{\"i\":2,\"s\":null}\n");
	/* The hash taken while writing is the file's. */
	char hex[PA_SHA256_HEX];
	uint64_t size = 0;
	assert_true(pa_sha256_file(path, hex, &size, &err));
	assert_true(hash.ok);
	assert_string_equal(hash.sha256, hex);
	assert_int_equal(hash.size, size);
	assert_int_equal(size, 53);
	unlink(path);

	/* live: the final name from the start, every line flushed */
	o = jsonl_open(dir, "x.jsonl", true, &err);
	assert_non_null(o);
	struct jsonw *w = jsonl_line(o);
	jw_object_open(w);
	jw_object_close(w);
	jsonl_write(o);
	assert_string_equal(slurp(path), "{}\n");
	assert_true(jsonl_close(o, NULL, &err));
	unlink(path);
	rmdir(dir);
}

/* pa_utf8_clean: valid text comes back as is (same pointer); invalid
 * sequences become U+FFFD, and a cut never splits a character. */
static void test_utf8_clean(void **state)
{
	(void)state;
	char out[16];
	const char *ok = "api.\xe8\x93\x9d\xe4\xbf\xa1.cn"; /* api.蓝信.cn */
	assert_ptr_equal(pa_utf8_clean(ok, out, sizeof out), ok);
	assert_string_equal(pa_utf8_clean("ex\xff" "ample", out, sizeof out), "ex\xef\xbf\xbd" "ample");
	assert_string_equal(pa_utf8_clean("a\xc0\xaf" "b", out, sizeof out), "a\xef\xbf\xbd\xef\xbf\xbd" "b");
	assert_string_equal(pa_utf8_clean("\xed\xa0\x80", out, sizeof out),
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* a surrogate */
	/* Longer than out: cut at a whole character, always valid, NUL-ended. */
	const char *r = pa_utf8_clean("\xe8\x93\x9d\xe8\x93\x9d\xe8\x93\x9d\xe8\x93\x9d\xe8\x93\x9d\xff", out, 8);
	assert_ptr_equal(r, out);
	assert_true(strlen(out) < 8);
	json_error_t e;
	char doc[64];
	snprintf(doc, sizeof doc, "[\"%s\"]", out);
	json_t *j = json_loads(doc, 0, &e);
	assert_non_null(j);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_observation_record),
		cmocka_unit_test(test_jsonl_file),
		cmocka_unit_test(test_utf8_clean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
