/*
 * flows_out.h — flows.jsonl: one JSON object per flow, written when the flow
 * ends. Schema: docs/output.md.
 */
#ifndef PA_FLOWS_OUT_H
#define PA_FLOWS_OUT_H

#include <jansson.h>

#include "classify/classify.h"
#include "flow/flow.h"
#include "geo/geo.h"

/* Everything known about a flow when it ends. */
struct flow_record {
	const struct flow *flow;
	enum flow_end_reason why;
	const struct classify_result *cls;
	const struct geo_result *geo;      /* the remote (non-device) endpoint's */
	const char *hostname;              /* recipient hostname, "" when none */
	enum hostname_source hostname_source;
};

/* The flow's JSON object (new reference). */
json_t *flow_record_json(const struct flow_record *r);

struct flows_out;
/* Writes DIR/flows.jsonl (through a temporary name, renamed on close). */
struct flows_out *flows_out_open(const char *dir, struct pa_error *err);
void flows_out_write(struct flows_out *o, const struct flow_record *r);
/* Flushes, checks for write errors, renames into place. Frees o. */
bool flows_out_close(struct flows_out *o, struct pa_error *err);

#endif
