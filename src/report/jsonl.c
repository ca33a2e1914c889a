/* jsonl.c — JSON Lines output files. */
#include "report/jsonl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/atomic_file.h"
#include "util/hasher.h"
#include "util/sha256.h"

/* Lines gather in memory up to this, then go out in one write(2). */
#define JSONL_BUFFER (1u << 20)

struct jsonl_out {
	/* Offline: a temporary renamed into place on close. Live: af.f is
	 * the final file itself, readable (tail -f) while it grows. */
	struct pa_atomic_file af;
	bool flush_each;
	bool write_failed;
	int write_errno;
	uint64_t lines;
	uint64_t bytes;
	struct pa_sha256 *sha;
	/* Lines are built here one after the other, in memory reused from
	 * write to write, and written straight from it once JSONL_BUFFER is
	 * reached (live: at each line): no stdio, whose buffer only added a
	 * copy of every byte (flows.jsonl runs to hundreds of MB). */
	struct jsonw line;
	size_t line_start; /* where the line being built begins in line.buf */
};

/* Writes all of buf; false with errno on failure. */
static bool write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* The lines gathered so far go to the file. */
static void flush_lines(struct jsonl_out *o)
{
	struct jsonw *w = &o->line;
	if (w->len && !write_all(fileno(o->af.f), w->buf, w->len) && !o->write_failed) {
		o->write_failed = true;
		o->write_errno = errno;
	}
	jw_reset(w);
}

struct jsonl_out *jsonl_open(const char *dir, const char *name, bool flush_each, struct pa_error *err)
{
	struct jsonl_out *o = pa_xcalloc(1, sizeof *o);
	char path[sizeof o->af.path];
	int len = snprintf(path, sizeof path, "%s/%s", dir, name);
	if (len < 0 || (size_t)len >= sizeof path) {
		pa_error_set(err, "%s/%s: path too long", dir, name);
		free(o);
		return NULL;
	}
	o->flush_each = flush_each;
	bool opened;
	if (flush_each) {
		memcpy(o->af.path, path, (size_t)len + 1);
		o->af.f = fopen(path, "w");
		if (!o->af.f)
			pa_error_set(err, "%s: %s", path, strerror(errno));
		opened = o->af.f != NULL;
	} else {
		opened = pa_atomic_open(&o->af, path, 0, err);
	}
	if (!opened) {
		free(o);
		return NULL;
	}
	jw_init(&o->line);
	o->sha = pa_sha256_new();
	return o;
}

struct jsonw *jsonl_line(struct jsonl_out *o)
{
	struct jsonw *w = &o->line;
	/* A new value after the lines gathered so far (or after a line
	 * started and never written: it is dropped). */
	w->len = o->line_start;
	w->comma = false;
	w->depth = 0;
	return w;
}

void jsonl_write(struct jsonl_out *o)
{
	struct jsonw *w = &o->line;
	jw_raw(w, "\n", 1);
	size_t n = w->len - o->line_start;
	pa_sha256_update(o->sha, w->buf + o->line_start, n);
	o->bytes += n;
	o->lines++;
	if (o->flush_each || w->len >= JSONL_BUFFER)
		flush_lines(o);
	o->line_start = w->len;
}

uint64_t jsonl_lines(const struct jsonl_out *o)
{
	return o->lines;
}

bool jsonl_close(struct jsonl_out *o, struct pa_file_hash *hash, struct pa_error *err)
{
	flush_lines(o);
	bool ok = !o->write_failed;
	char hex[PA_SHA256_HEX];
	pa_sha256_final(o->sha, hex);
	if (o->flush_each) {
		if (fclose(o->af.f) != 0 && ok) {
			ok = false;
			o->write_errno = errno;
		}
		if (!ok)
			pa_error_set(err, "%s: not written completely: %s", o->af.path,
				     strerror(o->write_errno));
	} else {
		errno = o->write_errno; /* why the first line failed, if one did */
		ok = pa_atomic_commit(&o->af, ok, err);
	}
	if (hash) {
		memset(hash, 0, sizeof *hash);
		hash->ok = ok;
		memcpy(hash->sha256, hex, sizeof hex);
		hash->size = o->bytes;
		if (!ok && err)
			hash->error = *err;
	}
	jw_free(&o->line);
	free(o);
	return ok;
}
