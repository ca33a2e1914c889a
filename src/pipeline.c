/*
 * pipeline.c — one audit. audit_packet() is the whole per-packet path, in
 * order, on one screen: decode → flow → classify → dns → (app → detect);
 * flow_ended() is the whole per-flow path: classify result → recipient →
 * geo → flows.jsonl → summary.
 */
#include "pipeline.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/dns.h"
#include "app/flow_app.h"
#include "classify/classify.h"
#include "decode/decode.h"
#include "detect/detect.h"
#include "flow/device.h"
#include "geo/geo.h"
#include "report/flows_out.h"
#include "report/jsonl.h"
#include "report/observations_out.h"
#include "report/summary.h"
#include "util/diag.h"

#ifndef PA_DEFAULT_SIGNATURES
#define PA_DEFAULT_SIGNATURES "signatures"
#endif

struct audit {
	struct audit_config cfg;
	struct decoder *decoder;
	struct flow_table *flows;
	struct classifier *classifier;
	struct dns_map *dns;
	struct geo *geo;
	struct device_addrs device;
	struct detect_engine *detect;
	struct app_context app;
	struct jsonl_out *flows_out;
	struct jsonl_out *observations_out;
	struct summary *summary;
	uint64_t observations;

	struct audit_totals totals;
	struct input_file_info *files;
	size_t file_count;
	struct input_file_info *current; /* file being read */
	uint64_t packet_number;
	int64_t next_expire_us;
	int64_t consent_at_us;           /* 0 = not given */
	struct capture_loss loss;
	bool input_failed;               /* some input could not be read or analysed */
};

/* ---- per flow ------------------------------------------------------------- */

static const struct pa_addr *remote_addr(const struct flow *f)
{
	return f->device_side == DEVICE_SIDE_DST ? &f->src : &f->dst;
}

static void flow_started(struct audit *a, struct flow *f, const struct pa_packet *pkt,
			 enum pa_dir dir)
{
	f->device_side = (int8_t)device_side_of(&a->device, f, pkt, dir);
	const struct pa_addr *remote = remote_addr(f);
	const char *name = dns_map_lookup(a->dns, remote, pkt->ts_us);
	if (name)
		f->dns_name = pa_xstrdup(name);
	f->geo = geo_lookup(a->geo, remote);
}

/* Recipient hostname: SNI, else HTTP Host, else the DNS answer seen before
 * the flow started. */
static const char *recipient_hostname(const struct flow *f, const struct classify_result *cls,
				      const char *http_host, enum hostname_source *src)
{
	if (cls->sni[0]) {
		*src = HOSTNAME_SNI;
		return cls->sni;
	}
	if (http_host && http_host[0]) {
		*src = HOSTNAME_HTTP;
		return http_host;
	}
	if (cls->http_host[0]) {
		*src = HOSTNAME_HTTP;
		return cls->http_host;
	}
	if (f->dns_name) {
		*src = HOSTNAME_DNS;
		return f->dns_name;
	}
	*src = HOSTNAME_NONE;
	return "";
}

static void flow_ended(void *ctx, struct flow *f, enum flow_end_reason why)
{
	struct audit *a = ctx;
	struct flow_app_info app;
	flow_app_end(&a->app, f, &app);
	struct classify_result cls;
	classify_finish(a->classifier, &f->classify, &cls);

	struct flow_record rec = {.flow = f, .why = why, .cls = &cls, .geo = f->geo, .app = &app};
	rec.hostname = recipient_hostname(f, &cls, app.http_host, &rec.hostname_source);
	if (a->flows_out)
		jsonl_write(a->flows_out, flow_record_json(&rec));
	summary_add_flow(a->summary, &rec);
}

/* The recipient as far as the flow knows it when a datum is found. */
static const char *hostname_so_far(const struct flow *f)
{
	const char *h = classify_sni(f->classify);
	if (!h || !h[0])
		h = flow_app_http_host(f);
	if (!h || !h[0])
		h = classify_http_host(f->classify);
	if (!h || !h[0])
		h = f->dns_name;
	return h ? h : "";
}

static void on_observation(void *ctx, const struct flow *f, const struct pa_observation *obs)
{
	struct audit *a = ctx;
	a->observations++;
	if (!a->observations_out)
		return;
	char dst[48];
	const struct pa_addr *remote = f->device_side == DEVICE_SIDE_DST ? &f->src : &f->dst;
	struct observation_record r = {
		.obs = obs,
		.hostname = hostname_so_far(f),
		.jurisdiction = f->geo ? f->geo->jurisdiction : "unknown",
		.dst_ip = pa_addr_str(remote, dst, sizeof dst),
		.dst_port = f->device_side == DEVICE_SIDE_DST ? f->sport : f->dport,
	};
	jsonl_write(a->observations_out, observation_record_json(&r, a->cfg.show_values));
}

/* ---- per packet ----------------------------------------------------------- */

static void note_decode_problem(struct audit *a, const struct capture_record *rec,
				enum decode_problem why)
{
	if (why != DP_UNSUPPORTED_LINKTYPE)
		return;
	a->totals.unsupported_link++;
	struct input_file_info *in = a->current;
	if (in)
		in->unsupported++;
	if (in && !in->problem) {
		char msg[160];
		snprintf(msg, sizeof msg, "unsupported link type %d (interface %u); its packets are not analysed",
			 rec->linktype, rec->interface_id);
		in->problem = pa_xstrdup(msg);
		if (!a->cfg.quiet)
			fprintf(stderr, "privaudit: %s: %s\n", in->path, msg);
	}
}

static bool is_consent_marker(const struct pa_packet *pkt)
{
	size_t n = sizeof PA_CONSENT_MARKER - 1;
	return pkt->l4_proto == IPPROTO_UDP && pkt->payload_len >= n &&
	       memcmp(pkt->payload, PA_CONSENT_MARKER, n) == 0;
}

void audit_consent(struct audit *a, int64_t ts_us)
{
	/* The first consent counts: data before it was sent without consent. */
	if (!a->consent_at_us)
		a->consent_at_us = ts_us;
}

void audit_tick(struct audit *a, int64_t now_us)
{
	flow_table_expire(a->flows, now_us);
}

void audit_set_capture_loss(struct audit *a, const struct capture_loss *loss)
{
	a->loss = *loss;
}

void audit_progress(const struct audit *a, struct audit_progress *p)
{
	p->packets = a->totals.packets;
	p->bytes = a->totals.bytes;
	p->active_flows = flow_table_stats(a->flows)->active;
	p->observations = a->observations;
	p->findings = 0;
	p->consent_at_us = a->consent_at_us;
}

void audit_packet(struct audit *a, const struct capture_record *rec)
{
	struct pa_packet pkt;
	enum decode_problem why = DP_NONE;

	pkt.number = ++a->packet_number;
	a->totals.packets++;
	a->totals.bytes += rec->caplen;
	if (!a->totals.ts_first)
		a->totals.ts_first = rec->ts_us;
	a->totals.ts_last = rec->ts_us;

	switch (decode_packet(a->decoder, rec, &pkt, &why)) {
	case DECODE_OK:
		break;
	case DECODE_INVALID:
		note_decode_problem(a, rec, why);
		return;
	case DECODE_NOT_IP:
	case DECODE_HELD:
		return;
	}

	if (pkt.ts_us >= a->next_expire_us) {
		flow_table_expire(a->flows, pkt.ts_us);
		a->next_expire_us = pkt.ts_us + 1000000;
	}

	if (is_consent_marker(&pkt)) {
		audit_consent(a, pkt.ts_us);
		return;
	}

	enum pa_dir dir;
	bool created;
	struct flow *f = flow_table_packet(a->flows, &pkt, &dir, &created);
	if (created)
		flow_started(a, f, &pkt, dir);

	if (!f->classify_done)
		f->classify_done = !classify_packet(a->classifier, &f->classify, &pkt, dir);

	flow_app_packet(&a->app, f, dir, &pkt);
}

/* ---- files ---------------------------------------------------------------- */

bool audit_file(struct audit *a, const char *path, struct pa_error *err)
{
	a->files = pa_xrealloc(a->files, (a->file_count + 1) * sizeof *a->files);
	struct input_file_info *in = &a->files[a->file_count++];
	memset(in, 0, sizeof *in);
	in->path = pa_xstrdup(path);
	a->current = in;

	struct capture_file *cf = capture_file_open(path, err);
	if (!cf) {
		in->failed = true;
		in->problem = pa_xstrdup(err->msg);
		a->input_failed = true;
		return false;
	}
	in->format = capture_file_format(cf);
	in->first_packet = a->packet_number + 1;

	struct capture_record rec;
	struct pa_error ferr = {{0}};
	enum capture_status st;
	while ((st = capture_file_next(cf, &rec, &ferr)) == CAPTURE_RECORD) {
		in->records++;
		audit_packet(a, &rec);
	}
	in->last_packet = a->packet_number;
	if (st == CAPTURE_TRUNCATED || st == CAPTURE_ERROR) {
		free(in->problem);
		in->problem = pa_xstrdup(ferr.msg);
		if (!a->cfg.quiet)
			fprintf(stderr, "privaudit: %s: %s\n",
				st == CAPTURE_TRUNCATED ? "warning" : "error", ferr.msg);
		if (st == CAPTURE_ERROR)
			a->input_failed = true;
	}
	if (in->records && in->unsupported == in->records) {
		in->failed = true; /* nothing in it could be analysed */
		a->input_failed = true;
	}
	capture_file_close(cf);
	a->current = NULL;
	return true;
}

/* ---- life cycle ----------------------------------------------------------- */

static bool make_out_dir(const char *dir, struct pa_error *err)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		pa_error_set(err, "%s: cannot create output folder: %s", dir, strerror(errno));
		return false;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		pa_error_set(err, "%s: not a folder", dir);
		return false;
	}
	return true;
}

struct audit *audit_new(const struct audit_config *cfg, struct pa_error *err)
{
	struct audit *a = pa_xcalloc(1, sizeof *a);
	a->cfg = *cfg;
	a->consent_at_us = cfg->consent_at_us;

	if (cfg->device_file) {
		struct pa_diag diag = {.out = stderr};
		if (!device_addrs_load(cfg->device_file, &a->device, &diag)) {
			pa_error_set(err, "%s: device profile has %zu error(s)", cfg->device_file,
				     diag.errors);
			goto fail;
		}
	}
	{
		struct pa_diag diag = {.out = stderr};
		const char *sigdir = cfg->signatures_dir ? cfg->signatures_dir : PA_DEFAULT_SIGNATURES;
		a->detect = detect_engine_load(sigdir, cfg->device_file, &diag);
		if (!a->detect) {
			pa_error_set(err, "signatures (%s) or device profile: %zu error(s)", sigdir, diag.errors);
			goto fail;
		}
		a->app.scratch = detect_scratch_alloc(a->detect);
		if (!a->app.scratch) {
			pa_error_set(err, "out of memory for the signature engine's scratch space");
			goto fail;
		}
		a->app.detect = a->detect;
	}
	a->geo = geo_open(cfg->geoip, cfg->geoip_count, err);
	if (!a->geo)
		goto fail;
	a->classifier = classifier_new(err);
	if (!a->classifier)
		goto fail;
	if (cfg->out_dir) {
		if (!make_out_dir(cfg->out_dir, err))
			goto fail;
		a->flows_out = jsonl_open(cfg->out_dir, "flows.jsonl", cfg->live, err);
		if (!a->flows_out)
			goto fail;
		a->observations_out = jsonl_open(cfg->out_dir, "observations.jsonl", cfg->live, err);
		if (!a->observations_out)
			goto fail;
	}
	struct decode_config dc = {.frag_memory_max = cfg->frag_memory_max};
	a->decoder = decoder_new(&dc);
	a->dns = dns_map_new(1u << 16);
	a->app.dns = a->dns;
	a->app.observation = on_observation;
	a->app.ctx = a;
	a->flows = flow_table_new(&cfg->flow, flow_ended, a);
	a->summary = summary_new();
	return a;
fail:
	audit_free(a);
	return NULL;
}

int audit_finish(struct audit *a, FILE *out)
{
	int rc_write = 0;
	flow_table_flush(a->flows);
	struct summary_inputs si = {
		.totals = &a->totals,
		.files = a->files,
		.file_count = a->file_count,
		.decode = decoder_stats(a->decoder),
		.flows = flow_table_stats(a->flows),
		.geo = a->geo,
		.dns_names = dns_map_size(a->dns),
		.device_from_profile = a->device.from_profile,
		.loss = &a->loss,
		.consent_at_us = a->consent_at_us,
		.observations = a->observations,
	};
	if (out)
		summary_print(a->summary, &si, out);
	if (a->cfg.out_dir) {
		struct pa_error err;
		if (!summary_write_report(a->summary, &si, &a->cfg, a->cfg.out_dir, &err)) {
			fprintf(stderr, "privaudit: %s\n", err.msg);
			return PA_EXIT_INTERNAL;
		}
	}
	struct jsonl_out **outs[] = {&a->flows_out, &a->observations_out};
	for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
		struct pa_error err;
		if (*outs[i] && !jsonl_close(*outs[i], &err)) {
			fprintf(stderr, "privaudit: %s\n", err.msg);
			rc_write = PA_EXIT_INTERNAL;
		}
		*outs[i] = NULL;
	}
	if (rc_write)
		return rc_write;
	return a->input_failed ? PA_EXIT_USAGE : PA_EXIT_CLEAN;
}

void audit_free(struct audit *a)
{
	if (!a)
		return;
	if (a->flows) {
		flow_table_free(a->flows); /* ends remaining flows through flow_ended */
		a->flows = NULL;
	}
	struct jsonl_out *outs[] = {a->flows_out, a->observations_out};
	for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
		struct pa_error err;
		if (outs[i])
			jsonl_close(outs[i], &err);
	}
	detect_scratch_free(a->app.scratch);
	detect_engine_free(a->detect);
	summary_free(a->summary);
	dns_map_free(a->dns);
	decoder_free(a->decoder);
	classifier_free(a->classifier);
	geo_close(a->geo);
	for (size_t i = 0; i < a->file_count; i++) {
		free(a->files[i].path);
		free(a->files[i].problem);
	}
	free(a->files);
	free(a);
}
