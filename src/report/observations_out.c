/* observations_out.c — the observations.jsonl record. */
#include "report/observations_out.h"

#include <stdio.h>
#include <string.h>

#include "detect/detect.h"
#include "geo/jurisdiction.h"
#include "util/format_version.h"

/* A query name holds the datum in the labels left of its zone: each of
 * them is masked like a value ("8680*******8269.***.snssdk.com"). */
static const char *mask_query_name(const char *query, const char *zone, char *out, size_t n)
{
	size_t qlen = strlen(query), zlen = zone ? strlen(zone) : 0;
	size_t keep = qlen; /* where the zone starts */
	if (zlen && zlen < qlen && !strcmp(query + qlen - zlen, zone) && query[qlen - zlen - 1] == '.')
		keep = qlen - zlen - 1;
	else if (zlen == qlen && !strcmp(query, zone))
		keep = 0;
	size_t o = 0;
	for (size_t i = 0; i < keep && o + 1 < n;) {
		size_t j = i;
		while (j < keep && query[j] != '.')
			j++;
		char label[256], masked[256];
		size_t len = j - i < sizeof label - 1 ? j - i : sizeof label - 1;
		memcpy(label, query + i, len);
		label[len] = 0;
		detect_mask_value(label, masked, sizeof masked);
		o += (size_t)snprintf(out + o, n - o, "%s%s", masked, j < keep ? "." : "");
		if (o >= n)
			o = n - 1;
		i = j + 1;
	}
	if (o + 1 < n)
		snprintf(out + o, n - o, "%s%s", keep && keep < qlen ? "." : "", query + (keep < qlen ? (keep ? keep + 1 : 0) : qlen));
	return out;
}

void observation_record_json(struct jsonw *w, const struct observation_record *r, bool show_values)
{
	const struct pa_observation *o = r->obs;
	char ts[40], masked[sizeof o->value];
	if (!show_values)
		detect_mask_value(o->value, masked, sizeof masked);
	jw_object_open(w);
	jw_kv_string(w, "format_version", PA_FORMAT_OBSERVATIONS);
	jw_kv_string(w, "type", o->type);
	jw_kv_string(w, "source", o->source);
	jw_kv_string(w, "encoding", o->encoding);
	jw_kv_string(w, "field", o->field);
	jw_kv_string(w, "protocol", o->protocol);
	jw_kv_uint(w, "flow_id", o->flow_id);
	jw_kv_uint(w, "packet", o->packet);
	jw_kv_uint(w, "count", o->count ? o->count : 1);
	jw_kv_uint(w, "first_packet", o->packet);
	jw_kv_uint(w, "last_packet", o->last_packet ? o->last_packet : o->packet);
	jw_kv_string(w, "ts", pa_time_str(o->ts_us, ts, sizeof ts));
	jw_kv_string(w, "hostname", r->hostname && r->hostname[0] ? r->hostname : NULL);
	if (r->query_name) {
		char name[320];
		jw_kv_string(w, "query_name",
			     show_values ? r->query_name : mask_query_name(r->query_name, r->hostname, name, sizeof name));
	} else {
		jw_kv_null(w, "query_name");
	}
	struct jurisdiction_parts j = jurisdiction_split(r->jurisdiction);
	jw_kv_string(w, "jurisdiction", j.jurisdiction);
	jw_kv_string(w, "jurisdiction_country", j.country[0] ? j.country : NULL);
	jw_kv_string(w, "dst_ip", r->dst_ip);
	jw_kv_uint(w, "dst_port", r->dst_port);
	jw_kv_bool(w, "echo", o->echo);
	jw_kv_string(w, "value", show_values ? o->value : masked);
	jw_object_close(w);
}
