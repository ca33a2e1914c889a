/*
 * pipeline.h — one audit: every stage's state, and the function that runs a
 * packet through all of them in order (audit_packet in pipeline.c).
 */
#ifndef PA_PIPELINE_H
#define PA_PIPELINE_H

#include <stdio.h>

#include "capture/capture.h"
#include "flow/flow.h"
#include "privaudit.h"
#include "records.h" /* capture_loss, input_file_info, audit_totals */

#define AUDIT_MAX_GEOIP 8
#define AUDIT_MAX_KEYLOG 16

struct audit;
/* The app and phone audited, given on the command line (borrowed strings,
 * NULL when not given); each wins over the device profile's own fact. */
struct device_facts_arg {
	const char *app_package, *app_version, *apk_sha256, *phone_model, *os_version;
};

struct audit_config {
	const char *out_dir;        /* NULL: no files, summary only */
	const char *device_file;    /* signatures/devices/X.yaml */
	const char *signatures_dir; /* signatures/ */
	const char *policy_file;
	const char *recipients_file;   /* catalogue; NULL = <signatures>/recipients.yaml */
	const char *country_overrides; /* CIDR -> country file, or NULL */
	uint64_t upload_threshold;     /* unverified transfer abroad; 0 = default */
	uint64_t echo_scan_limit;      /* per flow, towards the device; 0 = default, UINT64_MAX = all */
	bool no_evidence;              /* no DIR/evidence/ */
	const char *geoip[AUDIT_MAX_GEOIP];
	size_t geoip_count;
	const char *keylog[AUDIT_MAX_KEYLOG]; /* TLS key logs (NSS format); live: re-read as they grow */
	size_t keylog_count;
	bool quiet;
	bool verbose;
	bool show_values;
	struct flow_config flow;
	size_t frag_memory_max;
	size_t max_recipients;      /* recipients tallied by name in the summary; 0 = default */
	const char *command_line;   /* as typed, for the report */
	bool live;                  /* outputs flushed line by line, as things happen */
	int threads;                /* 2: the signature engine on a second thread (offline only); 0 = by cores */
	int64_t consent_at_us;      /* --consent-at; 0 = none */
	bool json_summary;          /* --json: the summary as one JSON document instead of text */
	/* Called every few thousand records while a capture is read, with the
	 * byte offset reached in the current file (a progress line); or NULL. */
	void (*on_progress)(void *ctx, const struct audit *a, uint64_t file_offset);
	void *progress_ctx;
	/* The evidence bundle (report/bundle.h, report/manifest.h). */
	bool replace;               /* --replace: an earlier audit's output in out_dir may go */
	const char *operator_name;  /* --operator */
	const char *sign_key;       /* --sign-key: PEM private key signing manifest.json */
	bool bundle_inputs;         /* --bundle-inputs: copies of the inputs in out_dir/inputs/ */
	struct device_facts_arg facts; /* app and phone facts from the command line */
	const char *capture_interface; /* live: the interface captured on, for the provenance */
};

/* A finding as it is raised (live mode prints a line for each). */
struct finding;
typedef void (*audit_finding_fn)(void *ctx, const struct finding *f);

/* Counters for a live status line. */
struct audit_progress {
	uint64_t packets, bytes;
	uint64_t active_flows;
	uint64_t flows;          /* seen so far, ended or not */
	uint64_t observations;
	uint64_t findings;
	int64_t consent_at_us;
};

struct audit;

/* NULL with err set when a database, profile or output folder cannot be used. */
struct audit *audit_new(const struct audit_config *cfg, struct pa_error *err);
/* Reads one capture file through the pipeline; false when the file could
 * not be read at all (err set). Warnings (cut-off record) are kept in the
 * file's info and printed unless quiet. */
bool audit_file(struct audit *a, const char *path, struct pa_error *err);
/* Runs one record through the pipeline (used by audit_file and live capture). */
void audit_packet(struct audit *a, const struct capture_record *rec);
/* Live: end flows idle at wall-clock now_us even when no packet arrives. */
void audit_tick(struct audit *a, int64_t now_us);
/* The moment the user gave consent (marker packet, signal, keyboard). */
void audit_consent(struct audit *a, int64_t ts_us);
void audit_set_capture_loss(struct audit *a, const struct capture_loss *loss);
void audit_progress(const struct audit *a, struct audit_progress *p);

/* A UDP datagram whose payload starts with this marks the consent moment in
 * a capture (docs/findings.md); live mode writes one into its evidence. */
#define PA_CONSENT_MARKER "PRIVAUDIT-CONSENT"

/* Live: a capture file (closed ring file), named relative to the output
 * folder, to read back for the evidence of findings, in order; packet
 * numbers count across them as the audit did. */
void audit_add_evidence_input(struct audit *a, const char *path);

/* The folder this run writes into (the staging folder of --out DIR, which
 * moves into place at audit_finish), or NULL without --out. Live mode hands
 * it to the unprivileged user; its ring is in DIR/capture. */
const char *audit_output_dir(const struct audit *a);
/* Live, before dropping privileges: hashes the inputs read at start
 * (policy, device, signatures, catalogue, overrides, GeoIP) for the
 * manifest now, while they can still be read. Key logs are hashed at the
 * end through the descriptors they are read by. false with err set. */
bool audit_hash_inputs(struct audit *a, struct pa_error *err);
/* The output folder is from now on reached as dir (live: "." once the
 * process works inside the folder it opened before dropping privileges);
 * the staging folder inside it too. */
void audit_set_out_dir(struct audit *a, const char *dir);
/* The audit's TLS secrets (key logs and secrets blocks). */
struct keylog;
const struct keylog *audit_keylog(const struct audit *a);

/* Ends all flows, writes the outputs; returns the exit code (enum pa_exit). */
int audit_finish(struct audit *a, FILE *summary);
void audit_free(struct audit *a);

#endif
