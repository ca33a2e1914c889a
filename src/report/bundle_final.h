/*
 * bundle_final.h — the end of a run with --out: what exists only once every
 * flow has ended (findings.jsonl, evidence/, report.json, report.html), then
 * manifest.json over all of it (--bundle-inputs: with the inputs copied into
 * inputs/ first) and its signature. bundle.h moves the folder into place
 * afterwards.
 */
#ifndef PA_BUNDLE_FINAL_H
#define PA_BUNDLE_FINAL_H

#include <jansson.h>

#include "policy/findings.h"
#include "privaudit.h"
#include "records.h"
#include "report/bundle_inputs.h"
#include "report/summary.h"

struct keylog;
struct pa_signer;

/* A file the run streamed into the staging folder, hashed as it was written. */
struct bundle_output_hash {
	const char *name; /* relative to the staging folder; NULL: not written */
	struct pa_file_hash hash;
};

struct bundle_final {
	const char *staging;      /* the staging folder this run writes (bundle.h) */
	const char *out_dir;      /* DIR as given: live mode's ring is DIR/capture */
	const char *command_line; /* as typed, or NULL */
	bool live, no_evidence, bundle_inputs;

	struct findings *findings;
	const struct summary *summary;
	const struct summary_inputs *summary_inputs;
	json_t *provenance;       /* report.json's and the manifest's (borrowed) */
	/* report.json's "memory" part, made when report.json is written
	 * (after the evidence, so its peak counts that too); new reference. */
	json_t *(*memory_json)(const void *ctx);
	const void *memory_ctx;

	/* The inputs: the captures as read (with the hashes taken meanwhile),
	 * or live mode's ring files (relative to staging's parent, DIR), the
	 * key logs, and the inputs read at the start, either hashed then
	 * (inputs_hashed, borrowed) or to hash now (other). */
	const struct input_file_info *files;
	size_t file_count;
	char *const *ring_files;
	size_t ring_file_count;
	const char *const *keylog_paths;
	size_t keylog_count;
	const struct keylog *keylog;
	json_t *inputs_hashed;
	struct bundle_input_files other;

	const struct bundle_output_hash *outputs;
	size_t output_count;
	const struct pa_signer *signer; /* --sign-key, or NULL */
};

/* Writes every file; the first error is returned in err (each one is
 * printed on stderr). The manifest is not written when an output failed:
 * no manifest certifies a bundle with a file missing or short. */
bool bundle_write_final(const struct bundle_final *b, struct pa_error *err);

#endif
