/*
 * checklist.h — the items of a regulator's checklist (today:
 * 《App违法违规收集使用个人信息行为认定方法》, policies/checklists/
 * rendingfangfa.yaml, compiled into the binary) and, per item, whether
 * network traffic can test it and by which rules. report.html prints one
 * row per item with the audit's result (report_html_checklist.c).
 */
#ifndef PA_CHECKLIST_H
#define PA_CHECKLIST_H

#include <stddef.h>

#include "util/diag.h"

#define CHECKLIST_MAX_RULES 8

/* What traffic can say about an item (the data file's "traffic"). */
enum checklist_traffic {
	CHECK_BY_RULES,     /* rules test it: violated when one raised a conclusive finding */
	CHECK_BY_JUDGEMENT, /* traffic shows the facts; the auditor judges them */
	CHECK_MANUAL,       /* not testable from traffic */
};

struct checklist_item {
	char *category;   /* "三" */
	unsigned number;  /* 1 */
	char *text_zh, *text_en;
	char *verified;   /* "exact", "meaning" or "unchecked" */
	enum checklist_traffic traffic;
	char *rules[CHECKLIST_MAX_RULES]; /* rule ids (rule_report.c) */
	size_t rule_count;
	char *how_zh, *how_en;
};

struct checklist_category {
	char *number; /* "一" .. "六" */
	char *title_zh, *title_en;
	size_t first, count; /* its items: items[first .. first+count) */
};

struct checklist {
	char *title_zh, *title_en, *reference;
	struct checklist_category *categories;
	size_t category_count;
	struct checklist_item *items;
	size_t item_count;
};

/* Loads a checklist file (buf NULL) or len bytes at buf (path in messages
 * only). NULL after reporting every problem as "file:line: what" to diag. */
struct checklist *checklist_load(const char *path, const unsigned char *buf, size_t len,
				 struct pa_diag *diag);
void checklist_free(struct checklist *c);

/* The checklist built into this binary, parsed once; never NULL (the build
 * and a unit test make sure the file parses). */
const struct checklist *checklist_builtin(void);

#endif
