/*
 * engine.c — loading signature files and the device profile, and compiling
 * both into one Hyperscan stream database (plus the small block database of
 * value-only regexes used to cut a value out of a key-context match).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_internal.h"
#include "detect/hs_cache.h"

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int yaml_filter(const struct dirent *d)
{
	return has_suffix(d->d_name, ".yaml") && strcmp(d->d_name, "recipients.yaml") != 0 &&
	       d->d_name[0] != '.';
}

static bool load_signature_dir(struct detect_engine *e, const char *dir, struct pa_diag *diag)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, yaml_filter, alphasort);
	bool ok = true;
	size_t good = 0, bad = 0;
	if (n < 0) {
		pa_diag_error(diag, dir, 0, "cannot read the signature folder");
		return false;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct yaml_doc y;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		free(names[i]);
		if (!yaml_doc_load(&y, path, diag)) {
			ok = false;
			continue;
		}
		ok = detect_sigfile_parse(&y, &e->sigs, &good, &bad, diag) && ok;
		yaml_doc_free(&y);
	}
	free(names);
	if (ok && e->sigs.count == 0) {
		pa_diag_error(diag, dir, 0, "no signature file (*.yaml with 'signatures:') found");
		ok = false;
	}
	return ok;
}

/* \xHH for every byte: any literal becomes a safe regex. */
static char *literal_expression(const struct detect_literal *l)
{
	size_t cap = l->len * 4 + 64;
	char *out = pa_xmalloc(cap);
	size_t o = 0;
	if (l->guard_before)
		o += (size_t)snprintf(out + o, cap - o, "(?:^|[^%s])", l->guard_before);
	for (size_t i = 0; i < l->len; i++)
		o += (size_t)snprintf(out + o, cap - o, "\\x%02x", l->bytes[i]);
	if (l->guard_digit_after)
		snprintf(out + o, cap - o, "(?:[^0-9]|$)");
	return out;
}

/* One block database of one expression (start of match tracked). */
static bool compile_block(const char *expr, unsigned id, hs_database_t **db,
			  const struct detect_sig *s, struct pa_diag *diag)
{
	unsigned flag = HS_FLAG_SOM_LEFTMOST;
	hs_compile_error_t *err = NULL;
	if (hs_cache_compile_multi(&expr, &flag, &id, 1, HS_MODE_BLOCK, db, &err) == HS_SUCCESS)
		return true;
	pa_diag_error(diag, s->file, s->line, "pattern does not compile: %s",
		      err && err->message ? err->message : "unknown error");
	hs_free_compile_error(err);
	return false;
}

/*
 * The stream database reports where matches end, not where they start:
 * start-of-match tracking (HS_FLAG_SOM_LEFTMOST) in stream mode made every
 * scanned byte cost about a third more, for the few bytes that match. Each
 * signature has two small block databases for what follows a match
 * (scan.c, on_pattern): its stream expression, to find where the match
 * starts, and its value regex alone, to cut the value out. One pattern per
 * database: a match runs only its own signature's pattern.
 */
static bool compile_sig_dbs(struct detect_engine *e, char *const *stream_exprs,
			    struct pa_diag *diag)
{
	e->sig_dbs = pa_xcalloc(e->sigs.count ? e->sigs.count : 1, sizeof *e->sig_dbs);
	for (size_t i = 0; i < e->sigs.count; i++) {
		const struct detect_sig *s = &e->sigs.items[i];
		struct detect_sig_dbs *d = &e->sig_dbs[i];
		hs_compile_error_t *err = NULL;
		hs_expr_info_t *info = NULL;
		if (hs_expression_info(stream_exprs[i], HS_FLAG_SOM_LEFTMOST, &info, &err) !=
		    HS_SUCCESS) {
			pa_diag_error(diag, s->file, s->line, "pattern does not compile: %s",
				      err && err->message ? err->message : "unknown error");
			hs_free_compile_error(err);
			return false;
		}
		d->max_width = info->max_width;
		free(info);
		size_t len = strlen(s->pattern) + 16;
		char *value = pa_xmalloc(len);
		snprintf(value, len, s->caseless ? "(?i:%s)" : "(?:%s)", s->pattern);
		bool ok = compile_block(stream_exprs[i], (unsigned)i, &d->start, s, diag) &&
			  compile_block(value, (unsigned)i, &d->value, s, diag);
		free(value);
		if (!ok)
			return false;
	}
	return true;
}

static bool compile(struct detect_engine *e, struct pa_diag *diag)
{
	size_t n = e->sigs.count + e->literal_count;
	char **exprs = pa_xcalloc(n, sizeof *exprs);
	unsigned *ids = pa_xcalloc(n, sizeof *ids);
	hs_compile_error_t *err = NULL;
	bool ok = true;

	for (size_t i = 0; i < e->sigs.count; i++) {
		exprs[i] = detect_sig_expression(&e->sigs.items[i]);
		ids[i] = (unsigned)i;
	}
	for (size_t i = 0; i < e->literal_count; i++) {
		size_t k = e->sigs.count + i;
		exprs[k] = literal_expression(&e->literals[i]);
		ids[k] = (unsigned)k;
	}
	/* No flags: the stream database reports match ends only (compile_sig_dbs). */
	if (hs_cache_compile_multi((const char *const *)exprs, NULL, ids, (unsigned)n,
				   HS_MODE_STREAM, &e->db, &err) != HS_SUCCESS) {
		int at = err ? err->expression : -1;
		if (at >= 0 && (size_t)at < e->sigs.count)
			pa_diag_error(diag, e->sigs.items[at].file, e->sigs.items[at].line,
				      "pattern does not compile: %s", err->message);
		else
			pa_diag_error(diag, "signatures", 0, "pattern database does not compile: %s",
				      err ? err->message : "unknown error");
		ok = false;
	}
	hs_free_compile_error(err);
	err = NULL;
	if (ok)
		ok = compile_sig_dbs(e, exprs, diag);
	if (ok && hs_stream_size(e->db, &e->stream_size) != HS_SUCCESS)
		ok = false;
	for (size_t i = 0; i < n; i++)
		free(exprs[i]);
	free(exprs);
	free(ids);
	return ok;
}

struct detect_engine *detect_engine_load(const char *signature_dir, const char *device_file,
					 struct pa_diag *diag)
{
	struct detect_engine *e = pa_xcalloc(1, sizeof *e);
	bool ok = load_signature_dir(e, signature_dir, diag);
	if (device_file) {
		struct yaml_doc y;
		size_t good = 0, bad = 0;
		if (yaml_doc_load(&y, device_file, diag)) {
			e->has_device = detect_device_parse(&y, &e->device, &good, &bad, diag);
			ok = ok && e->has_device;
			yaml_doc_free(&y);
		} else {
			ok = false;
		}
		if (ok && !detect_device_literals(&e->device, &e->literals, &e->literal_count)) {
			pa_diag_error(diag, device_file, 0, "out of memory deriving encodings");
			ok = false;
		}
	}
	if (ok)
		ok = compile(e, diag);
	if (!ok) {
		detect_engine_free(e);
		return NULL;
	}
	return e;
}

void detect_engine_free(struct detect_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; e->sig_dbs && i < e->sigs.count; i++) {
		hs_free_database(e->sig_dbs[i].start);
		hs_free_database(e->sig_dbs[i].value);
	}
	free(e->sig_dbs);
	detect_sigset_free(&e->sigs);
	detect_device_free(&e->device);
	detect_literals_free(e->literals, e->literal_count);
	hs_free_database(e->db);
	free(e);
}

void detect_engine_get_info(const struct detect_engine *e, struct detect_engine_info *info)
{
	info->signatures = e->sigs.count;
	info->device_values = e->device.ident_count;
	info->device_literals = e->literal_count;
	info->has_location = e->device.has_location;
	info->lat = e->device.lat;
	info->lon = e->device.lon;
	info->radius_km = e->device.radius_m / 1000.0;
	info->stream_state_size = e->stream_size;
	info->device_ip = e->device.ip;
	info->device_ip_count = e->device.ip_count;
	info->device_has_mac = e->device.has_mac;
	memcpy(info->device_mac, e->device.mac, sizeof info->device_mac);
}

bool detect_check_buffer(const char *path, const uint8_t *buf, size_t len, struct pa_diag *diag)
{
	struct yaml_doc y;
	size_t good = 0, bad = 0;
	bool ok;
	if (!yaml_doc_load_buffer(&y, path, buf, len, diag))
		return false;
	yaml_node_t *root = yaml_doc_root(&y);
	if (yaml_map_get(&y, root, "signatures")) {
		struct detect_sigset set = { 0 };
		ok = detect_sigfile_parse(&y, &set, &good, &bad, diag);
		detect_sigset_free(&set);
		if (diag->out)
			fprintf(diag->out, "%s: signature file: %zu good, %zu bad\n", path, good, bad);
	} else if (yaml_map_get(&y, root, "device") || yaml_map_get(&y, root, "identifiers") ||
		   yaml_map_get(&y, root, "location")) {
		struct detect_device dev;
		ok = detect_device_parse(&y, &dev, &good, &bad, diag);
		struct detect_literal *lits = NULL;
		size_t count = 0;
		if (ok && detect_device_literals(&dev, &lits, &count))
			detect_literals_free(lits, count);
		detect_device_free(&dev);
		if (diag->out)
			fprintf(diag->out, "%s: device profile: %zu good, %zu bad\n", path, good, bad);
	} else {
		pa_diag_error(diag, path, yaml_node_line(root),
			      "neither a signature file (top-level 'signatures:') nor a device "
			      "profile ('device:'/'identifiers:')");
		ok = false;
	}
	yaml_doc_free(&y);
	return ok;
}

bool detect_check_file(const char *path, struct pa_diag *diag)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		pa_diag_error(diag, path, 0, "cannot open");
		return false;
	}
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = pa_xmalloc(cap);
	size_t r;
	while ((r = fread(buf + len, 1, cap - len, f)) > 0) {
		len += r;
		if (len == cap) {
			if (cap >= (16u << 20)) {
				pa_diag_error(diag, path, 0, "larger than 16 MiB");
				fclose(f);
				free(buf);
				return false;
			}
			cap *= 2;
			buf = pa_xrealloc(buf, cap);
		}
	}
	fclose(f);
	bool ok = detect_check_buffer(path, buf, len, diag);
	free(buf);
	return ok;
}
