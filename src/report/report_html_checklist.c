/*
 * report_html_checklist.c — section 10 of report.html: every item of
 * 《App违法违规收集使用个人信息行为认定方法》 (checklist.h) with what this audit
 * says about it. An item the rules test is violated when one of its rules
 * raised a conclusive finding; not found when the promise behind each of
 * its rules was kept (nothing contradicts it and every byte that could was
 * read); not verifiable otherwise, with the promises' reasons. Items whose
 * facts traffic shows but cannot judge, and items traffic cannot test, are
 * marked as such, with what the auditor checks instead.
 */
#include <stdio.h>
#include <string.h>

#include "report/checklist.h"
#include "report/report_html_internal.h"

enum item_result { ITEM_VIOLATED, ITEM_NOT_FOUND, ITEM_NOT_VERIFIABLE, ITEM_JUDGEMENT, ITEM_MANUAL };

static const struct {
	const char *cls, *words;
} result_words[] = {
	[ITEM_VIOLATED] = {"bad", "违反 violated"},
	[ITEM_NOT_FOUND] = {"good", "未发现 not found"},
	[ITEM_NOT_VERIFIABLE] = {"warn", "无法验证 not verifiable"},
	[ITEM_JUDGEMENT] = {"warn", "需审计人判断 auditor's judgement"},
	[ITEM_MANUAL] = {"info", "非流量可测 manual check"},
};

/* The promise a rule's findings contradict (rule_report.c decide_promises). */
static const char *rule_promise(const char *rule)
{
	static const char *const map[][2] = {
		{"residency", "residency"},       {"encryption", "encryption"},
		{"undeclared-recipient", "recipients"}, {"beyond-scope", "scope"},
		{"undeclared-type", "data-types"}, {"before-consent", "consent"},
	};
	for (size_t i = 0; rule && i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(rule, map[i][0]))
			return map[i][1];
	return NULL;
}

static const json_t *promise_of(const json_t *report, const char *promise)
{
	size_t i;
	const json_t *p;
	json_array_foreach(j_get(report, "promises"), i, p)
		if (promise && j_str(p, "promise") && !strcmp(j_str(p, "promise"), promise))
			return p;
	return NULL;
}

static bool item_has_rule(const struct checklist_item *it, const char *rule)
{
	for (size_t k = 0; rule && k < it->rule_count; k++)
		if (!strcmp(it->rules[k], rule))
			return true;
	return false;
}

/* Findings of the item's rules: how many, and how many conclusive. */
static size_t item_findings(const json_t *report, const struct checklist_item *it,
			    size_t *conclusive)
{
	size_t n = 0, i;
	const json_t *f;
	*conclusive = 0;
	json_array_foreach(j_get(report, "findings"), i, f) {
		if (!item_has_rule(it, j_str(f, "rule")))
			continue;
		n++;
		if (j_str(f, "strength") && !strcmp(j_str(f, "strength"), "conclusive"))
			(*conclusive)++;
	}
	return n;
}

static enum item_result item_result(const json_t *report, const struct checklist_item *it)
{
	if (it->traffic == CHECK_MANUAL)
		return ITEM_MANUAL;
	if (it->traffic == CHECK_BY_JUDGEMENT)
		return ITEM_JUDGEMENT;
	size_t conclusive;
	item_findings(report, it, &conclusive);
	if (conclusive)
		return ITEM_VIOLATED;
	if (!json_is_object(j_get(report, "policy")))
		return ITEM_NOT_VERIFIABLE;
	size_t judged = 0;
	for (size_t k = 0; k < it->rule_count; k++) {
		const json_t *p = promise_of(report, rule_promise(it->rules[k]));
		if (!p)
			continue; /* the policy makes no such promise (encryption) */
		judged++;
		if (!j_str(p, "status") || strcmp(j_str(p, "status"), "kept"))
			return ITEM_NOT_VERIFIABLE;
	}
	return judged ? ITEM_NOT_FOUND : ITEM_NOT_VERIFIABLE;
}

/* The findings behind a violated item, each linking to its card. */
static void finding_links(struct html *h, const json_t *report, const struct checklist_item *it)
{
	size_t i, n = 0;
	const json_t *f;
	json_array_foreach(j_get(report, "findings"), i, f) {
		if (!item_has_rule(it, j_str(f, "rule")))
			continue;
		bool conclusive = j_str(f, "strength") && !strcmp(j_str(f, "strength"), "conclusive");
		h_raw(h, n++ ? ", " : "<br><span class=\"small\">\xe5\x8f\x91\xe7\x8e\xb0 Findings: ");
		h_fmt(h, "<a class=\"mono%s\" href=\"#f-%zu\">", conclusive ? "" : " muted", i);
		h_text(h, j_str(f, "id"));
		h_raw(h, "</a>");
	}
	if (n)
		h_raw(h, "</span>");
}

/* Why an item the rules test cannot be decided: each promise's reason. */
static void not_verifiable_why(struct html *h, const json_t *report, const struct checklist_item *it)
{
	if (!json_is_object(j_get(report, "policy"))) {
		h_raw(h, "<br><span class=\"small\">未提供隐私政策（--policy），没有可对照的承诺。 "
			 "No policy was given (--policy): there is no promise to compare the traffic with."
			 "</span>");
		return;
	}
	bool any = false;
	for (size_t k = 0; k < it->rule_count; k++) {
		const char *promise = rule_promise(it->rules[k]);
		const json_t *p = promise_of(report, promise);
		if (!p || (j_str(p, "status") && !strcmp(j_str(p, "status"), "kept")))
			continue;
		/* One line per promise, even when two rules share it. */
		bool seen = false;
		for (size_t m = 0; m < k; m++)
			seen = seen || (rule_promise(it->rules[m]) &&
					!strcmp(rule_promise(it->rules[m]), promise));
		if (seen)
			continue;
		any = true;
		h_raw(h, "<br><span class=\"small\"><b>");
		h_text(h, j_str(p, "title_zh"));
		h_raw(h, "</b> ");
		h_promise_why_zh(h, report, p);
		h_raw(h, " <span class=\"muted\" lang=\"en\">");
		h_text(h, j_str(p, "why"));
		h_raw(h, "</span></span>");
	}
	if (!any)
		h_raw(h, "<br><span class=\"small\">隐私政策未作出这些规则所检验的承诺。 The policy makes "
			 "none of the promises these rules test.</span>");
}

static void rule_list(struct html *h, const struct checklist_item *it)
{
	for (size_t k = 0; k < it->rule_count; k++) {
		h_raw(h, k ? ", " : "<br><span class=\"small muted\">\xe8\xa7\x84\xe5\x88\x99 Rules: ");
		h_raw(h, "<code>");
		h_text(h, it->rules[k]);
		h_raw(h, "</code>");
	}
	if (it->rule_count)
		h_raw(h, "</span>");
}

static void item_row(struct html *h, const json_t *report, const struct checklist_item *it,
		     enum item_result r)
{
	h_fmt(h, "<tr class=\"check-%s\"><td class=\"mono\">", result_words[r].cls);
	h_text(h, it->category);
	h_fmt(h, ".%u</td><td><span lang=\"zh-CN\">", it->number);
	h_text(h, it->text_zh);
	h_raw(h, "</span>");
	if (strcmp(it->verified ? it->verified : "", "exact"))
		h_raw(h, " <span class=\"muted small\" title=\"the Chinese wording was not matched word for "
			 "word against a public copy of the document\">\xe2\x80\xa0</span>"); /* † */
	h_raw(h, "<br><span class=\"en small\" lang=\"en\">");
	h_text(h, it->text_en);
	h_fmt(h, "</span></td><td><span class=\"badge b-%s\">%s</span>", result_words[r].cls,
	      result_words[r].words);
	if (r == ITEM_VIOLATED)
		finding_links(h, report, it);
	else if (r == ITEM_NOT_VERIFIABLE)
		not_verifiable_why(h, report, it);
	if (r == ITEM_JUDGEMENT || r == ITEM_MANUAL || r == ITEM_NOT_FOUND) {
		h_raw(h, "<br><span class=\"small\">");
		h_text(h, it->how_zh);
		h_raw(h, " <span class=\"muted\" lang=\"en\">");
		h_text(h, it->how_en);
		h_raw(h, "</span></span>");
	}
	rule_list(h, it);
	h_raw(h, "</td></tr>\n");
}

size_t html_checklist_violated(const json_t *report, size_t *items)
{
	const struct checklist *c = checklist_builtin();
	size_t n = 0;
	for (size_t i = 0; i < c->item_count; i++)
		n += item_result(report, &c->items[i]) == ITEM_VIOLATED;
	*items = c->item_count;
	return n;
}

void html_section_checklist(struct html *h, const json_t *report)
{
	const struct checklist *c = checklist_builtin();
	h_raw(h, "<section id=\"checklist\">\n<h2>10. \xe8\xae\xa4\xe5\xae\x9a\xe6\x96\xb9\xe6\xb3\x95\xe6\xa3"
		 "\x80\xe6\x9f\xa5\xe8\xa1\xa8<span class=\"en\">Checklist against the 2019 identification "
		 "methods</span></h2>\n"); /* 认定方法检查表 */
	if (!c->item_count) {
		h_raw(h, "<p class=\"muted\">The checklist built into this privaudit could not be read.</p>\n"
			 "</section>\n");
		return;
	}
	size_t counts[5] = {0};
	for (size_t i = 0; i < c->item_count; i++)
		counts[item_result(report, &c->items[i])]++;
	h_raw(h, "<p>\xe3\x80\x8a");
	h_text(h, c->title_zh);
	h_raw(h, "\xe3\x80\x8b\xef\xbc\x88");
	h_text(h, c->reference);
	h_raw(h, "\xef\xbc\x89 <span class=\"muted\">");
	h_text(h, c->title_en);
	h_fmt(h, "</span>: %zu items in %zu categories. Network traffic tests some of them; the others "
	      "need the app, its policy text or the operator's records.</p>\n",
	      c->item_count, c->category_count);
	h_raw(h, "<div class=\"cards\">\n");
	static const enum item_result order[] = {ITEM_VIOLATED, ITEM_NOT_FOUND, ITEM_NOT_VERIFIABLE,
						 ITEM_JUDGEMENT, ITEM_MANUAL};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		h_fmt(h, "<div class=\"card %s\"><div class=\"n\">%zu</div><div class=\"l\">%s</div></div>\n",
		      counts[order[i]] && order[i] != ITEM_MANUAL ? result_words[order[i]].cls : "",
		      counts[order[i]], result_words[order[i]].words);
	h_raw(h, "</div>\n<p class=\"small muted\"><b>违反 violated</b>: a rule that tests the item raised a "
		 "conclusive finding. <b>未发现 not found</b>: the policy's promise behind each of its rules "
		 "was kept and every byte that could contradict it was read \xe2\x80\x94 this audit's "
		 "traffic only, not the app's every use. <b>无法验证 not verifiable</b>: only indicative "
		 "findings, or unread bytes, no consent moment, no policy. \xe2\x80\xa0: the Chinese "
		 "wording is given as known and was not matched word for word against a public copy "
		 "(policies/checklists/rendingfangfa.yaml says how each item was checked); quote the "
		 "official text.</p>\n");
	for (size_t ci = 0; ci < c->category_count; ci++) {
		const struct checklist_category *cat = &c->categories[ci];
		h_raw(h, "<h3>");
		h_text(h, cat->number);
		h_raw(h, "\xe3\x80\x81");
		h_text(h, cat->title_zh);
		h_raw(h, "<span class=\"en\">");
		h_text(h, cat->title_en);
		h_raw(h, "</span></h3>\n<table class=\"checklist\"><thead><tr><th style=\"width:5%\">"
			 "\xe9\xa1\xb9 Item</th><th style=\"width:55%\">\xe8\xa1\x8c\xe4\xb8\xba Conduct</th>"
			 "<th>\xe7\xbb\x93\xe6\x9e\x9c Result</th></tr></thead><tbody>\n");
		for (size_t i = cat->first; i < cat->first + cat->count && i < c->item_count; i++)
			item_row(h, report, &c->items[i], item_result(report, &c->items[i]));
		h_raw(h, "</tbody></table>\n");
	}
	h_raw(h, "</section>\n");
}
