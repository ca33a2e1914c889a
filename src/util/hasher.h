/*
 * hasher.h — SHA-256 of input files on a worker thread while the audit
 * reads them, and a check that each hash describes the bytes the audit read.
 *
 * One worker thread, started with the first file, hashes the queued files
 * in order (pa_sha256_fd: EVP SHA-256, 1 MiB reads). The audit reads a
 * capture once through its own descriptor; the hasher opens the same path
 * again, so the file is in the page cache for whichever comes second.
 *
 * Integrity: the file's identity — device, inode, size and modification
 * time (st_mtim) — is taken four times: through the reader's descriptor
 * when the file is queued, through the hasher's descriptor before and after
 * hashing, and through the reader's descriptor when the reader is done.
 * All four must agree and the hasher must have read exactly st_size bytes;
 * otherwise the result is "changed" and problem says what differed (the
 * file grew, was rewritten or was replaced while it was audited). A rewrite
 * that keeps the size and lands within the filesystem's timestamp
 * granularity of the first look cannot be seen this way.
 */
#ifndef PA_HASHER_H
#define PA_HASHER_H

#include "privaudit.h"
#include "util/sha256.h"

struct pa_file_hash {
	bool ok;                    /* hashed; else error says why (as pa_sha256_file) */
	char sha256[PA_SHA256_HEX];
	uint64_t size;              /* bytes hashed */
	bool changed;               /* the file changed while it was audited or hashed */
	char problem[256];          /* how, when changed: "size 100 then 4196 bytes" */
	struct pa_error error;
};

struct pa_hasher;
struct pa_hash_job;

struct pa_hasher *pa_hasher_new(void);
/* Queues path. reader_fd is the caller's own open descriptor of the file
 * (-1: none); what it shows now is what the hash must match. The job lives
 * until pa_hasher_free. */
struct pa_hash_job *pa_hasher_add(struct pa_hasher *h, const char *path, int reader_fd);
/* The reader has read the file: what its descriptor shows now must match too. */
void pa_hash_job_reader_done(struct pa_hash_job *j, int reader_fd);
/* Waits until the job is hashed and compares the looks taken so far (wait
 * after pa_hash_job_reader_done for the full check); the result lives until
 * pa_hasher_free. */
const struct pa_file_hash *pa_hash_job_wait(struct pa_hash_job *j);
/* Drops the jobs not started, waits for the one being hashed. */
void pa_hasher_free(struct pa_hasher *h);

#endif
