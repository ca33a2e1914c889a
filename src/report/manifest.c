/*
 * manifest.c — hashing every input and every file of this run's output
 * folder into manifest.json (manifest.h). verify.c checks a folder against it.
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

#include "report/bundle.h"
#include "util/atomic_file.h"
#include "util/sha256.h"

#define MANIFEST_MAX_DEPTH 8

json_t *manifest_geoip_meta(const struct geo_db_info *db)
{
	return json_pack("{s:s, s:I, s:s, s:I, s:I}", "database_type", db->database_type,
			 "build_epoch", (json_int_t)db->build_epoch, "schema", geo_schema_name(db->schema),
			 "ip_version", (json_int_t)db->ip_version, "node_count",
			 (json_int_t)db->node_count);
}

void manifest_input_name(const char *role, const char *path, const char *below, char *out,
			 size_t len)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	snprintf(out, len, "%s/%s", role, below ? below : base);
}

/* hashed: the file's hash taken while the audit read it, else NULL (hash now).
 * input_name: NULL for a file of the bundle (relative). */
static bool add_file(json_t *files, const char *role, const char *path, const char *shown,
		     const char *input_name, json_t *meta, const struct pa_file_hash *hashed,
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
			      input_name == NULL, "size", (json_int_t)size, "sha256", hex);
	if (hashed && hashed->changed) {
		json_object_set_new(e, "changed_during_audit", json_true());
		json_object_set_new(e, "problem", json_string(hashed->problem));
	}
	if (input_name) {
		char abs[PATH_MAX];
		json_object_set_new(e, "resolved", json_string(realpath(path, abs) ? abs : path));
		json_object_set_new(e, "input_name", json_string(input_name));
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

static bool walk_input_tree(const char *role, const char *path, const char *below, int depth,
			    manifest_input_fn fn, void *ctx, struct pa_error *err)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		pa_error_set(err, "%s: %s", path, strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		char name[4200];
		manifest_input_name(role, path, below, name, sizeof name);
		return fn(ctx, role, path, name, err);
	}
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
		char child[4096], child_below[4096];
		snprintf(child, sizeof child, "%s/%s", path, names[i]->d_name);
		snprintf(child_below, sizeof child_below, "%s%s%s", below ? below : "", below ? "/" : "",
			 names[i]->d_name);
		if (ok)
			ok = walk_input_tree(role, child, child_below, depth + 1, fn, ctx, err);
		free(names[i]);
	}
	free(names);
	return ok;
}

bool manifest_walk_input(const char *role, const char *path, manifest_input_fn fn, void *ctx,
			 struct pa_error *err)
{
	return walk_input_tree(role, path, NULL, 0, fn, ctx, err);
}

/* One file found by the walk of an input folder, hashed now. */
static bool add_walked_file(void *files, const char *role, const char *path,
			    const char *input_name, struct pa_error *err)
{
	return add_file(files, role, path, path, input_name, NULL, NULL, err);
}

/* One input entry (a file, or every file under a folder) into files. */
static bool add_input_entry(json_t *files, const struct manifest_entry *e, struct pa_error *err)
{
	struct stat st;
	if (!e->hash && stat(e->path, &st) == 0 && S_ISDIR(st.st_mode))
		return manifest_walk_input(e->role, e->path, add_walked_file, files, err);
	char name[4200];
	manifest_input_name(e->role, e->path, NULL, name, sizeof name);
	return add_file(files, e->role, e->path, e->path, name, e->meta, e->hash, err);
}

json_t *manifest_prepare(const struct manifest_entry *e, struct pa_error *err)
{
	json_t *files = json_array();
	if (e->path && !add_input_entry(files, e, err)) {
		json_decref(files);
		return NULL;
	}
	return files;
}

static int not_dots(const struct dirent *d)
{
	return strcmp(d->d_name, ".") && strcmp(d->d_name, "..");
}

/* The role of a file of the bundle, from where it lies. */
static const char *bundle_role(const char *rel)
{
	if (!strncmp(rel, "evidence/", 9))
		return "evidence";
	if (!strncmp(rel, "capture/", 8))
		return "capture";
	if (!strncmp(rel, "inputs/", 7))
		return "input-copy";
	/* The copy of a capture read from standard input or a pipe (pipeline.c):
	 * the only record of that input, so it is the capture. */
	if (!strncmp(rel, "stdin.pcap", 10) || !strncmp(rel, "stream.pcap", 11))
		return "capture";
	return "output";
}

/* Every file of the staging folder: all of them are this run's, and all of
 * them are listed (hidden ones too: nothing in the bundle goes unchecked). */
static bool add_bundle_tree(json_t *files, const char *path, const char *rel, int depth,
			    const struct manifest_entry *entries, size_t n, struct pa_error *err)
{
	struct dirent **names;
	int count = scandir(path, &names, not_dots, alphasort);
	if (count < 0) {
		pa_error_set(err, "%s: %s", path, strerror(errno));
		return false;
	}
	bool ok = true;
	for (int i = 0; i < count; i++) {
		const char *name = names[i]->d_name;
		char child[4600], child_rel[4600];
		snprintf(child, sizeof child, "%s/%s", path, name);
		snprintf(child_rel, sizeof child_rel, "%s%s%s", rel, rel[0] ? "/" : "", name);
		struct stat st;
		bool top_level_signing = !rel[0] && (!strcmp(name, "manifest.json") ||
						     !strcmp(name, MANIFEST_SIG_FILE) ||
						     !strcmp(name, MANIFEST_PUBKEY_FILE) ||
						     !strcmp(name, MANIFEST_TSQ_FILE));
		if (!ok || top_level_signing) {
		} else if (lstat(child, &st) != 0) {
			pa_error_set(err, "%s: %s", child, strerror(errno));
			ok = false;
		} else if (S_ISDIR(st.st_mode)) {
			if (depth >= MANIFEST_MAX_DEPTH) {
				pa_error_set(err, "%s: folders nested too deep for the manifest", child);
				ok = false;
			} else {
				ok = add_bundle_tree(files, child, child_rel, depth + 1, entries, n, err);
			}
		} else if (!S_ISREG(st.st_mode)) {
			pa_error_set(err, "%s: not a regular file; the manifest lists regular files only", child);
			ok = false;
		} else {
			const struct pa_file_hash *hashed = NULL;
			for (size_t k = 0; k < n; k++)
				if (entries[k].output && entries[k].path && !strcmp(entries[k].path, child_rel))
					hashed = entries[k].hash;
			ok = add_file(files, bundle_role(child_rel), child, child_rel, NULL, NULL, hashed, err);
		}
		free(names[i]);
	}
	free(names);
	return ok;
}

/* Whether path lies inside folder (live mode's ring files are inputs and
 * outputs at once: they are listed once, as files of the bundle). */
static bool inside(const char *path, const char *folder)
{
	char a[PATH_MAX], b[PATH_MAX];
	if (!realpath(path, a) || !realpath(folder, b))
		return false;
	size_t n = strlen(b);
	return !strncmp(a, b, n) && a[n] == '/';
}

bool manifest_write(const struct manifest_folders *where, const struct manifest_entry *entries,
		    size_t n, json_t *header, char sha256_hex[65], struct pa_error *err)
{
	const char *staging = where->staging;
	json_t *files = json_array();
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		const struct manifest_entry *e = &entries[i];
		if (e->prepared) {
			ok = json_array_extend(files, e->prepared) == 0;
			continue;
		}
		if (!e->path || e->output || e->in_dir || inside(e->path, staging) ||
		    (where->in_place && inside(e->path, where->in_place)))
			continue;
		ok = add_input_entry(files, e, err);
	}
	if (ok && where->in_place)
		ok = add_bundle_tree(files, where->in_place, where->in_place_name, 1, entries, n, err);
	if (ok)
		ok = add_bundle_tree(files, staging, "", 0, entries, n, err);
	if (!ok) {
		json_decref(files);
		return false;
	}
	char created[40];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	pa_time_str((int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000, created, sizeof created);
	json_t *m = json_pack("{s:i, s:{s:s, s:s}, s:s}", "format", MANIFEST_FORMAT, "tool", "name",
			      "privaudit", "version", PA_VERSION, "created", created);
	if (header)
		json_object_update(m, header);
	json_object_set_new(m, "files", files);
	char path[4300];
	snprintf(path, sizeof path, "%s/manifest.json", staging);
	struct pa_atomic_file af;
	ok = pa_atomic_open(&af, path, 0, err) &&
	     pa_atomic_commit(&af, json_dumpf(m, af.f, JSON_INDENT(1)) == 0 && fputc('\n', af.f) != EOF, err);
	json_decref(m);
	return ok && (!sha256_hex || pa_sha256_file(path, sha256_hex, NULL, err));
}
