/*
 * cli.h — the options of `audit` (and later `live`), in one table: name,
 * argument, help text and what it sets. docs/cli.md documents the same table.
 */
#ifndef PA_CLI_H
#define PA_CLI_H

#include <stdio.h>

#include "pipeline.h"

enum cli_command { CLI_AUDIT = 1, CLI_LIVE = 2 };

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
	char *command_line; /* owned */
};

/* Parses argv (argv[0] = the subcommand); on success *first_arg indexes the
 * first non-option argument. false with err set on a bad option or value. */
bool cli_parse(struct cli_options *o, enum cli_command cmd, int argc, char **argv, int *first_arg,
	       struct pa_error *err);
void cli_options_free(struct cli_options *o);
void cli_options_help(FILE *out, enum cli_command cmd);
/* "2026-11-23T14:05:00Z", "2026-11-23 14:05:00" (UTC), "...+08:00", or Unix seconds. */
bool cli_parse_time(const char *s, int64_t *ts_us);

#endif
