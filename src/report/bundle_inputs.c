/*
 * bundle_inputs.c — the inputs of an audit as manifest entries, and their
 * copies for --bundle-inputs (bundle_inputs.h).
 */
#include "report/bundle_inputs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void add_entry(struct manifest_entry *e, size_t *n, size_t max, const char *role,
		      const char *path, json_t *meta)
{
	if (*n < max && path && path[0])
		e[(*n)++] = (struct manifest_entry){.role = role, .path = path, .meta = meta};
}

size_t bundle_other_inputs(const struct bundle_input_files *in, struct manifest_entry *e,
			   size_t max, json_t *metas[GEO_MAX_DBS])
{
	size_t n = 0;
	add_entry(e, &n, max, "policy", in->policy, NULL);
	add_entry(e, &n, max, "device", in->device, NULL);
	add_entry(e, &n, max, "signatures", in->signatures, NULL);
	add_entry(e, &n, max, "recipients", in->recipients, NULL);
	add_entry(e, &n, max, "country-overrides", in->country_overrides, NULL);
	size_t dbs = geo_db_count(in->geo);
	for (size_t i = 0; i < dbs && i < GEO_MAX_DBS; i++) {
		const struct geo_db_info *db = geo_db(in->geo, i);
		metas[i] = manifest_geoip_meta(db);
		add_entry(e, &n, max, "geoip", db->path, metas[i]);
	}
	return n;
}

json_t *bundle_hash_other_inputs(const struct bundle_input_files *in, struct pa_error *err)
{
	struct manifest_entry e[BUNDLE_OTHER_INPUTS_MAX];
	json_t *metas[GEO_MAX_DBS] = {0};
	size_t n = bundle_other_inputs(in, e, sizeof e / sizeof e[0], metas);
	json_t *all = json_array();
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		json_t *files = manifest_prepare(&e[i], err);
		ok = files && json_array_extend(all, files) == 0;
		json_decref(files);
	}
	for (size_t i = 0; i < GEO_MAX_DBS; i++)
		json_decref(metas[i]);
	if (!ok) {
		json_decref(all);
		return NULL;
	}
	return all;
}

/* Copies one input file to dst, creating its folders. */
static bool copy_file(const char *src, const char *dst, struct pa_error *err)
{
	char dir[4400];
	snprintf(dir, sizeof dir, "%s", dst);
	*strrchr(dir, '/') = 0;
	if (!pa_mkdir_p(dir, err))
		return false;
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		pa_error_set(err, "%s: %s", src, strerror(errno));
		return false;
	}
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0) {
		pa_error_set(err, "%s: cannot create: %s", dst, strerror(errno));
		close(in);
		return false;
	}
	char buf[1 << 16];
	ssize_t n;
	bool ok = true;
	while ((n = read(in, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		for (ssize_t done = 0; ok && done < n;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				pa_error_set(err, "%s: cannot write: %s", dst, strerror(errno));
				ok = false;
			} else {
				done += w;
			}
		}
		if (!ok)
			break;
	}
	if (ok && n < 0) {
		pa_error_set(err, "%s: read error: %s", src, strerror(errno));
		ok = false;
	}
	if (ok && (fsync(out) != 0 || close(out) != 0)) {
		pa_error_set(err, "%s: cannot write: %s", dst, strerror(errno));
		ok = false;
	} else if (!ok) {
		close(out);
	}
	close(in);
	return ok;
}

/* One file of an input (manifest_walk_input), to out/inputs/ under its input name. */
static bool copy_walked_file(void *out, const char *role, const char *path,
			     const char *input_name, struct pa_error *err)
{
	(void)role;
	char dst[4400];
	snprintf(dst, sizeof dst, "%s/inputs/%s", (const char *)out, input_name);
	return copy_file(path, dst, err);
}

bool bundle_copy_inputs(const char *out, const struct manifest_entry *e, size_t n,
			struct pa_error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (e[i].output || e[i].in_dir || !e[i].path)
			continue;
		/* A capture read twice is copied once. */
		bool seen = false;
		for (size_t k = 0; k < i; k++)
			seen = seen || (!e[k].output && e[k].path && !strcmp(e[k].path, e[i].path) &&
					!strcmp(e[k].role, e[i].role));
		if (!seen && !manifest_walk_input(e[i].role, e[i].path, copy_walked_file, (void *)out, err))
			return false;
	}
	return true;
}
