/*
 * observations_out.h — the observations.jsonl record of one datum found in a
 * flow field. Values are masked unless --show-values.
 */
#ifndef PA_OBSERVATIONS_OUT_H
#define PA_OBSERVATIONS_OUT_H

#include "privaudit.h"
#include "report/jsonw.h"

/* An observation with what the flow knew about its recipient at the time. */
struct observation_record {
	const struct pa_observation *obs;
	const char *hostname;     /* "" when none yet; a DNS query's: the zone queried */
	const char *query_name;   /* the DNS name the datum was found in, or NULL */
	const char *jurisdiction;
	const char *dst_ip;
	uint16_t dst_port;
};

/* Appends the observation's JSON object to w. */
void observation_record_json(struct jsonw *w, const struct observation_record *r, bool show_values);

#endif
