/*
 * test-jurisdiction.c — a jurisdiction word split into the two fields the
 * output records carry (src/geo/jurisdiction.h, docs/output.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "geo/geo.h"
#include "geo/jurisdiction.h"

static void expect_split(const char *word, const char *jurisdiction, const char *country)
{
	struct jurisdiction_parts p = jurisdiction_split(word);
	assert_string_equal(p.jurisdiction, jurisdiction);
	assert_string_equal(p.country, country);
}

static void test_words(void **state)
{
	(void)state;
	expect_split("CN", "CN", "CN");
	expect_split("HK", "HK", "HK");
	expect_split("MO", "MO", "MO");
	expect_split("TW", "TW", "TW");
	expect_split("foreign:SG", "foreign", "SG");
	expect_split("private", "private", "");
	expect_split("unknown", "unknown", "");
	expect_split(NULL, "unknown", "");
	expect_split("", "unknown", "");
	/* Not a word geo.h makes: never passed on as if it were one. */
	expect_split("foreign:", "unknown", "");
	expect_split("foreign:sg", "unknown", "");
	expect_split("foreign:SGP", "unknown", "");
	expect_split("DE", "unknown", "");
}

/* Every word geo_jurisdiction makes splits back into the country it came from. */
static void test_round_trip(void **state)
{
	(void)state;
	const char *countries[] = {"CN", "HK", "MO", "TW", "US", "SG", "DE", "JP"};
	for (size_t i = 0; i < sizeof countries / sizeof countries[0]; i++) {
		char word[16];
		geo_jurisdiction(countries[i], word, sizeof word);
		struct jurisdiction_parts p = jurisdiction_split(word);
		assert_string_equal(p.country, countries[i]);
		assert_string_equal(p.jurisdiction, strlen(word) == 2 ? countries[i] : "foreign");
	}
	char word[16];
	geo_jurisdiction("", word, sizeof word);
	expect_split(word, "unknown", "");
}

static void test_json(void **state)
{
	(void)state;
	json_t *o = json_object();
	jurisdiction_json_set(o, "foreign:US");
	assert_string_equal(json_string_value(json_object_get(o, "jurisdiction")), "foreign");
	assert_string_equal(json_string_value(json_object_get(o, "jurisdiction_country")), "US");
	jurisdiction_json_set(o, "private");
	assert_string_equal(json_string_value(json_object_get(o, "jurisdiction")), "private");
	/* absent, never left out */
	assert_true(json_is_null(json_object_get(o, "jurisdiction_country")));
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
