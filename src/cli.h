/*
 * cli.h — the command line of every subcommand: one table of options (name,
 * argument, which subcommands take it, help text, what it sets), a GNU-style
 * parser over it and the --help text made from it. docs/cli.md quotes the
 * help text verbatim (tests/cli checks it).
 */
#ifndef PA_CLI_H
#define PA_CLI_H

#include <stdio.h>

#include "pipeline.h"

/* Bits, so that an option can belong to several subcommands. */
enum cli_command { CLI_AUDIT = 1, CLI_LIVE = 2, CLI_CHECK = 4, CLI_VERIFY = 8, CLI_REPORT = 16 };

/* Options of `live` only. */
struct live_options {
	const char *interface;
	const char *bpf;
	int snaplen;          /* default 262144 */
	int buffer_mb;        /* kernel buffer, default 64 */
	bool promisc;         /* default true */
	double ring_mb;       /* rotate evidence files at this size, default 100 */
	double ring_seconds;  /* and/or at this age; 0 = size only */
	unsigned ring_files;  /* keep at most this many; 0 = all */
	const char *user;     /* drop privileges to this user; default "nobody" when root */
};

struct cli_options {
	struct audit_config audit;
	struct live_options live;
	bool help;          /* --help or -h: print cli_help and exit 0 */
	char *command_line; /* owned */
};

/*
 * Parses argv (argv[0] = the subcommand) the way GNU getopt_long does, but
 * with messages that name the exact problem: options and operands may come
 * in any order (argv is permuted so that the operands come last, in their
 * order), "--" ends the options, "--name=value" and "--name value" are the
 * same, a unique prefix of a long name is accepted, short options cluster
 * ("-qv", "-ieth0"), and "-" alone is an operand (standard input).
 * On success *first_arg indexes the first operand; o->help is set when
 * --help was seen (parsing stops there). false with err set on a bad option
 * or value.
 */
bool cli_parse(struct cli_options *o, enum cli_command cmd, int argc, char **argv, int *first_arg,
	       struct pa_error *err);
void cli_options_free(struct cli_options *o);
/* The options of cmd, one line each ("  --policy FILE   privacy ..."). */
void cli_options_help(FILE *out, enum cli_command cmd);
/* `privaudit CMD --help`: usage line, what it does, options, exit codes. */
void cli_help(FILE *out, enum cli_command cmd);
/* `privaudit --help`: one usage line per subcommand. */
void cli_usage(FILE *out);
/* "audit" -> CLI_AUDIT; 0 for a name that is no subcommand. */
enum cli_command cli_command_from_name(const char *name);
const char *cli_command_name(enum cli_command cmd);
/* "2026-11-23T14:05:00Z", "2026-11-23 14:05:00" (UTC), "...+08:00", or Unix seconds. */
bool cli_parse_time(const char *s, int64_t *ts_us);

#endif
