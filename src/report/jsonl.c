/* jsonl.c — JSON Lines output files. */
#include "report/jsonl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hasher.h"
#include "util/sha256.h"

#define JSONL_BUFFER (1u << 20)

struct jsonl_out {
	FILE *f;
	char *path, *tmp_path;
	bool flush_each;
	bool write_failed;
	int write_errno;
	uint64_t lines;
	uint64_t bytes;
	struct pa_sha256 *sha;
	/* One line is built here, in memory reused from line to line, and
	 * written with one fwrite: a write per token cost a tenth of an audit. */
	struct jsonw line;
};

struct jsonl_out *jsonl_open(const char *dir, const char *name, bool flush_each, struct pa_error *err)
{
	struct jsonl_out *o = pa_xcalloc(1, sizeof *o);
	size_t n = strlen(dir) + strlen(name) + 16;
	o->path = pa_xmalloc(n);
	o->tmp_path = pa_xmalloc(n);
	snprintf(o->path, n, "%s/%s", dir, name);
	snprintf(o->tmp_path, n, flush_each ? "%s/%s" : "%s/.%s.tmp", dir, name);
	o->flush_each = flush_each;
	jw_init(&o->line);
	o->sha = pa_sha256_new();
	o->f = fopen(o->tmp_path, "w");
	/* Large writes: flows.jsonl can be hundreds of MB, and stdio's default
	 * buffer made that one write call per 4 KiB. */
	if (o->f && !flush_each)
		setvbuf(o->f, NULL, _IOFBF, JSONL_BUFFER);
	if (!o->f) {
		pa_error_set(err, "%s: %s", o->tmp_path, strerror(errno));
		char unused[PA_SHA256_HEX];
		pa_sha256_final(o->sha, unused);
		free(o->path);
		free(o->tmp_path);
		free(o);
		return NULL;
	}
	return o;
}

struct jsonw *jsonl_line(struct jsonl_out *o)
{
	jw_reset(&o->line);
	return &o->line;
}

void jsonl_write(struct jsonl_out *o)
{
	struct jsonw *w = &o->line;
	jw_raw(w, "\n", 1);
	pa_sha256_update(o->sha, w->buf, w->len);
	o->bytes += w->len;
	bool ok = fwrite(w->buf, 1, w->len, o->f) == w->len;
	if (ok && o->flush_each)
		ok = fflush(o->f) == 0;
	if (!ok && !o->write_failed) {
		o->write_failed = true;
		o->write_errno = errno;
	}
	o->lines++;
}

uint64_t jsonl_lines(const struct jsonl_out *o)
{
	return o->lines;
}

bool jsonl_close(struct jsonl_out *o, struct pa_file_hash *hash, struct pa_error *err)
{
	bool ok = !o->write_failed;
	char hex[PA_SHA256_HEX];
	pa_sha256_final(o->sha, hex);
	if (fclose(o->f) != 0 && ok) {
		ok = false;
		o->write_errno = errno;
	}
	if (ok && !o->flush_each && rename(o->tmp_path, o->path) != 0) {
		ok = false;
		o->write_errno = errno;
	}
	if (!ok)
		pa_error_set(err, "%s: not written completely: %s", o->path, strerror(o->write_errno));
	if (hash) {
		memset(hash, 0, sizeof *hash);
		hash->ok = ok;
		memcpy(hash->sha256, hex, sizeof hex);
		hash->size = o->bytes;
		if (!ok && err)
			hash->error = *err;
	}
	free(o->path);
	free(o->tmp_path);
	jw_free(&o->line);
	free(o);
	return ok;
}
