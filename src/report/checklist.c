/*
 * checklist.c — loading a checklist file (checklist.h) and the checklist
 * compiled into the binary (the build turns policies/checklists/
 * rendingfangfa.yaml into the bytes checklist_rendingfangfa_data.c holds).
 */
#include "report/checklist.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/findings.h"
#include "util/yaml_doc.h"

/* Made by the build from policies/checklists/rendingfangfa.yaml
 * (tools/embed-file.cmake). */
extern const unsigned char pa_checklist_rendingfangfa[];
extern const size_t pa_checklist_rendingfangfa_len;

struct loader {
	struct yaml_doc *y;
	struct pa_diag *diag;
	struct checklist *c;
	size_t item_cap;
};

static bool known_rule(const char *id)
{
	for (int r = 0; r < RULE_COUNT; r++)
		if (finding_rule_info(r) && !strcmp(finding_rule_info(r)->id, id))
			return true;
	return false;
}

static void load_rules(struct loader *ld, const yaml_node_t *map, struct checklist_item *it)
{
	yaml_node_t *rules = yaml_map_get(ld->y, map, "rules");
	unsigned line = yaml_node_line(map);
	if (it->traffic != CHECK_BY_RULES) {
		if (rules)
			pa_diag_error(ld->diag, ld->y->path, yaml_node_line(rules),
				      "item %s.%u: 'rules' only goes with 'traffic: rules'", it->category,
				      it->number);
		return;
	}
	if (!rules || !yaml_node_is_seq(rules) || !yaml_seq_size(rules)) {
		pa_diag_error(ld->diag, ld->y->path, rules ? yaml_node_line(rules) : line,
			      "item %s.%u: 'traffic: rules' needs a list of rule ids under 'rules'",
			      it->category, it->number);
		return;
	}
	for (size_t i = 0; i < yaml_seq_size(rules); i++) {
		yaml_node_t *r = yaml_seq_at(ld->y, rules, i);
		const char *id = yaml_node_scalar(r);
		if (!id || !known_rule(id)) {
			pa_diag_error(ld->diag, ld->y->path, yaml_node_line(r),
				      "item %s.%u: '%s' is not a rule id (residency, encryption, "
				      "undeclared-recipient, beyond-scope, undeclared-type, "
				      "before-consent, evasion)", it->category, it->number, id ? id : "?");
			continue;
		}
		if (it->rule_count == CHECKLIST_MAX_RULES) {
			pa_diag_error(ld->diag, ld->y->path, yaml_node_line(r),
				      "item %s.%u: more than %d rules", it->category, it->number,
				      CHECKLIST_MAX_RULES);
			return;
		}
		it->rules[it->rule_count++] = pa_xstrdup(id);
	}
}

static void load_item(struct loader *ld, const yaml_node_t *map, struct checklist_category *cat)
{
	static const char *const keys[] = {"number", "text_zh", "text_en", "verified", "traffic",
					   "rules",  "how_zh",  "how_en",  NULL};
	unsigned line = yaml_node_line(map);
	if (!yaml_node_is_map(map)) {
		pa_diag_error(ld->diag, ld->y->path, line, "category %s: an item is a mapping", cat->number);
		return;
	}
	yaml_check_keys(ld->y, ld->diag, map, "checklist item", keys);
	struct checklist *c = ld->c;
	if (c->item_count == ld->item_cap) {
		ld->item_cap = ld->item_cap ? ld->item_cap * 2 : 32;
		c->items = pa_xrealloc(c->items, ld->item_cap * sizeof *c->items);
	}
	struct checklist_item *it = &c->items[c->item_count];
	memset(it, 0, sizeof *it);
	it->category = pa_xstrdup(cat->number);
	char *number = yaml_get_string(ld->y, ld->diag, map, "number", true);
	char *end = NULL;
	unsigned long n = number ? strtoul(number, &end, 10) : 0;
	if (number && (!*number || *end || n == 0 || n > 99))
		pa_diag_error(ld->diag, ld->y->path, line, "category %s: item number '%s' is not 1..99",
			      cat->number, number);
	it->number = (unsigned)n;
	free(number);
	if (it->number != cat->count + 1)
		pa_diag_error(ld->diag, ld->y->path, line,
			      "category %s: item %u follows item %zu; items are numbered 1, 2, ... in order",
			      cat->number, it->number, cat->count);
	it->text_zh = yaml_get_string(ld->y, ld->diag, map, "text_zh", true);
	it->text_en = yaml_get_string(ld->y, ld->diag, map, "text_en", true);
	it->how_zh = yaml_get_string(ld->y, ld->diag, map, "how_zh", true);
	it->how_en = yaml_get_string(ld->y, ld->diag, map, "how_en", true);
	it->verified = yaml_get_string(ld->y, ld->diag, map, "verified", true);
	if (it->verified && strcmp(it->verified, "exact") && strcmp(it->verified, "meaning") &&
	    strcmp(it->verified, "unchecked"))
		pa_diag_error(ld->diag, ld->y->path, line,
			      "item %s.%u: verified is exact, meaning or unchecked, not '%s'",
			      cat->number, it->number, it->verified);
	char *traffic = yaml_get_string(ld->y, ld->diag, map, "traffic", true);
	if (traffic && !strcmp(traffic, "rules"))
		it->traffic = CHECK_BY_RULES;
	else if (traffic && !strcmp(traffic, "judgement"))
		it->traffic = CHECK_BY_JUDGEMENT;
	else if (traffic && !strcmp(traffic, "manual"))
		it->traffic = CHECK_MANUAL;
	else if (traffic)
		pa_diag_error(ld->diag, ld->y->path, line,
			      "item %s.%u: traffic is rules, judgement or manual, not '%s'", cat->number,
			      it->number, traffic);
	free(traffic);
	c->item_count++;
	cat->count++;
	load_rules(ld, map, it);
}

static void load_category(struct loader *ld, const yaml_node_t *map)
{
	static const char *const keys[] = {"number", "title_zh", "title_en", "items", NULL};
	struct checklist *c = ld->c;
	if (!yaml_node_is_map(map)) {
		pa_diag_error(ld->diag, ld->y->path, yaml_node_line(map), "a category is a mapping");
		return;
	}
	yaml_check_keys(ld->y, ld->diag, map, "checklist category", keys);
	c->categories = pa_xrealloc(c->categories, (c->category_count + 1) * sizeof *c->categories);
	struct checklist_category *cat = &c->categories[c->category_count++];
	memset(cat, 0, sizeof *cat);
	cat->number = yaml_get_string(ld->y, ld->diag, map, "number", true);
	if (!cat->number)
		cat->number = pa_xstrdup("?");
	cat->title_zh = yaml_get_string(ld->y, ld->diag, map, "title_zh", true);
	cat->title_en = yaml_get_string(ld->y, ld->diag, map, "title_en", true);
	cat->first = c->item_count;
	yaml_node_t *items = yaml_map_get(ld->y, map, "items");
	if (!items || !yaml_node_is_seq(items) || !yaml_seq_size(items)) {
		pa_diag_error(ld->diag, ld->y->path, yaml_node_line(map),
			      "category %s: 'items' must be a non-empty list", cat->number);
		return;
	}
	for (size_t i = 0; i < yaml_seq_size(items); i++)
		load_item(ld, yaml_seq_at(ld->y, items, i), cat);
}

static void *load_doc(struct yaml_doc *y, struct pa_diag *diag)
{
	static const char *const top[] = {"document", "categories", NULL};
	static const char *const doc_keys[] = {"title_zh", "title_en", "reference", NULL};
	size_t errors = diag->errors;
	struct loader ld = {.y = y, .diag = diag, .c = pa_xcalloc(1, sizeof(struct checklist))};
	yaml_node_t *root = yaml_doc_root(y);
	if (!root || !yaml_node_is_map(root)) {
		pa_diag_error(diag, y->path, root ? yaml_node_line(root) : 1,
			      "a checklist is a mapping with 'document' and 'categories'");
		checklist_free(ld.c);
		return NULL;
	}
	yaml_check_keys(y, diag, root, "checklist", top);
	yaml_node_t *doc = yaml_map_get(y, root, "document");
	if (!doc || !yaml_node_is_map(doc)) {
		pa_diag_error(diag, y->path, yaml_node_line(root), "missing required mapping 'document'");
	} else {
		yaml_check_keys(y, diag, doc, "document", doc_keys);
		ld.c->title_zh = yaml_get_string(y, diag, doc, "title_zh", true);
		ld.c->title_en = yaml_get_string(y, diag, doc, "title_en", true);
		ld.c->reference = yaml_get_string(y, diag, doc, "reference", true);
	}
	yaml_node_t *cats = yaml_map_get(y, root, "categories");
	if (!cats || !yaml_node_is_seq(cats) || !yaml_seq_size(cats))
		pa_diag_error(diag, y->path, yaml_node_line(root), "'categories' must be a non-empty list");
	else
		for (size_t i = 0; i < yaml_seq_size(cats); i++)
			load_category(&ld, yaml_seq_at(y, cats, i));
	if (diag->errors != errors) {
		checklist_free(ld.c);
		return NULL;
	}
	return ld.c;
}

struct checklist *checklist_load(const char *path, const unsigned char *buf, size_t len,
				 struct pa_diag *diag)
{
	return yaml_doc_parse(path, buf, len, diag, load_doc);
}

void checklist_free(struct checklist *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->item_count; i++) {
		struct checklist_item *it = &c->items[i];
		free(it->category);
		free(it->text_zh);
		free(it->text_en);
		free(it->verified);
		free(it->how_zh);
		free(it->how_en);
		for (size_t k = 0; k < it->rule_count; k++)
			free(it->rules[k]);
	}
	for (size_t i = 0; i < c->category_count; i++) {
		free(c->categories[i].number);
		free(c->categories[i].title_zh);
		free(c->categories[i].title_en);
	}
	free(c->items);
	free(c->categories);
	free(c->title_zh);
	free(c->title_en);
	free(c->reference);
	free(c);
}

static struct checklist *builtin;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void free_builtin(void)
{
	checklist_free(builtin);
	builtin = NULL;
}

static void load_builtin(void)
{
	struct pa_diag diag = {.out = stderr};
	builtin = checklist_load("policies/checklists/rendingfangfa.yaml (built in)",
				 pa_checklist_rendingfangfa, pa_checklist_rendingfangfa_len, &diag);
	if (!builtin) /* the build and test-checklist keep this from happening */
		builtin = pa_xcalloc(1, sizeof *builtin);
	atexit(free_builtin);
}

const struct checklist *checklist_builtin(void)
{
	pthread_once(&builtin_once, load_builtin);
	return builtin;
}
