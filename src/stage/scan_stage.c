/*
 * scan_stage.c — records from the packet path to the scan thread, and what
 * the scan thread does with them. See scan_stage.h.
 */
#include "stage/scan_stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "stage/handoff.h"

/* The ring: large enough that a burst of big HTTP bodies does not stall
 * the packet path, small next to the audit's other memory. */
#define SCAN_RING_BYTES (32u << 20)

enum record_type { REC_FIELD, REC_STREAM, REC_GAP, REC_FLOW_END, REC_CONSENT };

/*
 * The flow as an observation names it, copied into every record that may
 * produce one: the scan side keeps no copy of its own, so a flow costs it
 * nothing between records. The hostname (host_len bytes and a NUL) follows
 * the record's fixed part.
 */
struct flow_view {
	uint64_t id;
	struct pa_addr src, dst;
	uint16_t sport, dport;
	uint8_t proto;
	int8_t device_side;
	uint16_t host_len;
	uint64_t first_packet;
	int64_t ts_first, ts_syn, ts_synack, ts_ack;
	const struct geo_result *geo;
};

/*
 * A flow's scan state, only for flows with raw streams: allocated by the
 * packet path, then touched only by the scan thread, which frees it at the
 * flow's end. What the streams still hold at a gap or at the end is named
 * after the flow as the last chunk saw it.
 */
struct scan_flow {
	struct detect_stream *raw[2];
	struct flow_view view;
	char *hostname; /* NULL: "" */
};

struct field_rec {
	struct flow_view view;
	const char *protocol;
	uint64_t packet;
	int64_t ts_us;
	uint32_t len;      /* value bytes, after the hostname's and the field name's NUL */
	uint16_t name_len;
	uint8_t dir;
	bool from_device;
	bool query_name; /* the hostname slot holds the DNS name queried (pa_field_ref) */
};

struct stream_rec {
	struct flow_view view;
	struct scan_flow *sf;
	const char *protocol, *field;
	uint64_t packet;
	int64_t ts_us;
	uint32_t len; /* bytes, after the hostname's NUL */
	uint8_t dir;
	bool from_device;
};

struct gap_rec {
	struct scan_flow *sf;
	uint8_t dir;
};

struct end_rec {
	struct scan_flow *sf; /* NULL: the flow never had a raw stream */
	struct flow_end e;
};

struct scan_stage {
	struct scan_stage_config cfg;
	struct handoff *ring;
	struct detect_scratch *scratch; /* the scan thread's */
};

/* ---- scan thread ---------------------------------------------------------- */

/* One record's observations: the flow is rebuilt from the view only when
 * the first one is found. */
struct obs_ctx {
	struct scan_stage *s;
	const struct flow_view *view;
	const char *hostname;
	struct flow *flow; /* room for it */
	bool built;
	bool query_name;   /* hostname is a DNS query name */
};

static void flow_from_view(const struct flow_view *v, struct flow *f)
{
	memset(f, 0, sizeof *f);
	f->id = v->id;
	f->src = v->src;
	f->dst = v->dst;
	f->sport = v->sport;
	f->dport = v->dport;
	f->proto = v->proto;
	f->device_side = v->device_side;
	f->first_packet = v->first_packet;
	f->ts_first = v->ts_first;
	f->ts_syn = v->ts_syn;
	f->ts_synack = v->ts_synack;
	f->ts_ack = v->ts_ack;
	f->geo = v->geo;
}

static void on_observation(void *ctx, const struct pa_observation *obs)
{
	struct obs_ctx *oc = ctx;
	if (!oc->built) {
		flow_from_view(oc->view, oc->flow);
		oc->built = true;
	}
	struct pa_observation o = *obs;
	o.flow_id = oc->view->id;
	o.in_query_name = oc->query_name;
	oc->s->cfg.observation(oc->s->cfg.ctx, oc->flow, oc->hostname, &o);
}

static void handle_field(struct scan_stage *s, struct field_rec *r)
{
	const char *host = (const char *)(r + 1);
	const char *name = host + r->view.host_len + 1;
	struct pa_field_ref ref = {.protocol = r->protocol, .field = name, .dir = r->dir,
				   .packet = r->packet, .ts_us = r->ts_us};
	struct flow flow;
	struct obs_ctx oc = {.s = s, .view = &r->view, .hostname = host, .flow = &flow,
			     .query_name = r->query_name};
	detect_scan_field(s->cfg.detect, s->scratch, &ref, r->from_device,
			  (const uint8_t *)name + r->name_len + 1, r->len, on_observation, &oc);
}

static void handle_stream(struct scan_stage *s, struct stream_rec *r)
{
	struct scan_flow *sf = r->sf;
	const char *host = (const char *)(r + 1);
	sf->view = r->view;
	if (strcmp(sf->hostname ? sf->hostname : "", host) != 0) {
		free(sf->hostname);
		sf->hostname = host[0] ? pa_xstrdup(host) : NULL;
	}
	if (!sf->raw[r->dir]) {
		struct pa_field_ref ref = {.protocol = r->protocol, .field = r->field, .dir = r->dir};
		sf->raw[r->dir] = detect_stream_open(s->cfg.detect, &ref, r->from_device);
		if (!sf->raw[r->dir])
			return;
	}
	struct flow flow;
	struct obs_ctx oc = {.s = s, .view = &r->view, .hostname = host, .flow = &flow};
	detect_stream_scan(sf->raw[r->dir], s->scratch, (const uint8_t *)host + r->view.host_len + 1,
			   r->len, r->packet, r->ts_us, on_observation, &oc);
}

static void handle_gap(struct scan_stage *s, struct gap_rec *r)
{
	struct scan_flow *sf = r->sf;
	struct flow flow;
	struct obs_ctx oc = {.s = s, .view = &sf->view, .hostname = sf->hostname ? sf->hostname : "",
			     .flow = &flow};
	if (sf->raw[r->dir])
		detect_stream_gap(sf->raw[r->dir], s->scratch, on_observation, &oc);
}

static void handle_end(struct scan_stage *s, struct end_rec *r)
{
	struct scan_flow *sf = r->sf;
	if (sf) {
		struct flow flow;
		struct obs_ctx oc = {.s = s, .view = &sf->view,
				     .hostname = sf->hostname ? sf->hostname : "", .flow = &flow};
		for (int dir = 0; dir < 2; dir++)
			if (sf->raw[dir])
				detect_stream_close(sf->raw[dir], s->scratch, on_observation, &oc);
		free(sf->hostname);
		free(sf);
	}
	s->cfg.flow_end(s->cfg.ctx, &r->e);
}

static void handle(void *ctx, uint32_t type, void *rec, size_t len)
{
	struct scan_stage *s = ctx;
	(void)len;
	switch ((enum record_type)type) {
	case REC_FIELD: handle_field(s, rec); break;
	case REC_STREAM: handle_stream(s, rec); break;
	case REC_GAP: handle_gap(s, rec); break;
	case REC_FLOW_END: handle_end(s, rec); break;
	case REC_CONSENT: {
		int64_t ts;
		memcpy(&ts, rec, sizeof ts);
		s->cfg.consent(s->cfg.ctx, ts);
		break;
	}
	}
}

/* ---- packet path ------------------------------------------------------------ */

/* The flow and its recipient as far as the packet path knows them now;
 * returns the hostname, host_len set. */
static const char *view_now(struct scan_stage *s, const struct flow *f, struct flow_view *v)
{
	const char *host = s->cfg.hostname(s->cfg.ctx, f);
	size_t host_len = strnlen(host, UINT16_MAX - 1);
	*v = (struct flow_view){.id = f->id, .src = f->src, .dst = f->dst, .sport = f->sport,
				.dport = f->dport, .proto = f->proto, .device_side = f->device_side,
				.host_len = (uint16_t)host_len, .first_packet = f->first_packet,
				.ts_first = f->ts_first, .ts_syn = f->ts_syn,
				.ts_synack = f->ts_synack, .ts_ack = f->ts_ack, .geo = f->geo};
	return host;
}

void scan_stage_field(struct scan_stage *s, struct flow *f, const struct pa_field_ref *ref,
		      bool from_device, const uint8_t *v, size_t len)
{
	struct flow_view view;
	const char *host = view_now(s, f, &view);
	if (ref->query_name) { /* the datum's recipient is the name asked for */
		host = ref->query_name;
		view.host_len = (uint16_t)strnlen(host, UINT16_MAX - 1);
	}
	size_t name_len = strnlen(ref->field, UINT16_MAX - 1);
	struct field_rec *r = handoff_reserve(s->ring, REC_FIELD,
					      sizeof *r + view.host_len + 1 + name_len + 1 + len);
	*r = (struct field_rec){.view = view, .protocol = ref->protocol, .packet = ref->packet,
				.ts_us = ref->ts_us, .len = (uint32_t)len, .name_len = (uint16_t)name_len,
				.dir = (uint8_t)ref->dir, .from_device = from_device,
				.query_name = ref->query_name != NULL};
	char *p = (char *)(r + 1);
	memcpy(p, host, view.host_len);
	p[view.host_len] = 0;
	p += view.host_len + 1;
	memcpy(p, ref->field, name_len);
	p[name_len] = 0;
	memcpy(p + name_len + 1, v, len);
	handoff_commit(s->ring);
}

void scan_stage_stream(struct scan_stage *s, struct flow *f, enum pa_dir dir, const char *protocol,
		       const char *field, bool from_device, const uint8_t *data, size_t len,
		       uint64_t packet, int64_t ts)
{
	if (!f->scan)
		f->scan = pa_xcalloc(1, sizeof *f->scan);
	struct flow_view view;
	const char *host = view_now(s, f, &view);
	/* Lengths travel as 32 bits: hand over huge chunks in slices. */
	while (len) {
		size_t part = len > (1u << 30) ? (1u << 30) : len;
		struct stream_rec *r = handoff_reserve(s->ring, REC_STREAM,
						       sizeof *r + view.host_len + 1 + part);
		*r = (struct stream_rec){.view = view, .sf = f->scan, .protocol = protocol,
					 .field = field, .packet = packet, .ts_us = ts,
					 .len = (uint32_t)part, .dir = (uint8_t)dir,
					 .from_device = from_device};
		char *p = (char *)(r + 1);
		memcpy(p, host, view.host_len);
		p[view.host_len] = 0;
		memcpy(p + view.host_len + 1, data, part);
		handoff_commit(s->ring);
		data += part;
		len -= part;
	}
}

void scan_stage_gap(struct scan_stage *s, struct flow *f, enum pa_dir dir)
{
	if (!f->scan)
		return; /* no raw stream yet: nothing can match across the gap */
	struct gap_rec r = {.sf = f->scan, .dir = (uint8_t)dir};
	handoff_put(s->ring, REC_GAP, &r, sizeof r);
}

struct flow_end *scan_stage_flow_end_begin(struct scan_stage *s, struct flow *f)
{
	struct end_rec *r = handoff_reserve(s->ring, REC_FLOW_END, sizeof *r);
	r->sf = f->scan;
	f->scan = NULL;
	struct flow_end *e = &r->e;
	e->flow = *f;
	e->flow.app = NULL;
	e->flow.classify = NULL;
	e->flow.scan = NULL;
	snprintf(e->dns_name, sizeof e->dns_name, "%s", f->dns_name ? f->dns_name : "");
	e->flow.dns_name = f->dns_name ? e->dns_name : NULL;
	return e;
}

void scan_stage_flow_end_commit(struct scan_stage *s)
{
	handoff_commit(s->ring);
}

void scan_stage_consent(struct scan_stage *s, int64_t ts_us)
{
	handoff_put(s->ring, REC_CONSENT, &ts_us, sizeof ts_us);
}

void scan_stage_drain(struct scan_stage *s)
{
	handoff_drain(s->ring);
}

size_t scan_stage_raw_flow_size(const struct detect_engine *engine)
{
	return sizeof(struct scan_flow) + 2 * detect_stream_idle_size(engine);
}

struct scan_stage *scan_stage_new(const struct scan_stage_config *cfg, struct pa_error *err)
{
	struct scan_stage *s = pa_xcalloc(1, sizeof *s);
	s->cfg = *cfg;
	if (cfg->detect) {
		s->scratch = detect_scratch_alloc(cfg->detect);
		if (!s->scratch) {
			pa_error_set(err, "out of memory for the signature engine's scratch space");
			free(s);
			return NULL;
		}
	}
	s->ring = handoff_new(SCAN_RING_BYTES, cfg->threaded, handle, s);
	return s;
}

void scan_stage_free(struct scan_stage *s)
{
	if (!s)
		return;
	handoff_free(s->ring);
	detect_scratch_free(s->scratch);
	free(s);
}
