/*
 * manifest.h — DIR/manifest.json: the SHA-256 and size of every file an
 * audit read or wrote (input captures, policy, signatures, device profile,
 * recipient catalogue, GeoIP databases with their metadata, evidence files,
 * the outputs), the tool version and the command line. Written last, after
 * every other output; `privaudit verify DIR` (evidence_verify) checks it.
 *
 * Schema (docs/findings.md):
 *   {"tool": {"name", "version"}, "command_line", "created",
 *    "files": [{"role", "path", "resolved", "relative", "size", "sha256", "meta"?,
 *               "changed_during_audit"?, "problem"?}]}
 * "relative": true for files inside DIR (path relative to DIR), else "path"
 * is as given and "resolved" the absolute path at the time of the run.
 * "changed_during_audit": true (with "problem") when the file changed while
 * the audit read it: its hash may not describe the bytes analysed, and
 * verify reports it as CHANGED whatever the file holds now.
 */
#ifndef PA_MANIFEST_H
#define PA_MANIFEST_H

#include <jansson.h>

#include "geo/geo.h"
#include "privaudit.h"
#include "util/hasher.h"

/* One file (or folder: every regular file under it, recursively, sorted). */
struct manifest_entry {
	const char *role; /* "capture", "policy", "signatures", "device", "recipients", "geoip", "keylog", ... */
	const char *path;
	json_t *meta;     /* borrowed; copied into the entry (GeoIP metadata), may be NULL */
	const struct pa_file_hash *hash; /* hashed already (captures, while read), or NULL */
	bool output;      /* path is the name of an output in DIR, hashed as written */
	json_t *prepared; /* its files, hashed earlier by manifest_prepare (borrowed), or NULL */
	bool in_dir;      /* path is relative to DIR (live: the evidence ring), listed "relative" */
};

/* Hashes an input entry now (a file, or every file under a folder) into the
 * JSON array manifest_write would make of it, for a process that will lose
 * the right to read it before the end (live mode, after dropping
 * privileges). New reference; NULL with err set when it cannot be read. */
json_t *manifest_prepare(const struct manifest_entry *e, struct pa_error *err);

/* Hashes the entries (those without a hash), then DIR/evidence/ and the outputs present in DIR
 * (flows.jsonl, observations.jsonl, findings.jsonl, report.json,
 * report.html; an output given as an entry with its hash is not read
 * again), and writes DIR/manifest.json through a temporary name.
 * false with err set when an entry cannot be read or the file not written. */
bool manifest_write(const char *dir, const struct manifest_entry *entries, size_t n,
		    const char *command_line, struct pa_error *err);

/* A GeoIP database's metadata for its manifest entry (new reference). */
json_t *manifest_geoip_meta(const struct geo_db_info *db);

#endif
