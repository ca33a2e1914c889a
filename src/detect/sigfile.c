/*
 * sigfile.c — signature files (signatures/<name>.yaml, format in
 * docs/detect.md): parsed entry by entry, every problem reported as
 * "file:line: message", and each entry's regex compiled alone so that a bad
 * one is named at its own line instead of failing the whole database.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_internal.h"
#include "detect/hs_cache.h"

static const char *const entry_keys[] = { "type",	"description", "pattern", "boundary",
					  "context",	"validator",   "caseless" };

static bool known_entry_key(const char *k)
{
	for (size_t i = 0; i < sizeof entry_keys / sizeof entry_keys[0]; i++)
		if (strcmp(k, entry_keys[i]) == 0)
			return true;
	return false;
}

static bool valid_name(const char *s, size_t max, bool allow_punct)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '_')
			continue;
		if (allow_punct && (c == '-' || c == '.'))
			continue;
		return false;
	}
	return true;
}

static void sig_free(struct detect_sig *s)
{
	free(s->type);
	free(s->pattern);
	for (size_t k = 0; k < s->context_count; k++)
		free(s->context[k]);
	free(s->context);
	free(s->boundary_class);
	free(s->file);
}

void detect_sigset_free(struct detect_sigset *set)
{
	for (size_t i = 0; i < set->count; i++)
		sig_free(&set->items[i]);
	free(set->items);
	memset(set, 0, sizeof *set);
}

#define TOKEN_DELIMITERS "\\s\"'&,;=:<>%|\\\\"

static const char *boundary_class(const struct detect_sig *s)
{
	switch (s->boundary) {
	case DETECT_BOUNDARY_CUSTOM:
		return s->boundary_class;
	case DETECT_BOUNDARY_TOKEN:
		return NULL;
	case DETECT_BOUNDARY_DIGIT:
		return "0-9";
	case DETECT_BOUNDARY_HEX:
		return "0-9A-Fa-f";
	case DETECT_BOUNDARY_ALNUM:
		return "0-9A-Za-z";
	case DETECT_BOUNDARY_WORD:
		return "0-9A-Za-z_";
	case DETECT_BOUNDARY_NONE:
		break;
	}
	return NULL;
}

/* Appends printf output to a growing string. */
static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (*len + (size_t)n + 1 > *cap) {
		*cap = (*len + (size_t)n + 1) * 2;
		*buf = pa_xrealloc(*buf, *cap);
	}
	va_start(ap, fmt);
	vsnprintf(*buf + *len, *cap - *len, fmt, ap);
	va_end(ap);
	*len += (size_t)n;
}

/*
 * The stream-database form of a signature:
 *   [key context | left boundary] (?:value) [right boundary]
 * Key context is the key, a quote or its escaped/encoded form, then ':' '='
 * or '>' (or %3A %3D %3E), then an optional quote: imei=, "imei": ",
 * imei%22%3A%22, <imei>. The engine cuts the value back out of the match.
 */
char *detect_sig_expression(const struct detect_sig *s)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	const char *cls = boundary_class(s);
	if (s->context_count) {
		append(&buf, &len, &cap, "(?:^|[^A-Za-z0-9])(?i:");
		for (size_t k = 0; k < s->context_count; k++) {
			append(&buf, &len, &cap, "%s", k ? "|" : "");
			for (const char *c = s->context[k]; *c; c++) {
				if (isalnum((unsigned char)*c))
					append(&buf, &len, &cap, "%c", *c);
				else
					append(&buf, &len, &cap, "\\x%02x", (unsigned char)*c);
			}
		}
		append(&buf, &len, &cap,
		       ")(?:\\\\?[\"']|%%22|%%27|&quot;)?[ \\t]{0,3}(?:[:=>]|%%3[AaDdEe])[ \\t]{0,3}"
		       "(?:\\\\?[\"']|%%22|%%27|&quot;|\\[)?");
	} else if (cls) {
		append(&buf, &len, &cap, "(?:^|[^%s])", cls);
	}
	append(&buf, &len, &cap, s->caseless ? "(?i:%s)" : "(?:%s)", s->pattern);
	if (cls)
		append(&buf, &len, &cap, "(?:[^%s]|$)", cls);
	else if (s->boundary == DETECT_BOUNDARY_TOKEN)
		append(&buf, &len, &cap, "(?:[%s]|$)", TOKEN_DELIMITERS);
	return buf;
}

static bool compile_one(const char *expr, unsigned flags, unsigned mode, const char **err_msg,
			hs_compile_error_t **err)
{
	hs_database_t *db = NULL;
	*err = NULL;
	/* Through the cache: a pattern that compiled once is known good, and
	 * compiling every signature alone at each start cost more than the
	 * audit of a small capture. */
	unsigned id = 0;
	if (hs_cache_compile_multi(&expr, &flags, &id, 1, mode, &db, err) != HS_SUCCESS) {
		*err_msg = (*err && (*err)->message) ? (*err)->message : "unknown error";
		return false;
	}
	hs_free_database(db);
	return true;
}

bool detect_sig_compile_check(const struct detect_sig *s, struct pa_diag *diag)
{
	hs_compile_error_t *err = NULL;
	const char *msg;
	bool ok = true;

	hs_expr_info_t *info = NULL;
	if (hs_expression_info(s->pattern, HS_FLAG_SOM_LEFTMOST, &info, &err) != HS_SUCCESS) {
		pa_diag_error(diag, s->file, s->line, "pattern does not compile: %s",
			      err && err->message ? err->message : "unknown error");
		hs_free_compile_error(err);
		return false;
	}
	if (info->min_width == 0) {
		pa_diag_error(diag, s->file, s->line, "pattern matches the empty string");
		ok = false;
	}
	free(info);
	if (!ok)
		return false;

	char *expr = detect_sig_expression(s);
	/* Both forms the engine builds: the stream form (ends only) and the
	 * block form with start of match (engine.c, compile_sig_dbs). */
	static const struct { unsigned flags, mode; } forms[] = {
		{ 0, HS_MODE_STREAM },
		{ HS_FLAG_SOM_LEFTMOST, HS_MODE_BLOCK },
	};
	for (size_t i = 0; ok && i < sizeof forms / sizeof forms[0]; i++) {
		if (!compile_one(expr, forms[i].flags, forms[i].mode, &msg, &err)) {
			bool too_large = strstr(msg, "too large") != NULL;
			pa_diag_error(diag, s->file, s->line, "pattern does not compile: %s%s", msg,
				      too_large ? " (replace large {m,n} repeats by + or *)" : "");
			ok = false;
		}
		hs_free_compile_error(err);
		err = NULL;
	}
	free(expr);
	return ok;
}

static char *scalar_or_error(struct yaml_doc *y, yaml_node_t *n, const char *key,
			     struct pa_diag *diag)
{
	const char *v = yaml_node_scalar(n);
	if (!v) {
		pa_diag_error(diag, y->path, yaml_node_line(n), "'%s' must be a text value", key);
		return NULL;
	}
	return pa_xstrdup(v);
}

static bool parse_bool(const char *v, bool *out)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0)
		return *out = true, true;
	if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
		return *out = false, true;
	return false;
}

static bool parse_context(struct yaml_doc *y, yaml_node_t *n, struct detect_sig *s,
			  struct pa_diag *diag)
{
	size_t count = yaml_node_scalar(n) ? 1 : yaml_seq_size(n);
	if (!yaml_node_scalar(n) && !yaml_node_is_seq(n)) {
		pa_diag_error(diag, y->path, yaml_node_line(n),
			      "'context' must be a key name or a list of key names");
		return false;
	}
	if (count == 0) {
		pa_diag_error(diag, y->path, yaml_node_line(n), "'context' is an empty list");
		return false;
	}
	s->context = pa_xcalloc(count, sizeof *s->context);
	bool ok = true;
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = yaml_node_scalar(n) ? n : yaml_seq_at(y, n, i);
		const char *k = yaml_node_scalar(item);
		if (!k || !valid_name(k, 64, true)) {
			pa_diag_error(diag, y->path, yaml_node_line(item),
				      "context key must be 1-64 letters, digits, '_', '-' or '.'");
			ok = false;
			continue;
		}
		s->context[s->context_count++] = pa_xstrdup(k);
	}
	return ok;
}

static bool parse_entry(struct yaml_doc *y, yaml_node_t *entry, struct detect_sig *s,
			struct pa_diag *diag)
{
	bool ok = true;
	unsigned line = yaml_node_line(entry);
	memset(s, 0, sizeof *s);
	s->file = pa_xstrdup(y->path);
	s->line = line;
	if (!yaml_node_is_map(entry)) {
		pa_diag_error(diag, y->path, line, "a signature must be a mapping (type:, pattern:, ...)");
		return false;
	}
	for (size_t i = 0; i < yaml_map_size(entry); i++) {
		yaml_node_t *value;
		yaml_node_t *key = yaml_map_at(y, entry, i, &value);
		const char *k = yaml_node_scalar(key);
		if (!k || !known_entry_key(k)) {
			pa_diag_error(diag, y->path, yaml_node_line(key),
				      "unknown key '%s' (known: type, description, pattern, "
				      "boundary, context, validator, caseless)",
				      k ? k : "?");
			ok = false;
			continue;
		}
		bool duplicate = false;
		for (size_t j = 0; j < i && !duplicate; j++) {
			const char *earlier = yaml_node_scalar(yaml_map_at(y, entry, j, NULL));
			duplicate = earlier && strcmp(earlier, k) == 0;
		}
		if (duplicate) {
			pa_diag_error(diag, y->path, yaml_node_line(key), "duplicate key '%s'", k);
			ok = false;
			continue;
		}
		const char *v = yaml_node_scalar(value);
		if (strcmp(k, "type") == 0) {
			if (!(s->type = scalar_or_error(y, value, k, diag)))
				ok = false;
			else if (!valid_name(s->type, 31, false)) {
				pa_diag_error(diag, y->path, yaml_node_line(value),
					      "type '%s' must be 1-31 letters, digits or '_'", s->type);
				ok = false;
			}
		} else if (strcmp(k, "pattern") == 0) {
			if (!(s->pattern = scalar_or_error(y, value, k, diag)))
				ok = false;
			else if (strlen(s->pattern) == 0 || strlen(s->pattern) > 1024) {
				pa_diag_error(diag, y->path, yaml_node_line(value),
					      "pattern must be 1-1024 characters");
				ok = false;
			}
		} else if (strcmp(k, "description") == 0) {
			if (!v) {
				pa_diag_error(diag, y->path, yaml_node_line(value),
					      "'description' must be a text value");
				ok = false;
			}
		} else if (strcmp(k, "boundary") == 0) {
			size_t n = v ? strlen(v) : 0;
			if (n >= 3 && n <= 64 && v[0] == '[' && v[1] != '^' && v[n - 1] == ']' &&
			    !memchr(v + 1, ']', n - 2)) {
				s->boundary = DETECT_BOUNDARY_CUSTOM;
				free(s->boundary_class);
				s->boundary_class = pa_xstrdup(v + 1);
				s->boundary_class[n - 2] = 0;
			} else if (!v || !detect_boundary_parse(v, &s->boundary)) {
				pa_diag_error(diag, y->path, yaml_node_line(value),
					      "unknown boundary '%s' (none, digit, hex, alnum, word, "
					      "token, or a class like \"[A-Za-z0-9._-]\")",
					      v ? v : "?");
				ok = false;
			}
		} else if (strcmp(k, "validator") == 0) {
			if (!v || !detect_validator_parse(v, &s->validator)) {
				pa_diag_error(diag, y->path, yaml_node_line(value),
					      "unknown validator '%s' (none, imei, luhn, meid, imsi, "
					      "iccid, uuid, hex_id, mac, phone_cn, email, coordinates, "
					      "latitude, longitude, serial)",
					      v ? v : "?");
				ok = false;
			}
		} else if (strcmp(k, "caseless") == 0) {
			if (!v || !parse_bool(v, &s->caseless)) {
				pa_diag_error(diag, y->path, yaml_node_line(value),
					      "'caseless' must be true or false");
				ok = false;
			}
		} else if (strcmp(k, "context") == 0) {
			ok = parse_context(y, value, s, diag) && ok;
		}
	}
	if (!s->type) {
		pa_diag_error(diag, y->path, line, "signature has no 'type'");
		ok = false;
	}
	if (!s->pattern) {
		pa_diag_error(diag, y->path, line, "signature has no 'pattern'");
		ok = false;
	}
	if (ok && (s->validator == DETECT_V_LATITUDE || s->validator == DETECT_V_LONGITUDE) &&
	    !s->context_count) {
		pa_diag_error(diag, y->path, line,
			      "a single coordinate means nothing without a key: add 'context'");
		ok = false;
	}
	if (ok)
		ok = detect_sig_compile_check(s, diag);
	return ok;
}

bool detect_sigfile_parse(struct yaml_doc *y, struct detect_sigset *set, size_t *good_out,
			  size_t *bad_out, struct pa_diag *diag)
{
	yaml_node_t *root = yaml_doc_root(y);
	bool ok = true;
	if (!yaml_node_is_map(root)) {
		pa_diag_error(diag, y->path, yaml_node_line(root),
			      "a signature file is a mapping with a 'signatures:' list");
		return false;
	}
	for (size_t i = 0; i < yaml_map_size(root); i++) {
		yaml_node_t *value;
		const char *k = yaml_node_scalar(yaml_map_at(y, root, i, &value));
		if (!k || (strcmp(k, "signatures") != 0 && strcmp(k, "version") != 0 &&
			   strcmp(k, "description") != 0)) {
			pa_diag_error(diag, y->path, yaml_node_line(value),
				      "unknown top-level key '%s' (signatures, version, description)",
				      k ? k : "?");
			ok = false;
		}
	}
	yaml_node_t *list = yaml_map_get(y, root, "signatures");
	if (!yaml_node_is_seq(list)) {
		pa_diag_error(diag, y->path, yaml_node_line(list ? list : root),
			      "'signatures' must be a list of signatures");
		return false;
	}
	size_t good = 0, bad = 0;
	for (size_t i = 0; i < yaml_seq_size(list); i++) {
		struct detect_sig s;
		if (set->count == set->cap) {
			set->cap = set->cap ? set->cap * 2 : 32;
			set->items = pa_xrealloc(set->items, set->cap * sizeof *set->items);
		}
		if (parse_entry(y, yaml_seq_at(y, list, i), &s, diag)) {
			set->items[set->count++] = s;
			good++;
		} else {
			sig_free(&s);
			bad++;
		}
	}
	*good_out += good;
	*bad_out += bad;
	return ok && bad == 0;
}
