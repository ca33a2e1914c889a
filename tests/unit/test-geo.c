/*
 * test-geo.c — GeoIP lookups on the fixtures of tools/make-geoip-fixtures
 * (tests/data/geoip/). The real default database is test-geo-real-db.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geo/geo.h"

#define FIXTURE(name) PA_TEST_DATA "/geoip/" name
#define LAB_COUNTRY FIXTURE("lab-country.mmdb")
#define LAB_COUNTRY_CODE FIXTURE("lab-country-code.mmdb")
#define LAB_COUNTRY_CODE_V4 FIXTURE("lab-country-code-v4.mmdb")
#define LAB_ASN FIXTURE("lab-asn.mmdb")

/* tools/make-geoip-fixtures: 2025-01-01T00:00:00Z */
#define FIXTURE_EPOCH 1735689600ULL

static struct geo *open_list(const char *const *paths, size_t n)
{
	struct pa_error err = {{0}};
	struct geo *g = geo_open(paths, n, &err);
	if (!g)
		fail_msg("geo_open: %s", err.msg);
	return g;
}

static struct geo *open_one(const char *path)
{
	return open_list(&path, 1);
}

static const struct geo_result *look(struct geo *g, const char *text)
{
	struct pa_addr a;
	if (!pa_addr_parse(text, &a))
		fail_msg("bad address in test: %s", text);
	return geo_lookup(g, &a);
}

static void expect(struct geo *g, const char *addr, const char *country, const char *jurisdiction)
{
	const struct geo_result *r = look(g, addr);
	assert_non_null(r);
	if (strcmp(r->country, country) != 0 || strcmp(r->jurisdiction, jurisdiction) != 0)
		fail_msg("%s: got country '%s' jurisdiction '%s', want '%s' '%s'", addr,
			 r->country, r->jurisdiction, country, jurisdiction);
}

/* Writes bytes to a fresh temporary file; its path in buf. */
static const char *temp_file(char *buf, size_t len, const void *data, size_t n)
{
	snprintf(buf, len, "/tmp/test-geo-XXXXXX");
	int fd = mkstemp(buf);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
	return buf;
}

static void *read_whole(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	void *buf = malloc((size_t)size);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*n = (size_t)size;
	return buf;
}

static void test_jurisdiction_words(void **state)
{
	char j[16];
	geo_jurisdiction("CN", j, sizeof j);
	assert_string_equal(j, "CN");
	geo_jurisdiction("HK", j, sizeof j);
	assert_string_equal(j, "HK");
	geo_jurisdiction("MO", j, sizeof j);
	assert_string_equal(j, "MO");
	geo_jurisdiction("TW", j, sizeof j);
	assert_string_equal(j, "TW");
	geo_jurisdiction("US", j, sizeof j);
	assert_string_equal(j, "foreign:US");
	geo_jurisdiction("DE", j, sizeof j);
	assert_string_equal(j, "foreign:DE");
	geo_jurisdiction("", j, sizeof j);
	assert_string_equal(j, "unknown");
	geo_jurisdiction(NULL, j, sizeof j);
	assert_string_equal(j, "unknown");
	assert_string_equal(geo_schema_name(GEO_SCHEMA_COUNTRY), "country");
	assert_string_equal(geo_schema_name(GEO_SCHEMA_COUNTRY_CODE), "country_code");
	assert_string_equal(geo_schema_name(GEO_SCHEMA_ASN), "asn");
}

static void test_country_schema(void **state)
{
	struct geo *g = open_one(LAB_COUNTRY);
	assert_int_equal(geo_db_count(g), 1);
	const struct geo_db_info *info = geo_db(g, 0);
	assert_string_equal(info->database_type, "GeoLite2-Country");
	assert_int_equal(info->schema, GEO_SCHEMA_COUNTRY);
	assert_int_equal(info->ip_version, 6);
	assert_int_equal(info->build_epoch, FIXTURE_EPOCH);
	assert_true(info->node_count > 0);
	assert_string_equal(info->path, LAB_COUNTRY);
	assert_null(geo_db(g, 1));

	expect(g, "39.156.69.79", "CN", "CN");
	expect(g, "47.92.1.2", "CN", "CN");
	expect(g, "47.95.255.254", "CN", "CN");  /* last /14 block */
	expect(g, "47.75.10.10", "HK", "HK");
	expect(g, "60.246.1.1", "MO", "MO");
	expect(g, "1.175.255.1", "TW", "TW");
	expect(g, "52.1.2.3", "US", "foreign:US");
	expect(g, "85.215.0.1", "DE", "foreign:DE");
	expect(g, "133.242.5.5", "JP", "foreign:JP");
	expect(g, "47.74.0.1", "SG", "foreign:SG");
	expect(g, "223.5.5.5", "CN", "CN");
	expect(g, "193.0.6.139", "NL", "foreign:NL");
	/* IPv6 */
	expect(g, "240e:3b7::1", "CN", "CN");
	expect(g, "2600:1f18::5", "US", "foreign:US");
	expect(g, "2001:4860:4860::8888", "US", "foreign:US");
	/* registered_country only (anycast range): the fallback answers */
	expect(g, "1.1.1.1", "AU", "foreign:AU");
	/* no record */
	expect(g, "5.5.5.5", "", "unknown");
	expect(g, "2a00:1450::1", "", "unknown");
	/* neighbours of a range are outside it */
	expect(g, "47.91.255.255", "", "unknown");
	expect(g, "47.96.0.0", "", "unknown");

	const struct geo_result *r = look(g, "39.156.0.1");
	assert_int_equal(r->answer_count, 1);
	assert_string_equal(r->answers[0], "CN");
	assert_false(r->conflict);
	assert_int_equal(r->asn, 0); /* a country database knows no AS */
	assert_string_equal(r->as_org, "");
	geo_close(g);
}

static void test_country_code_schema(void **state)
{
	struct geo *g = open_one(LAB_COUNTRY_CODE);
	const struct geo_db_info *info = geo_db(g, 0);
	assert_string_equal(info->database_type, "country ipvAll");
	assert_int_equal(info->schema, GEO_SCHEMA_COUNTRY_CODE);
	assert_int_equal(info->ip_version, 6);
	assert_int_equal(info->build_epoch, FIXTURE_EPOCH);

	expect(g, "39.156.1.1", "CN", "CN");
	expect(g, "47.75.1.1", "HK", "HK");
	expect(g, "60.246.200.1", "MO", "MO");
	expect(g, "1.160.0.1", "TW", "TW");
	expect(g, "114.114.114.114", "CN", "CN");
	expect(g, "8.8.8.8", "US", "foreign:US");
	expect(g, "240e::1", "CN", "CN");
	expect(g, "2400:3200::1", "CN", "CN");
	expect(g, "2001:67c:2e8:22::c100:68b", "NL", "foreign:NL");
	expect(g, "9.9.9.9", "", "unknown");
	/* This database does not alias ::ffff:0:0/96 (nor does the real one):
	 * IPv4-mapped and NAT64 addresses are asked as IPv4. */
	expect(g, "::ffff:8.8.8.8", "US", "foreign:US");
	expect(g, "64:ff9b::7272:7272", "CN", "CN"); /* 114.114.114.114 */
	geo_close(g);
}

static void test_ipv4_only_database(void **state)
{
	struct geo *g = open_one(LAB_COUNTRY_CODE_V4);
	const struct geo_db_info *info = geo_db(g, 0);
	assert_int_equal(info->ip_version, 4);
	assert_int_equal(info->schema, GEO_SCHEMA_COUNTRY_CODE);
	expect(g, "60.246.3.3", "MO", "MO");
	expect(g, "::ffff:60.246.3.3", "MO", "MO");
	/* IPv6 in an IPv4 tree: not covered, not an error */
	expect(g, "240e::1", "", "unknown");
	assert_int_equal(geo_db(g, 0)->lookup_errors, 0);
	geo_close(g);
}

static void test_asn_schema(void **state)
{
	struct geo *g = open_one(LAB_ASN);
	const struct geo_db_info *info = geo_db(g, 0);
	assert_string_equal(info->database_type, "GeoLite2-ASN");
	assert_int_equal(info->schema, GEO_SCHEMA_ASN);
	assert_int_equal(info->build_epoch, FIXTURE_EPOCH);

	const struct geo_result *r = look(g, "39.156.69.79");
	assert_int_equal(r->asn, 9808);
	assert_string_equal(r->as_org, "China Mobile Communications Group Co., Ltd.");
	/* an ASN database alone says nothing about the country */
	assert_string_equal(r->country, "");
	assert_string_equal(r->jurisdiction, "unknown");
	assert_int_equal(r->answer_count, 0);

	assert_int_equal(look(g, "240e:1::1")->asn, 9808);
	assert_int_equal(look(g, "47.93.0.1")->asn, 37963);
	assert_int_equal(look(g, "47.75.0.1")->asn, 45102);
	assert_int_equal(look(g, "60.246.0.1")->asn, 4609);
	assert_int_equal(look(g, "1.161.0.1")->asn, 3462);
	assert_int_equal(look(g, "2600:1f00::1")->asn, 16509);
	assert_int_equal(look(g, "85.214.1.1")->asn, 6724);
	assert_int_equal(look(g, "133.242.1.1")->asn, 7684);
	r = look(g, "8.8.4.4");
	assert_int_equal(r->asn, 0); /* 8.8.4.0/24 is not in the fixture */
	r = look(g, "8.8.8.8");
	assert_int_equal(r->asn, 15169);
	assert_string_equal(r->as_org, "GOOGLE");
	assert_int_equal(look(g, "114.114.114.114")->asn, 0);
	geo_close(g);
}

static void test_combined_and_conflict(void **state)
{
	const char *paths[] = {LAB_COUNTRY, LAB_ASN, LAB_COUNTRY_CODE};
	struct geo *g = open_list(paths, 3);
	assert_int_equal(geo_db_count(g), 3);
	assert_int_equal(geo_db(g, 1)->schema, GEO_SCHEMA_ASN);

	/* Both country databases agree. */
	const struct geo_result *r = look(g, "47.75.1.1");
	assert_string_equal(r->country, "HK");
	assert_string_equal(r->jurisdiction, "HK");
	assert_int_equal(r->asn, 45102);
	assert_string_equal(r->as_org, "Alibaba US Technology Co., Ltd.");
	assert_false(r->conflict);
	assert_int_equal(r->answer_count, 2);
	assert_string_equal(r->answers[0], "HK");
	assert_string_equal(r->answers[1], "HK");

	/* 47.242.0.0/16: location (HK) against registration (US). */
	r = look(g, "47.242.3.4");
	assert_true(r->conflict);
	assert_string_equal(r->country, "HK"); /* first database wins */
	assert_string_equal(r->jurisdiction, "HK");
	assert_int_equal(r->answer_count, 2);
	assert_string_equal(r->answers[0], "HK");
	assert_string_equal(r->answers[1], "US");
	assert_int_equal(r->asn, 45102);
	geo_close(g);

	/* The other order: the other answer wins, still a conflict. */
	const char *reversed[] = {LAB_COUNTRY_CODE, LAB_COUNTRY};
	g = open_list(reversed, 2);
	r = look(g, "47.242.3.4");
	assert_true(r->conflict);
	assert_string_equal(r->country, "US");
	assert_string_equal(r->jurisdiction, "foreign:US");
	assert_string_equal(r->answers[0], "US");
	assert_string_equal(r->answers[1], "HK");

	/* One database answers, the other has no record: no conflict. The
	 * IPv4-only database cannot answer IPv6. */
	geo_close(g);
	const char *partial[] = {LAB_COUNTRY_CODE_V4, LAB_COUNTRY};
	g = open_list(partial, 2);
	r = look(g, "240e::9");
	assert_false(r->conflict);
	assert_string_equal(r->country, "CN");
	assert_string_equal(r->answers[0], "");
	assert_string_equal(r->answers[1], "CN");
	r = look(g, "5.5.5.5");
	assert_string_equal(r->jurisdiction, "unknown");
	assert_int_equal(r->answer_count, 2);
	geo_close(g);
}

static void test_private_and_reserved(void **state)
{
	const char *paths[] = {LAB_COUNTRY, LAB_ASN};
	struct geo *g = open_list(paths, 2);
	static const char *const private_addrs[] = {
		"10.1.2.3", "172.16.0.1", "172.31.255.254", "192.168.1.1", /* RFC 1918 */
		"100.64.0.1", "100.127.255.254",                          /* CGNAT */
		"127.0.0.1", "::1", "::",                                  /* loopback, unspecified */
		"169.254.1.1", "fe80::1",                                  /* link-local */
		"fc00::1", "fd12:3456::1",                                 /* ULA */
		"224.0.0.251", "239.255.255.250", "ff02::fb",              /* multicast */
		"192.0.2.1", "198.51.100.7", "203.0.113.9", "2001:db8::1", /* TEST-NETs */
		"255.255.255.255", "0.0.0.0", "198.18.0.1",
		"::ffff:192.168.1.1", "::ffff:10.0.0.1",
	};
	struct geo_stats before, after;
	geo_get_stats(g, &before);
	for (size_t i = 0; i < sizeof private_addrs / sizeof private_addrs[0]; i++) {
		const struct geo_result *r = look(g, private_addrs[i]);
		if (strcmp(r->jurisdiction, "private") != 0)
			fail_msg("%s: jurisdiction '%s', want private", private_addrs[i],
				 r->jurisdiction);
		assert_string_equal(r->country, "");
		assert_int_equal(r->asn, 0);
		assert_int_equal(r->answer_count, 0);
	}
	geo_get_stats(g, &after);
	size_t n = sizeof private_addrs / sizeof private_addrs[0];
	assert_int_equal(after.private_hits - before.private_hits, n);
	assert_int_equal(after.cache_hits, before.cache_hits);
	/* neighbours that are public */
	expect(g, "172.32.0.1", "", "unknown");
	expect(g, "100.128.0.1", "", "unknown");
	geo_close(g);
}

static void test_cache(void **state)
{
	const char *paths[] = {LAB_COUNTRY, LAB_ASN};
	struct geo *g = open_list(paths, 2);
	struct geo_stats s;

	const struct geo_result *first = look(g, "39.156.1.1");
	const struct geo_result *again = look(g, "39.156.1.1");
	assert_ptr_equal(first, again);
	geo_get_stats(g, &s);
	assert_int_equal(s.lookups, 2);
	assert_int_equal(s.cache_hits, 1);

	/* IPv4 and its IPv4-mapped form are one address. */
	assert_ptr_equal(look(g, "::ffff:39.156.1.1"), first);
	/* Same answer from another address: the same pooled record. */
	assert_ptr_equal(look(g, "39.156.200.200"), first);
	assert_ptr_not_equal(look(g, "47.75.0.1"), first);

	/* Far more addresses than the cache holds: records stay valid and
	 * correct (they live in the pool), the pool stays small. */
	for (uint32_t i = 0; i < 200000; i++) {
		struct pa_addr a = {.family = 4, .bytes = {39, 156, (uint8_t)(i >> 8), (uint8_t)i}};
		if (i >= 65536) {
			a.bytes[0] = 52;
			a.bytes[1] = (uint8_t)(i >> 16);
		}
		const struct geo_result *r = geo_lookup(g, &a);
		assert_string_equal(r->country, i >= 65536 ? "US" : "CN");
	}
	assert_string_equal(first->country, "CN");
	assert_int_equal(first->asn, 9808);
	geo_get_stats(g, &s);
	assert_true(s.distinct_results < 10);
	assert_int_equal(s.lookups, 5 + 200000);

	/* an unset address */
	struct pa_addr unset = {0};
	assert_string_equal(geo_lookup(g, &unset)->jurisdiction, "unknown");
	geo_close(g);
}

static void test_no_database(void **state)
{
	struct pa_error err = {{0}};
	struct geo *g = geo_open(NULL, 0, &err);
	assert_non_null(g);
	assert_int_equal(geo_db_count(g), 0);
	expect(g, "8.8.8.8", "", "unknown");
	expect(g, "192.168.0.1", "", "private");
	assert_int_equal(look(g, "8.8.8.8")->answer_count, 0);
	geo_close(g);
	geo_close(NULL);
}

static void expect_open_error(const char *path, const char *want)
{
	struct pa_error err = {{0}};
	struct geo *g = geo_open(&path, 1, &err);
	assert_null(g);
	char full[1024];
	snprintf(full, sizeof full, "%s: %s", path, want);
	if (strncmp(err.msg, full, strlen(full)) != 0)
		fail_msg("error '%s', want it to start with '%s'", err.msg, full);
}

static void test_bad_files(void **state)
{
	char path[64];

	expect_open_error(PA_TEST_DATA "/geoip/no-such.mmdb", "cannot open: No such file or directory");
	expect_open_error(PA_TEST_DATA "/geoip", "is a directory");

	static const char text[] = "this is not a database\n";
	temp_file(path, sizeof path, text, sizeof text - 1);
	expect_open_error(path, "not a MaxMind DB file (The MaxMind DB file contains invalid metadata)");
	unlink(path);

	temp_file(path, sizeof path, "", 0);
	expect_open_error(path, "not a MaxMind DB file (empty file)");
	unlink(path);

	/* Truncated: the metadata (at the end) is gone. */
	size_t n;
	void *db = read_whole(LAB_COUNTRY, &n);
	temp_file(path, sizeof path, db, n / 2);
	expect_open_error(path, "not a MaxMind DB file (");
	unlink(path);
	free(db);

	/* A valid MMDB whose records hold neither country nor ASN: a
	 * GeoLite2-Country fixture renamed in its metadata would still be
	 * believed, so build one whose type says nothing and whose records
	 * are all foreign: the ASN fixture with its type changed and its
	 * keys renamed in place (same lengths). */
	db = read_whole(LAB_ASN, &n);
	char *bytes = db;
	size_t renamed = 0;
	for (size_t i = 0; i + 24 <= n; i++) {
		if (memcmp(bytes + i, "autonomous_system_number", 24) == 0) {
			memcpy(bytes + i, "something_else_entirely_", 24);
			renamed++;
		}
		if (i + 12 <= n && memcmp(bytes + i, "GeoLite2-ASN", 12) == 0)
			memcpy(bytes + i, "Other-Things", 12);
	}
	assert_true(renamed > 0);
	temp_file(path, sizeof path, db, n);
	expect_open_error(path, "no country or ASN data (database_type Other-Things)");
	unlink(path);
	free(db);

	/* One bad database among good ones fails the whole open. */
	const char *paths[] = {LAB_COUNTRY, PA_TEST_DATA "/geoip/no-such.mmdb"};
	struct pa_error err = {{0}};
	assert_null(geo_open(paths, 2, &err));
	assert_non_null(strstr(err.msg, "no-such.mmdb: cannot open"));

	/* Too many databases. */
	const char *many[GEO_MAX_DBS + 1];
	for (size_t i = 0; i <= GEO_MAX_DBS; i++)
		many[i] = LAB_COUNTRY;
	assert_null(geo_open(many, GEO_MAX_DBS + 1, &err));
	assert_non_null(strstr(err.msg, "at most"));
}

static void test_schema_by_probe(void **state)
{
	/* A database whose type names nothing known is recognised by its
	 * records: the GeoLite2 fixture with its type renamed. */
	size_t n;
	char path[64];
	void *db = read_whole(LAB_COUNTRY, &n);
	char *bytes = db;
	size_t renamed = 0;
	for (size_t i = 0; i + 16 <= n; i++)
		if (memcmp(bytes + i, "GeoLite2-Country", 16) == 0) {
			memcpy(bytes + i, "lab-geo-database", 16);
			renamed++;
		}
	assert_true(renamed >= 1); /* type, and the description naming it */
	temp_file(path, sizeof path, db, n);
	struct geo *g = open_one(path);
	assert_string_equal(geo_db(g, 0)->database_type, "lab-geo-database");
	assert_int_equal(geo_db(g, 0)->schema, GEO_SCHEMA_COUNTRY);
	expect(g, "60.246.9.9", "MO", "MO");
	geo_close(g);
	unlink(path);
	free(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jurisdiction_words),
		cmocka_unit_test(test_country_schema),
		cmocka_unit_test(test_country_code_schema),
		cmocka_unit_test(test_ipv4_only_database),
		cmocka_unit_test(test_asn_schema),
		cmocka_unit_test(test_combined_and_conflict),
		cmocka_unit_test(test_private_and_reserved),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_no_database),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_schema_by_probe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
