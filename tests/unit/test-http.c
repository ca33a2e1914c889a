/* test-http.c — HTTP/1 requests and responses to fields; body decoding;
 * query/form/cookie/JSON/base64 walkers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <brotli/encode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "app/body.h"
#include "app/fields.h"
#include "app/http1.h"

#define MAX_SEEN 256

struct seen {
	char field[MAX_SEEN][FIELD_NAME_MAX];
	char value[MAX_SEEN][512];
	uint64_t packet[MAX_SEEN];
	size_t n;
};

static void sink(void *ctx, const struct pa_field_ref *ref, const uint8_t *v, size_t len)
{
	struct seen *s = ctx;
	if (s->n == MAX_SEEN)
		return;
	snprintf(s->field[s->n], FIELD_NAME_MAX, "%s", ref->field);
	size_t n = len < 511 ? len : 511;
	memcpy(s->value[s->n], v, n);
	s->value[s->n][n] = '\0';
	s->packet[s->n] = ref->packet;
	s->n++;
}

static const char *value_of(const struct seen *s, const char *field)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->field[i], field))
			return s->value[i];
	return NULL;
}

static uint64_t packet_of(const struct seen *s, const char *field)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->field[i], field))
			return s->packet[i];
	return 0;
}

static size_t gzip_bytes(const char *in, uint8_t *out, size_t cap)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)strlen(in);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t n = cap - z.avail_out;
	deflateEnd(&z);
	return n;
}

static struct field_emitter emitter(struct seen *s)
{
	struct field_emitter e = {.sink = sink, .ctx = s};
	e.ref.protocol = "http";
	return e;
}

static void test_request_fields(void **state)
{
	struct seen s = {0};
	struct field_emitter e = emitter(&s);
	struct http1 *h = http1_new(0);
	const char *req =
		"GET /pass/v2/register?imei_md5=abc%2Fdef&android_id=5c3e1f9a7b2d4e60&x=a+b HTTP/1.1\r\n"
		"Host: cn.register.xmpush.xiaomi.com\r\n"
		"Cookie: uid=42; did=\"ZGV2aWNl\"; t=a%3Db\r\n"
		"X-Device-Id: 868034031518269\r\n"
		"\r\n";
	http1_feed(h, true, (const uint8_t *)req, strlen(req), 7, 1000, &e);
	assert_string_equal(value_of(&s, "http.method"), "GET");
	assert_string_equal(value_of(&s, "http.path"), "/pass/v2/register");
	assert_string_equal(value_of(&s, "http.query:imei_md5"), "abc/def");
	assert_string_equal(value_of(&s, "http.query:android_id"), "5c3e1f9a7b2d4e60");
	assert_string_equal(value_of(&s, "http.query:x"), "a b");
	assert_string_equal(value_of(&s, "http.header:X-Device-Id"), "868034031518269");
	assert_string_equal(value_of(&s, "http.cookie:uid"), "42");
	assert_string_equal(value_of(&s, "http.cookie:did"), "ZGV2aWNl");
	assert_string_equal(value_of(&s, "http.cookie:t"), "a=b");
	assert_string_equal(http1_host(h), "cn.register.xmpush.xiaomi.com");
	assert_int_equal(packet_of(&s, "http.query:imei_md5"), 7);
	assert_int_equal(http1_stats(h)->requests, 1);
	http1_free(h);
}

/* A body that spans packets: each field is attributed to the packet that
 * carried its last byte (the evidence that shows it), whole-body fields to
 * the packet completing the body; a compressed body only exists whole. */
static void test_body_fields_keep_their_packets(void **state)
{
	struct seen s = {0};
	struct field_emitter e = emitter(&s);
	struct http1 *h = http1_new(0);
	const char *head = "POST /v1/report HTTP/1.1\r\nHost: a.example\r\n"
			   "Content-Type: application/json\r\nContent-Length: 89\r\n\r\n";
	const char *p1 = "{\"imei\":\"868034031518269\",\"note\":\"x\",";
	const char *p2 = "\"oaid\":\"f3b7c2a1-9d4e\",\"inner\":\"{\\\"mac\\\":\\\"02aa\\\"}\"}";
	char form[] = "POST /f HTTP/1.1\r\nHost: a.example\r\nContent-Length: 24\r\n\r\n";
	assert_int_equal(strlen(p1) + strlen(p2), 89);
	http1_feed(h, true, (const uint8_t *)head, strlen(head), 10, 1000, &e);
	http1_feed(h, true, (const uint8_t *)p1, strlen(p1), 11, 2000, &e);
	http1_feed(h, true, (const uint8_t *)p2, strlen(p2), 12, 3000, &e);
	assert_string_equal(value_of(&s, "http.body.json:imei"), "868034031518269");
	assert_int_equal(packet_of(&s, "http.body.json:imei"), 11);
	assert_int_equal(packet_of(&s, "http.body.json:note"), 11);
	assert_int_equal(packet_of(&s, "http.body.json:oaid"), 12);
	assert_int_equal(packet_of(&s, "http.body.json:inner:mac"), 12);
	assert_int_equal(packet_of(&s, "http.body"), 12);

	/* A form value, URL-encoded, split from its key by a packet boundary. */
	s.n = 0;
	http1_feed(h, true, (const uint8_t *)form, strlen(form), 20, 4000, &e);
	http1_feed(h, true, (const uint8_t *)"a=1&mac=02%3A", 13, 21, 5000, &e);
	http1_feed(h, true, (const uint8_t *)"aa%3Abb&z=9", 11, 22, 6000, &e);
	assert_string_equal(value_of(&s, "http.body.form:mac"), "02:aa:bb");
	assert_int_equal(packet_of(&s, "http.body.form:a"), 21);
	assert_int_equal(packet_of(&s, "http.body.form:mac"), 22);
	http1_free(h);
}

static void test_gzip_json_body_split_everywhere(void **state)
{
	uint8_t gz[512];
	const char *json = "{\"device\":{\"oaid\":\"f3b7c2a1-9d4e-4f6a-8b1c-2e5d7a9c0b13\",\"ids\":[1,\"x\"]},\"lat\":39.9087}";
	size_t gzlen = gzip_bytes(json, gz, sizeof gz);
	char head[256];
	int hl = snprintf(head, sizeof head,
			  "POST /up HTTP/1.1\r\nHost: a.example\r\nContent-Type: application/json\r\n"
			  "Content-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", gzlen);
	uint8_t msg[1024];
	memcpy(msg, head, (size_t)hl);
	memcpy(msg + hl, gz, gzlen);
	size_t total = (size_t)hl + gzlen;

	for (size_t cut = 1; cut < total; cut++) {
		struct seen s = {0};
		struct field_emitter e = emitter(&s);
		struct http1 *h = http1_new(0);
		http1_feed(h, true, msg, cut, 1, 0, &e);
		http1_feed(h, true, msg + cut, total - cut, 2, 0, &e);
		assert_string_equal(value_of(&s, "http.body.json:device.oaid"),
				    "f3b7c2a1-9d4e-4f6a-8b1c-2e5d7a9c0b13");
		assert_string_equal(value_of(&s, "http.body.json:device.ids[0]"), "1");
		assert_string_equal(value_of(&s, "http.body.json:device.ids[1]"), "x");
		assert_string_equal(value_of(&s, "http.body.json:lat"), "39.9087");
		assert_int_equal(packet_of(&s, "http.body.json:device.oaid"), 2);
		http1_free(h);
	}
}

static void test_chunked_form_and_pipelining(void **state)
{
	struct seen s = {0};
	struct field_emitter e = emitter(&s);
	struct http1 *h = http1_new(0);
	const char *req =
		"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
		"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
		"7;ext=1\r\nmac=8c%\r\n"
		"D\r\n3Abe&imsi=460\r\n0\r\n\r\n"
		"GET /b?q=1 HTTP/1.1\r\nHost: second.example\r\n\r\n";
	http1_feed(h, true, (const uint8_t *)req, strlen(req), 3, 0, &e);
	assert_string_equal(value_of(&s, "http.body.form:mac"), "8c:be");
	assert_string_equal(value_of(&s, "http.body.form:imsi"), "460");
	assert_string_equal(value_of(&s, "http.query:q"), "1");
	assert_string_equal(http1_host(h), "second.example");
	assert_int_equal(http1_stats(h)->requests, 2);
	http1_free(h);
}

static void test_base64_value_holding_json(void **state)
{
	struct seen s = {0};
	struct field_emitter e = emitter(&s);
	/* {"imei":"868034031518269"} in URL-safe base64 without padding */
	const char *req = "GET /x?d=eyJpbWVpIjoiODY4MDM0MDMxNTE4MjY5In0 HTTP/1.1\r\nHost: h\r\n\r\n";
	struct http1 *h = http1_new(0);
	http1_feed(h, true, (const uint8_t *)req, strlen(req), 1, 0, &e);
	assert_string_equal(value_of(&s, "http.query:d+base64"), "{\"imei\":\"868034031518269\"}");
	assert_string_equal(value_of(&s, "http.query:d+base64.json:imei"), "868034031518269");
	http1_free(h);
}

static void test_head_response_has_no_body_and_resync(void **state)
{
	struct seen s = {0};
	struct field_emitter e = emitter(&s);
	struct http1 *h = http1_new(0);
	const char *req = "HEAD / HTTP/1.1\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n";
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n"
			   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Echo: 13912345678\r\n\r\nhello";
	http1_feed(h, true, (const uint8_t *)req, strlen(req), 1, 0, &e);
	http1_feed(h, false, (const uint8_t *)resp, strlen(resp), 2, 0, &e);
	assert_int_equal(http1_stats(h)->responses, 2);
	assert_string_equal(value_of(&s, "http.response.header:X-Echo"), "13912345678");
	assert_string_equal(value_of(&s, "http.response.body"), "hello");

	/* garbage, then a new request at a segment start */
	http1_gap(h, true, 100, NULL);
	const char *junk = "\x01\x02garbage";
	http1_feed(h, true, (const uint8_t *)junk, strlen(junk), 3, 0, &e);
	const char *again = "GET /after?k=v HTTP/1.1\r\nHost: h\r\n\r\n";
	http1_feed(h, true, (const uint8_t *)again, strlen(again), 4, 0, &e);
	assert_string_equal(value_of(&s, "http.query:k"), "v");
	http1_free(h);
}

static void test_body_encodings(void **state)
{
	const char *text = "{\"a\":\"hello hello hello hello\"}";
	uint8_t gz[256], br[256];
	size_t gzlen = gzip_bytes(text, gz, sizeof gz);
	size_t brlen = sizeof br;
	assert_true(BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, strlen(text), (const uint8_t *)text,
					  &brlen, br));
	uint8_t *out;
	size_t out_len;
	assert_int_equal(body_decode("gzip", gz, gzlen, 1 << 20, &out, &out_len), BODY_OK);
	assert_memory_equal(out, text, strlen(text));
	free(out);
	assert_int_equal(body_decode("br", br, brlen, 1 << 20, &out, &out_len), BODY_OK);
	assert_int_equal(out_len, strlen(text));
	free(out);
	/* bounded output */
	assert_int_equal(body_decode("gzip", gz, gzlen, 10, &out, &out_len), BODY_TRUNCATED);
	assert_int_equal(out_len, 10);
	free(out);
	/* damaged */
	gz[12] ^= 0xff;
	gz[13] ^= 0xff;
	enum body_status st = body_decode("gzip", gz, gzlen, 1 << 20, &out, &out_len);
	assert_true(st == BODY_CORRUPT || st == BODY_TRUNCATED);
	free(out);
	assert_int_equal(body_decode("zstd", br, brlen, 1 << 20, &out, &out_len), BODY_UNSUPPORTED);
	free(out);
}

static void test_base64_decoder(void **state)
{
	uint8_t out[64];
	size_t n;
	assert_true(fields_base64_decode((const uint8_t *)"aGVsbG8=", 8, out, &n));
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	assert_true(fields_base64_decode((const uint8_t *)"aGVsbG8", 7, out, &n));
	assert_int_equal(n, 5);
	assert_true(fields_base64_decode((const uint8_t *)"-_-_", 4, out, &n));
	assert_int_equal(n, 3);
	assert_false(fields_base64_decode((const uint8_t *)"a+b_", 4, out, &n));
	assert_false(fields_base64_decode((const uint8_t *)"abcde", 5, out, &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_fields),
		cmocka_unit_test(test_body_fields_keep_their_packets),
		cmocka_unit_test(test_gzip_json_body_split_everywhere),
		cmocka_unit_test(test_chunked_form_and_pipelining),
		cmocka_unit_test(test_base64_value_holding_json),
		cmocka_unit_test(test_head_response_has_no_body_and_resync),
		cmocka_unit_test(test_body_encodings),
		cmocka_unit_test(test_base64_decoder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
