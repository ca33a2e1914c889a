/*
 * decode.c — the decoder object and the link layers: Ethernet (with any
 * number of VLAN tags, LLC/SNAP, PPPoE session, MPLS), Linux cooked v1/v2,
 * raw IP, and BSD null/loopback. Everything ends in decode_ip().
 */
#include "decode/decode_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const problem_names[DP_MAX] = {
	[DP_NONE] = "none",
	[DP_UNSUPPORTED_LINKTYPE] = "unsupported-linktype",
	[DP_TRUNCATED_LINK] = "truncated-link",
	[DP_TRUNCATED_IPV4] = "truncated-ipv4",
	[DP_BAD_IPV4_HEADER] = "bad-ipv4-header",
	[DP_TRUNCATED_IPV6] = "truncated-ipv6",
	[DP_BAD_IPV6_EXTENSION] = "bad-ipv6-extension",
	[DP_TRUNCATED_TCP] = "truncated-tcp",
	[DP_BAD_TCP_HEADER] = "bad-tcp-header",
	[DP_TRUNCATED_UDP] = "truncated-udp",
	[DP_BAD_UDP_LENGTH] = "bad-udp-length",
	[DP_FRAGMENT_OVERLAP] = "fragment-overlap",
	[DP_FRAGMENT_TOO_LARGE] = "fragment-too-large",
	[DP_FRAGMENT_EVICTED] = "fragment-evicted",
	[DP_BAD_IPV6_HEADER] = "bad-ipv6-header",
};

const char *decode_problem_name(enum decode_problem p)
{
	if ((unsigned)p >= DP_MAX)
		return "unknown";
	return problem_names[p];
}

struct decoder *decoder_new(const struct decode_config *cfg)
{
	struct decoder *d = pa_xcalloc(1, sizeof *d);
	if (cfg)
		d->cfg = *cfg;
	if (!d->cfg.frag_memory_max)
		d->cfg.frag_memory_max = 4u << 20;
	if (!d->cfg.frag_timeout_us)
		d->cfg.frag_timeout_us = 30 * 1000000LL;
	d->frags = frag_table_new(d->cfg.frag_memory_max, d->cfg.frag_timeout_us);
	return d;
}

void decoder_free(struct decoder *d)
{
	if (!d)
		return;
	frag_table_free(d->frags);
	free(d);
}

const struct decode_stats *decoder_stats(const struct decoder *d)
{
	return &d->stats;
}

/* Where the link layer left us: an IP header at off (version 4/6, or 0 to
 * read it from the header), or not IP, or broken. */
struct link_result {
	enum decode_status status;
	enum decode_problem problem;
	uint32_t off;
	int version;
	uint32_t limit; /* the link header's own length for what follows; 0 = none */
};

static struct link_result link_ip(uint32_t off, int version)
{
	return (struct link_result){ .status = DECODE_OK, .off = off, .version = version };
}

static struct link_result link_not_ip(void)
{
	return (struct link_result){ .status = DECODE_NOT_IP };
}

static struct link_result link_invalid(enum decode_problem p)
{
	return (struct link_result){ .status = DECODE_INVALID, .problem = p };
}

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD1 0x9100
#define ETH_QINQ_OLD2 0x9200
#define ETH_PPPOE_SESSION 0x8864
#define ETH_MPLS 0x8847
#define ETH_MPLS_MCAST 0x8848
#define ETH_FABRICPATH 0x8903
#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057
#define MAX_MPLS_LABELS 16

static struct link_result after_mpls(const uint8_t *f, uint32_t len, uint32_t off)
{
	for (int i = 0; i < MAX_MPLS_LABELS; i++) {
		if (len - off < 4)
			return link_invalid(DP_TRUNCATED_LINK);
		bool bottom = f[off + 2] & 0x01;
		off += 4;
		if (bottom) {
			/* No protocol field: an IP payload shows by its version
			 * nibble; pseudowires (Ethernet, control word) are left alone. */
			if (off >= len)
				return link_invalid(DP_TRUNCATED_LINK);
			int v = f[off] >> 4;
			return v == 4 || v == 6 ? link_ip(off, v) : link_not_ip();
		}
	}
	return link_not_ip();
}

/* From an EtherType at off-2, through tags and shims, to the IP header. */
static struct link_result after_ethertype(struct pa_packet *pkt, const uint8_t *f, uint32_t len,
					  uint32_t off, uint16_t type)
{
	for (;;) {
		switch (type) {
		case ETH_IPV4:
			return link_ip(off, 4);
		case ETH_IPV6:
			return link_ip(off, 6);
		case ETH_VLAN:
		case ETH_QINQ:
		case ETH_QINQ_OLD1:
		case ETH_QINQ_OLD2:
			if (len - off < 4)
				return link_invalid(DP_TRUNCATED_LINK);
			if (pkt->vlan_count < 2)
				pkt->vlan[pkt->vlan_count] = be16(f + off) & 0x0fff;
			if (pkt->vlan_count < UINT8_MAX)
				pkt->vlan_count++;
			type = be16(f + off + 2);
			off += 4;
			continue;
		case ETH_PPPOE_SESSION: {
			if (len - off < 8)
				return link_invalid(DP_TRUNCATED_LINK);
			uint16_t ppp = be16(f + off + 6);
			uint16_t session_len = be16(f + off + 4); /* PPP protocol + payload */
			off += 8;
			struct link_result r;
			if (ppp == PPP_IPV4)
				r = link_ip(off, 4);
			else if (ppp == PPP_IPV6)
				r = link_ip(off, 6);
			else
				return link_not_ip();
			/* Bytes past the session length are link padding. */
			r.limit = session_len >= 2 ? session_len - 2u : 0;
			return r;
		}
		case ETH_MPLS:
		case ETH_MPLS_MCAST:
			return after_mpls(f, len, off);
		case ETH_FABRICPATH:
			/* Cisco FabricPath: a 2-byte tag, then the host's own
			 * Ethernet header, whose addresses are the ones that matter. */
			if (len - off < 16)
				return link_invalid(DP_TRUNCATED_LINK);
			pkt->dst_mac = f + off + 2;
			pkt->src_mac = f + off + 8;
			type = be16(f + off + 14);
			off += 16;
			continue;
		default:
			break;
		}
		if (type >= 0x0600)
			return link_not_ip();
		/* 802.3 length field: only LLC/SNAP with an EtherType can carry IP. */
		if (len - off < 3)
			return link_invalid(DP_TRUNCATED_LINK);
		if (f[off] != 0xaa || f[off + 1] != 0xaa || f[off + 2] != 0x03)
			return link_not_ip();
		if (len - off < 8)
			return link_invalid(DP_TRUNCATED_LINK);
		type = be16(f + off + 6);
		off += 8;
	}
}

#define ARPHRD_ETHER 1

static struct link_result link_layer(struct pa_packet *pkt, const uint8_t *f, uint32_t len)
{
	switch (pkt->linktype) {
	case PA_LINKTYPE_ETHERNET:
		if (len < 14)
			return link_invalid(DP_TRUNCATED_LINK);
		pkt->dst_mac = f;
		pkt->src_mac = f + 6;
		return after_ethertype(pkt, f, len, 14, be16(f + 12));
	case PA_LINKTYPE_LINUX_SLL:
		if (len < 16)
			return link_invalid(DP_TRUNCATED_LINK);
		if (be16(f + 2) == ARPHRD_ETHER && be16(f + 4) == 6)
			pkt->src_mac = f + 6;
		return after_ethertype(pkt, f, len, 16, be16(f + 14));
	case PA_LINKTYPE_LINUX_SLL2:
		if (len < 20)
			return link_invalid(DP_TRUNCATED_LINK);
		if (be16(f + 8) == ARPHRD_ETHER && f[11] == 6)
			pkt->src_mac = f + 12;
		return after_ethertype(pkt, f, len, 20, be16(f));
	case PA_LINKTYPE_RAW:
	case 12: /* DLT_RAW as some systems number it */
	case 14:
		return link_ip(0, 0);
	case PA_LINKTYPE_IPV4:
		return link_ip(0, 4);
	case PA_LINKTYPE_IPV6:
		return link_ip(0, 6);
	case PA_LINKTYPE_NULL:
	case PA_LINKTYPE_LOOP: {
		if (len < 4)
			return link_invalid(DP_TRUNCATED_LINK);
		/* The family is in the capturing host's byte order (NULL) or
		 * network order (LOOP), and files travel: accept both. */
		uint32_t family = (uint32_t)f[0] | (uint32_t)f[1] << 8 | (uint32_t)f[2] << 16 |
				  (uint32_t)f[3] << 24;
		if (family > 0xffff)
			family = __builtin_bswap32(family);
		if (family == 2)
			return link_ip(4, 4);
		if (family == 24 || family == 28 || family == 30)
			return link_ip(4, 6);
		return link_not_ip();
	}
	default:
		return link_invalid(DP_UNSUPPORTED_LINKTYPE);
	}
}

static enum decode_status count_problem(struct decoder *d, enum decode_problem p,
					enum decode_problem *problem)
{
	d->stats.problems[p]++;
	*problem = p;
	return DECODE_INVALID;
}

enum decode_status decode_packet(struct decoder *d, const struct capture_record *rec,
				 struct pa_packet *pkt, enum decode_problem *problem)
{
	enum decode_problem ignored;
	if (!problem)
		problem = &ignored;
	*problem = DP_NONE;

	uint64_t number = pkt->number;
	memset(pkt, 0, sizeof *pkt);
	pkt->number = number;
	pkt->ts_us = rec->ts_us;
	pkt->caplen = rec->caplen;
	pkt->wirelen = rec->wirelen;
	pkt->linktype = rec->linktype;
	pkt->frame = rec->data;

	d->stats.packets++;
	d->snapped_counted = rec->caplen < rec->wirelen;
	if (d->snapped_counted)
		d->stats.snapped++;
	frag_expire(d->frags, rec->ts_us, &d->stats);

	struct link_result link = link_layer(pkt, rec->data, rec->caplen);
	if (link.status == DECODE_NOT_IP) {
		d->stats.not_ip++;
		return DECODE_NOT_IP;
	}
	if (link.status == DECODE_INVALID)
		return count_problem(d, link.problem, problem);

	uint32_t avail = rec->caplen - link.off;
	if (link.limit && link.limit < avail)
		avail = link.limit;
	enum decode_status st = decode_ip(d, pkt, rec->data + link.off, avail, link.version, 0,
					  problem);
	if (pkt->ip_version == 4)
		d->stats.ipv4++;
	else if (pkt->ip_version == 6)
		d->stats.ipv6++;
	if (st == DECODE_INVALID) {
		d->stats.problems[*problem]++;
		return st;
	}
	if (st == DECODE_OK) {
		if (pkt->l4_proto == 6)
			d->stats.tcp++;
		else if (pkt->l4_proto == 17)
			d->stats.udp++;
		else
			d->stats.other_l4++;
	}
	return st;
}
