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
#include "pipeline.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: privaudit audit [OPTIONS] CAPTURE...   offline: pcap/pcapng files or folders\n"
		"       privaudit check FILE...                validate policy/device/signature files\n"
		"       privaudit --version\n"
		"\n");
	cli_options_help(out);
	fprintf(out, "\nexit: 0 no violation found, 1 violations found, 2 bad usage or bad input, 3 internal error\n");
}

static int cmd_audit(int argc, char **argv)
{
	struct cli_options o;
	int first_arg;
	struct pa_error err = {{0}};
	if (!cli_parse(&o, argc, argv, &first_arg, &err)) {
		fprintf(stderr, "privaudit audit: %s\n", err.msg);
		fprintf(stderr, "try 'privaudit --help'\n");
		return PA_EXIT_USAGE;
	}
	if (first_arg >= argc) {
		fprintf(stderr, "privaudit audit: no capture file given\n");
		return PA_EXIT_USAGE;
	}

	struct capture_inputs inputs;
	if (!capture_inputs_collect(&inputs, argv + first_arg, (size_t)(argc - first_arg), &err)) {
		fprintf(stderr, "privaudit: %s\n", err.msg);
		return PA_EXIT_USAGE;
	}
	if (!inputs.count) {
		fprintf(stderr, "privaudit: no capture files found in the given folder(s)\n");
		capture_inputs_free(&inputs);
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
	fprintf(stderr, "privaudit: unknown command '%s'\n", cmd);
	usage(stderr);
	return PA_EXIT_USAGE;
}
