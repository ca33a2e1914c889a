/*
 * pipeline.c — one audit, and the only place that runs the stages.
 *
 * Packet path (the capture's thread), audit_packet(), in order:
 *   decode → flow (+ device side, DNS name, geo of a new flow) → classify
 *   → application layer: TCP stream reassembly → decoder (TLS → HTTP/1|2,
 *   HTTP/1, DNS, raw) → hand-off of every field and raw stream to the scan
 *   thread (handoff_*), DNS answers into the DNS map (dns_response).
 * flow_ended(): a flow's last bytes through the same steps, then its record
 * handed off. app/flow_app.c only dispatches one flow's bytes to the right
 * decoder; everything it produces comes back here through struct app_sink.
 *
 * Scan side (the scan thread, or the same thread with --threads 1), fed by
 * the hand-off ring in order (stage/scan_stage.c): signature engine →
 * on_observation (observations.jsonl, findings) and flow_record_out
 * (recipient → flows.jsonl → summary → findings).
 *
 * docs/architecture.md draws the whole picture.
 */
#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/dns.h"
#include "app/flow_app.h"
#include "classify/classify.h"
#include "decode/decode.h"
#include "detect/detect.h"
#include "flow/device_side.h"
#include "geo/geo.h"
#include "policy/findings.h"
#include "policy/policy.h"
#include "policy/recipients.h"
#include "report/bundle.h"
#include "report/bundle_final.h"
#include "report/findings_text.h"
#include "report/manifest.h"
#include "provenance.h"
#include "report/sign.h"
#include "report/flows_out.h"
#include "report/jsonl.h"
#include "report/observations_out.h"
#include "report/summary.h"
#include "stage/scan_stage.h"
#include "tls/keylog.h"
#include "util/diag.h"
#include "util/datadir.h"
#include "util/hasher.h"
#include "util/sha256.h"

#define FLOWS_JSONL "flows.jsonl"
#define OBSERVATIONS_JSONL "observations.jsonl"

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
	struct scan_stage *scan;         /* signature engine and what follows a flow's end */
	struct keylog *keylog;           /* --keylog files and pcapng Decryption Secrets Blocks */
	int64_t next_keylog_check_us;    /* live: when to look whether the key logs grew */
	struct jsonl_out *flows_out;
	struct jsonl_out *observations_out;
	/* Their SHA-256, taken as written, for the manifest (audit_finish). */
	struct bundle_output_hash out_hash[2];
	struct summary *summary;
	uint64_t observations;           /* scan thread writes, progress reads: atomic */
	uint64_t findings_raised;        /* likewise */
	struct policy *policy;
	struct recipients *recipients;
	struct findings *findings;
	char recipients_path[4096];
	char default_geoip[4096];        /* tools/fetch-geoip's database when no --geoip */
	char **evidence_inputs;          /* live: the ring files, read back for evidence */
	size_t evidence_input_count;
	/* Live: the inputs besides captures and key logs, hashed by
	 * audit_hash_inputs before privileges were dropped (manifest_prepare). */
	json_t *inputs_hashed;

	struct audit_totals totals;
	struct input_file_info *files;
	size_t file_count;
	struct input_file_info *current; /* file being read */
	uint64_t packet_number;
	int64_t next_expire_us;
	int64_t consent_at_us;           /* 0 = not given */
	struct capture_loss loss;
	bool input_failed;               /* some input could not be read or analysed */
	struct pa_hasher *hasher;        /* --out: the captures' SHA-256, on another core */
	/* --out: this run's folder, moved into place when complete (report/bundle.h) */
	struct bundle_out bundle;
	const char *out;                 /* where this run writes: the staging folder, or NULL */
	bool keep_staging;               /* a write failed: the staging folder stays for inspection */
	struct pa_signer *signer;        /* --sign-key */
	char manifest_sha256[PA_SHA256_HEX];
	char host_clean[512];            /* packet path: a hostname made valid UTF-8 */
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

/* Packet path: the flow's last bytes go through the application layer,
 * then everything its record needs is handed to the scan side. */
static void flow_ended(void *ctx, struct flow *f, enum flow_end_reason why)
{
	struct audit *a = ctx;
	struct flow_app_info app;
	flow_app_end(&a->app, f, &app);
	struct flow_end *e = scan_stage_flow_end_begin(a->scan, f);
	e->why = why;
	classify_finish(a->classifier, &f->classify, &e->cls);
	e->app = app;
	if (app.tls.cipher_name == app.tls.cipher_buf) /* its backing moved along */
		e->app.tls.cipher_name = e->app.tls.cipher_buf;
	scan_stage_flow_end_commit(a->scan);
}

/* Scan side: the flow's record, its part of the summary and the findings. */
static void flow_record_out(void *ctx, struct flow_end *e)
{
	struct audit *a = ctx;
	struct flow_record rec = {.flow = &e->flow, .why = e->why, .cls = &e->cls,
				  .geo = e->flow.geo, .app = &e->app};
	rec.hostname = recipient_hostname(&e->flow, &e->cls, e->app.http_host, &rec.hostname_source);
	char clean[512];
	rec.hostname = pa_utf8_clean(rec.hostname, clean, sizeof clean);
	if (a->flows_out) {
		flow_record_json(jsonl_line(a->flows_out), &rec);
		jsonl_write(a->flows_out);
	}
	summary_add_flow(a->summary, &rec);
	findings_flow_end(a->findings, &rec);
}

/* Packet path: the recipient as far as the flow knows it now (an
 * observation found in the flow's next bytes names it). */
static const char *hostname_so_far(void *ctx, const struct flow *f)
{
	struct audit *a = ctx;
	const char *h = classify_sni(f->classify);
	if (!h || !h[0])
		h = flow_app_http_host(f);
	if (!h || !h[0])
		h = classify_http_host(f->classify);
	if (!h || !h[0])
		h = f->dns_name;
	return h ? pa_utf8_clean(h, a->host_clean, sizeof a->host_clean) : "";
}

/* The texts an observation record points into. */
struct observation_text {
	char dst[48], zone[256], query[300];
};

/* Scan side: f is the flow as the record that found the datum described it. */
static struct observation_record observation_record_of(struct audit *a, const struct flow *f,
							const char *hostname,
							const struct pa_observation *obs,
							struct observation_text *t)
{
	/* A datum in a DNS query name goes to the owner of the zone asked
	 * about: that zone is its recipient, the full name is kept beside it. */
	const char *query_name = NULL;
	if (obs->in_query_name && recipients_link_local(hostname)) {
		hostname = ""; /* mDNS: nobody owns .local; the datum goes to the link */
	} else if (obs->in_query_name) {
		query_name = pa_utf8_clean(hostname, t->query, sizeof t->query);
		hostname = recipients_zone(a->recipients, query_name, t->zone, sizeof t->zone);
	}
	const struct pa_addr *remote = f->device_side == DEVICE_SIDE_DST ? &f->src : &f->dst;
	return (struct observation_record){
		.obs = obs,
		.hostname = hostname,
		.query_name = query_name,
		.jurisdiction = f->geo ? f->geo->jurisdiction : "unknown",
		.dst_ip = pa_addr_str(remote, t->dst, sizeof t->dst),
		.dst_port = f->device_side == DEVICE_SIDE_DST ? f->sport : f->dport,
	};
}

/* Scan side, when the flow ends: the datum with its repeats counted. */
static void on_observation(void *ctx, const struct flow *f, const char *hostname,
			   const struct pa_observation *obs)
{
	struct audit *a = ctx;
	/* Atomic: the progress line reads it from the packet thread. */
	__atomic_add_fetch(&a->observations, 1, __ATOMIC_RELAXED);
	struct observation_text t;
	struct observation_record r = observation_record_of(a, f, hostname, obs, &t);
	if (a->observations_out) {
		observation_record_json(jsonl_line(a->observations_out), &r, a->cfg.show_values);
		jsonl_write(a->observations_out);
	}
}

/* Scan side: a datum new to its flow goes to the policy engine at once (a
 * live finding must not wait for the flow's end); on_observation writes it
 * with its repeats counted when the flow ends. */
static void on_first_seen(void *ctx, const struct flow *f, const char *hostname,
			  const struct pa_observation *obs)
{
	struct audit *a = ctx;
	struct observation_text t;
	struct observation_record r = observation_record_of(a, f, hostname, obs, &t);
	findings_observation(a->findings, &r, f);
}

/* Live mode: a line on stdout the moment a finding is raised. */
static void on_finding(void *ctx, const struct finding *f)
{
	struct audit *a = ctx;
	__atomic_add_fetch(&a->findings_raised, 1, __ATOMIC_RELAXED); /* for the progress line */
	if (!a->cfg.live)
		return;
	char line[512];
	finding_line(f, line, sizeof line);
	if (!a->cfg.quiet && isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr); /* clear the status line first */
	printf("finding %s\n", line);
	fflush(stdout);
}

/* ---- application layer → DNS map and hand-off -------------------------------- */

/* Packet path: a DNS response a decoder saw; its answers name the
 * addresses flows started later go to (flow_started). */
static void dns_response(void *ctx, const uint8_t *msg, size_t len, int64_t ts_us)
{
	struct audit *a = ctx;
	dns_map_add_response(a->dns, msg, len, ts_us);
}

/* Packet path → scan thread: each becomes one record of the ordered
 * hand-off ring (stage/), handled there by the signature engine. */
static void handoff_field(void *ctx, struct flow *f, const struct pa_field_ref *ref,
			  bool from_device, const uint8_t *value, size_t len)
{
	struct audit *a = ctx;
	scan_stage_field(a->scan, f, ref, from_device, value, len);
}

static void handoff_stream(void *ctx, struct flow *f, enum pa_dir dir, const char *protocol,
			   const char *field, bool from_device, const uint8_t *data, size_t len,
			   uint64_t packet, int64_t ts_us)
{
	struct audit *a = ctx;
	scan_stage_stream(a->scan, f, dir, protocol, field, from_device, data, len, packet, ts_us);
}

static void handoff_gap(void *ctx, struct flow *f, enum pa_dir dir)
{
	struct audit *a = ctx;
	scan_stage_gap(a->scan, f, dir);
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

static void consent_given(void *ctx, int64_t ts_us)
{
	struct audit *a = ctx;
	findings_consent(a->findings, ts_us);
}

void audit_consent(struct audit *a, int64_t ts_us)
{
	/* The first consent counts: data before it was sent without consent. */
	if (!a->consent_at_us) {
		a->consent_at_us = ts_us;
		scan_stage_consent(a->scan, ts_us);
	}
}

void audit_tick(struct audit *a, int64_t now_us)
{
	/* Apps append to their key log as they connect: a stat per second
	 * finds the new secrets; waiting records decrypt on the flow's next
	 * bytes or at its end. */
	if (a->cfg.keylog_count && now_us >= a->next_keylog_check_us) {
		keylog_reload(a->keylog, a->cfg.quiet ? NULL : stderr);
		a->next_keylog_check_us = now_us + 1000000;
	}
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
	p->flows = flow_table_stats(a->flows)->created;
	p->observations = __atomic_load_n(&a->observations, __ATOMIC_RELAXED);
	/* findings_count would read the engine's lists while the scan thread
	 * changes them; the counter of raised findings is safe to read. */
	p->findings = __atomic_load_n(&a->findings_raised, __ATOMIC_RELAXED);
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

	/* decode: link layer, VLANs, IPv4/IPv6 (fragments reassembled), TCP/UDP */
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

	/* Flows idle past their timeout end first, in capture time. */
	if (pkt.ts_us >= a->next_expire_us) {
		flow_table_expire(a->flows, pkt.ts_us);
		a->next_expire_us = pkt.ts_us + 1000000;
	}

	if (is_consent_marker(&pkt)) {
		audit_consent(a, pkt.ts_us);
		return;
	}

	/* flow: the bidirectional flow of this packet; a new one gets its
	 * device side, the DNS name of its remote address and its geo. */
	enum pa_dir dir;
	bool created;
	struct flow *f = flow_table_packet(a->flows, &pkt, &dir, &created);
	if (created)
		flow_started(a, f, &pkt, dir);

	/* classify: nDPI, until it has decided */
	if (!f->classify_done)
		f->classify_done = !classify_packet(a->classifier, &f->classify, &pkt, dir);

	/* application layer: stream reassembly → decoder → dns_response and
	 * handoff_* above. Other protocols (ICMP, ...) are counted in the
	 * flow only. */
	switch (pkt.l4_proto) {
	case IPPROTO_TCP:
		flow_app_tcp_segment(&a->app, f, dir, &pkt);
		break;
	case IPPROTO_UDP:
		flow_app_udp_datagram(&a->app, f, dir, &pkt);
		break;
	default:
		break;
	}
}

/* ---- files ---------------------------------------------------------------- */

/* pcapng Decryption Secrets Block: a key log carried inside the capture
 * (editcap --inject-secrets tls,KEYLOG), read before the packets it opens. */
static void on_capture_secrets(void *ctx, uint32_t type, const uint8_t *data, size_t len)
{
	struct audit *a = ctx;
	if (type == 0x544c534b) /* "TLSK": NSS key log text */
		keylog_add_text(a->keylog, a->current ? a->current->path : "pcapng secrets",
				(const char *)data, len, a->cfg.quiet ? NULL : stderr);
}

/* A stream's copy is complete at its end: the hasher sees the same file
 * from start to end. A copy that is incomplete leaves the audit of the
 * stream standing, but the run is incomplete. */
static void finish_stream(struct audit *a, struct input_file_info *in,
			  const struct capture_file *cf, struct capture_stream *stream)
{
	struct pa_error err;
	if (!capture_stream_finish(stream, cf, &err)) {
		fprintf(stderr, "privaudit: %s\n", err.msg);
		a->input_failed = true;
	}
	if (!stream->copy_path[0] || !a->hasher)
		return;
	int fd = open(stream->copy_path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		in->hash_job = pa_hasher_add(a->hasher, stream->copy_path, fd);
		pa_hash_job_reader_done(in->hash_job, fd);
		close(fd);
	}
}

bool audit_file(struct audit *a, const char *path, struct pa_error *err)
{
	a->files = pa_xrealloc(a->files, (a->file_count + 1) * sizeof *a->files);
	struct input_file_info *in = &a->files[a->file_count++];
	memset(in, 0, sizeof *in);
	in->path = pa_xstrdup(path);
	a->current = in;

	/* With --out a stream is copied into the staging folder: the copy is
	 * a file of this run's bundle, listed by the manifest's walk of it and
	 * moved into place with it, and it stands for the stream from here on. */
	struct capture_stream stream;
	bool is_stream = capture_path_is_stream(path);
	struct capture_file *cf = is_stream ? capture_stream_open(&stream, path, a->out, err)
					    : capture_file_open(path, err);
	if (!cf) {
		in->failed = true;
		in->problem = pa_xstrdup(err->msg);
		a->input_failed = true;
		return false;
	}
	if (is_stream && stream.copy_path[0]) {
		free(in->path);
		in->path = pa_xstrdup(stream.copy_path);
	}
	in->format = capture_file_format(cf);
	in->first_packet = a->packet_number + 1;
	if (a->hasher && !is_stream)
		in->hash_job = pa_hasher_add(a->hasher, path, capture_file_fd(cf));
	capture_file_on_secrets(cf, on_capture_secrets, a);

	struct capture_record rec;
	struct pa_error ferr = {{0}};
	enum capture_status st;
	while ((st = capture_file_next(cf, &rec, &ferr)) == CAPTURE_RECORD) {
		in->records++;
		audit_packet(a, &rec);
		/* Often enough for a line refreshed a few times a second even
		 * when packets trickle in through a pipe (a clock read per 16
		 * records costs nothing measurable); the callback itself
		 * decides when to draw. */
		if (a->cfg.on_progress && (in->records & 15) == 0)
			a->cfg.on_progress(a->cfg.progress_ctx, a, rec.offset);
	}
	in->last_packet = a->packet_number;
	if (st == CAPTURE_TRUNCATED || st == CAPTURE_ERROR) {
		/* Damaged: cut off inside a record, or a block that cannot be
		 * read. What came before is analysed; the audit is incomplete
		 * and exits 2 (docs/cli.md). */
		free(in->problem);
		in->problem = pa_xstrdup(ferr.msg);
		in->damaged = true;
		fprintf(stderr, "privaudit: error: %s\n", ferr.msg);
		a->input_failed = true;
	}
	if (in->records && in->unsupported == in->records) {
		in->failed = true; /* nothing in it could be analysed */
		a->input_failed = true;
	}
	if (in->hash_job)
		pa_hash_job_reader_done(in->hash_job, capture_file_fd(cf));
	if (is_stream)
		finish_stream(a, in, cf, &stream);
	capture_file_close(cf);
	a->current = NULL;
	return true;
}

/* ---- life cycle ----------------------------------------------------------- */

/* Policy model, recipient catalogue and the findings engine. Without a
 * policy the engine still counts frequency, plausibility and what could not
 * be inspected; it raises no finding. */
static bool load_policy_engine(struct audit *a, struct pa_error *err)
{
	const struct audit_config *cfg = &a->cfg;
	struct pa_diag diag = {.out = stderr};
	if (cfg->policy_file) {
		a->policy = policy_load(cfg->policy_file, &diag);
		if (!a->policy) {
			pa_error_set(err, "%s: policy has %zu error(s)", cfg->policy_file, diag.errors);
			return false;
		}
	}
	const char *catalogue = cfg->recipients_file;
	if (!catalogue) {
		snprintf(a->recipients_path, sizeof a->recipients_path, "%s/recipients.yaml",
			 cfg->signatures_dir ? cfg->signatures_dir : pa_default_signatures_dir());
		if (access(a->recipients_path, R_OK) == 0)
			catalogue = a->recipients_path;
	} else {
		snprintf(a->recipients_path, sizeof a->recipients_path, "%s", catalogue);
	}
	if (catalogue) {
		a->recipients = recipients_load(catalogue, &diag);
		if (!a->recipients) {
			pa_error_set(err, "%s: recipient catalogue has %zu error(s)", catalogue, diag.errors);
			return false;
		}
	} else {
		a->recipients_path[0] = 0;
	}

	struct detect_engine_info info;
	detect_engine_get_info(a->detect, &info);
	struct findings_config fc = {
		.consent_at_us = cfg->consent_at_us,
		.upload_threshold = cfg->upload_threshold,
		.lab_known = info.has_location,
		.lab_lat = info.lat,
		.lab_lon = info.lon,
		.lab_radius_km = info.radius_km,
		.country_overrides = cfg->country_overrides,
		.device_from_profile = a->device.from_profile,
		.on_finding = on_finding,
		.ctx = a,
	};
	a->findings = findings_new(a->policy, a->recipients, &fc, err);
	return a->findings != NULL;
}

/* Which side of each flow is the phone: the addresses and MAC of the
 * profile's device: section, as the signature engine's parser read them. */
static bool device_from_profile(struct audit *a, struct pa_error *err)
{
	struct detect_engine_info info;
	detect_engine_get_info(a->detect, &info);
	if (!info.device_ip_count && !info.device_has_mac) {
		pa_error_set(err, "%s:1: a device profile needs a 'device:' mapping with ip and/or mac",
			     a->cfg.device_file);
		return false;
	}
	struct device_addrs *d = &a->device;
	_Static_assert(DEVICE_MAX_ADDRS >= DETECT_DEVICE_MAX_IPS, "room for every profile address");
	memcpy(d->ip, info.device_ip, info.device_ip_count * sizeof *d->ip);
	d->ip_count = info.device_ip_count;
	memcpy(d->mac, info.device_mac, sizeof d->mac);
	d->has_mac = info.device_has_mac;
	d->from_profile = true;
	return true;
}

/* The app and phone facts of the device profile, as the engine's parser read them. */
static const struct device_facts *profile_facts(const struct audit *a)
{
	struct detect_engine_info info;
	detect_engine_get_info(a->detect, &info);
	return info.device_facts;
}

struct audit *audit_new(const struct audit_config *cfg, struct pa_error *err)
{
	struct audit *a = pa_xcalloc(1, sizeof *a);
	a->cfg = *cfg;
	a->consent_at_us = cfg->consent_at_us;

	if (cfg->sign_key) {
		if (!cfg->out_dir) {
			pa_error_set(err, "--sign-key signs the manifest of --out DIR: give --out");
			goto fail;
		}
		a->signer = pa_signer_load(cfg->sign_key, err);
		if (!a->signer)
			goto fail;
	}
	{
		struct pa_diag diag = {.out = stderr};
		const char *sigdir = cfg->signatures_dir ? cfg->signatures_dir : pa_default_signatures_dir();
		a->detect = detect_engine_load(sigdir, cfg->device_file, &diag);
		if (!a->detect) {
			pa_error_set(err, "signatures (%s) or device profile: %zu error(s)", sigdir, diag.errors);
			goto fail;
		}
	}
	if (cfg->device_file && !device_from_profile(a, err))
		goto fail;
	if (!load_policy_engine(a, err))
		goto fail;
	a->keylog = keylog_new();
	keylog_set_growing(a->keylog, cfg->live);
	for (size_t i = 0; i < cfg->keylog_count; i++)
		if (!keylog_load_file(a->keylog, cfg->keylog[i], cfg->quiet ? NULL : stderr, err))
			goto fail;
	if (cfg->geoip_count) {
		a->geo = geo_open(cfg->geoip, cfg->geoip_count, err);
	} else {
		/* No --geoip: the database tools/fetch-geoip installs, if it is
		 * there; otherwise every destination's jurisdiction is "unknown"
		 * and the report says so. */
		const char *db = geo_default_database(a->default_geoip, sizeof a->default_geoip);
		a->geo = geo_open(db ? &db : NULL, db ? 1 : 0, err);
		if (!db && !cfg->quiet)
			fprintf(stderr, "privaudit: no GeoIP database (--geoip FILE, or run tools/fetch-geoip): jurisdictions will be unknown\n");
	}
	if (!a->geo)
		goto fail;
	a->classifier = classifier_new(err);
	if (!a->classifier)
		goto fail;
	if (cfg->out_dir) {
		if (!bundle_out_open(&a->bundle, cfg->out_dir, cfg->replace, cfg->live ? "capture" : NULL, err))
			goto fail;
		a->out = a->bundle.staging;
		a->flows_out = jsonl_open(a->out, FLOWS_JSONL, cfg->live, err);
		if (!a->flows_out)
			goto fail;
		a->observations_out = jsonl_open(a->out, OBSERVATIONS_JSONL, cfg->live, err);
		if (!a->observations_out)
			goto fail;
	}
	struct decode_config dc = {.frag_memory_max = cfg->frag_memory_max};
	a->decoder = decoder_new(&dc);
	a->dns = dns_map_new(1u << 16);
	a->app.sink = (struct app_sink){
		.dns_response = dns_response,
		.field = handoff_field,
		.stream = handoff_stream,
		.gap = handoff_gap,
		.ctx = a,
	};
	a->app.keylog = a->keylog;
	a->app.echo_scan_limit = cfg->echo_scan_limit;
	struct scan_stage_config sc = {
		.detect = a->detect,
		/* Live audits stay on one thread: their status line reads
		 * the counters (observations, findings) the scan side
		 * writes. */
		.threaded = !cfg->live && (cfg->threads ? cfg->threads > 1 : sysconf(_SC_NPROCESSORS_ONLN) > 1),
		.hostname = hostname_so_far,
		.first_seen = on_first_seen,
		.observation = on_observation,
		.flow_end = flow_record_out,
		.consent = consent_given,
		.ctx = a,
	};
	a->scan = scan_stage_new(&sc, err);
	if (!a->scan)
		goto fail;
	a->flows = flow_table_new(&cfg->flow, flow_ended, a);
	a->summary = summary_new(cfg->max_recipients);
	if (cfg->out_dir)
		a->hasher = pa_hasher_new();
	return a;
fail:
	audit_free(a);
	return NULL;
}

/*
 * report.json "memory": peak RSS and flows, and the state one idle flow of
 * each kind holds in fixed-size parts (docs/benchmarks.md, "Memory per
 * flow"): own state, nDPI's excluded; allocator overhead, variable parts and
 * what is in flight come on top (tools/flow-memory measures the whole).
 */
static json_t *memory_json(const void *ctx)
{
	const struct audit *a = ctx;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	struct flow_app_sizes app;
	flow_app_state_sizes(&app);
	json_int_t flow = (json_int_t)sizeof(struct flow);
	json_t *idle = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
		"udp", flow + (json_int_t)app.udp,
		"dns", flow + (json_int_t)app.udp,
		"http", flow + (json_int_t)app.http,
		"tls", flow + (json_int_t)app.tls,
		"tls_decrypted", flow + (json_int_t)app.tls_decrypted,
		"raw_tcp", flow + (json_int_t)(app.tcp + scan_stage_raw_flow_size(a->detect)));
	return json_pack("{s:I, s:I, s:o, s:I}",
		"peak_rss_kib", (json_int_t)ru.ru_maxrss,
		"peak_active_flows", (json_int_t)flow_table_stats(a->flows)->peak_active,
		"idle_flow_bytes", idle,
		"ndpi_flow_struct_bytes", (json_int_t)classify_flow_state_size());
}

/* The inputs read at the start besides captures and key logs, for the
 * manifest and --bundle-inputs. */
static struct bundle_input_files other_inputs(const struct audit *a)
{
	const struct audit_config *cfg = &a->cfg;
	return (struct bundle_input_files){
		.policy = cfg->policy_file,
		.device = cfg->device_file,
		.signatures = cfg->signatures_dir ? cfg->signatures_dir : pa_default_signatures_dir(),
		.recipients = cfg->recipients_file ? a->recipients_path : NULL,
		.country_overrides = cfg->country_overrides,
		.geo = a->geo,
	};
}

bool audit_hash_inputs(struct audit *a, struct pa_error *err)
{
	struct bundle_input_files in = other_inputs(a);
	json_t *hashed = bundle_hash_other_inputs(&in, err);
	if (!hashed)
		return false;
	json_decref(a->inputs_hashed);
	a->inputs_hashed = hashed;
	return true;
}

const struct keylog *audit_keylog(const struct audit *a)
{
	return a->keylog;
}

void audit_set_out_dir(struct audit *a, const char *dir)
{
	a->cfg.out_dir = dir;
	if (a->out) {
		bundle_out_rebase(&a->bundle, dir);
		a->out = a->bundle.staging;
	}
}

/* The captures' hashes, taken while they were read, for report.json and the
 * manifest. A capture that changed meanwhile is an input problem: its hash
 * may not be of the bytes analysed (docs/findings.md, manifest.json). */
static void collect_hashes(struct audit *a)
{
	for (size_t i = 0; i < a->file_count; i++) {
		struct input_file_info *in = &a->files[i];
		if (!in->hash_job || in->failed) /* not in the manifest */
			continue;
		in->hash = pa_hash_job_wait(in->hash_job);
		if (!in->hash->changed)
			continue;
		fprintf(stderr, "privaudit: error: %s: %s; manifest.json flags its hash\n", in->path,
			in->hash->problem);
		char problem[sizeof(struct pa_error) + sizeof in->hash->problem + 2];
		snprintf(problem, sizeof problem, "%s%s%s", in->problem ? in->problem : "",
			 in->problem ? "; " : "", in->hash->problem);
		free(in->problem);
		in->problem = pa_xstrdup(problem);
		a->input_failed = true;
	}
}

/* Writes what only exists at the end: findings.jsonl, evidence, report.json,
 * report.html, the manifest (report/bundle_final.h). */
static bool write_final_outputs(struct audit *a, const struct summary_inputs *si,
				struct pa_error *err)
{
	struct provenance_inputs pi = {
		.cfg = &a->cfg,
		.profile = a->cfg.device_file ? profile_facts(a) : NULL,
		.files = a->files,
		.file_count = a->file_count,
		.totals = &a->totals,
		.loss = &a->loss,
	};
	json_t *provenance = provenance_json(&pi);
	struct bundle_final b = {
		.staging = a->out,
		.out_dir = a->cfg.out_dir,
		.command_line = a->cfg.command_line,
		.live = a->cfg.live,
		.no_evidence = a->cfg.no_evidence,
		.bundle_inputs = a->cfg.bundle_inputs,
		.findings = a->findings,
		.summary = a->summary,
		.summary_inputs = si,
		.provenance = provenance,
		.memory_json = memory_json,
		.memory_ctx = a,
		.files = a->files,
		.file_count = a->file_count,
		.ring_files = a->evidence_inputs,
		.ring_file_count = a->evidence_input_count,
		.keylog_paths = a->cfg.keylog,
		.keylog_count = a->cfg.keylog_count,
		.keylog = a->keylog,
		.inputs_hashed = a->inputs_hashed,
		.other = other_inputs(a),
		.outputs = a->out_hash,
		.output_count = sizeof a->out_hash / sizeof a->out_hash[0],
		.signer = a->signer,
	};
	bool ok = bundle_write_final(&b, err);
	json_decref(provenance);
	return ok;
}

/* Everything that makes the input less than all the traffic there was:
 * each such reason leaves every promise unverifiable (docs/findings.md,
 * "Coverage"). */
static void note_incomplete_input(struct audit *a)
{
	char why[600];
	for (size_t i = 0; i < a->file_count; i++) {
		const struct input_file_info *in = &a->files[i];
		if (!in->problem)
			continue;
		snprintf(why, sizeof why, "%s", in->problem);
		findings_input_incomplete(a->findings, why);
	}
	const struct capture_loss *l = &a->loss;
	if (l->known && (l->kernel_drops || l->interface_drops)) {
		snprintf(why, sizeof why, "the capture lost %llu packet(s) in the kernel and %llu at the interface",
			 (unsigned long long)l->kernel_drops, (unsigned long long)l->interface_drops);
		findings_input_incomplete(a->findings, why);
	}
}

/* What the whole run amounts to: the exit code (enum pa_exit) and the same
 * in words for the summary and report.json. When several apply, the first
 * in this order wins: outputs not written (3), a damaged or unreadable input
 * (2), a violation found (1; also when other bytes could not be read),
 * something not verifiable (4), else 0. */
static int run_verdict(const struct audit *a, bool write_failed, const char **words)
{
	if (write_failed) {
		*words = "internal error: the outputs could not all be written";
		return PA_EXIT_INTERNAL;
	}
	if (a->input_failed) {
		*words = "bad input: a capture is damaged or could not be read; what was readable was analysed";
		return PA_EXIT_USAGE;
	}
	if (findings_violations(a->findings)) {
		*words = "violations found";
		return PA_EXIT_FINDINGS;
	}
	if (findings_unverified(a->findings)) {
		*words = "no violation found, but not everything could be verified";
		return PA_EXIT_UNVERIFIED;
	}
	*words = "no violation found, and every promise was verified";
	return PA_EXIT_CLEAN;
}

int audit_finish(struct audit *a, FILE *out)
{
	flow_table_flush(a->flows);
	scan_stage_drain(a->scan); /* the scan side is idle from here on */
	if (a->cfg.out_dir)
		collect_hashes(a); /* a capture that changed is an input problem */
	note_incomplete_input(a);
	findings_finish(a->findings);
	if (findings_device_unseen(a->findings) && !out)
		fprintf(stderr, "privaudit: warning: %s\n", findings_device_words(a->findings));
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
	const char *words;
	int rc = run_verdict(a, false, &words);
	si.exit_code = rc;
	si.result = words;
	if (out && a->cfg.json_summary) {
		/* --json: report.json's document (without the evidence and
		 * memory parts, which exist only once the outputs are written),
		 * for jq and scripts. */
		json_t *doc = summary_report_json(a->summary, &si, a->cfg.command_line);
		json_t *policy_part = findings_report_json(a->findings);
		json_object_update(doc, policy_part);
		json_decref(policy_part);
		json_dumpf(doc, out, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', out);
		fflush(out);
		json_decref(doc);
	} else if (out) {
		if (findings_device_unseen(a->findings))
			fprintf(out, "DEVICE NOT SEEN: %s; no promise can be kept.\n",
				findings_device_words(a->findings));
		summary_print(a->summary, &si, out);
		findings_print(a->findings, out);
		fprintf(out, "Result: %s (exit %d)\n", words, rc);
	}

	bool write_failed = false;
	/* The streamed outputs are closed first; the manifest takes the
	 * hashes made as they were written. */
	struct jsonl_out **outs[] = {&a->flows_out, &a->observations_out};
	const char *names[] = {FLOWS_JSONL, OBSERVATIONS_JSONL};
	for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
		struct pa_error err;
		if (!*outs[i])
			continue;
		a->out_hash[i].name = names[i];
		if (!jsonl_close(*outs[i], &a->out_hash[i].hash, &err)) {
			fprintf(stderr, "privaudit: %s\n", err.msg);
			write_failed = true;
		}
		*outs[i] = NULL;
	}
	if (a->out) {
		struct pa_error err;
		if (!write_final_outputs(a, &si, &err))
			write_failed = true;
	}
	if (a->out && !write_failed) {
		struct pa_error err;
		char manifest[4300];
		snprintf(manifest, sizeof manifest, "%s/manifest.json", a->out);
		if (!pa_sha256_file(manifest, a->manifest_sha256, NULL, &err) ||
		    !bundle_out_commit(&a->bundle, &err)) {
			fprintf(stderr, "privaudit: %s\n", err.msg);
			write_failed = true;
		}
	}
	if (write_failed && a->out) {
		/* Never hidden: DIR keeps what it held, and this run's files
		 * stay where they were staged. */
		a->keep_staging = true;
		fprintf(stderr, "privaudit: the outputs are incomplete; %s is left as it was, this run's files are in %s\n",
			a->cfg.out_dir, a->bundle.staging);
	}
	if (a->out && !write_failed) {
		/* The hash to note in the audit file: report.html cannot carry
		 * it, the manifest hashes the report. */
		if (out)
			fprintf(out, "bundle: %s, manifest.json SHA-256 %s%s%s\n", a->cfg.out_dir,
				a->manifest_sha256, a->signer ? ", signed; time-stamp request in " : "",
				a->signer ? MANIFEST_TSQ_FILE : "");
		a->out = NULL; /* committed: no staging folder to clean up */
	}
	if (write_failed) {
		rc = run_verdict(a, true, &words);
		fprintf(stderr, "privaudit: %s\n", words);
	}
	return rc;
}

const char *audit_output_dir(const struct audit *a)
{
	return a->out;
}

void audit_add_evidence_input(struct audit *a, const char *path)
{
	a->evidence_inputs = pa_xrealloc(a->evidence_inputs,
					 (a->evidence_input_count + 1) * sizeof *a->evidence_inputs);
	a->evidence_inputs[a->evidence_input_count++] = pa_xstrdup(path);
}

void audit_free(struct audit *a)
{
	if (!a)
		return;
	if (a->flows) {
		flow_table_free(a->flows); /* ends remaining flows through flow_ended */
		a->flows = NULL;
	}
	flow_app_context_release(&a->app); /* after the last flow: QUIC connection IDs */
	scan_stage_free(a->scan); /* drains: the flows just ended are written */
	struct jsonl_out *outs[] = {a->flows_out, a->observations_out};
	for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
		struct pa_error err;
		if (outs[i])
			jsonl_close(outs[i], NULL, &err);
	}
	/* A run that stopped before its end leaves nothing behind; one whose
	 * writes failed leaves its staging folder for inspection. */
	if (a->out && !a->keep_staging) {
		struct pa_error err;
		if (!bundle_out_discard(&a->bundle, &err))
			fprintf(stderr, "privaudit: %s\n", err.msg);
	}
	pa_signer_free(a->signer);
	detect_engine_free(a->detect);
	pa_hasher_free(a->hasher);
	summary_free(a->summary);
	findings_free(a->findings);
	policy_free(a->policy);
	recipients_free(a->recipients);
	for (size_t i = 0; i < a->evidence_input_count; i++)
		free(a->evidence_inputs[i]);
	free(a->evidence_inputs);
	dns_map_free(a->dns);
	json_decref(a->inputs_hashed);
	keylog_free(a->keylog);
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
