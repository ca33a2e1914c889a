/* test-recipients.c — the recipient catalogue: the shipped file loads, the
 * most specific pattern wins, policies link only to entries that exist, and
 * a broken catalogue gets every error at its line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/recipients.h"

#define CATALOGUE PA_SOURCE_DIR "/signatures/recipients.yaml"

static struct recipients *load_catalogue(void)
{
	struct pa_diag diag = {.out = stderr};
	struct recipients *r = recipients_load(CATALOGUE, &diag);
	assert_non_null(r);
	assert_int_equal(diag.errors, 0);
	assert_int_equal(diag.warnings, 0);
	return r;
}

static const char *match_id(const struct recipients *r, const char *host)
{
	const struct recipient *rec = recipients_match(r, host);
	return rec ? rec->id : NULL;
}

static void test_xiaomi_push_mainland_and_overseas(void **state)
{
	struct recipients *r = load_catalogue();
	const struct recipient *cn = recipients_match(r, "cn.register.xmpush.xiaomi.com");
	assert_non_null(cn);
	assert_string_equal(cn->id, "xiaomi-push");
	assert_string_equal(cn->purpose, "push");
	assert_string_equal(cn->country, "CN");
	assert_non_null(strstr(cn->organisation, "Xiaomi"));
	assert_non_null(strstr(cn->sdk, "push"));

	const struct recipient *global = recipients_match(r, "register.xmpush.global.xiaomi.com");
	assert_non_null(global);
	assert_string_equal(global->id, "xiaomi-push-global");
	assert_string_equal(global->country, "CN"); /* the company's country, not the server's */
	assert_non_null(global->note);
	assert_non_null(strstr(global->note, "overseas"));
	assert_string_equal(match_id(r, "fr.register.xmpush.global.xiaomi.com"), "xiaomi-push-global");

	/* Most specific wins: the ads endpoint, then Xiaomi's catch-all. */
	assert_string_equal(match_id(r, "new.api.ad.xiaomi.com"), "xiaomi-ads");
	assert_string_equal(match_id(r, "account.xiaomi.com"), "xiaomi");
	assert_string_equal(match_id(r, "xiaomi.com"), "xiaomi");
	recipients_free(r);
}

static void test_lookup_normalises_and_rejects(void **state)
{
	struct recipients *r = load_catalogue();
	assert_string_equal(match_id(r, "API.Weibo.COM"), "weibo-sdk");
	assert_string_equal(match_id(r, "api.weibo.com."), "weibo-sdk");
	assert_string_equal(match_id(r, "api.weibo.com:443"), "weibo-sdk");
	assert_string_equal(match_id(r, "adeng.hpplay.cn"), "lebo-ads");
	assert_string_equal(match_id(r, "sl.hpplay.cn"), "lebo-cast");
	assert_string_equal(match_id(r, "loc.map.baidu.com"), "baidu-location");
	assert_string_equal(match_id(r, "map.baidu.com"), "baidu-maps");
	assert_string_equal(match_id(r, "www.baidu.com"), "baidu");
	assert_string_equal(match_id(r, "app-measurement.com"), "google-analytics-more");
	assert_false(recipients_match(r, "app-measurement.com")->source_verified);
	assert_true(recipients_match(r, "www.google-analytics.com")->source_verified);
	assert_string_equal(match_id(r, "graph.facebook.com"), "facebook");
	assert_string_equal(match_id(r, "openapi.lanxin.cn"), "lanxin");
	assert_string_equal(match_id(r, "bucket.oss-cn-hangzhou.aliyuncs.com"), "aliyun-oss");

	assert_null(recipients_match(r, "unknown.example"));
	assert_null(recipients_match(r, "notxiaomi.com"));   /* not a label boundary */
	assert_null(recipients_match(r, "xiaomi.com.evil.example"));
	assert_null(recipients_match(r, ""));
	assert_null(recipients_match(r, "."));
	assert_null(recipients_match(r, NULL));
	char longname[400];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	memcpy(longname + sizeof longname - 12, ".xiaomi.com", 11);
	assert_null(recipients_match(r, longname)); /* longer than any DNS name */
	recipients_free(r);
}

static void test_catalogue_covers_the_declared_sdks(void **state)
{
	struct recipients *r = load_catalogue();
	assert_true(recipients_count(r) >= 70);
	static const char *const ids[] = {
		"huawei-push", "xiaomi-push", "vivo-push", "meizu-push", "baidu-location", "iflytek",
		"lebo-cast", "alipay", "yozo", "weibo-sdk", "arcsoft", "tencent-qq-connect",
		"tencent-wechat-open", "lanhu", "lanxin", "umeng", "jpush", "getui", "tencent-bugly",
		"tencent-gdt", "pangle", "baidu-mobads", "kuaishou-ads", "sensors-data", "talkingdata",
		"firebase", "google-analytics", "appsflyer", "adjust", "facebook"};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		const struct recipient *rec = recipients_find(r, ids[i]);
		if (!rec)
			fail_msg("catalogue lacks %s", ids[i]);
		assert_true(policy_is_purpose(rec->purpose));
		assert_int_equal(strlen(rec->country), 2);
		assert_true(rec->domain_count > 0);
	}
	/* Every entry's own domains lead back to it: nothing is shadowed. */
	for (size_t i = 0; i < recipients_count(r); i++) {
		const struct recipient *rec = recipients_at(r, i);
		for (size_t d = 0; d < rec->domain_count; d++) {
			char host[300];
			const char *dom = rec->domains[d];
			if (!strncmp(dom, "*.", 2))
				snprintf(host, sizeof host, "x.%s", dom + 2);
			else
				snprintf(host, sizeof host, "%s", dom);
			assert_string_equal(match_id(r, host), rec->id);
		}
	}

	struct pa_diag diag = {.out = stderr};
	static const char *const policies[] = {PA_SOURCE_DIR "/policies/lanxin.yaml",
					       PA_SOURCE_DIR "/policies/lanhu.yaml"};
	for (size_t i = 0; i < 2; i++) {
		struct policy *p = policy_load(policies[i], &diag);
		assert_non_null(p);
		assert_int_equal(recipients_check_policy(r, p, &diag), 0);
		policy_free(p);
	}
	assert_int_equal(diag.errors, 0);
	recipients_free(r);
}

static void test_policy_linking_unknown_recipient(void **state)
{
	struct recipients *r = load_catalogue();
	const char *text =
		"policy: {app: T, version: '1', source: t.txt}\n"
		"clauses:\n"
		"  - {id: a, quote: q, gloss: g}\n"
		"promises:\n"
		"  residency: {allowed: [CN], clauses: [a]}\n"
		"  consent: {model: explicit, clauses: [a]}\n"
		"  data_types: [{types: [imei], clauses: [a]}]\n"
		"  first_party_domains: [t.example]\n"
		"  third_parties:\n"
		"    - {id: ghost, name: G, purpose: push, data_types: [imei],\n"
		"       recipients: [no-such-sdk], clauses: [a]}\n";
	struct pa_diag diag = {0};
	struct policy *p = policy_load_buffer("t.yaml", (const unsigned char *)text, strlen(text), &diag);
	assert_non_null(p);
	assert_int_equal(diag.errors, 0);
	assert_int_equal(recipients_check_policy(r, p, &diag), 1);
	assert_int_equal(diag.errors, 1);
	policy_free(p);
	recipients_free(r);
}

static void test_wildcard_semantics(void **state)
{
	const char *text =
		"recipients:\n"
		"  - id: under-only\n"
		"    organisation: O\n"
		"    sdk: S\n"
		"    country: US\n"
		"    purpose: cdn\n"
		"    domains: ['*.cdn.example']\n"
		"    source: test\n"
		"    source_verified: false\n"
		"  - id: exact-and-under\n"
		"    organisation: O\n"
		"    sdk: S\n"
		"    country: US\n"
		"    purpose: analytics\n"
		"    domains: [example]\n"
		"    source: test\n"
		"    source_verified: false\n";
	struct pa_diag diag = {.out = stderr};
	struct recipients *r = recipients_load_buffer("w.yaml", (const unsigned char *)text,
						      strlen(text), &diag);
	assert_non_null(r);
	assert_string_equal(match_id(r, "a.cdn.example"), "under-only");
	assert_string_equal(match_id(r, "x.y.cdn.example"), "under-only");
	/* "*.cdn.example" does not cover cdn.example itself: the parent pattern does. */
	assert_string_equal(match_id(r, "cdn.example"), "exact-and-under");
	assert_string_equal(match_id(r, "example"), "exact-and-under");
	recipients_free(r);
}

static const char bad_catalogue[] =
	"recipients:\n"                           /* 1 */
	"  - id: first\n"                         /* 2 */
	"    organisation: O\n"                   /* 3 */
	"    sdk: S\n"                            /* 4 */
	"    country: china\n"                    /* 5: not ISO alpha-2 */
	"    purpose: push\n"                     /* 6 */
	"    domains: [a.example, Bad..example]\n"/* 7: bad pattern */
	"    source: test\n"                      /* 8 */
	"  - id: second\n"                        /* 9: missing source */
	"    organisation: O\n"                   /* 10 */
	"    sdk: S\n"                            /* 11 */
	"    country: CN\n"                       /* 12 */
	"    purpose: telepathy\n"                /* 13: unknown purpose */
	"    domains:\n"                          /* 14 */
	"      - a.example\n"                     /* 15: duplicate domain */
	"    colour: red\n"                       /* 16: unknown key */
	"  - id: first\n"                         /* 17: duplicate id */
	"    organisation: O\n"
	"    sdk: S\n"
	"    country: CN\n"
	"    purpose: push\n"
	"    domains: [c.example]\n"
	"    source: test\n"
	"    source_verified: false\n";

static void test_bad_catalogue_reports_every_error_at_its_line(void **state)
{
	char *text = NULL;
	size_t len = 0;
	struct pa_diag diag = {.out = open_memstream(&text, &len)};
	assert_non_null(diag.out);
	struct recipients *r = recipients_load_buffer("bad.yaml", (const unsigned char *)bad_catalogue,
						      strlen(bad_catalogue), &diag);
	fclose(diag.out);
	assert_null(r);
	static const char *const expected[] = {
		"bad.yaml:5: country 'china' must be an ISO 3166 alpha-2 code",
		"bad.yaml:7: 'Bad..example' is not a domain pattern",
		"bad.yaml:9: missing required 'source'",
		"bad.yaml:13: unknown purpose 'telepathy'",
		"bad.yaml:15: domain 'a.example' already belongs to 'first' (line 7)",
		"bad.yaml:16: recipient: unknown key 'colour'",
		"bad.yaml:17: duplicate recipient id 'first' (first at line 2)",
		"bad.yaml:2: missing required 'source_verified'",
		"bad.yaml:9: missing required 'source_verified'",
	};
	for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
		if (!strstr(text, expected[i]))
			fail_msg("missing \"%s\" in:\n%s", expected[i], text);
	assert_int_equal(diag.errors, 9);
	free(text);

	struct pa_diag quiet = {0};
	assert_null(recipients_load_buffer("x.yaml", (const unsigned char *)"[1, 2]", 6, &quiet));
	assert_null(recipients_load_buffer("x.yaml", (const unsigned char *)"recipients: 3", 13, &quiet));
	assert_null(recipients_load_buffer("x.yaml", (const unsigned char *)"", 0, &quiet));
	assert_null(recipients_load(PA_TEST_DATA "/no/such/recipients.yaml", &quiet));
	assert_int_equal(quiet.errors, 4);
}

static const char source_catalogue[] =
	"recipients:\n"                               /* 1 */
	"  - id: maybe\n"                             /* 2 */
	"    organisation: O\n"                       /* 3 */
	"    sdk: S\n"                                /* 4 */
	"    country: CN\n"                           /* 5 */
	"    purpose: push\n"                         /* 6 */
	"    domains: [a.example]\n"                  /* 7 */
	"    source: O privacy policy\n"              /* 8 */
	"    source_verified: yes\n"                  /* 9: not true/false */
	"  - id: no-address\n"                        /* 10 */
	"    organisation: O\n"                       /* 11 */
	"    sdk: S\n"                                /* 12 */
	"    country: CN\n"                           /* 13 */
	"    purpose: push\n"                         /* 14 */
	"    domains: [b.example]\n"                  /* 15 */
	"    source: O privacy policy\n"              /* 16 */
	"    source_url: o.example/privacy\n"         /* 17: not http(s) */
	"    source_verified: true\n"                 /* 18 */
	"  - id: no-url\n"                            /* 19 */
	"    organisation: O\n"                       /* 20 */
	"    sdk: S\n"                                /* 21 */
	"    country: CN\n"                           /* 22 */
	"    purpose: push\n"                         /* 23 */
	"    domains: [c.example, api.c.example, '*.x.c.example']\n" /* 24: covered twice */
	"    source: O privacy policy\n"              /* 25 */
	"    source_verified: true\n"                 /* 26: no source_url */
	"  - id: shadow\n"                            /* 27 */
	"    organisation: O\n"                       /* 28 */
	"    sdk: S\n"                                /* 29 */
	"    country: CN\n"                           /* 30 */
	"    purpose: ads\n"                          /* 31 */
	"    domains: ['*.a.example', ad.c.example]\n" /* 32: takes a.example's names */
	"    source: O privacy policy\n"              /* 33 */
	"    source_verified: false\n";               /* 34 */

/* check: sources (verified needs an address), patterns that an entry
 * already covers, and a pattern that takes another entry's names. A more
 * specific pattern in another entry (ad.c.example) is the intended
 * carve-out, not an error. */
static void test_sources_and_overlapping_patterns(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	struct pa_diag diag = {.out = open_memstream(&text, &len)};
	assert_non_null(diag.out);
	struct recipients *r = recipients_load_buffer("src.yaml", (const unsigned char *)source_catalogue,
						      strlen(source_catalogue), &diag);
	fclose(diag.out);
	assert_null(r);
	static const char *const expected[] = {
		"src.yaml:9: 'source_verified' must be true or false",
		"src.yaml:17: source_url 'o.example/privacy' must be an http(s):// address",
		"src.yaml:26: 'no-url': a verified source needs its source_url",
		"src.yaml:24: domain 'api.c.example' of 'no-url' is already covered by its 'c.example'",
		"src.yaml:24: domain '*.x.c.example' of 'no-url' is already covered by its 'c.example'",
		"src.yaml:32: domain '*.a.example' already belongs to 'maybe' (line 7)",
	};
	for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
		if (!strstr(text, expected[i]))
			fail_msg("missing \"%s\" in:\n%s", expected[i], text);
	assert_int_equal(diag.errors, 6);
	free(text);
}

static void test_host_without_port(void **state)
{
	(void)state;
	char out[256];
	assert_string_equal(recipients_host_without_port("api.example.com:8080", out, sizeof out),
			    "api.example.com");
	assert_string_equal(recipients_host_without_port("api.example.com", out, sizeof out),
			    "api.example.com");
	assert_string_equal(recipients_host_without_port("10.0.0.1:80", out, sizeof out), "10.0.0.1");
	assert_string_equal(recipients_host_without_port("[2001:db8::1]:443", out, sizeof out),
			    "2001:db8::1");
	assert_string_equal(recipients_host_without_port("[2001:db8::1]", out, sizeof out), "2001:db8::1");
	/* A bare IPv6 literal keeps every group; a non-numeric suffix is no port. */
	assert_string_equal(recipients_host_without_port("2001:db8::1", out, sizeof out), "2001:db8::1");
	assert_string_equal(recipients_host_without_port("a.example:http", out, sizeof out),
			    "a.example:http");
	assert_string_equal(recipients_host_without_port("a.example:", out, sizeof out), "a.example:");
	assert_string_equal(recipients_host_without_port(NULL, out, sizeof out), "");
}

/* A DNS query name's datum goes to the owner of the zone: the catalogue
 * pattern when one matches, else the registered domain. */
static void test_query_name_zone(void **state)
{
	(void)state;
	struct recipients *r = load_catalogue();
	char zone[256];
	assert_string_equal(recipients_zone(r, "868034031518269.imdns.hpplay.cn", zone, sizeof zone),
			    "hpplay.cn");
	assert_string_equal(recipients_zone(r, "x.adeng.hpplay.cn", zone, sizeof zone), "adeng.hpplay.cn");
	assert_string_equal(recipients_zone(r, "868034031518269.log.unknown-sdk.com", zone, sizeof zone),
			    "unknown-sdk.com");
	assert_string_equal(recipients_zone(r, "A1B2.t.nobody.com.cn.", zone, sizeof zone), "nobody.com.cn");
	assert_string_equal(recipients_zone(NULL, "a.b.example.co.uk", zone, sizeof zone), "example.co.uk");
	assert_string_equal(recipients_zone(NULL, "deep.a.b.example.cn", zone, sizeof zone), "example.cn");
	assert_string_equal(recipients_zone(NULL, "localhost", zone, sizeof zone), "localhost");
	assert_string_equal(recipients_zone(NULL, "com.cn", zone, sizeof zone), "com.cn");
	/* A MAC address in a label is data, not a host and not a port. */
	assert_string_equal(recipients_query_host("8c:be:be:4a:21:07.log.snssdk.com"), "log.snssdk.com");
	assert_string_equal(recipients_zone(NULL, "8c:be:be:4a:21:07.log.snssdk.com", zone, sizeof zone),
			    "snssdk.com");
	assert_string_equal(recipients_query_host("aa:bb"), "");
	assert_string_equal(recipients_query_host("plain.example.com"), "plain.example.com");
	/* Multicast DNS names belong to the link, not to a zone owner. */
	assert_true(recipients_link_local("skynet [1a:8b]._workstation._tcp.local"));
	assert_true(recipients_link_local("Phone.LOCAL."));
	assert_true(recipients_link_local("local"));
	assert_false(recipients_link_local("notlocal"));
	assert_false(recipients_link_local("local.example.com"));
	recipients_free(r);
}

static void test_check_entry_point(void **state)
{
	struct pa_diag diag = {0};
	assert_int_equal(policy_file_kind(CATALOGUE), POLICY_FILE_RECIPIENTS);
	assert_int_equal(policy_file_kind(PA_SOURCE_DIR "/policies/lanxin.yaml"), POLICY_FILE_POLICY);
	assert_int_equal(policy_file_kind(PA_SOURCE_DIR "/CMakeLists.txt"), POLICY_FILE_OTHER);
	assert_true(policy_check_file(CATALOGUE, NULL, &diag));
	assert_true(policy_check_file(PA_SOURCE_DIR "/policies/lanxin.yaml", CATALOGUE, &diag));
	assert_true(policy_check_file(PA_SOURCE_DIR "/policies/lanhu.yaml", CATALOGUE, &diag));
	assert_int_equal(diag.errors, 0);
	/* The quote-check fixture is a valid policy; its invented quote is the
	 * quote check's business, not the loader's. */
	assert_true(policy_check_file(PA_SOURCE_DIR "/tests/policy/invented-quote.yaml", CATALOGUE, &diag));
	assert_false(policy_check_file(PA_SOURCE_DIR "/CMakeLists.txt", NULL, &diag));
	assert_true(diag.errors > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xiaomi_push_mainland_and_overseas),
		cmocka_unit_test(test_lookup_normalises_and_rejects),
		cmocka_unit_test(test_catalogue_covers_the_declared_sdks),
		cmocka_unit_test(test_policy_linking_unknown_recipient),
		cmocka_unit_test(test_wildcard_semantics),
		cmocka_unit_test(test_bad_catalogue_reports_every_error_at_its_line),
		cmocka_unit_test(test_sources_and_overlapping_patterns),
		cmocka_unit_test(test_host_without_port),
		cmocka_unit_test(test_query_name_zone),
		cmocka_unit_test(test_check_entry_point),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
