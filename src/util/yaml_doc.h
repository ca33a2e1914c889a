/*
 * yaml_doc.h — a YAML file loaded with libyaml into one document, with the
 * small set of accessors every loader needs and the line number of every node
 * for "file:line: message" errors.
 */
#ifndef PA_YAML_DOC_H
#define PA_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "util/diag.h"

struct yaml_doc {
	yaml_document_t doc;
	const char *path; /* not owned */
	bool loaded;
};

/* false after reporting "path:line: YAML syntax error ..." (or an unreadable file) to diag. */
bool yaml_doc_load(struct yaml_doc *y, const char *path, struct pa_diag *diag);
/* Same, from memory (fuzzing, tests); path is used in messages only. */
bool yaml_doc_load_buffer(struct yaml_doc *y, const char *path, const unsigned char *buf,
			  size_t len, struct pa_diag *diag);
void yaml_doc_free(struct yaml_doc *y);

yaml_node_t *yaml_doc_root(struct yaml_doc *y);             /* NULL for an empty file */
unsigned yaml_node_line(const yaml_node_t *n);              /* 1-based */
const char *yaml_node_scalar(const yaml_node_t *n);         /* NULL unless a scalar */
bool yaml_node_is_map(const yaml_node_t *n);
bool yaml_node_is_seq(const yaml_node_t *n);

/* Mapping access: value for key (NULL when absent or not a mapping). */
yaml_node_t *yaml_map_get(struct yaml_doc *y, const yaml_node_t *map, const char *key);
size_t yaml_map_size(const yaml_node_t *map);
/* i-th pair; returns the key node and sets *value. */
yaml_node_t *yaml_map_at(struct yaml_doc *y, const yaml_node_t *map, size_t i, yaml_node_t **value);

size_t yaml_seq_size(const yaml_node_t *seq);
yaml_node_t *yaml_seq_at(struct yaml_doc *y, const yaml_node_t *seq, size_t i);

/* ---- what every loader of a privaudit YAML file needs ---------------------- */

/* Loads path (buf NULL) or the len bytes at buf (path in messages only),
 * runs parse over the document and frees it: parse's result, or NULL when
 * the YAML itself could not be read (reported). */
void *yaml_doc_parse(const char *path, const unsigned char *buf, size_t len, struct pa_diag *diag,
		     void *(*parse)(struct yaml_doc *y, struct pa_diag *diag));
/* Reports "file:line: what: unknown key 'k'" for every key of map not in
 * allowed[] (NULL-terminated), "what: keys must be plain words" for a key
 * that is not a scalar. */
void yaml_check_keys(struct yaml_doc *y, struct pa_diag *diag, const yaml_node_t *map,
		     const char *what, const char *const *allowed);
/* A copy of the scalar under key. NULL when it is absent (reported as
 * "missing required 'key'" when required), not a single value or empty
 * (reported). */
char *yaml_get_string(struct yaml_doc *y, struct pa_diag *diag, const yaml_node_t *map,
		      const char *key, bool required);

#endif
