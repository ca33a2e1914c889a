/*
 * observations_out.h — the observations.jsonl record of one datum found in a
 * flow field. Values are masked unless --show-values.
 */
#ifndef PA_OBSERVATIONS_OUT_H
#define PA_OBSERVATIONS_OUT_H

#include "privaudit.h"
#include "records.h" /* struct observation_record */
#include "report/jsonw.h"

/* Appends the observation's JSON object to w. */
void observation_record_json(struct jsonw *w, const struct observation_record *r, bool show_values);

#endif
