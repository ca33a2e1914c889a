/* observations_out.c — the observations.jsonl record. */
#include "report/observations_out.h"

#include <stdio.h>
#include <string.h>

#include "detect/detect.h"

void observation_record_json(struct jsonw *w, const struct observation_record *r, bool show_values)
{
	const struct pa_observation *o = r->obs;
	char ts[40], masked[sizeof o->value];
	if (!show_values)
		detect_mask_value(o->value, masked, sizeof masked);
	jw_object_open(w);
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
	jw_kv_string(w, "jurisdiction", r->jurisdiction);
	jw_kv_string(w, "dst_ip", r->dst_ip);
	jw_kv_uint(w, "dst_port", r->dst_port);
	jw_kv_bool(w, "echo", o->echo);
	jw_kv_string(w, "value", show_values ? o->value : masked);
	jw_object_close(w);
}
