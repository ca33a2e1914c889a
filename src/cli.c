/* cli.c — option table and parsing for the audit commands. */
#include "cli.h"

#include <getopt.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/detect.h"

enum opt_id {
	OPT_POLICY = 256, OPT_DEVICE, OPT_SIGNATURES, OPT_GEOIP, OPT_OUT, OPT_QUIET, OPT_VERBOSE,
	OPT_SHOW_VALUES, OPT_TCP_TIMEOUT, OPT_UDP_TIMEOUT, OPT_MAX_FLOWS, OPT_FRAG_MEMORY,
	OPT_CONSENT_AT, OPT_INTERFACE, OPT_BPF, OPT_SNAPLEN, OPT_BUFFER, OPT_NO_PROMISC, OPT_RING_MB,
	OPT_RING_SECONDS, OPT_RING_FILES, OPT_USER, OPT_RECIPIENTS, OPT_COUNTRY_OVERRIDES,
	OPT_UPLOAD_THRESHOLD, OPT_ECHO_SCAN_LIMIT, OPT_THREADS, OPT_NO_EVIDENCE, OPT_KEYLOG,
	OPT_REPLACE, OPT_OPERATOR, OPT_SIGN_KEY, OPT_BUNDLE_INPUTS, OPT_APP_PACKAGE, OPT_APP_VERSION,
	OPT_APK_SHA256, OPT_PHONE_MODEL, OPT_OS_VERSION,
};

struct cli_option {
	const char *name;
	const char *arg;  /* NULL: a flag */
	enum opt_id id;
	unsigned cmds;    /* enum cli_command bits */
	const char *help;
};

#define BOTH (CLI_AUDIT | CLI_LIVE)
static const struct cli_option options[] = {
	{"interface", "IFACE", OPT_INTERFACE, CLI_LIVE, "capture on IFACE (the mirror port); also -i"},
	{"bpf", "FILTER", OPT_BPF, CLI_LIVE, "capture filter (pcap-filter syntax)"},
	{"snaplen", "BYTES", OPT_SNAPLEN, CLI_LIVE, "bytes kept per packet (default 262144: whole packets)"},
	{"buffer-mb", "MB", OPT_BUFFER, CLI_LIVE, "kernel capture buffer (default 64)"},
	{"no-promisc", NULL, OPT_NO_PROMISC, CLI_LIVE, "do not put the interface in promiscuous mode"},
	{"ring-mb", "MB", OPT_RING_MB, CLI_LIVE, "rotate evidence capture files at this size (default 100)"},
	{"ring-seconds", "SEC", OPT_RING_SECONDS, CLI_LIVE, "and/or at this age (default: size only)"},
	{"ring-files", "N", OPT_RING_FILES, CLI_LIVE, "keep at most N evidence files (default: all)"},
	{"user", "USER", OPT_USER, CLI_LIVE, "drop privileges to USER after opening the interface (default nobody)"},
	{"policy", "FILE", OPT_POLICY, BOTH, "privacy policy model (policies/*.yaml)"},
	{"device", "FILE", OPT_DEVICE, BOTH, "test phone profile (signatures/devices/*.yaml): its IP/MAC and real identifier values"},
	{"signatures", "DIR", OPT_SIGNATURES, BOTH, "signature folder (default: signatures/ of the source tree)"},
	{"geoip", "FILE", OPT_GEOIP, BOTH, "MaxMind-format database; repeatable (default: data/geoip/ from tools/fetch-geoip)"},
	{"keylog", "FILE", OPT_KEYLOG, BOTH, "TLS key log (SSLKEYLOGFILE format) to decrypt with; repeatable; live: re-read as it grows"},
	{"recipients", "FILE", OPT_RECIPIENTS, BOTH, "recipient catalogue (default: recipients.yaml of the signature folder)"},
	{"country-overrides", "FILE", OPT_COUNTRY_OVERRIDES, BOTH, "CIDR -> country lines that override GeoIP (docs/findings.md)"},
	{"upload-threshold", "BYTES", OPT_UPLOAD_THRESHOLD, BOTH, "unread upload abroad that makes an 'unverified transfer' finding (default 65536)"},
	{"echo-scan-limit", "BYTES", OPT_ECHO_SCAN_LIMIT, BOTH, "bytes towards the device scanned per flow for echoes, or 'all' (default 65536)"},
	{"threads", "N", OPT_THREADS, CLI_AUDIT, "1: one thread; 2: the signature engine on a second one (default: 2 when there are 2 cores)"},
	{"no-evidence", NULL, OPT_NO_EVIDENCE, CLI_AUDIT, "do not copy each finding's packets into DIR/evidence/"},
	{"consent-at", "TIME", OPT_CONSENT_AT, BOTH, "moment consent was given (ISO 8601 or Unix seconds)"},
	{"out", "DIR", OPT_OUT, BOTH, "write flows.jsonl, observations.jsonl, report.json, ... into DIR"},
	{"replace", NULL, OPT_REPLACE, BOTH, "replace an earlier audit's output in DIR (default: refuse a non-empty DIR)"},
	{"operator", "NAME", OPT_OPERATOR, BOTH, "who ran the audit, recorded in manifest.json and report.json"},
	{"sign-key", "KEY", OPT_SIGN_KEY, BOTH, "sign manifest.json with this PEM private key (Ed25519, Ed448, SM2, EC, RSA) and write a time-stamp request"},
	{"bundle-inputs", NULL, OPT_BUNDLE_INPUTS, BOTH, "copy the captures, key logs, policy and profiles into DIR/inputs/"},
	{"app-package", "NAME", OPT_APP_PACKAGE, BOTH, "the audited app's package name (else app.package of the device profile)"},
	{"app-version", "VERSION", OPT_APP_VERSION, BOTH, "the audited app's version (else app.version of the device profile)"},
	{"apk-sha256", "HEX", OPT_APK_SHA256, BOTH, "SHA-256 of the installed APK (else app.apk_sha256 of the device profile)"},
	{"phone-model", "MODEL", OPT_PHONE_MODEL, BOTH, "the test phone's model (else device.model of the device profile)"},
	{"os-version", "VERSION", OPT_OS_VERSION, BOTH, "the test phone's OS version (else device.os_version of the device profile)"},
	{"quiet", NULL, OPT_QUIET, BOTH, "no summary or status line; also -q"},
	{"verbose", NULL, OPT_VERBOSE, BOTH, "more detail on stderr; also -v"},
	{"show-values", NULL, OPT_SHOW_VALUES, BOTH, "print identifier values unmasked"},
	{"tcp-timeout", "SEC", OPT_TCP_TIMEOUT, BOTH, "idle timeout of TCP flows (default 300)"},
	{"udp-timeout", "SEC", OPT_UDP_TIMEOUT, BOTH, "idle timeout of UDP and other flows (default 60)"},
	{"max-flows", "N", OPT_MAX_FLOWS, BOTH, "flows held at once before the oldest is evicted (default 1000000)"},
	{"frag-memory", "BYTES", OPT_FRAG_MEMORY, BOTH, "memory for incomplete IP fragments (default 4194304)"},
};
#define N_OPTIONS (sizeof options / sizeof options[0])

void cli_options_help(FILE *out, enum cli_command cmd)
{
	fprintf(out, "options of %s:\n", cmd == CLI_LIVE ? "live" : "audit");
	for (size_t i = 0; i < N_OPTIONS; i++) {
		if (!(options[i].cmds & cmd))
			continue;
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

bool cli_parse_time(const char *s, int64_t *ts_us)
{
	char *end;
	double secs = strtod(s, &end);
	if (*s && !*end) {
		*ts_us = (int64_t)(secs * 1e6);
		return secs > 0;
	}
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		rest = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!rest)
		return false;
	double frac = 0;
	if (*rest == '.') {
		frac = strtod(rest, &end);
		rest = end;
	}
	long offset = 0; /* seconds east of UTC */
	if (*rest == 'Z') {
		rest++;
	} else if (*rest == '+' || *rest == '-') {
		int hh, mm;
		if (sscanf(rest + 1, "%2d:%2d", &hh, &mm) != 2)
			return false;
		offset = (hh * 3600L + mm * 60L) * (*rest == '+' ? 1 : -1);
		rest += 6;
	}
	if (*rest)
		return false;
	time_t t = timegm(&tm);
	*ts_us = ((int64_t)t - offset) * 1000000 + (int64_t)(frac * 1e6);
	return true;
}

bool cli_parse(struct cli_options *o, enum cli_command cmd, int argc, char **argv, int *first_arg,
	       struct pa_error *err)
{
	memset(o, 0, sizeof *o);
	o->live.snaplen = 262144;
	o->live.buffer_mb = 64;
	o->live.promisc = true;
	o->live.ring_mb = 100;
	o->command_line = join_args(argc, argv);
	o->audit.command_line = o->command_line;

	struct option longopts[N_OPTIONS + 2];
	size_t n = 0;
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (options[i].cmds & cmd)
			longopts[n++] = (struct option){options[i].name,
							options[i].arg ? required_argument : no_argument,
							NULL, options[i].id};
	longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n] = (struct option){0};

	optind = 1;
	opterr = 0;
	int c;
	double v;
	const char *shortopts = cmd == CLI_LIVE ? "+qvhi:" : "+qvh";
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
		case OPT_INTERFACE: o->live.interface = optarg; break;
		case OPT_BPF: o->live.bpf = optarg; break;
		case OPT_SNAPLEN:
			if (!parse_number("snaplen", optarg, 64, 262144, &v, err))
				return false;
			o->live.snaplen = (int)v;
			break;
		case OPT_BUFFER:
			if (!parse_number("buffer-mb", optarg, 1, 4096, &v, err))
				return false;
			o->live.buffer_mb = (int)v;
			break;
		case OPT_NO_PROMISC: o->live.promisc = false; break;
		case OPT_RING_MB:
			if (!parse_number("ring-mb", optarg, 1, 1e6, &v, err))
				return false;
			o->live.ring_mb = v;
			break;
		case OPT_RING_SECONDS:
			if (!parse_number("ring-seconds", optarg, 1, 1e7, &v, err))
				return false;
			o->live.ring_seconds = v;
			break;
		case OPT_RING_FILES:
			if (!parse_number("ring-files", optarg, 1, 1e6, &v, err))
				return false;
			o->live.ring_files = (unsigned)v;
			break;
		case OPT_USER: o->live.user = optarg; break;
		case OPT_CONSENT_AT:
			if (!cli_parse_time(optarg, &o->audit.consent_at_us)) {
				pa_error_set(err, "--consent-at: '%s' is not a time (ISO 8601, e.g. 2026-11-23T14:05:00+08:00, or Unix seconds)", optarg);
				return false;
			}
			break;
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
		case OPT_KEYLOG:
			if (o->audit.keylog_count == AUDIT_MAX_KEYLOG) {
				pa_error_set(err, "--keylog: at most %d key logs", AUDIT_MAX_KEYLOG);
				return false;
			}
			o->audit.keylog[o->audit.keylog_count++] = optarg;
			break;
		case OPT_OUT: o->audit.out_dir = optarg; break;
		case OPT_RECIPIENTS: o->audit.recipients_file = optarg; break;
		case OPT_COUNTRY_OVERRIDES: o->audit.country_overrides = optarg; break;
		case OPT_UPLOAD_THRESHOLD:
			if (!parse_number("upload-threshold", optarg, 1, 1e12, &v, err))
				return false;
			o->audit.upload_threshold = (uint64_t)v;
			break;
		case OPT_ECHO_SCAN_LIMIT:
			if (strcmp(optarg, "all") == 0)
				o->audit.echo_scan_limit = UINT64_MAX;
			else if (!parse_number("echo-scan-limit", optarg, 1, 1e15, &v, err))
				return false;
			else
				o->audit.echo_scan_limit = (uint64_t)v;
			break;
		case OPT_THREADS:
			if (!parse_number("threads", optarg, 1, 2, &v, err))
				return false;
			o->audit.threads = (int)v;
			break;
		case OPT_NO_EVIDENCE: o->audit.no_evidence = true; break;
		case OPT_REPLACE: o->audit.replace = true; break;
		case OPT_OPERATOR: o->audit.operator_name = optarg; break;
		case OPT_SIGN_KEY: o->audit.sign_key = optarg; break;
		case OPT_BUNDLE_INPUTS: o->audit.bundle_inputs = true; break;
		case OPT_APP_PACKAGE: o->audit.facts.app_package = optarg; break;
		case OPT_APP_VERSION: o->audit.facts.app_version = optarg; break;
		case OPT_APK_SHA256:
			if (!device_facts_sha256_ok(optarg)) {
				pa_error_set(err, "--apk-sha256: '%s' is not 64 hexadecimal digits", optarg);
				return false;
			}
			o->audit.facts.apk_sha256 = optarg;
			break;
		case OPT_PHONE_MODEL: o->audit.facts.phone_model = optarg; break;
		case OPT_OS_VERSION: o->audit.facts.os_version = optarg; break;
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
			cli_options_help(stdout, cmd);
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
