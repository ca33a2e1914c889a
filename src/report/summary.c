/* summary.c — per-audit aggregates: the stdout summary and report.json. */
#include "report/summary.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "geo/jurisdiction.h"
#include "policy/recipients.h"
#include "util/atomic_file.h"
#include "util/format_version.h"
#include "util/hasher.h"
#include "util/keymap.h"

#define TOP_RECIPIENTS 15

/* One line of an aggregate: a jurisdiction, a recipient or an opaque-TLS
 * reason. Kept in plain arrays behind a keymap: one update per ended flow
 * was a tenth of the scan thread as jansson objects, and freeing 40,000
 * recipients' objects held up the end of an audit. */
struct tally {
	const char *name; /* the keymap's copy */
	uint64_t flows, bytes_up, bytes_down;
	char jurisdiction[24]; /* recipients: where the first flow went */
	struct proto_count {
		const char *name; /* interned in summary.protocol_names */
		uint64_t flows;
	} *protocols;
	size_t protocol_count;
};

struct tallies {
	struct keymap index;
	struct tally *items;
	size_t count, cap;
};

struct summary {
	struct tallies jurisdictions, recipients, tls_opaque;
	/* At most max_recipients recipients are tallied by name, the first ones
	 * seen; the flows of any further recipient are summed in `others`, so a
	 * flood of distinct remote addresses cannot grow the summary (and the
	 * report.json and report.html built from it) without bound. */
	size_t max_recipients;
	struct tally others; /* no name, no jurisdiction: its flows went to many */
	struct keymap protocol_names; /* nDPI protocol names, interned */
	uint64_t flows_tcp, flows_udp, flows_other;
	/* TLS: flows seen, decrypted, records */
	uint64_t tls_flows, tls_decrypted, tls_records_decrypted, tls_records_failed,
		tls_records_undecrypted;
};

static struct tally *tally_of(struct tallies *t, const char *name)
{
	size_t i = keymap_get(&t->index, name);
	if (i != SIZE_MAX)
		return &t->items[i];
	if (t->count == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->items = pa_xrealloc(t->items, t->cap * sizeof *t->items);
	}
	struct tally *e = &t->items[t->count];
	memset(e, 0, sizeof *e);
	e->name = keymap_put(&t->index, name, t->count);
	t->count++;
	return e;
}

static void tallies_free(struct tallies *t)
{
	for (size_t i = 0; i < t->count; i++)
		free(t->items[i].protocols);
	free(t->items);
	keymap_free(&t->index);
}

static void count_protocol(struct summary *s, struct tally *e, const char *proto)
{
	for (size_t i = 0; i < e->protocol_count; i++)
		if (!strcmp(e->protocols[i].name, proto)) {
			e->protocols[i].flows++;
			return;
		}
	const char *name = keymap_put(&s->protocol_names, proto, 0); /* the interned copy */
	e->protocols = pa_xrealloc(e->protocols, (e->protocol_count + 1) * sizeof *e->protocols);
	e->protocols[e->protocol_count++] = (struct proto_count){name, 1};
}

struct summary *summary_new(size_t max_recipients)
{
	struct summary *s = pa_xcalloc(1, sizeof(struct summary));
	s->max_recipients = max_recipients ? max_recipients : SUMMARY_DEFAULT_MAX_RECIPIENTS;
	return s;
}

void summary_free(struct summary *s)
{
	if (!s)
		return;
	tallies_free(&s->jurisdictions);
	tallies_free(&s->recipients);
	tallies_free(&s->tls_opaque);
	free(s->others.protocols);
	keymap_free(&s->protocol_names);
	free(s);
}

static void add_bytes(struct tally *e, uint64_t up, uint64_t down)
{
	e->flows++;
	e->bytes_up += up;
	e->bytes_down += down;
}

void summary_add_flow(struct summary *s, const struct flow_record *r)
{
	const struct flow *f = r->flow;
	int up = f->device_side == DEVICE_SIDE_DST ? PA_DIR_FROM_DST : PA_DIR_FROM_SRC;
	if (f->proto == IPPROTO_TCP)
		s->flows_tcp++;
	else if (f->proto == IPPROTO_UDP)
		s->flows_udp++;
	else
		s->flows_other++;

	if (r->app && r->app->tls_seen) {
		const struct tls_info *t = &r->app->tls;
		s->tls_flows++;
		s->tls_decrypted += t->decrypted;
		s->tls_records_decrypted += t->records_decrypted;
		s->tls_records_failed += t->records_failed;
		s->tls_records_undecrypted += t->records_undecrypted;
		if (!t->decrypted)
			tally_of(&s->tls_opaque, t->reason ? t->reason : "unknown")->flows++;
	}

	const char *jur = r->geo ? r->geo->jurisdiction : "unknown";
	add_bytes(tally_of(&s->jurisdictions, jur), f->ip_bytes[up], f->ip_bytes[1 - up]);

	char addr[48], bare[256];
	const struct pa_addr *remote = f->device_side == DEVICE_SIDE_DST ? &f->src : &f->dst;
	/* "a.com:8080" and "a.com" are one recipient; the port stays in the
	 * flow record's http_host. */
	const char *who = r->hostname && r->hostname[0] ?
				  recipients_host_without_port(r->hostname, bare, sizeof bare) :
				  pa_addr_str(remote, addr, sizeof addr);
	struct tally *e;
	if (s->recipients.count < s->max_recipients) {
		e = tally_of(&s->recipients, who);
	} else {
		size_t known = keymap_get(&s->recipients.index, who);
		e = known != SIZE_MAX ? &s->recipients.items[known] : &s->others;
	}
	if (!e->flows && e != &s->others)
		snprintf(e->jurisdiction, sizeof e->jurisdiction, "%s", jur);
	add_bytes(e, f->ip_bytes[up], f->ip_bytes[1 - up]);
	count_protocol(s, e, r->cls->app_protocol[0] ? r->cls->app_protocol : "Unknown");
}

static int by_upload_desc(const void *a, const void *b)
{
	const struct tally *x = *(const struct tally *const *)a;
	const struct tally *y = *(const struct tally *const *)b;
	if (x->bytes_up != y->bytes_up)
		return x->bytes_up < y->bytes_up ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* The tallies, largest upload first, ties by name. */
static const struct tally **sorted(const struct tallies *t)
{
	const struct tally **v = pa_xcalloc(t->count, sizeof *v);
	for (size_t i = 0; i < t->count; i++)
		v[i] = &t->items[i];
	qsort(v, t->count, sizeof *v, by_upload_desc);
	return v;
}

void summary_print(const struct summary *s, const struct summary_inputs *in, FILE *out)
{
	const struct audit_totals *t = in->totals;
	const struct decode_stats *d = in->decode;
	char b1[32], b2[32], t0[40], t1[40];

	fprintf(out, "privaudit %s: %zu input file(s), %llu packets, %s", PA_VERSION, in->file_count,
		(unsigned long long)t->packets, pa_bytes_str(t->bytes, b1, sizeof b1));
	if (t->packets)
		fprintf(out, ", %s .. %s", pa_time_str(t->ts_first, t0, sizeof t0),
			pa_time_str(t->ts_last, t1, sizeof t1));
	fputc('\n', out);
	char safe[600], safe2[600];
	for (size_t i = 0; i < in->file_count; i++) {
		const struct input_file_info *f = &in->files[i];
		fprintf(out, "  %s: %s, %llu records%s%s\n", pa_term_safe(f->path, safe, sizeof safe),
			f->format ? f->format : "unreadable", (unsigned long long)f->records,
			f->problem ? "; " : "", pa_term_safe(f->problem, safe2, sizeof safe2));
	}
	fprintf(out, "Packets: %llu IP (IPv4 %llu, IPv6 %llu; TCP %llu, UDP %llu, other %llu), %llu not IP, %llu fragments -> %llu datagrams\n",
		(unsigned long long)(d->ipv4 + d->ipv6), (unsigned long long)d->ipv4,
		(unsigned long long)d->ipv6, (unsigned long long)d->tcp, (unsigned long long)d->udp,
		(unsigned long long)d->other_l4, (unsigned long long)d->not_ip,
		(unsigned long long)d->fragments, (unsigned long long)d->reassembled);
	uint64_t bad = 0;
	for (int p = 1; p < DP_MAX; p++)
		bad += d->problems[p];
	fprintf(out, "Decode problems: %llu", (unsigned long long)bad);
	for (int p = 1; p < DP_MAX; p++)
		if (d->problems[p])
			fprintf(out, "%s %s %llu", p == 1 ? ":" : ",", decode_problem_name((enum decode_problem)p),
				(unsigned long long)d->problems[p]);
	if (d->snapped)
		fprintf(out, " (and %llu packets cut short by the snap length)", (unsigned long long)d->snapped);
	fputc('\n', out);
	const struct flow_stats *fs = in->flows;
	fprintf(out, "Flows: %llu (TCP %llu, UDP %llu, other %llu); ended idle %llu, closed %llu, evicted %llu, reused %llu, at end of input %llu\n",
		(unsigned long long)fs->created, (unsigned long long)s->flows_tcp,
		(unsigned long long)s->flows_udp, (unsigned long long)s->flows_other,
		(unsigned long long)fs->ended[FLOW_END_IDLE], (unsigned long long)fs->ended[FLOW_END_CLOSED],
		(unsigned long long)fs->ended[FLOW_END_EVICTED], (unsigned long long)fs->ended[FLOW_END_REUSED],
		(unsigned long long)fs->ended[FLOW_END_END_OF_INPUT]);
	if (!in->device_from_profile)
		fprintf(out, "Device side: guessed (private-address endpoint); give --device for certainty\n");
	fprintf(out, "Observations: %llu\n", (unsigned long long)in->observations);
	if (s->tls_flows) {
		fprintf(out, "TLS: %llu flows, %llu decrypted, %llu opaque",
			(unsigned long long)s->tls_flows, (unsigned long long)s->tls_decrypted,
			(unsigned long long)(s->tls_flows - s->tls_decrypted));
		const char *sep = " (";
		for (size_t i = 0; i < s->tls_opaque.count; i++) {
			fprintf(out, "%s%s %llu", sep, pa_term_safe(s->tls_opaque.items[i].name, safe, sizeof safe),
				(unsigned long long)s->tls_opaque.items[i].flows);
			sep = ", ";
		}
		fprintf(out, "%s; records %llu decrypted, %llu failed\n", sep[0] == ',' ? ")" : "",
			(unsigned long long)s->tls_records_decrypted,
			(unsigned long long)s->tls_records_failed);
	}
	if (in->loss && in->loss->known && (in->loss->kernel_drops || in->loss->interface_drops))
		fprintf(out, "INCOMPLETE: the capture lost %llu packets in the kernel and %llu at the interface\n",
			(unsigned long long)in->loss->kernel_drops, (unsigned long long)in->loss->interface_drops);
	if (in->loss && in->loss->evidence_lost)
		fprintf(out, "Evidence capture lost %llu packets: %s\n", (unsigned long long)in->loss->evidence_lost,
			pa_term_safe(in->loss->evidence_error, safe, sizeof safe));

	const struct tally **v = sorted(&s->jurisdictions);
	fprintf(out, "Upload by jurisdiction:\n");
	for (size_t i = 0; i < s->jurisdictions.count; i++)
		fprintf(out, "  %-12s %6llu flows  up %10s  down %10s\n", pa_term_safe(v[i]->name, safe, sizeof safe),
			(unsigned long long)v[i]->flows, pa_bytes_str(v[i]->bytes_up, b1, sizeof b1),
			pa_bytes_str(v[i]->bytes_down, b2, sizeof b2));
	free(v);

	v = sorted(&s->recipients);
	if (s->others.flows)
		fprintf(out, "Top recipients by upload (%zu tallied, the rest past --max-recipients in 'others'):\n",
			s->recipients.count);
	else
		fprintf(out, "Top recipients by upload (%zu in all):\n", s->recipients.count);
	/* Hostnames come from traffic (an HTTP Host, an SNI): escaped, so a
	 * name cannot send ESC/OSC sequences or a U+202E to the terminal. */
	for (size_t i = 0; i < s->recipients.count && i < TOP_RECIPIENTS; i++)
		fprintf(out, "  %-40s %-12s %5llu flows  up %10s  down %10s\n",
			pa_term_safe(v[i]->name, safe, sizeof safe),
			pa_term_safe(v[i]->jurisdiction, safe2, sizeof safe2), (unsigned long long)v[i]->flows,
			pa_bytes_str(v[i]->bytes_up, b1, sizeof b1),
			pa_bytes_str(v[i]->bytes_down, b2, sizeof b2));
	free(v);
	if (s->others.flows)
		fprintf(out, "  %-40s %-12s %5llu flows  up %10s  down %10s\n", "(others)", "",
			(unsigned long long)s->others.flows, pa_bytes_str(s->others.bytes_up, b1, sizeof b1),
			pa_bytes_str(s->others.bytes_down, b2, sizeof b2));

	for (size_t i = 0; i < geo_db_count(in->geo); i++) {
		const struct geo_db_info *g = geo_db(in->geo, i);
		time_t built = (time_t)g->build_epoch;
		char date[32];
		strftime(date, sizeof date, "%Y-%m-%d", gmtime(&built));
		fprintf(out, "GeoIP: %s (%s, %s schema, built %s)\n", pa_term_safe(g->path, safe, sizeof safe),
			pa_term_safe(g->database_type, safe2, sizeof safe2),
			geo_schema_name(g->schema), date);
	}
	if (!geo_db_count(in->geo))
		fprintf(out, "GeoIP: no database given (--geoip FILE): public destinations are \"unknown\"\n");
}

static json_t *tally_json(const struct tally *e)
{
	return json_pack("{s:I, s:I, s:I}", "flows", (json_int_t)e->flows, "bytes_up",
			 (json_int_t)e->bytes_up, "bytes_down", (json_int_t)e->bytes_down);
}

/* [{jurisdiction, jurisdiction_country, flows, bytes_up, bytes_down}]: an
 * array, as a map keyed by the word would pack two facts into its key. */
static json_t *jurisdictions_json(const struct tallies *t)
{
	json_t *a = json_array();
	for (size_t i = 0; i < t->count; i++) {
		json_t *v = tally_json(&t->items[i]);
		jurisdiction_json_set(v, t->items[i].name);
		json_array_append_new(a, v);
	}
	return a;
}

/* {host: {flows, bytes_up, bytes_down, jurisdiction, jurisdiction_country,
 * protocols {name: flows}}}. */
static json_t *recipients_json(const struct tallies *t)
{
	json_t *o = json_object();
	for (size_t i = 0; i < t->count; i++) {
		const struct tally *e = &t->items[i];
		json_t *v = tally_json(e);
		json_t *p = json_object();
		for (size_t k = 0; k < e->protocol_count; k++)
			json_object_set_new(p, e->protocols[k].name,
					    json_integer((json_int_t)e->protocols[k].flows));
		jurisdiction_json_set(v, e->jurisdiction);
		json_object_set_new(v, "protocols", p);
		json_object_set_new(o, e->name, v);
	}
	return o;
}

json_t *summary_json(const struct summary *s, const struct summary_inputs *in)
{
	const struct audit_totals *t = in->totals;
	const struct decode_stats *d = in->decode;
	char t0[40], t1[40];
	json_t *o = json_object();

	json_t *files = json_array();
	for (size_t i = 0; i < in->file_count; i++) {
		const struct input_file_info *f = &in->files[i];
		json_t *e = json_pack("{s:s, s:s?, s:I, s:I, s:I, s:s?, s:b, s:b}",
			"path", f->path, "format", f->format, "records", (json_int_t)f->records,
			"first_packet", (json_int_t)f->first_packet, "last_packet", (json_int_t)f->last_packet,
			"problem", f->problem, "failed", f->failed, "damaged", f->damaged);
		/* The hash manifest.json records too: report.html shows it
		 * without reading the capture again. */
		bool hashed = f->hash && f->hash->ok; /* with --out only */
		json_object_set_new(e, "sha256", hashed ? json_string(f->hash->sha256) : json_null());
		json_object_set_new(e, "size", hashed ? json_integer((json_int_t)f->hash->size) : json_null());
		json_object_set_new(e, "changed_during_audit", json_boolean(hashed && f->hash->changed));
		json_array_append_new(files, e);
	}
	json_object_set_new(o, "inputs", files);
	json_object_set_new(o, "packets", json_pack("{s:I, s:I, s:s?, s:s?, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"read", (json_int_t)t->packets, "bytes", (json_int_t)t->bytes,
		"first", t->packets ? pa_time_str(t->ts_first, t0, sizeof t0) : NULL,
		"last", t->packets ? pa_time_str(t->ts_last, t1, sizeof t1) : NULL,
		"ipv4", (json_int_t)d->ipv4, "ipv6", (json_int_t)d->ipv6, "tcp", (json_int_t)d->tcp,
		"udp", (json_int_t)d->udp, "other_l4", (json_int_t)d->other_l4,
		"not_ip", (json_int_t)d->not_ip, "fragments", (json_int_t)d->fragments,
		"reassembled", (json_int_t)d->reassembled, "snapped", (json_int_t)d->snapped));
	json_t *problems = json_object();
	for (int p = 1; p < DP_MAX; p++)
		json_object_set_new(problems, decode_problem_name((enum decode_problem)p),
				    json_integer((json_int_t)d->problems[p]));
	json_object_set_new(o, "decode_problems", problems);
	const struct flow_stats *fs = in->flows;
	json_t *ended = json_object();
	for (int r = 0; r < 5; r++)
		json_object_set_new(ended, flow_end_reason_name((enum flow_end_reason)r),
				    json_integer((json_int_t)fs->ended[r]));
	json_object_set_new(o, "flows", json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}",
		"total", (json_int_t)fs->created, "tcp", (json_int_t)s->flows_tcp,
		"udp", (json_int_t)s->flows_udp, "other", (json_int_t)s->flows_other,
		"peak_active", (json_int_t)fs->peak_active, "ended", ended));
	json_object_set_new(o, "jurisdictions", jurisdictions_json(&s->jurisdictions));
	json_object_set_new(o, "recipients", recipients_json(&s->recipients));
	/* Outside "recipients": a name from traffic could be any string, so no
	 * key inside it can be reserved for the rest. */
	json_t *others = tally_json(&s->others);
	json_t *others_protocols = json_object();
	for (size_t k = 0; k < s->others.protocol_count; k++)
		json_object_set_new(others_protocols, s->others.protocols[k].name,
				    json_integer((json_int_t)s->others.protocols[k].flows));
	json_object_set_new(others, "protocols", others_protocols);
	json_object_set_new(others, "max_recipients", json_integer((json_int_t)s->max_recipients));
	json_object_set_new(o, "recipients_others", others);
	json_t *dbs = json_array();
	for (size_t i = 0; i < geo_db_count(in->geo); i++) {
		const struct geo_db_info *g = geo_db(in->geo, i);
		json_array_append_new(dbs, json_pack("{s:s, s:s, s:I, s:s, s:i}", "path", g->path,
			"database_type", g->database_type, "build_epoch", (json_int_t)g->build_epoch,
			"schema", geo_schema_name(g->schema), "ip_version", (int)g->ip_version));
	}
	json_object_set_new(o, "geoip", dbs);
	json_object_set_new(o, "device_side", json_string(in->device_from_profile ? "profile" : "guessed"));
	json_object_set_new(o, "observations", json_integer((json_int_t)in->observations));
	json_t *opaque = json_object();
	for (size_t i = 0; i < s->tls_opaque.count; i++)
		json_object_set_new(opaque, s->tls_opaque.items[i].name,
				    json_integer((json_int_t)s->tls_opaque.items[i].flows));
	json_object_set_new(o, "tls", json_pack("{s:I, s:I, s:o, s:I, s:I, s:I}",
		"flows", (json_int_t)s->tls_flows, "decrypted", (json_int_t)s->tls_decrypted,
		"opaque", opaque, "records_decrypted", (json_int_t)s->tls_records_decrypted,
		"records_failed", (json_int_t)s->tls_records_failed,
		"records_undecrypted", (json_int_t)s->tls_records_undecrypted));
	char ct[40];
	json_object_set_new(o, "consent_at", in->consent_at_us ? json_string(pa_time_str(in->consent_at_us, ct, sizeof ct)) : json_null());
	const struct capture_loss *l = in->loss;
	if (l && l->known) {
		/* Kernel drops make the audit incomplete: say so, never hide it. */
		json_object_set_new(o, "capture", json_pack("{s:I, s:I, s:I, s:I, s:s?, s:b}",
			"received", (json_int_t)l->received, "kernel_drops", (json_int_t)l->kernel_drops,
			"interface_drops", (json_int_t)l->interface_drops,
			"evidence_packets_lost", (json_int_t)l->evidence_lost,
			"evidence_error", l->evidence_error[0] ? l->evidence_error : NULL,
			"complete", !(l->kernel_drops || l->interface_drops || l->evidence_lost)));
	} else { /* reading files: no capture counters */
		json_object_set_new(o, "capture", json_null());
	}
	return o;
}

json_t *summary_report_json(const struct summary *s, const struct summary_inputs *in,
			    const char *command_line)
{
	json_t *o = json_object();
	json_object_set_new(o, "format_version", json_string(PA_FORMAT_REPORT));
	json_object_set_new(o, "tool", json_pack("{s:s, s:s, s:s?}", "name", "privaudit",
		"version", PA_VERSION, "command_line", command_line));
	json_object_set_new(o, "summary", summary_json(s, in));
	json_object_set_new(o, "result", json_pack("{s:i, s:s?}", "exit_code", in->exit_code,
						   "words", in->result));
	return o;
}

bool report_json_write(const char *dir, const json_t *report, struct pa_error *err)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/report.json", dir);
	struct pa_atomic_file af;
	return pa_atomic_open(&af, path, 0, err) &&
	       pa_atomic_commit(&af, json_dumpf(report, af.f, JSON_INDENT(2) | JSON_SORT_KEYS) == 0, err);
}
