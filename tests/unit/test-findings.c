/* test-findings.c — the policy engine's rules on crafted observation and flow
 * sequences against the shipped Lanxin and Lanhu policies: each rule fires
 * on its case, stays quiet on the clean counterpart, cites the right clause,
 * deduplicates, and the verdicts and report JSON follow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/findings.h"

#define CATALOGUE PA_SOURCE_DIR "/signatures/recipients.yaml"
#define LANXIN PA_SOURCE_DIR "/policies/lanxin.yaml"
#define LANHU PA_SOURCE_DIR "/policies/lanhu.yaml"

#define T0 1700000000000000LL /* µs */

struct fixture {
	struct policy *p;
	struct recipients *r;
	struct findings *fs;
	struct geo_result geo[4];
	size_t raised_callbacks;
};

static void on_finding(void *ctx, const struct finding *f)
{
	struct fixture *fx = ctx;
	fx->raised_callbacks++;
	assert_true(f->raised);
	assert_true(f->id[0] == 'F');
}

static struct fixture *setup(const char *policy_path, int64_t consent_at, bool lab)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	struct pa_diag diag = {.out = stderr};
	if (policy_path) {
		fx->p = policy_load(policy_path, &diag);
		assert_non_null(fx->p);
	}
	fx->r = recipients_load(CATALOGUE, &diag);
	assert_non_null(fx->r);
	struct findings_config cfg = {
		.consent_at_us = consent_at,
		.lab_known = lab,
		.lab_lat = 39.9087,
		.lab_lon = 116.3975,
		.on_finding = on_finding,
		.ctx = fx,
	};
	struct pa_error err = {{0}};
	fx->fs = findings_new(fx->p, fx->r, &cfg, &err);
	assert_non_null(fx->fs);
	return fx;
}

static void teardown(struct fixture *fx)
{
	findings_free(fx->fs);
	policy_free(fx->p);
	recipients_free(fx->r);
	free(fx);
}

static const struct geo_result *geo(struct fixture *fx, int slot, const char *country)
{
	struct geo_result *g = &fx->geo[slot];
	memset(g, 0, sizeof *g);
	snprintf(g->country, sizeof g->country, "%s", country);
	if (!strcmp(country, "CN") || !strcmp(country, "HK"))
		snprintf(g->jurisdiction, sizeof g->jurisdiction, "%s", country);
	else
		snprintf(g->jurisdiction, sizeof g->jurisdiction, "foreign:%s", country);
	return g;
}

/* A device-initiated TCP flow from 10.66.0.2 to dst, with a handshake RTT. */
static struct flow make_flow(uint64_t id, const char *dst, const struct geo_result *g, double rtt_ms)
{
	struct flow f;
	memset(&f, 0, sizeof f);
	f.id = id;
	assert_true(pa_addr_parse("10.66.0.2", &f.src));
	assert_true(pa_addr_parse(dst, &f.dst));
	f.sport = (uint16_t)(40000 + id);
	f.dport = 443;
	f.proto = IPPROTO_TCP;
	f.device_side = DEVICE_SIDE_SRC;
	f.first_packet = id * 100;
	f.ts_first = T0 + (int64_t)id * 1000;
	f.ts_syn = f.ts_first;
	f.ts_synack = rtt_ms >= 0 ? f.ts_syn + (int64_t)(rtt_ms * 1000) : 0;
	f.geo = g;
	f.packets[0] = 10;
	f.ip_bytes[0] = 5000;
	f.ip_bytes[1] = 9000;
	return f;
}

static void observe(struct fixture *fx, const struct flow *f, const char *host, const char *type,
		    const char *protocol, uint64_t packet, int64_t ts)
{
	struct pa_observation o;
	memset(&o, 0, sizeof o);
	o.type = type;
	o.source = "device";
	o.encoding = "md5-lower";
	o.protocol = protocol;
	snprintf(o.field, sizeof o.field, "http.form:%s", type);
	o.flow_id = f->id;
	o.packet = packet;
	o.ts_us = ts;
	snprintf(o.value, sizeof o.value, "value");
	char ip[48];
	pa_addr_str(&f->dst, ip, sizeof ip);
	struct observation_record rec = {
		.obs = &o,
		.hostname = host,
		.jurisdiction = f->geo ? f->geo->jurisdiction : "unknown",
		.dst_ip = ip,
		.dst_port = f->dport,
	};
	findings_observation(fx->fs, &rec, f);
}

static void end_flow(struct fixture *fx, const struct flow *f, const char *host, uint64_t encrypted_up)
{
	struct flow_app_info app;
	memset(&app, 0, sizeof app);
	app.kind = APP_TLS;
	app.bytes[PA_DIR_FROM_SRC].encrypted = encrypted_up;
	struct classify_result cls;
	memset(&cls, 0, sizeof cls);
	struct flow_record rec = {.flow = f, .why = FLOW_END_CLOSED, .cls = &cls, .geo = f->geo,
				  .hostname = host, .hostname_source = HOSTNAME_SNI, .app = &app};
	findings_flow_end(fx->fs, &rec);
}

static const struct finding *find(const struct fixture *fx, enum finding_rule rule, const char *type)
{
	const struct finding *hit = NULL;
	for (size_t i = 0; i < findings_count(fx->fs); i++) {
		const struct finding *f = findings_at(fx->fs, i);
		if (f->rule == rule && (!type || !strcmp(f->data_type, type))) {
			assert_null(hit); /* deduplicated: one per key in these tests */
			hit = f;
		}
	}
	return hit;
}

static size_t count_rule(const struct fixture *fx, enum finding_rule rule)
{
	size_t n = 0;
	for (size_t i = 0; i < findings_count(fx->fs); i++)
		n += findings_at(fx->fs, i)->rule == rule;
	return n;
}

static const struct promise_verdict *promise(const struct fixture *fx, const char *name)
{
	for (size_t i = 0; i < findings_promise_count(fx->fs); i++)
		if (!strcmp(findings_promise_at(fx->fs, i)->promise, name))
			return findings_promise_at(fx->fs, i);
	fail_msg("no promise %s", name);
	return NULL;
}

/* ---- Lanxin + Xiaomi push: declared scope ---------------------------------- */

static void test_declared_imei_to_xiaomi_push_is_clean(void **state)
{
	struct fixture *fx = setup(LANXIN, T0, true);
	struct flow f = make_flow(1, "203.0.113.10", geo(fx, 0, "CN"), 20);
	observe(fx, &f, "cn.register.xmpush.xiaomi.com", "imei", "tls-decrypted", 105, T0 + 5000);
	end_flow(fx, &f, "cn.register.xmpush.xiaomi.com", 0);
	findings_finish(fx->fs);
	assert_int_equal(findings_count(fx->fs), 0);
	assert_int_equal(findings_violations(fx->fs), 0);
	assert_int_equal(fx->raised_callbacks, 0);
	/* The datum still counts in the frequency table. */
	assert_int_equal(findings_frequency_count(fx->fs), 1);
	const struct frequency_row *row = findings_frequency_at(fx->fs, 0);
	assert_string_equal(row->recipient, "xiaomi-push");
	assert_int_equal(row->recipient_kind, RECIPIENT_THIRD_PARTY);
	assert_string_equal(row->data_type, "imei");
	assert_int_equal(row->count, 1);
	assert_int_equal(promise(fx, "residency")->status, PROMISE_KEPT);
	assert_int_equal(promise(fx, "scope")->status, PROMISE_KEPT);
	assert_int_equal(promise(fx, "consent")->status, PROMISE_KEPT);
	teardown(fx);
}

static void test_mac_to_xiaomi_push_is_beyond_scope(void **state)
{
	struct fixture *fx = setup(LANXIN, T0, true);
	struct flow f = make_flow(1, "203.0.113.10", geo(fx, 0, "CN"), 20);
	observe(fx, &f, "cn.register.xmpush.xiaomi.com", "imei", "tls-decrypted", 105, T0 + 5000);
	observe(fx, &f, "cn.register.xmpush.xiaomi.com", "mac", "tls-decrypted", 105, T0 + 5000);
	observe(fx, &f, "cn.register.xmpush.xiaomi.com", "mac", "tls-decrypted", 107, T0 + 6000);
	findings_finish(fx->fs);
	assert_int_equal(findings_count(fx->fs), 1);
	const struct finding *f1 = find(fx, RULE_BEYOND_SCOPE, "mac");
	assert_non_null(f1);
	assert_string_equal(f1->id, "F0001");
	assert_int_equal(f1->strength, FINDING_CONCLUSIVE);
	assert_string_equal(f1->clause->id, "三/小米");
	assert_non_null(strstr(f1->clause->quote, "设备标识符"));
	assert_string_equal(f1->recipient, "xiaomi-push");
	assert_int_equal(f1->recipient_kind, RECIPIENT_THIRD_PARTY);
	/* Deduplicated: both observations, both packets, one flow. */
	assert_int_equal(f1->count, 2);
	assert_int_equal(f1->obs_count, 2);
	assert_int_equal(f1->packet_count, 2);
	assert_int_equal(f1->packets[0], 105);
	assert_int_equal(f1->packets[1], 107);
	assert_int_equal(f1->flow_count, 1);
	assert_int_equal(f1->flows[0], 1);
	assert_int_equal(f1->first_ts, T0 + 5000);
	assert_int_equal(f1->last_ts, T0 + 6000);
	assert_int_equal(fx->raised_callbacks, 1); /* raised once, at the first datum */
	assert_int_equal(promise(fx, "scope")->status, PROMISE_CONTRADICTED);
	assert_int_equal(promise(fx, "scope")->conclusive, 1);
	teardown(fx);
}

/* ---- residency -------------------------------------------------------------- */

static void test_xiaomi_global_in_singapore_is_residency(void **state)
{
	struct fixture *fx = setup(LANXIN, T0, true);
	struct flow f = make_flow(2, "198.51.100.7", geo(fx, 0, "SG"), 80);
	observe(fx, &f, "register.xmpush.global.xiaomi.com", "imei", "tls-decrypted", 205, T0 + 9000);
	findings_finish(fx->fs);
	const struct finding *r = find(fx, RULE_RESIDENCY, "imei");
	assert_non_null(r);
	assert_int_equal(r->strength, FINDING_CONCLUSIVE);
	assert_string_equal(r->jurisdiction, "foreign:SG");
	assert_string_equal(r->clause->id, "一(一)2/境内");
	assert_int_equal(r->clauses->count, 2);
	assert_string_equal(r->geo.country, "SG");
	assert_string_equal(r->geo.source, "geoip");
	/* 80 ms is plenty for Beijing → Singapore (~4,400 km, bound ~44 ms). */
	assert_int_equal(r->geo.plaus.verdict, PLAUS_CONSISTENT);
	assert_true(r->geo.plaus.bound_ms > 30 && r->geo.plaus.bound_ms < 50);
	/* The global endpoint is xiaomi-push-global, linked to the declared party. */
	assert_string_equal(r->recipient, "xiaomi-push");
	assert_null(find(fx, RULE_UNDECLARED_RECIPIENT, NULL));
	assert_int_equal(promise(fx, "residency")->status, PROMISE_CONTRADICTED);
	teardown(fx);
}

static void test_residency_lowered_when_rtt_rules_out_country(void **state)
{
	struct fixture *fx = setup(LANXIN, T0, true);
	/* 3 ms from Beijing cannot reach the United States (> 4,000 km). */
	struct flow f = make_flow(3, "192.0.2.50", geo(fx, 0, "US"), 3);
	observe(fx, &f, "register.xmpush.global.xiaomi.com", "imei", "tls-decrypted", 305, T0 + 9000);
	end_flow(fx, &f, "register.xmpush.global.xiaomi.com", 0);
	findings_finish(fx->fs);
	const struct finding *r = find(fx, RULE_RESIDENCY, "imei");
	assert_non_null(r);
	assert_int_equal(r->strength, FINDING_INDICATIVE);
	assert_int_equal(r->geo.plaus.verdict, PLAUS_CONTRADICTED);
	assert_true(r->geo.plaus.rtt_ms > 2.9 && r->geo.plaus.rtt_ms < 3.1);
	assert_true(r->geo.plaus.distance_km > 3000);
	assert_true(r->geo.plaus.bound_ms > 30);
	assert_non_null(strstr(r->reason, "physically implausible"));
	const struct plausibility_summary *s = findings_plausibility(fx->fs);
	assert_int_equal(s->contradicted, 1);
	assert_int_equal(s->row_count, 1);
	assert_int_equal(s->rows[0].flow_id, 3);
	assert_string_equal(s->rows[0].dst_ip, "192.0.2.50");
	/* Only indicative: the residency promise is not verifiable, not contradicted. */
	assert_int_equal(promise(fx, "residency")->status, PROMISE_NOT_VERIFIABLE);
	teardown(fx);
}

/* Two country databases, two answers: the finding names both, and stays
 * conclusive only when the handshake RTT rules out the other one. */
static const struct geo_result *conflicting(struct fixture *fx, int slot, const char *chosen,
					    const char *other)
{
	struct geo_result *g = (struct geo_result *)geo(fx, slot, chosen);
	g->conflict = true;
	g->answer_count = 2;
	snprintf(g->answers[0], 3, "%s", chosen);
	snprintf(g->answers[1], 3, "%s", other);
	g->asn = 45102;
	snprintf(g->as_org, sizeof g->as_org, "Alibaba US Technology Co., Ltd.");
	return g;
}

static void test_residency_geoip_conflict(void **state)
{
	/* SG and US both reachable in 200 ms from Beijing: not settled. */
	struct fixture *fx = setup(LANXIN, T0, true);
	struct flow f = make_flow(5, "47.74.10.10", conflicting(fx, 0, "SG", "US"), 200);
	observe(fx, &f, "register.xmpush.global.xiaomi.com", "imei", "tls-decrypted", 505, T0 + 9000);
	end_flow(fx, &f, "register.xmpush.global.xiaomi.com", 0);
	findings_finish(fx->fs);
	const struct finding *r = find(fx, RULE_RESIDENCY, "imei");
	assert_non_null(r);
	assert_int_equal(r->strength, FINDING_INDICATIVE);
	assert_string_equal(r->geo.ip, "47.74.10.10");
	assert_int_equal(r->geo.asn, 45102);
	assert_int_equal(r->geo.answer_count, 2);
	assert_string_equal(r->geo.answers[1], "US");
	assert_true(r->geo.conflict);
	assert_false(r->geo.conflict_settled);
	assert_non_null(strstr(r->reason, "GeoIP databases disagree (SG, US)"));
	json_t *j = finding_json(r);
	json_t *g = json_object_get(j, "geo");
	assert_string_equal(json_string_value(json_object_get(g, "ip")), "47.74.10.10");
	assert_int_equal(json_integer_value(json_object_get(g, "asn")), 45102);
	assert_int_equal(json_array_size(json_object_get(g, "answers")), 2);
	assert_true(json_is_true(json_object_get(g, "conflict")));
	json_decref(j);
	teardown(fx);

	/* No RTT measured: nothing settles it either. */
	fx = setup(LANXIN, T0, true);
	f = make_flow(6, "47.74.10.10", conflicting(fx, 0, "SG", "US"), -1);
	observe(fx, &f, "register.xmpush.global.xiaomi.com", "imei", "tls-decrypted", 605, T0 + 9000);
	end_flow(fx, &f, "register.xmpush.global.xiaomi.com", 0);
	findings_finish(fx->fs);
	assert_int_equal(find(fx, RULE_RESIDENCY, "imei")->strength, FINDING_INDICATIVE);
	teardown(fx);

	/* 60 ms reaches Singapore but not Brazil and back: the RTT settles it. */
	fx = setup(LANXIN, T0, true);
	f = make_flow(7, "47.74.10.10", conflicting(fx, 0, "SG", "BR"), 60);
	observe(fx, &f, "register.xmpush.global.xiaomi.com", "imei", "tls-decrypted", 705, T0 + 9000);
	end_flow(fx, &f, "register.xmpush.global.xiaomi.com", 0);
	findings_finish(fx->fs);
	r = find(fx, RULE_RESIDENCY, "imei");
	assert_int_equal(r->strength, FINDING_CONCLUSIVE);
	assert_true(r->geo.conflict);
	assert_true(r->geo.conflict_settled);
	assert_non_null(strstr(r->reason, "the handshake RTT rules out the others"));
	teardown(fx);
}

static void test_override_file_replaces_geoip(void **state)
{
	char path[] = "/tmp/test-findings-override-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "# lab ranges\n198.51.100.0/24 CN\n\n2001:db8::/32 CN  # v6\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);

	struct pa_diag diag = {.out = stderr};
	struct policy *p = policy_load(LANXIN, &diag);
	struct recipients *r = recipients_load(CATALOGUE, &diag);
	struct findings_config cfg = {.consent_at_us = T0, .country_overrides = path};
	struct pa_error err = {{0}};
	struct fixture fx = {.p = p, .r = r};
	fx.fs = findings_new(p, r, &cfg, &err);
	assert_non_null(fx.fs);
	assert_int_equal(findings_plausibility(fx.fs)->overrides, 2);
	struct flow f = make_flow(2, "198.51.100.7", geo(&fx, 0, "SG"), 80);
	observe(&fx, &f, "register.xmpush.global.xiaomi.com", "imei", "tls-decrypted", 205, T0 + 9000);
	end_flow(&fx, &f, "register.xmpush.global.xiaomi.com", 0);
	findings_finish(fx.fs);
	assert_int_equal(findings_count(fx.fs), 0);
	assert_string_equal(findings_flow(fx.fs, 2)->country_source, "override");
	assert_string_equal(findings_jurisdiction_at(fx.fs, 0)->jurisdiction, "CN");
	findings_free(fx.fs);

	/* A bad line stops the run with file:line. */
	fd = open(path, O_WRONLY | O_TRUNC);
	const char *bad = "198.51.100.0/24 CN\n198.51.100.0/40 CN\nnot-an-ip XX\n";
	assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
	close(fd);
	assert_null(findings_new(p, r, &cfg, &err));
	assert_non_null(strstr(err.msg, "2 error(s)"));
	unlink(path);
	policy_free(p);
	recipients_free(r);
}

static void test_unverified_transfer_abroad(void **state)
{
	struct fixture *fx = setup(LANXIN, T0, true);
	struct flow big = make_flow(4, "198.51.100.9", geo(fx, 0, "SG"), 80);
	end_flow(fx, &big, "register.xmpush.global.xiaomi.com", 200000);
	struct flow small = make_flow(5, "198.51.100.9", geo(fx, 1, "SG"), 80);
	end_flow(fx, &small, "register.xmpush.global.xiaomi.com", 1000);
	struct flow home = make_flow(6, "203.0.113.9", geo(fx, 2, "CN"), 10);
	end_flow(fx, &home, "www.lanxin.cn", 500000);
	findings_finish(fx->fs);
	assert_int_equal(findings_count(fx->fs), 1);
	const struct finding *r = find(fx, RULE_RESIDENCY, "");
	assert_non_null(r);
	assert_int_equal(r->strength, FINDING_INDICATIVE);
	assert_non_null(strstr(r->reason, "unverified transfer abroad"));
	assert_non_null(strstr(r->reason, "200000 bytes"));
	assert_int_equal(r->flow_count, 1);
	assert_int_equal(r->flows[0], 4);
	assert_int_equal(r->packets[0], 400); /* the flow's first packet */
	assert_non_null(findings_flow(fx->fs, 4));
	const struct uninspected *u = findings_uninspected(fx->fs);
	assert_int_equal(u->flows, 3);
	assert_int_equal(u->encrypted_up, 701000);
	assert_int_equal(findings_jurisdiction_count(fx->fs), 2);
	teardown(fx);
}

/* ---- encryption ------------------------------------------------------------- */

static void test_cleartext_http_is_encryption_finding(void **state)
{
	struct fixture *fx = setup(LANXIN, T0, true);
	struct flow f = make_flow(7, "203.0.113.10", geo(fx, 0, "CN"), 20);
	observe(fx, &f, "cn.register.xmpush.xiaomi.com", "imei", "http", 705, T0 + 5000);
	struct flow g = make_flow(8, "203.0.113.10", geo(fx, 1, "CN"), 20);
	observe(fx, &g, "cn.register.xmpush.xiaomi.com", "imei", "tls-decrypted", 805, T0 + 6000);
	findings_finish(fx->fs);
	assert_int_equal(findings_count(fx->fs), 1);
	const struct finding *e = find(fx, RULE_ENCRYPTION, "imei");
	assert_non_null(e);
	assert_int_equal(e->strength, FINDING_CONCLUSIVE);
	assert_string_equal(e->clause->id, "七.2");
	assert_int_equal(e->flow_count, 1);
	assert_int_equal(e->flows[0], 7);
	assert_non_null(strstr(e->reason, "cleartext (http"));
	assert_int_equal(promise(fx, "encryption")->status, PROMISE_CONTRADICTED);
	teardown(fx);
}

/* ---- consent ---------------------------------------------------------------- */

static void test_before_consent_with_consent_at(void **state)
{
	struct fixture *fx = setup(LANXIN, T0 + 10000, true);
	struct flow f = make_flow(9, "203.0.113.10", geo(fx, 0, "CN"), 20);
	observe(fx, &f, "www.lanxin.cn", "imei", "tls-decrypted", 905, T0 + 9999);
	observe(fx, &f, "www.lanxin.cn", "imei", "tls-decrypted", 906, T0 + 10000);
	observe(fx, &f, "www.lanxin.cn", "android_id", "tls-decrypted", 907, T0 + 20000);
	findings_finish(fx->fs);
	assert_int_equal(findings_count(fx->fs), 1);
	const struct finding *c = find(fx, RULE_BEFORE_CONSENT, "imei");
	assert_non_null(c);
	assert_int_equal(c->count, 1);
	assert_int_equal(c->packets[0], 905);
	assert_string_equal(c->clause->id, "序言");
	assert_int_equal(c->recipient_kind, RECIPIENT_FIRST_PARTY);
	assert_int_equal(fx->raised_callbacks, 1);
	teardown(fx);
}

static void test_before_consent_marker_settles_pending(void **state)
{
	struct fixture *fx = setup(LANXIN, 0, true);
	struct flow f = make_flow(10, "203.0.113.10", geo(fx, 0, "CN"), 20);
	observe(fx, &f, "www.lanxin.cn", "imei", "tls-decrypted", 1005, T0 + 1000);
	observe(fx, &f, "www.lanxin.cn", "imei", "tls-decrypted", 1006, T0 + 2000);
	/* Waiting for the marker: nothing raised yet. */
	assert_int_equal(findings_count(fx->fs), 0);
	assert_int_equal(fx->raised_callbacks, 0);
	findings_consent(fx->fs, T0 + 3000);
	assert_int_equal(findings_count(fx->fs), 1);
	assert_int_equal(fx->raised_callbacks, 1);
	observe(fx, &f, "www.lanxin.cn", "imei", "tls-decrypted", 1007, T0 + 4000);
	findings_consent(fx->fs, T0 + 9000); /* only the first marker counts */
	assert_int_equal(findings_consent_at(fx->fs), T0 + 3000);
	findings_finish(fx->fs);
	const struct finding *c = find(fx, RULE_BEFORE_CONSENT, "imei");
	assert_int_equal(c->count, 2);
	assert_non_null(strstr(c->reason, "consent marker at"));
	assert_int_equal(promise(fx, "consent")->status, PROMISE_CONTRADICTED);
	teardown(fx);
}

static void test_no_consent_moment_is_not_verifiable(void **state)
{
	struct fixture *fx = setup(LANXIN, 0, true);
	struct flow f = make_flow(11, "203.0.113.10", geo(fx, 0, "CN"), 20);
	observe(fx, &f, "www.lanxin.cn", "imei", "tls-decrypted", 1105, T0 + 1000);
	findings_finish(fx->fs);
	assert_int_equal(findings_count(fx->fs), 0);
	assert_int_equal(findings_uninspected(fx->fs)->pending_before_consent, 1);
	const struct promise_verdict *v = promise(fx, "consent");
	assert_int_equal(v->status, PROMISE_NOT_VERIFIABLE);
	assert_non_null(strstr(v->why, "PRIVAUDIT-CONSENT"));
	teardown(fx);
}

/* ---- recipients --------------------------------------------------------------- */

static void test_lanhu_third_party_is_undeclared(void **state)
{
	struct fixture *fx = setup(LANHU, T0, true);
	struct flow f = make_flow(12, "203.0.113.10", geo(fx, 0, "CN"), 20);
	observe(fx, &f, "cn.register.xmpush.xiaomi.com", "imei", "tls-decrypted", 1205, T0 + 5000);
	struct flow w = make_flow(13, "203.0.113.11", geo(fx, 1, "CN"), 20);
	observe(fx, &w, "api.weibo.com", "android_id", "tls-decrypted", 1305, T0 + 6000);
	/* The first party receiving a declared identifier is fine. */
	struct flow own = make_flow(14, "203.0.113.12", geo(fx, 2, "CN"), 20);
	observe(fx, &own, "api.lanhuapp.com", "imei", "tls-decrypted", 1405, T0 + 7000);
	findings_finish(fx->fs);
	assert_int_equal(count_rule(fx, RULE_UNDECLARED_RECIPIENT), 2);
	const struct finding *x = NULL, *wb = NULL;
	for (size_t i = 0; i < findings_count(fx->fs); i++) {
		const struct finding *f1 = findings_at(fx->fs, i);
		if (f1->rule != RULE_UNDECLARED_RECIPIENT)
			continue;
		if (!strcmp(f1->recipient, "xiaomi-push"))
			x = f1;
		if (!strcmp(f1->recipient, "weibo"))
			wb = f1;
	}
	assert_non_null(x);
	assert_int_equal(x->strength, FINDING_CONCLUSIVE);
	assert_int_equal(x->recipient_kind, RECIPIENT_CATALOGUED);
	assert_string_equal(x->clause->id, "序言");
	assert_non_null(wb);
	assert_int_equal(wb->recipient_kind, RECIPIENT_MENTIONED);
	assert_string_equal(wb->clause->id, "4.6.2");
	assert_int_equal(findings_count(fx->fs), 2);
	assert_int_equal(promise(fx, "recipients")->status, PROMISE_CONTRADICTED);
	teardown(fx);
}

static void test_contact_without_data_is_indicative(void **state)
{
	struct fixture *fx = setup(LANHU, T0, true);
	struct flow f = make_flow(15, "203.0.113.10", geo(fx, 0, "CN"), 20);
	end_flow(fx, &f, "cn.register.xmpush.xiaomi.com", 100);
	struct flow own = make_flow(16, "203.0.113.12", geo(fx, 1, "CN"), 20);
	end_flow(fx, &own, "api.lanhuapp.com", 100);
	findings_finish(fx->fs);
	assert_int_equal(findings_count(fx->fs), 1);
	const struct finding *c = find(fx, RULE_UNDECLARED_RECIPIENT, "");
	assert_non_null(c);
	assert_int_equal(c->strength, FINDING_INDICATIVE);
	assert_string_equal(c->recipient, "xiaomi-push");
	assert_non_null(strstr(c->reason, "no personal data"));
	assert_int_equal(promise(fx, "recipients")->status, PROMISE_NOT_VERIFIABLE);
	teardown(fx);
}

/* Who received a datum is as sure as what names the host's owner: a
 * catalogue entry whose source was not read makes the recipient findings
 * indicative, and says so; a Host with a port is the same recipient. */
static const char trust_catalogue[] =
	"recipients:\n"
	"  - id: read-sdk\n"
	"    organisation: Read Ltd\n"
	"    sdk: Read SDK\n"
	"    country: US\n"
	"    purpose: analytics\n"
	"    domains: [read.example]\n"
	"    source: Read Ltd privacy policy\n"
	"    source_url: https://read.example/privacy\n"
	"    source_verified: true\n"
	"  - id: unread-sdk\n"
	"    organisation: Unread Ltd\n"
	"    sdk: Unread SDK\n"
	"    country: US\n"
	"    purpose: analytics\n"
	"    domains: [unread.example]\n"
	"    source: a blocklist comment\n"
	"    source_verified: false\n";

static const struct finding *recipient_finding(const struct fixture *fx, const char *id)
{
	for (size_t i = 0; i < findings_count(fx->fs); i++) {
		const struct finding *f = findings_at(fx->fs, i);
		if (f->rule == RULE_UNDECLARED_RECIPIENT && !strcmp(f->recipient, id))
			return f;
	}
	return NULL;
}

static void test_unverified_catalogue_entry_is_indicative(void **state)
{
	struct fixture *fx = setup(LANHU, T0, true);
	recipients_free(fx->r);
	findings_free(fx->fs);
	struct pa_diag diag = {.out = stderr};
	fx->r = recipients_load_buffer("trust.yaml", (const unsigned char *)trust_catalogue,
				       strlen(trust_catalogue), &diag);
	assert_non_null(fx->r);
	struct findings_config cfg = {.consent_at_us = T0, .lab_known = true, .lab_lat = 39.9,
				      .lab_lon = 116.4, .on_finding = on_finding, .ctx = fx};
	struct pa_error err = {{0}};
	fx->fs = findings_new(fx->p, fx->r, &cfg, &err);
	assert_non_null(fx->fs);

	struct flow a = make_flow(30, "203.0.113.30", geo(fx, 0, "CN"), 20);
	observe(fx, &a, "api.read.example", "imei", "tls-decrypted", 3005, T0 + 5000);
	struct flow b = make_flow(31, "203.0.113.31", geo(fx, 1, "CN"), 20);
	observe(fx, &b, "api.unread.example:8080", "imei", "tls-decrypted", 3105, T0 + 6000);
	struct flow c = make_flow(32, "203.0.113.32", geo(fx, 2, "CN"), 20);
	observe(fx, &c, "api.unread.example", "imei", "tls-decrypted", 3205, T0 + 7000);
	struct flow d = make_flow(33, "203.0.113.33", geo(fx, 3, "CN"), 20);
	observe(fx, &d, "x.nobody.example:8080", "imei", "tls-decrypted", 3305, T0 + 8000);
	observe(fx, &d, "x.nobody.example", "imei", "tls-decrypted", 3306, T0 + 8001);
	findings_finish(fx->fs);

	const struct finding *read = recipient_finding(fx, "read-sdk");
	assert_non_null(read);
	assert_int_equal(read->strength, FINDING_CONCLUSIVE);
	assert_null(strstr(read->reason, "not verified"));
	const struct finding *unread = recipient_finding(fx, "unread-sdk");
	assert_non_null(unread);
	assert_int_equal(unread->strength, FINDING_INDICATIVE);
	assert_non_null(strstr(unread->reason, "source is not verified"));
	assert_int_equal(unread->count, 2); /* host:port and host: one recipient */
	const struct finding *nobody = recipient_finding(fx, "x.nobody.example");
	assert_non_null(nobody);
	assert_int_equal(nobody->count, 2);
	assert_int_equal(count_rule(fx, RULE_UNDECLARED_RECIPIENT), 3);

	/* The report carries the entry's source and the words to show. */
	json_t *j = finding_json(unread);
	json_t *cat = json_object_get(json_object_get(j, "recipient"), "catalogue");
	assert_true(json_is_false(json_object_get(cat, "source_verified")));
	assert_true(json_is_null(json_object_get(cat, "source_url")));
	assert_non_null(strstr(json_string_value(json_object_get(cat, "attribution")), "indicative"));
	assert_non_null(json_string_value(json_object_get(cat, "attribution_zh")));
	json_decref(j);
	j = finding_json(read);
	cat = json_object_get(json_object_get(j, "recipient"), "catalogue");
	assert_true(json_is_true(json_object_get(cat, "source_verified")));
	assert_string_equal(json_string_value(json_object_get(cat, "source_url")),
			    "https://read.example/privacy");
	json_decref(j);
	j = finding_json(nobody);
	assert_true(json_is_null(json_object_get(json_object_get(j, "recipient"), "catalogue")));
	json_decref(j);
	teardown(fx);
}

/* ---- data types ------------------------------------------------------------- */

static void test_undeclared_types(void **state)
{
	/* Lanhu never mentions contacts: conclusive. */
	struct fixture *fx = setup(LANHU, T0, true);
	struct flow f = make_flow(17, "203.0.113.12", geo(fx, 0, "CN"), 20);
	observe(fx, &f, "api.lanhuapp.com", "contacts", "tls-decrypted", 1705, T0 + 5000);
	observe(fx, &f, "api.lanhuapp.com", "email", "tls-decrypted", 1706, T0 + 5000);
	findings_finish(fx->fs);
	assert_int_equal(findings_count(fx->fs), 1);
	const struct finding *t = find(fx, RULE_UNDECLARED_TYPE, "contacts");
	assert_non_null(t);
	assert_int_equal(t->strength, FINDING_CONCLUSIVE);
	assert_non_null(t->clause);
	teardown(fx);

	/* Lanxin names identifiers one by one: OAID to the first party is
	 * undeclared by name only (indicative); an unknown word too. */
	fx = setup(LANXIN, T0, true);
	f = make_flow(18, "203.0.113.12", geo(fx, 0, "CN"), 20);
	observe(fx, &f, "www.lanxin.cn", "oaid", "tls-decrypted", 1805, T0 + 5000);
	observe(fx, &f, "www.lanxin.cn", "vaid", "tls-decrypted", 1806, T0 + 5000);
	observe(fx, &f, "www.lanxin.cn", "imei", "tls-decrypted", 1807, T0 + 5000);
	findings_finish(fx->fs);
	assert_int_equal(findings_count(fx->fs), 2);
	t = find(fx, RULE_UNDECLARED_TYPE, "oaid");
	assert_int_equal(t->strength, FINDING_INDICATIVE);
	assert_string_equal(t->clause->id, "一(一)3/个人常用设备信息");
	t = find(fx, RULE_UNDECLARED_TYPE, "vaid");
	assert_int_equal(t->strength, FINDING_INDICATIVE);
	assert_non_null(strstr(t->reason, "vocabulary"));
	assert_int_equal(promise(fx, "data-types")->status, PROMISE_NOT_VERIFIABLE);
	teardown(fx);
}

static void test_echo_is_ignored(void **state)
{
	struct fixture *fx = setup(LANHU, T0, true);
	struct flow f = make_flow(19, "198.51.100.7", geo(fx, 0, "SG"), 80);
	struct pa_observation o = {.type = "imei", .source = "device", .encoding = "raw",
				   .protocol = "http", .flow_id = 19, .packet = 1, .ts_us = T0,
				   .echo = true};
	struct observation_record rec = {.obs = &o, .hostname = "x.example", .jurisdiction = "foreign:SG",
					 .dst_ip = "198.51.100.7", .dst_port = 80};
	findings_observation(fx->fs, &rec, &f);
	findings_finish(fx->fs);
	assert_int_equal(findings_count(fx->fs), 0);
	assert_int_equal(findings_frequency_count(fx->fs), 0);
	teardown(fx);
}

/* ---- without a policy; JSON -------------------------------------------------- */

static void test_no_policy_only_facts(void **state)
{
	struct fixture *fx = setup(NULL, 0, true);
	struct flow f = make_flow(20, "198.51.100.7", geo(fx, 0, "SG"), 80);
	for (int i = 0; i < 200; i++)
		observe(fx, &f, "register.xmpush.global.xiaomi.com", "imei", "http", 2000 + (uint64_t)i,
			T0 + (int64_t)i * 1000000);
	end_flow(fx, &f, "register.xmpush.global.xiaomi.com", 0);
	findings_finish(fx->fs);
	assert_int_equal(findings_count(fx->fs), 0);
	assert_int_equal(findings_promise_count(fx->fs), 0);
	const struct frequency_row *row = findings_frequency_at(fx->fs, 0);
	assert_string_equal(row->recipient, "xiaomi-push-global");
	assert_int_equal(row->count, 200);
	assert_int_equal(row->flows, 1);
	/* 200 in 199 s: about 60 a minute. */
	double rate = frequency_rate_per_min(row);
	assert_true(rate > 60.2 && rate < 60.4);
	assert_true(row->time_count >= 32 && row->time_count <= FREQUENCY_MAX_TIMES);
	assert_int_equal(row->times[0], T0);
	json_t *j = findings_report_json(fx->fs);
	assert_true(json_is_null(json_object_get(j, "policy")));
	assert_int_equal(json_array_size(json_object_get(j, "frequency")), 1);
	assert_int_equal(json_array_size(json_object_get(j, "rules")), RULE_COUNT);
	json_decref(j);
	teardown(fx);
}

static void test_report_json_and_jsonl(void **state)
{
	struct fixture *fx = setup(LANXIN, T0, true);
	struct flow f = make_flow(21, "198.51.100.7", geo(fx, 0, "SG"), 80);
	observe(fx, &f, "register.xmpush.global.xiaomi.com", "mac", "http", 2105, T0 + 9000);
	end_flow(fx, &f, "register.xmpush.global.xiaomi.com", 0);
	findings_finish(fx->fs);
	/* residency + encryption + beyond scope */
	assert_int_equal(findings_count(fx->fs), 3);
	json_t *j = findings_report_json(fx->fs);
	json_t *list = json_object_get(j, "findings");
	assert_int_equal(json_array_size(list), 3);
	json_t *first = json_array_get(list, 0);
	assert_string_equal(json_string_value(json_object_get(first, "rule")), "residency");
	assert_string_equal(json_string_value(json_object_get(first, "strength")), "conclusive");
	json_t *clause = json_object_get(first, "clause");
	assert_string_equal(json_string_value(json_object_get(clause, "id")), "一(一)2/境内");
	assert_non_null(strstr(json_string_value(json_object_get(clause, "quote")), "境外"));
	assert_int_equal(json_integer_value(json_array_get(json_object_get(first, "packets"), 0)), 2105);
	assert_string_equal(json_string_value(json_object_get(first, "evidence")), "evidence/F0001.pcapng");
	json_t *promises = json_object_get(j, "promises");
	assert_true(json_array_size(promises) >= 6);
	assert_string_equal(json_string_value(json_object_get(json_array_get(promises, 0), "status")),
			    "contradicted");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "finding_counts"), "conclusive")), 3);
	json_decref(j);

	char dir[] = "/tmp/test-findings-out-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct pa_error err = {{0}};
	assert_true(findings_write_jsonl(fx->fs, dir, &err));
	char path[256];
	snprintf(path, sizeof path, "%s/findings.jsonl", dir);
	FILE *in = fopen(path, "r");
	assert_non_null(in);
	char line[8192];
	size_t lines = 0;
	while (fgets(line, sizeof line, in)) {
		json_error_t je;
		json_t *o = json_loads(line, 0, &je);
		assert_non_null(o);
		lines++;
		json_decref(o);
	}
	fclose(in);
	assert_int_equal(lines, 3);
	unlink(path);
	rmdir(dir);
	teardown(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_declared_imei_to_xiaomi_push_is_clean),
		cmocka_unit_test(test_mac_to_xiaomi_push_is_beyond_scope),
		cmocka_unit_test(test_xiaomi_global_in_singapore_is_residency),
		cmocka_unit_test(test_residency_lowered_when_rtt_rules_out_country),
		cmocka_unit_test(test_residency_geoip_conflict),
		cmocka_unit_test(test_override_file_replaces_geoip),
		cmocka_unit_test(test_unverified_transfer_abroad),
		cmocka_unit_test(test_cleartext_http_is_encryption_finding),
		cmocka_unit_test(test_before_consent_with_consent_at),
		cmocka_unit_test(test_before_consent_marker_settles_pending),
		cmocka_unit_test(test_no_consent_moment_is_not_verifiable),
		cmocka_unit_test(test_lanhu_third_party_is_undeclared),
		cmocka_unit_test(test_contact_without_data_is_indicative),
		cmocka_unit_test(test_unverified_catalogue_entry_is_indicative),
		cmocka_unit_test(test_undeclared_types),
		cmocka_unit_test(test_echo_is_ignored),
		cmocka_unit_test(test_no_policy_only_facts),
		cmocka_unit_test(test_report_json_and_jsonl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
