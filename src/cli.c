/* cli.c — the option table of every subcommand, its parser and its help. */
#include "cli.h"

#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/detect.h"

enum opt_id {
	OPT_POLICY = 256, OPT_DEVICE, OPT_SIGNATURES, OPT_GEOIP, OPT_OUT, OPT_QUIET, OPT_VERBOSE,
	OPT_SHOW_VALUES, OPT_TCP_TIMEOUT, OPT_UDP_TIMEOUT, OPT_MAX_FLOWS, OPT_FRAG_MEMORY,
	OPT_MAX_RECIPIENTS,
	OPT_CONSENT_AT, OPT_INTERFACE, OPT_BPF, OPT_SNAPLEN, OPT_BUFFER, OPT_NO_PROMISC, OPT_RING_MB,
	OPT_RING_SECONDS, OPT_RING_FILES, OPT_USER, OPT_RECIPIENTS, OPT_COUNTRY_OVERRIDES,
	OPT_UPLOAD_THRESHOLD, OPT_ECHO_SCAN_LIMIT, OPT_THREADS, OPT_NO_EVIDENCE, OPT_KEYLOG, OPT_JSON, OPT_HELP,
	OPT_REPLACE, OPT_OPERATOR, OPT_SIGN_KEY, OPT_BUNDLE_INPUTS, OPT_APP_PACKAGE, OPT_APP_VERSION,
	OPT_APK_SHA256, OPT_PHONE_MODEL, OPT_OS_VERSION, OPT_INPUTS, OPT_VERIFY_KEY, OPT_TSA_CA,
};

struct cli_option {
	const char *name;
	const char *arg;  /* NULL: a flag */
	enum opt_id id;
	unsigned cmds;    /* enum cli_command bits */
	const char *help;
};

#define BOTH (CLI_AUDIT | CLI_LIVE)
#define ALL_COMMANDS (CLI_AUDIT | CLI_LIVE | CLI_CHECK | CLI_VERIFY | CLI_REPORT)
static const struct cli_option options[] = {
	{"interface", "IFACE", OPT_INTERFACE, CLI_LIVE, "capture on IFACE (the mirror port)"},
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
	{"signatures", "DIR", OPT_SIGNATURES, BOTH, "signature folder (default: the installed signatures, or signatures/ of the source tree)"},
	{"geoip", "FILE", OPT_GEOIP, BOTH, "MaxMind-format database; repeatable (default: the installed one, or data/geoip/ from tools/fetch-geoip)"},
	{"keylog", "FILE", OPT_KEYLOG, BOTH, "TLS key log (SSLKEYLOGFILE format) to decrypt with; repeatable; live: re-read as it grows"},
	{"recipients", "FILE", OPT_RECIPIENTS, BOTH, "recipient catalogue (default: recipients.yaml of the signature folder)"},
	{"country-overrides", "FILE", OPT_COUNTRY_OVERRIDES, BOTH, "CIDR -> country lines that override GeoIP (docs/findings.md)"},
	{"upload-threshold", "BYTES", OPT_UPLOAD_THRESHOLD, BOTH, "unread upload abroad that makes an 'unverified transfer' finding (default 65536)"},
	{"echo-scan-limit", "BYTES", OPT_ECHO_SCAN_LIMIT, BOTH, "bytes towards the device scanned per flow for echoes, or 'all' (default 65536)"},
	{"threads", "N", OPT_THREADS, CLI_AUDIT, "1: one thread; 2: the signature engine on a second one (default: 2 when there are 2 cores)"},
	{"no-evidence", NULL, OPT_NO_EVIDENCE, CLI_AUDIT, "do not copy each finding's packets into DIR/evidence/"},
	{"consent-at", "TIME", OPT_CONSENT_AT, BOTH, "moment consent was given (ISO 8601 or Unix seconds)"},
	{"out", "DIR", OPT_OUT, BOTH, "write flows.jsonl, observations.jsonl, report.json, ... into DIR (a folder, not -)"},
	{"replace", NULL, OPT_REPLACE, BOTH, "replace an earlier audit's output in DIR (default: refuse a non-empty DIR)"},
	{"operator", "NAME", OPT_OPERATOR, BOTH, "who ran the audit, recorded in manifest.json and report.json"},
	{"sign-key", "KEY", OPT_SIGN_KEY, BOTH, "sign manifest.json with this PEM private key (Ed25519, Ed448, SM2, EC, RSA) and write a time-stamp request"},
	{"bundle-inputs", NULL, OPT_BUNDLE_INPUTS, BOTH, "copy the captures, key logs, policy and profiles into DIR/inputs/"},
	{"app-package", "NAME", OPT_APP_PACKAGE, BOTH, "the audited app's package name (else app.package of the device profile)"},
	{"app-version", "VERSION", OPT_APP_VERSION, BOTH, "the audited app's version (else app.version of the device profile)"},
	{"apk-sha256", "HEX", OPT_APK_SHA256, BOTH, "SHA-256 of the installed APK (else app.apk_sha256 of the device profile)"},
	{"phone-model", "MODEL", OPT_PHONE_MODEL, BOTH, "the test phone's model (else device.model of the device profile)"},
	{"os-version", "VERSION", OPT_OS_VERSION, BOTH, "the test phone's OS version (else device.os_version of the device profile)"},
	{"inputs", "DIR", OPT_INPUTS, CLI_VERIFY, "look for the inputs in DIR (they moved since the audit)"},
	{"key", "PUBKEY", OPT_VERIFY_KEY, CLI_VERIFY, "the PEM public key manifest.json must be signed with"},
	{"tsa-ca", "CA", OPT_TSA_CA, CLI_VERIFY, "PEM certificate(s) of the time-stamping authority, to check manifest.json.tsr"},
	{"json", NULL, OPT_JSON, CLI_AUDIT, "print the summary as one JSON document on stdout instead of text"},
	{"quiet", NULL, OPT_QUIET, BOTH, "no summary, no progress line, no status line"},
	{"verbose", NULL, OPT_VERBOSE, BOTH, "more detail on stderr"},
	{"show-values", NULL, OPT_SHOW_VALUES, BOTH, "print identifier values unmasked"},
	{"tcp-timeout", "SEC", OPT_TCP_TIMEOUT, BOTH, "idle timeout of TCP flows (default 300)"},
	{"udp-timeout", "SEC", OPT_UDP_TIMEOUT, BOTH, "idle timeout of UDP and other flows (default 60)"},
	{"max-flows", "N", OPT_MAX_FLOWS, BOTH, "flows held at once before the oldest is evicted (default 100000)"},
	{"frag-memory", "BYTES", OPT_FRAG_MEMORY, BOTH, "memory for incomplete IP fragments (default 4194304)"},
	{"max-recipients", "N", OPT_MAX_RECIPIENTS, BOTH, "recipients tallied by name in the summary; later ones are summed as 'others' (default 5000)"},
	{"help", NULL, OPT_HELP, ALL_COMMANDS, "print this help and exit"},
};
#define N_OPTIONS (sizeof options / sizeof options[0])

/* The options that also have a one-letter name. */
static const struct {
	char letter;
	enum opt_id id;
} short_names[] = {
	{'i', OPT_INTERFACE}, {'q', OPT_QUIET}, {'v', OPT_VERBOSE}, {'h', OPT_HELP},
};

static char short_name_of(enum opt_id id)
{
	for (size_t i = 0; i < sizeof short_names / sizeof short_names[0]; i++)
		if (short_names[i].id == id)
			return short_names[i].letter;
	return 0;
}

/* What each subcommand is called, takes and does: the usage lines of
 * `privaudit --help` and the first two lines of `privaudit CMD --help`. */
/* audit and live (docs/cli.md, "Exit status and messages"). */
#define AUDIT_EXITS \
	"0 no violation found and every promise verified, 1 violations found, 2 bad usage or bad input " \
	"(a damaged capture too), 3 internal error, 4 no violation found but something could not be " \
	"verified; when several apply the first of 3, 2, 1, 4, 0 wins"

static const struct {
	enum cli_command cmd;
	const char *name;
	const char *synopsis; /* after "privaudit NAME " */
	const char *summary;
	const char *exits;    /* its exit status, for its --help */
} commands[] = {
	{CLI_AUDIT, "audit", "[OPTIONS] CAPTURE...", "pcap/pcapng files or folders, read as one timeline; - is standard input",
	 AUDIT_EXITS},
	{CLI_LIVE, "live", "-i IFACE [OPTIONS]", "on a mirror port, findings as they happen",
	 AUDIT_EXITS},
	{CLI_CHECK, "check", "[OPTIONS] FILE...", "validate policy, catalogue, signature and device files",
	 "0 every file is good, 2 a file is bad or cannot be read"},
	{CLI_VERIFY, "verify", "[OPTIONS] DIR", "check a bundle against its manifest, signature and time-stamp",
	 "0 every file is as listed and nothing else is there, 1 a file changed, is missing, is unlisted or refused, or a signature or time-stamp does not verify, 2 bad usage"},
	{CLI_REPORT, "report", "[OPTIONS] DIR", "render DIR/report.html again from DIR/report.json",
	 "0 written, 2 bad usage or unreadable report.json, 3 the page could not be written"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

enum cli_command cli_command_from_name(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return commands[i].cmd;
	return 0;
}

const char *cli_command_name(enum cli_command cmd)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (commands[i].cmd == cmd)
			return commands[i].name;
	return "?";
}

/* "  -q, --quiet" or "      --policy FILE": GNU layout, long names aligned. */
static void option_left(const struct cli_option *opt, char *buf, size_t len)
{
	const char *sep = opt->arg ? " " : "";
	const char *arg = opt->arg ? opt->arg : "";
	char letter = short_name_of(opt->id);
	if (letter)
		snprintf(buf, len, "-%c, --%s%s%s", letter, opt->name, sep, arg);
	else
		snprintf(buf, len, "    --%s%s%s", opt->name, sep, arg);
}

void cli_options_help(FILE *out, enum cli_command cmd)
{
	char left[96];
	int width = 0;
	for (size_t i = 0; i < N_OPTIONS; i++) {
		if (!(options[i].cmds & cmd))
			continue;
		option_left(&options[i], left, sizeof left);
		if ((int)strlen(left) > width)
			width = (int)strlen(left);
	}
	for (size_t i = 0; i < N_OPTIONS; i++) {
		if (!(options[i].cmds & cmd))
			continue;
		option_left(&options[i], left, sizeof left);
		fprintf(out, "  %-*s  %s\n", width, left, options[i].help);
	}
}

void cli_help(FILE *out, enum cli_command cmd)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (commands[i].cmd != cmd)
			continue;
		fprintf(out, "usage: privaudit %s %s\n%s\n\noptions:\n", commands[i].name,
			commands[i].synopsis, commands[i].summary);
		cli_options_help(out, cmd);
		fprintf(out, "\nexit status: %s\n", commands[i].exits);
	}
}

void cli_usage(FILE *out)
{
	fprintf(out, "usage:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		char left[64];
		snprintf(left, sizeof left, "privaudit %s %s", commands[i].name, commands[i].synopsis);
		fprintf(out, "  %-38s %s\n", left, commands[i].summary);
	}
	fprintf(out, "  %-38s %s\n", "privaudit --version", "print the version and exit");
	fprintf(out, "  %-38s %s\n", "privaudit --help", "print this help and exit");
	fprintf(out, "\n'privaudit COMMAND --help' lists the options of COMMAND and its exit status.\n");
}

static bool parse_number(const char *name, const char *s, double min, double max, double *out,
			 struct pa_error *err)
{
	char *end;
	double v = strtod(s, &end);
	if (!*s || *end || v < min || v > max) {
		pa_error_set(err, "option '--%s': '%s' is not a number from %g to %g", name, s, min, max);
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

/* The option of cmd called name (given without its "--"): an exact name,
 * else the only one it is a prefix of. NULL with err set otherwise. */
static const struct cli_option *find_long(enum cli_command cmd, const char *name, size_t len,
					  struct pa_error *err)
{
	const struct cli_option *found = NULL;
	size_t matches = 0;
	char candidates[256] = "";
	for (size_t i = 0; i < N_OPTIONS; i++) {
		if (!(options[i].cmds & cmd) || strncmp(options[i].name, name, len))
			continue;
		if (strlen(options[i].name) == len)
			return &options[i];
		found = &options[i];
		matches++;
		size_t used = strlen(candidates);
		snprintf(candidates + used, sizeof candidates - used, "%s--%s", used ? ", " : "",
			 options[i].name);
	}
	if (matches == 1)
		return found;
	if (matches > 1) {
		pa_error_set(err, "option '--%.*s' is ambiguous: %s", (int)len, name, candidates);
		return NULL;
	}
	/* A real option given to the wrong subcommand says where it belongs. */
	for (size_t i = 0; i < N_OPTIONS; i++) {
		if (strlen(options[i].name) != len || strncmp(options[i].name, name, len))
			continue;
		char owners[128] = "";
		for (size_t c = 0; c < N_COMMANDS; c++) {
			if (!(options[i].cmds & commands[c].cmd))
				continue;
			size_t used = strlen(owners);
			snprintf(owners + used, sizeof owners - used, "%s%s", used ? ", " : "",
				 commands[c].name);
		}
		pa_error_set(err, "option '--%.*s' belongs to %s, not to %s", (int)len, name, owners,
			     cli_command_name(cmd));
		return NULL;
	}
	pa_error_set(err, "unknown option '--%.*s'", (int)len, name);
	return NULL;
}

static const struct cli_option *find_short(enum cli_command cmd, char c, struct pa_error *err)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (short_name_of(options[i].id) == c && (options[i].cmds & cmd))
			return &options[i];
	pa_error_set(err, "unknown option '-%c'", c);
	return NULL;
}

/* Sets what one option stands for; value is NULL for a flag. */
static bool apply_option(struct cli_options *o, const struct cli_option *opt, const char *value,
			 struct pa_error *err)
{
	double v;
	switch (opt->id) {
	case OPT_INTERFACE: o->live.interface = value; break;
	case OPT_BPF: o->live.bpf = value; break;
	case OPT_SNAPLEN:
		if (!parse_number("snaplen", value, 64, 262144, &v, err))
			return false;
		o->live.snaplen = (int)v;
		break;
	case OPT_BUFFER:
		if (!parse_number("buffer-mb", value, 1, 4096, &v, err))
			return false;
		o->live.buffer_mb = (int)v;
		break;
	case OPT_NO_PROMISC: o->live.promisc = false; break;
	case OPT_RING_MB:
		if (!parse_number("ring-mb", value, 1, 1e6, &v, err))
			return false;
		o->live.ring_mb = v;
		break;
	case OPT_RING_SECONDS:
		if (!parse_number("ring-seconds", value, 1, 1e7, &v, err))
			return false;
		o->live.ring_seconds = v;
		break;
	case OPT_RING_FILES:
		if (!parse_number("ring-files", value, 1, 1e6, &v, err))
			return false;
		o->live.ring_files = (unsigned)v;
		break;
	case OPT_USER: o->live.user = value; break;
	case OPT_CONSENT_AT:
		if (!cli_parse_time(value, &o->audit.consent_at_us)) {
			pa_error_set(err, "option '--consent-at': '%s' is not a time (ISO 8601, e.g. 2026-11-23T14:05:00+08:00, or Unix seconds)", value);
			return false;
		}
		break;
	case OPT_POLICY: o->audit.policy_file = value; break;
	case OPT_DEVICE: o->audit.device_file = value; break;
	case OPT_SIGNATURES: o->audit.signatures_dir = value; break;
	case OPT_GEOIP:
		if (o->audit.geoip_count == AUDIT_MAX_GEOIP) {
			pa_error_set(err, "option '--geoip': at most %d databases", AUDIT_MAX_GEOIP);
			return false;
		}
		o->audit.geoip[o->audit.geoip_count++] = value;
		break;
	case OPT_KEYLOG:
		if (o->audit.keylog_count == AUDIT_MAX_KEYLOG) {
			pa_error_set(err, "option '--keylog': at most %d key logs", AUDIT_MAX_KEYLOG);
			return false;
		}
		o->audit.keylog[o->audit.keylog_count++] = value;
		break;
	case OPT_OUT:
		/* The outputs are several files; "-" (stdout) cannot hold them. */
		if (!strcmp(value, "-")) {
			pa_error_set(err, "option '--out' takes a folder, not - (--json prints the summary on stdout)");
			return false;
		}
		o->audit.out_dir = value;
		break;
	case OPT_RECIPIENTS: o->audit.recipients_file = value; break;
	case OPT_COUNTRY_OVERRIDES: o->audit.country_overrides = value; break;
	case OPT_UPLOAD_THRESHOLD:
		if (!parse_number("upload-threshold", value, 1, 1e12, &v, err))
			return false;
		o->audit.upload_threshold = (uint64_t)v;
		break;
	case OPT_ECHO_SCAN_LIMIT:
		if (strcmp(value, "all") == 0)
			o->audit.echo_scan_limit = UINT64_MAX;
		else if (!parse_number("echo-scan-limit", value, 1, 1e15, &v, err))
			return false;
		else
			o->audit.echo_scan_limit = (uint64_t)v;
		break;
	case OPT_THREADS:
		if (!parse_number("threads", value, 1, 2, &v, err))
			return false;
		o->audit.threads = (int)v;
		break;
	case OPT_NO_EVIDENCE: o->audit.no_evidence = true; break;
	case OPT_QUIET: o->audit.quiet = true; break;
	case OPT_VERBOSE: o->audit.verbose = true; break;
	case OPT_SHOW_VALUES: o->audit.show_values = true; break;
	case OPT_TCP_TIMEOUT:
		if (!parse_number("tcp-timeout", value, 1, 86400, &v, err))
			return false;
		o->audit.flow.tcp_idle_us = (int64_t)(v * 1e6);
		break;
	case OPT_UDP_TIMEOUT:
		if (!parse_number("udp-timeout", value, 1, 86400, &v, err))
			return false;
		o->audit.flow.udp_idle_us = (int64_t)(v * 1e6);
		break;
	case OPT_MAX_FLOWS:
		if (!parse_number("max-flows", value, 1, 1e8, &v, err))
			return false;
		o->audit.flow.max_flows = (size_t)v;
		break;
	case OPT_FRAG_MEMORY:
		if (!parse_number("frag-memory", value, 65536, 1e10, &v, err))
			return false;
		o->audit.frag_memory_max = (size_t)v;
		break;
	case OPT_MAX_RECIPIENTS:
		if (!parse_number("max-recipients", value, 1, 1e8, &v, err))
			return false;
		o->audit.max_recipients = (size_t)v;
		break;
	case OPT_REPLACE: o->audit.replace = true; break;
	case OPT_OPERATOR: o->audit.operator_name = value; break;
	case OPT_SIGN_KEY: o->audit.sign_key = value; break;
	case OPT_BUNDLE_INPUTS: o->audit.bundle_inputs = true; break;
	case OPT_APP_PACKAGE: o->audit.facts.app_package = value; break;
	case OPT_APP_VERSION: o->audit.facts.app_version = value; break;
	case OPT_APK_SHA256:
		if (!device_facts_sha256_ok(value)) {
			pa_error_set(err, "--apk-sha256: '%s' is not 64 hexadecimal digits", value);
			return false;
		}
		o->audit.facts.apk_sha256 = value;
		break;
	case OPT_PHONE_MODEL: o->audit.facts.phone_model = value; break;
	case OPT_OS_VERSION: o->audit.facts.os_version = value; break;
	case OPT_INPUTS: o->verify.inputs_dir = value; break;
	case OPT_VERIFY_KEY: o->verify.key = value; break;
	case OPT_TSA_CA: o->verify.tsa_ca = value; break;
	case OPT_JSON: o->audit.json_summary = true; break;
	case OPT_HELP: o->help = true; break;
	}
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
	*first_arg = argc;

	/* Options are consumed in order; operands are set aside and moved
	 * behind them at the end, keeping their order (GNU permutation). */
	char **operands = pa_xcalloc((size_t)argc + 1, sizeof *operands);
	int n_operands = 0, n_options = 1;
	bool ok = true;
	int i = 1;
	for (; i < argc && ok && !o->help; i++) {
		char *arg = argv[i];
		if (!strcmp(arg, "--")) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == 0) { /* "-" is standard input */
			operands[n_operands++] = arg;
			continue;
		}
		argv[n_options++] = arg;
		if (arg[1] == '-') {
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const struct cli_option *opt = find_long(cmd, name, len, err);
			if (!opt) {
				ok = false;
			} else if (!opt->arg) {
				if (eq) {
					pa_error_set(err, "option '--%s' takes no value (given '%s')",
						     opt->name, eq + 1);
					ok = false;
				} else {
					ok = apply_option(o, opt, NULL, err);
				}
			} else if (eq) {
				ok = apply_option(o, opt, eq + 1, err);
			} else if (i + 1 >= argc) {
				pa_error_set(err, "option '--%s' needs a value (%s)", opt->name, opt->arg);
				ok = false;
			} else if (argv[i + 1][0] == '-' && argv[i + 1][1] == '-' && argv[i + 1][2]) {
				/* "--policy --out x": the value was forgotten, not a file
				 * named "--out" (--policy=--out says that one). */
				pa_error_set(err, "option '--%s' needs a value (%s), not the option '%s'",
					     opt->name, opt->arg, argv[i + 1]);
				ok = false;
			} else {
				argv[n_options++] = argv[++i];
				ok = apply_option(o, opt, argv[i], err);
			}
			continue;
		}
		/* -qv, -i eth0, -ieth0 */
		for (const char *p = arg + 1; *p && ok && !o->help; p++) {
			const struct cli_option *opt = find_short(cmd, *p, err);
			if (!opt) {
				ok = false;
			} else if (!opt->arg) {
				ok = apply_option(o, opt, NULL, err);
			} else if (p[1]) {
				ok = apply_option(o, opt, p + 1, err);
				break;
			} else if (i + 1 >= argc) {
				pa_error_set(err, "option '-%c' needs a value (%s)", *p, opt->arg);
				ok = false;
			} else {
				argv[n_options++] = argv[++i];
				ok = apply_option(o, opt, argv[i], err);
			}
		}
	}
	if (ok) {
		/* Everything after "--" is an operand. */
		for (; i < argc; i++)
			operands[n_operands++] = argv[i];
		*first_arg = n_options;
		for (int k = 0; k < n_operands; k++)
			argv[n_options + k] = operands[k];
	}
	free(operands);
	return ok;
}

void cli_options_free(struct cli_options *o)
{
	free(o->command_line);
	o->command_line = NULL;
}
