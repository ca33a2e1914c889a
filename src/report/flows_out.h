/*
 * flows_out.h — the flows.jsonl record of a flow, made when the flow ends.
 * Schema: docs/output.md.
 */
#ifndef PA_FLOWS_OUT_H
#define PA_FLOWS_OUT_H

#include "app/flow_app.h"
#include "classify/classify.h"
#include "flow/flow.h"
#include "geo/geo.h"
#include "report/jsonw.h"

/* Everything known about a flow when it ends. */
struct flow_record {
	const struct flow *flow;
	enum flow_end_reason why;
	const struct classify_result *cls;
	const struct geo_result *geo;      /* the remote (non-device) endpoint's */
	const char *hostname;              /* recipient hostname, "" when none */
	enum hostname_source hostname_source;
	const struct flow_app_info *app;   /* what the application layer saw and could not see */
};

/* Appends the flow's JSON object to w. */
void flow_record_json(struct jsonw *w, const struct flow_record *r);

#endif
