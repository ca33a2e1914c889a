/*
 * test-detect-encodings.c — the encoding list of issue 4, item by item,
 * against the engine: each encoding is built here from the plain profile
 * value (not from the engine's derived literals), put in a field or a
 * stream the way apps send it, and must come back as one device observation
 * of the right type, value and encoding name (the lab's ground-truth names).
 *
 *   as-is, upper/lower case, separators removed or changed, URL-encoded,
 *   base64 standard and URL-safe at all three alignments inside a longer
 *   blob, hex of the ASCII (both cases), MD5/SHA1/SHA256 hex in both cases of
 *   the raw/upper/lower value, IMEI without check digit, phone with and
 *   without +86, location (test-detect.c covers datums, orders, decimals;
 *   here the -lat/-lon/-lonlat names), DNS query-name labels.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/detect.h"
#include "detect/detect_internal.h"

static const char profile[] =
	"identifiers:\n"
	"  imei: \"868034031518269\"\n"
	"  meid: \"A1000049E6D6D5\"\n"
	"  imsi: \"460011234567890\"\n"
	"  iccid: \"89860112345678901234\"\n"
	"  serial: \"R58M42ABCDE\"\n"
	"  android_id: \"5c3e1f9a7b2d4e60\"\n"
	"  oaid: \"f3b7c2a1-9d4e-4f6a-8b1c-2e5d7a9c0b13\"\n"
	"  gaid: \"38400000-8cf0-11bd-b23e-10b96e40000d\"\n"
	"  phone: \"13912345678\"\n"
	"  wifi_mac: \"8c:be:be:4a:21:07\"\n"
	"  ssid: \"LAB-AP-5G\"\n"
	"  email: \"tester01@example.com\"\n"
	"location:\n"
	"  lat: 39.9087\n"
	"  lon: 116.3975\n";

static const struct {
	const char *type, *value;
} values[] = {
	{ "imei", "868034031518269" },	{ "meid", "A1000049E6D6D5" },
	{ "imsi", "460011234567890" },	{ "iccid", "89860112345678901234" },
	{ "serial", "R58M42ABCDE" },	{ "android_id", "5c3e1f9a7b2d4e60" },
	{ "oaid", "f3b7c2a1-9d4e-4f6a-8b1c-2e5d7a9c0b13" },
	{ "gaid", "38400000-8cf0-11bd-b23e-10b96e40000d" },
	{ "phone", "13912345678" },	{ "wifi_mac", "8c:be:be:4a:21:07" },
	{ "ssid", "LAB-AP-5G" },	{ "email", "tester01@example.com" },
};
#define NVALUES (sizeof values / sizeof values[0])

static struct detect_engine *engine;
static struct detect_scratch *scratch;
static char profile_path[] = "/tmp/test-detect-enc-XXXXXX";

#define MAX_OBS 32
struct collected {
	size_t n;
	struct pa_observation obs[MAX_OBS];
};

static void collect(void *ctx, const struct pa_observation *o)
{
	struct collected *c = ctx;
	if (c->n < MAX_OBS)
		c->obs[c->n] = *o;
	c->n++;
}

static int setup(void **state)
{
	int fd = mkstemp(profile_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, profile, sizeof profile - 1), (ssize_t)(sizeof profile - 1));
	close(fd);
	struct pa_diag diag = { .out = stderr };
	engine = detect_engine_load(PA_SOURCE_DIR "/signatures", profile_path, &diag);
	assert_non_null(engine);
	scratch = detect_scratch_alloc(engine);
	assert_non_null(scratch);
	return 0;
}

static int teardown(void **state)
{
	detect_scratch_free(scratch);
	detect_engine_free(engine);
	unlink(profile_path);
	return 0;
}

static struct collected scan_field(const char *field, const char *text)
{
	struct collected c = { 0 };
	struct pa_field_ref ref = { "http", field, PA_DIR_FROM_SRC, 7, 1, NULL };
	detect_scan_field(engine, scratch, &ref, true, (const uint8_t *)text, strlen(text), collect,
			  &c);
	return c;
}

/* Exactly one device observation, of this type, value and encoding. */
static void expect_device(const struct collected *c, const char *type, const char *value,
			  const char *encoding, const char *text)
{
	const struct pa_observation *found = NULL;
	size_t devices = 0;
	for (size_t i = 0; i < c->n && i < MAX_OBS; i++)
		if (!strcmp(c->obs[i].source, "device"))
			found = &c->obs[i], devices++;
	if (devices != 1)
		fail_msg("%s %s: %zu device observations in \"%s\"", type, encoding, devices, text);
	if (strcmp(found->type, type) || strcmp(found->value, value) ||
	    strcmp(found->encoding, encoding))
		fail_msg("%s %s in \"%s\": got %s %s %s", type, encoding, text, found->type,
			 found->encoding, found->value);
}

static void recase(const char *in, char *out, bool upper)
{
	for (; *in; in++)
		*out++ = (char)(upper ? toupper((unsigned char)*in) : tolower((unsigned char)*in));
	*out = 0;
}

static void test_text_forms(void **state)
{
	char text[256], form[160];
	for (size_t i = 0; i < NVALUES; i++) {
		const char *t = values[i].type, *v = values[i].value;
		snprintf(text, sizeof text, "x=%s&y=1", v);
		struct collected c = scan_field("http.body", text);
		expect_device(&c, t, v, "raw", text);
		for (int up = 0; up < 2; up++) {
			recase(v, form, up);
			if (!strcmp(form, v))
				continue;
			snprintf(text, sizeof text, "x=%s&y=1", form);
			c = scan_field("http.body", text);
			expect_device(&c, t, v, up ? "upper" : "lower", text);
		}
	}
	/* separators removed or changed */
	struct collected c = scan_field("http.body", "m=8cbebe4a2107;");
	expect_device(&c, "wifi_mac", "8c:be:be:4a:21:07", "nosep", "8cbebe4a2107");
	c = scan_field("http.body", "m=8C-BE-BE-4A-21-07;");
	expect_device(&c, "wifi_mac", "8c:be:be:4a:21:07", "dash-upper", "8C-BE-BE-4A-21-07");
	c = scan_field("http.body", "o=F3B7C2A19D4E4F6A8B1C2E5D7A9C0B13;");
	expect_device(&c, "oaid", "f3b7c2a1-9d4e-4f6a-8b1c-2e5d7a9c0b13", "nosep-upper", "oaid");
	c = scan_field("http.body", "s=LABAP5G;");
	expect_device(&c, "ssid", "LAB-AP-5G", "nosep", "LABAP5G");
	/* URL-encoded (upper and lower hex digits) */
	c = scan_field("tcp.payload", "mac=8c%3Abe%3Abe%3A4a%3A21%3A07&");
	expect_device(&c, "wifi_mac", "8c:be:be:4a:21:07", "url", "%3A");
	c = scan_field("tcp.payload", "e=tester01%40example.com&");
	expect_device(&c, "email", "tester01@example.com", "url", "%40");
	c = scan_field("tcp.payload", "e=tester01%40example.com&");
	c = scan_field("tcp.payload", "mac=8c%3abe%3abe%3a4a%3a21%3a07&");
	expect_device(&c, "wifi_mac", "8c:be:be:4a:21:07", "url-lowerhex", "%3a");
	/* IMEI without check digit; phone with and without the country code */
	c = scan_field("tcp.payload", "d=86803403151826&");
	expect_device(&c, "imei", "868034031518269", "no-check-digit", "14 digits");
	c = scan_field("tcp.payload", "tel=%2B8613912345678&");
	expect_device(&c, "phone", "13912345678", "url(plus86)", "%2B86");
	c = scan_field("tcp.payload", "tel=+86 13912345678&");
	expect_device(&c, "phone", "13912345678", "plus86-space", "+86 ");
	c = scan_field("tcp.payload", "tel=008613912345678&");
	expect_device(&c, "phone", "13912345678", "intl0086", "0086");
	c = scan_field("tcp.payload", "tel=8613912345678&");
	expect_device(&c, "phone", "13912345678", "cc86", "86");
	c = scan_field("tcp.payload", "tel=13912345678&");
	expect_device(&c, "phone", "13912345678", "raw", "national");
}

static void test_hex_and_digests(void **state)
{
	static const char *const hashes[] = { "md5", "sha1", "sha256" };
	char text[300], form[160], digest[160];
	for (size_t i = 0; i < NVALUES; i++) {
		const char *t = values[i].type, *v = values[i].value;
		/* hex of the ASCII, both cases */
		for (int up = 0; up < 2; up++) {
			char *o = form;
			for (const char *p = v; *p; p++, o += 2)
				sprintf(o, up ? "%02X" : "%02x", (unsigned char)*p);
			snprintf(text, sizeof text, "h=%s;", form);
			/* digits only: both cases are the same text, named hex */
			bool letters = strpbrk(form, "abcdefABCDEF") != NULL;
			struct collected c = scan_field("udp.payload", text);
			expect_device(&c, t, v, up && letters ? "hex-upper" : "hex", text);
		}
		/* digests of the raw, upper and lower value, hex in both cases */
		for (int f = 0; f < 3; f++) {
			if (f == 0)
				snprintf(form, sizeof form, "%s", v);
			else
				recase(v, form, f == 1);
			if (f && !strcmp(form, v))
				continue;
			if (!strcmp(t, "phone") && f)
				continue; /* digits: no case */
			for (size_t h = 0; h < 3; h++) {
				for (int up = 0; up < 2; up++) {
					char want[48];
					assert_true(detect_hash_hex(hashes[h], (const uint8_t *)form,
								    strlen(form), digest, up));
					snprintf(want, sizeof want, "%s-%s%s%s%s", hashes[h],
						 up ? "upper" : "lower", f ? "(" : "",
						 f == 1 ? "upper" : f == 2 ? "lower" : "", f ? ")" : "");
					snprintf(text, sizeof text, "{\"k\":\"%s\"}", digest);
					struct collected c = scan_field("http.body", text);
					expect_device(&c, t, v, want, text);
				}
			}
		}
	}
	/* the digest helper itself, against published vectors */
	assert_true(detect_hash_hex("md5", (const uint8_t *)"abc", 3, digest, false));
	assert_string_equal(digest, "900150983cd24fb0d6963f7d28e17f72");
	assert_true(detect_hash_hex("sha1", (const uint8_t *)"abc", 3, digest, true));
	assert_string_equal(digest, "A9993E364706816ABA3E25717850C26C9CD0D89D");
}

/* base64 of "<k junk bytes><value><junk>", so the value sits at each alignment. */
static void test_base64_alignments(void **state)
{
	static const char junk[] = "{\"ts\":1700000000,\"v\":\"";
	for (size_t i = 0; i < NVALUES; i++) {
		const char *t = values[i].type, *v = values[i].value;
		for (int url = 0; url < 2; url++) {
			for (size_t k = 0; k < 3; k++) {
				char plain[256], text[400];
				int n = snprintf(plain, sizeof plain, "%.*s%s\",\"z\":1}",
						 (int)(sizeof junk - 4 + k), junk, v);
				char *o = text + snprintf(text, sizeof text, "blob=");
				detect_base64((const uint8_t *)plain, (size_t)n, o, url);
				strcat(text, "&");
				struct collected c = scan_field("tcp.payload", text);
				/* without '-' or '_' where the value sits, URL-safe base64
				 * is the same text as standard base64, named base64 */
				const char *want = url && (strchr(o, '-') || strchr(o, '_')) ?
					"base64url" : "base64";
				if (url && strcmp(want, "base64url") == 0) {
					char std[400];
					detect_base64((const uint8_t *)plain, (size_t)n, std, false);
					size_t same = 0;
					for (; o[same] && o[same] == std[same]; same++)
						;
					want = o[same] ? "base64url" : "base64";
				}
				bool ok = false;
				for (size_t j = 0; j < c.n && j < MAX_OBS; j++)
					ok |= !strcmp(c.obs[j].source, "device") &&
					      !strcmp(c.obs[j].type, t) && !strcmp(c.obs[j].value, v) &&
					      (!strcmp(c.obs[j].encoding, want) ||
					       (url && !strcmp(c.obs[j].encoding, "base64")));
				if (!ok || c.n != 1)
					fail_msg("%s %s at alignment %zu not found once in %s", t, want,
						 k, text);
			}
		}
	}
}

static void test_location_names(void **state)
{
	struct collected c = scan_field("http.query:lat", "39.9087");
	expect_device(&c, "location", "39.9087", "wgs84-lat", "lat");
	c = scan_field("http.query:lng", "116.403744");
	expect_device(&c, "location", "116.403744", "gcj02-lon", "lng");
	c = scan_field("http.query:loc", "116.410117,39.916443");
	expect_device(&c, "location", "116.410117,39.916443", "bd09-lonlat", "loc");
	c = scan_field("http.query:loc", "39908700,116397500");
	expect_device(&c, "location", "39908700,116397500", "e6", "loc");
	c = scan_field("http.query:latitude", "39908700");
	expect_device(&c, "location", "39908700", "e6-lat", "latitude");
	c = scan_field("http.body.form:pos", "39.91,116.40");
	expect_device(&c, "location", "39.91,116.40", "wgs84", "pos");
}

/* Identifiers hidden in DNS labels: the query name is one field. */
static void test_dns_labels(void **state)
{
	struct collected c = scan_field("dns.qname", "868034031518269.imdns.example.cn");
	expect_device(&c, "imei", "868034031518269", "raw", "imei label");
	c = scan_field("dns.qname", "a.8cbebe4a2107.log.example.com");
	expect_device(&c, "wifi_mac", "8c:be:be:4a:21:07", "nosep", "mac label");
	c = scan_field("dns.qname", "5c3e1f9a7b2d4e60.x.example.com");
	expect_device(&c, "android_id", "5c3e1f9a7b2d4e60", "raw", "android_id label");
}

/* An app list grows one package at a time: reported once, whole. */
static void test_growing_pattern_reported_once(void **state)
{
	struct collected c = scan_field("tcp.payload", "apps=com.a.b,com.c.d,com.e.f&x=1");
	assert_int_equal(c.n, 1);
	assert_string_equal(c.obs[0].type, "app_list");
	assert_string_equal(c.obs[0].value, "com.a.b,com.c.d,com.e.f");
	/* a serial-shaped run inside base64 of the serial is the device's serial */
	c = scan_field("http.query:serial", "UjU4TTQyQUJDREU=");
	assert_int_equal(c.n, 1);
	assert_string_equal(c.obs[0].source, "device");
	assert_string_equal(c.obs[0].encoding, "base64");
	/* a pattern in a base64-decoded field says base64 */
	c = scan_field("http.query:app_list+base64", "com.a.b,com.c.d");
	assert_int_equal(c.n, 1);
	assert_string_equal(c.obs[0].encoding, "base64");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_forms),
		cmocka_unit_test(test_hex_and_digests),
		cmocka_unit_test(test_base64_alignments),
		cmocka_unit_test(test_location_names),
		cmocka_unit_test(test_dns_labels),
		cmocka_unit_test(test_growing_pattern_reported_once),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
