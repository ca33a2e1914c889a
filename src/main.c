/*
 * main.c — the command line (docs/cli.md). Only wiring: parse options into
 * an audit_config, then hand over to the pipeline or to a checker.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "cli.h"
#include "detect/detect.h"
#include "live.h"
#include "pipeline.h"
#include "report/evidence.h"
#include "policy/recipients.h"
#include "report/report_html.h"
#include "util/diag.h"

#ifndef PA_DEFAULT_SIGNATURES
#define PA_DEFAULT_SIGNATURES "signatures"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: privaudit audit [OPTIONS] CAPTURE...   offline: pcap/pcapng files or folders\n"
		"       privaudit live -i IFACE [OPTIONS]      on a mirror port, until SIGINT/SIGTERM\n"
		"       privaudit check FILE...                validate policy/device/signature files\n"
		"       privaudit verify DIR                   re-hash every file DIR/manifest.json lists\n"
		"       privaudit report DIR                   render DIR/report.html again from DIR/report.json\n"
		"       privaudit --version\n"
		"\n");
	cli_options_help(out, CLI_AUDIT);
	fprintf(out, "\n");
	cli_options_help(out, CLI_LIVE);
	fprintf(out, "\nexit: 0 no violation found and every promise verified, 1 violations found,\n"
		     "      2 bad usage or bad input (a damaged capture too), 3 internal error,\n"
		     "      4 no violation found but something could not be verified;\n"
		     "      when several apply the first of 3, 2, 1, 4, 0 wins\n");
}

static int cmd_audit(int argc, char **argv)
{
	struct cli_options o;
	int first_arg;
	struct pa_error err = {{0}};
	if (!cli_parse(&o, CLI_AUDIT, argc, argv, &first_arg, &err)) {
		fprintf(stderr, "privaudit audit: %s\n", err.msg);
		fprintf(stderr, "try 'privaudit --help'\n");
		cli_options_free(&o);
		return PA_EXIT_USAGE;
	}
	if (first_arg >= argc) {
		fprintf(stderr, "privaudit audit: no capture file given\n");
		cli_options_free(&o);
		return PA_EXIT_USAGE;
	}

	struct capture_inputs inputs;
	if (!capture_inputs_collect(&inputs, argv + first_arg, (size_t)(argc - first_arg), &err)) {
		fprintf(stderr, "privaudit: %s\n", err.msg);
		cli_options_free(&o);
		return PA_EXIT_USAGE;
	}
	if (!inputs.count) {
		fprintf(stderr, "privaudit: no capture files found in the given folder(s)\n");
		capture_inputs_free(&inputs);
		cli_options_free(&o);
		return PA_EXIT_USAGE;
	}

	struct audit *a = audit_new(&o.audit, &err);
	if (!a) {
		fprintf(stderr, "privaudit: %s\n", err.msg);
		capture_inputs_free(&inputs);
		cli_options_free(&o);
		return PA_EXIT_USAGE;
	}
	for (size_t i = 0; i < inputs.count; i++) {
		if (!audit_file(a, inputs.paths[i], &err))
			fprintf(stderr, "privaudit: %s\n", err.msg);
	}
	int rc = audit_finish(a, o.audit.quiet ? NULL : stdout);
	audit_free(a);
	capture_inputs_free(&inputs);
	cli_options_free(&o);
	return rc;
}

static int cmd_live(int argc, char **argv)
{
	struct cli_options o;
	int first_arg;
	struct pa_error err = {{0}};
	if (!cli_parse(&o, CLI_LIVE, argc, argv, &first_arg, &err)) {
		fprintf(stderr, "privaudit live: %s\n", err.msg);
		fprintf(stderr, "try 'privaudit --help'\n");
		cli_options_free(&o);
		return PA_EXIT_USAGE;
	}
	if (first_arg < argc) {
		fprintf(stderr, "privaudit live: unexpected argument '%s'\n", argv[first_arg]);
		cli_options_free(&o);
		return PA_EXIT_USAGE;
	}
	int rc = live_run(&o.live, &o.audit);
	cli_options_free(&o);
	return rc;
}

/*
 * check: every file is validated as what its top-level keys say it is
 * (policy, recipient catalogue, signature file, device profile); every
 * problem is printed as file:line: message; exit 2 when any file has one.
 */
static int cmd_check(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: privaudit check FILE...\n");
		return PA_EXIT_USAGE;
	}
	char catalogue[4096];
	snprintf(catalogue, sizeof catalogue, "%s/recipients.yaml", PA_DEFAULT_SIGNATURES);
	size_t good = 0, bad = 0;
	for (int i = 1; i < argc; i++) {
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

/* verify DIR: re-hash everything DIR/manifest.json lists (report/evidence.h). */
static int cmd_verify(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: privaudit verify DIR\n");
		return PA_EXIT_USAGE;
	}
	return evidence_verify(argv[1], stdout) ? PA_EXIT_FINDINGS : PA_EXIT_CLEAN;
}

/* report DIR: the HTML page again from a saved report.json (report/report_html.h). */
static int cmd_report(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: privaudit report DIR\n");
		return PA_EXIT_USAGE;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/report.json", argv[1]);
	json_error_t jerr;
	json_t *report = json_load_file(path, 0, &jerr);
	if (!report) {
		fprintf(stderr, "privaudit: %s:%d: %s\n", path, jerr.line, jerr.text);
		return PA_EXIT_USAGE;
	}
	struct pa_error err = {{0}};
	bool ok = report_html_write(argv[1], report, &err);
	json_decref(report);
	if (!ok) {
		fprintf(stderr, "privaudit: %s\n", err.msg);
		return PA_EXIT_INTERNAL;
	}
	printf("%s/report.html\n", argv[1]);
	return PA_EXIT_CLEAN;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return PA_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("privaudit %s\n", PA_VERSION);
		return PA_EXIT_CLEAN;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return PA_EXIT_CLEAN;
	}
	if (!strcmp(cmd, "audit"))
		return cmd_audit(argc - 1, argv + 1);
	if (!strcmp(cmd, "live"))
		return cmd_live(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 1, argv + 1);
	fprintf(stderr, "privaudit: unknown command '%s'\n", cmd);
	usage(stderr);
	return PA_EXIT_USAGE;
}
