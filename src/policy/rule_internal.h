/*
 * rule_internal.h — the policy engine's state, shared by findings.c (the
 * rules) and rule_report.c (verdicts and JSON). Not an API.
 */
#ifndef PA_RULE_INTERNAL_H
#define PA_RULE_INTERNAL_H

#include "policy/findings.h"
#include "util/keymap.h"

#define FINDINGS_DEFAULT_UPLOAD_THRESHOLD (64u * 1024u)

/* A flow's recipient as this policy sees it. */
struct recipient_view {
	enum recipient_kind kind;
	char id[96];
	char name[160];
	char organisation[160];
	const struct policy_party *party;  /* NULL unless a policy party */
	const struct recipient *catalogue; /* NULL unless in the catalogue */
	bool unverified;                   /* the owner rests on an unverified catalogue entry */
};
void resolve_recipient(const struct findings *fs, const char *hostname, const char *dst_ip,
		       struct recipient_view *out);

#define FINDINGS_MAX_PROMISES 8

/* A flow with device-side bytes that were not read, and what is needed to
 * tell which promises they could contradict (decide_promises). */
struct unread_flow {
	uint64_t id;
	int64_t ts_first;
	enum recipient_kind recipient_kind;
	bool cleartext;                  /* not TLS: its unread bytes could be cleartext */
	bool jurisdiction_allowed;       /* the destination is in an allowed jurisdiction */
	struct unread_bytes bytes;
};

struct findings {
	const struct policy *p;
	const struct recipients *r;
	struct findings_config cfg;
	struct country_overrides *overrides;
	int64_t consent_us;
	bool finished;

	struct finding **all;        /* raised and pending, in order of creation */
	size_t all_count, all_cap;
	struct finding **raised;     /* in order raised (ids F0001...) */
	size_t raised_count, raised_cap;
	struct keymap finding_keys;  /* rule, recipient, type, clause → all[] */
	struct keymap undeclared_with_data; /* recipients already found receiving personal data */

	struct frequency_row *freq;
	size_t freq_count, freq_cap;
	struct keymap freq_keys;

	struct finding_flow *flows;  /* flows with personal data or a finding */
	size_t flow_count, flow_cap;
	struct keymap flow_keys;

	struct jurisdiction_row *jur;
	size_t jur_count;

	struct unread_flow *unread;  /* flows with unread device-side bytes */
	size_t unread_count, unread_cap;
	struct device_presence device;
	char device_why[256];        /* the words when the device was never seen */
	char input_incomplete[512];  /* why the input is not all the traffic ("" when it is) */

	struct promise_verdict promises[FINDINGS_MAX_PROMISES];
	size_t promise_count;
	struct uninspected un;
	struct plausibility_summary plaus;
};

struct finding_flow *flow_ctx(struct findings *fs, const struct flow *f, const char *geo_country);
/* Every promise of the policy gets its verdict (rule_report.c). */
void decide_promises(struct findings *fs);

#endif
