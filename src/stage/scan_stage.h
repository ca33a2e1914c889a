/*
 * scan_stage.h — the second half of an audit: the signature engine over
 * what the application layer decoded, and what follows a flow's end
 * (flows.jsonl, summary, findings), on its own thread.
 *
 * The packet path (first half) calls scan_stage_field/stream/gap as it
 * decodes, scan_stage_flow_end when a flow ends and scan_stage_consent at
 * the consent marker; each becomes a record in a hand-off ring (handoff.h)
 * and the scan thread handles the records in that order. The scan side
 * never reads the packet path's live objects: a record carries what it
 * needs, the flow as an observation names it (addresses, ports, recipient
 * hostname, handshake timing) included. So the output is the same with or
 * without the thread, and the same from run to run, and the scan side keeps
 * nothing per flow but the state of raw streams (struct scan_flow).
 */
#ifndef PA_SCAN_STAGE_H
#define PA_SCAN_STAGE_H

#include "app/flow_app.h"
#include "classify/classify.h"
#include "flow/flow.h"
#include "privaudit.h"

struct detect_engine;

/* Everything a flow's record is written from, copied when the flow ends. */
struct flow_end {
	struct flow flow;          /* a copy: only geo and dns_name may be followed */
	enum flow_end_reason why;
	char dns_name[256];        /* flow.dns_name points here, "" = none */
	struct classify_result cls;
	struct flow_app_info app;
};

struct scan_stage_config {
	const struct detect_engine *detect;
	bool threaded;
	/* packet path: the recipient as far as the flow knows it now */
	const char *(*hostname)(void *ctx, const struct flow *f);
	/* scan thread: */
	/* A datum the first time its flow shows it, at once (findings, live
	 * output); NULL: none. */
	void (*first_seen)(void *ctx, const struct flow *f, const char *hostname,
			   const struct pa_observation *obs);
	/* The same datum with its repeats counted (count, last_packet), when
	 * the flow ends: one call per distinct datum of the flow. */
	void (*observation)(void *ctx, const struct flow *f, const char *hostname,
			    const struct pa_observation *obs);
	void (*flow_end)(void *ctx, struct flow_end *e);
	void (*consent)(void *ctx, int64_t ts_us);
	void *ctx;
};

struct scan_stage;

/* NULL with err set when the engine's scratch space cannot be allocated. */
struct scan_stage *scan_stage_new(const struct scan_stage_config *cfg, struct pa_error *err);
/* Drains the ring, stops the thread. */
void scan_stage_free(struct scan_stage *s);

/* ---- packet path ------------------------------------------------------------ */

/* One decoded field (ref->field is copied; ref->protocol must be a literal). */
void scan_stage_field(struct scan_stage *s, struct flow *f, const struct pa_field_ref *ref,
		      bool from_device, const uint8_t *v, size_t len);
/* The next bytes of a raw stream of direction dir (protocol, field: literals). */
void scan_stage_stream(struct scan_stage *s, struct flow *f, enum pa_dir dir, const char *protocol,
		       const char *field, bool from_device, const uint8_t *data, size_t len,
		       uint64_t packet, int64_t ts);
/* Bytes of direction dir's raw stream that will never be seen. */
void scan_stage_gap(struct scan_stage *s, struct flow *f, enum pa_dir dir);
/* The flow ended: after its last field. Fill the returned record, then
 * scan_stage_flow_end_commit(); f->scan is released by the scan side. */
struct flow_end *scan_stage_flow_end_begin(struct scan_stage *s, struct flow *f);
void scan_stage_flow_end_commit(struct scan_stage *s);
void scan_stage_consent(struct scan_stage *s, int64_t ts_us);
/* Returns when everything handed over has been handled. */
void scan_stage_drain(struct scan_stage *s);

/* Bytes the scan side holds for an idle flow with raw streams both ways
 * (memory accounting; other flows cost it nothing between records). */
size_t scan_stage_raw_flow_size(const struct detect_engine *engine);

#endif
