/* cli.c — option table and parsing for the audit commands. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum opt_id {
	OPT_POLICY = 256, OPT_DEVICE, OPT_SIGNATURES, OPT_GEOIP, OPT_OUT, OPT_QUIET, OPT_VERBOSE,
	OPT_SHOW_VALUES, OPT_TCP_TIMEOUT, OPT_UDP_TIMEOUT, OPT_MAX_FLOWS, OPT_FRAG_MEMORY,
};

struct cli_option {
	const char *name;
	const char *arg; /* NULL: a flag */
	enum opt_id id;
	const char *help;
};

static const struct cli_option options[] = {
	{"policy", "FILE", OPT_POLICY, "privacy policy model (policies/*.yaml)"},
	{"device", "FILE", OPT_DEVICE, "test phone profile (signatures/devices/*.yaml): its IP/MAC and real identifier values"},
	{"signatures", "DIR", OPT_SIGNATURES, "signature folder (default: signatures/ of the source tree)"},
	{"geoip", "FILE", OPT_GEOIP, "MaxMind-format database; repeatable (default: data/geoip/ from tools/fetch-geoip)"},
	{"out", "DIR", OPT_OUT, "write flows.jsonl, report.json, ... into DIR"},
	{"quiet", NULL, OPT_QUIET, "no summary on stdout"},
	{"verbose", NULL, OPT_VERBOSE, "more detail on stderr"},
	{"show-values", NULL, OPT_SHOW_VALUES, "print identifier values unmasked"},
	{"tcp-timeout", "SEC", OPT_TCP_TIMEOUT, "idle timeout of TCP flows (default 300)"},
	{"udp-timeout", "SEC", OPT_UDP_TIMEOUT, "idle timeout of UDP and other flows (default 60)"},
	{"max-flows", "N", OPT_MAX_FLOWS, "flows held at once before the oldest is evicted (default 1000000)"},
	{"frag-memory", "BYTES", OPT_FRAG_MEMORY, "memory for incomplete IP fragments (default 4194304)"},
};
#define N_OPTIONS (sizeof options / sizeof options[0])

void cli_options_help(FILE *out)
{
	fprintf(out, "options:\n");
	for (size_t i = 0; i < N_OPTIONS; i++) {
		char left[40];
		snprintf(left, sizeof left, "--%s%s%s", options[i].name, options[i].arg ? " " : "",
			 options[i].arg ? options[i].arg : "");
		fprintf(out, "  %-24s %s\n", left, options[i].help);
	}
}

static bool parse_number(const char *name, const char *s, double min, double max, double *out,
			 struct pa_error *err)
{
	char *end;
	double v = strtod(s, &end);
	if (!*s || *end || v < min || v > max) {
		pa_error_set(err, "--%s: '%s' is not a number from %g to %g", name, s, min, max);
		return false;
	}
	*out = v;
	return true;
}

static char *join_args(int argc, char **argv)
{
	size_t n = 16;
	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	char *s = pa_xmalloc(n);
	strcpy(s, "privaudit");
	for (int i = 0; i < argc; i++) {
		strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

bool cli_parse(struct cli_options *o, int argc, char **argv, int *first_arg, struct pa_error *err)
{
	memset(o, 0, sizeof *o);
	o->command_line = join_args(argc, argv);
	o->audit.command_line = o->command_line;

	struct option longopts[N_OPTIONS + 2];
	for (size_t i = 0; i < N_OPTIONS; i++)
		longopts[i] = (struct option){options[i].name, options[i].arg ? required_argument : no_argument,
					      NULL, options[i].id};
	longopts[N_OPTIONS] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[N_OPTIONS + 1] = (struct option){0};

	optind = 1;
	opterr = 0;
	int c;
	double v;
	while ((c = getopt_long(argc, argv, "+qvh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_POLICY: o->audit.policy_file = optarg; break;
		case OPT_DEVICE: o->audit.device_file = optarg; break;
		case OPT_SIGNATURES: o->audit.signatures_dir = optarg; break;
		case OPT_GEOIP:
			if (o->audit.geoip_count == AUDIT_MAX_GEOIP) {
				pa_error_set(err, "--geoip: at most %d databases", AUDIT_MAX_GEOIP);
				return false;
			}
			o->audit.geoip[o->audit.geoip_count++] = optarg;
			break;
		case OPT_OUT: o->audit.out_dir = optarg; break;
		case 'q':
		case OPT_QUIET: o->audit.quiet = true; break;
		case 'v':
		case OPT_VERBOSE: o->audit.verbose = true; break;
		case OPT_SHOW_VALUES: o->audit.show_values = true; break;
		case OPT_TCP_TIMEOUT:
			if (!parse_number("tcp-timeout", optarg, 1, 86400, &v, err))
				return false;
			o->audit.flow.tcp_idle_us = (int64_t)(v * 1e6);
			break;
		case OPT_UDP_TIMEOUT:
			if (!parse_number("udp-timeout", optarg, 1, 86400, &v, err))
				return false;
			o->audit.flow.udp_idle_us = (int64_t)(v * 1e6);
			break;
		case OPT_MAX_FLOWS:
			if (!parse_number("max-flows", optarg, 1, 1e8, &v, err))
				return false;
			o->audit.flow.max_flows = (size_t)v;
			break;
		case OPT_FRAG_MEMORY:
			if (!parse_number("frag-memory", optarg, 65536, 1e10, &v, err))
				return false;
			o->audit.frag_memory_max = (size_t)v;
			break;
		case 'h':
			cli_options_help(stdout);
			exit(PA_EXIT_CLEAN);
		case ':':
			pa_error_set(err, "option %s needs an argument", argv[optind - 1]);
			return false;
		default:
			pa_error_set(err, "unknown option %s", argv[optind - 1]);
			return false;
		}
	}
	*first_arg = optind;
	return true;
}

void cli_options_free(struct cli_options *o)
{
	free(o->command_line);
	o->command_line = NULL;
}
