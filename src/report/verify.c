/*
 * verify.c — `privaudit verify DIR`: checks a bundle against its manifest
 * (manifest.h). The manifest is not trusted: a path that would leave the
 * bundle, a symbolic link, a FIFO or a device is refused before anything is
 * read; every file of the bundle must be listed, every listed file present
 * and unchanged, and every finding's evidence file there.
 */
#include "report/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/bundle.h"
#include "report/page_digest.h"
#include "report/sign.h"
#include "util/keymap.h"
#include "util/sha256.h"

struct tally {
	size_t ok, changed, missing, unlisted, refused, findings_bad;
};

/* A relative path of the bundle, component by component: no "", ".", ".."
 * and no leading "/". NULL when acceptable, else why not. */
static const char *bad_relative_path(const char *p)
{
	if (!p[0])
		return "an empty path";
	if (p[0] == '/')
		return "an absolute path: it leaves the bundle";
	for (const char *c = p; *c;) {
		const char *end = strchr(c, '/');
		size_t n = end ? (size_t)(end - c) : strlen(c);
		if (n == 0)
			return "an empty path component";
		if (n == 2 && !strncmp(c, "..", 2))
			return "a '..' component: it leaves the bundle";
		if (n == 1 && c[0] == '.')
			return "a '.' component";
		c += n + (end ? 1 : 0);
		if (end && !*c)
			return "a trailing '/'";
	}
	return NULL;
}

/* Opens rel below the folder dfd without following any symbolic link on the
 * way, and only when it is a regular file (a FIFO would block, a device
 * never end). -1 with why set otherwise. */
static int open_inside(int dfd, const char *rel, char *why, size_t why_len, bool *missing)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", rel);
	int fd = dup(dfd);
	*missing = false;
	for (char *c = buf;;) {
		char *slash = strchr(c, '/');
		if (slash)
			*slash = 0;
		int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (slash ? O_DIRECTORY : O_NONBLOCK);
		int next = openat(fd, c, flags);
		int e = errno;
		/* O_NOFOLLOW with O_DIRECTORY says ENOTDIR for a link: look. */
		struct stat lst;
		bool link = e == ELOOP || (e == ENOTDIR && fstatat(fd, c, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
					   S_ISLNK(lst.st_mode));
		close(fd);
		if (next < 0) {
			*missing = e == ENOENT;
			snprintf(why, why_len, "%s", link ? "a symbolic link"
				 : e == ENOTDIR ? "a path through something that is not a folder"
				 : strerror(e));
			return -1;
		}
		fd = next;
		if (!slash)
			break;
		c = slash + 1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "not a regular file (%s)",
			 S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISCHR(st.st_mode) ? "a character device"
			 : S_ISBLK(st.st_mode) ? "a block device" : S_ISSOCK(st.st_mode) ? "a socket"
			 : S_ISDIR(st.st_mode) ? "a folder" : "something else");
		close(fd);
		return -1;
	}
	return fd;
}

/* An input outside the bundle, at its recorded absolute path or under
 * --inputs: a regular file, opened without blocking. */
static int open_input(const char *path, char *why, size_t why_len, bool *missing)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	*missing = fd < 0 && errno == ENOENT;
	if (fd < 0) {
		snprintf(why, why_len, "%s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "not a regular file");
		close(fd);
		return -1;
	}
	return fd;
}

/* Files of the bundle that are not listed: each one fails the bundle
 * (something this run did not produce). The signing files sit beside the
 * manifest and are checked by the signature step. */
static void find_unlisted(int dfd, const char *rel, struct keymap *listed, struct tally *t,
			  FILE *out, int depth)
{
	int fd = rel[0] ? openat(dfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		fprintf(out, "REFUSED  %s: cannot read the folder: %s\n", rel, strerror(errno));
		t->refused++;
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char child[4400];
		snprintf(child, sizeof child, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
		if (!rel[0] && (!strcmp(e->d_name, "manifest.json") || !strcmp(e->d_name, MANIFEST_SIG_FILE) ||
				!strcmp(e->d_name, MANIFEST_PUBKEY_FILE) || !strcmp(e->d_name, MANIFEST_TSQ_FILE) ||
				!strcmp(e->d_name, MANIFEST_TSR_FILE)))
			continue;
		struct stat st;
		if (fstatat(dfd, child, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < 16) {
			find_unlisted(dfd, child, listed, t, out, depth + 1);
		} else if (keymap_get(listed, child) == SIZE_MAX) {
			fprintf(out, "UNLISTED %s%s: not produced by the run the manifest describes\n", child,
				S_ISDIR(st.st_mode) ? "/" : "");
			t->unlisted++;
		}
	}
	closedir(d);
}

/* Every finding of findings.jsonl cites its evidence file: with evidence
 * written, that file must be one the manifest lists and verify found intact. */
static void check_findings(int dfd, struct keymap *good, struct keymap *listed, struct tally *t,
			   FILE *out)
{
	char why[160];
	bool missing;
	if (keymap_get(listed, "findings.jsonl") == SIZE_MAX)
		return;
	int fd = open_inside(dfd, "findings.jsonl", why, sizeof why, &missing);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return; /* reported as missing or refused already */
	}
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		json_error_t je;
		json_t *j = json_loads(line, 0, &je);
		const char *id = json_string_value(json_object_get(j, "id"));
		const char *ev = json_string_value(json_object_get(j, "evidence"));
		if (!j || !id) {
			fprintf(out, "BAD      findings.jsonl:%zu: not a finding\n", lineno);
			t->findings_bad++;
		} else if (ev && keymap_get(good, ev) == SIZE_MAX) {
			fprintf(out, "BAD      findings.jsonl:%zu: finding %s cites %s, which is %s\n", lineno,
				id, ev, keymap_get(listed, ev) == SIZE_MAX ? "not in the manifest" : "not intact");
			t->findings_bad++;
		}
		json_decref(j);
	}
	free(line);
	fclose(f);
}

/* An input that moved (--inputs DIR, or the bundle's inputs/): by its input
 * name ("capture/x.pcapng"), else its base name. -1 with *missing when
 * neither is there, -1 and not *missing when one is there but refused. */
static int open_moved_input(const char *dir, json_t *e, const char *p, char *where, size_t where_len,
			    char *why, size_t why_len, bool *missing)
{
	const char *name = json_string_value(json_object_get(e, "input_name"));
	const char *base = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
	int idir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*missing = true;
	if (idir < 0)
		return -1;
	const char *names[] = {name, base};
	int fd = -1;
	for (size_t i = 0; i < 2 && fd < 0 && *missing; i++) {
		if (!names[i] || bad_relative_path(names[i]))
			continue;
		fd = open_inside(idir, names[i], why, why_len, missing);
		if (snprintf(where, where_len, "%s/%s", dir, names[i]) >= (int)where_len && where_len)
			where[where_len - 1] = 0; /* a name for messages only */
	}
	close(idir);
	return fd;
}

/* One manifest entry. */
static void check_entry(int dfd, const struct verify_options *o, json_t *e, size_t i,
			struct keymap *listed, struct keymap *good, struct tally *t, FILE *out)
{
	const char *p = json_string_value(json_object_get(e, "path"));
	const char *want = json_string_value(json_object_get(e, "sha256"));
	json_t *size_j = json_object_get(e, "size");
	bool relative = json_is_true(json_object_get(e, "relative"));
	if (!p || !want || !json_is_integer(size_j)) {
		fprintf(out, "REFUSED  manifest entry %zu: no path, size or sha256\n", i);
		t->refused++;
		return;
	}
	char why[300];
	bool missing = false;
	int fd;
	const char *bad = relative ? bad_relative_path(p) : NULL;
	if (bad) {
		fprintf(out, "REFUSED  %s: %s\n", p, bad);
		t->refused++;
		return;
	}
	if (relative && keymap_get(listed, p) != SIZE_MAX) {
		fprintf(out, "REFUSED  %s: listed twice\n", p);
		t->refused++;
		return;
	}
	if (relative)
		keymap_put(listed, p, i);
	if (json_is_true(json_object_get(e, "changed_during_audit"))) {
		/* The recorded hash may not be of the bytes analysed:
		 * no file can match it, whatever it holds now. */
		const char *problem = json_string_value(json_object_get(e, "problem"));
		fprintf(out, "CHANGED  %s (during the audit: %s)\n", p, problem ? problem : "no detail");
		t->changed++;
		return;
	}
	char where[4400] = "";
	if (relative) {
		fd = open_inside(dfd, p, why, sizeof why, &missing);
	} else if (o->inputs_dir && ((fd = open_moved_input(o->inputs_dir, e, p, where, sizeof where,
							    why, sizeof why, &missing)) >= 0 || !missing)) {
		/* found there, or refused there */
	} else {
		const char *resolved = json_string_value(json_object_get(e, "resolved"));
		const char *at = resolved && access(resolved, F_OK) == 0 ? resolved : p;
		fd = open_input(at, why, sizeof why, &missing);
		snprintf(where, sizeof where, "%s", at);
	}
	if (fd < 0) {
		if (missing) {
			fprintf(out, "MISSING  %s%s%s%s\n", p, where[0] ? " (looked for " : "", where,
				where[0] ? ")" : "");
			t->missing++;
		} else {
			fprintf(out, "REFUSED  %s: %s\n", p, why);
			t->refused++;
		}
		return;
	}
	char hex[PA_SHA256_HEX];
	uint64_t size = 0;
	struct pa_error err;
	bool hashed = pa_sha256_fd(fd, p, hex, &size, &err);
	close(fd);
	if (!hashed) {
		fprintf(out, "REFUSED  %s: %s\n", p, err.msg);
		t->refused++;
	} else if (strcmp(hex, want) || (json_int_t)size != json_integer_value(size_j)) {
		fprintf(out, "CHANGED  %s (sha256 %s, size %llu; manifest %s, size %lld)\n", p, hex,
			(unsigned long long)size, want, (long long)json_integer_value(size_j));
		t->changed++;
	} else {
		fprintf(out, "ok       %s%s%s\n", p, where[0] && o->inputs_dir ? " at " : "",
			where[0] && o->inputs_dir ? where : "");
		t->ok++;
		if (relative)
			keymap_put(good, p, i);
	}
}

/* The digest report.html prints (page_digest.h) against the files the
 * manifest lists; the page is read the way every listed file is (inside
 * the bundle, regular, no link followed) and at most REPORT_PAGE_MAX bytes. */
#define REPORT_PAGE_MAX (256u << 20)
static size_t check_page_digest(int dfd, const json_t *m, FILE *out)
{
	char why[300];
	bool missing;
	int fd = open_inside(dfd, PAGE_DIGEST_PAGE, why, sizeof why, &missing);
	struct stat st;
	char *page = NULL;
	size_t len = 0;
	if (fd >= 0 && fstat(fd, &st) == 0) {
		size_t want = st.st_size > (off_t)REPORT_PAGE_MAX ? REPORT_PAGE_MAX : (size_t)st.st_size;
		page = pa_xmalloc(want + 1);
		while (len < want) {
			ssize_t n = read(fd, page + len, want - len);
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		page[len] = '\0';
	}
	if (fd >= 0)
		close(fd);
	size_t problems = page_digest_verify(m, page, len, out);
	free(page);
	return problems;
}

enum verify_result manifest_verify(const struct verify_options *o, FILE *out)
{
	int dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		fprintf(out, "%s: not a folder: %s\n", o->dir, strerror(errno));
		return VERIFY_USAGE;
	}
	char why[300];
	bool missing;
	int mfd = open_inside(dfd, "manifest.json", why, sizeof why, &missing);
	FILE *mf = mfd >= 0 ? fdopen(mfd, "r") : NULL;
	json_error_t je;
	json_t *m = mf ? json_loadf(mf, 0, &je) : NULL;
	if (mf)
		fclose(mf);
	if (!m) {
		if (mfd < 0)
			fprintf(out, "%s/manifest.json: %s\n", o->dir, why);
		else
			fprintf(out, "%s/manifest.json:%d: cannot read the manifest: %s\n", o->dir, je.line, je.text);
		close(dfd);
		return VERIFY_FAILED;
	}
	json_t *files = json_object_get(m, "files");
	if (!json_is_array(files)) {
		fprintf(out, "%s/manifest.json: no \"files\" list\n", o->dir);
		json_decref(m);
		close(dfd);
		return VERIFY_FAILED;
	}
	struct tally t = {0};
	struct keymap listed = {0}, good = {0};
	/* A bundle that carries its inputs (--bundle-inputs) is checked
	 * against those copies, wherever it was moved, unless told otherwise. */
	struct verify_options eo = *o;
	char bundled[4400];
	if (!eo.inputs_dir && json_is_true(json_object_get(m, "inputs_bundled"))) {
		snprintf(bundled, sizeof bundled, "%s/inputs", o->dir);
		eo.inputs_dir = bundled;
	}
	size_t i;
	json_t *e;
	json_array_foreach(files, i, e)
		check_entry(dfd, &eo, e, i, &listed, &good, &t, out);
	find_unlisted(dfd, "", &listed, &t, out, 0);
	if (!json_is_false(json_object_get(json_object_get(m, "evidence"), "written")))
		check_findings(dfd, &good, &listed, &t, out);
	size_t digest_problems = check_page_digest(dfd, m, out);
	json_t *sig = json_object_get(m, "signature");
	size_t sig_problems = pa_signature_verify(o->dir, json_is_object(sig) ? sig : NULL, o->key,
						  o->tsa_ca, out);
	fprintf(out, "%zu ok, %zu changed, %zu missing, %zu unlisted, %zu refused, %zu finding(s) without evidence, %zu signature problem(s), %zu digest problem(s)\n",
		t.ok, t.changed, t.missing, t.unlisted, t.refused, t.findings_bad, sig_problems,
		digest_problems);
	keymap_free(&listed);
	keymap_free(&good);
	json_decref(m);
	close(dfd);
	return t.changed || t.missing || t.unlisted || t.refused || t.findings_bad || sig_problems ||
			       digest_problems
		       ? VERIFY_FAILED : VERIFY_OK;
}
