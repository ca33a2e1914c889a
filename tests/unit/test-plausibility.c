/* test-plausibility.c — great-circle distances, the nearest point of a
 * country, the speed-of-light verdict with its numbers, and the CIDR →
 * country override file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "policy/plausibility.h"

#define BEIJING_LAT 39.9087
#define BEIJING_LON 116.3975

static void test_great_circle(void **state)
{
	/* Beijing → Shanghai ≈ 1,067 km; London → New York ≈ 5,570 km. */
	double d = great_circle_km(BEIJING_LAT, BEIJING_LON, 31.2304, 121.4737);
	assert_true(d > 1050 && d < 1085);
	d = great_circle_km(51.5074, -0.1278, 40.7128, -74.0060);
	assert_true(d > 5540 && d < 5600);
	assert_true(great_circle_km(10, 20, 10, 20) < 1e-9);
	/* Antipodes: half the circumference. */
	d = great_circle_km(0, 0, 0, 180);
	assert_true(d > 20000 && d < 20040);
}

static void test_country_distance(void **state)
{
	assert_true(country_min_distance_km("CN", BEIJING_LAT, BEIJING_LON) == 0);
	/* Hong Kong from Beijing: ~1,960 km to the centre, less the radius. */
	double hk = country_min_distance_km("HK", BEIJING_LAT, BEIJING_LON);
	assert_true(hk > 1850 && hk < 1960);
	/* The nearest US territory from Beijing is the Aleutians (Attu ~ 4,400 km):
	 * the bound must not exceed that. */
	double us = country_min_distance_km("US", BEIJING_LAT, BEIJING_LON);
	assert_true(us > 2500 && us < 4400);
	/* Germany from Beijing ~ 7,300 km to the centre. */
	double de = country_min_distance_km("DE", BEIJING_LAT, BEIJING_LON);
	assert_true(de > 6500 && de < 7400);
	assert_true(country_min_distance_km("ZZ", BEIJING_LAT, BEIJING_LON) < 0);
	assert_true(country_min_distance_km(NULL, 0, 0) < 0);
}

static void test_verdicts(void **state)
{
	struct plaus_check pc;
	plausibility_check(true, BEIJING_LAT, BEIJING_LON, 0, 2.0, "DE", &pc);
	assert_int_equal(pc.verdict, PLAUS_CONTRADICTED);
	assert_string_equal(pc.country, "DE");
	assert_true(pc.bound_ms > 65 && pc.bound_ms < 74); /* 2 · d / 200 */
	assert_true(pc.bound_ms == 2 * pc.distance_km / PLAUS_FIBRE_KM_PER_MS);
	assert_true(pc.rtt_ms == 2.0);
	assert_string_equal(plaus_verdict_name(pc.verdict), "contradicted");

	plausibility_check(true, BEIJING_LAT, BEIJING_LON, 0, 180.0, "DE", &pc);
	assert_int_equal(pc.verdict, PLAUS_CONSISTENT);
	/* Inside the lab's own country anything goes. */
	plausibility_check(true, BEIJING_LAT, BEIJING_LON, 0, 0.1, "CN", &pc);
	assert_int_equal(pc.verdict, PLAUS_CONSISTENT);
	assert_true(pc.bound_ms == 0);
	/* The lab radius is given in the country's favour. */
	plausibility_check(true, BEIJING_LAT, BEIJING_LON, 100000, 0.1, "DE", &pc);
	assert_int_equal(pc.verdict, PLAUS_CONSISTENT);

	plausibility_check(false, 0, 0, 0, 2.0, "DE", &pc);
	assert_int_equal(pc.verdict, PLAUS_NOT_CHECKED);
	assert_non_null(strstr(pc.why, "lab location"));
	plausibility_check(true, BEIJING_LAT, BEIJING_LON, 0, -1, "DE", &pc);
	assert_int_equal(pc.verdict, PLAUS_NOT_CHECKED);
	assert_true(pc.bound_ms > 60); /* the numbers are still shown */
	plausibility_check(true, BEIJING_LAT, BEIJING_LON, 0, 2.0, "ZZ", &pc);
	assert_int_equal(pc.verdict, PLAUS_NOT_CHECKED);
	plausibility_check(true, BEIJING_LAT, BEIJING_LON, 0, 2.0, "", &pc);
	assert_int_equal(pc.verdict, PLAUS_NOT_CHECKED);
}

static void test_overrides(void **state)
{
	const char *text = "# comment\n"
			   "10.0.0.0/8 SG\n"
			   "10.1.0.0/16   CN   # longer prefix wins\n"
			   "192.0.2.7 HK\n"
			   "2001:db8::/32 JP\r\n";
	struct pa_diag diag = {0};
	struct country_overrides *o = country_overrides_load_buffer("ov.txt", text, strlen(text), &diag);
	assert_non_null(o);
	assert_int_equal(diag.errors, 0);
	assert_int_equal(country_overrides_count(o), 4);
	struct pa_addr a;
	assert_true(pa_addr_parse("10.2.3.4", &a));
	assert_string_equal(country_overrides_lookup(o, &a), "SG");
	assert_true(pa_addr_parse("10.1.3.4", &a));
	assert_string_equal(country_overrides_lookup(o, &a), "CN");
	assert_true(pa_addr_parse("192.0.2.7", &a));
	assert_string_equal(country_overrides_lookup(o, &a), "HK");
	assert_true(pa_addr_parse("192.0.2.8", &a));
	assert_string_equal(country_overrides_lookup(o, &a), "");
	assert_true(pa_addr_parse("2001:db8:1::5", &a));
	assert_string_equal(country_overrides_lookup(o, &a), "JP");
	assert_true(pa_addr_parse("2001:db9::5", &a));
	assert_string_equal(country_overrides_lookup(o, &a), "");
	country_overrides_free(o);

	const char *bad = "10.0.0.0/8\n10.0.0.0/33 CN\n10.0.0.0/8 cn\n::1/129 CN\n1.2.3.4/x CN\nok\n";
	diag.errors = 0;
	assert_null(country_overrides_load_buffer("bad.txt", bad, strlen(bad), &diag));
	assert_int_equal(diag.errors, 6);

	diag.errors = 0;
	assert_null(country_overrides_load("/nonexistent/overrides.txt", &diag));
	assert_int_equal(diag.errors, 1);
}

static void test_jurisdiction_words(void **state)
{
	char j[24];
	plaus_jurisdiction("CN", j, sizeof j);
	assert_string_equal(j, "CN");
	plaus_jurisdiction("TW", j, sizeof j);
	assert_string_equal(j, "TW");
	plaus_jurisdiction("SG", j, sizeof j);
	assert_string_equal(j, "foreign:SG");
	plaus_jurisdiction("", j, sizeof j);
	assert_string_equal(j, "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_great_circle),
		cmocka_unit_test(test_country_distance),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_jurisdiction_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
