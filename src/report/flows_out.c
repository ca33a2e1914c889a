/* flows_out.c — the flows.jsonl record of a flow. */
#include "report/flows_out.h"

#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *device_side_name(int side)
{
	return side == DEVICE_SIDE_SRC ? "src" : side == DEVICE_SIDE_DST ? "dst" : "unknown";
}

static json_t *proto_json(uint8_t proto)
{
	if (proto == IPPROTO_TCP)
		return json_string("tcp");
	if (proto == IPPROTO_UDP)
		return json_string("udp");
	return json_integer(proto);
}

static json_t *ms_or_null(double ms)
{
	return ms < 0 ? json_null() : json_real(round(ms * 1000.0) / 1000.0);
}

static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

json_t *flow_record_json(const struct flow_record *r)
{
	const struct flow *f = r->flow;
	char src[48], dst[48], t0[40], t1[40];
	/* "up" is what the device sent; with the device side unknown, the initiator's. */
	int up = f->device_side == DEVICE_SIDE_DST ? PA_DIR_FROM_DST : PA_DIR_FROM_SRC;
	int down = 1 - up;
	const struct classify_result *c = r->cls;
	const struct geo_result *g = r->geo;

	json_t *o = json_object();
	json_object_set_new(o, "flow_id", json_integer((json_int_t)f->id));
	json_object_set_new(o, "ts_start", json_string(pa_time_str(f->ts_first, t0, sizeof t0)));
	json_object_set_new(o, "ts_end", json_string(pa_time_str(f->ts_last, t1, sizeof t1)));
	json_object_set_new(o, "proto", proto_json(f->proto));
	json_object_set_new(o, "src_ip", json_string(pa_addr_str(&f->src, src, sizeof src)));
	json_object_set_new(o, "src_port", json_integer(f->sport));
	json_object_set_new(o, "dst_ip", json_string(pa_addr_str(&f->dst, dst, sizeof dst)));
	json_object_set_new(o, "dst_port", json_integer(f->dport));
	if (f->vlan)
		json_object_set_new(o, "vlan", json_integer(f->vlan));
	json_object_set_new(o, "device_side", json_string(device_side_name(f->device_side)));
	json_object_set_new(o, "packets_up", json_integer((json_int_t)f->packets[up]));
	json_object_set_new(o, "bytes_up", json_integer((json_int_t)f->ip_bytes[up]));
	json_object_set_new(o, "payload_up", json_integer((json_int_t)f->payload_bytes[up]));
	json_object_set_new(o, "packets_down", json_integer((json_int_t)f->packets[down]));
	json_object_set_new(o, "bytes_down", json_integer((json_int_t)f->ip_bytes[down]));
	json_object_set_new(o, "payload_down", json_integer((json_int_t)f->payload_bytes[down]));
	json_object_set_new(o, "first_packet", json_integer((json_int_t)f->first_packet));
	json_object_set_new(o, "end_reason", json_string(flow_end_reason_name(r->why)));
	json_object_set_new(o, "ndpi_proto", json_string(c->app_protocol));
	json_object_set_new(o, "ndpi_category", json_string(c->category));
	json_object_set_new(o, "ndpi_hostname", str_or_null(c->hostname));
	json_object_set_new(o, "sni", str_or_null(c->sni));
	json_object_set_new(o, "http_host", str_or_null(c->http_host));
	json_object_set_new(o, "dns_name", str_or_null(f->dns_name));
	json_object_set_new(o, "tls_version", str_or_null(c->tls_version));
	json_object_set_new(o, "alpn", str_or_null(c->alpn));
	json_object_set_new(o, "ja3_client", str_or_null(c->ja3_client));
	json_object_set_new(o, "ja3_server", str_or_null(c->ja3_server));
	json_t *risks = json_array();
	if (c->risks[0]) {
		char buf[sizeof c->risks];
		memcpy(buf, c->risks, sizeof buf);
		char *save = NULL;
		for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			json_array_append_new(risks, json_string(tok));
	}
	json_object_set_new(o, "ndpi_risks", risks);
	json_object_set_new(o, "hostname", str_or_null(r->hostname));
	json_object_set_new(o, "hostname_source", json_string(hostname_source_name(r->hostname_source)));
	json_object_set_new(o, "country", g ? str_or_null(g->country) : json_null());
	json_object_set_new(o, "jurisdiction", json_string(g ? g->jurisdiction : "unknown"));
	if (g && g->conflict) {
		json_t *ans = json_array();
		for (size_t i = 0; i < g->answer_count; i++)
			json_array_append_new(ans, str_or_null(g->answers[i]));
		json_object_set_new(o, "country_conflict", ans);
	}
	json_object_set_new(o, "asn", g && g->asn ? json_integer(g->asn) : json_null());
	json_object_set_new(o, "as_org", g ? str_or_null(g->as_org) : json_null());
	const struct flow_app_info *app = r->app;
	if (app) {
		json_object_set_new(o, "app", json_string(app_kind_name(app->kind)));
		int idx[2] = {up, down};
		for (int i = 0; i < 2; i++) {
			const struct app_bytes *b = &app->bytes[idx[i]];
			json_object_set_new(o, i ? "inspected_down" : "inspected_up",
				json_pack("{s:I, s:I, s:I, s:I}", "scanned", (json_int_t)b->scanned,
					  "encrypted", (json_int_t)b->encrypted, "gap", (json_int_t)b->gap,
					  "truncated", (json_int_t)b->truncated));
		}
	}
	if (app && app->tls_seen) {
		const struct tls_info *t = &app->tls;
		char version[8];
		snprintf(version, sizeof version, "%s",
			 t->version == 0x0304 ? "1.3" : t->version == 0x0303 ? "1.2" :
			 t->version == 0x0302 ? "1.1" : t->version == 0x0301 ? "1.0" : "");
		json_object_set_new(o, "tls", json_pack(
			"{s:b, s:s?, s:s?, s:s?, s:b, s:I, s:I, s:I, s:I, s:s?, s:s?}",
			"decrypted", t->decrypted, "version", version[0] ? version : NULL,
			"cipher_suite", t->cipher_name && t->cipher_name[0] ? t->cipher_name : NULL,
			"alpn", t->alpn[0] ? t->alpn : NULL, "resumed", t->resumed,
			"records_decrypted", (json_int_t)t->records_decrypted,
			"records_failed", (json_int_t)t->records_failed,
			"records_undecrypted", (json_int_t)t->records_undecrypted,
			"key_updates", (json_int_t)t->key_updates,
			"reason", t->reason, "plaintext", app->tls_app));
	}
	/* Handshake timing at the capture point: SYN → SYN/ACK is the round trip
	 * to the server, SYN/ACK → ACK the one to the client; rtt_ms their sum. */
	double server = f->proto == IPPROTO_TCP ? flow_rtt_server_ms(f) : -1;
	double client = f->proto == IPPROTO_TCP ? flow_rtt_client_ms(f) : -1;
	json_object_set_new(o, "rtt_ms", ms_or_null(server >= 0 && client >= 0 ? server + client : -1));
	json_object_set_new(o, "rtt_syn_synack_ms", ms_or_null(server));
	json_object_set_new(o, "rtt_synack_ack_ms", ms_or_null(client));
	return o;
}
