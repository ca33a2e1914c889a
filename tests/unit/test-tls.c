/* test-tls.c — TLS decryption end to end on loopback captures made by
 * tools/make-tls-fixtures (nginx + curl, openssl s_server/s_client): every
 * suite of TLS 1.2 and 1.3 over HTTP/1.1 and HTTP/2, resumption, KeyUpdate,
 * MAC-then-encrypt CBC, wrong and missing keys, secrets carried in a pcapng
 * Decryption Secrets Block, and sessions parking their keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-tls-driver.h"

#define IMEI "358240051111110"
#define DEVID "9774d56d682e549c"
#define TLS_DIR PA_TEST_DATA "/tls/"

static struct drv_run *run_fixture(const char *name, const char *keys, const char *ext)
{
	struct drv_run *r = calloc(1, sizeof(*r));
	r->kl = keylog_new();
	if (keys) {
		char path[512];
		struct pa_error err;
		snprintf(path, sizeof(path), TLS_DIR "%s.keys", keys);
		assert_true(keylog_load_file(r->kl, path, stderr, &err));
	}
	char pcap[512];
	snprintf(pcap, sizeof(pcap), TLS_DIR "%s.%s", name, ext ? ext : "pcap");
	assert_true(drv_run_file(r, pcap, 48443));
	return r;
}

static void run_free(struct drv_run *r)
{
	drv_free(r);
	keylog_free(r->kl);
	free(r);
}

static void assert_field(const struct drv_run *r, const char *name, const char *value)
{
	const struct drv_field *f = drv_find_field(r, name);
	if (!f)
		fail_msg("field %s not found (%zu fields)", name, r->nfields);
	assert_string_equal(f->value, value);
	assert_string_equal(f->protocol, "tls-decrypted");
	assert_true(f->packet > 0);
}

struct suite_case {
	const char *name;
	uint16_t version;
	uint16_t suite;
};

static const struct suite_case suite_cases[] = {
	{"tls13-aes128gcm", 0x0304, 0x1301},
	{"tls13-aes256gcm", 0x0304, 0x1302},
	{"tls13-chacha20", 0x0304, 0x1303},
	{"tls12-aes128gcm", 0x0303, 0xc02f},
	{"tls12-aes256gcm", 0x0303, 0xc030},
	{"tls12-chacha20", 0x0303, 0xcca8},
	{"tls12-aes128cbc-sha1", 0x0303, 0xc013},
	{"tls12-aes256cbc-sha1", 0x0303, 0xc014},
	{"tls12-aes128cbc-sha256", 0x0303, 0x003c},
	{"tls12-aes256cbc-sha256", 0x0303, 0x003d},
};

/* Every suite × HTTP/1.1 and HTTP/2: all planted values come out, with the
 * right field names, and no record fails. */
static void test_suites(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(suite_cases) / sizeof(suite_cases[0]); i++) {
		for (int http = 1; http <= 2; http++) {
			char name[128];
			snprintf(name, sizeof(name), "%s-h%d", suite_cases[i].name, http);
			struct drv_run *r = run_fixture(name, name, NULL);
			assert_int_equal(r->nconn, 1);
			struct tls_info info;
			tls_session_info(r->conn[0].tls, &info);
			if (!info.decrypted || info.records_failed)
				fail_msg("%s: decrypted %d failed %llu reason %s", name, info.decrypted,
					 (unsigned long long)info.records_failed,
					 info.reason ? info.reason : "-");
			assert_int_equal(info.version, suite_cases[i].version);
			assert_int_equal(info.cipher_suite, suite_cases[i].suite);
			assert_null(info.reason);
			assert_string_equal(info.alpn, http == 1 ? "http/1.1" : "h2");
			assert_true(info.records_decrypted >= 4);
			const char *p = http == 1 ? "http" : "http2";
			char f[64];
			snprintf(f, sizeof(f), "%s.query:imei", p);
			assert_field(r, f, IMEI);
			snprintf(f, sizeof(f), "%s.header:x-device-id", p);
			assert_field(r, f, DEVID);
			snprintf(f, sizeof(f), "%s.body.json:android_id", p);
			assert_field(r, f, DEVID);
			snprintf(f, sizeof(f), "%s.path", p);
			assert_field(r, f, "/collect");
			/* The server's answer decrypts too. */
			assert_non_null(memmem(r->conn[0].text[1], r->conn[0].text_len[1], "ok\n", 3));
			run_free(r);
		}
	}
}

static void test_mac_then_encrypt(void **state)
{
	(void)state;
	struct drv_run *r = run_fixture("tls12-mte-cbc", "tls12-mte-cbc", NULL);
	struct tls_info info;
	tls_session_info(r->conn[0].tls, &info);
	assert_true(info.decrypted);
	assert_int_equal(info.records_failed, 0);
	assert_int_equal(info.cipher_suite, 0x002f);
	assert_field(r, "http.query:imei", IMEI);
	assert_field(r, "http.header:x-device-id", DEVID);
	run_free(r);
}

static void check_resumed(const char *name, const char *keys_text)
{
	struct drv_run *r = calloc(1, sizeof(*r));
	r->kl = keylog_new();
	if (keys_text) {
		keylog_add_text(r->kl, "test", keys_text, strlen(keys_text), stderr);
	} else {
		char path[256];
		struct pa_error err;
		snprintf(path, sizeof(path), TLS_DIR "%s.keys", name);
		assert_true(keylog_load_file(r->kl, path, stderr, &err));
	}
	char pcap[256];
	snprintf(pcap, sizeof(pcap), TLS_DIR "%s.pcap", name);
	assert_true(drv_run_file(r, pcap, 48443));
	assert_int_equal(r->nconn, 2);
	struct tls_info first, second;
	tls_session_info(r->conn[0].tls, &first);
	tls_session_info(r->conn[1].tls, &second);
	assert_true(first.decrypted);
	assert_false(first.resumed);
	assert_true(second.decrypted);
	assert_true(second.resumed);
	assert_int_equal(second.records_failed, 0);
	assert_non_null(memmem(r->conn[1].text[0], r->conn[1].text_len[0], "GET /resumed?imei=" IMEI,
			       strlen("GET /resumed?imei=" IMEI)));
	run_free(r);
}

/* The first line of a key log file (after the comment OpenSSL writes). */
static char *first_key_line(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), TLS_DIR "%s.keys", name);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char line[512];
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "CLIENT_RANDOM ", 14) == 0)
			break;
	fclose(f);
	return line;
}

static void test_resumption(void **state)
{
	(void)state;
	check_resumed("tls12-resume-id", NULL);
	check_resumed("tls12-resume-ticket", NULL);
	/* Without the resumed connection's own line: the master secret of the
	 * full handshake is found again by session id / ticket. */
	check_resumed("tls12-resume-id", first_key_line("tls12-resume-id"));
	check_resumed("tls12-resume-ticket", first_key_line("tls12-resume-ticket"));
}

static void test_key_update(void **state)
{
	(void)state;
	struct drv_run *r = run_fixture("tls13-keyupdate", "tls13-keyupdate", NULL);
	struct tls_info info;
	tls_session_info(r->conn[0].tls, &info);
	assert_true(info.decrypted);
	assert_int_equal(info.records_failed, 0);
	assert_true(info.key_updates >= 1);
	const char *after = "after x-device-id=" DEVID;
	assert_non_null(memmem(r->conn[0].text[0], r->conn[0].text_len[0], after, strlen(after)));
	run_free(r);
}

/* A garbage master secret: every protected record fails, is counted, and no
 * byte reaches the decoders. */
static void test_wrong_key(void **state)
{
	(void)state;
	char *line = first_key_line("tls12-aes128gcm-h1");
	char bad[512];
	snprintf(bad, sizeof(bad), "%s", line);
	char *secret = strrchr(bad, ' ') + 1;
	for (int i = 0; i < 96; i++)
		secret[i] = secret[i] == '0' ? '1' : '0';
	struct drv_run *r = calloc(1, sizeof(*r));
	r->kl = keylog_new();
	assert_int_equal(keylog_add_text(r->kl, "bad", bad, strlen(bad), stderr), 1);
	assert_true(drv_run_file(r, TLS_DIR "tls12-aes128gcm-h1.pcap", 48443));
	struct tls_info info;
	tls_session_info(r->conn[0].tls, &info);
	assert_false(info.decrypted);
	assert_true(info.records_failed >= 4);
	assert_int_equal(info.records_decrypted, 0);
	assert_string_equal(info.reason, "bad-key");
	assert_int_equal(r->conn[0].text_len[0] + r->conn[0].text_len[1], 0);
	assert_int_equal(r->nfields, 0);
	run_free(r);

	/* TLS 1.3 with the wrong secrets of another connection. */
	r = calloc(1, sizeof(*r));
	r->kl = keylog_new();
	struct pa_error err;
	assert_true(keylog_load_file(r->kl, TLS_DIR "tls13-aes128gcm-h1.keys", stderr, &err));
	assert_true(drv_run_file(r, TLS_DIR "tls13-chacha20-h1.pcap", 48443));
	tls_session_info(r->conn[0].tls, &info);
	assert_false(info.decrypted);
	assert_string_equal(info.reason, "no-key");
	assert_true(info.records_undecrypted > 0);
	assert_int_equal(r->nfields, 0);
	run_free(r);
}

static void test_no_key(void **state)
{
	(void)state;
	struct drv_run *r = run_fixture("tls13-aes256gcm-h2", NULL, NULL);
	struct tls_info info;
	tls_session_info(r->conn[0].tls, &info);
	assert_false(info.decrypted);
	assert_string_equal(info.reason, "no-key");
	assert_int_equal(info.version, 0x0304);
	assert_string_equal(info.cipher_name, "TLS_AES_256_GCM_SHA384");
	assert_true(info.records_undecrypted > 0);
	assert_int_equal(r->nfields, 0);
	run_free(r);
}

/* editcap --inject-secrets: the capture carries its own key log. */
static void test_decryption_secrets_block(void **state)
{
	(void)state;
	struct drv_run *r = run_fixture("tls13-aes128gcm-h2-dsb", NULL, "pcapng");
	assert_int_equal(r->dsb_blocks, 1);
	struct tls_info info;
	tls_session_info(r->conn[0].tls, &info);
	assert_true(info.decrypted);
	assert_int_equal(info.records_failed, 0);
	assert_field(r, "http2.query:imei", IMEI);
	run_free(r);
}

/* Keys that arrive after the connection started (a live key log still being
 * written): records wait in the session and decrypt once the key is there. */
static void test_late_key(void **state)
{
	(void)state;
	struct drv_run *r = calloc(1, sizeof(*r));
	r->kl = keylog_new();
	keylog_set_growing(r->kl, true);
	assert_true(drv_run_file(r, TLS_DIR "tls12-chacha20-h1.pcap", 48443));
	struct tls_info info;
	tls_session_info(r->conn[0].tls, &info);
	assert_false(info.decrypted);
	assert_string_equal(info.reason, "no-key");
	assert_true(info.records_undecrypted >= 4);
	assert_int_equal(r->nfields, 0);
	/* Nothing new in the key log: a retry changes nothing. */
	tls_session_retry(r->conn[0].tls, drv_plaintext, &r->conn[0]);
	tls_session_info(r->conn[0].tls, &info);
	assert_false(info.decrypted);

	struct pa_error err;
	assert_true(keylog_load_file(r->kl, TLS_DIR "tls12-chacha20-h1.keys", stderr, &err));
	tls_session_retry(r->conn[0].tls, drv_plaintext, &r->conn[0]);
	tls_session_info(r->conn[0].tls, &info);
	assert_true(info.decrypted);
	assert_null(info.reason);
	assert_int_equal(info.records_failed, 0);
	assert_int_equal(info.records_undecrypted, 0);
	assert_field(r, "http.query:imei", IMEI);
	assert_field(r, "http.body.json:android_id", DEVID);
	run_free(r);

	/* A complete key log (offline audit): nothing is held back. */
	r = calloc(1, sizeof(*r));
	r->kl = keylog_new();
	assert_true(drv_run_file(r, TLS_DIR "tls12-chacha20-h1.pcap", 48443));
	assert_true(keylog_load_file(r->kl, TLS_DIR "tls12-chacha20-h1.keys", stderr, &err));
	tls_session_retry(r->conn[0].tls, drv_plaintext, &r->conn[0]);
	tls_session_info(r->conn[0].tls, &info);
	assert_false(info.decrypted);
	assert_string_equal(info.reason, "no-key");
	assert_true(info.records_undecrypted >= 4);
	run_free(r);
}

/* Live: a key log the app has not created yet is read once it appears;
 * offline, a missing key log is an error. */
static void test_keylog_appears_later(void **state)
{
	(void)state;
	char dir[] = "/tmp/pa-keylog-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/app.keylog", dir);
	struct pa_error err;

	struct keylog *offline = keylog_new();
	assert_false(keylog_load_file(offline, path, NULL, &err));
	assert_non_null(strstr(err.msg, "No such file"));
	keylog_free(offline);

	struct keylog *kl = keylog_new();
	keylog_set_growing(kl, true);
	assert_true(keylog_load_file(kl, path, NULL, &err));
	assert_int_equal(keylog_reload(kl, NULL), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "CLIENT_RANDOM %064d %096d\n", 1, 2);
	fclose(f);
	assert_int_equal(keylog_reload(kl, NULL), 1);
	assert_int_equal(keylog_stats(kl)->lines_good, 1);
	keylog_free(kl);
	unlink(path);
	rmdir(dir);
}

/* Sessions that park their keys (tls_session_set_hot_limit): with only one
 * keeping them, fixtures read a packet at a time in turn make each session
 * park and wake again at almost every record; every session decrypts what
 * it decrypts alone, field for field and byte for byte. */
static void test_parked_sessions(void **state)
{
	(void)state;
	static const char *const names[] = {
		"tls13-aes128gcm-h1", "tls13-aes256gcm-h2", "tls13-chacha20-h1",
		"tls12-aes128gcm-h2", "tls12-chacha20-h1", "tls12-aes128cbc-sha1-h1",
		"tls12-aes256cbc-sha256-h2", "tls12-mte-cbc", "tls12-resume-id",
		"tls12-resume-ticket", "tls13-keyupdate",
	};
	enum { N = sizeof(names) / sizeof(names[0]) };
	struct drv_run *alone[N], *mixed[N];
	struct drv_reader rd[N];
	bool open[N];
	for (size_t i = 0; i < N; i++)
		alone[i] = run_fixture(names[i], names[i], NULL);
	tls_session_set_hot_limit(1);
	for (size_t i = 0; i < N; i++) {
		char path[512];
		struct pa_error err;
		mixed[i] = calloc(1, sizeof(*mixed[i]));
		mixed[i]->kl = keylog_new();
		snprintf(path, sizeof(path), TLS_DIR "%s.keys", names[i]);
		assert_true(keylog_load_file(mixed[i]->kl, path, stderr, &err));
		snprintf(path, sizeof(path), TLS_DIR "%s.pcap", names[i]);
		assert_true(drv_open(&rd[i], mixed[i], path, 48443));
		open[i] = true;
	}
	for (bool any = true; any;) {
		any = false;
		for (size_t i = 0; i < N; i++)
			if (open[i] && (open[i] = drv_next(&rd[i], mixed[i])))
				any = true;
	}
	tls_session_set_hot_limit(64);
	for (size_t i = 0; i < N; i++) {
		const struct drv_run *a = alone[i], *m = mixed[i];
		assert_true(a->nfields > 0 || a->conn[0].text_len[0] > 0); /* something decrypted */
		assert_int_equal(m->nfields, a->nfields);
		for (size_t k = 0; k < a->nfields; k++) {
			assert_string_equal(m->fields[k].name, a->fields[k].name);
			assert_string_equal(m->fields[k].value, a->fields[k].value);
			assert_int_equal(m->fields[k].packet, a->fields[k].packet);
		}
		assert_int_equal(m->nconn, a->nconn);
		for (size_t c = 0; c < a->nconn; c++) {
			struct tls_info ia, im;
			tls_session_info(a->conn[c].tls, &ia);
			tls_session_info(m->conn[c].tls, &im);
			assert_int_equal(im.records_decrypted, ia.records_decrypted);
			assert_int_equal(im.records_failed, 0);
			assert_int_equal(im.key_updates, ia.key_updates);
			for (int d = 0; d < 2; d++) {
				assert_int_equal(m->conn[c].text_len[d], a->conn[c].text_len[d]);
				assert_memory_equal(m->conn[c].text[d], a->conn[c].text[d],
						    a->conn[c].text_len[d]);
			}
		}
		run_free(alone[i]);
		run_free(mixed[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suites),
		cmocka_unit_test(test_mac_then_encrypt),
		cmocka_unit_test(test_resumption),
		cmocka_unit_test(test_key_update),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_no_key),
		cmocka_unit_test(test_decryption_secrets_block),
		cmocka_unit_test(test_late_key),
		cmocka_unit_test(test_keylog_appears_later),
		cmocka_unit_test(test_parked_sessions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
