/*
 * test-geo-real-db.c — the default database of real audits, ip-location-db's
 * geo-whois-asn-country in data/geoip/ (tools/fetch-geoip), opened and asked
 * about addresses whose country is not in doubt.
 *
 * The database is fetched from the npm registry, not committed; without it
 * the program exits 77, which ctest reports as skipped (SKIP_RETURN_CODE),
 * with the reason on stdout. It is its own program so that the fixture tests
 * of test-geo.c still run and count when it is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "geo/geo.h"

#define REAL_DB PA_SOURCE_DIR "/data/geoip/" GEO_DEFAULT_DATABASE_FILE
#define EXIT_SKIPPED 77

static void expect(struct geo *g, const char *text, const char *country, const char *jurisdiction)
{
	struct pa_addr a;
	if (!pa_addr_parse(text, &a))
		fail_msg("bad address in test: %s", text);
	const struct geo_result *r = geo_lookup(g, &a);
	assert_non_null(r);
	if (strcmp(r->country, country) != 0 || strcmp(r->jurisdiction, jurisdiction) != 0)
		fail_msg("%s: got country '%s' jurisdiction '%s', want '%s' '%s'", text,
			 r->country, r->jurisdiction, country, jurisdiction);
}

static void test_real_database(void **state)
{
	(void)state;
	struct pa_error err = {{0}};
	const char *path = REAL_DB;
	struct geo *g = geo_open(&path, 1, &err);
	if (!g)
		fail_msg("geo_open %s: %s", path, err.msg);
	const struct geo_db_info *info = geo_db(g, 0);
	assert_int_equal(info->schema, GEO_SCHEMA_COUNTRY_CODE);
	assert_int_equal(info->ip_version, 6);
	assert_true(info->build_epoch > 1700000000ULL);
	expect(g, "8.8.8.8", "US", "foreign:US");
	expect(g, "114.114.114.114", "CN", "CN");
	expect(g, "223.5.5.5", "CN", "CN");
	expect(g, "60.246.0.1", "MO", "MO");
	expect(g, "1.160.0.1", "TW", "TW");
	expect(g, "::ffff:8.8.8.8", "US", "foreign:US");
	expect(g, "2001:4860:4860::8888", "US", "foreign:US");
	expect(g, "240e::1", "CN", "CN");
	expect(g, "10.0.0.1", "", "private");
	geo_close(g);
}

int main(void)
{
	if (access(REAL_DB, R_OK) != 0) {
		printf("SKIP: no %s (tools/fetch-geoip downloads it)\n", REAL_DB);
		return EXIT_SKIPPED;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_database),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
