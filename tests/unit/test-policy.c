/* test-policy.c — policy files: the two modelled seed policies load cleanly
 * and say what the seeds say; broken files get every error at its line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"

#define LANXIN PA_SOURCE_DIR "/policies/lanxin.yaml"
#define LANHU PA_SOURCE_DIR "/policies/lanhu.yaml"

/* Messages a loader printed, for asserting on file:line text. */
struct capture {
	char *text;
	size_t len;
	struct pa_diag diag;
};

static void capture_start(struct capture *c)
{
	memset(c, 0, sizeof *c);
	c->diag.out = open_memstream(&c->text, &c->len);
	assert_non_null(c->diag.out);
}

static void capture_end(struct capture *c)
{
	fclose(c->diag.out);
	c->diag.out = NULL;
}

static struct policy *load_clean(const char *path)
{
	struct capture c;
	capture_start(&c);
	struct policy *p = policy_load(path, &c.diag);
	capture_end(&c);
	if (c.len)
		print_message("%s", c.text);
	assert_non_null(p);
	assert_int_equal(c.diag.errors, 0);
	assert_int_equal(c.diag.warnings, 0);
	free(c.text);
	return p;
}

static size_t count_kind(const struct policy *p, enum policy_party_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < p->party_count; i++)
		n += p->parties[i].kind == kind;
	return n;
}

static void test_lanxin_loads_with_its_facts(void **state)
{
	struct policy *p = load_clean(LANXIN);
	assert_string_equal(p->source, "002_e5abc057c83b504a.txt");
	assert_string_equal(p->effective, "2022-03-08");
	assert_string_equal(p->updated, "2022-03-03");
	assert_int_equal(p->clause_count, 37);

	const struct policy_clause *enc = policy_clause(p, "七.2");
	assert_non_null(enc);
	assert_non_null(strstr(enc->quote, "加密传输"));
	assert_true(p->encryption.promised);
	assert_string_equal(p->encryption.clauses.ids[0], "七.2");

	assert_int_equal(p->residency.allowed.count, 1);
	assert_string_equal(p->residency.allowed.items[0], "CN");
	assert_int_equal(p->residency.clauses.count, 2);
	assert_int_equal(p->consent.model, POLICY_CONSENT_USE_IMPLIES);
	assert_int_equal(p->consent.gate_count, 4);

	/* The 13 SDKs of §三 are declared; Coremail and the video SDK only mentioned. */
	assert_int_equal(count_kind(p, POLICY_PARTY_THIRD_PARTY), 13);
	assert_int_equal(count_kind(p, POLICY_PARTY_MENTIONED), 2);
	assert_int_equal(count_kind(p, POLICY_PARTY_PROCESSOR), 0);
	assert_int_equal(p->gap_count, 6);
	policy_free(p);
}

static void test_lanxin_xiaomi_push_scope(void **state)
{
	struct policy *p = load_clean(LANXIN);
	const struct policy_party *xm = policy_party_for_recipient(p, "xiaomi-push");
	assert_non_null(xm);
	assert_ptr_equal(xm, policy_party_for_recipient(p, "xiaomi-push-global"));
	assert_string_equal(xm->id, "xiaomi-push");
	assert_int_equal(xm->kind, POLICY_PARTY_THIRD_PARTY);
	assert_string_equal(xm->purpose, "push");
	assert_string_equal(xm->declared_as, "设备标识符");
	assert_string_equal(xm->clauses.ids[0], "三/小米");
	/* 设备标识符 = the device_id group: IMEI, Android ID, GAID are in scope... */
	assert_true(policy_party_declares(xm, "imei"));
	assert_true(policy_party_declares(xm, "android_id"));
	assert_true(policy_party_declares(xm, "gaid"));
	/* ...a MAC address, location or the app list are not. */
	assert_false(policy_party_declares(xm, "mac"));
	assert_false(policy_party_declares(xm, "location"));
	assert_false(policy_party_declares(xm, "app_list"));

	const struct policy_party *tencent = policy_party_for_recipient(p, "tencent-wechat-open");
	assert_non_null(tencent);
	assert_true(policy_party_declares(tencent, "app_list"));
	const struct policy_party *baidu = policy_party_for_recipient(p, "baidu-location");
	assert_true(policy_party_may_receive(p, baidu, "bssid"));
	assert_true(policy_party_may_receive(p, baidu, "cell_id"));
	assert_false(policy_party_may_receive(p, baidu, "contacts"));

	const struct policy_party *coremail = policy_party_for_recipient(p, "coremail");
	assert_non_null(coremail);
	assert_int_equal(coremail->kind, POLICY_PARTY_MENTIONED);
	assert_false(policy_party_may_receive(p, coremail, "email"));
	assert_null(policy_party_for_recipient(p, "lebo-ads"));
	policy_free(p);
}

static void test_lanxin_first_party_and_types(void **state)
{
	struct policy *p = load_clean(LANXIN);
	assert_true(policy_is_first_party(p, "login.lanxin.cn"));
	assert_true(policy_is_first_party(p, "LANXIN.CN."));
	assert_true(policy_is_first_party(p, "passport.lx.qianxin.com"));
	assert_false(policy_is_first_party(p, "evil-lanxin.cn"));
	assert_false(policy_is_first_party(p, "qianxin.com"));

	const struct policy_data_type *imei = policy_declared_type(p, "imei");
	assert_non_null(imei);
	assert_string_equal(imei->clauses.ids[0], "一(一)3/个人常用设备信息");
	assert_non_null(policy_declared_type(p, "openudid"));
	assert_non_null(policy_declared_type(p, "bssid"));   /* via the location group */
	assert_non_null(policy_declared_type(p, "contacts"));
	assert_null(policy_declared_type(p, "oaid"));        /* never named by the policy */
	assert_null(policy_declared_type(p, "iccid"));
	policy_free(p);
}

static void test_lanhu_declares_no_third_party(void **state)
{
	struct policy *p = load_clean(LANHU);
	assert_string_equal(p->source, "000_8a79230e28afe84c.normalized.txt");
	assert_null(p->effective);
	assert_int_equal(count_kind(p, POLICY_PARTY_THIRD_PARTY), 0);
	assert_int_equal(count_kind(p, POLICY_PARTY_MENTIONED), 3);

	const struct policy_party *oss = policy_party_for_recipient(p, "aliyun-oss");
	assert_non_null(oss);
	assert_int_equal(oss->kind, POLICY_PARTY_PROCESSOR);
	/* A processor holds the first party's data: its declared types, no more. */
	assert_true(policy_party_may_receive(p, oss, "mac"));
	assert_true(policy_party_may_receive(p, oss, "android_id")); /* 唯一设备标识符 */
	assert_false(policy_party_may_receive(p, oss, "app_list"));
	assert_false(policy_party_may_receive(p, oss, "contacts"));

	const struct policy_party *wechat = policy_party_for_recipient(p, "tencent-wechat-open");
	assert_non_null(wechat);
	assert_int_equal(wechat->kind, POLICY_PARTY_MENTIONED);
	assert_false(policy_party_may_receive(p, wechat, "imei"));

	assert_non_null(policy_clause(p, "5.7"));
	assert_string_equal(p->residency.clauses.ids[0], "2.5");
	assert_true(policy_is_first_party(p, "lanhu-oss.lanhuapp.com"));
	policy_free(p);
}

static void test_domain_pattern_semantics(void **state)
{
	assert_int_equal(policy_domain_match("xiaomi.com", "xiaomi.com"), 10);
	assert_int_equal(policy_domain_match("xiaomi.com", "a.b.xiaomi.com"), 10);
	assert_int_equal(policy_domain_match("xiaomi.com", "A.XiaoMi.Com."), 10);
	assert_int_equal(policy_domain_match("xiaomi.com", "notxiaomi.com"), 0);
	assert_int_equal(policy_domain_match("xiaomi.com", "xiaomi.com.evil"), 0);
	assert_int_equal(policy_domain_match("*.xiaomi.com", "xiaomi.com"), 0);
	assert_int_equal(policy_domain_match("*.xiaomi.com", "x.xiaomi.com"), 10);
	assert_true(policy_domain_pattern_valid("*.push.example.com"));
	assert_false(policy_domain_pattern_valid("Example.com"));
	assert_false(policy_domain_pattern_valid("a..com"));
	assert_false(policy_domain_pattern_valid("a.com."));
	assert_false(policy_domain_pattern_valid("*."));
	assert_false(policy_domain_pattern_valid("a.*.com"));
}

/* Each line marked with the error it must produce. */
static const char bad_policy[] =
	"policy:\n"                                   /* 1 */
	"  app: Test\n"                               /* 2 */
	"  version: '1'\n"                            /* 3 */
	"  published: 2022-3-8\n"                     /* 4: bad date */
	"  source: x.txt\n"                           /* 5 */
	"  colour: blue\n"                            /* 6: unknown key */
	"clauses:\n"                                  /* 7 */
	"  - id: '1'\n"                               /* 8 */
	"    quote: one\n"                            /* 9 */
	"    gloss: one\n"                            /* 10 */
	"  - id: '1'\n"                               /* 11: duplicate clause id */
	"    quote: again\n"                          /* 12 */
	"    gloss: again\n"                          /* 13 */
	"  - id: '2'\n"                               /* 14: missing quote */
	"    gloss: no quote\n"                       /* 15 */
	"promises:\n"                                 /* 16 */
	"  residency:\n"                              /* 17 */
	"    allowed: [CN, Mars]\n"                   /* 18: unknown jurisdiction */
	"    clauses: ['1', '9']\n"                   /* 19: unknown clause id */
	"  consent:\n"                                /* 20 */
	"    model: use_implies_consent\n"            /* 21 */
	"    clauses: ['1']\n"                        /* 22 */
	"  data_types:\n"                             /* 23 */
	"    - types: [imei, shoe_size]\n"            /* 24: unknown data type */
	"      clauses: ['1']\n"                      /* 25 */
	"  first_party_domains: [test.example]\n"     /* 26 */
	"  third_parties:\n"                          /* 27 */
	"    - id: sdk\n"                             /* 28 */
	"      name: An SDK\n"                        /* 29 */
	"      purpose: mind_reading\n"               /* 30: unknown purpose */
	"      data_types: [imei]\n"                  /* 31 */
	"      domains: [test.example]\n"             /* 32: a first-party domain (error at 28) */
	"      clauses: ['1']\n"                      /* 33 */
	"      colour: red\n";                        /* 34: unknown key */

static void test_bad_policy_reports_every_error_at_its_line(void **state)
{
	struct capture c;
	capture_start(&c);
	struct policy *p = policy_load_buffer("bad.yaml", (const unsigned char *)bad_policy,
					      strlen(bad_policy), &c.diag);
	capture_end(&c);
	assert_null(p);
	static const char *const expected[] = {
		"bad.yaml:4: 'published' must be a date",
		"bad.yaml:6: policy: unknown key 'colour'",
		"bad.yaml:11: duplicate clause id '1' (first at line 8)",
		"bad.yaml:14: missing required 'quote'",
		"bad.yaml:18: unknown jurisdiction 'Mars'",
		"bad.yaml:19: unknown clause id '9'",
		"bad.yaml:24: unknown data type 'shoe_size'",
		"bad.yaml:28: sdk: domain 'test.example' is already a first-party domain",
		"bad.yaml:30: third_parties: unknown purpose 'mind_reading'",
		"bad.yaml:34: third_parties: unknown key 'colour'",
	};
	for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
		if (!strstr(c.text, expected[i]))
			fail_msg("missing \"%s\" in:\n%s", expected[i], c.text);
	}
	assert_int_equal(c.diag.errors, 10);
	free(c.text);
}

static void test_missing_sections_and_syntax_errors(void **state)
{
	struct capture c;
	capture_start(&c);
	const char *empty = "policy:\n  app: X\n";
	assert_null(policy_load_buffer("empty.yaml", (const unsigned char *)empty, strlen(empty), &c.diag));
	capture_end(&c);
	assert_non_null(strstr(c.text, "empty.yaml:2: missing required 'version'"));
	assert_non_null(strstr(c.text, "empty.yaml:2: missing required 'source'"));
	assert_non_null(strstr(c.text, "empty.yaml:1: missing required 'clauses'"));
	assert_non_null(strstr(c.text, "empty.yaml:1: missing required 'promises'"));
	assert_int_equal(c.diag.errors, 4);
	free(c.text);

	capture_start(&c);
	const char *broken = "policy:\n  app: X\nclauses: [\n  - id: 1\n";
	assert_null(policy_load_buffer("broken.yaml", (const unsigned char *)broken, strlen(broken), &c.diag));
	capture_end(&c);
	assert_non_null(strstr(c.text, "broken.yaml:"));
	assert_non_null(strstr(c.text, "YAML syntax error"));
	assert_int_equal(c.diag.errors, 1);
	free(c.text);

	capture_start(&c);
	assert_null(policy_load_buffer("scalar.yaml", (const unsigned char *)"42", 2, &c.diag));
	assert_null(policy_load_buffer("nothing.yaml", (const unsigned char *)"", 0, &c.diag));
	assert_null(policy_load(PA_TEST_DATA "/no/such/policy.yaml", &c.diag));
	capture_end(&c);
	assert_int_equal(c.diag.errors, 3);
	free(c.text);
}

/* A file written to disk: errors name the real path. */
static void test_bad_policy_file_on_disk(void **state)
{
	char dir[] = "/tmp/pa-policy-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/p.yaml", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(bad_policy, f);
	fclose(f);
	struct capture c;
	capture_start(&c);
	assert_null(policy_load(path, &c.diag));
	capture_end(&c);
	char want[160];
	snprintf(want, sizeof want, "%s:24: unknown data type 'shoe_size'", path);
	assert_non_null(strstr(c.text, want));
	assert_int_equal(c.diag.errors, 10);
	free(c.text);
	remove(path);
	rmdir(dir);
}

static void test_vocabulary(void **state)
{
	static const char *const shared[] = {"imei", "meid", "imsi", "iccid", "serial", "android_id",
		"oaid", "gaid", "idfa", "idfv", "mac", "wifi_mac", "bssid", "ssid", "phone", "email",
		"location", "cell_id", "app_list", "contacts", "ip"};
	for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++)
		assert_true(policy_is_data_type(shared[i]));
	assert_false(policy_is_data_type("device_id")); /* a group, not a type */
	assert_false(policy_is_data_type("IMEI"));
	assert_true(policy_is_purpose("push"));
	assert_false(policy_is_purpose("Push"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lanxin_loads_with_its_facts),
		cmocka_unit_test(test_lanxin_xiaomi_push_scope),
		cmocka_unit_test(test_lanxin_first_party_and_types),
		cmocka_unit_test(test_lanhu_declares_no_third_party),
		cmocka_unit_test(test_domain_pattern_semantics),
		cmocka_unit_test(test_bad_policy_reports_every_error_at_its_line),
		cmocka_unit_test(test_missing_sections_and_syntax_errors),
		cmocka_unit_test(test_bad_policy_file_on_disk),
		cmocka_unit_test(test_vocabulary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
