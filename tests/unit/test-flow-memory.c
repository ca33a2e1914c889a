/*
 * test-flow-memory.c — heap bytes held per idle flow, by kind of flow, through
 * the real pipeline (audit_packet: decode, flow table, nDPI, application layer,
 * signature engine on the same thread).
 *
 * An idle flow is one in the table with nothing in flight: a kept-alive HTTP/1
 * or TLS connection between requests, a UDP flow between datagrams, a raw TCP
 * stream between chunks. For each kind, N copies of one synthetic
 * conversation (client ports differ) go through a fresh audit after a few
 * warm-up copies; the heap grown over the N copies, divided by N, is the
 * total per flow. The same packets through nDPI alone (decoder + classify)
 * give nDPI's share; the rest is privaudit's own state, which the pipeline
 * issue bounds at 1 KiB per idle flow.
 *
 * Heap in use: glibc's mallinfo2() (uordblks + hblkhd: chunks in use,
 * malloc's own 8-16 bytes per chunk included); under AddressSanitizer, whose
 * allocator glibc does not see, the bytes the program asked for.
 *
 * The report's figure for the kind (report.json "memory": "idle_flow_bytes",
 * the fixed-size parts, from struct sizes) is printed next to it, and must
 * not exceed what was measured: the report may leave things out (allocator
 * overhead, Host text, cipher contexts), it must not invent any.
 *
 * PA_FLOW_MEMORY_N sets N (default 2000; 500 under AddressSanitizer).
 * tools/flow-memory runs the release build of this test and prints the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "classify/classify.h"
#include "decode/decode.h"
#include "pipeline.h"

#include "test-tmpdir.h"

/* gcc says which sanitizer it builds with by macros, clang by __has_feature. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PA_SANITIZER_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define PA_SANITIZER_HEAP 1
#endif
#endif

/* ThreadSanitizer's counter adds up the size classes it hands out (nDPI's
 * own state reads 880 bytes there against 794 requested), so the bound on
 * own state, stated in requested bytes, is asserted in the other builds
 * (glibc, AddressSanitizer); under ThreadSanitizer the figures are printed
 * and the test looks for races only. */
#if defined(__SANITIZE_THREAD__)
#define PA_HEAP_ROUNDED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PA_HEAP_ROUNDED 1
#endif
#endif

#if defined(PA_SANITIZER_HEAP)
/* The sanitizers replace glibc's allocator, so mallinfo2() sees nothing;
 * their runtime counts instead (sanitizer/allocator_interface.h, which GCC
 * does not ship). */
size_t __sanitizer_get_current_allocated_bytes(void);
#define HEAP_COUNTER "sanitizer runtime: bytes requested"
static size_t heap_in_use(void)
{
	return __sanitizer_get_current_allocated_bytes();
}
#else
#define HEAP_COUNTER "glibc mallinfo2: uordblks + hblkhd"
static size_t heap_in_use(void)
{
	struct mallinfo2 m = mallinfo2();
	return m.uordblks + m.hblkhd;
}
#endif

#define WARM_UP 64
#define OWN_LIMIT 1024 /* the bound on own state per idle flow */
#define CLIENT_PORT_BASE 20000
#define T0_US 1700000000000000LL

#if defined(PA_SANITIZER_HEAP)
static size_t flows_n = 500; /* exact counts: fewer flows do, and sanitizers are slow */
#else
static size_t flows_n = 2000;
#endif

/* ---- frames -------------------------------------------------------------- */

static const uint8_t client_ip[4] = {10, 66, 0, 2}; /* the lab phone's address */
static const uint8_t server_ip[4] = {198, 51, 100, 10};
static const uint8_t client_mac[6] = {0x8c, 0xbe, 0xbe, 0x4a, 0x21, 0x07};
static const uint8_t server_mac[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};

/* Where the frames of one flow go: the audit, or nDPI alone. */
struct sink {
	void (*frame)(struct sink *s, const uint8_t *frame, size_t len, int64_t ts,
		      bool from_client);
	struct audit *audit;
	/* nDPI alone */
	struct decoder *decoder;
	struct classifier *classifier;
	struct classify_flow **states;
	bool *done;
	size_t flow;         /* index of the flow being fed */
	uint64_t packet;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void ip_checksum(uint8_t *ip)
{
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, (uint16_t)~sum);
}

/* Ethernet + IPv4 + TCP (tcp != NULL) or UDP header, then the payload. */
struct l4 {
	uint8_t proto;
	uint16_t cport, sport;
	uint32_t seq, ack;
	uint8_t flags;
};

static void send_frame(struct sink *s, const struct l4 *h, bool from_client, const uint8_t *data,
		       size_t len, int64_t ts)
{
	static uint8_t f[14 + 20 + 20 + 2048];
	static uint16_t ip_id;
	size_t l4_len = h->proto == IPPROTO_TCP ? 20 : 8;
	assert_true(len <= sizeof f - 54);
	memcpy(f, from_client ? server_mac : client_mac, 6);
	memcpy(f + 6, from_client ? client_mac : server_mac, 6);
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4_len + len));
	put16(ip + 4, ip_id++);
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = h->proto;
	memcpy(ip + 12, from_client ? client_ip : server_ip, 4);
	memcpy(ip + 16, from_client ? server_ip : client_ip, 4);
	ip_checksum(ip);
	uint8_t *l4 = ip + 20;
	memset(l4, 0, l4_len);
	put16(l4, from_client ? h->cport : h->sport);
	put16(l4 + 2, from_client ? h->sport : h->cport);
	if (h->proto == IPPROTO_TCP) {
		put32(l4 + 4, h->seq);
		put32(l4 + 8, h->ack);
		l4[12] = 5 << 4;
		l4[13] = h->flags;
		put16(l4 + 14, 65535);
	} else {
		put16(l4 + 4, (uint16_t)(8 + len));
	}
	if (len)
		memcpy(l4 + l4_len, data, len);
	s->frame(s, f, 14 + 20 + l4_len + len, ts, from_client);
}

/* One message of a conversation. */
struct msg {
	bool from_client;
	const uint8_t *data;
	size_t len;
};

struct conversation {
	uint8_t proto;
	uint16_t server_port;
	size_t mss;           /* TCP: segment size */
	struct msg msgs[64];
	size_t count;
};

static void add_msg(struct conversation *c, bool from_client, const void *data, size_t len)
{
	assert_true(c->count < sizeof c->msgs / sizeof c->msgs[0]);
	c->msgs[c->count++] = (struct msg){from_client, data, len};
}

/* Flow `index` of a conversation: handshake, messages cut into segments,
 * each flight acknowledged, no FIN: the connection stays open. */
static void play(struct sink *s, const struct conversation *c, size_t index)
{
	int64_t ts = T0_US + (int64_t)index * 200;
	struct l4 h = {.proto = c->proto, .cport = (uint16_t)(CLIENT_PORT_BASE + index),
		       .sport = c->server_port};
	uint32_t next[2] = {1000, 500000}; /* next sequence number: client, server */
	s->flow = index;
	if (c->proto == IPPROTO_TCP) {
		h.flags = PA_TCP_SYN;
		h.seq = next[0] - 1;
		send_frame(s, &h, true, NULL, 0, ts++);
		h.flags = PA_TCP_SYN | PA_TCP_ACK;
		h.seq = next[1] - 1;
		h.ack = next[0];
		send_frame(s, &h, false, NULL, 0, ts++);
		h.flags = PA_TCP_ACK;
		h.seq = next[0];
		h.ack = next[1];
		send_frame(s, &h, true, NULL, 0, ts++);
	}
	for (size_t m = 0; m < c->count; m++) {
		const struct msg *msg = &c->msgs[m];
		int d = msg->from_client ? 0 : 1;
		size_t mss = c->proto == IPPROTO_TCP ? c->mss : msg->len;
		for (size_t off = 0; off < msg->len || (off == 0 && !msg->len); off += mss) {
			size_t n = msg->len - off < mss ? msg->len - off : mss;
			h.flags = PA_TCP_ACK | PA_TCP_PSH;
			h.seq = next[d];
			h.ack = next[!d];
			send_frame(s, &h, msg->from_client, msg->data + off, n, ts++);
			next[d] += (uint32_t)n;
			if (!msg->len)
				break;
		}
		if (c->proto == IPPROTO_TCP) { /* the other side acknowledges */
			h.flags = PA_TCP_ACK;
			h.seq = next[!d];
			h.ack = next[d];
			send_frame(s, &h, !msg->from_client, NULL, 0, ts++);
		}
	}
}

/* ---- conversations ---------------------------------------------------------- */

static uint8_t raw_up[3000], raw_down[2000];
static char http_req1[1024], http_resp1[1024], http_req2[4096], http_resp2[1024];
static uint8_t dns_query[64], dns_answer[128];
static size_t dns_query_len, dns_answer_len;
static uint8_t udp_up[200], udp_down[120];

static void fill_text(uint8_t *p, size_t len, const char *words)
{
	size_t w = strlen(words);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)words[i % w];
}

static void raw_tcp(struct conversation *c)
{
	*c = (struct conversation){.proto = IPPROTO_TCP, .server_port = 5222, .mss = 1448};
	fill_text(raw_up, sizeof raw_up, "<presence id='a1' type='available'><status>on</status></presence>");
	fill_text(raw_down, sizeof raw_down, "<message to='x@y' id='m7'><body>hello there</body></message>");
	add_msg(c, true, raw_up, sizeof raw_up);
	add_msg(c, false, raw_down, sizeof raw_down);
	add_msg(c, true, raw_up, 300);
	add_msg(c, false, raw_down, 250);
}

static void http1(struct conversation *c)
{
	*c = (struct conversation){.proto = IPPROTO_TCP, .server_port = 80, .mss = 1448};
	static const char body1[] = "{\"code\":0,\"data\":{\"interval\":300,\"features\":[\"a\",\"b\"]}}";
	snprintf(http_req1, sizeof http_req1,
		 "GET /api/v1/config?app=demo&ver=3.2.1&os=android HTTP/1.1\r\n"
		 "Host: api.example.com\r\nUser-Agent: okhttp/4.9.0\r\n"
		 "Cookie: sid=7a6b5c4d3e2f; lang=zh-CN\r\nAccept-Encoding: identity\r\n\r\n");
	snprintf(http_resp1, sizeof http_resp1,
		 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		 "Connection: keep-alive\r\n\r\n%s", strlen(body1), body1);
	char body2[3000];
	size_t n = 0;
	n += (size_t)snprintf(body2 + n, sizeof body2 - n, "{\"events\":[");
	for (int i = 0; i < 40 && n < sizeof body2 - 80; i++)
		n += (size_t)snprintf(body2 + n, sizeof body2 - n,
				      "%s{\"t\":%d,\"name\":\"page_view\",\"dur\":%d}", i ? "," : "",
				      1700000000 + i, i * 37);
	snprintf(body2 + n, sizeof body2 - n, "]}");
	snprintf(http_req2, sizeof http_req2,
		 "POST /collect HTTP/1.1\r\nHost: api.example.com\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(body2), body2);
	snprintf(http_resp2, sizeof http_resp2,
		 "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n");
	add_msg(c, true, http_req1, strlen(http_req1));
	add_msg(c, false, http_resp1, strlen(http_resp1));
	add_msg(c, true, http_req2, strlen(http_req2));
	add_msg(c, false, http_resp2, strlen(http_resp2));
}

static void udp(struct conversation *c)
{
	*c = (struct conversation){.proto = IPPROTO_UDP, .server_port = 9000};
	fill_text(udp_up, sizeof udp_up, "ping seq=1 payload=abcdefgh ");
	fill_text(udp_down, sizeof udp_down, "pong seq=1 ");
	add_msg(c, true, udp_up, sizeof udp_up);
	add_msg(c, false, udp_down, sizeof udp_down);
	add_msg(c, true, udp_up, 90);
	add_msg(c, false, udp_down, 60);
}

/* A query for api.example.com and its answer: one A record. */
static void dns(struct conversation *c)
{
	*c = (struct conversation){.proto = IPPROTO_UDP, .server_port = 53};
	static const uint8_t hdr_q[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	static const uint8_t name[] = "\x03" "api" "\x07" "example" "\x03" "com";
	uint8_t *q = dns_query;
	memcpy(q, hdr_q, sizeof hdr_q);
	memcpy(q + 12, name, sizeof name); /* with the root label's 0 */
	size_t n = 12 + sizeof name;
	q[n++] = 0, q[n++] = 1, q[n++] = 0, q[n++] = 1; /* A, IN */
	dns_query_len = n;
	memcpy(dns_answer, dns_query, n);
	dns_answer[2] = 0x81, dns_answer[3] = 0x80; /* response, no error */
	dns_answer[7] = 1;                         /* one answer */
	/* an address no flow here goes to: flows are not named by it */
	static const uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 198, 51, 100, 20};
	memcpy(dns_answer + n, rr, sizeof rr);
	dns_answer_len = n + sizeof rr;
	add_msg(c, true, dns_query, dns_query_len);
	add_msg(c, false, dns_answer, dns_answer_len);
}

/*
 * A TLS connection from a fixture (tests/data/tls): its TCP payloads in
 * order up to the close, replayed with segments of 536 bytes so that records
 * span segments as they do off the loopback interface the fixtures were
 * recorded on.
 */
static uint8_t tls_bytes[2][65536];

static void tls_fixture(struct conversation *c, const char *name)
{
	*c = (struct conversation){.proto = IPPROTO_TCP, .server_port = 443, .mss = 536};
	char path[512];
	snprintf(path, sizeof path, "%s/tls/%s.pcap", PA_TEST_DATA, name);
	struct pa_error err;
	struct capture_file *cf = capture_file_open(path, &err);
	assert_non_null(cf);
	struct decoder *dec = decoder_new(NULL);
	struct capture_record rec;
	uint16_t client_port = 0;
	size_t used[2] = {0, 0};
	while (capture_file_next(cf, &rec, &err) == CAPTURE_RECORD) {
		struct pa_packet pkt;
		enum decode_problem why;
		memset(&pkt, 0, sizeof pkt);
		if (decode_packet(dec, &rec, &pkt, &why) != DECODE_OK || pkt.l4_proto != IPPROTO_TCP)
			continue;
		if ((pkt.tcp_flags & PA_TCP_SYN) && !(pkt.tcp_flags & PA_TCP_ACK))
			client_port = pkt.sport;
		if (pkt.tcp_flags & (PA_TCP_FIN | PA_TCP_RST))
			break;
		if (!pkt.payload_len)
			continue;
		int d = pkt.sport == client_port ? 0 : 1;
		assert_true(used[d] + pkt.payload_len <= sizeof tls_bytes[d]);
		uint8_t *p = tls_bytes[d] + used[d];
		memcpy(p, pkt.payload, pkt.payload_len);
		used[d] += pkt.payload_len;
		/* consecutive payloads of one side make one message */
		if (c->count && c->msgs[c->count - 1].from_client == (d == 0))
			c->msgs[c->count - 1].len += pkt.payload_len;
		else
			add_msg(c, d == 0, p, pkt.payload_len);
	}
	decoder_free(dec);
	capture_file_close(cf);
	assert_true(c->count >= 4);
}

/* ---- measuring ------------------------------------------------------------ */

static void to_audit(struct sink *s, const uint8_t *frame, size_t len, int64_t ts, bool from_client)
{
	struct capture_record rec = {.ts_us = ts, .caplen = (uint32_t)len, .wirelen = (uint32_t)len,
				     .linktype = PA_LINKTYPE_ETHERNET, .data = frame};
	audit_packet(s->audit, &rec);
}

/* nDPI alone, fed the way the pipeline feeds it (until it wants no more). */
static void to_ndpi(struct sink *s, const uint8_t *frame, size_t len, int64_t ts, bool from_client)
{
	struct capture_record rec = {.ts_us = ts, .caplen = (uint32_t)len, .wirelen = (uint32_t)len,
				     .linktype = PA_LINKTYPE_ETHERNET, .data = frame};
	struct pa_packet pkt;
	enum decode_problem why;
	memset(&pkt, 0, sizeof pkt);
	pkt.number = ++s->packet;
	assert_int_equal(decode_packet(s->decoder, &rec, &pkt, &why), DECODE_OK);
	if (!s->done[s->flow])
		s->done[s->flow] = !classify_packet(s->classifier, &s->states[s->flow], &pkt,
						    from_client ? PA_DIR_FROM_SRC : PA_DIR_FROM_DST);
}

struct kind {
	const char *name;
	void (*build)(struct conversation *c);
	const char *fixture;  /* TLS: tests/data/tls/<fixture>.pcap */
	bool keys;            /* TLS: with the fixture's key log */
	bool bounded;         /* own state must stay under OWN_LIMIT */
	const char *report;   /* its key in report.json memory.idle_flow_bytes, or NULL */
};

/* The report's idle-flow figure for the kind, from DIR/report.json. */
static long report_figure(const char *dir, const char *key)
{
	char path[600];
	snprintf(path, sizeof path, "%s/report.json", dir);
	json_error_t jerr;
	json_t *report = json_load_file(path, 0, &jerr);
	assert_non_null(report);
	json_t *v = json_object_get(json_object_get(json_object_get(report, "memory"),
						    "idle_flow_bytes"), key);
	assert_true(json_is_integer(v));
	long n = (long)json_integer_value(v);
	json_decref(report);
	return n;
}

static double measure_audit(const struct kind *k, const struct conversation *c, long *figure)
{
	char sigs[512], device[512], geoip[512], keys[512];
	snprintf(sigs, sizeof sigs, "%s/signatures", PA_SOURCE_DIR);
	snprintf(device, sizeof device, "%s/signatures/devices/lab-phone.yaml", PA_SOURCE_DIR);
	snprintf(geoip, sizeof geoip, "%s/geoip/lab-country.mmdb", PA_TEST_DATA);
	char out[] = "/tmp/test-flow-memory-XXXXXX";
	assert_non_null(mkdtemp(out));
	struct audit_config cfg = {.signatures_dir = sigs, .device_file = device, .quiet = true,
				   .threads = 1, .geoip = {geoip}, .geoip_count = 1,
				   .out_dir = out, .no_evidence = true};
	if (k->keys) {
		snprintf(keys, sizeof keys, "%s/tls/%s.keys", PA_TEST_DATA, k->fixture);
		cfg.keylog[0] = keys;
		cfg.keylog_count = 1;
	}
	struct pa_error err;
	struct sink s = {.frame = to_audit};
	s.audit = audit_new(&cfg, &err);
	assert_non_null(s.audit);
	for (size_t i = 0; i < WARM_UP; i++)
		play(&s, c, i);
	size_t before = heap_in_use();
	for (size_t i = WARM_UP; i < WARM_UP + flows_n; i++)
		play(&s, c, i);
	size_t after = heap_in_use();
	audit_finish(s.audit, NULL);
	audit_free(s.audit);
	*figure = k->report ? report_figure(out, k->report) : -1;
	tmpdir_remove_path(out);
	return ((double)after - (double)before) / (double)flows_n;
}

static double measure_ndpi(const struct conversation *c)
{
	size_t total = WARM_UP + flows_n;
	struct pa_error err;
	struct sink s = {.frame = to_ndpi};
	s.decoder = decoder_new(NULL);
	s.classifier = classifier_new(&err);
	assert_non_null(s.classifier);
	s.states = calloc(total, sizeof *s.states);
	s.done = calloc(total, sizeof *s.done);
	for (size_t i = 0; i < WARM_UP; i++)
		play(&s, c, i);
	size_t before = heap_in_use();
	for (size_t i = WARM_UP; i < total; i++)
		play(&s, c, i);
	size_t after = heap_in_use();
	for (size_t i = 0; i < total; i++) {
		struct classify_result r;
		classify_finish(s.classifier, &s.states[i], &r);
	}
	free(s.states);
	free(s.done);
	classifier_free(s.classifier);
	decoder_free(s.decoder);
	return ((double)after - (double)before) / (double)flows_n;
}

static void measure(const struct kind *k)
{
	struct conversation c;
	if (k->fixture)
		tls_fixture(&c, k->fixture);
	else
		k->build(&c);
	long figure;
	double total = measure_audit(k, &c, &figure);
	double ndpi = measure_ndpi(&c);
	double own = total - ndpi;
	char fig[32] = "-";
	if (figure >= 0)
		snprintf(fig, sizeof fig, "%ld", figure);
	printf("flow-memory: %-22s %8.0f %8.0f %8.0f %8s\n", k->name, total, ndpi, own, fig);
	fflush(stdout);
	if (figure >= 0)
		assert_true(figure <= own);
#if !defined(PA_HEAP_ROUNDED)
	if (k->bounded)
		assert_true(own <= OWN_LIMIT);
#endif
}

static const struct kind kinds[] = {
	{"raw-tcp", raw_tcp, NULL, false, false, "raw_tcp"},
	{"http1", http1, NULL, false, true, "http"},
	{"tls-no-key (1.3)", NULL, "tls13-aes128gcm-h1", false, true, "tls"},
	{"tls-no-key (1.2)", NULL, "tls12-aes128gcm-h1", false, true, "tls"},
	{"tls-decrypted http1", NULL, "tls13-aes128gcm-h1", true, false, "tls_decrypted"},
	{"tls-decrypted http2", NULL, "tls13-aes128gcm-h2", true, false, NULL},
	{"udp", udp, NULL, false, true, "udp"},
	{"dns", dns, NULL, false, true, "dns"},
};

static void test_kind(void **state)
{
	measure(*state);
}

int main(void)
{
	const char *n = getenv("PA_FLOW_MEMORY_N");
	if (n && atoi(n) > 0)
		flows_n = (size_t)atoi(n);
	if (flows_n + WARM_UP > 65535 - CLIENT_PORT_BASE)
		flows_n = 65535 - CLIENT_PORT_BASE - WARM_UP;
	printf("flow-memory: %zu idle flows per kind, heap counted by %s\n", flows_n, HEAP_COUNTER);
	printf("flow-memory: bytes per idle flow: total, nDPI's, own (total - nDPI), report.json's fixed part\n");
	printf("flow-memory: %-22s %8s %8s %8s %8s\n", "kind", "total", "nDPI", "own", "report");
	struct CMUnitTest tests[sizeof kinds / sizeof kinds[0]];
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		tests[i] = (struct CMUnitTest){.name = kinds[i].name, .test_func = test_kind,
					       .initial_state = (void *)&kinds[i]};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
