/*
 * manifest.h — DIR/manifest.json: the SHA-256 and size of every file an
 * audit read (input captures, key logs, policy, signatures, device profile,
 * recipient catalogue, GeoIP databases with their metadata) and of exactly
 * the files it wrote (every file of its staging folder, bundle.h), with the
 * run's provenance. Written last, after every other output; `privaudit
 * verify DIR` (manifest_verify) checks a folder against it.
 *
 * Schema (docs/output.md):
 *   {"format": 2, "tool": {"name", "version"}, "created", "command_line",
 *    "provenance": {...}, "evidence": {"written"}, "signature"?: {...},
 *    "files": [{"role", "path", "relative", "size", "sha256",
 *               "resolved"?, "input_name"?, "meta"?,
 *               "changed_during_audit"?, "problem"?}]}
 * "relative": true for files of the bundle (path relative to DIR: outputs,
 * evidence/, capture/ of live mode, inputs/ of --bundle-inputs); else an
 * input: "path" as given, "resolved" its absolute path at the time of the
 * run and "input_name" the name it has under inputs/ (--bundle-inputs) and
 * under `verify --inputs DIR`.
 * "changed_during_audit": true (with "problem") when the file changed while
 * the audit read it: its hash may not describe the bytes analysed, and
 * verify reports it as CHANGED whatever the file holds now.
 */
#ifndef PA_MANIFEST_H
#define PA_MANIFEST_H

#include <jansson.h>
#include <stdio.h>

#include "geo/geo.h"
#include "privaudit.h"
#include "util/hasher.h"

#define MANIFEST_FORMAT 2

/* Files written beside manifest.json after it (sign.h); verify knows them. */
#define MANIFEST_SIG_FILE "manifest.json.sig"
#define MANIFEST_PUBKEY_FILE "manifest.pub.pem"
#define MANIFEST_TSQ_FILE "manifest.json.tsq"
#define MANIFEST_TSR_FILE "manifest.json.tsr" /* the TSA's reply, added by the user */

/* An input (a file, or a folder: every regular file under it, recursively,
 * sorted), or an output hashed as it was written. */
struct manifest_entry {
	const char *role; /* "capture", "policy", "signatures", "device", "recipients", "geoip", "keylog", ... */
	const char *path;
	json_t *meta;     /* borrowed; copied into the entry (GeoIP metadata), may be NULL */
	const struct pa_file_hash *hash; /* hashed already (captures, while read), or NULL */
	bool output;      /* path is the name of an output in the staging folder, hashed as written */
	json_t *prepared; /* its files, hashed earlier by manifest_prepare (borrowed), or NULL */
	bool in_dir;      /* path is a file of the bundle (live: the ring in capture/), listed by
			     the walk of the in-place folder, not as an input */
};

/* Hashes an input entry now (a file, or every file under a folder) into the
 * JSON array manifest_write would make of it, for a process that will lose
 * the right to read it before the end (live mode, after dropping
 * privileges). New reference; NULL with err set when it cannot be read. */
json_t *manifest_prepare(const struct manifest_entry *e, struct pa_error *err);

/* The name an input has under inputs/ and `verify --inputs`: its role's
 * folder and its base name ("capture/phone.pcapng"), for a file found in an
 * input folder the path below that folder ("signatures/devices/x.yaml"). */
void manifest_input_name(const char *role, const char *path, const char *below, char *out,
			 size_t len);

/* Calls fn for an input: a file, or every visible regular file under a
 * folder, recursively, sorted by name (hidden files are not part of a
 * signature set or catalogue), with the name it has under inputs/
 * (manifest_input_name). The manifest hashes inputs through it and
 * --bundle-inputs copies them through it, so both name the same files the
 * same way. false with err set when a path cannot be read or fn fails. */
typedef bool (*manifest_input_fn)(void *ctx, const char *role, const char *path,
				  const char *input_name, struct pa_error *err);
bool manifest_walk_input(const char *role, const char *path, manifest_input_fn fn, void *ctx,
			 struct pa_error *err);

/*
 * Hashes the input entries (those without a hash), then every file of
 * the staging folder and of the in-place folder (this run's outputs; an output given as an entry with its hash is
 * not read again), and writes manifest.json into the staging folder. header (borrowed)
 * holds the run's facts: its members are copied to the top level.
 * false with err set when a file cannot be read, a file of the staging
 * folder is not a regular file, or the manifest cannot be written.
 * sha256_hex, when not NULL, receives the manifest's own hash.
 */
struct manifest_folders {
	const char *staging;       /* this run's staging folder */
	const char *in_place;      /* live: DIR/capture, the ring written in place; or NULL */
	const char *in_place_name; /* its name in the bundle: "capture" */
};
bool manifest_write(const struct manifest_folders *where, const struct manifest_entry *entries,
		    size_t n, json_t *header, char sha256_hex[65], struct pa_error *err);

/* A GeoIP database's metadata for its manifest entry (new reference). */
json_t *manifest_geoip_meta(const struct geo_db_info *db);

/* privaudit verify. */
struct verify_options {
	const char *dir;
	const char *inputs_dir; /* --inputs: where the inputs are now, or NULL */
	const char *key;        /* --key: the public key the manifest must be signed with */
	const char *tsa_ca;     /* --tsa-ca: CA certificate(s) of the time-stamping authority */
};

/* Exit codes of verify: everything matches; something does not (each
 * problem one line on out, then a total); the options or DIR cannot be used. */
enum verify_result { VERIFY_OK = 0, VERIFY_FAILED = 1, VERIFY_USAGE = 2 };

enum verify_result manifest_verify(const struct verify_options *o, FILE *out);

#endif
