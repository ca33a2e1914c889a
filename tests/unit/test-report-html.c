/* test-report-html.c — report.html from report documents: every section of
 * the Lanxin demo report with its findings, quotes and numbers; hostile
 * strings from a capture stay text; an empty report without a policy still
 * renders; the charts draw what the numbers say; a report made by the
 * policy engine itself renders its findings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/findings.h"
#include "report/report_html.h"
#include "report/report_html_internal.h"

#define FIXTURE PA_TEST_DATA "/report/lanxin-leaky.json"

static json_t *load_fixture(void)
{
	json_error_t jerr;
	json_t *r = json_load_file(FIXTURE, 0, &jerr);
	if (!r)
		fail_msg("%s:%d: %s", FIXTURE, jerr.line, jerr.text);
	return r;
}

static char *render(const json_t *report)
{
	struct pa_error err = {{0}};
	char *page = report_html_render(report, &err);
	assert_non_null(page);
	return page;
}

static size_t occurrences(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + strlen(needle), needle))
		n++;
	return n;
}

static void assert_contains(const char *page, const char *needle)
{
	if (!strstr(page, needle))
		fail_msg("page lacks \"%s\"", needle);
}

/* Every element the page opens is closed: hostile text added no markup. */
static void assert_balanced(const char *page)
{
	static const char *const tags[] = {"section", "svg", "table", "article", "blockquote", "figure",
					   "code", "title", "text", "dl"};
	for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
		char open[32], open_attr[32], close[32];
		snprintf(open, sizeof open, "<%s>", tags[i]);
		snprintf(open_attr, sizeof open_attr, "<%s ", tags[i]);
		snprintf(close, sizeof close, "</%s>", tags[i]);
		size_t opened = occurrences(page, open) + occurrences(page, open_attr);
		if (opened != occurrences(page, close))
			fail_msg("<%s>: %zu opened, %zu closed", tags[i], opened, occurrences(page, close));
	}
}

/* ---- the demo report ---------------------------------------------------------- */

/* The fixture is an audit without the key log, so its coverage is not
 * complete; the tests of the complete page give it a coverage that says so. */
static json_t *load_fixture_complete(void)
{
	json_t *r = load_fixture();
	json_object_set_new(r, "coverage", json_pack("{s:b, s:[], s:[]}", "complete", 1, "reasons",
						     "not_verifiable"));
	return r;
}

/* Promises of the document with this status. */
static size_t promises_with_status(const json_t *r, const char *status)
{
	size_t i, n = 0;
	const json_t *p;
	json_array_foreach(json_object_get(r, "promises"), i, p) {
		const char *s = json_string_value(json_object_get(p, "status"));
		n += s && !strcmp(s, status);
	}
	return n;
}

/* Distinct (recipient, data type) pairs of the conclusive findings: the
 * matrix's filled cells. */
static size_t conclusive_pairs(const json_t *r)
{
	char seen[64][160];
	size_t n = 0, i;
	const json_t *f;
	json_array_foreach(json_object_get(r, "findings"), i, f) {
		if (strcmp(json_string_value(json_object_get(f, "strength")), "conclusive"))
			continue;
		char key[160];
		snprintf(key, sizeof key, "%s|%s",
			 json_string_value(json_object_get(json_object_get(f, "recipient"), "id")),
			 json_string_value(json_object_get(f, "data_type")));
		size_t k = 0;
		while (k < n && strcmp(seen[k], key))
			k++;
		if (k == n) {
			assert_true(n < sizeof seen / sizeof seen[0]);
			snprintf(seen[n++], sizeof seen[0], "%s", key);
		}
	}
	return n;
}

static void test_demo_report_sections(void **state)
{
	json_t *r = load_fixture_complete();
	/* The demo's RTTs are all plausible; one contradicted flow, as an audit
	 * of a relayed destination reports it, fills the plausibility table. */
	json_t *plaus = json_object_get(r, "plausibility");
	json_t *contradicted = json_pack("{s:f, s:s, s:f, s:s, s:i, s:s, s:f, s:s}", "bound_ms", 44.2,
					 "country", "SG", "distance_km", 4422.4, "dst_ip", "47.74.10.10",
					 "flow_id", 10, "hostname", "register.xmpush.global.xiaomi.com",
					 "rtt_ms", 0.0, "verdict", "contradicted");
	json_array_append_new(json_object_get(plaus, "contradicted_flows"), contradicted);
	json_object_set_new(plaus, "contradicted", json_integer(1));
	char *page = render(r);
	assert_true(!strncmp(page, "<!DOCTYPE html>", 15));
	static const char *const anchors[] = {"inputs", "verdicts", "findings", "destinations",
					      "timeline", "matrix", "uninspected", "plausibility", "rules",
					      "checklist"};
	for (size_t i = 0; i < sizeof anchors / sizeof anchors[0]; i++) {
		char id[48];
		snprintf(id, sizeof id, "<section id=\"%s\">", anchors[i]);
		assert_contains(page, id);
	}
	assert_int_equal(occurrences(page, "<section "), 10);
	/* bilingual headings */
	assert_contains(page, "2. \xe7\xbb\x93\xe8\xae\xba<span class=\"en\">Verdicts"); /* 结论 */
	assert_contains(page, "3. \xe5\x8f\x91\xe7\x8e\xb0<span class=\"en\">Findings"); /* 发现 */
	/* the header */
	assert_contains(page, "\xe8\x93\x9d\xe4\xbf\xa1 Lanxin"); /* 蓝信 */
	assert_contains(page, "2022-03-03");
	assert_contains(page, "captures/demo-lanxin-leaky.pcapng");
	assert_contains(page, "Audit complete");
	/* the capture's span: 16:34:59.646617 to 16:35:00.837608 */
	assert_contains(page, "(1.19 s)");
	/* every finding has a card with its evidence file, and the overview links to it */
	size_t i;
	const json_t *f;
	json_array_foreach(json_object_get(r, "findings"), i, f) {
		char buf[96];
		snprintf(buf, sizeof buf, "<code>evidence/%s.pcapng</code>", json_string_value(json_object_get(f, "id")));
		assert_contains(page, buf);
		snprintf(buf, sizeof buf, "<article class=\"finding %s\" id=\"f-%zu\">",
			 strcmp(json_string_value(json_object_get(f, "strength")), "conclusive") ? "warn" : "bad", i);
		assert_contains(page, buf);
		snprintf(buf, sizeof buf, "href=\"#f-%zu\">%s</a>", i, json_string_value(json_object_get(f, "id")));
		assert_contains(page, buf);
	}
	assert_true(i > 1);
	assert_int_equal(i, json_array_size(json_object_get(r, "findings")));
	assert_int_equal(occurrences(page, "<article "), i);
	/* badges in the overview and on the cards, as many as the document counts */
	const json_t *counts = json_object_get(r, "finding_counts");
	assert_int_equal(occurrences(page, "<span class=\"badge b-bad\">\xe7\xbb\x93\xe8\xae\xba\xe6\x80\xa7 conclusive"),
			 2 * json_integer_value(json_object_get(counts, "conclusive")));
	assert_int_equal(occurrences(page, "<span class=\"badge b-warn\">\xe6\x8c\x87\xe7\xa4\xba\xe6\x80\xa7 indicative"),
			 2 * json_integer_value(json_object_get(counts, "indicative")));
	/* clause: id, verbatim quote, gloss */
	assert_contains(page, "\xe6\x88\x91\xe4\xbb\xac\xe4\xbc\x9a\xe5\xaf\xb9\xe5\x8f\xaf\xe8\xaf\x86\xe5\x88\xab"
			      "\xe7\x9a\x84\xe4\xb8\xaa\xe4\xba\xba\xe8\xba\xab\xe4\xbb\xbd\xe4\xbf\xa1\xe6\x81\xaf"); /* 我们会对可识别的个人身份信息 */
	assert_contains(page, "Identifiable personal information is encrypted in transit and at rest.");
	/* verdicts: one box per promise, coloured by its status */
	assert_true(promises_with_status(r, "contradicted") > 0);
	assert_true(promises_with_status(r, "not-verifiable") > 0);
	assert_int_equal(occurrences(page, "<div class=\"verdict bad\">"), promises_with_status(r, "contradicted"));
	assert_int_equal(occurrences(page, "<div class=\"verdict warn\">"), promises_with_status(r, "not-verifiable"));
	/* packets of F0001 */
	assert_contains(page, "#8, #85");
	/* two drawings, the matrix's frames: one per conclusive recipient × type */
	assert_int_equal(occurrences(page, "<svg "), 2);
	assert_true(conclusive_pairs(r) > 1);
	assert_int_equal(occurrences(page, "<td class=\"cell hit\""), conclusive_pairs(r));
	/* what was not read: the TLS bytes of the audit without its key log */
	assert_contains(page, "<td class=\"num\">1474 B</td>");
	assert_contains(page, "<code class=\"wrap\">openapi.lanxin.cn</code>"); /* TLS.Alibaba counts as TLS */
	/* numbers */
	assert_contains(page, "<td class=\"num\">16.7 KB</td>");
	assert_contains(page, "188 packets, 30.2 KB");
	assert_contains(page, "<div class=\"n\">26</div><div class=\"l\">\xe6\xb5\x81 Flows");
	assert_contains(page, "<td class=\"num\">\xe2\x89\xa5 44.2 ms</td>");
	assert_balanced(page);
	assert_null(strstr(page, "<script"));
	free(page);
	json_decref(r);
}

static void test_input_hash(void **state)
{
	json_t *r = load_fixture();
	json_t *in = json_array_get(json_object_get(json_object_get(r, "summary"), "inputs"), 0);
	/* The hash the audit took while reading is shown, whatever the path. */
	const char *recorded = json_string_value(json_object_get(in, "sha256"));
	assert_non_null(recorded);
	json_object_set_new(in, "path", json_string("/nonexistent/privaudit/input.pcapng"));
	char *page = render(r);
	assert_contains(page, recorded);
	free(page);
	/* A report.json from before the audit hashed its inputs: the path does
	 * not resolve here, so the hash is not recorded. */
	json_object_del(in, "sha256");
	page = render(r);
	assert_contains(page, "not recorded (see manifest.json)");
	free(page);
	/* A readable path is hashed. */
	char path[] = "/tmp/test-report-html-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	json_object_set_new(in, "path", json_string(path));
	page = render(r);
	assert_contains(page, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	free(page);
	unlink(path);
	/* A recorded hash wins over the file. */
	json_object_set_new(in, "sha256", json_string("00112233"));
	page = render(r);
	assert_contains(page, "<span class=\"mono hash\">00112233</span>");
	assert_null(strstr(page, "ba7816bf"));
	free(page);
	json_decref(r);
}

/* The page depends on the document's content, not on the order its objects
 * were built in: report.json is saved with sorted keys, the in-memory
 * document has insertion order, and both must render the same page. */
static void test_key_order_does_not_matter(void **state)
{
	json_t *r = load_fixture();
	char *sorted = render(r);
	json_t *recipients = json_object_get(json_object_get(r, "summary"), "recipients");
	const char *host;
	json_t *v;
	size_t rebuilt = 0;
	json_object_foreach(recipients, host, v) {
		json_t *protos = json_object_get(v, "protocols");
		json_object_set_new(protos, "ZZZ-first", json_integer(1)); /* goes last in insertion order */
		json_t *reversed = json_object();
		json_object_set_new(reversed, "ZZZ-first", json_integer(1));
		const char *k;
		json_t *c;
		json_object_foreach(protos, k, c)
			if (strcmp(k, "ZZZ-first"))
				json_object_set(reversed, k, c);
		json_object_set_new(v, "protocols", reversed);
		rebuilt++;
	}
	assert_true(rebuilt > 5);
	json_t *problems = json_object_get(json_object_get(r, "summary"), "decode_problems");
	json_object_set_new(problems, "truncated-tcp", json_integer(2));
	json_object_set_new(problems, "bad-ipv4-header", json_integer(1));
	char *built = render(r);
	char *saved_text = json_dumps(r, JSON_SORT_KEYS);
	json_t *saved = json_loads(saved_text, 0, NULL);
	assert_non_null(saved);
	char *reloaded = render(saved);
	assert_string_equal(built, reloaded);
	assert_string_not_equal(sorted, built);
	assert_contains(built, "DNS, ZZZ-first</td>");
	assert_contains(built, "<li><code>bad-ipv4-header</code>: 1</li><li><code>truncated-tcp</code>: 2</li>");
	free(sorted);
	free(built);
	free(reloaded);
	free(saved_text);
	json_decref(saved);
	json_decref(r);
}

/* ---- hostile input -------------------------------------------------------------- */

#define EVIL "<script>alert(1)</script>\"><img src=x onerror=alert(2)></svg></section>&amp;'\x01\xe2\x80\xae"

static void test_hostile_strings_are_text(void **state)
{
	json_t *r = load_fixture();
	/* Everything a packet can choose: hostnames, field names, types, names. */
	json_t *f = json_array_get(json_object_get(r, "findings"), 0);
	json_object_set_new(f, "id", json_string(EVIL));
	json_object_set_new(f, "reason", json_string(EVIL));
	json_object_set_new(f, "data_type", json_string(EVIL));
	json_object_set_new(f, "jurisdiction", json_string(EVIL));
	json_object_set_new(f, "evidence", json_string(EVIL));
	json_t *rcp = json_object_get(f, "recipient");
	json_object_set_new(rcp, "name", json_string(EVIL));
	json_object_set_new(rcp, "id", json_string(EVIL));
	json_array_append_new(json_object_get(rcp, "hosts"), json_string(EVIL));
	json_t *obs = json_array_get(json_object_get(f, "observations"), 0);
	json_object_set_new(obs, "field", json_string(EVIL));
	json_object_set_new(obs, "ts", json_string(EVIL));
	json_t *fq = json_array_get(json_object_get(r, "frequency"), 0);
	json_object_set_new(fq, "recipient", json_string(EVIL));
	json_object_set_new(fq, "data_type", json_string(EVIL));
	json_object_set_new(fq, "jurisdiction", json_string(EVIL));
	json_t *dst = json_array_get(json_object_get(r, "destinations"), 0);
	json_object_set_new(dst, "jurisdiction", json_string(EVIL));
	json_t *summary = json_object_get(r, "summary");
	json_object_set_new(json_object_get(summary, "recipients"), EVIL,
			    json_pack("{s:i, s:i, s:s, s:{s:i}}", "flows", 1, "bytes_up", 1000000, "jurisdiction",
				      EVIL, "protocols", EVIL, 1));
	json_object_set_new(json_array_get(json_object_get(summary, "inputs"), 0), "problem", json_string(EVIL));
	json_object_set_new(json_object_get(r, "policy"), "app", json_string(EVIL));
	json_t *pl = json_array_get(json_object_get(json_object_get(r, "plausibility"), "contradicted_flows"), 0);
	json_object_set_new(pl, "hostname", json_string(EVIL));
	/* Not UTF-8 at all (jansson would refuse it from a file). */
	json_object_set_new(json_object_get(r, "tool"), "command_line", json_string_nocheck("bad \xff\xfe bytes"));

	char *page = render(r);
	assert_null(strstr(page, "<script"));
	assert_null(strstr(page, "<img"));
	assert_null(strstr(page, "\xe2\x80\xae")); /* the override never reaches the reader */
	assert_null(strstr(page, "\xff"));
	assert_null(strstr(page, "\x01"));
	assert_contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"
			      "&lt;/svg&gt;&lt;/section&gt;&amp;amp;&#39;\\x01\\u202E");
	assert_contains(page, "bad \xef\xbf\xbd\xef\xbf\xbd bytes");
	assert_int_equal(occurrences(page, "<section "), 10);
	assert_int_equal(occurrences(page, "<svg "), 2);
	assert_balanced(page);
	assert_null(strstr(page, "onerror=alert(2)>"));
	free(page);
	json_decref(r);
}


/* ---- bilingual text, the opening block, the digest ------------------------------ */

static void test_bilingual_opening_and_digest(void **state)
{
	(void)state;
	json_t *r = load_fixture();
	char *page = render(r);
	/* Opening block: facts the run was not given say so. */
	assert_contains(page, "<dt>测试人员 Tester</dt><dd><span class=\"not-given\">未提供 not given</span>");
	assert_contains(page, "<dt>版本 App version</dt><dd><span class=\"not-given\">未提供 not given</span>");
	assert_contains(page, "<dt>测试时间 Test window</dt><dd>2026-11-23T16:34:59");
	/* No digest outside a bundle: said on the page and in the running header. */
	assert_contains(page, "未纳入证据包 not part of a bundle</span>");
	assert_contains(page, "@top-right{content:\"未纳入证据包 not part of a bundle: no digest\"");
	assert_null(strstr(page, "privaudit-inputs-and-outputs-digest"));
	assert_contains(page, "counter(page) \" of \" counter(pages)");
	/* Finding reasons, verdicts, data types and rule descriptions in both languages. */
	assert_contains(page, "<p lang=\"zh-CN\">国际移动设备识别码（IMEI）以明文（http，字段 <code>http.body</code>）"
			      "发送至 <code>cn.register.xmpush.xiaomi.com</code>（小米 (Xiaomi push)）"
			      "，而隐私政策承诺加密传输。</p>");
	assert_contains(page, "<p class=\"reason-en\" lang=\"en\">imei sent in cleartext (http, field "
			      "http.body) to cn.register.xmpush.xiaomi.com</p>");
	assert_contains(page, "<p lang=\"zh-CN\">2 项结论性发现。</p>");
	assert_contains(page, "没有同意时刻：请给出 --consent-at");
	assert_contains(page, "国际移动设备识别码 <span class=\"en\">IMEI</span> <code class=\"small\">imei</code>");
	assert_contains(page, "在隐私政策承诺加密传输的情况下");
	free(page);

	/* In a bundle: the digest in the <meta>, the opening block and every printed page. */
	const char *digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct pa_error err = {{0}};
	page = report_html_render_digest(r, digest, &err);
	assert_non_null(page);
	assert_int_equal(occurrences(page, digest), 3);
	assert_contains(page, "<meta name=\"privaudit-inputs-and-outputs-digest\" content=\"0123456789abcdef");
	assert_contains(page, "<span class=\"page-digest\">0123456789abcdef");
	assert_contains(page, "@top-right{content:\"0123456789abcdef");
	free(page);
	/* Anything but 64 lower-case hex digits is not printed. */
	page = report_html_render_digest(r, "0123\";}</style><script>", &err);
	assert_non_null(page);
	assert_null(strstr(page, "<script>"));
	assert_contains(page, "未纳入证据包 not part of a bundle</span>");
	free(page);
	json_decref(r);
}

/* ---- degenerate documents ------------------------------------------------------ */

static void test_empty_report_without_policy(void **state)
{
	json_t *r = json_object();
	char *page = render(r);
	assert_contains(page, "No policy given");
	assert_contains(page, "No policy was given (--policy), so there are no promises to judge.");
	assert_contains(page, "No findings: without a policy there is nothing to contradict.");
	assert_contains(page, "No personal data was seen leaving the device.");
	assert_contains(page, "No flow reached a destination.");
	assert_contains(page, "no packet read");
	assert_int_equal(occurrences(page, "<section "), 10);
	assert_int_equal(occurrences(page, "<svg "), 0);
	assert_balanced(page);
	free(page);
	json_decref(r);

	/* Wrong types everywhere: ignored, never trusted. */
	r = json_pack("{s:i, s:s, s:[i, s, n], s:{s:s}, s:[{s:i}], s:{s:i}}", "findings", 3, "promises", "x",
		      "frequency", 1, "a", "summary", "inputs", "x", "destinations", "jurisdiction", 5,
		      "policy", "app", 7);
	assert_non_null(r);
	page = render(r);
	assert_contains(page, "</html>");
	assert_balanced(page);
	free(page);
	json_decref(r);
}

/* "Audit complete" only when report.json's coverage says so; its reasons
 * are listed otherwise, and each verdict shows what it rests on. */
static void test_coverage_banner(void **state)
{
	(void)state;
	json_t *r = load_fixture();
	/* a report.json from before coverage was recorded */
	json_object_del(r, "coverage");
	char *page = render(r);
	assert_contains(page, "Coverage not recorded");
	assert_null(strstr(page, "Audit complete"));
	free(page);

	json_object_set_new(r, "coverage", json_pack("{s:b, s:[s], s:[s]}", "complete", 0, "reasons",
						     "the device was never seen: <wrong> profile",
						     "not_verifiable", "encryption"));
	json_t *p = json_array_get(json_object_get(r, "promises"), 0);
	json_object_set_new(p, "coverage",
			    json_pack("{s:b, s:b, s:i, s:{s:i, s:i, s:i}}", "complete", 0,
				      "needs_judgement", 0, "flows", 2, "unread", "total", 1540, "gap",
				      40, "encrypted", 1500));
	page = render(r);
	assert_contains(page, "Audit incomplete");
	assert_contains(page, "the device was never seen: &lt;wrong&gt; profile");
	assert_null(strstr(page, "Audit complete"));
	assert_contains(page, "Coverage: <b>incomplete</b>");
	assert_contains(page, "in 2 flow(s) could contradict it: encrypted 1500 B, not captured 40 B");
	assert_balanced(page);
	free(page);
	json_decref(r);
}

static void test_incomplete_capture(void **state)
{
	json_t *r = load_fixture_complete();
	json_object_set_new(json_object_get(r, "summary"), "capture",
			    json_pack("{s:i, s:i, s:i, s:i, s:b}", "received", 1000, "kernel_drops", 1234,
				      "interface_drops", 0, "evidence_packets_lost", 0, "complete", 0));
	char *page = render(r);
	assert_contains(page, "Audit incomplete");
	assert_contains(page, "1,234 packets dropped by the kernel");
	assert_null(strstr(page, "Audit complete"));
	free(page);
	json_decref(r);
}

/* ---- numbers and drawings ------------------------------------------------------ */

static void test_number_formats(void **state)
{
	char b[48];
	assert_string_equal(fmt_count(0, b, sizeof b), "0");
	assert_string_equal(fmt_count(999, b, sizeof b), "999");
	assert_string_equal(fmt_count(1000, b, sizeof b), "1,000");
	assert_string_equal(fmt_count(1234567, b, sizeof b), "1,234,567");
	assert_string_equal(fmt_count(18446744073709551615ULL, b, sizeof b), "18,446,744,073,709,551,615");
	assert_string_equal(pa_bytes_str(9999, b, sizeof b), "9999 B");
	assert_string_equal(pa_bytes_str(10000, b, sizeof b), "10.0 KB");
	assert_string_equal(pa_bytes_str(12345678, b, sizeof b), "12.3 MB");
	assert_string_equal(pa_bytes_str(12345678901ULL, b, sizeof b), "12.35 GB");
	assert_string_equal(fmt_duration(999, b, sizeof b), "999 \xc2\xb5s");
	assert_string_equal(fmt_duration(243657, b, sizeof b), "243.7 ms");
	assert_string_equal(fmt_duration(12345678, b, sizeof b), "12.35 s");
	assert_string_equal(fmt_duration(252000000, b, sizeof b), "4 min 12 s");
	assert_string_equal(fmt_duration(7380000000LL, b, sizeof b), "2 h 3 min");
	int64_t us;
	assert_true(parse_iso_time("2026-11-23T15:20:23.956181Z", &us));
	assert_int_equal(us, 1795447223956181LL);
	assert_true(parse_iso_time("2026-11-23T15:20:23Z", &us));
	assert_int_equal(us, 1795447223000000LL);
	assert_true(parse_iso_time("2026-11-23T15:20:23.5Z", &us));
	assert_int_equal(us, 1795447223500000LL);
	assert_false(parse_iso_time("2026-11-23T15:20:23", &us));
	assert_false(parse_iso_time("2026-11-23T15:20:23.Z", &us));
	assert_false(parse_iso_time("2026-13-23T15:20:23Z", &us));
	assert_false(parse_iso_time("", &us));
	assert_false(parse_iso_time(NULL, &us));
	assert_int_equal(utf8_chars("\xe8\x93\x9d\xe4\xbf\xa1 Lanxin"), 9);
	assert_int_equal(utf8_chars("\xff\xfe"), 2);
}

static void test_destination_bars(void **state)
{
	/* 1000 B up, a quarter unread; 500 B to SG: bars of 380, 285 + 95, 190 px.
	 * The record's two fields (foreign, SG) label the bar as one word. */
	json_t *r = json_pack("{s:[{s:s, s:s, s:i, s:i, s:i, s:i, s:i}, {s:s, s:s, s:i, s:i, s:i, s:i, s:i}]}",
			      "destinations", "jurisdiction", "foreign", "jurisdiction_country", "SG", "flows", 1,
			      "bytes_up", 500, "bytes_down", 10, "personal_flows", 1, "uninspected_up", 0,
			      "jurisdiction", "CN", "jurisdiction_country", "CN", "flows", 4, "bytes_up", 1000,
			      "bytes_down", 10, "personal_flows", 0, "uninspected_up", 250);
	assert_non_null(r);
	char *page = render(r);
	const char *cn = strstr(page, ">CN</text>");
	const char *sg = strstr(page, ">foreign:SG</text>");
	assert_non_null(cn);
	assert_non_null(sg);
	assert_true(cn < sg); /* largest upload first */
	assert_contains(page, "width=\"285.0\" height=\"20\" rx=\"2\" fill=\"#2e6f9e\"");
	assert_contains(page, "width=\"95.0\" height=\"20\" fill=\"url(#unread)\"");
	assert_contains(page, "width=\"190.0\" height=\"20\" rx=\"2\" fill=\"#c0392b\"");
	assert_contains(page, "1000 B uploaded (250 B could not be read)");
	free(page);
	json_decref(r);
}

static void test_timeline_marks(void **state)
{
	/* A sample of moments (the "times" of a frequency row) draws one mark each;
	 * duplicates and first/last add none. A consent line when known. */
	json_t *r = json_pack("{s:s, s:[{s:s, s:s, s:s, s:i, s:s, s:s, s:[s, s, s, s]},"
			      "         {s:s, s:s, s:s, s:s, s:i, s:s, s:s}]}",
			      "consent_at", "2026-11-23T15:21:00Z", "frequency",
			      "recipient", "umeng", "data_type", "oaid", "jurisdiction", "CN", "count", 40,
			      "first_seen", "2026-11-23T15:20:00Z", "last_seen", "2026-11-23T15:23:00Z",
			      "times", "2026-11-23T15:20:00Z", "2026-11-23T15:21:30Z", "2026-11-23T15:21:30Z",
			      "2026-11-23T15:23:00Z",
			      "recipient", "umeng", "data_type", "imei", "jurisdiction", "foreign",
			      "jurisdiction_country", "US", "count", 1,
			      "first_seen", "2026-11-23T15:22:00Z", "last_seen", "2026-11-23T15:22:00Z");
	assert_non_null(r);
	char *page = render(r);
	assert_int_equal(occurrences(page, "r=\"4\" fill="), 4);   /* 3 oaid + 1 imei */
	assert_int_equal(occurrences(page, "r=\"4.5\" fill="), 2); /* legend */
	assert_contains(page, "oaid \xe2\x86\x92 umeng at 2026-11-23T15:21:30.000000Z");
	assert_contains(page, "\xe5\x90\x8c\xe6\x84\x8f consent");
	assert_contains(page, "Time axis: UTC clock time.");
	assert_contains(page, ">15:21:00</text>"); /* 3 minutes: ticks every 30 s */
	/* one row, two lanes, both jurisdictions in its label */
	assert_contains(page, ">CN</tspan> <tspan font-size=\"10\" fill=\"#c0392b\">foreign:US</tspan>");
	free(page);
	json_decref(r);
}

/* ---- a report from the policy engine ------------------------------------------ */

static void test_engine_report_renders(void **state)
{
	struct pa_diag diag = {.out = stderr};
	struct policy *p = policy_load(PA_SOURCE_DIR "/policies/lanxin.yaml", &diag);
	struct recipients *rc = recipients_load(PA_SOURCE_DIR "/signatures/recipients.yaml", &diag);
	assert_non_null(p);
	assert_non_null(rc);
	struct findings_config cfg = {.consent_at_us = 1700000000000000LL};
	struct pa_error err = {{0}};
	struct findings *fs = findings_new(p, rc, &cfg, &err);
	assert_non_null(fs);

	struct geo_result g;
	memset(&g, 0, sizeof g);
	snprintf(g.country, sizeof g.country, "US");
	snprintf(g.jurisdiction, sizeof g.jurisdiction, "foreign:US");
	struct flow f;
	memset(&f, 0, sizeof f);
	f.id = 1;
	assert_true(pa_addr_parse("10.66.0.2", &f.src));
	assert_true(pa_addr_parse("198.51.100.7", &f.dst));
	f.sport = 40001;
	f.dport = 80;
	f.proto = IPPROTO_TCP;
	f.device_side = DEVICE_SIDE_SRC;
	f.first_packet = 3;
	f.ts_first = 1700000001000000LL;
	f.geo = &g;
	struct pa_observation o;
	memset(&o, 0, sizeof o);
	o.type = "imei";
	o.source = "device";
	o.encoding = "raw";
	o.protocol = "http";
	snprintf(o.field, sizeof o.field, "http.query:<b>imei</b>");
	o.flow_id = 1;
	o.packet = 5;
	o.ts_us = 1700000001500000LL;
	struct observation_record rec = {.obs = &o, .hostname = "evil.example<i>", .jurisdiction = "foreign:US",
					 .dst_ip = "198.51.100.7", .dst_port = 80};
	findings_observation(fs, &rec, &f);
	f.ip_bytes[0] = 700;
	f.ip_bytes[1] = 300;
	struct flow_app_info app;
	memset(&app, 0, sizeof app);
	struct classify_result cls;
	memset(&cls, 0, sizeof cls);
	struct flow_record end = {.flow = &f, .why = FLOW_END_CLOSED, .cls = &cls, .geo = &g,
				  .hostname = "evil.example<i>", .hostname_source = HOSTNAME_HTTP, .app = &app};
	findings_flow_end(fs, &end);
	findings_finish(fs);
	assert_true(findings_count(fs) >= 2);

	json_t *report = findings_report_json(fs);
	char *page = render(report);
	for (size_t i = 0; i < findings_count(fs); i++) {
		const struct finding *fd = findings_at(fs, i);
		assert_contains(page, finding_rule_info(fd->rule)->title_zh);
		char id[64];
		snprintf(id, sizeof id, "<code>evidence/%s.pcapng</code>", fd->id);
		assert_contains(page, id);
	}
	assert_contains(page, "\xe4\xb8\xaa\xe4\xba\xba\xe4\xbf\xa1\xe6\x81\xaf\xe5\x87\xba\xe5\xa2\x83"); /* 个人信息出境 */
	assert_contains(page, "http.query:&lt;b&gt;imei&lt;/b&gt;");
	assert_contains(page, "evil.example&lt;i&gt;");
	assert_contains(page, "700 B uploaded");
	assert_null(strstr(page, "<b>imei"));
	assert_int_equal(occurrences(page, "<svg "), 2);
	assert_balanced(page);
	free(page);

	/* The file: written whole under its name, no temporary left. */
	char dir[] = "/tmp/test-report-html-dir-XXXXXX";
	assert_non_null(mkdtemp(dir));
	assert_true(report_html_write(dir, report, &err));
	char path[128];
	snprintf(path, sizeof path, "%s/report.html", dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 10000);
	unlink(path);
	snprintf(path, sizeof path, "%s/.report.html.tmp", dir);
	assert_int_not_equal(stat(path, &st), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_false(report_html_write("/nonexistent/privaudit", report, &err));
	assert_non_null(strstr(err.msg, "/nonexistent/privaudit"));

	json_decref(report);
	findings_free(fs);
	policy_free(p);
	recipients_free(rc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo_report_sections),
		cmocka_unit_test(test_input_hash),
		cmocka_unit_test(test_key_order_does_not_matter),
		cmocka_unit_test(test_hostile_strings_are_text),
		cmocka_unit_test(test_empty_report_without_policy),
		cmocka_unit_test(test_incomplete_capture),
		cmocka_unit_test(test_coverage_banner),
		cmocka_unit_test(test_number_formats),
		cmocka_unit_test(test_destination_bars),
		cmocka_unit_test(test_timeline_marks),
		cmocka_unit_test(test_engine_report_renders),
		cmocka_unit_test(test_bilingual_opening_and_digest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
