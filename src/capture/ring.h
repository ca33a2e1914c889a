/*
 * ring.h — the evidence capture of a live run: every packet written to a
 * ring of pcapng files in DIR/capture/ (capture-000001.pcapng, ...), rotated
 * by size and/or age, optionally limited in count. When a file is closed its
 * SHA-256 is appended to DIR/capture/manifest.jsonl at once (and fsynced),
 * so the evidence of a run killed at any moment is every closed file, hashed,
 * plus the current file readable up to its last complete packet.
 *
 * Each packet is one pwrite() of complete pcapng blocks at the end of the
 * file's good part, made before the packet goes through the audit: whatever
 * the audit has shown is already in the kernel's hands, and a kill -9 cannot
 * lose it. A write that fails half-way (disk full) is cut back off the file,
 * so the file never ends in a broken block; the packet is counted as lost and
 * the ring keeps trying with the next packets.
 */
#ifndef PA_RING_H
#define PA_RING_H

#include "capture/capture.h"

struct ring_config {
	const char *dir;        /* DIR/capture (copied) */
	uint64_t max_bytes;     /* rotate when a file reaches this size; 0 = 100 MB */
	int64_t max_age_us;     /* rotate when a file is this old (capture time); 0 = never */
	unsigned max_files;     /* delete the oldest beyond this count; 0 = keep all */
};

struct ring_stats {
	uint64_t packets_offered; /* every packet handed to ring_packet: the live packet numbers */
	uint64_t packets_written;
	uint64_t packets_lost;  /* could not be written (disk full, unwritable folder) */
	/* The packets lost, by live packet number (1-based) and capture time. */
	uint64_t lost_first_number, lost_last_number;
	int64_t lost_first_us, lost_last_us;
	unsigned files_opened;
	unsigned files_closed;
	unsigned files_deleted; /* by max_files */
	unsigned manifest_lines_lost; /* closed files whose hash line could not be written */
	char first_error[sizeof(struct pa_error)]; /* "" when none */
	char last_error[sizeof(struct pa_error)];  /* "" when none */
};

struct ring;
struct ring *ring_open(const struct ring_config *cfg, struct pa_error *err);
/* Writes one packet (rotating first when due). false when it was lost; the
 * reason is in stats.last_error (and was printed on stderr when it began). */
bool ring_packet(struct ring *r, const struct capture_record *rec);
/* Kept for callers that batch: every packet is already written when
 * ring_packet returns, so this only retries a manifest that could not be
 * written before. */
void ring_flush(struct ring *r);
/* Close the current file now (SIGHUP); the next packet opens a new one. */
void ring_rotate(struct ring *r);
const struct ring_stats *ring_stats(const struct ring *r);
/* Path of file number seq (1 = the first of this run) in ring folder dir. */
void ring_file_path(const char *dir, unsigned seq, char *out, size_t len);
/* One sentence for the report on what the ring could not write, or "" when
 * it wrote everything. */
void ring_loss_text(const struct ring_stats *s, char *out, size_t len);
/* Closes (hashing the last file) and frees; *final (if not NULL) gets the
 * statistics including the last file's closing. */
void ring_close(struct ring *r, struct ring_stats *final);

#endif
