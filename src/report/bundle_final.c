/*
 * bundle_final.c — the files written at the end of a run with --out, the
 * manifest last (bundle_final.h).
 */
#include "report/bundle_final.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report/evidence.h"
#include "report/report_html.h"
#include "report/sign.h"
#include "tls/keylog.h"

/* The number of entries write_manifest may make. */
static size_t manifest_entries_max(const struct bundle_final *b)
{
	return b->file_count + b->ring_file_count + b->keylog_count + b->output_count +
	       BUNDLE_OTHER_INPUTS_MAX + 1;
}

static bool write_report_page(void *report, const char *staging, const char *digest_hex,
			      struct pa_error *err)
{
	return report_html_write_digest(staging, report, digest_hex, err);
}

/* staging/manifest.json: every input and output with its SHA-256, and the
 * run's provenance; report.html is written from report once every other
 * file is hashed, carrying their digest (page_digest.h); then the
 * manifest's signature when a key was given. */
static bool write_manifest(const struct bundle_final *b, json_t *report, struct pa_error *err)
{
	size_t max = manifest_entries_max(b);
	size_t n = 0;
	struct manifest_entry *e = pa_xcalloc(max, sizeof *e);
	for (size_t i = 0; i < b->file_count; i++)
		if (!b->files[i].failed)
			e[n++] = (struct manifest_entry){.role = "capture", .path = b->files[i].path,
							 .hash = b->files[i].hash};
	/* The live ring's files, named relative to the output folder. */
	for (size_t i = 0; i < b->ring_file_count; i++)
		if (b->ring_files[i][0])
			e[n++] = (struct manifest_entry){.role = "capture", .path = b->ring_files[i],
							 .in_dir = true};
	/* A live key log is hashed through the descriptor it is read by. */
	struct pa_file_hash *keylog_hash = pa_xcalloc(b->keylog_count + 1, sizeof *keylog_hash);
	for (size_t i = 0; i < b->keylog_count; i++) {
		if (!b->keylog_paths[i] || !b->keylog_paths[i][0])
			continue;
		e[n++] = (struct manifest_entry){.role = "keylog", .path = b->keylog_paths[i]};
		if (keylog_hash_source(b->keylog, b->keylog_paths[i], &keylog_hash[i]))
			e[n - 1].hash = &keylog_hash[i];
	}
	json_t *metas[GEO_MAX_DBS] = {0};
	if (b->inputs_hashed)
		e[n++] = (struct manifest_entry){.role = "inputs", .prepared = b->inputs_hashed};
	else
		n += bundle_other_inputs(&b->other, e + n, max - n, metas);
	for (size_t i = 0; i < b->output_count; i++)
		if (b->outputs[i].name && b->outputs[i].hash.ok)
			e[n++] = (struct manifest_entry){.role = "output", .path = b->outputs[i].name,
							 .hash = &b->outputs[i].hash, .output = true};
	bool ok = !b->bundle_inputs || bundle_copy_inputs(b->staging, e, n, err);
	json_t *header = json_pack("{s:s?, s:O, s:{s:b}, s:b}", "command_line", b->command_line,
				   "provenance", b->provenance, "evidence", "written", !b->no_evidence,
				   "inputs_bundled", b->bundle_inputs);
	if (b->signer)
		json_object_set_new(header, "signature", pa_signer_json(b->signer));
	char ring[4400];
	snprintf(ring, sizeof ring, "%s/capture", b->out_dir);
	struct stat st;
	struct manifest_late_output page = {"report.html", write_report_page, report};
	struct manifest_folders where = {
		.staging = b->staging,
		.in_place = b->live && stat(ring, &st) == 0 ? ring : NULL,
		.in_place_name = "capture",
		.late = &page,
	};
	ok = ok && manifest_write(&where, e, n, header, NULL, err);
	json_decref(header);
	for (size_t i = 0; i < GEO_MAX_DBS; i++)
		json_decref(metas[i]);
	free(keylog_hash);
	free(e);
	if (ok && b->signer)
		ok = pa_signer_sign(b->signer, b->staging, err);
	return ok;
}

/* DIR/NAME, allocated. */
static char *path_in(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = pa_xmalloc(n);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* evidence/: one capture per finding, cut from the ring files (live) or
 * the inputs. */
static bool write_evidence(const struct bundle_final *b, struct evidence_stats *ev,
			   struct pa_error *err)
{
	size_t count = b->ring_files ? b->ring_file_count : b->file_count;
	char **paths = pa_xcalloc(count + 1, sizeof *paths);
	for (size_t i = 0; i < count; i++)
		paths[i] = b->ring_files ? path_in(b->out_dir, b->ring_files[i]) /* DIR/capture/ */
					 : pa_xstrdup(b->files[i].path);
	bool ok = evidence_write(b->findings, paths, count, b->keylog, b->staging, ev, err);
	for (size_t i = 0; i < count; i++)
		free(paths[i]);
	free(paths);
	return ok;
}

bool bundle_write_final(const struct bundle_final *b, struct pa_error *err)
{
	const char *dir = b->staging;
	struct pa_error e = {{0}};
	bool ok = true;
#define KEEP_FIRST_ERROR() do { if (ok) *err = e; ok = false; \
	fprintf(stderr, "privaudit: %s\n", e.msg); } while (0)

	if (!findings_write_jsonl(b->findings, dir, &e))
		KEEP_FIRST_ERROR();
	struct evidence_stats ev = {0};
	if (!b->no_evidence && findings_count(b->findings) && !write_evidence(b, &ev, &e))
		KEEP_FIRST_ERROR();

	json_t *report = summary_report_json(b->summary, b->summary_inputs, b->command_line);
	json_t *policy_part = findings_report_json(b->findings);
	json_object_update(report, policy_part);
	json_decref(policy_part);
	json_object_set_new(report, "evidence", json_pack("{s:b, s:I, s:I, s:I, s:I}",
		"written", !b->no_evidence, "files", (json_int_t)ev.files,
		"packets", (json_int_t)ev.packets, "missing_packets", (json_int_t)ev.missing,
		"tls_sessions_with_secrets", (json_int_t)ev.tls_sessions));
	json_object_set_new(report, "memory", b->memory_json(b->memory_ctx));
	json_object_set(report, "provenance", b->provenance);
	if (!report_json_write(dir, report, &e))
		KEEP_FIRST_ERROR();
	/* No manifest certifies a bundle with a file missing or short; the
	 * page is still written for whoever inspects the staging folder. */
	if (!ok && !report_html_write(dir, report, &e))
		KEEP_FIRST_ERROR();
	if (ok && !write_manifest(b, report, &e))
		KEEP_FIRST_ERROR();
	json_decref(report);
#undef KEEP_FIRST_ERROR
	return ok;
}
