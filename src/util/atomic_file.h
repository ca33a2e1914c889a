/*
 * atomic_file.h — every file privaudit writes whole (report.json,
 * report.html, findings.jsonl, manifest.json, evidence pcapng files, the
 * flows/observations streams of an offline audit, the Hyperscan cache)
 * appears under its name complete or not at all: it is written to a hidden
 * temporary next to it, flushed to disk, then renamed over the name. A
 * crash, a full disk or a kill leaves the previous file (or none) and at
 * most a stray temporary, never a half file an auditor could mistake for
 * a whole one.
 *
 * The temporary for DIR/NAME is DIR/.NAME.tmp; with PA_ATOMIC_SHARED
 * (files several processes may write at once, such as a cache) it also
 * carries the process id, DIR/.NAME.PID.tmp, so two writers never share
 * one temporary.
 */
#ifndef PA_ATOMIC_FILE_H
#define PA_ATOMIC_FILE_H

#include <stdio.h>

#include "privaudit.h"

enum pa_atomic_flags {
	PA_ATOMIC_SHARED = 1u << 0, /* temporary name carries the process id */
};

struct pa_atomic_file {
	FILE *f;         /* write the contents here */
	char path[4096]; /* the final name */
	char tmp[4200];  /* where the contents are until committed */
};

/* The temporary's name for path into tmp (n bytes); false when it does not fit. */
bool pa_atomic_tmp_name(const char *path, unsigned flags, char *tmp, size_t n);

/* Opens the temporary for path; false with err "TMP: reason". */
bool pa_atomic_open(struct pa_atomic_file *af, const char *path, unsigned flags,
		    struct pa_error *err);

/* Flushes, fsyncs and closes the temporary, then renames it over the final
 * name. written_ok is the caller's own verdict on its writes (false: a write
 * already failed). On any failure the temporary is removed and err says
 * "PATH: cannot write: reason". */
bool pa_atomic_commit(struct pa_atomic_file *af, bool written_ok, struct pa_error *err);

/* Closes and removes the temporary without touching the final name. */
void pa_atomic_abort(struct pa_atomic_file *af);

/* For writers that open and close the temporary themselves (the pcapng
 * writer): renames tmp over path once the writer closed it cleanly; else,
 * or when the rename fails, removes tmp. false with err "PATH: reason". */
bool pa_atomic_rename(const char *tmp, const char *path, bool written_ok, struct pa_error *err);

/* The whole file from one buffer. */
bool pa_atomic_write(const char *path, const void *data, size_t len, unsigned flags,
		     struct pa_error *err);

#endif
