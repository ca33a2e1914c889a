/* observations_out.c — the observations.jsonl record. */
#include "report/observations_out.h"

#include <stdio.h>
#include <string.h>

#include "detect/detect.h"

json_t *observation_record_json(const struct observation_record *r, bool show_values)
{
	const struct pa_observation *o = r->obs;
	char ts[40], masked[sizeof o->value];
	if (!show_values)
		detect_mask_value(o->value, masked, sizeof masked);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s?, s:s, s:s, s:i, s:b, s:s}",
			 "type", o->type, "source", o->source, "encoding", o->encoding,
			 "field", o->field, "protocol", o->protocol, "flow_id", (json_int_t)o->flow_id,
			 "packet", (json_int_t)o->packet, "ts", pa_time_str(o->ts_us, ts, sizeof ts),
			 "hostname", r->hostname && r->hostname[0] ? r->hostname : NULL,
			 "jurisdiction", r->jurisdiction, "dst_ip", r->dst_ip, "dst_port", (int)r->dst_port,
			 "echo", o->echo, "value", show_values ? o->value : masked);
}
