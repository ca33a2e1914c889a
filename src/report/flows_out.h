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
#include "records.h" /* struct flow_record */
#include "report/jsonw.h"

/* Appends the flow's JSON object to w. */
void flow_record_json(struct jsonw *w, const struct flow_record *r);

#endif
