/*
 * test-decode-captures.c — the reader and decoder over real captures from
 * other projects' test suites, checked against what tshark reports for the
 * same frames, plus a sweep of every shared capture under the sanitizers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "decode/decode.h"

/* One frame as tshark shows it (innermost IP for tunnels; payload length is
 * tcp.len or udp.length - 8, the length the headers state). */
struct expected_frame {
	const char *file;
	uint64_t frame;
	const char *src, *dst;
	uint8_t proto;
	uint16_t sport, dport;
	uint32_t payload_wire_len;
	uint16_t vlan0, vlan1;
};

static const struct expected_frame frames[] = {
	{ "arkime_twovlan.pcap", 1, "10.0.0.1", "10.0.0.2", 6, 54422, 80, 0, 201, 200 },
	{ "arkime_twovlan.pcap", 4, "10.0.0.1", "10.0.0.2", 6, 54422, 80, 113, 201, 200 },
	{ "arkime_twovlan.pcap", 6, "10.0.0.2", "10.0.0.1", 6, 80, 54422, 4344, 201, 200 },
	{ "zeek_vlan-pcp-dei.pcapng", 1, "192.168.1.100", "192.168.1.200", 6, 12345, 80, 0, 10, 20 },
	{ "zeek_vlan-pcp-dei.pcapng", 5, "192.168.1.200", "192.168.1.100", 6, 80, 12345, 0, 20, 0 },
	{ "zeek_vlan-pcp-dei.pcapng", 9, "192.168.1.100", "192.168.1.200", 6, 12345, 80, 0, 0, 0 },
	{ "suricata-verify_decode-sll2-01_input.pcap", 1, "192.168.1.253", "192.168.1.21", 6, 56478, 80, 0, 0, 0 },
	{ "suricata-verify_decode-sll2-01_input.pcap", 3, "192.168.1.253", "192.168.1.21", 6, 56478, 80, 0, 0, 0 },
	{ "suricata-verify_decode-sll2-01_input.pcap", 5, "192.168.1.21", "192.168.1.253", 6, 80, 56478, 0, 0, 0 },
// zeek_linux_dlt_sll2.pcap none
	{ "ndpi_KakaoTalk_chat.pcap", 1, "10.24.82.188", "10.188.1.1", 17, 38448, 53, 32, 0, 0 },
	{ "ndpi_KakaoTalk_chat.pcap", 174, "31.13.68.84", "10.24.82.188", 6, 443, 45211, 57, 0, 0 },
	{ "ndpi_KakaoTalk_chat.pcap", 347, "54.255.253.199", "10.24.82.188", 6, 5223, 58964, 1388, 0, 0 },
	{ "ndpi_ocs.pcap", 1, "192.168.180.2", "64.233.184.188", 6, 47699, 5228, 0, 0, 0 },
	{ "ndpi_ocs.pcap", 474, "192.168.180.2", "178.248.208.54", 6, 49881, 80, 0, 0, 0 },
	{ "ndpi_ocs.pcap", 946, "192.168.180.2", "178.248.208.210", 6, 42590, 80, 0, 0, 0 },
	{ "ndpi_nats.pcap", 1, "127.0.0.1", "127.0.0.1", 6, 54820, 4222, 0, 0, 0 },
	{ "ndpi_nats.pcap", 14, "127.0.0.1", "127.0.0.1", 6, 54821, 4222, 0, 0, 0 },
	{ "ndpi_nats.pcap", 27, "127.0.0.1", "127.0.0.1", 6, 4222, 54821, 0, 0, 0 },
	{ "ndpi_6in4tunnel.pcap", 18, "2001:470:1f16:13f::2", "2a03:2880:fffe:b:face:b00c:0:99", 17, 53959, 53, 51, 0, 0 },
	{ "ndpi_6in4tunnel.pcap", 64, "2001:470:1f17:13f:6d69:c72:7313:616f", "2604:a880:1:20::224:b001", 6, 56381, 993, 0, 0, 0 },
	{ "ndpi_6in4tunnel.pcap", 121, "2001:470:1f17:13f:3e97:eff:fe73:4dec", "2604:a880:1:20::224:b001", 6, 60205, 443, 0, 0, 0 },
	{ "zeek_pppoe-over-qinq.pcap", 1, "1.1.1.1", "2.2.2.2", 6, 20394, 443, 0, 3704, 2474 },
	{ "zeek_pppoe-over-qinq.pcap", 44, "2.2.2.2", "1.1.1.1", 6, 443, 20394, 0, 3704, 2474 },
	{ "zeek_pppoe-over-qinq.pcap", 86, "2.2.2.2", "1.1.1.1", 6, 443, 20394, 31, 3704, 2474 },
	{ "ndpi_badpackets.pcap", 1, "131.78.81.254", "204.186.80.229", 17, 53, 52327, 1709, 0, 0 },
	{ "ndpi_badpackets.pcap", 47, "134.67.100.36", "204.186.80.229", 17, 53, 37213, 2296, 0, 0 },
	{ "ndpi_badpackets.pcap", 93, "131.78.81.254", "204.186.80.229", 17, 53, 19731, 1712, 0, 0 },
	{ "ndpi_4in6tunnel.pcap", 1, "192.168.0.1", "10.10.10.1", 6, 64455, 443, 0, 0, 0 },
	{ "ndpi_4in6tunnel.pcap", 3, "192.168.0.1", "10.10.10.1", 6, 64455, 443, 224, 0, 0 },
	{ "ndpi_4in6tunnel.pcap", 4, "10.10.10.1", "192.168.0.1", 6, 443, 64455, 1372, 0, 0 },
	{ "ndpi_openwire.pcapng", 1, "::1", "::1", 6, 51157, 61616, 0, 0, 0 },
	{ "ndpi_openwire.pcapng", 22, "::1", "::1", 6, 61616, 51157, 14, 0, 0 },
	{ "ndpi_openwire.pcapng", 43, "::1", "::1", 6, 51157, 61616, 0, 0, 0 },
	{ "tcpdump_LINKTYPE_IPV6.pcap", 1, "2001:db8::1", "2620:fe::9", 17, 12345, 53, 29, 0, 0 },
};

static void check_frame(const struct expected_frame *e, const struct pa_packet *pkt,
			enum decode_status st)
{
	char src[64], dst[64];
	if (st != DECODE_OK)
		fail_msg("%s frame %llu: status %d", e->file, (unsigned long long)e->frame, st);
	pa_addr_str(&pkt->src, src, sizeof src);
	pa_addr_str(&pkt->dst, dst, sizeof dst);
	if (strcmp(src, e->src) || strcmp(dst, e->dst) || pkt->l4_proto != e->proto ||
	    pkt->sport != e->sport || pkt->dport != e->dport ||
	    pkt->payload_wire_len != e->payload_wire_len || pkt->vlan[0] != e->vlan0 ||
	    pkt->vlan[1] != e->vlan1)
		fail_msg("%s frame %llu: got %s -> %s proto %u ports %u %u len %u vlan %u %u",
			 e->file, (unsigned long long)e->frame, src, dst, pkt->l4_proto, pkt->sport,
			 pkt->dport, pkt->payload_wire_len, pkt->vlan[0], pkt->vlan[1]);
}

static void frames_match_tshark(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
		const struct expected_frame *e = &frames[i];
		char path[512];
		snprintf(path, sizeof path, "%s/%s", PA_SHARED_CAPTURES, e->file);
		struct pa_error err = { { 0 } };
		struct capture_file *cf = capture_file_open(path, &err);
		if (!cf)
			fail_msg("%s", err.msg);
		struct decoder *d = decoder_new(NULL);
		struct capture_record rec;
		struct pa_packet pkt;
		enum decode_problem problem;
		uint64_t n = 0;
		bool seen = false;
		while (capture_file_next(cf, &rec, &err) == CAPTURE_RECORD) {
			pkt.number = ++n;
			enum decode_status st = decode_packet(d, &rec, &pkt, &problem);
			if (n == e->frame) {
				assert_int_equal(pkt.number, n);
				check_frame(e, &pkt, st);
				seen = true;
				break;
			}
		}
		assert_true(seen);
		decoder_free(d);
		capture_file_close(cf);
	}
}

struct totals {
	uint64_t records;
	enum capture_status end;
	struct decode_stats stats;
};

static void read_all(const char *path, struct totals *t)
{
	struct pa_error err = { { 0 } };
	memset(t, 0, sizeof *t);
	struct capture_file *cf = capture_file_open(path, &err);
	if (!cf)
		fail_msg("%s", err.msg);
	struct decoder *d = decoder_new(NULL);
	struct capture_record rec;
	struct pa_packet pkt;
	enum decode_problem problem;
	while ((t->end = capture_file_next(cf, &rec, &err)) == CAPTURE_RECORD) {
		pkt.number = ++t->records;
		decode_packet(d, &rec, &pkt, &problem);
	}
	t->stats = *decoder_stats(d);
	decoder_free(d);
	capture_file_close(cf);
}

static void shared_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", PA_SHARED_CAPTURES, name);
}

/* Per-file totals that tshark/capinfos agree with, and link-specific facts. */
static void file_totals(void **state)
{
	(void)state;
	char p[512];
	struct totals t;

	shared_path(p, sizeof p, "ndpi_KakaoTalk_chat.pcap"); /* SLL */
	read_all(p, &t);
	assert_int_equal(t.records, 347);
	assert_int_equal(t.stats.ipv4, 347);
	assert_int_equal(t.stats.tcp + t.stats.udp + t.stats.other_l4, 347);

	shared_path(p, sizeof p, "ndpi_6in4tunnel.pcap"); /* every packet is 6in4 */
	read_all(p, &t);
	assert_int_equal(t.records, 127);
	assert_int_equal(t.stats.ipv6, 127);
	assert_int_equal(t.stats.ipv4, 0);

	shared_path(p, sizeof p, "zeek_pppoe-over-qinq.pcap");
	read_all(p, &t);
	assert_int_equal(t.records, 86);
	assert_int_equal(t.stats.tcp, 86);

	shared_path(p, sizeof p, "ndpi_badpackets.pcap"); /* first fragments cut short */
	read_all(p, &t);
	assert_int_equal(t.records, 93);
	assert_int_equal(t.stats.udp, 93);
	assert_int_equal(t.stats.snapped, 93);
	assert_int_equal(t.stats.fragments, 93);

	shared_path(p, sizeof p, "arkime_nflog.pcap"); /* a link type we do not decode */
	read_all(p, &t);
	assert_int_equal(t.records, 10);
	assert_int_equal(t.stats.problems[DP_UNSUPPORTED_LINKTYPE], 10);

	shared_path(p, sizeof p, "ndpi_ip_fragmented_garbage.pcap");
	read_all(p, &t);
	assert_int_equal(t.records, 1252);
	assert_int_equal(t.stats.fragments, 1252);
	assert_int_equal(t.stats.reassembled, 4); /* tshark: frames 313, 626, 939, 1252 */
	assert_int_equal(t.stats.problems[DP_BAD_TCP_HEADER], 2); /* tshark: header length 16 */

	shared_path(p, sizeof p, "tcpdump_802.1ad_QinQ.pcap"); /* ARP inside QinQ */
	read_all(p, &t);
	assert_int_equal(t.records, 2);
	assert_int_equal(t.stats.not_ip, 2);
}

/* ARP in 802.1ad + 802.1Q: not IP, but the tags are still reported. */
static void qinq_tags(void **state)
{
	(void)state;
	char p[512];
	shared_path(p, sizeof p, "tcpdump_802.1ad_QinQ.pcap");
	struct pa_error err;
	struct capture_file *cf = capture_file_open(p, &err);
	assert_non_null(cf);
	struct decoder *d = decoder_new(NULL);
	struct capture_record rec;
	struct pa_packet pkt = { .number = 1 };
	assert_int_equal(capture_file_next(cf, &rec, &err), CAPTURE_RECORD);
	assert_int_equal(decode_packet(d, &rec, &pkt, NULL), DECODE_NOT_IP);
	assert_int_equal(pkt.vlan_count, 2);
	assert_int_equal(pkt.vlan[0], 200);
	assert_int_equal(pkt.vlan[1], 2001);
	decoder_free(d);
	capture_file_close(cf);
}

/* capinfos -c for a handful of files, in every format and byte order. */
static const struct {
	const char *file;
	uint64_t records;
} capinfos_counts[] = {
	{ "ndpi_fuzz-2006-06-26-2594.pcap", 691 },  /* big-endian pcap */
	{ "ndpi_nfsv3.pcap", 128 },                 /* big-endian pcap */
	{ "ndpi_fuzz-2020-02-16-11740.pcap", 366 },
	{ "ndpi_reasm_crash_anon.pcapng", 209 },
	{ "ndpi_someip_sd_sample.pcap", 6 },        /* nanosecond pcap */
	{ "ndpi_openwire.pcapng", 43 },
	{ "ndpi_ocs.pcap", 946 },
};

/* Every shared capture, whole, under ASan/UBSan: no crash, and a clean end. */
static void every_shared_capture(void **state)
{
	(void)state;
	/* The shared captures are part of the suite: without them this test
	 * fails instead of passing on nothing. */
	DIR *dir = opendir(PA_SHARED_CAPTURES);
	if (!dir)
		fail_msg("%s: cannot open the shared capture folder: %s", PA_SHARED_CAPTURES,
			 strerror(errno));
	struct dirent *e;
	size_t files = 0, checked = 0;
	uint64_t records = 0;
	while ((e = readdir(dir)) != NULL) {
		const char *n = e->d_name;
		size_t len = strlen(n);
		if (n[0] == '.' || (len > 9 && !strcmp(n + len - 9, ".expected")) ||
		    (len > 3 && !strcmp(n + len - 3, ".md")) || (len > 4 && !strcmp(n + len - 4, ".txt")))
			continue;
		char p[512];
		shared_path(p, sizeof p, n);
		struct totals t;
		read_all(p, &t);
		if (t.end != CAPTURE_EOF)
			fail_msg("%s: ended with status %d", n, t.end);
		assert_int_equal(t.stats.packets, t.records);
		for (size_t i = 0; i < sizeof capinfos_counts / sizeof capinfos_counts[0]; i++) {
			if (strcmp(n, capinfos_counts[i].file) || !capinfos_counts[i].records)
				continue;
			if (t.records != capinfos_counts[i].records)
				fail_msg("%s: %llu records, capinfos says %llu", n,
					 (unsigned long long)t.records,
					 (unsigned long long)capinfos_counts[i].records);
			checked++;
		}
		records += t.records;
		files++;
	}
	closedir(dir);
	/* The shared set is fixed (its MANIFEST.md lists 522 capture files);
	 * capinfos -c over them sums to 82562 records. A set that grew or
	 * shrank fails here until these numbers are measured again. */
	if (files != 522)
		fail_msg("%s: %zu capture files, MANIFEST.md lists 522", PA_SHARED_CAPTURES, files);
	assert_int_equal(checked, 7);
	assert_int_equal(records, 82562);
	print_message("%zu captures, %llu records\n", files, (unsigned long long)records);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames_match_tshark),
		cmocka_unit_test(file_totals),
		cmocka_unit_test(qinq_tags),
		cmocka_unit_test(every_shared_capture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
