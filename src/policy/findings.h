/*
 * findings.h — the policy engine: observations and flows in, findings out.
 *
 * Streaming: the pipeline hands over every observation as it is found
 * (findings_observation) and every flow when it ends (findings_flow_end); a
 * finding is raised the moment its first piece of evidence arrives (the
 * on_finding callback lets live mode print it) and later evidence of the
 * same (rule, recipient, data type, clause) is accumulated into it.
 * findings_finish() closes the run: pending "before consent" evidence is
 * settled and every promise gets its verdict.
 *
 * Rules, strengths and legal references: docs/findings.md, and
 * finding_rule_info() for the report's words.
 */
#ifndef PA_FINDINGS_H
#define PA_FINDINGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/flow_app.h"
#include "classify/classify.h"
#include "flow/flow.h"
#include "geo/geo.h"
#include "policy/plausibility.h"
#include "policy/policy.h"
#include "policy/recipients.h"
#include "privaudit.h"
/* flow_record and observation_record, what the engine judges, are shared
 * with report/ (which writes them): they live in the neutral records.h, so
 * the engine does not depend on the folder that renders its findings. */
#include "records.h"

enum finding_rule {
	RULE_RESIDENCY,            /* personal data outside the allowed jurisdictions */
	RULE_ENCRYPTION,           /* personal data in a cleartext protocol */
	RULE_UNDECLARED_RECIPIENT, /* a party the policy does not declare */
	RULE_BEYOND_SCOPE,         /* a declared party receiving a type outside its scope */
	RULE_UNDECLARED_TYPE,      /* a data type the policy does not declare */
	RULE_BEFORE_CONSENT,       /* personal data before the consent moment */
	RULE_EVASION,              /* conflicting copies of the same stream bytes */
	RULE_COUNT
};

enum finding_strength {
	FINDING_CONCLUSIVE, /* the bytes show it */
	FINDING_INDICATIVE, /* the bytes suggest it; something could not be seen */
};
const char *finding_strength_name(enum finding_strength s); /* "conclusive", "indicative" */

/* What the report says about a rule. */
struct rule_info {
	const char *id;          /* "residency", "encryption", ... */
	const char *title_en;
	const char *title_zh;
	const char *description; /* when it fires and with which strength */
	const char *description_zh; /* the same in Chinese (report.html is bilingual) */
	const char *legal;       /* PIPL articles, 认定方法 sections, GB/T clauses */
};
const struct rule_info *finding_rule_info(enum finding_rule r);

/* Who receives a flow, from this policy's point of view. */
enum recipient_kind {
	RECIPIENT_FIRST_PARTY,
	RECIPIENT_THIRD_PARTY, /* declared third party */
	RECIPIENT_PROCESSOR,   /* declared processor */
	RECIPIENT_MENTIONED,   /* named in the text, never declared */
	RECIPIENT_CATALOGUED,  /* in the catalogue, not in the policy */
	RECIPIENT_UNKNOWN,     /* neither: a hostname or an address nobody names */
};
const char *recipient_kind_name(enum recipient_kind k);

#define FINDING_MAX_REFS 32
#define FINDING_MAX_HOSTS 8

/* One observation behind a finding. */
struct finding_obs_ref {
	uint64_t flow_id;
	uint64_t packet;
	int64_t ts_us;
	char field[160];
	char encoding[24];
	char protocol[16];
};

/* Where a residency finding's data went, and how sure that is: the address,
 * its network, every GeoIP database's answer, and the physics. */
#define FINDING_GEO_MAX_ANSWERS 8
struct finding_geo {
	char country[3];         /* the country the finding relies on */
	char source[12];         /* "geoip" or "override" */
	struct plaus_check plaus; /* verdict and numbers (flow of the first reference) */
	char ip[48];             /* the destination address */
	uint32_t asn;            /* 0 = unknown */
	char as_org[128];
	char answers[FINDING_GEO_MAX_ANSWERS][3]; /* each country database's answer, in --geoip order ("" = none) */
	size_t answer_count;
	bool conflict;           /* the databases disagreed */
	bool conflict_settled;   /* ... and the RTT rules out every answer but the one relied on */
};

struct finding {
	char id[8];                      /* "F0001", in the order raised */
	enum finding_rule rule;
	enum finding_strength strength;
	const struct policy_clause *clause;  /* the clause quoted (NULL without a policy clause) */
	const struct policy_refs *clauses;   /* every clause of the promise (may be NULL) */
	/* recipient */
	enum recipient_kind recipient_kind;
	char recipient[96];              /* party id, catalogue id, hostname or address */
	char recipient_name[160];        /* as the policy or the catalogue names it */
	char organisation[160];
	const struct recipient *catalogue;  /* the catalogue entry that named it, or NULL */
	bool attribution_unverified;     /* ... and that entry's source is not verified */
	char hosts[FINDING_MAX_HOSTS][128]; /* hostnames seen for it (first few) */
	size_t host_count;
	char jurisdiction[24];
	char data_type[32];              /* "" for a contact without personal data */
	char reason[512];                /* why, with the numbers */
	struct finding_geo geo;          /* residency only */
	bool geo_conclusive;             /* geo describes conclusive evidence */
	/* evidence */
	uint64_t count;                  /* observations (or flows) that raised it */
	int64_t first_ts, last_ts;
	struct finding_obs_ref obs[FINDING_MAX_REFS];
	size_t obs_count;
	uint64_t flows[FINDING_MAX_REFS];
	size_t flow_count;
	uint64_t flows_more;             /* distinct flows past the cap */
	uint64_t packets[FINDING_MAX_REFS * 2];
	size_t packet_count;
	uint64_t packets_more;
	bool raised;                     /* false while waiting for the consent moment */
};

/* A flow referenced by a finding: enough to find its packets again. */
struct finding_flow {
	uint64_t id;
	struct pa_addr src, dst;
	uint16_t sport, dport;
	uint8_t proto;
	uint64_t first_packet;
	int64_t ts_first;
	bool personal;                   /* carried personal data */
	bool ended;
	struct plaus_check plaus;        /* filled when the flow is first seen */
	char country[3];
	char country_source[12];
	const struct geo_result *geo;    /* the remote end's GeoIP record (owned by geo), or NULL */
	double rtt_ms;                   /* server handshake RTT; negative when not measured */
};

/* Per recipient × data type (frequency of collection). */
#define FREQUENCY_MAX_TIMES 64
struct frequency_row {
	char recipient[96];
	enum recipient_kind recipient_kind;
	char data_type[32];
	char jurisdiction[24];           /* of the latest observation */
	uint64_t count;
	int64_t first_ts, last_ts;
	uint64_t flows;                  /* distinct flows (counted on change of flow id) */
	int64_t times[FREQUENCY_MAX_TIMES]; /* a sample of moments for the timeline */
	size_t time_count;
	uint64_t time_stride;            /* every stride-th datum is in times[] */
	uint64_t last_flow;
};
/* count per minute over [first, last]; a burst shorter than a minute counts as one minute. */
double frequency_rate_per_min(const struct frequency_row *row);

enum promise_status { PROMISE_KEPT, PROMISE_CONTRADICTED, PROMISE_NOT_VERIFIABLE };
const char *promise_status_name(enum promise_status s); /* "kept", "contradicted", "not-verifiable" */

/*
 * Device-side bytes that were not read, by cause. A promise is "kept" only
 * when none of the bytes that could hide a contradiction of it is unread
 * (docs/findings.md, "Coverage").
 */
struct unread_bytes {
	uint64_t encrypted;  /* TLS (or other ciphertext) without its keys */
	uint64_t gap;        /* never captured: holes in a TCP stream */
	uint64_t truncated;  /* cut by the snap length or past a decoder's bound */
	uint64_t unparsed;   /* a decoder gave up on them (counted, scanned raw) */
	uint64_t conflict;   /* retransmissions or overlaps that carried other bytes */
	uint64_t opaque;     /* scanned raw in a format no decoder knows, protocol not known as encrypted */
};
uint64_t unread_bytes_total(const struct unread_bytes *b);

/* What a promise's verdict rests on: the unread bytes that could hide a
 * contradiction of it, and in how many flows. */
struct promise_coverage {
	bool complete;                   /* nothing that could contradict it went unread */
	uint64_t flows;
	struct unread_bytes bytes;
	bool needs_judgement;            /* no byte count can decide it (minimum necessary) */
};

struct promise_verdict {
	const char *promise;             /* "residency", "encryption", ... */
	const char *title_en, *title_zh;
	enum promise_status status;
	char why[512];
	const struct policy_refs *clauses;
	size_t conclusive, indicative;   /* findings against it */
	struct promise_coverage coverage;
};

/* Whether the device under audit took part in the traffic at all. */
struct device_presence {
	uint64_t flows;                  /* flows seen */
	uint64_t device_flows;           /* flows with a device side */
	uint64_t unknown_side_flows;     /* flows where neither end is the device */
	uint64_t device_packets;         /* packets sent from the device side */
};

/* Per destination jurisdiction (upload volume, for the report's chart). */
struct jurisdiction_row {
	char jurisdiction[24];
	uint64_t flows;
	uint64_t bytes_up, bytes_down;
	uint64_t personal_flows;
	uint64_t uninspected_up;         /* device-side bytes that could not be read */
};

/* What could not be inspected (the report says so instead of calling it clean). */
struct uninspected {
	uint64_t flows;                  /* flows with device-side bytes not read */
	uint64_t encrypted_up, gap_up, truncated_up, unparsed_up, conflict_up;
	uint64_t opaque_flows, opaque_up; /* flows scanned raw in a format no decoder knows */
	uint64_t unknown_jurisdiction_obs; /* personal data whose destination country is unknown */
	uint64_t unmeasured_rtt_flows;   /* TCP flows without a handshake RTT (plausibility) */
	uint64_t pending_before_consent; /* observations waiting for a consent moment that never came */
};

struct plausibility_summary {
	bool lab_known;
	double lab_lat, lab_lon;
	uint64_t checked, consistent, contradicted, not_checked;
	size_t overrides;                /* ranges in the CIDR override file */
	struct plaus_row {
		uint64_t flow_id;
		char hostname[128];
		char dst_ip[48];
		struct plaus_check check;
	} rows[64];                      /* the contradicted flows (first 64) */
	size_t row_count;
};

struct findings_config {
	int64_t consent_at_us;           /* --consent-at; 0 = none (a marker may come) */
	uint64_t upload_threshold;       /* "unverified transfer abroad"; 0 = 64 KiB */
	bool lab_known;                  /* the device profile's location: */
	double lab_lat, lab_lon, lab_radius_km;
	const char *country_overrides;   /* CIDR → country file, or NULL */
	bool device_from_profile;        /* --device given (else the device side is guessed) */
	void (*on_finding)(void *ctx, const struct finding *f);
	void *ctx;
};

struct findings;

/* p may be NULL: then only policy-independent facts (frequency, plausibility,
 * what was not inspected). r may be NULL (no catalogue). NULL with err set
 * when the override file has errors (each reported as file:line on stderr). */
struct findings *findings_new(const struct policy *p, const struct recipients *r,
			      const struct findings_config *cfg, struct pa_error *err);
void findings_free(struct findings *fs);

/* Every observation, as it is found (echoes too: they are ignored here). */
void findings_observation(struct findings *fs, const struct observation_record *rec,
			  const struct flow *f);
/* Every flow, when it ends. */
void findings_flow_end(struct findings *fs, const struct flow_record *rec);
/* A consent marker seen in the capture (the first one counts). */
void findings_consent(struct findings *fs, int64_t ts_us);
/* The input is not all the traffic there was (a damaged capture, packets
 * lost at the capture point): no promise can be kept. Call before
 * findings_finish; several reasons are joined. */
void findings_input_incomplete(struct findings *fs, const char *why);
/* End of input: settle pending evidence, decide every promise. */
void findings_finish(struct findings *fs);

/* Accessors (valid until findings_free). */
size_t findings_count(const struct findings *fs);              /* raised findings */
const struct finding *findings_at(const struct findings *fs, size_t i);
/* Conclusive + indicative findings: > 0 means exit code 1 (2 when an input
 * is damaged: docs/cli.md). */
size_t findings_violations(const struct findings *fs);
size_t findings_promise_count(const struct findings *fs);
const struct promise_verdict *findings_promise_at(const struct findings *fs, size_t i);
size_t findings_frequency_count(const struct findings *fs);
const struct frequency_row *findings_frequency_at(const struct findings *fs, size_t i);
size_t findings_jurisdiction_count(const struct findings *fs);
const struct jurisdiction_row *findings_jurisdiction_at(const struct findings *fs, size_t i);
const struct uninspected *findings_uninspected(const struct findings *fs);
const struct device_presence *findings_device(const struct findings *fs);
/* No flow had a device side, or the device side sent nothing: the capture
 * or the device profile is not the device's; no promise can be kept. */
bool findings_device_unseen(const struct findings *fs);
/* The same in words, for the summary's first line (after findings_finish). */
const char *findings_device_words(const struct findings *fs);
/* Some promise is not verifiable because bytes that could contradict it
 * were not read, or the device was never seen (valid after findings_finish).
 * Promises that need human judgement (minimum necessary) do not count. */
bool findings_unverified(const struct findings *fs);
const struct plausibility_summary *findings_plausibility(const struct findings *fs);
const struct finding_flow *findings_flow(const struct findings *fs, uint64_t flow_id);
const struct policy *findings_policy(const struct findings *fs);
int64_t findings_consent_at(const struct findings *fs);

/* JSON (new references). */
json_t *finding_json(const struct finding *f);
/* The part of report.json this module owns: rules, policy, findings,
 * promises, frequency, destinations, plausibility, uninspected. */
json_t *findings_report_json(const struct findings *fs);
/* DIR/findings.jsonl, one finding a line, through a temporary name. */
bool findings_write_jsonl(const struct findings *fs, const char *dir, struct pa_error *err);

#endif
