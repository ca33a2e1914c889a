/* ring.c — rotating pcapng evidence files with a hash manifest. */
#include "capture/ring.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/sha256.h"

struct ring {
	struct ring_config cfg;
	struct pcapng_writer w;
	bool open;
	unsigned seq;            /* number of the current/last file */
	unsigned first_kept;     /* oldest file number still on disk */
	int64_t file_started_us; /* capture time of the current file's first packet */
	int64_t last_retry_us;   /* after a write error: when a fresh file was last tried */
	char path[4096];
	struct ring_stats stats;
};

static void note_error(struct ring *r, const char *fmt, const char *what, int err)
{
	char shown[384]; /* a very long path is shortened in the message, never overflows it */
	size_t n = strnlen(what, sizeof shown - 1);
	memcpy(shown, what, n);
	shown[n] = '\0';
	snprintf(r->stats.last_error, sizeof r->stats.last_error, fmt, shown, strerror(err));
	fprintf(stderr, "privaudit: %s\n", r->stats.last_error);
}

struct ring *ring_open(const struct ring_config *cfg, struct pa_error *err)
{
	if (mkdir(cfg->dir, 0755) != 0 && errno != EEXIST) {
		pa_error_set(err, "%s: cannot create: %s", cfg->dir, strerror(errno));
		return NULL;
	}
	struct ring *r = pa_xcalloc(1, sizeof *r);
	r->cfg = *cfg;
	if (!r->cfg.max_bytes)
		r->cfg.max_bytes = 100ull * 1000 * 1000;
	r->first_kept = 1;
	return r;
}

static void file_path(const struct ring *r, unsigned seq, char *out, size_t len)
{
	snprintf(out, len, "%s/capture-%06u.pcapng", r->cfg.dir, seq);
}

/* Appends one line to the manifest and forces it to disk: the hash of a
 * closed file must survive a crash that follows. */
static void manifest_append(struct ring *r, json_t *line)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/manifest.jsonl", r->cfg.dir);
	FILE *f = fopen(path, "a");
	bool ok = f && json_dumpf(line, f, JSON_COMPACT | JSON_SORT_KEYS) == 0 && fputc('\n', f) != EOF &&
		  fflush(f) == 0 && fsync(fileno(f)) == 0;
	int e = errno;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok)
		note_error(r, "%s: manifest not updated: %s", path, e);
	json_decref(line);
}

static void close_current(struct ring *r)
{
	if (!r->open)
		return;
	r->open = false;
	uint64_t packets = r->w.packets;
	if (!pcapng_writer_close(&r->w))
		note_error(r, "%s: not completely written: %s", r->path, r->w.errno_saved);
	char hex[PA_SHA256_HEX];
	uint64_t size = 0;
	struct pa_error err;
	if (!pa_sha256_file(r->path, hex, &size, &err)) {
		snprintf(r->stats.last_error, sizeof r->stats.last_error, "%s", err.msg);
		return;
	}
	const char *name = strrchr(r->path, '/') ? strrchr(r->path, '/') + 1 : r->path;
	char closed[40];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	pa_time_str((int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000, closed, sizeof closed);
	manifest_append(r, json_pack("{s:s, s:s, s:I, s:I, s:s, s:b}", "file", name, "sha256", hex,
				     "bytes", (json_int_t)size, "packets", (json_int_t)packets,
				     "closed_at", closed, "write_failed", r->w.failed));
	r->stats.files_closed++;
}

static void enforce_max_files(struct ring *r)
{
	if (!r->cfg.max_files)
		return;
	while (r->seq - r->first_kept + 1 > r->cfg.max_files) {
		char old[4200];
		file_path(r, r->first_kept, old, sizeof old);
		if (unlink(old) == 0) {
			r->stats.files_deleted++;
			const char *name = strrchr(old, '/') + 1;
			manifest_append(r, json_pack("{s:s, s:b}", "file", name, "deleted", 1));
		}
		r->first_kept++;
	}
}

static bool open_next(struct ring *r, int64_t ts_us)
{
	r->seq++;
	file_path(r, r->seq, r->path, sizeof r->path);
	struct pa_error err;
	if (!pcapng_writer_open(&r->w, r->path, "privaudit " PA_VERSION " live", &err)) {
		snprintf(r->stats.last_error, sizeof r->stats.last_error, "%s", err.msg);
		fprintf(stderr, "privaudit: %s\n", err.msg);
		return false;
	}
	r->open = true;
	r->file_started_us = ts_us;
	enforce_max_files(r);
	return true;
}

bool ring_packet(struct ring *r, const struct capture_record *rec)
{
	/* After a write error (disk full), try a fresh file once a second. */
	if (r->open && r->w.failed && rec->ts_us - r->last_retry_us >= 1000000) {
		r->last_retry_us = rec->ts_us;
		close_current(r);
	}
	if (r->open && (r->w.bytes >= r->cfg.max_bytes ||
			(r->cfg.max_age_us && rec->ts_us - r->file_started_us >= r->cfg.max_age_us)))
		close_current(r);
	if (!r->open && !open_next(r, rec->ts_us)) {
		r->stats.packets_lost++;
		return false;
	}
	bool was_failed = r->w.failed;
	if (!pcapng_writer_packet(&r->w, rec)) {
		if (!was_failed)
			note_error(r, "%s: cannot write: %s", r->path, r->w.errno_saved);
		r->stats.packets_lost++;
		return false;
	}
	r->stats.packets_written++;
	return true;
}

void ring_flush(struct ring *r)
{
	if (!r->open)
		return;
	bool was_failed = r->w.failed;
	if (!pcapng_writer_flush(&r->w) && !was_failed)
		note_error(r, "%s: cannot write: %s", r->path, r->w.errno_saved);
}

void ring_rotate(struct ring *r)
{
	close_current(r);
}

const struct ring_stats *ring_stats(const struct ring *r)
{
	return &r->stats;
}

void ring_close(struct ring *r, struct ring_stats *final)
{
	if (!r)
		return;
	close_current(r);
	if (final)
		*final = r->stats;
	free(r);
}
