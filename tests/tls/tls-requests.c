/*
 * tls-requests — lists the HTTP requests privaudit decrypts from a capture,
 * one JSON object per line, for the cross-check against tshark
 * (tests/tls/crosscheck.py). It runs the audit's own path — capture reader
 * (with pcapng Decryption Secrets Blocks), decoder, flow table, flow_app with
 * its TLS decryption and HTTP/1 / HTTP/2 decoders — and taps the decoded
 * fields of the client side of TLS flows:
 *
 *   {"port": CLIENT_PORT, "method": "GET", "host": "a.example",
 *    "path": "/p", "query": ["q"], "headers": ["accept", "user-agent", ...]}
 *
 * (path URL-decoded, without the query; header names in lower case.)
 *
 * Usage: tls-requests [--keylog FILE]... CAPTURE
 */
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/flow_app.h"
#include "capture/capture.h"
#include "decode/decode.h"
#include "flow/flow.h"
#include "tls/keylog.h"

/* The request being assembled, per flow: flows interleave in a capture,
 * the fields of one flow come in order. HTTP/2 emits a request's method
 * first, then its other headers; HTTP/1 its headers first, then method,
 * path and query once the header block is complete. */
struct request {
	uint64_t flow_id;
	uint16_t port;
	char method[16];
	char host[256];
	char path[2048];
	json_t *query;   /* parameter names of the query, in order */
	json_t *headers; /* header names, lower case, in order */
	bool open;       /* a method was seen: the request is under way */
	json_t *h1_headers; /* HTTP/1: headers of the request to come */
	char h1_host[256];
};

#define SLOTS 256
static struct request slots[SLOTS];

static void flush_request(struct request *r)
{
	if (!r->open)
		return;
	json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:O, s:O}", "port", r->port, "method", r->method,
			      "host", r->host, "path", r->path, "query", r->query, "headers",
			      r->headers);
	char *text = json_dumps(o, JSON_COMPACT);
	puts(text);
	free(text);
	json_decref(o);
	json_decref(r->query);
	json_decref(r->headers);
	r->query = r->headers = NULL;
	r->open = false;
}

static struct request *slot_of(const struct flow *f)
{
	struct request *r = &slots[f->id % SLOTS];
	if (r->flow_id != f->id) {
		flush_request(r);
		json_decref(r->h1_headers);
		memset(r, 0, sizeof(*r));
		r->flow_id = f->id;
		r->port = f->sport;
	}
	return r;
}

static void copy(char *dst, size_t cap, const uint8_t *v, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;
	memcpy(dst, v, n);
	dst[n] = 0;
}

/* Decoded fields of the client side of TLS flows. */
static void tap(void *ctx, const struct flow *f, const struct pa_field_ref *ref,
		const uint8_t *v, size_t len)
{
	(void)ctx;
	if (strcmp(ref->protocol, "tls-decrypted") != 0 || ref->dir != PA_DIR_FROM_SRC)
		return;
	const char *name = ref->field;
	bool h2 = strncmp(name, "http2.", 6) == 0;
	if (!h2 && strncmp(name, "http.", 5) != 0)
		return;
	const char *rest = name + (h2 ? 6 : 5);
	if (strchr(rest, '+'))
		return; /* a value decoded from base64: not a part of the request */
	struct request *r = slot_of(f);
	if (strcmp(rest, "method") == 0) {
		flush_request(r);
		r->open = true;
		r->query = json_array();
		r->headers = h2 || !r->h1_headers ? json_array() : r->h1_headers;
		r->h1_headers = NULL;
		snprintf(r->host, sizeof(r->host), "%s", h2 ? "" : r->h1_host);
		r->h1_host[0] = 0;
		r->path[0] = 0;
		copy(r->method, sizeof(r->method), v, len);
		return;
	}
	if (strncmp(rest, "header:", 7) == 0) {
		char lower[128];
		snprintf(lower, sizeof(lower), "%s", rest + 7);
		for (char *p = lower; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		if (h2) {
			if (r->open)
				json_array_append_new(r->headers, json_string(lower));
			return;
		}
		flush_request(r); /* HTTP/1: headers belong to the next request */
		if (!r->h1_headers)
			r->h1_headers = json_array();
		json_array_append_new(r->h1_headers, json_string(lower));
		if (strcmp(lower, "host") == 0)
			copy(r->h1_host, sizeof(r->h1_host), v, len);
		return;
	}
	if (!r->open)
		return;
	if (strcmp(rest, "path") == 0)
		copy(r->path, sizeof(r->path), v, len);
	else if (strncmp(rest, "query:", 6) == 0)
		json_array_append_new(r->query, json_string(rest + 6));
	else if (strcmp(rest, "authority") == 0)
		copy(r->host, sizeof(r->host), v, len);
}

struct run {
	struct app_context ac;
	struct keylog *kl;
};

static void on_end(void *ctx, struct flow *f, enum flow_end_reason why)
{
	struct run *r = ctx;
	struct flow_app_info info;
	flow_app_end(&r->ac, f, &info);
	struct request *q = &slots[f->id % SLOTS];
	if (q->flow_id == f->id) {
		flush_request(q);
		json_decref(q->h1_headers);
		memset(q, 0, sizeof(*q));
	}
}

static void on_secrets(void *ctx, uint32_t type, const uint8_t *data, size_t len)
{
	struct run *r = ctx;
	if (type == 0x544c534b)
		keylog_add_text(r->kl, "dsb", (const char *)data, len, stderr);
}

int main(int argc, char **argv)
{
	struct run r = {0};
	r.kl = keylog_new();
	int i = 1;
	for (; i + 1 < argc && strcmp(argv[i], "--keylog") == 0; i += 2) {
		struct pa_error err;
		if (!keylog_load_file(r.kl, argv[i + 1], stderr, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return 2;
		}
	}
	if (i + 1 != argc) {
		fprintf(stderr, "usage: tls-requests [--keylog FILE]... CAPTURE\n");
		return 2;
	}
	struct pa_error err;
	struct capture_file *cf = capture_file_open(argv[i], &err);
	if (!cf) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	capture_file_on_secrets(cf, on_secrets, &r);
	r.ac.keylog = r.kl;
	r.ac.field_tap = tap;
	struct flow_config fc = {0};
	struct flow_table *flows = flow_table_new(&fc, on_end, &r);
	struct decoder *dec = decoder_new(NULL);
	struct capture_record rec;
	uint64_t number = 0;
	while (capture_file_next(cf, &rec, &err) == CAPTURE_RECORD) {
		struct pa_packet pkt;
		enum decode_problem problem;
		memset(&pkt, 0, sizeof(pkt));
		pkt.number = ++number;
		if (decode_packet(dec, &rec, &pkt, &problem) != DECODE_OK)
			continue;
		enum pa_dir dir;
		bool created;
		struct flow *f = flow_table_packet(flows, &pkt, &dir, &created);
		if (f && pkt.l4_proto == IPPROTO_TCP)
			flow_app_tcp_segment(&r.ac, f, dir, &pkt);
		else if (f && pkt.l4_proto == IPPROTO_UDP)
			flow_app_udp_datagram(&r.ac, f, dir, &pkt);
	}
	flow_table_free(flows);
	flow_app_context_release(&r.ac);
	decoder_free(dec);
	capture_file_close(cf);
	keylog_free(r.kl);
	return 0;
}
