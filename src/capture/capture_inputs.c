/*
 * capture_inputs.c — turn command-line arguments into one ordered list of
 * capture files: directories are expanded (non-recursive), then every file is
 * placed by the timestamp of its first record so that ring-buffer folders and
 * split captures read as one timeline. A stream (standard input, a pipe) is
 * the whole timeline, read where it stands and copied as it is read.
 */
#include "capture/capture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct input_entry {
	char *path;
	int64_t first_ts;
	bool has_record;
};

struct entry_list {
	struct input_entry *v;
	size_t n, cap;
};

static void entry_add(struct entry_list *l, char *path)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = pa_xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = (struct input_entry){ .path = path };
}

/* A directory holds other things too (notes, key logs): only files that start
 * with a pcap or pcapng magic number are captures. */
static bool looks_like_capture(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	uint8_t m[4];
	ssize_t n = read(fd, m, sizeof m);
	close(fd);
	if (n != 4)
		return false;
	uint32_t be = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
	uint32_t le = __builtin_bswap32(be);
	static const uint32_t magics[] = { 0xa1b2c3d4u, 0xa1b23c4du, 0xa1b2cd34u, 0x0a0d0d0au };
	for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
		if (be == magics[i] || le == magics[i])
			return true;
	return false;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join_path(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	bool slash = dl > 0 && dir[dl - 1] == '/';
	char *p = pa_xmalloc(dl + nl + 2);
	memcpy(p, dir, dl);
	if (!slash)
		p[dl++] = '/';
	memcpy(p + dl, name, nl + 1);
	return p;
}

static bool expand_directory(struct entry_list *l, const char *dir, struct pa_error *err)
{
	DIR *d = opendir(dir);
	if (!d) {
		pa_error_set(err, "%s: %s", dir, strerror(errno));
		return false;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char *p = join_path(dir, e->d_name);
		struct stat st;
		if (stat(p, &st) != 0 || !S_ISREG(st.st_mode) || !looks_like_capture(p)) {
			free(p);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = pa_xrealloc(names, cap * sizeof *names);
		}
		names[n++] = p;
	}
	closedir(d);
	if (n == 0) {
		free(names);
		pa_error_set(err, "%s: directory holds no pcap or pcapng files", dir);
		return false;
	}
	qsort(names, n, sizeof *names, compare_names);
	for (size_t i = 0; i < n; i++)
		entry_add(l, names[i]);
	free(names);
	return true;
}

/* A file that is not a capture or has no record sorts after all others; the
 * reader reports its problem when its turn comes. */
static void read_first_timestamp(struct input_entry *e)
{
	struct pa_error ignored;
	struct capture_file *cf = capture_file_open(e->path, &ignored);
	if (!cf)
		return;
	struct capture_record rec;
	if (capture_file_next(cf, &rec, &ignored) == CAPTURE_RECORD) {
		e->first_ts = rec.ts_us;
		e->has_record = true;
	}
	capture_file_close(cf);
}

static int compare_entries(const void *pa, const void *pb)
{
	const struct input_entry *a = pa, *b = pb;
	if (a->has_record != b->has_record)
		return a->has_record ? -1 : 1;
	if (a->has_record && a->first_ts != b->first_ts)
		return a->first_ts < b->first_ts ? -1 : 1;
	return strcmp(a->path, b->path);
}

bool capture_path_is_stream(const char *path)
{
	struct stat st;
	return !strcmp(path, "-") ||
	       (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode));
}

bool capture_inputs_collect(struct capture_inputs *in, char *const *args, size_t nargs,
			    struct pa_error *err)
{
	struct entry_list l = { 0 };
	in->paths = NULL;
	in->count = 0;
	for (size_t i = 0; i < nargs; i++) {
		if (capture_path_is_stream(args[i])) {
			/* Peeking at its first record would consume it, and it
			 * cannot be rewound: a stream is the whole timeline. */
			if (nargs > 1) {
				pa_error_set(err, "%s: %s cannot be combined with other captures "
					     "(its place in the timeline is unknown until it is read)",
					     args[i], strcmp(args[i], "-") ? "a pipe" : "standard input");
				goto fail;
			}
			in->paths = pa_xcalloc(1, sizeof *in->paths);
			in->paths[0] = pa_xstrdup(args[i]);
			in->count = 1;
			return true;
		}
		struct stat st;
		if (stat(args[i], &st) != 0) {
			pa_error_set(err, "%s: %s", args[i], strerror(errno));
			goto fail;
		}
		if (S_ISDIR(st.st_mode)) {
			if (!expand_directory(&l, args[i], err))
				goto fail;
			continue;
		}
		if (access(args[i], R_OK) != 0) {
			pa_error_set(err, "%s: %s", args[i], strerror(errno));
			goto fail;
		}
		entry_add(&l, pa_xstrdup(args[i]));
	}
	for (size_t i = 0; i < l.n; i++)
		read_first_timestamp(&l.v[i]);
	qsort(l.v, l.n, sizeof *l.v, compare_entries);

	in->paths = pa_xcalloc(l.n ? l.n : 1, sizeof *in->paths);
	for (size_t i = 0; i < l.n; i++)
		in->paths[i] = l.v[i].path;
	in->count = l.n;
	free(l.v);
	return true;
fail:
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].path);
	free(l.v);
	return false;
}

void capture_inputs_free(struct capture_inputs *in)
{
	for (size_t i = 0; i < in->count; i++)
		free(in->paths[i]);
	free(in->paths);
	in->paths = NULL;
	in->count = 0;
}

/* ---- a stream: standard input or a named pipe ------------------------------ */

static void stream_close(struct capture_stream *s)
{
	if (s->owned && s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->copy_fd >= 0)
		close(s->copy_fd);
	s->copy_fd = -1;
}

struct capture_file *capture_stream_open(struct capture_stream *s, const char *path,
					 const char *copy_dir, struct pa_error *err)
{
	bool is_stdin = !strcmp(path, "-");
	const char *name = is_stdin ? PA_STDIN_NAME : path;
	*s = (struct capture_stream){.fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC),
				     .owned = !is_stdin, .copy_fd = -1};
	if (s->fd < 0) {
		pa_error_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!copy_dir) {
		struct capture_file *cf = capture_file_open_stream(s->fd, name, -1, err);
		if (!cf)
			stream_close(s);
		return cf;
	}
	/* The format, and so the name, is known only once the header is read. */
	const char *base = is_stdin ? "stdin" : "stream";
	char partial[4096];
	snprintf(partial, sizeof partial, "%s/%s.part", copy_dir, base);
	s->copy_fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (s->copy_fd < 0) {
		pa_error_set(err, "%s: %s", partial, strerror(errno));
		stream_close(s);
		return NULL;
	}
	struct capture_file *cf = capture_file_open_stream(s->fd, name, s->copy_fd, err);
	if (!cf) {
		stream_close(s);
		unlink(partial);
		return NULL;
	}
	char copy[sizeof s->copy_path];
	snprintf(copy, sizeof copy, "%s/%s.%s", copy_dir, base,
		 strcmp(capture_file_format(cf), "pcapng") ? "pcap" : "pcapng");
	if (rename(partial, copy) != 0) {
		pa_error_set(err, "%s: %s", copy, strerror(errno));
		capture_file_close(cf);
		stream_close(s);
		return NULL;
	}
	memcpy(s->copy_path, copy, sizeof copy);
	return cf;
}

bool capture_stream_finish(struct capture_stream *s, const struct capture_file *cf,
			   struct pa_error *err)
{
	if (s->copy_fd < 0) {
		stream_close(s);
		return true;
	}
	int copy_errno = capture_file_copy_errno(cf);
	if (close(s->copy_fd) != 0 && !copy_errno)
		copy_errno = errno;
	s->copy_fd = -1;
	stream_close(s);
	if (copy_errno)
		pa_error_set(err, "%s: %s (the copy of the stream is incomplete)", s->copy_path,
			     strerror(copy_errno));
	return !copy_errno;
}
