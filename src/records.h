/*
 * records.h — the records about a whole flow, a whole datum and a whole
 * audit that several stages hand each other: the packet path and the scan
 * side make them, the policy engine judges them, the report writes them.
 *
 * They live here, above no stage and below all of them, so that no stage
 * has to include another stage's header only to read a record: report/
 * renders findings (policy/), and the policy engine reads flow and
 * observation records without knowing how report/ writes them. The folder
 * graph stays without cycles (docs/architecture.md, tests/structure/).
 * Like privaudit.h, this holds plain structs; behaviour lives in stages.
 */
#ifndef PA_RECORDS_H
#define PA_RECORDS_H

#include "flow/flow.h"
#include "privaudit.h"

struct classify_result;
struct flow_app_info;
struct geo_result;
struct pa_file_hash;
struct pa_hash_job;

/* Everything known about a flow when it ends: one flows.jsonl line, one
 * flow of the summary, what the policy engine counts per recipient. */
struct flow_record {
	const struct flow *flow;
	enum flow_end_reason why;
	const struct classify_result *cls;
	const struct geo_result *geo;      /* the remote (non-device) endpoint's */
	const char *hostname;              /* recipient hostname, "" when none */
	enum hostname_source hostname_source;
	const struct flow_app_info *app;   /* what the application layer saw and could not see */
};

/* An observation with what the flow knew about its recipient at the time:
 * one observations.jsonl line, one input of the policy engine. */
struct observation_record {
	const struct pa_observation *obs;
	const char *hostname;     /* "" when none yet; a DNS query's: the zone queried */
	const char *query_name;   /* the DNS name the datum was found in, or NULL */
	const char *jurisdiction;
	const char *dst_ip;
	uint16_t dst_port;
};

/* What the audit read, per input file, for the summary and the report. */
struct input_file_info {
	char *path;
	const char *format;
	uint64_t records;
	uint64_t unsupported;               /* records on interfaces whose link type is not decoded */
	uint64_t first_packet, last_packet; /* packet numbers */
	char *problem;                      /* truncation / damage / link type message, or NULL */
	bool failed;                        /* could not be opened or analysed */
	bool damaged;                       /* read up to a cut-off record or a damaged block */
	struct pa_hash_job *hash_job;       /* --out: hashed on the hasher's thread while read */
	const struct pa_file_hash *hash;    /* its result, once the outputs are written; or NULL */
};

struct audit_totals {
	uint64_t packets;         /* records read */
	uint64_t bytes;           /* captured bytes */
	uint64_t unsupported_link;
	int64_t ts_first, ts_last;
};

/* What the capture point itself lost (live: pcap_stats). */
struct capture_loss {
	bool known;
	uint64_t received, kernel_drops, interface_drops;
	uint64_t evidence_lost;  /* packets the evidence ring could not write */
	char evidence_error[sizeof(struct pa_error)];
};

#endif
