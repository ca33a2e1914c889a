/*
 * test-classify.c — the nDPI wrapper on real captures.
 *
 * Each capture is read with libpcap and decoded by a deliberately small
 * Ethernet/raw-IP decoder (enough for the captures used here), packets are
 * grouped into bidirectional flows by 5-tuple, and classify_* runs exactly as
 * the pipeline runs it. The verdicts asserted come from the `.expected`
 * ndpiReader outputs next to the captures; those were made with a newer nDPI
 * than Debian's 4.2, so only flows where ndpiReader 4.2 prints the same
 * protocol and host name were picked (checked with Debian's ndpiReader -v 2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"

#define MAX_TEST_FLOWS 512

struct test_flow {
	struct pa_addr src, dst; /* initiator first */
	uint16_t sport, dport;
	uint8_t proto;
	struct classify_flow *state;
	bool done;
	uint32_t packets;
	struct classify_result result;
};

struct test_run {
	struct test_flow flows[MAX_TEST_FLOWS];
	size_t count;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* IP → TCP/UDP into *pkt; false for anything this test does not need. */
static bool decode_ip(const uint8_t *ip, uint32_t len, struct pa_packet *pkt)
{
	if (len < 1)
		return false;
	uint32_t hlen, total;
	uint8_t proto;
	memset(&pkt->src, 0, sizeof pkt->src);
	memset(&pkt->dst, 0, sizeof pkt->dst);
	if ((ip[0] >> 4) == 4) {
		if (len < 20)
			return false;
		hlen = (uint32_t)(ip[0] & 0x0f) * 4;
		total = rd16(ip + 2);
		if (hlen < 20 || total < hlen || len < hlen || (rd16(ip + 6) & 0x1fff))
			return false;
		proto = ip[9];
		pkt->src.family = pkt->dst.family = 4;
		memcpy(pkt->src.bytes, ip + 12, 4);
		memcpy(pkt->dst.bytes, ip + 16, 4);
		pkt->ip_version = 4;
	} else if ((ip[0] >> 4) == 6) {
		if (len < 40)
			return false;
		hlen = 40;
		total = 40u + rd16(ip + 4);
		proto = ip[6]; /* no extension headers in the captures used */
		pkt->src.family = pkt->dst.family = 6;
		memcpy(pkt->src.bytes, ip + 8, 16);
		memcpy(pkt->dst.bytes, ip + 24, 16);
		pkt->ip_version = 6;
	} else {
		return false;
	}
	pkt->l3 = ip;
	pkt->l3_len = len < total ? len : total;
	pkt->ip_len = total;
	pkt->l4_proto = proto;
	const uint8_t *l4 = ip + hlen;
	uint32_t l4_len = pkt->l3_len - hlen;
	if (proto == IPPROTO_TCP && l4_len >= 20) {
		uint32_t off = (uint32_t)(l4[12] >> 4) * 4;
		if (off < 20 || off > l4_len)
			return false;
		pkt->tcp_flags = l4[13];
		pkt->payload = l4 + off;
		pkt->payload_len = l4_len - off;
	} else if (proto == IPPROTO_UDP && l4_len >= 8) {
		pkt->payload = l4 + 8;
		pkt->payload_len = l4_len - 8;
	} else {
		return false;
	}
	pkt->sport = rd16(l4);
	pkt->dport = rd16(l4 + 2);
	return true;
}

static bool decode_frame(int linktype, const uint8_t *frame, uint32_t caplen, struct pa_packet *pkt)
{
	if (linktype == DLT_RAW || linktype == 228 || linktype == 229)
		return decode_ip(frame, caplen, pkt);
	if (linktype != DLT_EN10MB || caplen < 14)
		return false;
	uint32_t off = 12;
	uint16_t type = rd16(frame + off);
	while ((type == 0x8100 || type == 0x88a8) && caplen >= off + 6) {
		off += 4;
		type = rd16(frame + off);
	}
	off += 2;
	if ((type != 0x0800 && type != 0x86dd) || caplen <= off)
		return false;
	return decode_ip(frame + off, caplen - off, pkt);
}

static struct test_flow *flow_of(struct test_run *run, const struct pa_packet *pkt, enum pa_dir *dir)
{
	for (size_t i = 0; i < run->count; i++) {
		struct test_flow *f = &run->flows[i];
		if (f->proto != pkt->l4_proto)
			continue;
		if (pa_addr_equal(&f->src, &pkt->src) && pa_addr_equal(&f->dst, &pkt->dst) &&
		    f->sport == pkt->sport && f->dport == pkt->dport) {
			*dir = PA_DIR_FROM_SRC;
			return f;
		}
		if (pa_addr_equal(&f->src, &pkt->dst) && pa_addr_equal(&f->dst, &pkt->src) &&
		    f->sport == pkt->dport && f->dport == pkt->sport) {
			*dir = PA_DIR_FROM_DST;
			return f;
		}
	}
	assert_true(run->count < MAX_TEST_FLOWS);
	struct test_flow *f = &run->flows[run->count++];
	f->src = pkt->src;
	f->dst = pkt->dst;
	f->sport = pkt->sport;
	f->dport = pkt->dport;
	f->proto = pkt->l4_proto;
	*dir = PA_DIR_FROM_SRC;
	return f;
}

static struct test_run *classify_capture(const char *name)
{
	char path[512], errbuf[PCAP_ERRBUF_SIZE];
	snprintf(path, sizeof path, "%s/%s", PA_SHARED_CAPTURES, name);
	pcap_t *p = pcap_open_offline(path, errbuf);
	if (!p)
		fail_msg("%s: %s", path, errbuf);

	struct pa_error err;
	struct classifier *c = classifier_new(&err);
	assert_non_null(c);
	struct test_run *run = calloc(1, sizeof *run);
	assert_non_null(run);

	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t number = 0;
	while (pcap_next_ex(p, &hdr, &data) == 1) {
		struct pa_packet pkt = {0};
		pkt.number = ++number;
		pkt.ts_us = (int64_t)hdr->ts.tv_sec * 1000000 + hdr->ts.tv_usec;
		pkt.caplen = hdr->caplen;
		pkt.wirelen = hdr->len;
		pkt.linktype = pcap_datalink(p);
		pkt.frame = data;
		if (!decode_frame(pkt.linktype, data, hdr->caplen, &pkt))
			continue;
		enum pa_dir dir;
		struct test_flow *f = flow_of(run, &pkt, &dir);
		if (!f->done) {
			f->done = !classify_packet(c, &f->state, &pkt, dir);
			f->packets++;
		}
	}
	pcap_close(p);
	for (size_t i = 0; i < run->count; i++)
		classify_finish(c, &run->flows[i].state, &run->flows[i].result);
	for (size_t i = 0; i < run->count; i++)
		assert_null(run->flows[i].state);
	classifier_free(c);
	return run;
}

/* The flow between a.sport and b.dport, whichever side initiated it. */
static const struct classify_result *find(const struct test_run *run, const char *a, uint16_t aport,
					  const char *b, uint16_t bport)
{
	struct pa_addr x, y;
	assert_true(pa_addr_parse(a, &x));
	assert_true(pa_addr_parse(b, &y));
	for (size_t i = 0; i < run->count; i++) {
		const struct test_flow *f = &run->flows[i];
		if ((pa_addr_equal(&f->src, &x) && f->sport == aport && pa_addr_equal(&f->dst, &y) &&
		     f->dport == bport) ||
		    (pa_addr_equal(&f->src, &y) && f->sport == bport && pa_addr_equal(&f->dst, &x) &&
		     f->dport == aport))
			return &f->result;
	}
	fail_msg("flow %s:%u <-> %s:%u not found", a, aport, b, bport);
	return NULL;
}

static void test_android_tls(void **unused)
{
	struct test_run *run = classify_capture("ndpi_android.pcap");
	const struct classify_result *r;

	r = find(run, "192.168.2.16", 32990, "216.239.38.120", 443);
	assert_string_equal(r->app_protocol, "TLS.PlayStore");
	assert_string_equal(r->category, "SoftwareUpdate");
	assert_string_equal(r->sni, "android.clients.google.com");
	assert_string_equal(r->hostname, "android.clients.google.com");
	assert_string_equal(r->http_host, "");
	assert_string_equal(r->tls_version, "TLSv1.3");
	assert_string_equal(r->ja3_client, "9c815150ea821166faecf80757d8826a");
	assert_string_equal(r->ja3_server, "eb1d94daa7e0344597e756a1fb6e7054");
	assert_non_null(strstr(r->risks, "TLS (probably) Not Carrying HTTPS"));
	assert_false(r->guessed);

	r = find(run, "192.168.2.16", 33002, "216.239.38.120", 443);
	assert_string_equal(r->app_protocol, "TLS.Google");
	assert_string_equal(r->category, "Web");
	assert_string_equal(r->sni, "accounts.google.com");
	assert_string_equal(r->tls_version, "TLSv1.3");
	assert_non_null(strstr(r->alpn, "h2"));
	assert_non_null(strstr(r->alpn, "http/1.1"));
	assert_string_equal(r->ja3_client, "66918128f1b9b03303d77c6f2eefd128");
	assert_string_equal(r->risks, "");

	r = find(run, "192.168.2.16", 51928, "172.217.21.202", 443);
	assert_string_equal(r->app_protocol, "TLS.DataSaver");
	assert_string_equal(r->sni, "datasaver.googleapis.com");
	assert_string_equal(r->tls_version, "TLSv1.3");
	free(run);
}

static void test_android_http_and_dns(void **unused)
{
	struct test_run *run = classify_capture("ndpi_android.pcap");
	const struct classify_result *r;

	r = find(run, "192.168.2.16", 58338, "17.253.53.201", 80);
	assert_string_equal(r->app_protocol, "HTTP.Apple");
	assert_string_equal(r->category, "ConnCheck");
	assert_string_equal(r->http_host, "captive.apple.com");
	assert_string_equal(r->sni, "");
	assert_string_equal(r->tls_version, "");
	assert_string_equal(r->ja3_client, "");

	r = find(run, "192.168.2.16", 36834, "173.194.79.114", 80);
	assert_string_equal(r->app_protocol, "HTTP.DataSaver");
	assert_string_equal(r->http_host, "check.googlezip.net");

	r = find(run, "192.168.2.16", 35825, "192.168.2.1", 53);
	assert_string_equal(r->app_protocol, "DNS");
	assert_string_equal(r->category, "Network");
	assert_string_equal(r->hostname, "time.android.com");
	assert_string_equal(r->sni, "");
	assert_string_equal(r->http_host, "");

	r = find(run, "192.168.2.16", 36613, "192.168.2.1", 53);
	assert_string_equal(r->app_protocol, "DNS.PlayStore");
	assert_string_equal(r->hostname, "android.clients.google.com");

	r = find(run, "192.168.2.16", 45863, "216.239.35.8", 123);
	assert_string_equal(r->app_protocol, "NTP");
	assert_string_equal(r->hostname, "");
	free(run);
}

/* One server packet of a TLS session: nDPI cannot decide and guesses by port. */
static void test_guess_by_port(void **unused)
{
	struct test_run *run = classify_capture("ndpi_443-chrome.pcap");
	assert_int_equal(run->count, 1);
	const struct classify_result *r = find(run, "178.62.197.130", 443, "192.168.1.13", 53059);
	assert_string_equal(r->app_protocol, "TLS");
	assert_true(r->guessed);
	assert_string_equal(r->sni, "");
	free(run);
}

static void test_quic_sni(void **unused)
{
	struct test_run *run = classify_capture("ndpi_quic.pcap");
	const struct classify_result *r;

	r = find(run, "192.168.1.109", 35236, "216.58.210.206", 443);
	assert_string_equal(r->app_protocol, "QUIC.YouTube");
	assert_string_equal(r->category, "Media");
	assert_string_equal(r->sni, "www.youtube.com");
	assert_string_equal(r->http_host, "");

	r = find(run, "192.168.1.109", 57833, "216.58.212.101", 443);
	assert_string_equal(r->app_protocol, "QUIC.GMail");
	assert_string_equal(r->sni, "mail.google.com");
	free(run);
}

/* Raw-IP link type (an Android tun capture), one-sided flows. */
static void test_raw_ip_android(void **unused)
{
	struct test_run *run = classify_capture("ndpi_ocs.pcap");
	const struct classify_result *r;

	r = find(run, "192.168.180.2", 49881, "178.248.208.54", 80);
	assert_string_equal(r->app_protocol, "HTTP.OCS");
	assert_string_equal(r->http_host, "ocu03.labgency.ws");
	assert_string_equal(r->sni, "");

	r = find(run, "192.168.180.2", 39263, "23.21.230.199", 443);
	assert_string_equal(r->app_protocol, "TLS.Crashlytics");
	assert_string_equal(r->sni, "settings.crashlytics.com");
	free(run);
}

/* A long flow stops costing nDPI work: the wrapper says "done" within the
 * packet budget (80 for TCP, 24 for UDP). */
static void test_packet_budget(void **unused)
{
	struct pa_error err;
	struct classifier *c = classifier_new(&err);
	assert_non_null(c);
	char path[512], errbuf[PCAP_ERRBUF_SIZE];
	snprintf(path, sizeof path, "%s/%s", PA_SHARED_CAPTURES, "ndpi_quic.pcap");
	pcap_t *p = pcap_open_offline(path, errbuf);
	assert_non_null(p);
	struct test_run *run = calloc(1, sizeof *run);
	struct pcap_pkthdr *hdr;
	const u_char *data;
	while (pcap_next_ex(p, &hdr, &data) == 1) {
		struct pa_packet pkt = {0};
		pkt.ts_us = (int64_t)hdr->ts.tv_sec * 1000000 + hdr->ts.tv_usec;
		if (!decode_frame(pcap_datalink(p), data, hdr->caplen, &pkt))
			continue;
		enum pa_dir dir;
		struct test_flow *f = flow_of(run, &pkt, &dir);
		if (!f->done) {
			f->packets++;
			f->done = !classify_packet(c, &f->state, &pkt, dir);
		}
	}
	pcap_close(p);
	/* the mail.google.com flow has 413 packets */
	bool seen_long = false;
	for (size_t i = 0; i < run->count; i++) {
		struct test_flow *f = &run->flows[i];
		assert_true(f->packets <= 24);
		if (f->sport == 57833) {
			seen_long = true;
			assert_true(f->done);
			/* the SNI is known while the flow is still open */
			assert_non_null(classify_sni(f->state));
			assert_string_equal(classify_sni(f->state), "mail.google.com");
			assert_null(classify_http_host(f->state));
		}
		classify_finish(c, &f->state, &f->result);
	}
	assert_true(seen_long);
	classifier_free(c);
	free(run);
}

static void test_finish_without_packets(void **unused)
{
	struct pa_error err;
	struct classifier *c = classifier_new(&err);
	assert_non_null(c);
	struct classify_flow *state = NULL;
	struct classify_result r;
	memset(&r, 0x55, sizeof r);
	classify_finish(c, &state, &r);
	assert_string_equal(r.app_protocol, "Unknown");
	assert_string_equal(r.sni, "");
	assert_false(r.guessed);
	assert_null(classify_sni(NULL));
	/* nDPI 4.2's flow struct alone is 688 bytes */
	assert_true(classify_flow_state_size() >= 688);
	assert_non_null(classify_engine_version());
	assert_true(strlen(classify_engine_version()) > 0);
	classifier_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_android_tls),
		cmocka_unit_test(test_android_http_and_dns),
		cmocka_unit_test(test_guess_by_port),
		cmocka_unit_test(test_quic_sni),
		cmocka_unit_test(test_raw_ip_android),
		cmocka_unit_test(test_packet_budget),
		cmocka_unit_test(test_finish_without_packets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
