/*
 * main.c — the command line (docs/cli.md). Only wiring: pick the subcommand,
 * parse its options (cli.c), then hand over to the pipeline or to a checker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "cli.h"
#include "detect/detect.h"
#include "live.h"
#include "pipeline.h"
#include "report/manifest.h"
#include "provenance.h"
#include "policy/recipients.h"
#include "report/page_digest.h"
#include "report/report_html.h"
#include "util/datadir.h"
#include "util/diag.h"

/* ---- progress line -------------------------------------------------------- */

/*
 * A long offline audit shows how far it is on stderr, when stderr is a
 * terminal and --quiet is not given: one line, redrawn a few times a second
 * and erased at the end so that the summary starts on a clean line.
 */
struct progress {
	uint64_t total_bytes;  /* of all inputs; 0 when unknown (standard input) */
	uint64_t done_bytes;   /* of the inputs already read */
	double started, last_draw;
	bool drawn;
};

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *human_size(double bytes, char *buf, size_t len)
{
	static const char *units[] = {"B", "kB", "MB", "GB", "TB"};
	size_t u = 0;
	while (bytes >= 1000 && u + 1 < sizeof units / sizeof units[0]) {
		bytes /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
	return buf;
}

#define PROGRESS_INTERVAL 0.25 /* seconds between redraws */

static void progress_draw(void *ctx, const struct audit *a, uint64_t file_offset)
{
	struct progress *p = ctx;
	double now = now_seconds();
	if (now - p->last_draw < PROGRESS_INTERVAL)
		return;
	p->last_draw = now;
	struct audit_progress ap;
	audit_progress(a, &ap);
	uint64_t read = p->done_bytes + file_offset;
	double elapsed = now - p->started;
	double rate = elapsed > 0 ? read / elapsed : 0;
	char done[32], total[32], speed[32], where[96], left[48] = "";
	human_size((double)read, done, sizeof done);
	human_size(rate, speed, sizeof speed);
	if (p->total_bytes) {
		human_size((double)p->total_bytes, total, sizeof total);
		snprintf(where, sizeof where, "%3.0f%% %s of %s",
			 100.0 * (double)read / (double)p->total_bytes, done, total);
		if (rate > 0 && read < p->total_bytes) {
			unsigned s = (unsigned)((double)(p->total_bytes - read) / rate + 0.5);
			snprintf(left, sizeof left, ", %u:%02u:%02u left", s / 3600, s / 60 % 60, s % 60);
		}
	} else {
		snprintf(where, sizeof where, "%s read", done);
	}
	fprintf(stderr, "\r%s, %llu packets, %llu flows, %llu observations, %llu findings, %s/s%s\033[K",
		where, (unsigned long long)ap.packets, (unsigned long long)ap.flows,
		(unsigned long long)ap.observations, (unsigned long long)ap.findings, speed, left);
	fflush(stderr);
	p->drawn = true;
}

static void progress_clear(struct progress *p)
{
	if (p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = false;
}

/* ---- subcommands ------------------------------------------------------------ */

static int cmd_audit(struct cli_options *o, int argc, char **argv)
{
	struct pa_error err = {{0}};
	if (argc == 0) {
		fprintf(stderr, "privaudit audit: no capture given (a file, a folder, or - for standard input)\n"
				"try 'privaudit audit --help'\n");
		return PA_EXIT_USAGE;
	}

	struct capture_inputs inputs;
	if (!capture_inputs_collect(&inputs, argv, (size_t)argc, &err)) {
		fprintf(stderr, "privaudit: %s\n", err.msg);
		return PA_EXIT_USAGE;
	}
	if (!inputs.count) {
		fprintf(stderr, "privaudit: no capture files found in the given folder(s)\n");
		capture_inputs_free(&inputs);
		return PA_EXIT_USAGE;
	}

	struct progress progress = {0};
	if (!o->audit.quiet && isatty(STDERR_FILENO)) {
		for (size_t i = 0; i < inputs.count; i++) {
			struct stat st;
			if (capture_path_is_stream(inputs.paths[i]) || stat(inputs.paths[i], &st) != 0) {
				progress.total_bytes = 0; /* a stream: no total, no time left */
				break;
			}
			progress.total_bytes += (uint64_t)st.st_size;
		}
		o->audit.on_progress = progress_draw;
		o->audit.progress_ctx = &progress;
	}

	struct audit *a = audit_new(&o->audit, &err);
	if (!a) {
		fprintf(stderr, "privaudit: %s\n", err.msg);
		capture_inputs_free(&inputs);
		return PA_EXIT_USAGE;
	}
	/* The rate counts reading only; an audit over in a quarter of a
	 * second draws no line at all. */
	progress.started = progress.last_draw = now_seconds();
	for (size_t i = 0; i < inputs.count; i++) {
		if (!audit_file(a, inputs.paths[i], &err)) {
			progress_clear(&progress);
			fprintf(stderr, "privaudit: %s\n", err.msg);
		}
		struct stat st;
		if (!capture_path_is_stream(inputs.paths[i]) && stat(inputs.paths[i], &st) == 0)
			progress.done_bytes += (uint64_t)st.st_size;
	}
	progress_clear(&progress);
	int rc = audit_finish(a, o->audit.quiet ? NULL : stdout);
	audit_free(a);
	capture_inputs_free(&inputs);
	return rc;
}

static int cmd_live(struct cli_options *o, int argc, char **argv)
{
	if (argc > 0) {
		fprintf(stderr, "privaudit live: unexpected argument '%s' (live takes only options)\n"
				"try 'privaudit live --help'\n", argv[0]);
		return PA_EXIT_USAGE;
	}
	return live_run(&o->live, &o->audit);
}

/*
 * check: every file is validated as what its top-level keys say it is
 * (policy, recipient catalogue, signature file, device profile); every
 * problem is printed as file:line: message; exit 2 when any file has one.
 */
static int cmd_check(struct cli_options *o, int argc, char **argv)
{
	if (argc == 0) {
		fprintf(stderr, "privaudit check: no file given\ntry 'privaudit check --help'\n");
		return PA_EXIT_USAGE;
	}
	char catalogue[4096];
	snprintf(catalogue, sizeof catalogue, "%s/recipients.yaml", pa_default_signatures_dir());
	size_t good = 0, bad = 0;
	for (int i = 0; i < argc; i++) {
		struct pa_diag diag = {.out = stderr};
		bool ok;
		if (policy_file_kind(argv[i]) != POLICY_FILE_OTHER)
			ok = policy_check_file(argv[i], access(catalogue, R_OK) == 0 ? catalogue : NULL, &diag);
		else
			ok = detect_check_file(argv[i], &diag);
		ok = ok && diag.errors == 0;
		if (ok)
			good++;
		else
			bad++;
		printf("%s: %s (%zu error(s), %zu warning(s))\n", argv[i], ok ? "ok" : "BAD", diag.errors,
		       diag.warnings);
	}
	printf("%zu good, %zu bad\n", good, bad);
	return bad ? PA_EXIT_USAGE : PA_EXIT_CLEAN;
}

static bool one_dir_operand(const char *cmd, int argc, char **argv)
{
	if (argc == 1)
		return true;
	if (argc == 0)
		fprintf(stderr, "privaudit %s: no output folder given\n", cmd);
	else
		fprintf(stderr, "privaudit %s: one output folder expected, got %d arguments\n", cmd, argc);
	fprintf(stderr, "try 'privaudit %s --help'\n", cmd);
	return false;
}

/* verify [--inputs DIR] [--key PUB] [--tsa-ca CA] DIR: the bundle against
 * its manifest (report/manifest.h); exit 0 verified, 1 not, 2 bad usage. */
static int cmd_verify(struct cli_options *o, int argc, char **argv)
{
	if (!one_dir_operand("verify", argc, argv))
		return PA_EXIT_USAGE;
	o->verify.dir = argv[0];
	switch (manifest_verify(&o->verify, stdout)) {
	case VERIFY_OK: return PA_EXIT_CLEAN;
	case VERIFY_FAILED: return PA_EXIT_FINDINGS;
	default: return PA_EXIT_USAGE;
	}
}

/* report DIR: the HTML page again from a saved report.json (report/report_html.h). */
static int cmd_report(struct cli_options *o, int argc, char **argv)
{
	if (!one_dir_operand("report", argc, argv))
		return PA_EXIT_USAGE;
	const char *dir = argv[0];
	char path[4096];
	snprintf(path, sizeof path, "%s/report.json", dir);
	json_error_t jerr;
	json_t *report = json_load_file(path, 0, &jerr);
	if (!report) {
		/* jansson says line -1 when the file could not be opened at all. */
		if (jerr.line < 0)
			fprintf(stderr, "privaudit: %s: %s\n", path, strerror(errno));
		else
			fprintf(stderr, "privaudit: %s:%d: %s\n", path, jerr.line, jerr.text);
		return PA_EXIT_USAGE;
	}
	/* The page of an audit folder carries the digest of the files its
	 * manifest lists (report/page_digest.h), recomputed from the manifest
	 * and printed only when it matches the value the manifest records. */
	char digest[PA_SHA256_HEX] = "";
	snprintf(path, sizeof path, "%s/manifest.json", dir);
	json_t *manifest = json_load_file(path, 0, &jerr);
	const char *recorded = json_string_value(json_object_get(manifest, "inputs_and_outputs_digest"));
	if (recorded) {
		page_digest_of_files(json_object_get(manifest, "files"), digest);
		if (strcmp(digest, recorded)) {
			fprintf(stderr, "privaudit: %s: inputs_and_outputs_digest does not match the files "
				"it lists; the page is rendered without a digest\n", path);
			digest[0] = '\0';
		}
	}
	json_decref(manifest);
	struct pa_error err = {{0}};
	bool ok = report_html_write_digest(dir, report, digest[0] ? digest : NULL, &err);
	json_decref(report);
	if (!ok) {
		fprintf(stderr, "privaudit: %s\n", err.msg);
		return PA_EXIT_INTERNAL;
	}
	printf("%s/report.html\n", dir);
	return PA_EXIT_CLEAN;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_usage(stderr);
		return PA_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		provenance_print_versions(stdout);
		return PA_EXIT_CLEAN;
	}
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
		/* "privaudit help audit" is "privaudit audit --help". */
		enum cli_command about = argc > 2 ? cli_command_from_name(argv[2]) : 0;
		if (about)
			cli_help(stdout, about);
		else
			cli_usage(stdout);
		return PA_EXIT_CLEAN;
	}
	enum cli_command cmd = cli_command_from_name(name);
	if (!cmd) {
		fprintf(stderr, "privaudit: unknown command '%s'\n\n", name);
		cli_usage(stderr);
		return PA_EXIT_USAGE;
	}

	struct cli_options o;
	int first;
	struct pa_error err = {{0}};
	if (!cli_parse(&o, cmd, argc - 1, argv + 1, &first, &err)) {
		fprintf(stderr, "privaudit %s: %s\ntry 'privaudit %s --help'\n", name, err.msg, name);
		cli_options_free(&o);
		return PA_EXIT_USAGE;
	}
	int rc;
	int nargs = argc - 1 - first;
	char **args = argv + 1 + first;
	if (o.help) {
		cli_help(stdout, cmd);
		rc = PA_EXIT_CLEAN;
	} else {
		switch (cmd) {
		case CLI_AUDIT: rc = cmd_audit(&o, nargs, args); break;
		case CLI_LIVE: rc = cmd_live(&o, nargs, args); break;
		case CLI_CHECK: rc = cmd_check(&o, nargs, args); break;
		case CLI_VERIFY: rc = cmd_verify(&o, nargs, args); break;
		default: rc = cmd_report(&o, nargs, args); break;
		}
	}
	cli_options_free(&o);
	return rc;
}
