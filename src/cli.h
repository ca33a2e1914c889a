/*
 * cli.h — the options of `audit` (and later `live`), in one table: name,
 * argument, help text and what it sets. docs/cli.md documents the same table.
 */
#ifndef PA_CLI_H
#define PA_CLI_H

#include <stdio.h>

#include "pipeline.h"

struct cli_options {
	struct audit_config audit;
	char *command_line; /* owned */
};

/* Parses argv (argv[0] = the subcommand); on success *first_arg indexes the
 * first non-option argument. false with err set on a bad option or value. */
bool cli_parse(struct cli_options *o, int argc, char **argv, int *first_arg, struct pa_error *err);
void cli_options_free(struct cli_options *o);
void cli_options_help(FILE *out);

#endif
