/* yaml_doc.c — libyaml document loading with line numbers. */
#include "util/yaml_doc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "privaudit.h"

static bool load(struct yaml_doc *y, yaml_parser_t *p, struct pa_diag *diag)
{
	if (!yaml_parser_load(p, &y->doc)) {
		unsigned line = (unsigned)p->problem_mark.line + 1;
		pa_diag_error(diag, y->path, line, "YAML syntax error: %s%s%s",
			      p->problem ? p->problem : "unknown problem",
			      p->context ? " " : "", p->context ? p->context : "");
		yaml_parser_delete(p);
		return false;
	}
	yaml_parser_delete(p);
	y->loaded = true;
	return true;
}

bool yaml_doc_load(struct yaml_doc *y, const char *path, struct pa_diag *diag)
{
	memset(y, 0, sizeof *y);
	y->path = path;
	FILE *f = fopen(path, "rb");
	if (!f) {
		pa_diag_error(diag, path, 0, "%s", strerror(errno));
		return false;
	}
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	bool ok = load(y, &p, diag);
	fclose(f);
	return ok;
}

bool yaml_doc_load_buffer(struct yaml_doc *y, const char *path, const unsigned char *buf,
			  size_t len, struct pa_diag *diag)
{
	memset(y, 0, sizeof *y);
	y->path = path;
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, buf, len);
	return load(y, &p, diag);
}

void yaml_doc_free(struct yaml_doc *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = false;
}

yaml_node_t *yaml_doc_root(struct yaml_doc *y)
{
	return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

unsigned yaml_node_line(const yaml_node_t *n)
{
	return n ? (unsigned)n->start_mark.line + 1 : 0;
}

const char *yaml_node_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

bool yaml_node_is_map(const yaml_node_t *n)
{
	return n && n->type == YAML_MAPPING_NODE;
}

bool yaml_node_is_seq(const yaml_node_t *n)
{
	return n && n->type == YAML_SEQUENCE_NODE;
}

yaml_node_t *yaml_map_get(struct yaml_doc *y, const yaml_node_t *map, const char *key)
{
	if (!yaml_node_is_map(map))
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = yaml_node_scalar(yaml_document_get_node(&y->doc, p->key));
		if (k && strcmp(k, key) == 0)
			return yaml_document_get_node(&y->doc, p->value);
	}
	return NULL;
}

size_t yaml_map_size(const yaml_node_t *map)
{
	if (!yaml_node_is_map(map))
		return 0;
	return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

yaml_node_t *yaml_map_at(struct yaml_doc *y, const yaml_node_t *map, size_t i, yaml_node_t **value)
{
	if (i >= yaml_map_size(map))
		return NULL;
	yaml_node_pair_t *p = map->data.mapping.pairs.start + i;
	if (value)
		*value = yaml_document_get_node(&y->doc, p->value);
	return yaml_document_get_node(&y->doc, p->key);
}

size_t yaml_seq_size(const yaml_node_t *seq)
{
	if (!yaml_node_is_seq(seq))
		return 0;
	return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *yaml_seq_at(struct yaml_doc *y, const yaml_node_t *seq, size_t i)
{
	if (i >= yaml_seq_size(seq))
		return NULL;
	return yaml_document_get_node(&y->doc, seq->data.sequence.items.start[i]);
}

void *yaml_doc_parse(const char *path, const unsigned char *buf, size_t len, struct pa_diag *diag,
		     void *(*parse)(struct yaml_doc *y, struct pa_diag *diag))
{
	struct yaml_doc y;
	bool loaded = buf ? yaml_doc_load_buffer(&y, path, buf, len, diag)
			  : yaml_doc_load(&y, path, diag);
	if (!loaded)
		return NULL;
	void *result = parse(&y, diag);
	yaml_doc_free(&y);
	return result;
}

void yaml_check_keys(struct yaml_doc *y, struct pa_diag *diag, const yaml_node_t *map,
		     const char *what, const char *const *allowed)
{
	for (size_t i = 0; i < yaml_map_size(map); i++) {
		yaml_node_t *key = yaml_map_at(y, map, i, NULL);
		const char *k = yaml_node_scalar(key);
		bool known = false;
		for (size_t j = 0; k && allowed[j]; j++)
			if (!strcmp(allowed[j], k))
				known = true;
		if (!k)
			pa_diag_error(diag, y->path, yaml_node_line(key), "%s: keys must be plain words",
				      what);
		else if (!known)
			pa_diag_error(diag, y->path, yaml_node_line(key), "%s: unknown key '%s'", what, k);
	}
}

char *yaml_get_string(struct yaml_doc *y, struct pa_diag *diag, const yaml_node_t *map,
		      const char *key, bool required)
{
	yaml_node_t *n = yaml_map_get(y, map, key);
	if (!n) {
		if (required)
			pa_diag_error(diag, y->path, yaml_node_line(map), "missing required '%s'", key);
		return NULL;
	}
	const char *s = yaml_node_scalar(n);
	if (!s) {
		pa_diag_error(diag, y->path, yaml_node_line(n), "'%s' must be a single value", key);
		return NULL;
	}
	if (!*s) {
		pa_diag_error(diag, y->path, yaml_node_line(n), "'%s' is empty", key);
		return NULL;
	}
	return pa_xstrdup(s);
}
