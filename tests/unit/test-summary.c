/* test-summary.c — the audit summary's recipient tallies are bounded: the
 * first --max-recipients recipients are tallied by name, exactly, for the
 * whole audit; the flows of every later recipient are summed in
 * summary.recipients_others, so no flow and no byte is lost from the totals
 * and a flood of distinct addresses cannot grow report.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <netinet/in.h>
#include <string.h>

#include "report/summary.h"

/* One ended flow from the device (src) to 198.51.100.<host>, named name
 * when name is not NULL. */
static void add_flow(struct summary *s, int host, const char *name, uint64_t up, uint64_t down)
{
	struct flow f = {0};
	f.src.family = 4;
	memcpy(f.src.bytes, (uint8_t[]){10, 0, 0, 2}, 4);
	f.dst.family = 4;
	memcpy(f.dst.bytes, (uint8_t[]){198, 51, 100, (uint8_t)host}, 4);
	f.proto = IPPROTO_TCP;
	f.device_side = DEVICE_SIDE_SRC;
	f.ip_bytes[PA_DIR_FROM_SRC] = up;
	f.ip_bytes[PA_DIR_FROM_DST] = down;
	struct classify_result cls = {0};
	strcpy(cls.app_protocol, "TLS");
	struct geo_result geo = {0};
	strcpy(geo.jurisdiction, "foreign:US");
	struct flow_record r = {.flow = &f, .why = FLOW_END_CLOSED, .cls = &cls, .geo = &geo,
				.hostname = name ? name : ""};
	summary_add_flow(s, &r);
}

static json_int_t member(const json_t *o, const char *path1, const char *path2)
{
	const json_t *v = json_object_get(o, path1);
	assert_non_null(v);
	if (path2)
		v = json_object_get(v, path2);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static void bounded_recipients_keep_every_flow(void **state)
{
	(void)state;
	struct summary *s = summary_new(3);
	add_flow(s, 1, "a.example", 100, 10);
	add_flow(s, 2, NULL, 200, 20);          /* named by its address */
	add_flow(s, 3, "c.example", 300, 30);
	add_flow(s, 4, "d.example", 400, 40);   /* past the bound: others */
	add_flow(s, 5, NULL, 500, 50);          /* past the bound: others */
	add_flow(s, 1, "a.example", 1000, 100); /* a tallied recipient stays exact */
	add_flow(s, 4, "d.example", 4000, 400); /* still others */

	struct flow_stats fs = {0};
	struct decode_stats ds = {0};
	struct audit_totals totals = {0};
	struct summary_inputs in = {.totals = &totals, .decode = &ds, .flows = &fs};
	json_t *j = summary_json(s, &in);
	const json_t *rec = json_object_get(j, "recipients");
	assert_int_equal(json_object_size(rec), 3);
	assert_int_equal(member(rec, "a.example", "flows"), 2);
	assert_int_equal(member(json_object_get(rec, "a.example"), "bytes_up", NULL), 1100);
	assert_non_null(json_object_get(rec, "198.51.100.2"));
	assert_non_null(json_object_get(rec, "c.example"));
	assert_null(json_object_get(rec, "d.example"));

	const json_t *others = json_object_get(j, "recipients_others");
	assert_int_equal(member(others, "flows", NULL), 3);
	assert_int_equal(member(others, "bytes_up", NULL), 400 + 500 + 4000);
	assert_int_equal(member(others, "bytes_down", NULL), 40 + 50 + 400);
	assert_int_equal(member(others, "max_recipients", NULL), 3);
	assert_int_equal(member(others, "protocols", "TLS"), 3);
	json_decref(j);
	summary_free(s);
}

static void default_bound_and_empty_others(void **state)
{
	(void)state;
	struct summary *s = summary_new(0);
	add_flow(s, 1, "a.example", 1, 1);
	struct flow_stats fs = {0};
	struct decode_stats ds = {0};
	struct audit_totals totals = {0};
	struct summary_inputs in = {.totals = &totals, .decode = &ds, .flows = &fs};
	json_t *j = summary_json(s, &in);
	const json_t *others = json_object_get(j, "recipients_others");
	assert_int_equal(member(others, "flows", NULL), 0);
	assert_int_equal(member(others, "max_recipients", NULL), SUMMARY_DEFAULT_MAX_RECIPIENTS);
	json_decref(j);
	summary_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bounded_recipients_keep_every_flow),
		cmocka_unit_test(default_bound_and_empty_others),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
