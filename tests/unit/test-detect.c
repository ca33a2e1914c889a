/*
 * test-detect.c — the signature engine: every pattern type on positive and
 * negative examples, every derived device encoding in a field and in a stream
 * split at every byte, location in each datum/order/precision, echo tagging,
 * and the checker's file:line messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/detect.h"
#include "detect/detect_internal.h"

/* The lab phone (the same values as signatures/devices/lab-phone.yaml). */
static const char lab_profile[] =
	"device:\n"
	"  name: lab-phone\n"
	"  platform: android\n"
	"  ip: [10.66.0.2, \"fd66::2\"]\n"
	"  mac: \"8c:be:be:4a:21:07\"\n"
	"identifiers:\n"
	"  imei: [\"868034031518269\", \"868034031518277\"]\n"
	"  meid: \"A1000049E6D6D5\"\n"
	"  imsi: \"460011234567890\"\n"
	"  iccid: \"89860112345678901234\"\n"
	"  serial: \"R58M42ABCDE\"\n"
	"  android_id: \"5c3e1f9a7b2d4e60\"\n"
	"  oaid: \"f3b7c2a1-9d4e-4f6a-8b1c-2e5d7a9c0b13\"\n"
	"  gaid: \"38400000-8cf0-11bd-b23e-10b96e40000d\"\n"
	"  phone: \"13912345678\"\n"
	"  wifi_mac: \"8c:be:be:4a:21:07\"\n"
	"  bssid: \"c8:3a:35:12:ab:cd\"\n"
	"  ssid: \"LAB-AP-5G\"\n"
	"  email: \"tester01@example.com\"\n"
	"location:\n"
	"  lat: 39.9087\n"
	"  lon: 116.3975\n"
	"  radius_m: 500\n";

static struct detect_engine *engine;         /* signatures + lab device */
static struct detect_engine *engine_nodev;   /* signatures only */
static struct detect_scratch *scratch;
static struct detect_scratch *scratch_nodev;
static char profile_path[] = "/tmp/test-detect-profile-XXXXXX";

#define MAX_OBS 64
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
	assert_int_equal(write(fd, lab_profile, sizeof lab_profile - 1), (ssize_t)(sizeof lab_profile - 1));
	close(fd);
	struct pa_diag diag = { .out = stderr };
	engine = detect_engine_load(PA_SOURCE_DIR "/signatures", profile_path, &diag);
	engine_nodev = detect_engine_load(PA_SOURCE_DIR "/signatures", NULL, &diag);
	assert_non_null(engine);
	assert_non_null(engine_nodev);
	scratch = detect_scratch_alloc(engine);
	scratch_nodev = detect_scratch_alloc(engine_nodev);
	assert_non_null(scratch);
	return 0;
}

static int teardown(void **state)
{
	detect_scratch_free(scratch);
	detect_scratch_free(scratch_nodev);
	detect_engine_free(engine);
	detect_engine_free(engine_nodev);
	unlink(profile_path);
	return 0;
}

static struct collected scan(const struct detect_engine *e, const char *field, const char *text,
			     bool from_device)
{
	struct collected c = { 0 };
	struct pa_field_ref ref = { "http", field, from_device ? PA_DIR_FROM_SRC : PA_DIR_FROM_DST,
				    42, 1000, NULL };
	detect_scan_field(e, e == engine ? scratch : scratch_nodev, &ref, from_device,
			  (const uint8_t *)text, strlen(text), collect, &c);
	return c;
}

/* Pattern observations of `type` in text (signatures only, no device profile). */
static size_t count_pattern(const char *field, const char *text, const char *type,
			    const char *value)
{
	struct collected c = scan(engine_nodev, field, text, true);
	size_t n = 0;
	for (size_t i = 0; i < c.n && i < MAX_OBS; i++) {
		if (strcmp(c.obs[i].type, type) == 0 && strcmp(c.obs[i].source, "pattern") == 0 &&
		    (!value || strcmp(c.obs[i].value, value) == 0))
			n++;
	}
	return n;
}

#define FOUND(text, type, value) assert_int_equal(count_pattern("tcp.payload", text, type, value), 1)
#define NOT_FOUND(text, type) assert_int_equal(count_pattern("tcp.payload", text, type, NULL), 0)

static void test_patterns_imei(void **state)
{
	FOUND("id 490154203237518 x", "imei", "490154203237518");
	FOUND("{\"imei\":\"490154203237518\"}", "imei", "490154203237518");
	NOT_FOUND("id 490154203237519 x", "imei");           /* Luhn fails */
	NOT_FOUND("id 4901542032375180 x", "imei");          /* 16 digits, no key */
	NOT_FOUND("id 123456789012347 x", "imei");           /* Luhn ok, RBI 12 not allocated */
	FOUND("imei=49015420323751&a", "imei", "49015420323751"); /* 14 with key */
	NOT_FOUND("x=49015420323751&a", "imei");             /* 14 without key */
	FOUND("imeisv=4901542032375101", "imei", "4901542032375101");
	assert_int_equal(count_pattern("http.query:imei", "49015420323751", "imei", "49015420323751"), 1);
}

static void test_patterns_ids(void **state)
{
	FOUND("meid=A1000049E6D6D5&", "meid", "A1000049E6D6D5");
	NOT_FOUND("x=A1000049E6D6D5&", "meid");
	FOUND("s=460001234567899;", "imsi", "460001234567899");
	NOT_FOUND("s=310150123456789;", "imsi");             /* not MCC 460 */
	NOT_FOUND("s=460991234567899;", "imsi");             /* MNC 99 is no mainland operator */
	FOUND("c=8986031234567890123 ", "iccid", "8986031234567890123");
	NOT_FOUND("c=8944031234567890123 ", "iccid");
	FOUND("android_id=1234567890abcdef", "android_id", "1234567890abcdef");
	FOUND("{\"androidId\" : \"1234567890ABCDEF\"}", "android_id", "1234567890ABCDEF");
	FOUND("android_id%22%3A%221234567890abcdef%22", "android_id", "1234567890abcdef");
	NOT_FOUND("x=1234567890abcdef", "android_id");      /* 16 hex without key */
	NOT_FOUND("android_id=0000000000000000", "android_id");
	assert_int_equal(count_pattern("http.query:android_id", "1234567890abcdef", "android_id", NULL), 1);
	FOUND("idfa=6D92078A-8246-4BA4-AE5B-76104861E7DC", "idfa", "6D92078A-8246-4BA4-AE5B-76104861E7DC");
	NOT_FOUND("idfa=00000000-0000-0000-0000-000000000000", "idfa");
	NOT_FOUND("req=6D92078A-8246-4BA4-AE5B-76104861E7DC", "idfa");
	FOUND("gaid=38400000-8cf0-11bd-b23e-10b96e40000e", "gaid", "38400000-8cf0-11bd-b23e-10b96e40000e");
	FOUND("oaid=f3b7c2a19d4e4f6a&", "oaid", "f3b7c2a19d4e4f6a");
	FOUND("idfv=6D92078A-8246-4BA4-AE5B-76104861E7DC", "idfv", "6D92078A-8246-4BA4-AE5B-76104861E7DC");
	FOUND("serial=R58M42XYZ12&", "serial", "R58M42XYZ12");
	NOT_FOUND("serial=unknown&", "serial");
}

static void test_patterns_network(void **state)
{
	FOUND("m 00:1a:2b:3c:4d:5e end", "mac", "00:1a:2b:3c:4d:5e");
	FOUND("m 00-1A-2B-3C-4D-5E end", "mac", "00-1A-2B-3C-4D-5E");
	FOUND("wifimac=001a2b3c4d5e&", "mac", "001a2b3c4d5e");
	FOUND("mac=00%3A1a%3A2b%3A3c%3A4d%3A5e&", "mac", "00%3A1a%3A2b%3A3c%3A4d%3A5e");
	NOT_FOUND("m 02:00:00:00:00:00 end", "mac");         /* Android's placeholder */
	NOT_FOUND("m 00:00:00:00:00:00 end", "mac");
	NOT_FOUND("m ff:ff:ff:ff:ff:ff end", "mac");
	NOT_FOUND("x=001a2b3c4d5e&", "mac");                /* 12 hex without key */
	NOT_FOUND("t 12:34:56:78:9a:bc:de end", "mac");     /* seven groups */
	FOUND("bssid=c8:3a:35:12:ab:ce&", "bssid", "c8:3a:35:12:ab:ce");
	FOUND("\"ssid\":\"Office-5G\"", "ssid", "Office-5G");
	FOUND("cellid=12345678&lac=4321", "cell_id", "12345678");
	FOUND("cellid=12345678&lac=4321", "cell_id", "4321");
}

static void test_patterns_contact(void **state)
{
	FOUND("tel=+8613812345678&", "phone", "+8613812345678");
	FOUND("tel=%2B8613812345678&", "phone", "%2B8613812345678");
	FOUND("phone=13812345678&", "phone", "13812345678");
	NOT_FOUND("n=13812345678&", "phone");               /* 11 digits without key or +86 */
	NOT_FOUND("phone=12812345678&", "phone");           /* no 12x mobile prefix */
	NOT_FOUND("phone=138123456789&", "phone");          /* 12 digits */
	FOUND("mail other.user@foo.co.uk, x", "email", "other.user@foo.co.uk");
	NOT_FOUND("img icon@2x.png", "email");
	FOUND("applist=com.tencent.mm,com.eg.android.AlipayGphone,x", "app_list",
	      "com.tencent.mm,com.eg.android.AlipayGphone");
	NOT_FOUND("v=com.tencent.mm,com.eg.android", "app_list");
}

static void test_patterns_location(void **state)
{
	FOUND("loc=40.7128,-74.0060&", "location", "40.7128,-74.0060");
	FOUND("\"coordinates\":[-74.0060,40.7128]", "location", "-74.0060,40.7128");
	NOT_FOUND("loc=400.7128,-74.0060&", "location");    /* out of range */
	NOT_FOUND("version=40.7128,74.0060", "location");   /* no location key */
	NOT_FOUND("lat=40.7128&lng=-74.0060", "location");  /* lone numbers: device only */
}

/* ---- device values ------------------------------------------------------ */

static const struct pa_observation *only_device(const struct collected *c)
{
	const struct pa_observation *found = NULL;
	for (size_t i = 0; i < c->n && i < MAX_OBS; i++) {
		if (strcmp(c->obs[i].source, "device") != 0)
			continue;
		if (found)
			return NULL; /* more than one */
		found = &c->obs[i];
	}
	return found;
}

static void check_literal_obs(const struct pa_observation *o, const struct detect_literal *l,
			      const char *text)
{
	const struct detect_ident *id = &engine->device.idents[l->ident];
	if (!o)
		fail_msg("%s/%s not found exactly once in \"%s\"", id->type, l->encoding, text);
	if (strcmp(o->type, id->type) || strcmp(o->encoding, l->encoding) ||
	    strcmp(o->value, id->value))
		fail_msg("%s/%s in \"%s\": got %s/%s %s", id->type, l->encoding, text, o->type,
			 o->encoding, o->value);
}

/* Every derived literal inside a field, as a field value and as a query. */
static void test_device_every_encoding_in_field(void **state)
{
	assert_true(engine->literal_count > 300);
	for (size_t i = 0; i < engine->literal_count; i++) {
		const struct detect_literal *l = &engine->literals[i];
		char text[512];
		snprintf(text, sizeof text, "a=%.*s&b=1", (int)l->len, (const char *)l->bytes);
		struct collected c = scan(engine, "http.body", text, true);
		const struct pa_observation *o = only_device(&c);
		check_literal_obs(o, l, text);
		assert_int_equal(o->packet, 42);
		assert_string_equal(o->field, "http.body");
		assert_false(o->echo);
	}
}

/* Every literal in a stream, split at every byte across two packets. */
static void test_device_every_encoding_split_stream(void **state)
{
	struct pa_field_ref ref = { "raw-tcp", "tcp.payload", PA_DIR_FROM_SRC, 0, 0, NULL };
	size_t streams = 0;
	for (size_t i = 0; i < engine->literal_count; i++) {
		const struct detect_literal *l = &engine->literals[i];
		char text[512];
		int n = snprintf(text, sizeof text, "POST /x HTTP/1.1\r\n\r\nv=%.*s&z", (int)l->len,
				 (const char *)l->bytes);
		size_t value_start = (size_t)n - 2 - l->len, value_end = (size_t)n - 2;
		for (size_t cut = 0; cut <= (size_t)n; cut++) {
			struct collected c = { 0 };
			struct detect_stream *s = detect_stream_open(engine, &ref, true);
			assert_non_null(s);
			detect_stream_scan(s, scratch, (const uint8_t *)text, cut, 100, 1, collect, &c);
			detect_stream_scan(s, scratch, (const uint8_t *)text + cut, (size_t)n - cut, 101,
					   2, collect, &c);
			detect_stream_close(s, scratch, collect, &c);
			const struct pa_observation *o = only_device(&c);
			check_literal_obs(o, l, text);
			/* the packet holding the value's last byte */
			uint64_t want = value_end <= cut ? 100 : 101;
			if (o->packet != want)
				fail_msg("%s cut %zu: packet %llu, want %llu (value %zu..%zu)",
					 l->encoding, cut, (unsigned long long)o->packet,
					 (unsigned long long)want, value_start, value_end);
			streams++;
		}
	}
	print_message("%zu split streams checked\n", streams);
}

static void test_device_value_suppresses_pattern(void **state)
{
	/* the lab IMEI is reported once, as the device's, not also as a pattern */
	struct collected c = scan(engine, "tcp.payload", "imei=868034031518269&", true);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.obs[0].source, "device");
	assert_string_equal(c.obs[0].encoding, "raw");
	/* another phone's IMEI is a pattern match */
	c = scan(engine, "tcp.payload", "imei=490154203237518&", true);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.obs[0].source, "pattern");
	/* the national number inside +86 is reported once, as plus86 */
	c = scan(engine, "tcp.payload", "tel=+8613912345678&", true);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.obs[0].encoding, "plus86");
	/* the IMEI without check digit as a decoded field named imei */
	c = scan(engine, "http.query:imei", "86803403151826", true);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.obs[0].encoding, "no-check-digit");
}

static void test_echo(void **state)
{
	struct collected c = scan(engine, "http.header:Set-Cookie", "id=5c3e1f9a7b2d4e60", false);
	assert_int_equal(c.n, 1);
	assert_true(c.obs[0].echo);
	assert_string_equal(c.obs[0].type, "android_id");
	c = scan(engine, "http.header:Cookie", "id=5c3e1f9a7b2d4e60", true);
	assert_int_equal(c.n, 1);
	assert_false(c.obs[0].echo);

	struct pa_field_ref ref = { "raw-tcp", "tcp.payload", PA_DIR_FROM_DST, 0, 0, NULL };
	struct detect_stream *s = detect_stream_open(engine, &ref, false);
	c.n = 0;
	detect_stream_scan(s, scratch, (const uint8_t *)"x 868034031518277 y", 19, 9, 9, collect, &c);
	detect_stream_close(s, scratch, collect, &c);
	assert_int_equal(c.n, 1);
	assert_true(c.obs[0].echo);
	assert_int_equal(c.obs[0].packet, 9);
}

/* A pattern value split across packets, and one at the very end of the stream. */
static void test_stream_pattern_split(void **state)
{
	const char *text = "GET /?imei=490154203237518&mac=00:1a:2b:3c:4d:5e";
	size_t n = strlen(text);
	struct pa_field_ref ref = { "raw-tcp", "tcp.payload", PA_DIR_FROM_SRC, 0, 0, NULL };
	for (size_t cut = 0; cut <= n; cut++) {
		struct collected c = { 0 };
		struct detect_stream *s = detect_stream_open(engine, &ref, true);
		detect_stream_scan(s, scratch, (const uint8_t *)text, cut, 1, 1, collect, &c);
		detect_stream_scan(s, scratch, (const uint8_t *)text + cut, n - cut, 2, 2, collect, &c);
		detect_stream_close(s, scratch, collect, &c);
		assert_int_equal(c.n, 2);
		assert_string_equal(c.obs[0].type, "imei");
		assert_string_equal(c.obs[0].value, "490154203237518");
		assert_int_equal(c.obs[0].packet, cut >= 26 ? 1 : 2);
		assert_string_equal(c.obs[1].type, "mac");
		assert_string_equal(c.obs[1].value, "00:1a:2b:3c:4d:5e");
		assert_int_equal(c.obs[1].packet, cut >= n ? 1 : 2);
	}
	/* a gap: nothing joins across it */
	struct collected c = { 0 };
	struct detect_stream *s = detect_stream_open(engine, &ref, true);
	detect_stream_scan(s, scratch, (const uint8_t *)"x 4901542032", 12, 1, 1, collect, &c);
	detect_stream_gap(s, scratch, collect, &c);
	detect_stream_scan(s, scratch, (const uint8_t *)"37518 y", 7, 3, 3, collect, &c);
	detect_stream_close(s, scratch, collect, &c);
	assert_int_equal(c.n, 0);
}

/*
 * Matches longer than the first start window (64 bytes): the start search
 * grows its window, in a field and across a stream cut anywhere; a match
 * longer than the 512-byte window is not reported.
 */
static void test_long_matches(void **state)
{
	char local[128], email[256], text[1200], apps[1100];
	memset(local, 'a', 90);
	local[90] = 0;
	snprintf(email, sizeof email, "%s.tester@example.com", local);   /* 110 bytes */
	snprintf(text, sizeof text, "to: %s; x", email);
	FOUND(text, "email", email);

	/* an app list of about 200 bytes after its key (values keep 255 bytes) */
	size_t o = 0;
	for (int i = 0; o < 200; i++)
		o += (size_t)snprintf(apps + o, sizeof apps - o, "%scom.vendor%02d.app", i ? "," : "", i);
	snprintf(text, sizeof text, "applist=%s&n=1", apps);
	FOUND(text, "app_list", apps);

	struct pa_field_ref ref = { "raw-tcp", "tcp.payload", PA_DIR_FROM_SRC, 0, 0, NULL };
	size_t n = strlen(text);
	for (size_t cut = 1; cut < n; cut += 7) {
		struct collected c = { 0 };
		struct detect_stream *st = detect_stream_open(engine_nodev, &ref, true);
		detect_stream_scan(st, scratch_nodev, (const uint8_t *)text, cut, 1, 1, collect, &c);
		detect_stream_scan(st, scratch_nodev, (const uint8_t *)text + cut, n - cut, 2, 2,
				   collect, &c);
		detect_stream_close(st, scratch_nodev, collect, &c);
		assert_int_equal(c.n, 1);
		assert_string_equal(c.obs[0].type, "app_list");
		assert_string_equal(c.obs[0].value, apps);
	}

	/* A list longer than the 512-byte window: the longest match that fits
	 * the window is the one reported, its value cut to 255 bytes. */
	o = 0;
	for (int i = 0; o < 600; i++)
		o += (size_t)snprintf(apps + o, sizeof apps - o, "%scom.vendor%02d.app", i ? "," : "", i);
	snprintf(text, sizeof text, "applist=%s&n=1", apps);
	struct collected c = scan(engine_nodev, "tcp.payload", text, true);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.obs[0].type, "app_list");
	assert_int_equal(strlen(c.obs[0].value), 255);
	assert_memory_equal(c.obs[0].value, apps, 255);

	/* An address longer than the window has no match that fits (it must
	 * start at its first byte): not reported, rather than cut short. */
	char big[700];
	memset(big, 'a', 600);
	big[600] = 0;
	snprintf(text, sizeof text, "to: %s@example.com; x", big);
	NOT_FOUND(text, "email");
	snprintf(text, sizeof text, "to: %.400s@example.com; x", big);
	assert_int_equal(count_pattern("tcp.payload", text, "email", NULL), 1);
}

/* ---- location ------------------------------------------------------------- */

static void fmt_coord(char *out, size_t len, double v, int dec)
{
	if (dec < 0)
		snprintf(out, len, "%lld", (long long)llround(v * 1e6));
	else
		snprintf(out, len, "%.*f", dec, v);
}

static void test_location_datums_orders_precisions(void **state)
{
	double lat[3], lon[3];
	static const char *const datum[3] = { "wgs84", "gcj02", "bd09" };
	lat[0] = 39.9087, lon[0] = 116.3975;
	coords_wgs84_to_gcj02(lat[0], lon[0], &lat[1], &lon[1]);
	coords_gcj02_to_bd09(lat[1], lon[1], &lat[2], &lon[2]);
	/* GCJ-02 of Tiananmen is about 39.9101, 116.4037 (published tables) */
	assert_true(fabs(lat[1] - 39.9101) < 0.0005 && fabs(lon[1] - 116.4037) < 0.0005);
	assert_true(fabs(lat[2] - 39.9164) < 0.001 && fabs(lon[2] - 116.4101) < 0.001);
	int checked = 0;
	for (int d = 0; d < 3; d++) {
		for (int dec = -1; dec <= 6; dec++) {
			if (dec == 0 || dec == 1)
				continue;
			char a[32], b[32], text[128];
			fmt_coord(a, sizeof a, lat[d], dec);
			fmt_coord(b, sizeof b, lon[d], dec);
			for (int order = 0; order < 2; order++) {
				snprintf(text, sizeof text, "{\"loc\":\"%s,%s\"}", order ? b : a,
					 order ? a : b);
				struct collected c = scan(engine, "tcp.payload", text, true);
				const struct pa_observation *o = only_device(&c);
				if (!o)
					fail_msg("%s not found", text);
				assert_string_equal(o->type, "location");
				/* at 2 decimals datums blur together: any is right */
				if (dec >= 3) {
					char want[32];
					char want_datum[16];
					snprintf(want_datum, sizeof want_datum, "%s", datum[d]);
					if (dec < 0)
						snprintf(want_datum, sizeof want_datum, "%s",
							 d == 0 ? "e6" : d == 1 ? "gcj02-e6" : "bd09-e6");
					snprintf(want, sizeof want, "%s%s", want_datum,
						 order ? "-lonlat" : "");
					if (strcmp(o->encoding, want))
						fail_msg("%s: %s, want %s", text, o->encoding, want);
				}
				checked++;
			}
			/* each number alone under its key */
			struct collected c = scan(engine, "http.query:lat", a, true);
			assert_non_null(only_device(&c));
			c = scan(engine, "http.query:lng", b, true);
			assert_non_null(only_device(&c));
		}
	}
	assert_int_equal(checked, 3 * 6 * 2);
	/* 2 km away is not the lab */
	struct collected c = scan(engine, "tcp.payload", "loc=39.9270,116.3975", true);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.obs[0].source, "pattern");
	c = scan(engine, "http.query:lat", "39.93", true);
	assert_null(only_device(&c));
	/* a lone latitude without key is nothing */
	c = scan(engine, "tcp.payload", "v=39.9087", true);
	assert_int_equal(c.n, 0);
}

/* ---- masking ---------------------------------------------------------------- */

static void test_mask(void **state)
{
	char out[64];
	detect_mask_value("86751234565678", out, sizeof out);
	assert_string_equal(out, "8675******5678");
	detect_mask_value("LAB-AP-5G", out, sizeof out);
	assert_string_equal(out, "LA*****5G");
	detect_mask_value("abc", out, sizeof out);
	assert_string_equal(out, "***");
	detect_mask_value("86751234565678", out, 5);
	assert_string_equal(out, "8675");
}

/* ---- check: file:line messages ------------------------------------------------ */

static char check_output[8192];

static bool check_text(const char *text)
{
	FILE *f = fmemopen(check_output, sizeof check_output, "w");
	struct pa_diag diag = { .out = f };
	bool ok = detect_check_buffer("t.yaml", (const uint8_t *)text, strlen(text), &diag);
	fclose(f);
	return ok;
}

#define EXPECT_ERROR(text, msg)                                                         \
	do {                                                                            \
		assert_false(check_text(text));                                         \
		if (!strstr(check_output, msg))                                         \
			fail_msg("want \"%s\" in:\n%s", msg, check_output);             \
	} while (0)

static void test_check_signature_errors(void **state)
{
	assert_true(check_text("signatures:\n  - type: x\n    pattern: 'ab[0-9]{3}'\n"));
	assert_non_null(strstr(check_output, "1 good, 0 bad"));
	EXPECT_ERROR("signatures:\n  - type: x\n    pattern: 'a'\n    colour: red\n",
		     "t.yaml:4: unknown key 'colour'");
	EXPECT_ERROR("signatures:\n  - type: x\n    pattern: 'a(b'\n",
		     "t.yaml:2: pattern does not compile:");
	EXPECT_ERROR("signatures:\n  - type: x\n    pattern: '(?<=a)b'\n",
		     "t.yaml:2: pattern does not compile:");
	EXPECT_ERROR("signatures:\n  - type: x\n    pattern: 'a'\n    validator: lunh\n",
		     "t.yaml:4: unknown validator 'lunh'");
	EXPECT_ERROR("signatures:\n  - pattern: 'a'\n", "t.yaml:2: signature has no 'type'");
	EXPECT_ERROR("signatures:\n  - type: x\n", "t.yaml:2: signature has no 'pattern'");
	EXPECT_ERROR("signatures:\n  - type: x\n    pattern: 'a*'\n",
		     "t.yaml:2: pattern matches the empty string");
	EXPECT_ERROR("signatures:\n  - type: x\n    pattern: 'a'\n    boundary: edge\n",
		     "t.yaml:4: unknown boundary 'edge'");
	EXPECT_ERROR("signatures:\n  - type: x\n    pattern: '1'\n    validator: latitude\n",
		     "t.yaml:2: a single coordinate means nothing without a key");
	EXPECT_ERROR("signatures:\n  - type: x\n    pattern: '1'\n    context: [\"a b\"]\n",
		     "t.yaml:4: context key must be");
	EXPECT_ERROR("signatures: [\n", "t.yaml:2: YAML syntax error");
	EXPECT_ERROR("signatures:\n  - type: x\n    pattern: 'a'\n    context: [k]\n    context: [j]\n",
		     "t.yaml:5: duplicate key 'context'");
	EXPECT_ERROR("rules: []\n", "t.yaml:1: neither a signature file");
	/* every problem, not just the first */
	assert_false(check_text("signatures:\n  - type: x\n    pattern: 'a('\n"
				"  - type: y\n    pattern: 'b'\n    validator: nope\n"
				"  - type: z\n    pattern: 'c'\n"));
	assert_non_null(strstr(check_output, "t.yaml:2: pattern does not compile"));
	assert_non_null(strstr(check_output, "t.yaml:6: unknown validator"));
	assert_non_null(strstr(check_output, "1 good, 2 bad"));
}

static void test_check_device_errors(void **state)
{
	assert_true(check_text(lab_profile));
	EXPECT_ERROR("identifiers:\n  imei: \"868034031518260\"\n",
		     "t.yaml:2: imei '868034031518260': IMEI must be 15 digits with a valid Luhn");
	EXPECT_ERROR("identifiers:\n  imei: [\"868034031518269\", \"12345\"]\n",
		     "t.yaml:2: imei '12345'");
	EXPECT_ERROR("identifiers:\n  imie: \"868034031518269\"\n",
		     "t.yaml:2: unknown identifier type 'imie'");
	EXPECT_ERROR("identifiers:\n  gaid: \"00000000-0000-0000-0000-000000000000\"\n",
		     "t.yaml:2: gaid");
	EXPECT_ERROR("identifiers:\n  wifi_mac: \"8c:be:be:4a:21\"\n", "t.yaml:2: wifi_mac");
	EXPECT_ERROR("identifiers:\n  android_id: \"5c3e1f9a7b2d4e6\"\n", "t.yaml:2: android_id");
	EXPECT_ERROR("identifiers:\n  phone: \"12345\"\n", "t.yaml:2: phone");
	EXPECT_ERROR("device:\n  name: x\n  ip: [10.0.0.300]\n", "t.yaml:3: '10.0.0.300' is not an IP");
	EXPECT_ERROR("device:\n  platform: symbian\n", "t.yaml:2: platform must be android or ios");
	EXPECT_ERROR("device:\n  colour: red\n", "t.yaml:2: unknown key 'colour' in device");
	EXPECT_ERROR("device:\n  name: x\n  platform: ios\n", "t.yaml:2: device: needs ip and/or mac");
	EXPECT_ERROR("device:\n  ip: [10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5, 10.0.0.6,\n"
		     "       10.0.0.7, 10.0.0.8, 10.0.0.9]\n",
		     "t.yaml:3: ip: more than 8 addresses");
	EXPECT_ERROR("device:\n  mac: \"8c:be:be:4a:21\"\n", "t.yaml:2: mac '8c:be:be:4a:21'");
	EXPECT_ERROR("location:\n  lat: 99\n  lon: 116\n", "t.yaml:2: lat must be a number");
	EXPECT_ERROR("location:\n  lat: 39.9\n", "location needs both lat and lon");
	EXPECT_ERROR("location:\n  lat: 39.9\n  lon: 116.4\n  radius: 5\n",
		     "t.yaml:4: unknown key 'radius' in location");
}

/* The one profile parser keeps where the phone is, for the flow side. */
static void test_device_link_from_profile(void **state)
{
	struct detect_engine_info info;
	detect_engine_get_info(engine, &info);
	assert_int_equal(info.device_ip_count, 2);
	char text[64];
	assert_string_equal(pa_addr_str(&info.device_ip[0], text, sizeof text), "10.66.0.2");
	assert_string_equal(pa_addr_str(&info.device_ip[1], text, sizeof text), "fd66::2");
	assert_true(info.device_has_mac);
	static const uint8_t mac[6] = {0x8c, 0xbe, 0xbe, 0x4a, 0x21, 0x07};
	assert_memory_equal(info.device_mac, mac, 6);
	detect_engine_get_info(engine_nodev, &info);
	assert_int_equal(info.device_ip_count, 0);
	assert_false(info.device_has_mac);

	/* A MAC written without separators is the same six bytes. */
	char path[] = "/tmp/test-detect-mac-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char bare[] = "device:\n  mac: \"8CBEBE4A2107\"\n";
	assert_int_equal(write(fd, bare, sizeof bare - 1), (ssize_t)(sizeof bare - 1));
	close(fd);
	struct pa_diag diag = { .out = stderr };
	struct detect_engine *e = detect_engine_load(PA_SOURCE_DIR "/signatures", path, &diag);
	unlink(path);
	assert_non_null(e);
	detect_engine_get_info(e, &info);
	assert_true(info.device_has_mac);
	assert_memory_equal(info.device_mac, mac, 6);
	assert_int_equal(info.device_ip_count, 0);
	detect_engine_free(e);
}

static void test_check_shipped_files(void **state)
{
	struct pa_diag diag = { .out = stderr };
	assert_true(detect_check_file(PA_SOURCE_DIR "/signatures/identifiers.yaml", &diag));
	assert_true(detect_check_file(PA_SOURCE_DIR "/signatures/devices/lab-phone.yaml", &diag));
	assert_int_equal(diag.errors, 0);
}

static void test_load_reports_bad_files(void **state)
{
	char dir[] = "/tmp/test-detect-sigs-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/bad.yaml", dir);
	FILE *f = fopen(path, "w");
	fputs("signatures:\n  - type: x\n    pattern: 'a('\n", f);
	fclose(f);
	char out[2048];
	FILE *mem = fmemopen(out, sizeof out, "w");
	struct pa_diag diag = { .out = mem };
	assert_null(detect_engine_load(dir, NULL, &diag));
	fclose(mem);
	assert_non_null(strstr(out, "bad.yaml:2: pattern does not compile"));
	assert_int_equal(diag.errors, 1);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patterns_imei),
		cmocka_unit_test(test_patterns_ids),
		cmocka_unit_test(test_patterns_network),
		cmocka_unit_test(test_patterns_contact),
		cmocka_unit_test(test_patterns_location),
		cmocka_unit_test(test_device_every_encoding_in_field),
		cmocka_unit_test(test_device_every_encoding_split_stream),
		cmocka_unit_test(test_device_value_suppresses_pattern),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_stream_pattern_split),
		cmocka_unit_test(test_long_matches),
		cmocka_unit_test(test_location_datums_orders_precisions),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_check_signature_errors),
		cmocka_unit_test(test_check_device_errors),
		cmocka_unit_test(test_device_link_from_profile),
		cmocka_unit_test(test_check_shipped_files),
		cmocka_unit_test(test_load_reports_bad_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
