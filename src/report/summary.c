/* summary.c — per-audit aggregates: the stdout summary and report.json. */
#include "report/summary.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "util/hasher.h"

#define TOP_RECIPIENTS 15

struct summary {
	json_t *jurisdictions; /* name → {flows, bytes_up, bytes_down} */
	json_t *recipients;    /* hostname or address → {flows, bytes_up, bytes_down, jurisdiction, protocols{}} */
	uint64_t flows_tcp, flows_udp, flows_other;
	/* TLS: flows seen, decrypted, opaque by reason (name → count), records */
	uint64_t tls_flows, tls_decrypted, tls_records_decrypted, tls_records_failed,
		tls_records_undecrypted;
	json_t *tls_opaque;
};

struct summary *summary_new(void)
{
	struct summary *s = pa_xcalloc(1, sizeof *s);
	s->jurisdictions = json_object();
	s->recipients = json_object();
	s->tls_opaque = json_object();
	return s;
}

void summary_free(struct summary *s)
{
	if (!s)
		return;
	json_decref(s->jurisdictions);
	json_decref(s->recipients);
	json_decref(s->tls_opaque);
	free(s);
}

static void add_int(json_t *o, const char *key, uint64_t v)
{
	json_t *cur = json_object_get(o, key);
	json_int_t base = cur ? json_integer_value(cur) : 0;
	json_object_set_new(o, key, json_integer(base + (json_int_t)v));
}

static json_t *entry(json_t *map, const char *key)
{
	json_t *e = json_object_get(map, key);
	if (!e) {
		e = json_object();
		json_object_set_new(map, key, e);
	}
	return e;
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
			add_int(s->tls_opaque, t->reason ? t->reason : "unknown", 1);
	}

	const char *jur = r->geo ? r->geo->jurisdiction : "unknown";
	json_t *j = entry(s->jurisdictions, jur);
	add_int(j, "flows", 1);
	add_int(j, "bytes_up", f->ip_bytes[up]);
	add_int(j, "bytes_down", f->ip_bytes[1 - up]);

	char addr[48];
	const struct pa_addr *remote = f->device_side == DEVICE_SIDE_DST ? &f->src : &f->dst;
	const char *who = r->hostname && r->hostname[0] ? r->hostname
							: pa_addr_str(remote, addr, sizeof addr);
	json_t *e = entry(s->recipients, who);
	add_int(e, "flows", 1);
	add_int(e, "bytes_up", f->ip_bytes[up]);
	add_int(e, "bytes_down", f->ip_bytes[1 - up]);
	if (!json_object_get(e, "jurisdiction"))
		json_object_set_new(e, "jurisdiction", json_string(jur));
	add_int(entry(e, "protocols"), r->cls->app_protocol[0] ? r->cls->app_protocol : "Unknown", 1);
}

static uint64_t get_u64(const json_t *o, const char *key)
{
	return (uint64_t)json_integer_value(json_object_get(o, key));
}

static int by_upload_desc(const void *a, const void *b)
{
	const json_t *x = json_object_get(*(json_t *const *)a, "v");
	const json_t *y = json_object_get(*(json_t *const *)b, "v");
	uint64_t ux = get_u64(x, "bytes_up"), uy = get_u64(y, "bytes_up");
	if (ux != uy)
		return ux < uy ? 1 : -1;
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "k")),
		      json_string_value(json_object_get(*(json_t *const *)b, "k")));
}

/* Map entries as [{k, v}], largest upload first, ties by name. */
static json_t **sorted_entries(const json_t *map, size_t *n)
{
	*n = json_object_size(map);
	json_t **v = pa_xcalloc(*n, sizeof *v);
	size_t i = 0;
	const char *k;
	json_t *val;
	json_object_foreach((json_t *)map, k, val) {
		v[i] = json_pack("{s:s, s:O}", "k", k, "v", val);
		i++;
	}
	qsort(v, *n, sizeof *v, by_upload_desc);
	return v;
}

static void free_entries(json_t **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(v[i]);
	free(v);
}

static const char *human_bytes(uint64_t b, char *buf, size_t len)
{
	if (b < 10000)
		snprintf(buf, len, "%llu B", (unsigned long long)b);
	else if (b < 10000000)
		snprintf(buf, len, "%.1f KB", (double)b / 1e3);
	else if (b < 10000000000ULL)
		snprintf(buf, len, "%.1f MB", (double)b / 1e6);
	else
		snprintf(buf, len, "%.2f GB", (double)b / 1e9);
	return buf;
}

void summary_print(const struct summary *s, const struct summary_inputs *in, FILE *out)
{
	const struct audit_totals *t = in->totals;
	const struct decode_stats *d = in->decode;
	char b1[32], b2[32], t0[40], t1[40];

	fprintf(out, "privaudit %s: %zu input file(s), %llu packets, %s", PA_VERSION, in->file_count,
		(unsigned long long)t->packets, human_bytes(t->bytes, b1, sizeof b1));
	if (t->packets)
		fprintf(out, ", %s .. %s", pa_time_str(t->ts_first, t0, sizeof t0),
			pa_time_str(t->ts_last, t1, sizeof t1));
	fputc('\n', out);
	for (size_t i = 0; i < in->file_count; i++) {
		const struct input_file_info *f = &in->files[i];
		fprintf(out, "  %s: %s, %llu records%s%s\n", f->path, f->format ? f->format : "unreadable",
			(unsigned long long)f->records, f->problem ? "; " : "", f->problem ? f->problem : "");
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
		const char *k;
		json_t *n;
		const char *sep = " (";
		json_object_foreach(s->tls_opaque, k, n) {
			fprintf(out, "%s%s %lld", sep, k, (long long)json_integer_value(n));
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
			in->loss->evidence_error);

	size_t n;
	json_t **v = sorted_entries(s->jurisdictions, &n);
	fprintf(out, "Upload by jurisdiction:\n");
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object_get(v[i], "v");
		fprintf(out, "  %-12s %6llu flows  up %10s  down %10s\n",
			json_string_value(json_object_get(v[i], "k")), (unsigned long long)get_u64(e, "flows"),
			human_bytes(get_u64(e, "bytes_up"), b1, sizeof b1),
			human_bytes(get_u64(e, "bytes_down"), b2, sizeof b2));
	}
	free_entries(v, n);

	v = sorted_entries(s->recipients, &n);
	fprintf(out, "Top recipients by upload (%zu in all):\n", n);
	for (size_t i = 0; i < n && i < TOP_RECIPIENTS; i++) {
		json_t *e = json_object_get(v[i], "v");
		fprintf(out, "  %-40s %-12s %5llu flows  up %10s  down %10s\n",
			json_string_value(json_object_get(v[i], "k")),
			json_string_value(json_object_get(e, "jurisdiction")),
			(unsigned long long)get_u64(e, "flows"),
			human_bytes(get_u64(e, "bytes_up"), b1, sizeof b1),
			human_bytes(get_u64(e, "bytes_down"), b2, sizeof b2));
	}
	free_entries(v, n);

	for (size_t i = 0; i < geo_db_count(in->geo); i++) {
		const struct geo_db_info *g = geo_db(in->geo, i);
		time_t built = (time_t)g->build_epoch;
		char date[32];
		strftime(date, sizeof date, "%Y-%m-%d", gmtime(&built));
		fprintf(out, "GeoIP: %s (%s, %s schema, built %s)\n", g->path, g->database_type,
			geo_schema_name(g->schema), date);
	}
	if (!geo_db_count(in->geo))
		fprintf(out, "GeoIP: no database given (--geoip FILE): public destinations are \"unknown\"\n");
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
		json_t *e = json_pack("{s:s, s:s?, s:I, s:I, s:I, s:s?, s:b}",
			"path", f->path, "format", f->format, "records", (json_int_t)f->records,
			"first_packet", (json_int_t)f->first_packet, "last_packet", (json_int_t)f->last_packet,
			"problem", f->problem, "failed", f->failed);
		/* The hash manifest.json records too: report.html shows it
		 * without reading the capture again. */
		if (f->hash && f->hash->ok) {
			json_object_set_new(e, "sha256", json_string(f->hash->sha256));
			json_object_set_new(e, "size", json_integer((json_int_t)f->hash->size));
			if (f->hash->changed)
				json_object_set_new(e, "changed_during_audit", json_true());
		}
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
	json_object_set(o, "jurisdictions", s->jurisdictions);
	json_object_set(o, "recipients", s->recipients);
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
	json_object_set_new(o, "tls", json_pack("{s:I, s:I, s:O, s:I, s:I, s:I}",
		"flows", (json_int_t)s->tls_flows, "decrypted", (json_int_t)s->tls_decrypted,
		"opaque", s->tls_opaque, "records_decrypted", (json_int_t)s->tls_records_decrypted,
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
	}
	return o;
}

json_t *summary_report_json(const struct summary *s, const struct summary_inputs *in,
			    const struct audit_config *cfg)
{
	json_t *o = json_object();
	json_object_set_new(o, "tool", json_pack("{s:s, s:s, s:s?}", "name", "privaudit",
		"version", PA_VERSION, "command_line", cfg->command_line));
	json_object_set_new(o, "summary", summary_json(s, in));
	return o;
}

bool report_json_write(const char *dir, const json_t *report, struct pa_error *err)
{
	char path[4096], tmp[4096];
	snprintf(path, sizeof path, "%s/report.json", dir);
	snprintf(tmp, sizeof tmp, "%s/.report.json.tmp", dir);
	bool ok = json_dump_file(report, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 && rename(tmp, path) == 0;
	if (!ok) {
		pa_error_set(err, "%s: cannot write: %s", path, strerror(errno));
		unlink(tmp);
	}
	return ok;
}
