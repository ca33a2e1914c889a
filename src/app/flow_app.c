/*
 * flow_app.c — one flow's application layer: reassembly → decoder → sink
 * (the pipeline hands what reaches the sink to the scan thread).
 *
 * The decoder is chosen from the first bytes the initiator sends, whatever
 * the port: an HTTP request line means HTTP/1, a TLS record header means TLS
 * (decrypted with the key log when it has the secrets, else counted as
 * encrypted), port 53 means DNS over TCP, anything else is scanned raw as a
 * stream.
 */
#include "app/flow_app.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "app/dns.h"
#include "app/fields.h"
#include "app/http1.h"
#include "app/http2.h"
#include "app/http3.h"
#include "quic/quic_cids.h"
#include "quic/quic_conn.h"
#include "stream/tcp_stream.h"
#include "tls/tls_session.h"

#define DNS_TCP_MAX 65537 /* one DNS message plus its length prefix */

/* DNS over TCP: the message under way in each direction. */
struct dns_tcp {
	size_t len[2];
	uint8_t *buf[2];
};

/* What flow_app_end makes struct app_bytes from: the counts only the
 * application layer knows (the reassembly keeps the others). */
struct app_counts {
	uint64_t scanned, unscanned, encrypted, truncated, unparsed, bad_checksum;
};

struct app_conflicts {
	struct app_conflict kept[APP_CONFLICTS_KEPT];
	unsigned count;
};

enum plain_kind { PLAIN_UNDECIDED, PLAIN_HTTP1, PLAIN_HTTP2, PLAIN_RAW };

/* Decoders exist for the flow's kind only (a UDP flow has counters alone). */
struct flow_app {
	uint8_t kind;              /* enum app_kind */
	uint8_t plain;             /* TLS: enum plain_kind, what the plaintext is */
	/* By direction: a TCP segment with a right checksum was seen. Until
	 * then, wrong checksums are taken for offload (capture on the sender). */
	uint8_t checksum_seen_good[2];
	struct app_counts bytes[2];
	struct app_conflicts *conflicts; /* NULL until a conflicting copy is seen */
	struct tcp_stream *stream[2];
	struct http1 *http;
	struct dns_tcp *dns;
	/* TLS: the session, and the decoder of its plaintext */
	struct tls_session *tls;
	struct http2 *http2;
	uint64_t tls_bytes[2];     /* TLS stream bytes seen, by direction */
	struct quic_flow *quic;    /* QUIC flows only */
};

/* A QUIC flow's part: its connection (shared with the flows it moved to)
 * and the flow's own byte counts. Made only for QUIC flows, so other flows
 * pay one pointer for it. */
struct quic_flow {
	struct quic_session *session;
	bool client_is_src;        /* the flow's initiator is the QUIC client */
	uint64_t bytes[2];         /* captured QUIC datagram bytes, by direction */
	uint64_t opened[2];        /* of them, bytes of packets that opened */
};

/*
 * A QUIC connection and the HTTP/3 on its streams. A client that changes
 * address or port goes on in a new flow (a new 5-tuple) with the same
 * connection: each flow holds the session, and the last one to end
 * finishes it.
 */
struct quic_session {
	struct quic_conn *conn;
	struct http3 *http3;
	uint8_t plain;             /* enum plain_kind: PLAIN_UNDECIDED, PLAIN_RAW, or HTTP/3 */
	unsigned flows;            /* flows holding it */
	uint64_t first_flow;       /* id of the flow that carried the handshake */
};

/* Context of one stream callback. */
struct delivery {
	struct app_context *ac;
	struct flow *f;
	enum pa_dir dir;
};

const char *app_kind_name(enum app_kind k)
{
	static const char *const names[] = {"none", "http", "tls", "dns", "raw", "http2", "quic"};
	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static bool from_device(const struct flow *f, enum pa_dir dir)
{
	return dir == flow_device_dir(f);
}

/* ---- what leaves for the signature engine ----------------------------------- */

/*
 * How many of len bytes about to be scanned in direction dir may be.
 * Everything the device sends is. Data towards the device is scanned only
 * for echoes (the server repeating what the device sent), which no finding
 * rests on: the first echo_scan_limit bytes of a flow show whether the
 * server echoes, and past them the scan of a download, most of the
 * engine's time on real traffic, is skipped. Those bytes are decoded all
 * the same (HPACK and TLS state must follow them) and counted unscanned.
 */
static size_t scan_allowance(const struct app_context *ac, struct flow *f, enum pa_dir dir,
			     size_t len)
{
	(void)ac;
	return from_device(f, dir) || !f->app->bytes[dir].unscanned ? len : 0;
}

/* Stream bytes handed to a decoder or scanned raw: scanned, or unscanned
 * once a direction towards the device has had its echo-scan allowance
 * (the fields of the chunk that crosses the bound are still scanned). */
static void account(const struct app_context *ac, struct flow *f, enum pa_dir dir, size_t len)
{
	uint64_t limit = ac->echo_scan_limit ? ac->echo_scan_limit : APP_ECHO_SCAN_DEFAULT;
	struct app_counts *b = &f->app->bytes[dir];
	if (from_device(f, dir) || (!b->unscanned && b->scanned < limit))
		b->scanned += len;
	else
		b->unscanned += len;
}

/* Moves n bytes already accounted as read into another counter (truncated,
 * encrypted), so that each byte is counted once. */
static void unaccount(struct app_counts *b, uint64_t n, uint64_t *into)
{
	uint64_t from_unscanned = n < b->unscanned ? n : b->unscanned;
	b->unscanned -= from_unscanned;
	n -= from_unscanned;
	uint64_t from_scanned = n < b->scanned ? n : b->scanned;
	b->scanned -= from_scanned;
	*into += from_unscanned + from_scanned;
}

/* Field sink for decoders: every field goes to the signature engine. */
static void on_field(void *ctx, const struct pa_field_ref *ref, const uint8_t *v, size_t len)
{
	struct delivery *d = ctx;
	struct app_context *ac = d->ac;
	if (ac->field_tap)
		ac->field_tap(ac->field_tap_ctx, d->f, ref, v, len);
	len = scan_allowance(ac, d->f, ref->dir, len);
	if (ac->sink.field && len)
		ac->sink.field(ac->sink.ctx, d->f, ref, from_device(d->f, ref->dir), v, len);
}

static void scan_stream(struct delivery *d, const char *protocol, const char *field,
			const uint8_t *data, size_t len, uint64_t packet, int64_t ts);

/* Raw sink for decoders: stream bytes they could not parse. */
static void on_raw(void *ctx, const struct pa_field_ref *ref, const uint8_t *v, size_t len)
{
	struct delivery *outer = ctx;
	struct delivery d = {outer->ac, outer->f, ref->dir};
	scan_stream(&d, ref->protocol, ref->field, v, len, ref->packet, ref->ts_us);
}

static struct field_emitter emitter_for(struct delivery *d, const char *protocol, enum pa_dir dir)
{
	struct field_emitter e = {.sink = on_field, .raw = on_raw, .ctx = d};
	e.ref.protocol = protocol;
	e.ref.dir = dir;
	return e;
}

/* Bytes of a stream no decoder understands (a raw TCP payload, TLS
 * plaintext that is not HTTP), scanned as one stream per direction. */
static void scan_stream(struct delivery *d, const char *protocol, const char *field,
			const uint8_t *data, size_t len, uint64_t packet, int64_t ts)
{
	struct app_context *ac = d->ac;
	len = scan_allowance(ac, d->f, d->dir, len);
	if (ac->sink.stream && len)
		ac->sink.stream(ac->sink.ctx, d->f, d->dir, protocol, field, from_device(d->f, d->dir),
				data, len, packet, ts);
}

/* ---- DNS ------------------------------------------------------------------ */

struct dns_visit {
	struct delivery *d;
	uint64_t packet;
	int64_t ts;
	enum pa_dir dir;
};

static void on_question(void *ctx, const struct dns_question *q)
{
	struct dns_visit *v = ctx;
	struct field_emitter e = emitter_for(v->d, "dns", v->dir);
	e.ref.packet = v->packet;
	e.ref.ts_us = v->ts;
	e.ref.query_name = q->name;
	fields_emit(&e, "dns.qname", (const uint8_t *)q->name_as_sent, strlen(q->name_as_sent));
}

static void dns_message(struct delivery *d, const uint8_t *msg, size_t len, uint64_t packet, int64_t ts)
{
	struct dns_visit v = {d, packet, ts, d->dir};
	struct dns_visitor visitor = {.ctx = &v, .question = on_question};
	struct dns_header_info hdr;
	if (!dns_parse(msg, len, &hdr, &visitor)) {
		/* Not DNS after all, or damaged: its bytes are scanned as they are. */
		struct field_emitter e = emitter_for(d, "dns", d->dir);
		e.ref.packet = packet;
		e.ref.ts_us = ts;
		e.ref.field = "dns.unparsed";
		on_field(d, &e.ref, msg, len);
		d->f->app->bytes[d->dir].unparsed += len;
	} else if (hdr.is_response && d->ac->sink.dns_response) {
		d->ac->sink.dns_response(d->ac->sink.ctx, msg, len, ts);
	}
}

/* DNS over TCP: 2-byte length, then the message; messages may span segments. */
static void dns_tcp_bytes(struct delivery *d, const uint8_t *data, size_t len, uint64_t packet, int64_t ts)
{
	struct flow_app *app = d->f->app;
	int dir = d->dir;
	if (!app->dns)
		app->dns = pa_xcalloc(1, sizeof *app->dns);
	struct dns_tcp *t = app->dns;
	if (!t->buf[dir])
		t->buf[dir] = pa_xmalloc(DNS_TCP_MAX);
	while (len) {
		size_t have = t->len[dir];
		bool in_message = have >= 2; /* the length prefix is complete */
		size_t need = !in_message ? 2 : 2 + (size_t)(t->buf[dir][0] << 8 | t->buf[dir][1]);
		size_t take = need - have < len ? need - have : len;
		memcpy(t->buf[dir] + have, data, take);
		t->len[dir] += take;
		data += take;
		len -= take;
		/* A zero length prefix is an empty message: nothing to parse, but
		 * it ends here all the same (it takes no bytes of its own). */
		if (in_message && t->len[dir] == need) {
			if (need > 2)
				dns_message(d, t->buf[dir] + 2, need - 2, packet, ts);
			t->len[dir] = 0;
		}
	}
	/* Between messages a kept-alive connection holds no buffer. */
	if (!t->len[dir]) {
		free(t->buf[dir]);
		t->buf[dir] = NULL;
	}
}

/* ---- TLS plaintext ----------------------------------------------------------- */

/* What the decrypted bytes are: the negotiated ALPN says, else the client's
 * first bytes (an HTTP/2 preface, a request line), else an HTTP/2 server's
 * SETTINGS frame arriving first; anything else is scanned raw. */
static void choose_plaintext(struct delivery *d, bool from_client, const uint8_t *data, size_t len)
{
	struct flow_app *app = d->f->app;
	struct tls_info info;
	tls_session_info(app->tls, &info);
	if (strcmp(info.alpn, "h2") == 0)
		app->plain = PLAIN_HTTP2;
	else if (strncmp(info.alpn, "http/1", 6) == 0)
		app->plain = PLAIN_HTTP1;
	else if (from_client && http2_looks_like_preface(data, len))
		app->plain = PLAIN_HTTP2;
	else if (from_client && http1_looks_like_request(data, len))
		app->plain = PLAIN_HTTP1;
	else if (!from_client && len >= 9 && data[3] == 4 && !(data[5] | data[6] | data[7] | data[8]))
		app->plain = PLAIN_HTTP2;
	else
		app->plain = PLAIN_RAW;
	if (app->plain == PLAIN_HTTP1 && !app->http)
		app->http = http1_new(d->ac->max_body);
	if (app->plain == PLAIN_HTTP2)
		app->http2 = http2_new();
}

/* Application data out of the TLS session, in order per direction. The
 * client is the flow's initiator: it sent the ClientHello. */
static void on_plaintext(void *ctx, bool from_client, const uint8_t *data, size_t len,
			 uint64_t packet, int64_t ts)
{
	struct delivery *outer = ctx;
	struct delivery d = {outer->ac, outer->f, from_client ? PA_DIR_FROM_SRC : PA_DIR_FROM_DST};
	struct flow_app *app = d.f->app;
	if (app->plain == PLAIN_UNDECIDED)
		choose_plaintext(&d, from_client, data, len);
	struct field_emitter e = emitter_for(&d, "tls-decrypted", d.dir);
	switch (app->plain) {
	case PLAIN_HTTP1:
		http1_feed(app->http, from_client, data, len, packet, ts, &e);
		break;
	case PLAIN_HTTP2:
		http2_feed(app->http2, from_client, data, len, packet, ts, &e);
		break;
	default:
		scan_stream(&d, "tls-decrypted", "tls.payload", data, len, packet, ts);
		break;
	}
}

static void tls_bytes(struct delivery *d, const uint8_t *data, size_t len, uint64_t packet,
		      int64_t ts)
{
	struct flow_app *app = d->f->app;
	if (!app->tls)
		app->tls = tls_session_new(d->ac->keylog);
	app->tls_bytes[d->dir] += len;
	tls_session_data(app->tls, d->dir == PA_DIR_FROM_SRC, data, len, packet, ts, on_plaintext, d);
}

/* End of a TLS flow: a last look for secrets that came late, the decoders'
 * last bodies, and the byte accounting: records that decrypted, and those
 * sent in clear (hellos, certificates), are not counted as encrypted;
 * protected records we could not open still are. */
static void tls_end(struct app_context *ac, struct flow *f, struct flow_app_info *info)
{
	struct flow_app *app = f->app;
	struct delivery dc = {ac, f, PA_DIR_FROM_SRC}, ds = {ac, f, PA_DIR_FROM_DST};
	tls_session_retry(app->tls, on_plaintext, &dc);
	struct field_emitter ec = emitter_for(&dc, "tls-decrypted", PA_DIR_FROM_SRC);
	struct field_emitter es = emitter_for(&ds, "tls-decrypted", PA_DIR_FROM_DST);
	if (app->http2) {
		http2_finish(app->http2, &ec, &es);
		http2_free(app->http2);
		app->http2 = NULL;
	}
	if (app->http)
		http1_finish(app->http, &ec, &es);
	tls_session_info(app->tls, &info->tls);
	info->tls_seen = true;
	static const char *const plain_names[] = {NULL, "http", "http2", "raw"};
	info->tls_app = plain_names[app->plain];
	for (int dir = 0; dir < 2; dir++) {
		uint64_t dec = info->tls.decrypted_bytes[dir] + info->tls.cleartext_bytes[dir];
		uint64_t seen = app->tls_bytes[dir];
		/* every TLS stream byte was accounted as read when it came */
		unaccount(&app->bytes[dir], seen > dec ? seen - dec : 0, &app->bytes[dir].encrypted);
	}
	tls_session_free(app->tls);
	app->tls = NULL;
}

/* ---- TCP ------------------------------------------------------------------ */

static bool is_dns_port(uint16_t port)
{
	return port == 53 || port == 5353 || port == 5355;
}

static bool looks_like_tls(const uint8_t *d, size_t len)
{
	return len >= 3 && d[0] == 0x16 && d[1] == 0x03 && d[2] <= 0x04;
}

static enum app_kind choose_kind(const struct flow *f, const uint8_t *data, size_t len)
{
	if (http2_looks_like_preface(data, len))
		return APP_HTTP2;
	if (http1_looks_like_request(data, len))
		return APP_HTTP1;
	if (looks_like_tls(data, len))
		return APP_TLS;
	if (is_dns_port(f->sport) || is_dns_port(f->dport))
		return APP_DNS;
	return APP_RAW;
}

static void on_stream_bytes(void *ctx, const uint8_t *data, size_t len, uint64_t offset,
			    uint64_t packet, int64_t ts)
{
	struct delivery *d = ctx;
	struct flow_app *app = d->f->app;
	if (!data) { /* a hole that will never be filled (counted from the stream's stats) */
		struct field_emitter e = emitter_for(d, "http", d->dir);
		if (app->kind == APP_HTTP1)
			http1_gap(app->http, d->dir == PA_DIR_FROM_SRC, len, &e);
		else if (app->kind == APP_TLS && app->tls)
			tls_session_gap(app->tls, d->dir == PA_DIR_FROM_SRC, len);
		else if (app->kind == APP_HTTP2 && app->http2)
			http2_gap(app->http2, d->dir == PA_DIR_FROM_SRC, len);
		else if (d->ac->sink.gap)
			d->ac->sink.gap(d->ac->sink.ctx, d->f, d->dir);
		if (app->dns)
			app->dns->len[d->dir] = 0;
		return;
	}
	if (app->kind == APP_UNDECIDED) {
		/* The initiator speaks first in the protocols we decode; a
		 * responder speaking first (banners) makes the stream raw. */
		app->kind = d->dir == PA_DIR_FROM_SRC ? choose_kind(d->f, data, len) : APP_RAW;
		if (app->kind == APP_HTTP1)
			app->http = http1_new(d->ac->max_body);
		else if (app->kind == APP_HTTP2)
			app->http2 = http2_new();
	}
	account(d->ac, d->f, d->dir, len);
	switch (app->kind) {
	case APP_HTTP1: {
		struct field_emitter e = emitter_for(d, "http", d->dir);
		http1_feed(app->http, d->dir == PA_DIR_FROM_SRC, data, len, packet, ts, &e);
		break;
	}
	case APP_HTTP2: {
		struct field_emitter e = emitter_for(d, "http2", d->dir);
		http2_feed(app->http2, d->dir == PA_DIR_FROM_SRC, data, len, packet, ts, &e);
		break;
	}
	case APP_TLS:
		tls_bytes(d, data, len, packet, ts);
		break;
	case APP_DNS:
		dns_tcp_bytes(d, data, len, packet, ts);
		break;
	default:
		scan_stream(d, "raw-tcp", "tcp.payload", data, len, packet, ts);
		break;
	}
}

/* Keeps the first packets that carried another version of stream bytes,
 * for the evasion finding. */
static void note_conflict(struct flow_app *app, uint64_t packet, uint64_t first_packet,
			  enum pa_dir dir, bool bad_checksum)
{
	if (!app->conflicts)
		app->conflicts = pa_xcalloc(1, sizeof *app->conflicts);
	struct app_conflicts *k = app->conflicts;
	if (k->count < APP_CONFLICTS_KEPT && (!k->count || k->kept[k->count - 1].packet != packet))
		k->kept[k->count++] =
			(struct app_conflict){packet, first_packet, (uint8_t)dir, bad_checksum};
}

/* Another version of bytes already delivered (tcp_stream.h): scanned on its
 * own, with the delivered bytes around it, citing the packet that carried
 * it; outside the byte sum (its stream positions are counted once). */
static void on_stream_conflict(void *ctx, const struct tcp_conflict *c)
{
	struct delivery *d = ctx;
	struct flow_app *app = d->f->app;
	note_conflict(app, c->packet, c->first_packet, d->dir, false);
	struct pa_field_ref ref = {.protocol = "raw-tcp", .field = "tcp.conflict", .dir = d->dir,
				   .packet = c->packet, .ts_us = c->ts_us};
	if (d->ac->field_tap)
		d->ac->field_tap(d->ac->field_tap_ctx, d->f, &ref, c->data, c->len);
	if (d->ac->sink.field)
		d->ac->sink.field(d->ac->sink.ctx, d->f, &ref, from_device(d->f, d->dir), c->data,
				  c->len);
}

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)(p[0] << 8);
	return sum;
}

/* 1: the TCP checksum is right; 0: wrong; -1: cannot tell (snapped,
 * fragments reassembled, IPv6 extension headers). */
static int tcp_checksum_ok(const struct pa_packet *pkt)
{
	const uint8_t *ip = pkt->l3;
	if (!ip || pkt->reassembled || pkt->payload_wire_len != pkt->payload_len)
		return -1;
	size_t hlen;
	uint32_t sum;
	if (pkt->ip_version == 4 && pkt->l3_len >= 20) {
		hlen = (size_t)(ip[0] & 0x0f) * 4;
		sum = sum16(0, ip + 12, 8);
	} else if (pkt->ip_version == 6 && pkt->l3_len >= 40 && ip[6] == IPPROTO_TCP) {
		hlen = 40;
		sum = sum16(0, ip + 8, 32);
	} else {
		return -1;
	}
	if (pkt->ip_len < hlen || pkt->ip_len > pkt->l3_len)
		return -1;
	size_t tcp_len = pkt->ip_len - hlen;
	if (tcp_len < 20 || pkt->payload + pkt->payload_len != ip + hlen + tcp_len)
		return -1;
	sum += IPPROTO_TCP + (uint32_t)tcp_len;
	sum = sum16(sum, ip + hlen, tcp_len);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/*
 * A segment with a wrong checksum is one the receiver drops, unless the
 * capture was taken on the sending host, where checksum offload leaves
 * every outbound checksum unfilled. So wrong checksums count as offload
 * while the direction has sent no data segment with a right one (as
 * tshark's heuristic); a decoy sent before any data is then caught as a
 * conflicting copy instead;
 * after that, such a segment is kept out of the stream, scanned as a
 * version of its own and counted.
 */
static bool dropped_by_receiver(struct delivery *d, const struct pa_packet *pkt)
{
	struct flow_app *app = d->f->app;
	int ok = tcp_checksum_ok(pkt);
	/* Data segments only: a host may offload the checksum of the segments
	 * it sends data in (TSO) and fill in its handshake and bare ACKs. */
	if (ok == 1 && pkt->payload_len)
		app->checksum_seen_good[d->dir] = 1;
	if (ok != 0 || !app->checksum_seen_good[d->dir])
		return false;
	if (pkt->payload_len) {
		app->bytes[d->dir].bad_checksum += pkt->payload_len;
		note_conflict(app, pkt->number, 0, d->dir, true);
		struct pa_field_ref ref = {.protocol = "raw-tcp", .field = "tcp.bad_checksum",
					   .dir = d->dir, .packet = pkt->number, .ts_us = pkt->ts_us};
		if (d->ac->sink.field)
			d->ac->sink.field(d->ac->sink.ctx, d->f, &ref, from_device(d->f, d->dir),
					  pkt->payload, pkt->payload_len);
	}
	return true;
}

/* The flow's application-layer state, made on its first TCP or UDP packet. */
static struct flow_app *app_of(struct flow *f)
{
	if (!f->app)
		f->app = pa_xcalloc(1, sizeof *f->app);
	return f->app;
}

void flow_app_tcp_segment(struct app_context *ac, struct flow *f, enum pa_dir dir,
			  const struct pa_packet *pkt)
{
	struct flow_app *app = app_of(f);
	struct delivery delivery = {ac, f, dir};
	struct delivery *d = &delivery;
	if (dropped_by_receiver(d, pkt))
		return;
	/* What the other side acknowledged it holds: repeats of it are moot. */
	if ((pkt->tcp_flags & PA_TCP_ACK) && app->stream[1 - dir])
		tcp_stream_ack(app->stream[1 - dir], pkt->tcp_ack);
	if (!app->stream[dir]) {
		if (!pkt->payload_len && !(pkt->tcp_flags & PA_TCP_SYN))
			return;
		app->stream[dir] = tcp_stream_new(0);
		tcp_stream_set_conflict_fn(app->stream[dir], on_stream_conflict);
	}
	if (pkt->tcp_flags & PA_TCP_SYN) {
		tcp_stream_syn(app->stream[dir], pkt->tcp_seq);
		return;
	}
	if (pkt->payload_len)
		tcp_stream_segment_snapped(app->stream[dir], pkt->tcp_seq, pkt->payload,
					   pkt->payload_len, pkt->payload_wire_len, pkt->number,
					   pkt->ts_us, on_stream_bytes, d);
}

/* ---- QUIC ----------------------------------------------------------------- */

/* A DNS over HTTPS/3 answer: to the DNS map, like a UDP answer. */
static void on_doh_answer(void *ctx, const uint8_t *msg, size_t len, int64_t ts)
{
	struct app_context *ac = ctx;
	if (ac->sink.dns_response)
		ac->sink.dns_response(ac->sink.ctx, msg, len, ts);
}

/* The direction of a flow the QUIC client or server sent in. */
static enum pa_dir quic_dir(const struct flow_app *app, bool from_client)
{
	return from_client == app->quic->client_is_src ? PA_DIR_FROM_SRC : PA_DIR_FROM_DST;
}

/* In-order bytes of a decrypted QUIC stream: HTTP/3 when the connection
 * negotiated it (ALPN "h3", or no ALPN read), else scanned raw. */
static void on_quic_stream(void *ctx, bool from_client, uint64_t id, const uint8_t *data,
			   size_t len, bool fin, uint64_t packet, int64_t ts)
{
	struct delivery *outer = ctx;
	struct flow_app *app = outer->f->app;
	struct delivery d = {outer->ac, outer->f, quic_dir(app, from_client)};
	struct quic_session *qs = app->quic->session;
	if (qs->plain == PLAIN_UNDECIDED) {
		struct quic_info info;
		quic_conn_info(qs->conn, &info);
		bool h3 = !info.alpn[0] || strncmp(info.alpn, "h3", 2) == 0;
		qs->plain = h3 ? PLAIN_HTTP2 : PLAIN_RAW; /* PLAIN_HTTP2 stands for HTTP/3 here */
	}
	struct field_emitter e = emitter_for(&d, "quic-decrypted", d.dir);
	e.ref.packet = packet;
	e.ref.ts_us = ts;
	if (qs->plain == PLAIN_HTTP2) {
		if (!qs->http3)
			qs->http3 = http3_new(d.ac->max_body, on_doh_answer, d.ac);
		http3_stream(qs->http3, from_client, id, data, len, fin, packet, ts, &e);
	} else if (data && len) {
		scan_stream(&d, "quic-decrypted", "quic.stream", data, len, packet, ts);
	}
}

/* The QUIC part of a flow whose first datagram begins a connection (a
 * client Initial) or continues one that moved here (a short header packet
 * to a connection ID an earlier flow's connection announced); NULL when
 * the flow is no QUIC. */
static struct quic_flow *quic_attach(struct app_context *ac, struct flow *f, enum pa_dir dir,
				     const struct pa_packet *pkt)
{
	struct quic_session *qs = NULL;
	bool client_is_src;
	if (dir == PA_DIR_FROM_SRC && quic_looks_like_initial(pkt->payload, pkt->payload_len)) {
		qs = pa_xcalloc(1, sizeof *qs);
		qs->conn = quic_conn_new(ac->keylog);
		qs->first_flow = f->id;
		if (!ac->quic_cids)
			ac->quic_cids = quic_cids_new();
		quic_conn_register(qs->conn, ac->quic_cids, qs);
		client_is_src = true;
	} else {
		int to_side;
		qs = quic_cids_find_short(ac->quic_cids, pkt->payload, pkt->payload_len, &to_side);
		if (!qs)
			return NULL;
		/* the packet's receiver is to_side: its sender is the other */
		bool from_client = to_side == 1;
		client_is_src = from_client == (dir == PA_DIR_FROM_SRC);
	}
	qs->flows++;
	struct quic_flow *qf = pa_xcalloc(1, sizeof *qf);
	qf->session = qs;
	qf->client_is_src = client_is_src;
	return qf;
}

static void quic_datagram(struct delivery *d, const struct pa_packet *pkt)
{
	struct quic_flow *qf = d->f->app->quic;
	struct quic_sink sink = {on_quic_stream, d};
	bool from_client = (d->dir == PA_DIR_FROM_SRC) == qf->client_is_src;
	qf->bytes[d->dir] += pkt->payload_len;
	qf->opened[d->dir] += quic_conn_datagram(qf->session->conn, from_client, pkt->payload,
						 pkt->payload_len, pkt->number, pkt->ts_us, &sink);
}

/* End of a QUIC flow: the byte accounting (datagram bytes of packets that
 * did not open are encrypted, stream bytes past the reassembly bounds
 * truncated, holes gaps) and, from the last flow of the connection, its
 * streams flushed and HTTP/3's last bodies. */
static void quic_end(struct app_context *ac, struct flow *f, struct flow_app_info *info)
{
	struct flow_app *app = f->app;
	struct quic_flow *qf = app->quic;
	struct quic_session *qs = qf->session;
	struct delivery dc = {ac, f, quic_dir(app, true)}, ds = {ac, f, quic_dir(app, false)};
	bool last = --qs->flows == 0;
	if (last) {
		struct quic_sink sink = {on_quic_stream, &dc};
		quic_conn_finish(qs->conn, &sink);
		if (qs->http3) {
			struct field_emitter ec = emitter_for(&dc, "quic-decrypted", dc.dir);
			struct field_emitter es = emitter_for(&ds, "quic-decrypted", ds.dir);
			http3_finish(qs->http3, &ec, &es);
		}
	}
	quic_conn_info(qs->conn, &info->quic);
	info->quic_seen = true;
	info->quic_app = qs->plain == PLAIN_HTTP2 ? "http3" : qs->plain == PLAIN_RAW ? "raw" : NULL;
	info->quic_first_flow = qs->first_flow;
	for (int dir = 0; dir < 2; dir++) {
		struct app_counts *b = &app->bytes[dir];
		uint64_t seen = qf->bytes[dir], opened = qf->opened[dir];
		unaccount(b, seen > opened ? seen - opened : 0, &b->encrypted);
		/* Stream counts are the connection's: the flow that ends it takes them. */
		int side = (dir == PA_DIR_FROM_SRC) == qf->client_is_src ? 0 : 1;
		if (last) {
			unaccount(b, info->quic.stream_truncated[side], &b->truncated);
			info->quic_stream_gap[dir] = info->quic.stream_gap[side];
		}
	}
	if (last) {
		http3_free(qs->http3);
		quic_conn_free(qs->conn);
		free(qs);
	}
	free(qf);
	app->quic = NULL;
}

/* ---- UDP ------------------------------------------------------------------ */

void flow_app_udp_datagram(struct app_context *ac, struct flow *f, enum pa_dir dir,
			   const struct pa_packet *pkt)
{
	struct flow_app *app = app_of(f);
	struct delivery delivery = {ac, f, dir};
	struct delivery *d = &delivery;
	if (pkt->payload_wire_len > pkt->payload_len)
		app->bytes[d->dir].truncated += pkt->payload_wire_len - pkt->payload_len;
	if (!pkt->payload_len)
		return;
	account(d->ac, d->f, d->dir, pkt->payload_len);
	if (is_dns_port(pkt->sport) || is_dns_port(pkt->dport)) {
		app->kind = APP_DNS;
		dns_message(d, pkt->payload, pkt->payload_len, pkt->number, pkt->ts_us);
		return;
	}
	/* QUIC is told by its first datagram: the initiator's Initial, or a
	 * packet of a known connection that moved to this address. */
	if (app->kind == APP_UNDECIDED && (app->quic = quic_attach(ac, f, dir, pkt)))
		app->kind = APP_QUIC;
	if (app->kind == APP_QUIC) {
		quic_datagram(d, pkt);
		return;
	}
	if (app->kind == APP_UNDECIDED)
		app->kind = APP_RAW;
	struct field_emitter e = emitter_for(d, "raw-udp", d->dir);
	e.ref.packet = pkt->number;
	e.ref.ts_us = pkt->ts_us;
	struct pa_field_ref ref = e.ref;
	ref.field = "udp.payload";
	on_field(d, &ref, pkt->payload, pkt->payload_len);
}

void flow_app_context_release(struct app_context *ac)
{
	quic_cids_free(ac->quic_cids);
	ac->quic_cids = NULL;
}

void flow_app_state_sizes(struct flow_app_sizes *out)
{
	size_t tcp = sizeof(struct flow_app) + 2 * tcp_stream_state_size();
	*out = (struct flow_app_sizes){
		.udp = sizeof(struct flow_app),
		.tcp = tcp,
		.http = tcp + http1_state_size(),
		.tls = tcp + tls_session_state_size(false),
		.tls_decrypted = tcp + tls_session_state_size(true) + http1_state_size(),
	};
}

const char *flow_app_http_host(const struct flow *f)
{
	if (!f->app || !f->app->http)
		return NULL;
	const char *h = http1_host(f->app->http);
	return h[0] ? h : NULL;
}

void flow_app_end(struct app_context *ac, struct flow *f, struct flow_app_info *info)
{
	memset(info, 0, sizeof *info);
	struct flow_app *app = f->app;
	if (!app)
		return;
	for (int dir = 0; dir < 2; dir++) {
		struct delivery d = {ac, f, (enum pa_dir)dir};
		if (app->stream[dir])
			tcp_stream_flush(app->stream[dir], on_stream_bytes, &d);
	}
	if (app->tls) {
		tls_end(ac, f, info);
	} else if (app->quic) {
		quic_end(ac, f, info);
	} else if (app->http2) { /* h2c */
		struct delivery dc = {ac, f, PA_DIR_FROM_SRC}, ds = {ac, f, PA_DIR_FROM_DST};
		struct field_emitter ec = emitter_for(&dc, "http2", PA_DIR_FROM_SRC);
		struct field_emitter es = emitter_for(&ds, "http2", PA_DIR_FROM_DST);
		http2_finish(app->http2, &ec, &es);
		http2_free(app->http2);
		app->http2 = NULL;
	} else if (app->http) {
		struct delivery dc = {ac, f, PA_DIR_FROM_SRC}, ds = {ac, f, PA_DIR_FROM_DST};
		struct field_emitter ec = emitter_for(&dc, "http", PA_DIR_FROM_SRC);
		struct field_emitter es = emitter_for(&ds, "http", PA_DIR_FROM_DST);
		http1_finish(app->http, &ec, &es);
	}
	if (app->http) {
		const struct http1_stats *hs = http1_stats(app->http);
		for (int dir = 0; dir < 2; dir++) {
			int side = dir == PA_DIR_FROM_SRC ? 0 : 1;
			app->bytes[dir].unparsed += hs->unparsed[side];
			unaccount(&app->bytes[dir], hs->body_bytes_truncated[side],
				  &app->bytes[dir].truncated);
		}
	}
	for (int dir = 0; dir < 2; dir++) {
		const struct app_counts *c = &app->bytes[dir];
		struct app_bytes *b = &info->bytes[dir];
		b->scanned = c->scanned;
		b->unscanned = c->unscanned;
		b->encrypted = c->encrypted;
		b->truncated = c->truncated;
		b->unparsed = c->unparsed < c->scanned ? c->unparsed : c->scanned;
		b->bad_checksum = c->bad_checksum;
		if (app->stream[dir]) {
			const struct tcp_stream_stats *st = tcp_stream_stats(app->stream[dir]);
			b->gap = st->gap;
			b->truncated += st->snapped;
			b->retransmitted = st->retransmitted;
			b->conflict = st->overlap_differs;
			b->conflict_packets = st->conflict_packets;
			/* each sequence position once, whatever became of it */
			b->payload = st->delivered + st->gap + st->snapped;
		} else if (f->proto != IPPROTO_TCP) {
			b->payload = f->payload_bytes[dir];
			if (info->quic_seen) {
				/* QUIC stream bytes never captured belong to the
				 * direction's payload as TCP's holes do. */
				b->gap = info->quic_stream_gap[dir];
				b->payload += b->gap;
			}
		} /* TCP without a stream: every segment was dropped (bad checksum) */
		tcp_stream_free(app->stream[dir]);
		if (app->dns)
			free(app->dns->buf[dir]);
	}
	free(app->dns);
	info->kind = app->kind;
	if (app->conflicts) {
		memcpy(info->conflicts, app->conflicts->kept, sizeof info->conflicts);
		info->conflict_count = app->conflicts->count;
		free(app->conflicts);
	}
	if (app->http)
		snprintf(info->http_host, sizeof info->http_host, "%s", http1_host(app->http));
	http1_free(app->http);
	free(app);
	f->app = NULL;
}
