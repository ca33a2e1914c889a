/*
 * ring.h — the evidence capture of a live run: every packet written to a
 * ring of pcapng files in DIR/capture/ (capture-000001.pcapng, ...), rotated
 * by size and/or age, optionally limited in count. When a file is closed its
 * SHA-256 is appended to DIR/capture/manifest.jsonl at once (and fsynced),
 * so the evidence of a run killed at any moment is every closed file, hashed,
 * plus the current file readable up to its last complete packet.
 */
#ifndef PA_RING_H
#define PA_RING_H

#include "capture/pcapng_writer.h"

struct ring_config {
	const char *dir;        /* DIR/capture */
	uint64_t max_bytes;     /* rotate when a file reaches this size; 0 = 100 MB */
	int64_t max_age_us;     /* rotate when a file is this old (capture time); 0 = never */
	unsigned max_files;     /* delete the oldest beyond this count; 0 = keep all */
};

struct ring_stats {
	uint64_t packets_written;
	uint64_t packets_lost;  /* could not be written (disk full, unwritable folder) */
	unsigned files_closed;
	unsigned files_deleted; /* by max_files */
	char last_error[sizeof(struct pa_error)];   /* "" when none */
};

struct ring;
struct ring *ring_open(const struct ring_config *cfg, struct pa_error *err);
/* Writes one packet (rotating first when due). false when it was lost; the
 * reason is in stats.last_error. */
bool ring_packet(struct ring *r, const struct capture_record *rec);
/* After each batch: make everything written so far readable by others. */
void ring_flush(struct ring *r);
/* Close the current file now (SIGHUP); the next packet opens a new one. */
void ring_rotate(struct ring *r);
const struct ring_stats *ring_stats(const struct ring *r);
/* Closes (hashing the last file) and frees; *final (if not NULL) gets the
 * statistics including the last file's closing. */
void ring_close(struct ring *r, struct ring_stats *final);

#endif
