/* test-tls-driver.h — feeds a loopback TLS capture through the project's
 * reader, decoder and TCP reassembly into tls_session, the way the pipeline
 * will: every TCP connection gets a session; decrypted bytes are collected
 * per direction, and handed to HTTP/1 or HTTP/2 by the negotiated ALPN. */
#ifndef TEST_TLS_DRIVER_H
#define TEST_TLS_DRIVER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/fields.h"
#include "app/http1.h"
#include "app/http2.h"
#include "capture/capture.h"
#include "decode/decode.h"
#include "stream/tcp_stream.h"
#include "tls/keylog.h"
#include "tls/tls_session.h"

#define DRV_MAX_CONN 8
#define DRV_TEXT_MAX 65536
#define DRV_FIELDS_MAX 256

struct drv_field {
	char name[FIELD_NAME_MAX];
	char value[256];
	uint64_t packet;
	const char *protocol;
};

struct drv_conn {
	uint16_t client_port;
	struct tcp_stream *stream[2];
	struct tls_session *tls;
	struct http1 *http1;
	struct http2 *http2;
	uint8_t text[2][DRV_TEXT_MAX]; /* decrypted bytes per direction */
	size_t text_len[2];
	struct drv_run *run;
	bool from_client_now;
};

struct drv_run {
	struct keylog *kl;
	struct drv_conn conn[DRV_MAX_CONN];
	size_t nconn;
	uint16_t server_port;
	struct drv_field fields[DRV_FIELDS_MAX];
	size_t nfields;
	size_t dsb_blocks;
};

static void drv_sink(void *ctx, const struct pa_field_ref *ref, const uint8_t *v, size_t len)
{
	struct drv_run *r = ctx;
	if (r->nfields == DRV_FIELDS_MAX)
		return;
	struct drv_field *f = &r->fields[r->nfields++];
	snprintf(f->name, sizeof(f->name), "%s", ref->field);
	size_t n = len < sizeof(f->value) - 1 ? len : sizeof(f->value) - 1;
	memcpy(f->value, v, n);
	f->value[n] = '\0';
	f->packet = ref->packet;
	f->protocol = ref->protocol;
}

static void drv_plaintext(void *ctx, bool from_client, const uint8_t *data, size_t len,
			  uint64_t packet, int64_t ts_us)
{
	struct drv_conn *c = ctx;
	int d = from_client ? 0 : 1;
	size_t room = DRV_TEXT_MAX - c->text_len[d];
	memcpy(c->text[d] + c->text_len[d], data, len < room ? len : room);
	c->text_len[d] += len < room ? len : room;

	struct tls_info info;
	tls_session_info(c->tls, &info);
	struct field_emitter e = {
		.sink = drv_sink,
		.ctx = c->run,
		.ref = {.protocol = "tls-decrypted", .dir = from_client ? PA_DIR_FROM_SRC : PA_DIR_FROM_DST},
	};
	if (strcmp(info.alpn, "h2") == 0) {
		if (!c->http2)
			c->http2 = http2_new();
		http2_feed(c->http2, from_client, data, len, packet, ts_us, &e);
	} else {
		if (!c->http1)
			c->http1 = http1_new(0);
		http1_feed(c->http1, from_client, data, len, packet, ts_us, &e);
	}
}

static void drv_stream(void *ctx, const uint8_t *data, size_t len, uint64_t offset,
		       uint64_t packet, int64_t ts_us)
{
	struct drv_conn *c = ctx;
	if (!data)
		tls_session_gap(c->tls, c->from_client_now, len);
	else
		tls_session_data(c->tls, c->from_client_now, data, len, packet, ts_us, drv_plaintext,
				 c);
}

static void drv_secrets(void *ctx, uint32_t type, const uint8_t *data, size_t len)
{
	struct drv_run *r = ctx;
	if (type == 0x544c534b) {
		keylog_add_text(r->kl, "dsb", (const char *)data, len, stderr);
		r->dsb_blocks++;
	}
}

/* One decoded TCP packet of the run's capture. */
static void drv_packet(struct drv_run *r, const struct pa_packet *pkt)
{
	bool from_client = pkt->dport == r->server_port;
	uint16_t cport = from_client ? pkt->sport : pkt->dport;
	struct drv_conn *c = NULL;
	for (size_t i = 0; i < r->nconn; i++)
		if (r->conn[i].client_port == cport)
			c = &r->conn[i];
	if (!c) {
		if (r->nconn == DRV_MAX_CONN)
			return;
		c = &r->conn[r->nconn++];
		c->client_port = cport;
		c->run = r;
		c->stream[0] = tcp_stream_new(0);
		c->stream[1] = tcp_stream_new(0);
		c->tls = tls_session_new(r->kl);
	}
	int d = from_client ? 0 : 1;
	c->from_client_now = from_client;
	if (pkt->tcp_flags & PA_TCP_SYN)
		tcp_stream_syn(c->stream[d], pkt->tcp_seq);
	else if (pkt->payload_len)
		tcp_stream_segment(c->stream[d], pkt->tcp_seq, pkt->payload, pkt->payload_len,
				   pkt->number, pkt->ts_us, drv_stream, c);
}

/* A capture being read packet by packet into a run. */
struct drv_reader {
	struct capture_file *cf;
	struct decoder *dec;
	uint64_t number;
};

static bool drv_open(struct drv_reader *rd, struct drv_run *r, const char *pcap,
		     uint16_t server_port)
{
	struct pa_error err;
	rd->cf = capture_file_open(pcap, &err);
	if (!rd->cf) {
		fprintf(stderr, "%s\n", err.msg);
		return false;
	}
	capture_file_on_secrets(rd->cf, drv_secrets, r);
	r->server_port = server_port;
	rd->dec = decoder_new(NULL);
	rd->number = 0;
	return true;
}

/* The reader's next record into the run; false at the end (reader closed). */
static bool drv_next(struct drv_reader *rd, struct drv_run *r)
{
	struct pa_error err;
	struct capture_record rec;
	while (capture_file_next(rd->cf, &rec, &err) == CAPTURE_RECORD) {
		struct pa_packet pkt;
		enum decode_problem problem;
		memset(&pkt, 0, sizeof(pkt));
		pkt.number = ++rd->number;
		if (decode_packet(rd->dec, &rec, &pkt, &problem) != DECODE_OK || pkt.l4_proto != 6)
			continue;
		drv_packet(r, &pkt);
		return true;
	}
	decoder_free(rd->dec);
	capture_file_close(rd->cf);
	return false;
}

/* Runs a capture; keys: key log file or NULL. Returns false when unreadable. */
static bool drv_run_file(struct drv_run *r, const char *pcap, uint16_t server_port)
{
	struct drv_reader rd;
	if (!drv_open(&rd, r, pcap, server_port))
		return false;
	while (drv_next(&rd, r))
		;
	return true;
}

static void drv_free(struct drv_run *r)
{
	for (size_t i = 0; i < r->nconn; i++) {
		struct drv_conn *c = &r->conn[i];
		tcp_stream_free(c->stream[0]);
		tcp_stream_free(c->stream[1]);
		tls_session_free(c->tls);
		if (c->http1)
			http1_free(c->http1);
		if (c->http2)
			http2_free(c->http2);
	}
	r->nconn = 0;
}

static const struct drv_field *drv_find_field(const struct drv_run *r, const char *name)
{
	for (size_t i = 0; i < r->nfields; i++)
		if (strcmp(r->fields[i].name, name) == 0)
			return &r->fields[i];
	return NULL;
}

#endif
