/*
 * test-decode.c — the decoder on hand-built frames: every link type, every
 * problem reason, IPv6 extension headers, IP-in-IP, and fragment reassembly
 * (in order, reversed, overlapping, duplicate, too large, evicted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <time.h>

#include "capture/capture.h"
#include "decode/decode.h"

struct frame {
	uint8_t b[70000];
	uint32_t len;
};

static void add(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += (uint32_t)n;
}

static void add16(struct frame *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	add(f, b, 2);
}

static void add32(struct frame *f, uint32_t v)
{
	add16(f, (uint16_t)(v >> 16));
	add16(f, (uint16_t)v);
}

static void ethernet(struct frame *f, uint16_t type)
{
	static const uint8_t macs[12] = { 1, 2, 3, 4, 5, 6, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf };
	add(f, macs, 12);
	add16(f, type);
}

/* IPv4 header: 10.0.0.1 -> 192.0.2.9, total length from payload_len. */
static void ipv4(struct frame *f, uint8_t proto, uint32_t payload_len, uint16_t id,
		 uint16_t frag)
{
	uint8_t h[20] = { 0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 192, 0, 2, 9 };
	uint32_t total = 20 + payload_len;
	h[2] = (uint8_t)(total >> 8);
	h[3] = (uint8_t)total;
	h[4] = (uint8_t)(id >> 8);
	h[5] = (uint8_t)id;
	h[6] = (uint8_t)(frag >> 8);
	h[7] = (uint8_t)frag;
	add(f, h, 20);
}

/* IPv6 header: 2001:db8::1 -> 2001:db8::2. */
static void ipv6(struct frame *f, uint8_t next, uint16_t payload_len)
{
	uint8_t h[40] = { 0x60, 0, 0, 0, 0, 0, next, 55 };
	h[4] = (uint8_t)(payload_len >> 8);
	h[5] = (uint8_t)payload_len;
	h[8] = 0x20, h[9] = 0x01, h[10] = 0x0d, h[11] = 0xb8, h[23] = 1;
	h[24] = 0x20, h[25] = 0x01, h[26] = 0x0d, h[27] = 0xb8, h[39] = 2;
	add(f, h, 40);
}

static void tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags, uint8_t doff)
{
	add16(f, sport);
	add16(f, dport);
	add32(f, 1000);
	add32(f, 2000);
	uint8_t x[8] = { (uint8_t)(doff << 4), flags, 0xff, 0xff, 0, 0, 0, 0 };
	add(f, x, 8);
	for (int i = 5; i < doff; i++)
		add32(f, 0x01010101); /* NOP options */
}

static void udp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t len)
{
	add16(f, sport);
	add16(f, dport);
	add16(f, len);
	add16(f, 0);
}

static struct decoder *dec;

static enum decode_status run(const struct frame *f, int linktype, struct pa_packet *pkt,
			      enum decode_problem *problem)
{
	struct capture_record rec = {
		.ts_us = 1000000, .caplen = f->len, .wirelen = f->len, .linktype = linktype,
		.data = f->b,
	};
	pkt->number = 7;
	return decode_packet(dec, &rec, pkt, problem);
}

static int setup(void **state)
{
	(void)state;
	dec = decoder_new(NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	decoder_free(dec);
	return 0;
}

static void assert_addr(const struct pa_addr *a, const char *text)
{
	char buf[64];
	assert_string_equal(pa_addr_str(a, buf, sizeof buf), text);
}

static void ethernet_tcp(void **state)
{
	(void)state;
	struct frame f = { .len = 0 };
	ethernet(&f, 0x0800);
	ipv4(&f, 6, 24 + 5, 1, 0x4000);
	tcp(&f, 40000, 443, PA_TCP_SYN | PA_TCP_ACK, 6);
	add(&f, "hello", 5);
	add(&f, "\0\0\0\0\0\0", 6); /* Ethernet padding: not payload */
	struct pa_packet pkt;
	enum decode_problem p;
	assert_int_equal(run(&f, PA_LINKTYPE_ETHERNET, &pkt, &p), DECODE_OK);
	assert_int_equal(p, DP_NONE);
	assert_int_equal(pkt.number, 7);
	assert_int_equal(pkt.ts_us, 1000000);
	assert_int_equal(pkt.caplen, f.len);
	assert_ptr_equal(pkt.frame, f.b);
	assert_ptr_equal(pkt.dst_mac, f.b);
	assert_ptr_equal(pkt.src_mac, f.b + 6);
	assert_int_equal(pkt.vlan_count, 0);
	assert_int_equal(pkt.ip_version, 4);
	assert_addr(&pkt.src, "10.0.0.1");
	assert_addr(&pkt.dst, "192.0.2.9");
	assert_ptr_equal(pkt.l3, f.b + 14);
	assert_int_equal(pkt.ip_len, 49);
	assert_int_equal(pkt.l3_len, 49);
	assert_int_equal(pkt.l4_proto, 6);
	assert_int_equal(pkt.ttl, 64);
	assert_false(pkt.reassembled);
	assert_int_equal(pkt.sport, 40000);
	assert_int_equal(pkt.dport, 443);
	assert_int_equal(pkt.tcp_flags, PA_TCP_SYN | PA_TCP_ACK);
	assert_int_equal(pkt.tcp_seq, 1000);
	assert_int_equal(pkt.tcp_ack, 2000);
	assert_int_equal(pkt.payload_len, 5);
	assert_int_equal(pkt.payload_wire_len, 5);
	assert_memory_equal(pkt.payload, "hello", 5);
}

static void vlan_stack_and_shims(void **state)
{
	(void)state;
	struct pa_packet pkt;
	enum decode_problem p;
	/* three tags: 802.1ad, 0x9100, 802.1Q */
	struct frame f = { .len = 0 };
	ethernet(&f, 0x88a8);
	add16(&f, 0x2000 | 100);
	add16(&f, 0x9100);
	add16(&f, 200);
	add16(&f, 0x8100);
	add16(&f, 300);
	add16(&f, 0x86dd);
	ipv6(&f, 17, 8 + 3);
	udp(&f, 53, 5353, 11);
	add(&f, "abc", 3);
	assert_int_equal(run(&f, PA_LINKTYPE_ETHERNET, &pkt, &p), DECODE_OK);
	assert_int_equal(pkt.vlan_count, 3);
	assert_int_equal(pkt.vlan[0], 100);
	assert_int_equal(pkt.vlan[1], 200);
	assert_int_equal(pkt.ip_version, 6);
	assert_addr(&pkt.src, "2001:db8::1");
	assert_int_equal(pkt.ttl, 55);
	assert_int_equal(pkt.dport, 5353);
	assert_int_equal(pkt.payload_len, 3);

	/* PPPoE session carrying IPv4; the session length cuts padding */
	f.len = 0;
	ethernet(&f, 0x8864);
	add16(&f, 0x1100);
	add16(&f, 0x0001);
	add16(&f, 2 + 20 + 8 + 2);
	add16(&f, 0x0021);
	ipv4(&f, 17, 8 + 2, 9, 0);
	udp(&f, 1, 2, 10);
	add(&f, "zz", 2);
	add(&f, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(run(&f, PA_LINKTYPE_ETHERNET, &pkt, &p), DECODE_OK);
	assert_int_equal(pkt.payload_len, 2);
	assert_int_equal(pkt.sport, 1);

	/* MPLS, two labels */
	f.len = 0;
	ethernet(&f, 0x8847);
	add32(&f, 0x00010040);
	add32(&f, 0x00020140);
	ipv4(&f, 6, 20, 1, 0);
	tcp(&f, 5, 6, PA_TCP_ACK, 5);
	assert_int_equal(run(&f, PA_LINKTYPE_ETHERNET, &pkt, &p), DECODE_OK);
	assert_int_equal(pkt.dport, 6);

	/* 802.3 + LLC/SNAP */
	f.len = 0;
	ethernet(&f, 48);
	add(&f, "\xaa\xaa\x03\x00\x00\x00", 6);
	add16(&f, 0x0800);
	ipv4(&f, 6, 20, 1, 0);
	tcp(&f, 7, 8, PA_TCP_ACK, 5);
	assert_int_equal(run(&f, PA_LINKTYPE_ETHERNET, &pkt, &p), DECODE_OK);
	assert_int_equal(pkt.sport, 7);

	/* ARP: not IP, not a problem */
	f.len = 0;
	ethernet(&f, 0x0806);
	add(&f, "\0\1\x08\0\6\4\0\1", 8);
	uint64_t before = decoder_stats(dec)->not_ip;
	assert_int_equal(run(&f, PA_LINKTYPE_ETHERNET, &pkt, &p), DECODE_NOT_IP);
	assert_int_equal(decoder_stats(dec)->not_ip, before + 1);
}

static void other_link_types(void **state)
{
	(void)state;
	struct pa_packet pkt;
	enum decode_problem p;
	struct frame ip = { .len = 0 };
	ipv4(&ip, 17, 8, 1, 0);
	udp(&ip, 11, 22, 8);
	struct frame f;

	/* Linux cooked v1: source MAC from the address field */
	f.len = 0;
	add16(&f, 4);
	add16(&f, 1);
	add16(&f, 6);
	add(&f, "\x11\x22\x33\x44\x55\x66\0\0", 8);
	add16(&f, 0x0800);
	add(&f, ip.b, ip.len);
	assert_int_equal(run(&f, PA_LINKTYPE_LINUX_SLL, &pkt, &p), DECODE_OK);
	assert_ptr_equal(pkt.src_mac, f.b + 6);
	assert_null(pkt.dst_mac);
	assert_int_equal(pkt.dport, 22);

	/* Linux cooked v2 */
	f.len = 0;
	add16(&f, 0x0800);
	add16(&f, 0);
	add32(&f, 3);
	add16(&f, 1);
	add(&f, "\0\6", 2);
	add(&f, "\x11\x22\x33\x44\x55\x66\0\0", 8);
	add(&f, ip.b, ip.len);
	assert_int_equal(run(&f, PA_LINKTYPE_LINUX_SLL2, &pkt, &p), DECODE_OK);
	assert_ptr_equal(pkt.src_mac, f.b + 12);
	assert_int_equal(pkt.sport, 11);

	/* raw IP under every number it is known by */
	const int raw[] = { PA_LINKTYPE_RAW, 12, 14, PA_LINKTYPE_IPV4 };
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(run(&ip, raw[i], &pkt, &p), DECODE_OK);
		assert_int_equal(pkt.sport, 11);
		assert_null(pkt.src_mac);
	}
	struct frame ip6 = { .len = 0 };
	ipv6(&ip6, 17, 8);
	udp(&ip6, 33, 44, 8);
	assert_int_equal(run(&ip6, PA_LINKTYPE_IPV6, &pkt, &p), DECODE_OK);
	assert_int_equal(pkt.dport, 44);
	assert_int_equal(run(&ip6, PA_LINKTYPE_RAW, &pkt, &p), DECODE_OK);
	/* IPv4 link type with an IPv6 packet */
	assert_int_equal(run(&ip6, PA_LINKTYPE_IPV4, &pkt, &p), DECODE_INVALID);
	assert_int_equal(p, DP_BAD_IPV4_HEADER);

	/* NULL / LOOP: family values of BSD, Linux, macOS, in both byte orders */
	const uint32_t families[] = { 2, 24, 28, 30 };
	for (size_t i = 0; i < 4; i++) {
		for (int order = 0; order < 2; order++) {
			const struct frame *inner = families[i] == 2 ? &ip : &ip6;
			uint32_t v = families[i];
			f.len = 0;
			if (order)
				add32(&f, v);
			else
				add32(&f, __builtin_bswap32(v));
			add(&f, inner->b, inner->len);
			int lt = order ? PA_LINKTYPE_LOOP : PA_LINKTYPE_NULL;
			assert_int_equal(run(&f, lt, &pkt, &p), DECODE_OK);
			assert_int_equal(pkt.ip_version, families[i] == 2 ? 4 : 6);
		}
	}
	f.len = 0;
	add32(&f, 7);
	add(&f, ip.b, ip.len);
	assert_int_equal(run(&f, PA_LINKTYPE_NULL, &pkt, &p), DECODE_NOT_IP);

	/* anything else */
	uint64_t before = decoder_stats(dec)->problems[DP_UNSUPPORTED_LINKTYPE];
	assert_int_equal(run(&ip, 9 /* PPP */, &pkt, &p), DECODE_INVALID);
	assert_int_equal(p, DP_UNSUPPORTED_LINKTYPE);
	assert_int_equal(decoder_stats(dec)->problems[DP_UNSUPPORTED_LINKTYPE], before + 1);
	assert_string_equal(decode_problem_name(p), "unsupported-linktype");
}

/* One frame per problem reason; each counted once under its name. */
static void problem_reasons(void **state)
{
	(void)state;
	struct pa_packet pkt;
	enum decode_problem p;
	struct frame f;
	int nc = 0;

#define EXPECT(linktype, reason)                                                 \
	do {                                                                     \
		uint64_t before = decoder_stats(dec)->problems[reason];         \
		assert_int_equal(run(&f, linktype, &pkt, &p), DECODE_INVALID);   \
		assert_int_equal(p, reason);                                     \
		assert_int_equal(decoder_stats(dec)->problems[reason], before + 1); \
		nc++;                                                            \
	} while (0)

	f.len = 0;
	ethernet(&f, 0x0800);
	f.len = 10;
	EXPECT(PA_LINKTYPE_ETHERNET, DP_TRUNCATED_LINK);
	f.len = 0;
	ethernet(&f, 0x8100);
	add16(&f, 5);
	EXPECT(PA_LINKTYPE_ETHERNET, DP_TRUNCATED_LINK);

	f.len = 0;
	ethernet(&f, 0x0800);
	ipv4(&f, 6, 20, 1, 0);
	f.len = 14 + 12;
	EXPECT(PA_LINKTYPE_ETHERNET, DP_TRUNCATED_IPV4);

	f.len = 0;
	ipv4(&f, 6, 20, 1, 0);
	tcp(&f, 1, 2, 0, 5);
	f.b[0] = 0x44; /* IHL 4 */
	EXPECT(PA_LINKTYPE_RAW, DP_BAD_IPV4_HEADER);
	f.b[0] = 0x45;
	f.b[2] = 0, f.b[3] = 10; /* total length < header */
	EXPECT(PA_LINKTYPE_RAW, DP_BAD_IPV4_HEADER);

	f.len = 0;
	ipv6(&f, 6, 20);
	f.len = 30;
	EXPECT(PA_LINKTYPE_RAW, DP_TRUNCATED_IPV6);
	f.len = 0;
	ethernet(&f, 0x86dd);
	ipv4(&f, 6, 20, 1, 0);
	tcp(&f, 1, 2, 0, 5);
	EXPECT(PA_LINKTYPE_ETHERNET, DP_BAD_IPV6_HEADER);

	/* hop-by-hop header longer than the IPv6 payload */
	f.len = 0;
	ipv6(&f, 0, 8);
	add(&f, "\x06\x05\0\0\0\0\0\0", 8);
	EXPECT(PA_LINKTYPE_RAW, DP_BAD_IPV6_EXTENSION);

	f.len = 0;
	ipv4(&f, 6, 20, 1, 0);
	tcp(&f, 1, 2, 0, 5);
	f.len = 20 + 10;
	EXPECT(PA_LINKTYPE_RAW, DP_TRUNCATED_TCP);
	f.len = 0;
	ipv4(&f, 6, 20, 1, 0);
	tcp(&f, 1, 2, 0, 4); /* data offset 4 */
	EXPECT(PA_LINKTYPE_RAW, DP_BAD_TCP_HEADER);
	assert_int_equal(pkt.sport, 1); /* filled as far as known */
	f.len = 0;
	ipv4(&f, 6, 20, 1, 0);
	tcp(&f, 1, 2, 0, 8); /* options past the IP length */
	EXPECT(PA_LINKTYPE_RAW, DP_BAD_TCP_HEADER);

	f.len = 0;
	ipv4(&f, 17, 8, 1, 0);
	udp(&f, 1, 2, 8);
	f.len = 20 + 6;
	EXPECT(PA_LINKTYPE_RAW, DP_TRUNCATED_UDP);
	f.len = 0;
	ipv4(&f, 17, 8, 1, 0);
	udp(&f, 1, 2, 20); /* longer than the IP payload */
	EXPECT(PA_LINKTYPE_RAW, DP_BAD_UDP_LENGTH);
	f.len = 0;
	ipv4(&f, 17, 8, 1, 0);
	udp(&f, 1, 2, 4);
	EXPECT(PA_LINKTYPE_RAW, DP_BAD_UDP_LENGTH);
	assert_int_equal(nc, 14);
	assert_string_equal(decode_problem_name(DP_BAD_UDP_LENGTH), "bad-udp-length");
	assert_string_equal(decode_problem_name(DP_FRAGMENT_EVICTED), "fragment-evicted");
#undef EXPECT
}

/* A capture snapped at 40 bytes: decoded as far as captured. */
static void snapped_packet(void **state)
{
	(void)state;
	struct frame f = { .len = 0 };
	ipv4(&f, 6, 20 + 100, 1, 0);
	tcp(&f, 80, 9999, PA_TCP_ACK, 5);
	memset(f.b + f.len, 'x', 100);
	f.len += 100;
	struct capture_record rec = {
		.caplen = 50, .wirelen = f.len, .linktype = PA_LINKTYPE_RAW, .data = f.b,
	};
	struct pa_packet pkt = { 0 };
	enum decode_problem p;
	uint64_t snapped = decoder_stats(dec)->snapped;
	assert_int_equal(decode_packet(dec, &rec, &pkt, &p), DECODE_OK);
	assert_int_equal(decoder_stats(dec)->snapped, snapped + 1);
	assert_int_equal(pkt.ip_len, 140);
	assert_int_equal(pkt.l3_len, 50);
	assert_int_equal(pkt.payload_len, 10);
	assert_int_equal(pkt.payload_wire_len, 100);
}

static void ipv6_extensions(void **state)
{
	(void)state;
	struct pa_packet pkt;
	enum decode_problem p;
	struct frame f = { .len = 0 };
	/* hop-by-hop (8) -> destination options (16) -> routing (8) -> AH (12) -> UDP */
	ipv6(&f, 0, 8 + 16 + 8 + 12 + 8 + 4);
	add(&f, "\x3c\x00\x01\x04\0\0\0\0", 8);
	add(&f, "\x2b\x01\x01\x0c\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	add(&f, "\x33\x00\0\0\0\0\0\0", 8);
	add(&f, "\x11\x01\0\0\0\0\0\0\0\0\0\0", 12);
	udp(&f, 500, 4500, 12);
	add(&f, "data", 4);
	assert_int_equal(run(&f, PA_LINKTYPE_RAW, &pkt, &p), DECODE_OK);
	assert_int_equal(pkt.l4_proto, 17);
	assert_int_equal(pkt.sport, 500);
	assert_int_equal(pkt.payload_len, 4);
	assert_memory_equal(pkt.payload, "data", 4);

	/* ESP: stop cleanly, ports unknown */
	f.len = 0;
	ipv6(&f, 50, 16);
	add(&f, "\0\0\0\1\0\0\0\2\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(run(&f, PA_LINKTYPE_RAW, &pkt, &p), DECODE_OK);
	assert_int_equal(pkt.l4_proto, 50);
	assert_int_equal(pkt.sport, 0);
	assert_int_equal(pkt.payload_len, 16);

	/* No Next Header after destination options */
	f.len = 0;
	ipv6(&f, 60, 8);
	add(&f, "\x3b\x00\x01\x04\0\0\0\0", 8);
	assert_int_equal(run(&f, PA_LINKTYPE_RAW, &pkt, &p), DECODE_OK);
	assert_int_equal(pkt.l4_proto, 59);
	assert_int_equal(pkt.payload_len, 0);

	/* an atomic fragment is a whole packet */
	f.len = 0;
	ipv6(&f, 44, 8 + 8);
	add(&f, "\x11\x00\x00\x00\0\0\0\x2a", 8);
	udp(&f, 1, 2, 8);
	assert_int_equal(run(&f, PA_LINKTYPE_RAW, &pkt, &p), DECODE_OK);
	assert_int_equal(pkt.l4_proto, 17);
	assert_false(pkt.reassembled);
}

static void ip_in_ip(void **state)
{
	(void)state;
	struct pa_packet pkt;
	enum decode_problem p;
	struct frame f = { .len = 0 };
	/* 6in4 */
	ipv4(&f, 41, 40 + 20, 1, 0);
	ipv6(&f, 6, 20);
	tcp(&f, 1234, 993, PA_TCP_SYN, 5);
	assert_int_equal(run(&f, PA_LINKTYPE_RAW, &pkt, &p), DECODE_OK);
	assert_int_equal(pkt.ip_version, 6);
	assert_addr(&pkt.src, "2001:db8::1");
	assert_int_equal(pkt.dport, 993);
	assert_ptr_equal(pkt.l3, f.b + 20);
	assert_int_equal(pkt.ip_len, 60);

	/* 4in6 */
	f.len = 0;
	ipv6(&f, 4, 20 + 8);
	ipv4(&f, 17, 8, 1, 0);
	udp(&f, 68, 67, 8);
	assert_int_equal(run(&f, PA_LINKTYPE_RAW, &pkt, &p), DECODE_OK);
	assert_int_equal(pkt.ip_version, 4);
	assert_int_equal(pkt.sport, 68);

	/* 4in4, inner broken: the inner problem is the packet's */
	f.len = 0;
	ipv4(&f, 4, 20 + 20, 1, 0);
	ipv4(&f, 6, 20, 1, 0);
	tcp(&f, 1, 2, 0, 3);
	assert_int_equal(run(&f, PA_LINKTYPE_RAW, &pkt, &p), DECODE_INVALID);
	assert_int_equal(p, DP_BAD_TCP_HEADER);

	/* GRE stays the outer flow */
	f.len = 0;
	ipv4(&f, 47, 4 + 20, 1, 0);
	add(&f, "\0\0\x08\0", 4);
	ipv4(&f, 6, 0, 1, 0);
	assert_int_equal(run(&f, PA_LINKTYPE_RAW, &pkt, &p), DECODE_OK);
	assert_int_equal(pkt.l4_proto, 47);
	assert_int_equal(pkt.payload_len, 24);
}

/* ---- fragments ------------------------------------------------------------ */

static uint8_t datagram[3000];

/* IPv4 fragment of a UDP datagram (8-byte header + 1992 bytes) */
static void v4_fragment(struct frame *f, uint16_t id, uint32_t off, uint32_t len, bool more)
{
	f->len = 0;
	ipv4(f, 17, len, id, (uint16_t)((more ? 0x2000 : 0) | off / 8));
	add(f, datagram + off, len);
}

static enum decode_status run_at(const struct frame *f, int64_t ts, struct pa_packet *pkt,
				 enum decode_problem *p)
{
	struct capture_record rec = {
		.ts_us = ts, .caplen = f->len, .wirelen = f->len, .linktype = PA_LINKTYPE_RAW,
		.data = f->b,
	};
	pkt->number = 42;
	return decode_packet(dec, &rec, pkt, p);
}

static void init_datagram(void)
{
	for (size_t i = 0; i < sizeof datagram; i++)
		datagram[i] = (uint8_t)(i * 7 + 3);
	/* UDP header: 4000 -> 53, length 2000 */
	datagram[0] = 0x0f, datagram[1] = 0xa0, datagram[2] = 0, datagram[3] = 53;
	datagram[4] = 0x07, datagram[5] = 0xd0, datagram[6] = 0, datagram[7] = 0;
}

static void check_reassembled(const struct pa_packet *pkt)
{
	assert_true(pkt->reassembled);
	assert_int_equal(pkt->number, 42);
	assert_int_equal(pkt->ip_len, 2020);
	assert_int_equal(pkt->l3_len, 2020);
	assert_int_equal(pkt->sport, 4000);
	assert_int_equal(pkt->dport, 53);
	assert_int_equal(pkt->payload_len, 1992);
	assert_memory_equal(pkt->payload, datagram + 8, 1992);
	assert_int_equal(pkt->l3[6] & 0x3f, 0); /* no longer a fragment */
}

static void fragments_in_order_and_reversed(void **state)
{
	(void)state;
	init_datagram();
	struct frame f;
	struct pa_packet pkt;
	enum decode_problem p;
	uint64_t reasm = decoder_stats(dec)->reassembled;

	v4_fragment(&f, 1, 0, 800, true);
	assert_int_equal(run_at(&f, 1, &pkt, &p), DECODE_HELD);
	v4_fragment(&f, 1, 800, 800, true);
	assert_int_equal(run_at(&f, 2, &pkt, &p), DECODE_HELD);
	v4_fragment(&f, 1, 1600, 400, false);
	assert_int_equal(run_at(&f, 3, &pkt, &p), DECODE_OK);
	assert_int_equal(p, DP_NONE);
	check_reassembled(&pkt);
	assert_int_equal(pkt.ts_us, 3);

	v4_fragment(&f, 2, 1600, 400, false);
	assert_int_equal(run_at(&f, 4, &pkt, &p), DECODE_HELD);
	v4_fragment(&f, 2, 800, 800, true);
	assert_int_equal(run_at(&f, 5, &pkt, &p), DECODE_HELD);
	v4_fragment(&f, 2, 0, 800, true);
	assert_int_equal(run_at(&f, 6, &pkt, &p), DECODE_OK);
	check_reassembled(&pkt);
	assert_int_equal(decoder_stats(dec)->reassembled, reasm + 2);
}

static void fragments_overlap_and_duplicate(void **state)
{
	(void)state;
	init_datagram();
	struct frame f;
	struct pa_packet pkt;
	enum decode_problem p;
	uint64_t overlaps = decoder_stats(dec)->problems[DP_FRAGMENT_OVERLAP];

	/* a duplicate and an overlap with the same bytes: not a conflict */
	v4_fragment(&f, 3, 0, 800, true);
	assert_int_equal(run_at(&f, 1, &pkt, &p), DECODE_HELD);
	assert_int_equal(run_at(&f, 1, &pkt, &p), DECODE_HELD);
	v4_fragment(&f, 3, 400, 1200, true);
	assert_int_equal(run_at(&f, 2, &pkt, &p), DECODE_HELD);
	assert_int_equal(p, DP_NONE);
	v4_fragment(&f, 3, 1600, 400, false);
	assert_int_equal(run_at(&f, 3, &pkt, &p), DECODE_OK);
	check_reassembled(&pkt);
	assert_int_equal(decoder_stats(dec)->problems[DP_FRAGMENT_OVERLAP], overlaps);

	/* an overlap with other bytes: counted, and the first copy wins */
	v4_fragment(&f, 4, 0, 800, true);
	assert_int_equal(run_at(&f, 1, &pkt, &p), DECODE_HELD);
	v4_fragment(&f, 4, 400, 1200, true);
	f.b[20 + 100] ^= 0xff; /* byte 500 of the datagram differs */
	assert_int_equal(run_at(&f, 2, &pkt, &p), DECODE_HELD);
	assert_int_equal(p, DP_FRAGMENT_OVERLAP);
	assert_int_equal(decoder_stats(dec)->problems[DP_FRAGMENT_OVERLAP], overlaps + 1);
	v4_fragment(&f, 4, 1600, 400, false);
	assert_int_equal(run_at(&f, 3, &pkt, &p), DECODE_OK);
	check_reassembled(&pkt); /* byte 500 is the original */
}

static void fragments_too_large(void **state)
{
	(void)state;
	init_datagram();
	struct frame f;
	struct pa_packet pkt;
	enum decode_problem p;
	v4_fragment(&f, 5, 0, 800, true);
	assert_int_equal(run_at(&f, 1, &pkt, &p), DECODE_HELD);
	/* offset 65000 + 800 bytes + header > 65535 */
	f.len = 0;
	ipv4(&f, 17, 800, 5, 65000 / 8);
	add(&f, datagram, 800);
	uint64_t before = decoder_stats(dec)->problems[DP_FRAGMENT_TOO_LARGE];
	assert_int_equal(run_at(&f, 2, &pkt, &p), DECODE_INVALID);
	assert_int_equal(p, DP_FRAGMENT_TOO_LARGE);
	assert_int_equal(decoder_stats(dec)->problems[DP_FRAGMENT_TOO_LARGE], before + 1);
	/* the datagram was dropped: the rest alone does not complete it */
	v4_fragment(&f, 5, 800, 1200, false);
	assert_int_equal(run_at(&f, 3, &pkt, &p), DECODE_HELD);
}

static void fragments_evicted(void **state)
{
	(void)state;
	init_datagram();
	struct frame f;
	struct pa_packet pkt;
	enum decode_problem p;
	/* a small table: 3 datagrams of one 800-byte fragment fit, not 8 */
	struct decode_config cfg = { .frag_memory_max = 8000, .frag_timeout_us = 1000 };
	struct decoder *saved = dec;
	dec = decoder_new(&cfg);
	for (uint16_t id = 100; id < 108; id++) {
		v4_fragment(&f, id, 0, 800, true);
		assert_int_equal(run_at(&f, 10, &pkt, &p), DECODE_HELD);
	}
	uint64_t evicted = decoder_stats(dec)->problems[DP_FRAGMENT_EVICTED];
	assert_true(evicted >= 4);
	/* the oldest went first: id 100 cannot complete any more */
	v4_fragment(&f, 100, 800, 1200, false);
	assert_int_equal(run_at(&f, 11, &pkt, &p), DECODE_HELD);
	/* the newest is still there */
	v4_fragment(&f, 107, 800, 1200, false);
	assert_int_equal(run_at(&f, 12, &pkt, &p), DECODE_OK);
	check_reassembled(&pkt);

	/* timeout: a datagram older than 1 ms is dropped when time moves on */
	v4_fragment(&f, 200, 0, 800, true);
	assert_int_equal(run_at(&f, 100, &pkt, &p), DECODE_HELD);
	evicted = decoder_stats(dec)->problems[DP_FRAGMENT_EVICTED];
	v4_fragment(&f, 200, 800, 1200, false);
	assert_int_equal(run_at(&f, 5000, &pkt, &p), DECODE_HELD);
	assert_true(decoder_stats(dec)->problems[DP_FRAGMENT_EVICTED] > evicted);
	decoder_free(dec);
	dec = saved;
}

static void ipv6_fragments(void **state)
{
	(void)state;
	init_datagram();
	struct frame f;
	struct pa_packet pkt;
	enum decode_problem p;
	/* hop-by-hop before the fragment header: its next header gets patched */
	for (int part = 1; part >= 0; part--) {
		uint32_t off = part ? 1000 : 0, len = part ? 1000 : 1000;
		f.len = 0;
		ipv6(&f, 0, (uint16_t)(8 + 8 + len));
		add(&f, "\x2c\x00\x01\x04\0\0\0\0", 8);
		uint8_t fh[8] = { 17, 0, (uint8_t)(off >> 8), (uint8_t)((off & 0xf8) | (part ? 0 : 1)),
				  0, 0, 0x12, 0x34 };
		add(&f, fh, 8);
		add(&f, datagram + off, len);
		enum decode_status st = run_at(&f, 20, &pkt, &p);
		if (part) {
			assert_int_equal(st, DECODE_HELD);
		} else {
			assert_int_equal(st, DECODE_OK);
		}
	}
	assert_true(pkt.reassembled);
	assert_int_equal(pkt.ip_version, 6);
	assert_int_equal(pkt.l4_proto, 17);
	assert_int_equal(pkt.l3[40], 17); /* hop-by-hop now names UDP */
	assert_int_equal(pkt.ip_len, 40 + 8 + 2000);
	assert_int_equal(pkt.sport, 4000);
	assert_int_equal(pkt.payload_len, 1992);
	assert_memory_equal(pkt.payload, datagram + 8, 1992);
}

/* The hand-written formatters print what the C library prints: addresses
 * as inet_ntop, timestamps as gmtime_r + strftime with microseconds. */
static void text_forms_match_libc(void **state)
{
	(void)state;
	char ours[64], libc[64];
	uint32_t x = 0x9e3779b9u;
	for (int i = 0; i < 200000; i++) {
		x = x * 1664525u + 1013904223u;
		struct pa_addr a = {.family = 4};
		uint32_t v = i < 256 ? (uint32_t)i * 0x01010101u : x;
		memcpy(a.bytes, &v, 4);
		inet_ntop(AF_INET, a.bytes, libc, sizeof libc);
		assert_string_equal(pa_addr_str(&a, ours, sizeof ours), libc);
	}
	const int64_t fixed[] = {0, 1, -1, 999999, -999999, 1000000, -1000000, 951782400000000,
				 951868800000000, 4102444800000000, 253402300799999999,
				 -62135596800000000, 1649106109723000};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] + 100000; i++) {
		x = x * 1664525u + 1013904223u;
		int64_t us = i < sizeof fixed / sizeof fixed[0] ? fixed[i]
				: (int64_t)(((uint64_t)x << 20) ^ x) % 253402300800000000LL;
		if (i % 3 == 0 && i >= sizeof fixed / sizeof fixed[0])
			us = -us / 1000;
		time_t sec = (time_t)(us / 1000000);
		long usec = (long)(us % 1000000);
		if (usec < 0) {
			usec += 1000000;
			sec--;
		}
		struct tm tm;
		gmtime_r(&sec, &tm);
		char base[40];
		strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(libc, sizeof libc, "%s.%06ldZ", base, usec);
		assert_string_equal(pa_time_str(us, ours, sizeof ours), libc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ethernet_tcp),
		cmocka_unit_test(vlan_stack_and_shims),
		cmocka_unit_test(other_link_types),
		cmocka_unit_test(problem_reasons),
		cmocka_unit_test(snapped_packet),
		cmocka_unit_test(ipv6_extensions),
		cmocka_unit_test(ip_in_ip),
		cmocka_unit_test(fragments_in_order_and_reversed),
		cmocka_unit_test(fragments_overlap_and_duplicate),
		cmocka_unit_test(fragments_too_large),
		cmocka_unit_test(fragments_evicted),
		cmocka_unit_test(ipv6_fragments),
		cmocka_unit_test(text_forms_match_libc),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
