/*
 * manifest.c — hashing every file of an audit into manifest.json, and
 * checking a folder against it (privaudit verify).
 */
#include "report/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "report/evidence.h"
#include "util/atomic_file.h"
#include "util/sha256.h"

/* Outputs an audit may leave in DIR, hashed when present. */
static const char *const outputs[] = {"flows.jsonl", "observations.jsonl", "findings.jsonl",
				      "report.json", "report.html", NULL};

#define MANIFEST_MAX_DEPTH 8

json_t *manifest_geoip_meta(const struct geo_db_info *db)
{
	return json_pack("{s:s, s:I, s:s, s:I, s:I}", "database_type", db->database_type,
			 "build_epoch", (json_int_t)db->build_epoch, "schema", geo_schema_name(db->schema),
			 "ip_version", (json_int_t)db->ip_version, "node_count",
			 (json_int_t)db->node_count);
}

/* hashed: the file's hash taken while the audit read it, else NULL (hash now). */
static bool add_file(json_t *files, const char *role, const char *path, const char *shown,
		     bool relative, json_t *meta, const struct pa_file_hash *hashed,
		     struct pa_error *err)
{
	char hex[PA_SHA256_HEX];
	uint64_t size = 0;
	if (hashed && !hashed->ok) {
		*err = hashed->error;
		return false;
	}
	if (hashed) {
		snprintf(hex, sizeof hex, "%s", hashed->sha256);
		size = hashed->size;
	} else if (!pa_sha256_file(path, hex, &size, err)) {
		return false;
	}
	json_t *e = json_pack("{s:s, s:s, s:b, s:I, s:s}", "role", role, "path", shown, "relative",
			      relative, "size", (json_int_t)size, "sha256", hex);
	if (hashed && hashed->changed) {
		json_object_set_new(e, "changed_during_audit", json_true());
		json_object_set_new(e, "problem", json_string(hashed->problem));
	}
	if (!relative) {
		char abs[PATH_MAX];
		json_object_set_new(e, "resolved", json_string(realpath(path, abs) ? abs : path));
	}
	if (meta)
		json_object_set(e, "meta", meta);
	json_array_append_new(files, e);
	return true;
}

static int visible(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Every regular file under path, sorted by name, recursively. */
static bool add_tree(json_t *files, const char *role, const char *path, const char *shown,
		     bool relative, int depth, struct pa_error *err)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		pa_error_set(err, "%s: %s", path, strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode))
		return add_file(files, role, path, shown, relative, NULL, NULL, err);
	if (depth >= MANIFEST_MAX_DEPTH)
		return true;
	struct dirent **names;
	int n = scandir(path, &names, visible, alphasort);
	if (n < 0) {
		pa_error_set(err, "%s: %s", path, strerror(errno));
		return false;
	}
	bool ok = true;
	for (int i = 0; i < n; i++) {
		char child[4096], child_shown[4096];
		snprintf(child, sizeof child, "%s/%s", path, names[i]->d_name);
		snprintf(child_shown, sizeof child_shown, "%s/%s", shown, names[i]->d_name);
		if (ok)
			ok = add_tree(files, role, child, child_shown, relative, depth + 1, err);
		free(names[i]);
	}
	free(names);
	return ok;
}

static bool add_entry(json_t *files, const char *dir, const struct manifest_entry *e,
		      struct pa_error *err)
{
	if (e->in_dir) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, e->path);
		return add_file(files, e->role, path, e->path, true, e->meta, e->hash, err);
	}
	struct stat st;
	if (!e->hash && stat(e->path, &st) == 0 && S_ISDIR(st.st_mode))
		return add_tree(files, e->role, e->path, e->path, false, 0, err);
	return add_file(files, e->role, e->path, e->path, false, e->meta, e->hash, err);
}

json_t *manifest_prepare(const struct manifest_entry *e, struct pa_error *err)
{
	json_t *files = json_array();
	if (e->path && !add_entry(files, ".", e, err)) {
		json_decref(files);
		return NULL;
	}
	return files;
}

bool manifest_write(const char *dir, const struct manifest_entry *entries, size_t n,
		    const char *command_line, struct pa_error *err)
{
	json_t *files = json_array();
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		if (entries[i].prepared)
			ok = json_array_extend(files, entries[i].prepared) == 0;
		else if (entries[i].path && !entries[i].output)
			ok = add_entry(files, dir, &entries[i], err);
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/evidence", dir);
	struct stat st;
	if (ok && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		ok = add_tree(files, "evidence", path, "evidence", true, 1, err);
	for (size_t i = 0; ok && outputs[i]; i++) {
		const struct pa_file_hash *hashed = NULL;
		for (size_t k = 0; k < n; k++)
			if (entries[k].output && entries[k].path && !strcmp(entries[k].path, outputs[i]))
				hashed = entries[k].hash;
		snprintf(path, sizeof path, "%s/%s", dir, outputs[i]);
		if (access(path, F_OK) == 0)
			ok = add_file(files, "output", path, outputs[i], true, NULL, hashed, err);
	}
	if (!ok) {
		json_decref(files);
		return false;
	}
	char created[40];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	pa_time_str((int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000, created, sizeof created);
	json_t *m = json_pack("{s:{s:s, s:s}, s:s?, s:s, s:o}", "tool", "name", "privaudit", "version",
			      PA_VERSION, "command_line", command_line, "created", created, "files", files);
	snprintf(path, sizeof path, "%s/manifest.json", dir);
	struct pa_atomic_file af;
	ok = pa_atomic_open(&af, path, 0, err) &&
	     pa_atomic_commit(&af, json_dumpf(m, af.f, JSON_INDENT(1)) == 0, err);
	json_decref(m);
	return ok;
}

/* ---- verify ---------------------------------------------------------------- */

static bool listed(json_t *files, const char *rel)
{
	size_t i;
	json_t *e;
	json_array_foreach(files, i, e) {
		const char *p = json_string_value(json_object_get(e, "path"));
		if (json_is_true(json_object_get(e, "relative")) && p && !strcmp(p, rel))
			return true;
	}
	return false;
}

/* Evidence files present but not in the manifest: reported, not fatal (a
 * file added proves nothing changed in the ones listed). */
static size_t report_unlisted(const char *dir, json_t *files, FILE *out)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/evidence", dir);
	struct dirent **names;
	int n = scandir(path, &names, visible, alphasort);
	size_t unlisted = 0;
	for (int i = 0; i < n; i++) {
		char rel[600];
		snprintf(rel, sizeof rel, "evidence/%s", names[i]->d_name);
		if (!listed(files, rel)) {
			fprintf(out, "unlisted %s\n", rel);
			unlisted++;
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	return unlisted;
}

int evidence_verify(const char *dir, FILE *out)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/manifest.json", dir);
	json_error_t je;
	json_t *m = json_load_file(path, 0, &je);
	if (!m) {
		fprintf(out, "%s: cannot read the manifest: %s (line %d)\n", path, je.text, je.line);
		return 1;
	}
	json_t *files = json_object_get(m, "files");
	if (!json_is_array(files)) {
		fprintf(out, "%s: no \"files\" list\n", path);
		json_decref(m);
		return 1;
	}
	size_t i, good = 0, changed = 0, missing = 0;
	json_t *e;
	json_array_foreach(files, i, e) {
		const char *p = json_string_value(json_object_get(e, "path"));
		const char *resolved = json_string_value(json_object_get(e, "resolved"));
		const char *want = json_string_value(json_object_get(e, "sha256"));
		json_int_t want_size = json_integer_value(json_object_get(e, "size"));
		if (!p || !want) {
			fprintf(out, "CHANGED  manifest entry %zu: no path or sha256\n", i);
			changed++;
			continue;
		}
		char file[4096];
		if (json_is_true(json_object_get(e, "relative")))
			snprintf(file, sizeof file, "%s/%s", dir, p);
		else
			snprintf(file, sizeof file, "%s",
				 resolved && access(resolved, F_OK) == 0 ? resolved : p);
		char hex[PA_SHA256_HEX];
		uint64_t size = 0;
		struct pa_error err;
		if (json_is_true(json_object_get(e, "changed_during_audit"))) {
			/* The recorded hash may not be of the bytes analysed:
			 * no file can match it, whatever it holds now. */
			const char *why = json_string_value(json_object_get(e, "problem"));
			fprintf(out, "CHANGED  %s (during the audit: %s)\n", p, why ? why : "no detail");
			changed++;
		} else if (access(file, F_OK) != 0) {
			fprintf(out, "MISSING  %s\n", p);
			missing++;
		} else if (!pa_sha256_file(file, hex, &size, &err)) {
			fprintf(out, "MISSING  %s (%s)\n", p, err.msg);
			missing++;
		} else if (strcmp(hex, want) || (json_int_t)size != want_size) {
			fprintf(out, "CHANGED  %s (sha256 %s, size %llu; manifest %s, size %lld)\n", p, hex,
				(unsigned long long)size, want, (long long)want_size);
			changed++;
		} else {
			fprintf(out, "ok       %s\n", p);
			good++;
		}
	}
	size_t unlisted = report_unlisted(dir, files, out);
	fprintf(out, "%zu ok, %zu changed, %zu missing, %zu unlisted\n", good, changed, missing, unlisted);
	json_decref(m);
	return changed || missing ? 1 : 0;
}
