/* flows_out.c — the flows.jsonl record of a flow. */
#include "report/flows_out.h"
#include "flow/community_id.h"
#include "geo/jurisdiction.h"
#include "util/format_version.h"
#include "tls/tls_keys.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *device_side_name(int side)
{
	return side == DEVICE_SIDE_SRC ? "src" : side == DEVICE_SIDE_DST ? "dst" : "unknown";
}

/* The transport by name, one of a closed set (the schema's enum); the
 * number is in ip_proto for every flow, so "other" loses nothing. */
static const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		return "other";
	}
}

/* Milliseconds to the microsecond; null when not measured (< 0). */
static void ms_or_null(struct jsonw *w, const char *key, double ms)
{
	if (ms < 0)
		jw_kv_null(w, key);
	else
		jw_kv_fixed(w, key, ms, 3);
}

/* Absent facts ("" or NULL) are null. */
static void str_or_null(struct jsonw *w, const char *key, const char *s)
{
	jw_kv_string(w, key, s && s[0] ? s : NULL);
}

static void risks_json(struct jsonw *w, const char *risks)
{
	jw_key(w, "ndpi_risks");
	jw_array_open(w);
	for (const char *s = risks; *s;) {
		size_t n = strcspn(s, ",");
		if (n) /* as strtok did: no empty names */
			jw_string_len(w, s, n);
		s += n + (s[n] == ',');
	}
	jw_array_close(w);
}

static void geo_json(struct jsonw *w, const struct geo_result *g)
{
	str_or_null(w, "country", g ? g->country : NULL);
	struct jurisdiction_parts j = jurisdiction_split(g ? g->jurisdiction : NULL);
	jw_kv_string(w, "jurisdiction", j.jurisdiction);
	str_or_null(w, "jurisdiction_country", j.country);
	if (g && g->conflict) {
		jw_key(w, "country_conflict");
		jw_array_open(w);
		for (size_t i = 0; i < g->answer_count; i++)
			jw_string(w, g->answers[i][0] ? g->answers[i] : NULL);
		jw_array_close(w);
	} else {
		jw_kv_null(w, "country_conflict");
	}
	if (g && g->asn)
		jw_kv_uint(w, "asn", g->asn);
	else
		jw_kv_null(w, "asn");
	str_or_null(w, "as_org", g ? g->as_org : NULL);
}

static void inspected_json(struct jsonw *w, const char *key, const struct app_bytes *b)
{
	jw_key(w, key);
	jw_object_open(w);
	jw_kv_uint(w, "payload", b->payload);
	jw_kv_uint(w, "scanned", b->scanned);
	jw_kv_uint(w, "encrypted", b->encrypted);
	jw_kv_uint(w, "gap", b->gap);
	jw_kv_uint(w, "truncated", b->truncated);
	jw_kv_uint(w, "unscanned", b->unscanned);
	jw_kv_uint(w, "unparsed", b->unparsed);
	jw_kv_uint(w, "conflict", b->conflict);
	jw_kv_uint(w, "conflict_packets", b->conflict_packets);
	jw_kv_uint(w, "bad_checksum", b->bad_checksum);
	jw_kv_uint(w, "retransmitted", b->retransmitted);
	jw_object_close(w);
}

static void tls_json(struct jsonw *w, const struct flow_app_info *app)
{
	const struct tls_info *t = &app->tls;
	const char *version = t->version == 0x0304 ? "1.3" : t->version == 0x0303 ? "1.2" :
			      t->version == 0x0302 ? "1.1" : t->version == 0x0301 ? "1.0" : NULL;
	jw_key(w, "tls");
	jw_object_open(w);
	jw_kv_bool(w, "decrypted", t->decrypted);
	jw_kv_string(w, "version", version);
	str_or_null(w, "cipher_suite", t->cipher_name);
	str_or_null(w, "alpn", t->alpn);
	jw_kv_bool(w, "resumed", t->resumed);
	jw_kv_uint(w, "records_decrypted", t->records_decrypted);
	jw_kv_uint(w, "records_failed", t->records_failed);
	jw_kv_uint(w, "records_undecrypted", t->records_undecrypted);
	jw_kv_uint(w, "key_updates", t->key_updates);
	jw_kv_string(w, "reason", t->reason);
	jw_kv_string(w, "plaintext", app->tls_app);
	jw_object_close(w);
}

/* docs/quic.md: what the QUIC decryptor made of the flow. */
static void quic_json(struct jsonw *w, const struct flow *f, const struct flow_app_info *app)
{
	const struct quic_info *q = &app->quic;
	char version[16], suite[16];
	snprintf(version, sizeof version, "0x%08x", q->version);
	jw_key(w, "quic");
	jw_object_open(w);
	jw_kv_bool(w, "decrypted", q->decrypted);
	jw_kv_string(w, "version", q->version ? version : NULL);
	jw_kv_string(w, "cipher_suite",
		     q->cipher_suite ? tls_suite_name(q->cipher_suite, suite, sizeof suite) : NULL);
	str_or_null(w, "alpn", q->alpn);
	jw_kv_uint(w, "packets_decrypted", q->packets_opened);
	jw_kv_uint(w, "packets_failed", q->packets_failed);
	jw_kv_uint(w, "packets_undecrypted", q->packets_unopened);
	jw_kv_uint(w, "packets_malformed", q->packets_malformed);
	jw_kv_uint(w, "key_updates", q->key_updates);
	/* [from the client, from the server]: STREAM bytes delivered in order,
	 * what tests/lab/quic-check.py compares with tshark's decryption. */
	jw_key(w, "stream_bytes");
	jw_array_open(w);
	jw_uint(w, q->stream_bytes[0]);
	jw_uint(w, q->stream_bytes[1]);
	jw_array_close(w);
	jw_kv_string(w, "reason", q->reason);
	jw_kv_string(w, "plaintext", app->quic_app);
	/* A connection that moved here from another address began in that flow. */
	jw_key(w, "migrated_from_flow");
	if (app->quic_first_flow && app->quic_first_flow != f->id)
		jw_uint(w, app->quic_first_flow);
	else
		jw_null(w);
	jw_object_close(w);
}

void flow_record_json(struct jsonw *w, const struct flow_record *r)
{
	const struct flow *f = r->flow;
	char addr[48], ts[40];
	/* "up" is what the device sent; with the device side unknown, the initiator's. */
	int up = f->device_side == DEVICE_SIDE_DST ? PA_DIR_FROM_DST : PA_DIR_FROM_SRC;
	int down = 1 - up;
	const struct classify_result *c = r->cls;

	jw_object_open(w);
	jw_kv_string(w, "format_version", PA_FORMAT_FLOWS);
	jw_kv_uint(w, "flow_id", f->id);
	jw_kv_string(w, "ts_start", pa_time_str(f->ts_first, ts, sizeof ts));
	jw_kv_string(w, "ts_end", pa_time_str(f->ts_last, ts, sizeof ts));
	jw_kv_string(w, "proto", proto_name(f->proto));
	jw_kv_uint(w, "ip_proto", f->proto);
	jw_kv_string(w, "src_ip", pa_addr_str(&f->src, addr, sizeof addr));
	jw_kv_uint(w, "src_port", f->sport);
	jw_kv_string(w, "dst_ip", pa_addr_str(&f->dst, addr, sizeof addr));
	jw_kv_uint(w, "dst_port", f->dport);
	char cid[COMMUNITY_ID_LEN];
	if (community_id_v1(&f->src, f->sport, &f->dst, f->dport, f->proto, 0, cid))
		jw_kv_string(w, "community_id", cid);
	else
		jw_kv_null(w, "community_id");
	if (f->vlan)
		jw_kv_uint(w, "vlan", f->vlan);
	else
		jw_kv_null(w, "vlan");
	jw_kv_string(w, "device_side", device_side_name(f->device_side));
	jw_kv_uint(w, "packets_up", f->packets[up]);
	jw_kv_uint(w, "bytes_up", f->ip_bytes[up]);
	jw_kv_uint(w, "payload_up", f->payload_bytes[up]);
	jw_kv_uint(w, "packets_down", f->packets[down]);
	jw_kv_uint(w, "bytes_down", f->ip_bytes[down]);
	jw_kv_uint(w, "payload_down", f->payload_bytes[down]);
	jw_kv_uint(w, "first_packet", f->first_packet);
	jw_kv_string(w, "end_reason", flow_end_reason_name(r->why));
	jw_kv_string(w, "ndpi_proto", c->app_protocol);
	jw_kv_string(w, "ndpi_category", c->category);
	str_or_null(w, "ndpi_hostname", c->hostname);
	str_or_null(w, "sni", c->sni);
	str_or_null(w, "http_host", c->http_host);
	str_or_null(w, "dns_name", f->dns_name);
	str_or_null(w, "tls_version", c->tls_version);
	str_or_null(w, "alpn", c->alpn);
	str_or_null(w, "ja3_client", c->ja3_client);
	str_or_null(w, "ja3_server", c->ja3_server);
	risks_json(w, c->risks);
	str_or_null(w, "hostname", r->hostname);
	jw_kv_string(w, "hostname_source", hostname_source_name(r->hostname_source));
	geo_json(w, r->geo);
	const struct flow_app_info *app = r->app;
	if (app) {
		jw_kv_string(w, "app", app_kind_name(app->kind));
		inspected_json(w, "inspected_up", &app->bytes[up]);
		inspected_json(w, "inspected_down", &app->bytes[down]);
	} else { /* no stream stage ran for it: nothing was inspected */
		jw_kv_null(w, "app");
		jw_kv_null(w, "inspected_up");
		jw_kv_null(w, "inspected_down");
	}
	if (app && app->tls_seen)
		tls_json(w, app);
	else
		jw_kv_null(w, "tls");
	if (app && app->quic_seen)
		quic_json(w, f, app);
	else
		jw_kv_null(w, "quic");
	/* Handshake timing at the capture point: SYN → SYN/ACK is the round trip
	 * to the server, SYN/ACK → ACK the one to the client; rtt_ms their sum. */
	double server = f->proto == IPPROTO_TCP ? flow_rtt_server_ms(f) : -1;
	double client = f->proto == IPPROTO_TCP ? flow_rtt_client_ms(f) : -1;
	ms_or_null(w, "rtt_ms", server >= 0 && client >= 0 ? server + client : -1);
	ms_or_null(w, "rtt_syn_synack_ms", server);
	ms_or_null(w, "rtt_synack_ack_ms", client);
	jw_object_close(w);
}
