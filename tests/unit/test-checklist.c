/* test-checklist.c — the checklist of 《App违法违规收集使用个人信息行为认定方法》:
 * the data file has the document's six categories and 31 items, every item
 * the rules test names real rules, the binary carries the same list, a
 * broken file is reported as file:line, and report.html gives each item
 * the result the findings and verdicts support. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/checklist.h"
#include "report/report_html.h"

#define CHECKLIST_FILE PA_SOURCE_DIR "/policies/checklists/rendingfangfa.yaml"
#define FIXTURE PA_TEST_DATA "/report/lanxin-leaky.json"

static void test_file_has_the_documents_items(void **state)
{
	(void)state;
	struct pa_diag diag = {.out = stderr};
	struct checklist *c = checklist_load(CHECKLIST_FILE, NULL, 0, &diag);
	assert_non_null(c);
	assert_int_equal(diag.errors, 0);
	/* 一 4, 二 4, 三 9, 四 6, 五 3, 六 5: 31 items. */
	static const char *const numbers[] = {"一", "二", "三", "四", "五", "六"};
	static const size_t counts[] = {4, 4, 9, 6, 3, 5};
	assert_int_equal(c->category_count, 6);
	assert_int_equal(c->item_count, 31);
	for (size_t i = 0; i < 6; i++) {
		assert_string_equal(c->categories[i].number, numbers[i]);
		assert_int_equal(c->categories[i].count, counts[i]);
	}
	assert_string_equal(c->categories[2].title_zh, "未经用户同意收集使用个人信息");
	size_t by_rules = 0;
	for (size_t i = 0; i < c->item_count; i++) {
		const struct checklist_item *it = &c->items[i];
		assert_true(it->text_zh[0] && it->text_en[0] && it->how_zh[0] && it->how_en[0]);
		if (it->traffic == CHECK_BY_RULES)
			by_rules++;
		else
			assert_int_equal(it->rule_count, 0);
	}
	/* 二.1, 三.1, 三.3, 三.9, 五.1, 五.3 */
	assert_int_equal(by_rules, 6);
	/* 三.1 collecting before consent is the before-consent rule's. */
	const struct checklist_item *before = &c->items[c->categories[2].first];
	assert_int_equal(before->number, 1);
	assert_int_equal(before->traffic, CHECK_BY_RULES);
	assert_string_equal(before->rules[0], "before-consent");

	/* The binary carries this very file. */
	const struct checklist *b = checklist_builtin();
	assert_int_equal(b->item_count, c->item_count);
	for (size_t i = 0; i < c->item_count; i++) {
		assert_string_equal(b->items[i].text_zh, c->items[i].text_zh);
		assert_int_equal(b->items[i].traffic, c->items[i].traffic);
		assert_int_equal(b->items[i].rule_count, c->items[i].rule_count);
	}
	checklist_free(c);
}

static size_t errors_of(const char *yaml, char *out, size_t len)
{
	FILE *mem = fmemopen(out, len, "w");
	struct pa_diag diag = {.out = mem};
	struct checklist *c = checklist_load("bad.yaml", (const unsigned char *)yaml, strlen(yaml), &diag);
	fclose(mem);
	if (c)
		assert_int_equal(diag.errors, 0);
	checklist_free(c);
	return diag.errors;
}

static void test_broken_file_is_reported_by_line(void **state)
{
	(void)state;
	char msg[2048];
	const char *head = "document: {title_zh: t, title_en: t, reference: r}\ncategories:\n"
			   "  - number: 一\n    title_zh: t\n    title_en: t\n    items:\n";
	char doc[2048];
	snprintf(doc, sizeof doc, "%s      - {number: 1, text_zh: a, text_en: a, verified: exact, "
		 "traffic: rules, rules: [no-such-rule], how_zh: h, how_en: h}\n", head);
	assert_int_equal(errors_of(doc, msg, sizeof msg), 1);
	assert_non_null(strstr(msg, "bad.yaml:7:"));
	assert_non_null(strstr(msg, "'no-such-rule' is not a rule id"));

	snprintf(doc, sizeof doc, "%s      - {number: 2, text_zh: a, text_en: a, verified: exact, "
		 "traffic: manual, how_zh: h, how_en: h}\n", head);
	assert_int_equal(errors_of(doc, msg, sizeof msg), 1);
	assert_non_null(strstr(msg, "item 2 follows item 0"));

	snprintf(doc, sizeof doc, "%s      - {number: 1, text_zh: a, text_en: a, verified: maybe, "
		 "traffic: rules, how_zh: h, how_en: h, colour: red}\n", head);
	assert_int_equal(errors_of(doc, msg, sizeof msg), 3);
	assert_non_null(strstr(msg, "unknown key 'colour'"));
	assert_non_null(strstr(msg, "verified is exact, meaning or unchecked, not 'maybe'"));
	assert_non_null(strstr(msg, "needs a list of rule ids"));
}

/* ---- results on the page ------------------------------------------------------ */

static char *render(const json_t *report)
{
	struct pa_error err = {{0}};
	char *page = report_html_render(report, &err);
	assert_non_null(page);
	return page;
}

/* The result cell of one item's row ("三.1"), copied (caller frees). */
static char *row_of(const char *page, const char *item)
{
	char key[64];
	snprintf(key, sizeof key, "<td class=\"mono\">%s</td>", item);
	const char *start = strstr(page, key);
	if (!start)
		fail_msg("no checklist row %s", item);
	const char *end = strstr(start, "</tr>");
	assert_non_null(end);
	return strndup(start, (size_t)(end - start));
}

static void assert_row(const char *page, const char *item, const char *result, const char *also)
{
	char *row = row_of(page, item);
	if (!strstr(row, result))
		fail_msg("row %s is not \"%s\": %s", item, result, row);
	if (also && !strstr(row, also))
		fail_msg("row %s lacks \"%s\": %s", item, also, row);
	free(row);
}

static json_t *load_fixture(void)
{
	json_error_t jerr;
	json_t *r = json_load_file(FIXTURE, 0, &jerr);
	if (!r)
		fail_msg("%s:%d: %s", FIXTURE, jerr.line, jerr.text);
	return r;
}

static json_t *promise(json_t *report, const char *id)
{
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(report, "promises"), i, p)
		if (!strcmp(json_string_value(json_object_get(p, "promise")), id))
			return p;
	fail_msg("no promise %s", id);
	return NULL;
}

static void test_results_follow_the_findings(void **state)
{
	(void)state;
	json_t *r = load_fixture();
	char *page = render(r);
	/* Undeclared recipients (F0010) break 二.1 and 五.1 and 五.3. */
	assert_row(page, "二.1", "违反 violated", "#f-9\">F0010</a>");
	assert_row(page, "五.1", "违反 violated", "F0010");
	assert_row(page, "三.9", "违反 violated", "F0001");
	/* No consent moment: 三.1 cannot be decided, and says why. */
	assert_row(page, "三.1", "无法验证 not verifiable", "--consent-at");
	assert_row(page, "四.4", "需审计人判断", NULL);
	assert_row(page, "一.1", "非流量可测 manual check", "Check the app");
	/* The header counts the items violated: 二.1, 三.3, 三.9, 五.1, 五.3. */
	if (!strstr(page, ">5</a><span class=\"muted\" style=\"font-size:.6em\"> / 31</span></div>"
			  "<div class=\"l\">违反的认定方法条目 Checklist items violated"))
		fail_msg("the header does not count 5 of 31 checklist items violated");
	free(page);

	/* Consent kept (a consent moment, nothing before it): not found. */
	json_object_set_new(r, "consent_at", json_string("2026-11-23T16:34:59Z"));
	json_t *consent = promise(r, "consent");
	json_object_set_new(consent, "status", json_string("kept"));
	page = render(r);
	assert_row(page, "三.1", "未发现 not found", NULL);
	free(page);

	/* A conclusive before-consent finding: violated, linked. */
	json_t *f = json_deep_copy(json_array_get(json_object_get(r, "findings"), 0));
	json_object_set_new(f, "id", json_string("F0099"));
	json_object_set_new(f, "rule", json_string("before-consent"));
	json_array_append_new(json_object_get(r, "findings"), f);
	size_t last = json_array_size(json_object_get(r, "findings")) - 1;
	char link[64];
	snprintf(link, sizeof link, "#f-%zu\">F0099</a>", last);
	page = render(r);
	assert_row(page, "三.1", "违反 violated", link);
	free(page);

	/* Without a policy nothing the rules test can be decided. */
	json_object_set_new(r, "policy", json_null());
	json_object_set_new(r, "promises", json_array());
	json_object_set_new(r, "findings", json_array());
	page = render(r);
	assert_row(page, "二.1", "无法验证 not verifiable", "No policy was given");
	free(page);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_has_the_documents_items),
		cmocka_unit_test(test_broken_file_is_reported_by_line),
		cmocka_unit_test(test_results_follow_the_findings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
