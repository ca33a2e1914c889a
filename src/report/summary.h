/*
 * summary.h — what an audit saw, aggregated per flow: upload per
 * jurisdiction, recipients, decode problems; printed for a person at the end
 * and written to report.json for tools.
 */
#ifndef PA_SUMMARY_H
#define PA_SUMMARY_H

#include <jansson.h>
#include <stdio.h>

#include "decode/decode.h"
#include "flow/flow.h"
#include "geo/geo.h"
#include "records.h" /* audit_totals, input_file_info, capture_loss */
#include "report/flows_out.h"

struct summary_inputs {
	const struct audit_totals *totals;
	const struct input_file_info *files;
	size_t file_count;
	const struct decode_stats *decode;
	const struct flow_stats *flows;
	const struct geo *geo;
	size_t dns_names;
	bool device_from_profile;
	const struct capture_loss *loss;
	int64_t consent_at_us;
	uint64_t observations;
	int exit_code;       /* enum pa_exit, and the same in words */
	const char *result;
};

/* Recipients tallied by name when --max-recipients is not given. */
#define SUMMARY_DEFAULT_MAX_RECIPIENTS 5000

struct summary;
/* max_recipients: recipients tallied by name (0 = the default); the flows
 * of any further recipient are summed in one "others" row. */
struct summary *summary_new(size_t max_recipients);
void summary_free(struct summary *s);
void summary_add_flow(struct summary *s, const struct flow_record *r);
void summary_print(const struct summary *s, const struct summary_inputs *in, FILE *out);
/* The report document: tool, command line (as typed; NULL = not known) and
 * the summary (new reference); the pipeline adds the policy engine's part
 * before writing it. */
json_t *summary_report_json(const struct summary *s, const struct summary_inputs *in,
			    const char *command_line);
/* DIR/report.json, through a temporary name. */
bool report_json_write(const char *dir, const json_t *report, struct pa_error *err);
/* The summary's machine-readable form (new reference), part of report.json. */
json_t *summary_json(const struct summary *s, const struct summary_inputs *in);

#endif
