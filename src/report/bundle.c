/*
 * bundle.c — staging an audit's output folder and moving it into place
 * (bundle.h).
 */
#include "report/bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool empty_folder(const char *dir, const char *name)
{
	char path[4400];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	DIR *d = opendir(path);
	if (!d)
		return false;
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

/* Entries of a folder other than "." and "..", and an empty in_place
 * folder: 0 when empty, -1 when it cannot be read. *bundle_like is set when
 * one is a manifest, a report or a staging folder. */
static int count_entries(const char *dir, const char *in_place, bool *bundle_like)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	*bundle_like = false;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (in_place && !strcmp(e->d_name, in_place) && empty_folder(dir, in_place))
			continue;
		/* An earlier bundle, or what a failed run left staged. */
		if (!strcmp(e->d_name, "manifest.json") || !strcmp(e->d_name, "report.json") ||
		    !strncmp(e->d_name, BUNDLE_STAGING_PREFIX, strlen(BUNDLE_STAGING_PREFIX)))
			*bundle_like = true;
		n++;
	}
	closedir(d);
	return n;
}

static bool remove_earlier(struct bundle_out *b, const char *staging_name, struct pa_error *err);

bool bundle_out_open(struct bundle_out *b, const char *dir, bool replace, const char *in_place,
		     struct pa_error *err)
{
	memset(b, 0, sizeof *b);
	if (snprintf(b->dir, sizeof b->dir, "%s", dir) >= (int)sizeof b->dir) {
		pa_error_set(err, "%s: path too long", dir);
		return false;
	}
	b->replace = replace;
	b->in_place = in_place;
	if (!pa_mkdir_p(dir, err))
		return false;
	bool bundle_like;
	int n = count_entries(dir, in_place, &bundle_like);
	if (n < 0) {
		pa_error_set(err, "%s: cannot read the folder: %s", dir, strerror(errno));
		return false;
	}
	if (n > 0 && !replace) {
		pa_error_set(err, "%s: not empty (an earlier audit's output?); give --replace to replace it, or another folder", dir);
		return false;
	}
	if (n > 0 && !bundle_like) {
		pa_error_set(err, "%s: not empty and holds no manifest.json or report.json: not replacing a folder that is not an audit's output", dir);
		return false;
	}
	if (n > 0 && in_place && !remove_earlier(b, "", err))
		return false;
	snprintf(b->staging, sizeof b->staging, "%s/" BUNDLE_STAGING_PREFIX "XXXXXX", dir);
	if (!mkdtemp(b->staging)) {
		pa_error_set(err, "%s: cannot create a staging folder: %s", dir, strerror(errno));
		return false;
	}
	/* mkdtemp makes it 0700; the bundle is meant to be read by others. */
	chmod(b->staging, 0755);
	return true;
}

/* Removes path and, for a folder, everything below it, without following
 * symbolic links. */
static bool remove_tree(int parent, const char *name, const char *shown, struct pa_error *err)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		pa_error_set(err, "%s: %s", shown, strerror(errno));
		return false;
	}
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		if (!d) {
			if (fd >= 0)
				close(fd);
			pa_error_set(err, "%s: %s", shown, strerror(errno));
			return false;
		}
		bool ok = true;
		struct dirent *e;
		while (ok && (e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char child[4400];
			snprintf(child, sizeof child, "%s/%s", shown, e->d_name);
			ok = remove_tree(dirfd(d), e->d_name, child, err);
		}
		closedir(d);
		if (!ok)
			return false;
	}
	if (unlinkat(parent, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0) {
		pa_error_set(err, "%s: cannot remove: %s", shown, strerror(errno));
		return false;
	}
	return true;
}

/* Everything inside the folder name of parent, the folder itself kept. */
static bool empty_in_place(int parent, const char *name, const char *shown, struct pa_error *err)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		pa_error_set(err, "%s: %s", shown, strerror(errno));
		return false;
	}
	bool ok = true;
	struct dirent *e;
	while (ok && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char child[4400];
		/* The shown path only names the file in messages: a cut one will do. */
		if (snprintf(child, sizeof child, "%s/%s", shown, e->d_name) >= (int)sizeof child)
			child[sizeof child - 1] = 0;
		ok = remove_tree(dirfd(d), e->d_name, child, err);
	}
	closedir(d);
	return ok;
}

/* The earlier bundle's files, its manifest first: from that moment nothing
 * in DIR is certified by a manifest of another run. The in-place folder
 * stays (emptied, when this run has not started writing it yet: it may be a
 * mount point). */
static bool remove_earlier(struct bundle_out *b, const char *staging_name, struct pa_error *err)
{
	int dfd = open(b->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		pa_error_set(err, "%s: %s", b->dir, strerror(errno));
		return false;
	}
	bool ok = true;
	char shown[4400];
	snprintf(shown, sizeof shown, "%s/manifest.json", b->dir);
	if (unlinkat(dfd, "manifest.json", 0) != 0 && errno != ENOENT) {
		pa_error_set(err, "%s: cannot remove: %s", shown, strerror(errno));
		ok = false;
	}
	DIR *d = ok ? fdopendir(dup(dfd)) : NULL;
	if (ok && !d) {
		pa_error_set(err, "%s: %s", b->dir, strerror(errno));
		ok = false;
	}
	struct dirent *e;
	while (ok && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, staging_name))
			continue;
		snprintf(shown, sizeof shown, "%s/%s", b->dir, e->d_name);
		if (b->in_place && !strcmp(e->d_name, b->in_place)) {
			if (staging_name[0]) /* this run's own: keep */
				continue;
			ok = empty_in_place(dfd, e->d_name, shown, err);
			continue;
		}
		ok = remove_tree(dfd, e->d_name, shown, err);
	}
	if (d)
		closedir(d);
	close(dfd);
	return ok;
}

bool bundle_out_commit(struct bundle_out *b, struct pa_error *err)
{
	const char *staging_name = strrchr(b->staging, '/') + 1;
	bool bundle_like;
	if (b->replace && !b->in_place && count_entries(b->dir, NULL, &bundle_like) > 1 &&
	    !remove_earlier(b, staging_name, err))
		return false;
	struct dirent **names;
	int n = scandir(b->staging, &names, NULL, alphasort);
	if (n < 0) {
		pa_error_set(err, "%s: %s", b->staging, strerror(errno));
		return false;
	}
	bool ok = true, have_manifest = false;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		if (ok && strcmp(name, ".") && strcmp(name, "..")) {
			if (!strcmp(name, "manifest.json")) {
				have_manifest = true;
			} else {
				char from[4600], to[4400];
				snprintf(from, sizeof from, "%s/%s", b->staging, name);
				snprintf(to, sizeof to, "%s/%s", b->dir, name);
				if (rename(from, to) != 0) {
					pa_error_set(err, "%s: cannot move into %s: %s", from, b->dir, strerror(errno));
					ok = false;
				}
			}
		}
		free(names[i]);
	}
	free(names);
	if (ok && have_manifest) {
		char from[4600], to[4400];
		snprintf(from, sizeof from, "%s/manifest.json", b->staging);
		snprintf(to, sizeof to, "%s/manifest.json", b->dir);
		if (rename(from, to) != 0) {
			pa_error_set(err, "%s: cannot move into %s: %s", from, b->dir, strerror(errno));
			ok = false;
		}
	}
	if (ok && rmdir(b->staging) != 0) {
		pa_error_set(err, "%s: cannot remove the staging folder: %s", b->staging, strerror(errno));
		ok = false;
	}
	return ok;
}

void bundle_out_rebase(struct bundle_out *b, const char *dir)
{
	char name[256];
	snprintf(name, sizeof name, "%s", strrchr(b->staging, '/') + 1);
	snprintf(b->dir, sizeof b->dir, "%s", dir);
	snprintf(b->staging, sizeof b->staging, "%s/%s", dir, name);
}

bool bundle_out_discard(struct bundle_out *b, struct pa_error *err)
{
	if (!b->staging[0])
		return true;
	return remove_tree(AT_FDCWD, b->staging, b->staging, err);
}
