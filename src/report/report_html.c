/*
 * report_html.c — report.html: the page skeleton and style, the header
 * (what was audited, with what, and whether the audit is complete), the
 * verdict on each promise and the findings. The charts and the later
 * sections are in report_html_svg.c and report_html_sections.c.
 */
#include "report/report_html.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/page_digest.h"
#include "report/report_html_internal.h"
#include "util/atomic_file.h"

/* The style: readable on screen, on A4 paper, with any CJK font the reader
 * has (no font is shipped or fetched). */
static const char style[] =
	":root{--ink:#1b2230;--muted:#5d6678;--line:#dde2ea;--soft:#f5f7fa;--navy:#1f3a68;"
	"--red:#b42318;--red-bg:#fef3f2;--amber:#b54708;--amber-bg:#fffaeb;--green:#067647;"
	"--green-bg:#ecfdf3}\n"
	"*{box-sizing:border-box}\n"
	"html{font-size:15px}\n"
	"body{margin:0;color:var(--ink);background:#eef1f5;line-height:1.55;font-family:"
	"\"Noto Sans CJK SC\",\"Source Han Sans SC\",\"PingFang SC\",\"Microsoft YaHei\","
	"\"WenQuanYi Micro Hei\",\"Helvetica Neue\",Arial,sans-serif}\n"
	"main{max-width:1100px;margin:24px auto;background:#fff;padding:40px 52px 56px;"
	"box-shadow:0 1px 4px rgba(16,24,40,.1)}\n"
	"h1{font-size:1.95rem;margin:.15em 0 .2em;color:var(--navy);line-height:1.25}\n"
	"h1 .en{display:block;font-size:1.15rem;font-weight:500;color:var(--muted)}\n"
	"h2{font-size:1.35rem;color:var(--navy);border-bottom:2px solid var(--navy);"
	"padding-bottom:.25em;margin:2.4em 0 .8em}\n"
	"h2 .en,h3 .en{font-weight:500;color:var(--muted);margin-left:.45em;font-size:.78em}\n"
	"h3{font-size:1.08rem;margin:0 0 .4em}\n"
	"p{margin:.45em 0}\n"
	"a{color:var(--navy)}\n"
	".kicker{text-transform:uppercase;letter-spacing:.09em;font-size:.74rem;color:var(--muted)}\n"
	".muted{color:var(--muted)}\n"
	".small{font-size:.84rem}\n"
	".app{font-size:1.2rem;margin:.3em 0 1em}\n"
	"table{border-collapse:collapse;width:100%;font-size:.88rem;margin:.6em 0 1em}\n"
	"th,td{border-bottom:1px solid var(--line);padding:.36em .55em;text-align:left;vertical-align:top}\n"
	"th{background:var(--soft);font-weight:600;font-size:.8rem;color:#344054}\n"
	".num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"code,.mono{font-family:\"DejaVu Sans Mono\",Menlo,Consolas,monospace;font-size:.84em}\n"
	".hash{word-break:break-all;font-size:.78em}\n"
	".wrap{word-break:break-word}\n"
	".badge{display:inline-block;padding:.04em .6em;border-radius:999px;font-size:.76rem;"
	"font-weight:600;border:1px solid;white-space:nowrap;vertical-align:middle}\n"
	".b-bad{color:var(--red);background:var(--red-bg);border-color:#fecdca}\n"
	".b-warn{color:var(--amber);background:var(--amber-bg);border-color:#fedf89}\n"
	".b-good{color:var(--green);background:var(--green-bg);border-color:#abefc6}\n"
	".b-info{color:#344054;background:var(--soft);border-color:var(--line)}\n"
	".status{margin:1.1em 0;padding:.75em 1em;border-radius:6px;border-left:6px solid}\n"
	".status.good{background:var(--green-bg);border-color:var(--green)}\n"
	".status.bad{background:var(--red-bg);border-color:var(--red)}\n"
	".status ul{margin:.3em 0 0;padding-left:1.3em}\n"
	".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(128px,1fr));gap:10px;margin:1.2em 0}\n"
	".card{border:1px solid var(--line);border-radius:8px;padding:.6em .85em;background:#fff}\n"
	".card .n{font-size:1.65rem;font-weight:700;line-height:1.2;font-variant-numeric:tabular-nums}\n"
	".card .l{font-size:.76rem;color:var(--muted)}\n"
	".card.bad .n{color:var(--red)}.card.warn .n{color:var(--amber)}.card.good .n{color:var(--green)}\n"
	"dl.meta{display:grid;grid-template-columns:11em 1fr;gap:.25em 1em;margin:.8em 0}\n"
	"dl.meta dt{color:var(--muted);font-size:.86rem}\n"
	"dl.meta dd{margin:0}\n"
	"nav.toc{background:var(--soft);border-radius:8px;padding:.7em 1.1em;margin:1.4em 0;font-size:.88rem}\n"
	"nav.toc ol{margin:.2em 0;padding-left:1.4em;columns:2}\n"
	".verdict,.finding{border:1px solid var(--line);border-left:6px solid #98a2b3;border-radius:6px;"
	"padding:.8em 1.1em;margin:.9em 0;break-inside:avoid}\n"
	".verdict.bad,.finding.bad{border-left-color:var(--red)}\n"
	".verdict.warn,.finding.warn{border-left-color:#f79009}\n"
	".verdict.good{border-left-color:var(--green)}\n"
	".verdict h3 .badge,.finding h3 .badge{margin-left:.5em}\n"
	".fid{font-family:\"DejaVu Sans Mono\",Menlo,monospace;color:var(--muted);margin-right:.4em}\n"
	"blockquote.clause{margin:.6em 0;padding:.45em .9em;background:var(--soft);border-left:3px solid #98a2b3}\n"
	"blockquote.clause .cite{font-size:.78rem;color:var(--muted)}\n"
	"blockquote.clause .quote{margin:.15em 0}\n"
	"blockquote.clause .gloss{color:var(--muted);font-style:italic;font-size:.86rem;margin:.1em 0}\n"
	"dl.facts{display:grid;grid-template-columns:9.5em 1fr;gap:.15em 1em;margin:.6em 0;font-size:.9rem}\n"
	"dl.facts dt{color:var(--muted);font-size:.84rem}\n"
	"dl.facts dd{margin:0}\n"
	"table.obs{font-size:.8rem}\n"
	"figure{margin:1em 0;break-inside:avoid}\n"
	"figure svg{max-width:100%;height:auto;display:block}\n"
	"figcaption{font-size:.8rem;color:var(--muted);margin-top:.3em}\n"
	"svg text{font-family:inherit}\n"
	"td.cell{text-align:center;font-variant-numeric:tabular-nums}\n"
	"td.cell.hit{outline:2px solid var(--red);outline-offset:-3px;font-weight:700}\n"
	"footer{margin-top:3em;padding-top:1em;border-top:1px solid var(--line);font-size:.8rem;color:var(--muted)}\n"
	"dl.engagement{display:grid;grid-template-columns:11em 1fr;gap:.3em 1em;margin:.6em 0 1em;"
	"padding:.8em 1em;border:1px solid var(--line);border-radius:8px;background:var(--soft)}\n"
	"dl.engagement dt{color:var(--muted);font-size:.86rem}\n"
	"dl.engagement dd{margin:0;font-weight:600}\n"
	".not-given{color:var(--amber);font-weight:400}\n"
	".page-digest{font-family:\"DejaVu Sans Mono\",Menlo,monospace;font-size:.8em;word-break:break-all;"
	"font-weight:400}\n"
	"p.reason-en{color:var(--muted);font-size:.88rem;margin-top:.1em}\n"
	"table.checklist td:first-child{white-space:nowrap}\n"
	"table.checklist tr.check-bad td:first-child{border-left:4px solid var(--red)}\n"
	"table.checklist tr.check-good td:first-child{border-left:4px solid var(--green)}\n"
	"table.checklist tr.check-warn td:first-child{border-left:4px solid #f79009}\n"
	"table.checklist tr.check-info td:first-child{border-left:4px solid var(--line)}\n"
	"@media print{html{font-size:12px}body{background:#fff}main{box-shadow:none;margin:0;"
	"max-width:none;padding:0}nav.toc{display:none}h2{break-after:avoid}a{color:inherit;"
	"text-decoration:none}tr{break-inside:avoid}}\n";

/* Printed, every page carries the bundle digest at its top and its number
 * at the bottom: CSS page-margin boxes, which Chromium lays out since
 * version 131 (a digest is hex digits only, safe inside a CSS string). The
 * verify command reads the digest back from the top-right box. */
static void print_style(struct html *h, const char *digest_hex)
{
	h_raw(h, "@page{size:A4;margin:17mm 14mm 15mm;"
		 "@top-left{content:\"privaudit 证据包摘要 Bundle digest SHA-256\";"
		 "font-size:7pt;color:#5d6678;vertical-align:bottom}");
	if (digest_hex)
		h_fmt(h, PAGE_DIGEST_RUNNING "%s\";font:7pt \"DejaVu Sans Mono\",monospace;"
		      "color:#5d6678;vertical-align:bottom}", digest_hex);
	else
		h_raw(h, "@top-right{content:\"未纳入证据包 not part of a bundle: no digest\";"
			 "font-size:7pt;color:#b54708;vertical-align:bottom}");
	h_raw(h, "@bottom-center{content:\"第 \" counter(page) \" 页，共 \" counter(pages) "
		 "\" 页 · Page \" counter(page) \" of \" counter(pages);font-size:8pt;color:#5d6678}}\n");
}

/* ---- words ------------------------------------------------------------------- */

/* A class from a closed set: never a string of the report in an attribute. */
static const char *status_class(const char *status)
{
	if (!status)
		return "info";
	if (!strcmp(status, "contradicted") || !strcmp(status, "conclusive"))
		return "bad";
	if (!strcmp(status, "not-verifiable") || !strcmp(status, "indicative"))
		return "warn";
	if (!strcmp(status, "kept"))
		return "good";
	return "info";
}

static void status_badge(struct html *h, const char *status)
{
	static const struct {
		const char *id, *words;
	} words[] = {
		{"kept", "\xe9\x81\xb5\xe5\xae\x88 kept"},                            /* 遵守 */
		{"contradicted", "\xe8\xbf\x9d\xe8\x83\x8c contradicted"},            /* 违背 */
		{"not-verifiable", "\xe6\x97\xa0\xe6\xb3\x95\xe9\xaa\x8c\xe8\xaf\x81 not verifiable"}, /* 无法验证 */
		{"conclusive", "\xe7\xbb\x93\xe8\xae\xba\xe6\x80\xa7 conclusive"},     /* 结论性 */
		{"indicative", "\xe6\x8c\x87\xe7\xa4\xba\xe6\x80\xa7 indicative"},     /* 指示性 */
	};
	h_fmt(h, "<span class=\"badge b-%s\">", status_class(status));
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (status && !strcmp(status, words[i].id)) {
			h_raw(h, words[i].words);
			h_raw(h, "</span>");
			return;
		}
	}
	h_text_or_dash(h, status);
	h_raw(h, "</span>");
}

/* The rule a promise is judged by (rule_report.c's verdicts). */
static const char *promise_rule(const char *promise)
{
	static const char *const map[][2] = {
		{"residency", "residency"},       {"encryption", "encryption"},
		{"recipients", "undeclared-recipient"}, {"scope", "beyond-scope"},
		{"data-types", "undeclared-type"}, {"consent", "before-consent"},
	};
	for (size_t i = 0; promise && i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(promise, map[i][0]))
			return map[i][1];
	return NULL;
}

static const json_t *rule_of(const json_t *report, const char *id)
{
	size_t i;
	const json_t *r;
	json_array_foreach(j_get(report, "rules"), i, r)
		if (id && j_str(r, "id") && !strcmp(j_str(r, "id"), id))
			return r;
	return NULL;
}

static void section_heading(struct html *h, const char *anchor, const char *zh, const char *en)
{
	h_fmt(h, "<section id=\"%s\">\n<h2>%s<span class=\"en\">%s</span></h2>\n", anchor, zh, en);
}

static void clause_quote(struct html *h, const json_t *c)
{
	if (!json_is_object(c))
		return;
	h_raw(h, "<blockquote class=\"clause\"><div class=\"cite\">\xe6\x9d\xa1\xe6\xac\xbe Clause "); /* 条款 */
	h_raw(h, "<b>");
	h_text(h, j_str(c, "id"));
	h_raw(h, "</b>");
	if (j_str(c, "section")) {
		h_raw(h, " \xc2\xb7 ");
		h_text(h, j_str(c, "section"));
	}
	h_raw(h, "</div><p class=\"quote\" lang=\"zh-CN\">\xe2\x80\x9c");
	h_text(h, j_str(c, "quote"));
	h_raw(h, "\xe2\x80\x9d</p>");
	if (j_str(c, "gloss")) {
		h_raw(h, "<p class=\"gloss\" lang=\"en\">");
		h_text(h, j_str(c, "gloss"));
		h_raw(h, "</p>");
	}
	h_raw(h, "</blockquote>\n");
}

/* ---- opening block ------------------------------------------------------------ */

static void not_given(struct html *h)
{
	h_raw(h, "<span class=\"not-given\">未提供 not given</span>");
}

static void given_or_not(struct html *h, const char *s)
{
	if (s && s[0])
		h_text(h, s);
	else
		not_given(h);
}

/* What a regulator looks for first: which app and version, on which phone,
 * tested by whom and when, and the digest that ties this page to the
 * bundle. A fact the run was not given says so rather than leaving a gap
 * (--app-*, --phone-*, --operator, or the device profile). */
static void engagement(struct html *h, const json_t *report, const char *digest_hex)
{
	const json_t *p = j_get(report, "provenance");
	const char *name = j_str(report, "policy.app"), *package = j_str(p, "app.package.value");
	char b[48];
	h_raw(h, "<dl class=\"engagement\">\n<dt>应用 App</dt><dd>");
	if (name || package) {
		h_text(h, name ? name : package);
		if (name && package) {
			h_raw(h, " <code>");
			h_text(h, package);
			h_raw(h, "</code>");
		}
	} else {
		not_given(h);
	}
	h_raw(h, "</dd>\n<dt>版本 App version</dt><dd>");
	given_or_not(h, j_str(p, "app.version.value"));
	if (j_str(p, "app.apk_sha256.value")) {
		h_raw(h, " <span class=\"muted small\">APK SHA-256 <code class=\"hash\">");
		h_text(h, j_str(p, "app.apk_sha256.value"));
		h_raw(h, "</code></span>");
	}
	h_raw(h, "</dd>\n<dt>手机 Phone</dt><dd>");
	given_or_not(h, j_str(p, "phone.model.value"));
	h_raw(h, " \xc2\xb7 ");
	if (j_str(p, "phone.platform")) {
		h_text(h, j_str(p, "phone.platform"));
		h_raw(h, " ");
	}
	if (j_str(p, "phone.os_version.value")) {
		h_text(h, j_str(p, "phone.os_version.value"));
	} else {
		h_raw(h, "<span class=\"not-given\">系统版本未提供 OS version not given</span>");
	}
	h_raw(h, "</dd>\n<dt>测试人员 Tester</dt><dd>");
	given_or_not(h, j_str(p, "operator"));
	if (j_str(p, "host.hostname")) {
		h_raw(h, " <span class=\"muted small\">(");
		h_text(h, j_str(p, "host.user"));
		h_raw(h, "@");
		h_text(h, j_str(p, "host.hostname"));
		h_raw(h, ")</span>");
	}
	h_raw(h, "</dd>\n<dt>测试时间 Test window</dt><dd>");
	const char *first = j_str(p, "capture.first_packet") ? j_str(p, "capture.first_packet")
							      : j_str(report, "summary.packets.first");
	const char *last = j_str(p, "capture.last_packet") ? j_str(p, "capture.last_packet")
							    : j_str(report, "summary.packets.last");
	if (first && last) {
		int64_t t0, t1;
		h_text(h, first);
		h_raw(h, " \xe2\x80\x93 ");
		h_text(h, last);
		if (parse_iso_time(first, &t0) && parse_iso_time(last, &t1))
			h_fmt(h, " <span class=\"muted small\">(%s, first to last packet, UTC)</span>",
			      fmt_duration(t1 - t0, b, sizeof b));
	} else {
		h_raw(h, "<span class=\"not-given\">无数据包 no packet read</span>");
	}
	h_raw(h, "</dd>\n<dt>证据包摘要 Bundle digest</dt><dd>");
	if (digest_hex)
		h_fmt(h, PAGE_DIGEST_SPAN "%s</span><br><span class=\"muted small\">SHA-256 of every "
		      "other file manifest.json lists (inputs, outputs, evidence): "
		      "<code>inputs_and_outputs_digest</code>; <code>privaudit verify</code> checks it. "
		      "Printed on every page.</span>", digest_hex);
	else
		h_raw(h, "<span class=\"not-given\">未纳入证据包 not part of a bundle</span> <span "
			 "class=\"muted small\">(rendered without the manifest of an audit folder)</span>");
	h_raw(h, "</dd>\n</dl>\n");
}

/* ---- header ------------------------------------------------------------------ */

static void card(struct html *h, const char *cls, uint64_t n, const char *label)
{
	char b[32];
	h_fmt(h, "<div class=\"card %s\"><div class=\"n\">%s</div><div class=\"l\">%s</div></div>\n",
	      cls, fmt_count(n, b, sizeof b), label);
}

/* Why the audit may have missed something: each reason is one list item. */
static size_t completeness_problems(struct html *h, const json_t *report, bool write)
{
	size_t n = 0;
	char b1[32], b2[32], b3[32];
	/* The device never seen, inputs cut short, promises resting on bytes
	 * that were not read: report.json "coverage" says why, in words. */
	const json_t *reason;
	size_t k;
	json_array_foreach(j_get(report, "coverage.reasons"), k, reason) {
		if (!json_is_string(reason))
			continue;
		n++;
		if (!write)
			continue;
		h_raw(h, "<li>\xe8\xa6\x86\xe7\x9b\x96 Coverage: "); /* 覆盖 */
		h_text(h, json_string_value(reason));
		h_raw(h, "</li>\n");
	}
	const json_t *cap = j_get(report, "summary.capture");
	if (json_is_object(cap) && json_is_false(j_get(cap, "complete"))) {
		if (write)
			h_fmt(h, "<li>\xe6\x8a\x93\xe5\x8c\x85\xe4\xb8\xa2\xe5\xa4\xb1 Capture loss: %s packets "
			      "dropped by the kernel, %s at the interface, %s missing from the evidence capture</li>\n",
			      fmt_count(j_u64(cap, "kernel_drops"), b1, sizeof b1),
			      fmt_count(j_u64(cap, "interface_drops"), b2, sizeof b2),
			      fmt_count(j_u64(cap, "evidence_packets_lost"), b3, sizeof b3));
		n++;
		if (write && j_str(cap, "evidence_error")) {
			h_raw(h, "<li>");
			h_text(h, j_str(cap, "evidence_error"));
			h_raw(h, "</li>\n");
		}
	}
	size_t i;
	const json_t *in;
	json_array_foreach(j_get(report, "summary.inputs"), i, in) {
		if (!json_is_true(j_get(in, "failed")) && !j_str(in, "problem"))
			continue;
		n++;
		if (!write)
			continue;
		h_raw(h, "<li>\xe8\xbe\x93\xe5\x85\xa5 Input <code>"); /* 输入 */
		h_text(h, j_str(in, "path"));
		h_raw(h, json_is_true(j_get(in, "failed")) ? "</code> could not be read" : "</code>");
		if (j_str(in, "problem")) {
			h_raw(h, ": ");
			h_text(h, j_str(in, "problem"));
		}
		h_raw(h, "</li>\n");
	}
	uint64_t missing = j_u64(report, "evidence.missing_packets");
	if (missing) {
		n++;
		if (write)
			h_fmt(h, "<li>\xe8\xaf\x81\xe6\x8d\xae Evidence: %s cited packets could not be copied "
			      "into the evidence files</li>\n", fmt_count(missing, b1, sizeof b1));
	}
	return n;
}

/* Which build ran the audit: report.json "provenance" (docs/findings.md);
 * every library version is in report.json and the manifest. */
static void provenance_facts(struct html *h, const json_t *report)
{
	const json_t *p = j_get(report, "provenance");
	if (!json_is_object(p))
		return;
	h_raw(h, "<dt>\xe6\x9e\x84\xe5\xbb\xba Build</dt><dd><code>"); /* 构建 */
	h_text_or_dash(h, j_str(p, "privaudit.build.commit"));
	h_raw(h, "</code>");
	if (json_is_true(j_get(p, "privaudit.build.uncommitted_changes")))
		h_raw(h, " <span class=\"badge b-warn\">uncommitted changes</span>");
	h_raw(h, " <span class=\"muted small\">nDPI ");
	h_text_or_dash(h, j_str(p, "libraries.ndpi"));
	h_raw(h, ", Hyperscan ");
	h_text_or_dash(h, j_str(p, "libraries.hyperscan"));
	h_raw(h, ", libmaxminddb ");
	h_text_or_dash(h, j_str(p, "libraries.libmaxminddb"));
	h_raw(h, "</span></dd>\n");
}

static void header(struct html *h, const json_t *report, const char *digest_hex)
{
	char b1[48], b2[48];
	const json_t *policy = j_get(report, "policy");
	h_raw(h, "<header>\n<div class=\"kicker\">privaudit \xc2\xb7 "
		 "\xe7\xbd\x91\xe7\xbb\x9c\xe5\xb1\x82\xe9\x9a\x90\xe7\xa7\x81\xe6\xb5\x81\xe9\x87\x8f"
		 "\xe5\xae\xa1\xe8\xae\xa1 Network-level privacy traffic audit</div>\n" /* 网络层隐私流量审计 */
		 "<h1>\xe9\x9a\x90\xe7\xa7\x81\xe6\x94\xbf\xe7\xad\x96\xe5\x90\x88\xe8\xa7\x84\xe5\xae\xa1"
		 "\xe8\xae\xa1\xe6\x8a\xa5\xe5\x91\x8a<span class=\"en\">Privacy policy compliance audit"
		 "</span></h1>\n"); /* 隐私政策合规审计报告 */
	h_raw(h, "<p class=\"app\">");
	if (json_is_object(policy)) {
		h_raw(h, "<b>");
		h_text_or_dash(h, j_str(policy, "app"));
		h_raw(h, "</b>");
		if (j_str(policy, "publisher")) {
			h_raw(h, " \xc2\xb7 ");
			h_text(h, j_str(policy, "publisher"));
		}
	} else {
		h_raw(h, "<b>\xe6\x9c\xaa\xe6\x8f\x90\xe4\xbe\x9b\xe9\x9a\x90\xe7\xa7\x81\xe6\x94\xbf\xe7\xad\x96"
			 " No policy given</b> <span class=\"muted small\">(--policy): the page shows what "
			 "the traffic did, not which promise it breaks</span>"); /* 未提供隐私政策 */
	}
	h_raw(h, "</p>\n");
	engagement(h, report, digest_hex);
	h_raw(h, "<dl class=\"meta\">\n");
	if (json_is_object(policy)) {
		h_raw(h, "<dt>\xe6\x94\xbf\xe7\xad\x96\xe7\x89\x88\xe6\x9c\xac Policy version</dt><dd>");
		h_text_or_dash(h, j_str(policy, "version"));
		h_raw(h, " <span class=\"muted small\">(<code>");
		h_text(h, j_str(policy, "path"));
		h_raw(h, "</code>");
		if (j_str(policy, "source")) {
			h_raw(h, "; source ");
			h_text(h, j_str(policy, "source"));
		}
		h_raw(h, ")</span></dd>\n");
	}
	const char *first = j_str(report, "summary.packets.first");
	const char *last = j_str(report, "summary.packets.last");
	h_raw(h, "<dt>\xe6\x97\xb6\xe9\x97\xb4\xe8\x8c\x83\xe5\x9b\xb4 Time span</dt><dd>"); /* 时间范围 */
	if (first && last) {
		int64_t t0, t1;
		h_text(h, first);
		h_raw(h, " \xe2\x80\x93 ");
		h_text(h, last);
		if (parse_iso_time(first, &t0) && parse_iso_time(last, &t1))
			h_fmt(h, " <span class=\"muted\">(%s)</span>", fmt_duration(t1 - t0, b1, sizeof b1));
	} else {
		h_raw(h, "<span class=\"muted\">no packet read</span>");
	}
	h_fmt(h, "</dd>\n<dt>\xe6\x95\xb0\xe6\x8d\xae\xe5\x8c\x85 Packets</dt><dd>%s packets, %s</dd>\n",
	      fmt_count(j_u64(report, "summary.packets.read"), b1, sizeof b1),
	      pa_bytes_str(j_u64(report, "summary.packets.bytes"), b2, sizeof b2)); /* 数据包 */
	h_raw(h, "<dt>\xe5\xb7\xa5\xe5\x85\xb7 Tool</dt><dd>"); /* 工具 */
	h_text_or_dash(h, j_str(report, "tool.name"));
	h_raw(h, " ");
	h_text(h, j_str(report, "tool.version"));
	h_raw(h, "</dd>\n<dt>\xe5\x91\xbd\xe4\xbb\xa4 Command</dt><dd><code class=\"wrap\">"); /* 命令 */
	h_text_or_dash(h, j_str(report, "tool.command_line"));
	h_raw(h, "</code></dd>\n");
	provenance_facts(h, report);
	h_raw(h, "<dt>\xe8\xae\xbe\xe5\xa4\x87\xe4\xbe\xa7 Device side</dt><dd>"); /* 设备侧 */
	const char *side = j_str(report, "summary.device_side");
	if (side && !strcmp(side, "profile"))
		h_raw(h, "from the device profile (--device)");
	else if (side && !strcmp(side, "guessed"))
		h_raw(h, "<span class=\"badge b-warn\">guessed</span> the private-address endpoint; "
			 "give --device for certainty");
	else
		h_text_or_dash(h, side);
	h_raw(h, "</dd>\n<dt>\xe5\x90\x8c\xe6\x84\x8f\xe6\x97\xb6\xe5\x88\xbb Consent at</dt><dd>"); /* 同意时刻 */
	if (j_str(report, "consent_at"))
		h_text(h, j_str(report, "consent_at"));
	else
		h_raw(h, "<span class=\"muted\">not known (--consent-at or a PRIVAUDIT-CONSENT marker)</span>");
	h_raw(h, "</dd>\n</dl>\n");

	size_t problems = completeness_problems(h, report, false);
	if (problems) {
		h_raw(h, "<div class=\"status bad\"><b>\xe5\xae\xa1\xe8\xae\xa1\xe4\xb8\x8d\xe5\xae\x8c\xe6\x95\xb4 "
			 "Audit incomplete</b> \xe2\x80\x94 the traffic below is not all the traffic there "
			 "was, or not all of it could be read; nothing may be read as clean.<ul>\n"); /* 审计不完整 */
		completeness_problems(h, report, true);
		h_raw(h, "</ul></div>\n");
	} else if (!json_is_true(j_get(report, "coverage.complete"))) {
		/* A report.json from before coverage was judged: nothing says
		 * every byte that mattered was read, so it is not called complete. */
		h_raw(h, "<div class=\"status bad\"><b>\xe8\xa6\x86\xe7\x9b\x96\xe6\x9c\xaa\xe8\xae\xb0\xe5\xbd\x95 "
			 "Coverage not recorded</b> \xe2\x80\x94 this report does not say whether every byte "
			 "that could contradict a promise was read; see <a href=\"#uninspected\">section 7</a> "
			 "and do not read it as complete.</div>\n"); /* 覆盖未记录 */
	} else {
		h_raw(h, "<div class=\"status good\"><b>\xe5\xae\xa1\xe8\xae\xa1\xe5\xae\x8c\xe6\x95\xb4 Audit "
			 "complete</b> \xe2\x80\x94 every input was read to its end, no capture loss was "
			 "recorded, the device took part in the traffic and every byte that could "
			 "contradict a promise was read (<a href=\"#uninspected\">section 7</a>).</div>\n"); /* 审计完整 */
	}

	uint64_t conclusive = j_u64(report, "finding_counts.conclusive");
	uint64_t indicative = j_u64(report, "finding_counts.indicative");
	size_t contradicted = 0, promises = j_len(report, "promises");
	size_t i;
	const json_t *p;
	json_array_foreach(j_get(report, "promises"), i, p)
		if (j_str(p, "status") && !strcmp(j_str(p, "status"), "contradicted"))
			contradicted++;
	h_raw(h, "<div class=\"cards\">\n");
	card(h, conclusive ? "bad" : "good", conclusive,
	     "\xe7\xbb\x93\xe8\xae\xba\xe6\x80\xa7\xe5\x8f\x91\xe7\x8e\xb0 Conclusive findings");
	card(h, indicative ? "warn" : "good", indicative,
	     "\xe6\x8c\x87\xe7\xa4\xba\xe6\x80\xa7\xe5\x8f\x91\xe7\x8e\xb0 Indicative findings");
	h_fmt(h, "<div class=\"card %s\"><div class=\"n\">%zu<span class=\"muted\" style=\"font-size:.6em\">"
	      " / %zu</span></div><div class=\"l\">\xe8\xa2\xab\xe8\xbf\x9d\xe8\x83\x8c\xe7\x9a\x84\xe6\x89\xbf"
	      "\xe8\xaf\xba Promises contradicted</div></div>\n",
	      contradicted ? "bad" : "good", contradicted, promises); /* 被违背的承诺 */
	size_t items, violated = html_checklist_violated(report, &items);
	h_fmt(h, "<div class=\"card %s\"><div class=\"n\"><a href=\"#checklist\" style=\"color:inherit;"
	      "text-decoration:none\">%zu</a><span class=\"muted\" style=\"font-size:.6em\"> / %zu</span>"
	      "</div><div class=\"l\">违反的认定方法条目 Checklist items violated</div></div>\n",
	      violated ? "bad" : "", violated, items);
	card(h, "", j_u64(report, "summary.flows.total"), "\xe6\xb5\x81 Flows");
	card(h, "", j_u64(report, "summary.observations"),
	     "\xe4\xb8\xaa\xe4\xba\xba\xe6\x95\xb0\xe6\x8d\xae\xe8\xa7\x82\xe5\xaf\x9f Personal-data observations");
	h_raw(h, "</div>\n</header>\n");
}

static void table_of_contents(struct html *h)
{
	h_raw(h, "<nav class=\"toc\"><b>\xe7\x9b\xae\xe5\xbd\x95 Contents</b><ol>\n"
		 "<li><a href=\"#inputs\">\xe8\xbe\x93\xe5\x85\xa5\xe4\xb8\x8e\xe7\x89\x88\xe6\x9c\xac Inputs and versions</a></li>\n"
		 "<li><a href=\"#verdicts\">\xe7\xbb\x93\xe8\xae\xba Verdicts</a></li>\n"
		 "<li><a href=\"#findings\">\xe5\x8f\x91\xe7\x8e\xb0 Findings</a></li>\n"
		 "<li><a href=\"#destinations\">\xe7\x9b\xae\xe7\x9a\x84\xe5\x9c\xb0 Destinations</a></li>\n"
		 "<li><a href=\"#timeline\">\xe6\x97\xb6\xe9\x97\xb4\xe7\xba\xbf Timeline</a></li>\n"
		 "<li><a href=\"#matrix\">\xe6\x8e\xa5\xe6\x94\xb6\xe6\x96\xb9\xc3\x97\xe6\x95\xb0\xe6\x8d\xae\xe7\xb1\xbb\xe5\x9e\x8b Recipients \xc3\x97 data types</a></li>\n"
		 "<li><a href=\"#uninspected\">\xe6\x9c\xaa\xe8\x83\xbd\xe6\xa3\x80\xe6\x9f\xa5 Not inspected</a></li>\n"
		 "<li><a href=\"#plausibility\">\xe5\x9c\xb0\xe7\x90\x86\xe4\xbd\x8d\xe7\xbd\xae\xe5\x8f\xaf\xe4\xbf\xa1\xe5\xba\xa6 GeoIP plausibility</a></li>\n"
		 "<li><a href=\"#rules\">\xe8\xa7\x84\xe5\x88\x99\xe4\xb8\x8e\xe6\xb3\x95\xe5\xbe\x8b\xe4\xbe\x9d\xe6\x8d\xae Rules and legal references</a></li>\n"
		 "<li><a href=\"#checklist\">认定方法检查表 Checklist (2019 identification methods)</a></li>\n"
		 "</ol></nav>\n");
}

/* ---- verdicts ---------------------------------------------------------------- */

/* The ids of the findings a rule raised, each linking to its card. */
static void finding_links(struct html *h, const json_t *report, const char *rule)
{
	size_t i, n = 0;
	const json_t *f;
	json_array_foreach(j_get(report, "findings"), i, f) {
		if (!rule || !j_str(f, "rule") || strcmp(j_str(f, "rule"), rule))
			continue;
		if (n++ == 0)
			h_raw(h, "<p class=\"small\">\xe5\x8f\x91\xe7\x8e\xb0 Findings: ");
		else
			h_raw(h, ", ");
		h_fmt(h, "<a href=\"#f-%zu\">", i);
		h_text(h, j_str(f, "id"));
		h_raw(h, "</a>");
	}
	if (n)
		h_raw(h, "</p>\n");
}

/* The unread bytes a promise's verdict rests on, by cause. */
static void promise_coverage(struct html *h, const json_t *cov)
{
	char b[32];
	if (!json_is_object(cov))
		return;
	if (json_is_true(j_get(cov, "needs_judgement"))) {
		h_raw(h, "<p class=\"coverage small\">\xe8\xa6\x86\xe7\x9b\x96 Coverage: no byte count can "
			 "decide this promise; it needs the auditor's judgement.</p>\n"); /* 覆盖 */
		return;
	}
	if (json_is_true(j_get(cov, "complete"))) {
		h_raw(h, "<p class=\"coverage small\">\xe8\xa6\x86\xe7\x9b\x96 Coverage: complete \xe2\x80\x94 "
			 "every byte that could contradict this promise was read.</p>\n");
		return;
	}
	const json_t *u = j_get(cov, "unread");
	h_fmt(h, "<p class=\"coverage small\">\xe8\xa6\x86\xe7\x9b\x96 Coverage: <b>incomplete</b> \xe2\x80\x94 "
	      "%s unread in %llu flow(s) could contradict it", pa_bytes_str(j_u64(u, "total"), b, sizeof b),
	      (unsigned long long)j_u64(cov, "flows"));
	static const char *const causes[][2] = {
		{"encrypted", "encrypted"}, {"gap", "not captured"}, {"truncated", "truncated"},
		{"unparsed", "unparsed"}, {"conflict", "conflicting retransmissions"},
		{"opaque", "opaque (no decoder, not known as encrypted)"}};
	const char *sep = ": ";
	for (size_t i = 0; i < sizeof causes / sizeof causes[0]; i++) {
		uint64_t n = j_u64(u, causes[i][0]);
		if (!n)
			continue;
		h_fmt(h, "%s%s %s", sep, causes[i][1], pa_bytes_str(n, b, sizeof b));
		sep = ", ";
	}
	h_raw(h, ".</p>\n");
}

static void section_verdicts(struct html *h, const json_t *report)
{
	section_heading(h, "verdicts", "2. \xe7\xbb\x93\xe8\xae\xba", "Verdicts on the policy's promises");
	if (!j_len(report, "promises")) {
		h_raw(h, json_is_object(j_get(report, "policy"))
				 ? "<p class=\"muted\">The policy makes no promise this audit can judge.</p>\n"
				 : "<p class=\"muted\">No policy was given (--policy), so there are no promises "
				   "to judge.</p>\n");
		h_raw(h, "</section>\n");
		return;
	}
	h_raw(h, "<p class=\"small muted\"><b>\xe8\xbf\x9d\xe8\x83\x8c contradicted</b>: at least one "
		 "conclusive finding. <b>\xe6\x97\xa0\xe6\xb3\x95\xe9\xaa\x8c\xe8\xaf\x81 not verifiable</b>: "
		 "only indicative findings, or bytes that could not be read could hide a contradiction, "
		 "or the device was never seen, or the input is incomplete. "
		 "<b>\xe9\x81\xb5\xe5\xae\x88 kept</b>: nothing contradicts it, and every byte that "
		 "could have was read (its coverage is complete).</p>\n");
	size_t i;
	const json_t *p;
	json_array_foreach(j_get(report, "promises"), i, p) {
		const char *status = j_str(p, "status");
		h_fmt(h, "<div class=\"verdict %s\"><h3>", status_class(status));
		h_text(h, j_str(p, "title_zh"));
		h_raw(h, "<span class=\"en\">");
		h_text(h, j_str(p, "title_en"));
		h_raw(h, "</span>");
		status_badge(h, status);
		h_raw(h, "</h3>\n<p lang=\"zh-CN\">");
		h_promise_why_zh(h, report, p);
		h_raw(h, "</p>\n<p class=\"reason-en\" lang=\"en\">");
		h_text(h, j_str(p, "why"));
		h_fmt(h, " <span class=\"small\">(%llu conclusive, %llu indicative)</span></p>\n",
		      (unsigned long long)j_u64(p, "conclusive"), (unsigned long long)j_u64(p, "indicative"));
		promise_coverage(h, j_get(p, "coverage"));
		size_t k;
		const json_t *c;
		json_array_foreach(j_get(p, "clauses"), k, c)
			clause_quote(h, c);
		finding_links(h, report, promise_rule(j_str(p, "promise")));
		h_raw(h, "</div>\n");
	}
	h_raw(h, "</section>\n");
}

/* ---- findings ---------------------------------------------------------------- */

static void rule_title(struct html *h, const json_t *report, const json_t *f)
{
	const json_t *r = rule_of(report, j_str(f, "rule"));
	if (r && j_str(r, "title_zh")) {
		h_text(h, j_str(r, "title_zh"));
		h_raw(h, " <span class=\"en\">");
		h_text(h, j_str(r, "title_en"));
		h_raw(h, "</span>");
	} else {
		h_text_or_dash(h, j_str(f, "rule_title") ? j_str(f, "rule_title") : j_str(f, "rule"));
	}
}

/* What the recipient's attribution rests on: the catalogue's source and
 * the words report.json gives for it. */
static void catalogue_source(struct html *h, const json_t *f)
{
	const char *words = j_str(f, "recipient.catalogue.attribution");
	if (!words)
		return;
	h_raw(h, "<br><span class=\"small muted\">");
	h_text(h, j_str(f, "recipient.catalogue.attribution_zh"));
	h_raw(h, " ");
	h_text(h, words);
	h_raw(h, " Source: ");
	h_text(h, j_str(f, "recipient.catalogue.source"));
	if (j_str(f, "recipient.catalogue.source_url")) {
		h_raw(h, " <code>");
		h_text(h, j_str(f, "recipient.catalogue.source_url"));
		h_raw(h, "</code>");
	}
	h_raw(h, "</span>");
}

static void recipient_cell(struct html *h, const json_t *f)
{
	const char *name = j_str(f, "recipient.name");
	h_text_or_dash(h, name ? name : j_str(f, "recipient.id"));
}

static void packet_list(struct html *h, const json_t *f)
{
	size_t i;
	const json_t *pk;
	json_array_foreach(j_get(f, "packets"), i, pk) {
		if (json_is_integer(pk))
			h_fmt(h, "%s#%lld", i ? ", " : "", (long long)json_integer_value(pk));
	}
	if (!j_len(f, "packets"))
		h_raw(h, "<span class=\"muted\">\xe2\x80\x94</span>");
	uint64_t more = j_u64(f, "packets_more");
	if (more)
		h_fmt(h, " <span class=\"muted\">and %llu more</span>", (unsigned long long)more);
}

static void finding_overview(struct html *h, const json_t *report)
{
	h_raw(h, "<table><thead><tr><th>ID</th><th>\xe8\xa7\x84\xe5\x88\x99 Rule</th>"
		 "<th>\xe5\xbc\xba\xe5\xba\xa6 Strength</th><th>\xe6\x95\xb0\xe6\x8d\xae Data</th>"
		 "<th>\xe6\x8e\xa5\xe6\x94\xb6\xe6\x96\xb9 Recipient</th><th>\xe8\xbe\x96\xe5\x8c\xba "
		 "Jurisdiction</th><th class=\"num\">Count</th><th>\xe6\x9d\xa1\xe6\xac\xbe Clause</th>"
		 "</tr></thead><tbody>\n");
	size_t i;
	const json_t *f;
	char b[32];
	json_array_foreach(j_get(report, "findings"), i, f) {
		h_fmt(h, "<tr><td><a class=\"mono\" href=\"#f-%zu\">", i);
		h_text_or_dash(h, j_str(f, "id"));
		h_raw(h, "</a></td><td>");
		rule_title(h, report, f);
		h_raw(h, "</td><td>");
		status_badge(h, j_str(f, "strength"));
		h_raw(h, "</td><td>");
		h_data_type(h, j_str(f, "data_type"));
		h_raw(h, "</td><td>");
		recipient_cell(h, f);
		h_raw(h, "</td><td>");
		h_text_or_dash(h, j_jurisdiction(f, (char[32]){0}, 32));
		h_fmt(h, "</td><td class=\"num\">%s</td><td>", fmt_count(j_u64(f, "count"), b, sizeof b));
		h_text_or_dash(h, j_str(f, "clause.id"));
		h_raw(h, "</td></tr>\n");
	}
	h_raw(h, "</tbody></table>\n");
}

static void fact(struct html *h, const char *label)
{
	h_fmt(h, "<dt>%s</dt><dd>", label);
}

static void geo_fact(struct html *h, const json_t *geo)
{
	if (!json_is_object(geo))
		return;
	fact(h, "\xe5\x9c\xb0\xe7\x90\x86 GeoIP"); /* 地理 */
	h_text(h, j_str(geo, "country"));
	h_raw(h, " <span class=\"muted\">(");
	h_text(h, j_str(geo, "source"));
	h_raw(h, ")</span>");
	if (j_str(geo, "ip")) {
		h_raw(h, " \xe2\x80\x94 <code>");
		h_text(h, j_str(geo, "ip"));
		h_raw(h, "</code>");
	}
	if (json_is_integer(j_get(geo, "asn"))) {
		h_fmt(h, " AS%lld ", (long long)json_integer_value(j_get(geo, "asn")));
		h_text(h, j_str(geo, "as_org"));
	}
	const json_t *answers = j_get(geo, "answers");
	if (json_array_size(answers) > 1) {
		h_raw(h, json_is_true(j_get(geo, "conflict"))
				 ? " \xe2\x80\x94 <span class=\"badge b-warn\">GeoIP databases disagree</span> "
				 : " \xe2\x80\x94 databases: ");
		for (size_t i = 0; i < json_array_size(answers); i++) {
			const char *answer = json_string_value(json_array_get(answers, i));
			h_raw(h, i ? ", " : "");
			h_text(h, answer ? answer : "none");
		}
		if (json_is_true(j_get(geo, "conflict_settled_by_rtt")))
			h_raw(h, " (the handshake RTT rules out the others)");
	}
	const json_t *pl = j_get(geo, "plausibility");
	const char *verdict = j_str(pl, "verdict");
	if (verdict) {
		h_raw(h, verdict && !strcmp(verdict, "contradicted")
				 ? " \xe2\x80\x94 <span class=\"badge b-warn\">physically implausible</span> "
				 : " \xe2\x80\x94 plausibility: ");
		if (strcmp(verdict, "contradicted"))
			h_text(h, verdict);
		if (j_num(pl, "rtt_ms", -1) >= 0)
			h_fmt(h, " handshake RTT %.1f ms; %.0f km away needs \xe2\x89\xa5 %.1f ms",
			      j_num(pl, "rtt_ms", 0), j_num(pl, "distance_km", 0), j_num(pl, "bound_ms", 0));
		if (j_str(pl, "why")) {
			h_raw(h, " (");
			h_text(h, j_str(pl, "why"));
			h_raw(h, ")");
		}
	}
	h_raw(h, "</dd>\n");
}

static void observations_table(struct html *h, const json_t *f)
{
	if (!j_len(f, "observations"))
		return;
	h_raw(h, "<table class=\"obs\"><thead><tr><th class=\"num\">Packet</th><th>Time (UTC)</th>"
		 "<th class=\"num\">Flow</th><th>Protocol</th><th>\xe5\xad\x97\xe6\xae\xb5 Field</th>"
		 "<th>\xe7\xbc\x96\xe7\xa0\x81 Encoding</th></tr></thead><tbody>\n");
	size_t i;
	const json_t *o;
	json_array_foreach(j_get(f, "observations"), i, o) {
		h_fmt(h, "<tr><td class=\"num\">#%llu</td><td class=\"mono\">",
		      (unsigned long long)j_u64(o, "packet"));
		h_text_or_dash(h, j_str(o, "ts"));
		h_fmt(h, "</td><td class=\"num\">%llu</td><td>", (unsigned long long)j_u64(o, "flow_id"));
		h_text_or_dash(h, j_str(o, "protocol"));
		h_raw(h, "</td><td><code class=\"wrap\">");
		h_text_or_dash(h, j_str(o, "field"));
		h_raw(h, "</code></td><td>");
		h_text_or_dash(h, j_str(o, "encoding"));
		h_raw(h, "</td></tr>\n");
	}
	uint64_t more = j_u64(f, "observations_more");
	if (more)
		h_fmt(h, "<tr><td colspan=\"6\" class=\"muted\">and %llu more observations</td></tr>\n",
		      (unsigned long long)more);
	h_raw(h, "</tbody></table>\n");
}

static void finding_card(struct html *h, const json_t *report, const json_t *f, size_t index)
{
	char b1[32];
	h_fmt(h, "<article class=\"finding %s\" id=\"f-%zu\"><h3><span class=\"fid\">",
	      status_class(j_str(f, "strength")), index);
	h_text_or_dash(h, j_str(f, "id"));
	h_raw(h, "</span>");
	rule_title(h, report, f);
	status_badge(h, j_str(f, "strength"));
	h_raw(h, "</h3>\n<p lang=\"zh-CN\">");
	h_finding_reason_zh(h, report, f);
	h_raw(h, "</p>\n<p class=\"reason-en\" lang=\"en\">");
	h_text(h, j_str(f, "reason"));
	h_raw(h, "</p>\n<dl class=\"facts\">\n");
	fact(h, "\xe6\x95\xb0\xe6\x8d\xae\xe7\xb1\xbb\xe5\x9e\x8b Data type"); /* 数据类型 */
	h_data_type(h, j_str(f, "data_type"));
	h_raw(h, "</dd>\n");
	fact(h, "\xe6\x8e\xa5\xe6\x94\xb6\xe6\x96\xb9 Recipient"); /* 接收方 */
	recipient_cell(h, f);
	h_raw(h, " <span class=\"muted small\">(");
	h_text(h, j_str(f, "recipient.kind"));
	if (j_str(f, "recipient.organisation")) {
		h_raw(h, "; ");
		h_text(h, j_str(f, "recipient.organisation"));
	}
	h_raw(h, ")</span>");
	size_t i;
	const json_t *host;
	json_array_foreach(j_get(f, "recipient.hosts"), i, host) {
		h_raw(h, i ? ", " : "<br><span class=\"small\">hosts: ");
		h_raw(h, "<code>");
		h_text(h, json_string_value(host));
		h_raw(h, "</code>");
	}
	if (j_len(f, "recipient.hosts"))
		h_raw(h, "</span>");
	catalogue_source(h, f);
	h_raw(h, "</dd>\n");
	fact(h, "\xe5\x8f\xb8\xe6\xb3\x95\xe8\xbe\x96\xe5\x8c\xba Jurisdiction"); /* 司法辖区 */
	h_text_or_dash(h, j_jurisdiction(f, (char[32]){0}, 32));
	h_raw(h, "</dd>\n");
	geo_fact(h, j_get(f, "geo"));
	fact(h, "\xe6\xac\xa1\xe6\x95\xb0 Seen"); /* 次数 */
	h_fmt(h, "%s time(s) in %zu flow(s)", fmt_count(j_u64(f, "count"), b1, sizeof b1),
	      j_len(f, "flows") + (size_t)j_u64(f, "flows_more"));
	if (j_str(f, "first_seen")) {
		h_raw(h, ", ");
		h_text(h, j_str(f, "first_seen"));
		if (j_str(f, "last_seen") && strcmp(j_str(f, "last_seen"), j_str(f, "first_seen"))) {
			h_raw(h, " \xe2\x80\x93 ");
			h_text(h, j_str(f, "last_seen"));
		}
	}
	h_raw(h, "</dd>\n");
	fact(h, "\xe6\x95\xb0\xe6\x8d\xae\xe5\x8c\x85 Packets"); /* 数据包 */
	packet_list(h, f);
	h_raw(h, " <span class=\"muted small\">(numbered across the inputs, from 1)</span></dd>\n");
	fact(h, "\xe8\xaf\x81\xe6\x8d\xae Evidence"); /* 证据 */
	h_raw(h, "<code>");
	h_text_or_dash(h, j_str(f, "evidence"));
	h_raw(h, "</code></dd>\n</dl>\n");
	clause_quote(h, j_get(f, "clause"));
	observations_table(h, f);
	h_raw(h, "</article>\n");
}

static void section_findings(struct html *h, const json_t *report)
{
	section_heading(h, "findings", "3. \xe5\x8f\x91\xe7\x8e\xb0", "Findings");
	size_t n = j_len(report, "findings");
	if (!n) {
		h_raw(h, json_is_object(j_get(report, "policy"))
				 ? "<p><span class=\"badge b-good\">\xe6\x97\xa0 none</span> No traffic "
				   "contradicted the policy. Check section 7 for what could not be read.</p>\n"
				 : "<p class=\"muted\">No findings: without a policy there is nothing to "
				   "contradict.</p>\n");
		h_raw(h, "</section>\n");
		return;
	}
	h_raw(h, "<p class=\"small muted\">Each finding names the promise it contradicts, quotes the "
		 "clause, and lists the packets that show it; its packets are copied into the evidence "
		 "file named on the card (open it in Wireshark).</p>\n");
	finding_overview(h, report);
	size_t i;
	const json_t *f;
	json_array_foreach(j_get(report, "findings"), i, f)
		finding_card(h, report, f, i);
	h_raw(h, "</section>\n");
}

/* ---- the page ---------------------------------------------------------------- */

static void footer(struct html *h, const json_t *report)
{
	char b1[32], b2[32];
	h_raw(h, "<footer>\xe6\x9c\xac\xe6\x8a\xa5\xe5\x91\x8a\xe7\x94\xb1 ");
	h_text(h, j_str(report, "tool.name") ? j_str(report, "tool.name") : "privaudit");
	h_raw(h, " ");
	h_text(h, j_str(report, "tool.version"));
	h_raw(h, " \xe7\x94\x9f\xe6\x88\x90 \xc2\xb7 Generated from report.json. ");
	if (json_is_true(j_get(report, "evidence.written")))
		h_fmt(h, "Evidence: %s file(s) with %s packet(s) in <code>evidence/</code>. ",
		      fmt_count(j_u64(report, "evidence.files"), b1, sizeof b1),
		      fmt_count(j_u64(report, "evidence.packets"), b2, sizeof b2));
	h_raw(h, "The inputs were never modified; <code>privaudit verify DIR</code> checks that no "
		 "file of this folder changed since.</footer>\n");
}

/* A digest is exactly 64 lower-case hex digits: anything else is not
 * printed (it goes into markup and a CSS string unescaped). */
static bool valid_digest(const char *hex)
{
	if (!hex || strlen(hex) != 64)
		return false;
	for (const char *c = hex; *c; c++)
		if (!strchr("0123456789abcdef", *c))
			return false;
	return true;
}

char *report_html_render(const json_t *report, struct pa_error *err)
{
	return report_html_render_digest(report, NULL, err);
}

char *report_html_render_digest(const json_t *report, const char *digest_hex, struct pa_error *err)
{
	struct html h = {0};
	if (!valid_digest(digest_hex))
		digest_hex = NULL;
	h_raw(&h, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
		  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		  /* Nothing may load: no script, no remote asset, even if markup slipped in. */
		  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		  "style-src 'unsafe-inline'; img-src data:\">\n");
	if (digest_hex)
		h_fmt(&h, "<meta name=\"" PAGE_DIGEST_META "\" content=\"%s\">\n", digest_hex);
	h_raw(&h, "<title>");
	h_raw(&h, "\xe9\x9a\x90\xe7\xa7\x81\xe5\xae\xa1\xe8\xae\xa1\xe6\x8a\xa5\xe5\x91\x8a Privacy audit");
	if (j_str(report, "policy.app")) {
		h_raw(&h, " \xe2\x80\x94 ");
		h_text(&h, j_str(report, "policy.app"));
	}
	h_raw(&h, "</title>\n<style>\n");
	h_raw(&h, style);
	print_style(&h, digest_hex);
	h_raw(&h, "</style>\n</head>\n<body>\n<main>\n");
	header(&h, report, digest_hex);
	table_of_contents(&h);
	html_section_inputs(&h, report);
	section_verdicts(&h, report);
	section_findings(&h, report);
	html_section_destinations(&h, report);
	html_section_timeline(&h, report);
	html_section_matrix(&h, report);
	html_section_uninspected(&h, report);
	html_section_plausibility(&h, report);
	html_section_rules(&h, report);
	html_section_checklist(&h, report);
	footer(&h, report);
	h_raw(&h, "</main>\n</body>\n</html>\n");
	if (h.overflow) {
		free(h.buf);
		pa_error_set(err, "report.html would exceed %u MiB", HTML_MAX_BYTES >> 20);
		return NULL;
	}
	return h.buf;
}

bool report_html_write(const char *dir, const json_t *report, struct pa_error *err)
{
	return report_html_write_digest(dir, report, NULL, err);
}

bool report_html_write_digest(const char *dir, const json_t *report, const char *digest_hex,
			      struct pa_error *err)
{
	char *page = report_html_render_digest(report, digest_hex, err);
	if (!page)
		return false;
	char path[4096];
	snprintf(path, sizeof path, "%s/report.html", dir);
	bool ok = pa_atomic_write(path, page, strlen(page), 0, err);
	free(page);
	return ok;
}
