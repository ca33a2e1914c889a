/*
 * decode_ip.c — IPv4 and IPv6 (extension headers, fragments handed to the
 * reassembly table, IP-in-IP followed to the inner packet), then TCP and UDP.
 *
 * Two lengths run through this file: what was captured ("avail") and what the
 * headers say ("wire"). Fields are read only within avail; wire is kept for
 * byte counters. A header that the capture cut short is "truncated", a header
 * that contradicts itself is "bad".
 */
#include "decode/decode_internal.h"

#include <string.h>

#define PROTO_HOPOPTS 0
#define PROTO_IPIP 4
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_IPV6 41
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_ESP 50
#define PROTO_AH 51
#define PROTO_NONE 59
#define PROTO_DSTOPTS 60
#define MAX_IPV6_EXTENSIONS 32

static enum decode_status invalid(enum decode_problem p, enum decode_problem *problem)
{
	*problem = p;
	return DECODE_INVALID;
}

static void mark_snapped(struct decoder *d)
{
	if (!d->snapped_counted) {
		d->snapped_counted = true;
		d->stats.snapped++;
	}
}

static enum decode_status decode_tcp(struct pa_packet *pkt, const uint8_t *p, uint32_t avail,
				     uint32_t wire, enum decode_problem *problem)
{
	if (avail >= 4) {
		pkt->sport = be16(p);
		pkt->dport = be16(p + 2);
	}
	if (wire < 20)
		return invalid(DP_BAD_TCP_HEADER, problem);
	if (avail < 20)
		return invalid(DP_TRUNCATED_TCP, problem);
	uint32_t hlen = (uint32_t)(p[12] >> 4) * 4;
	pkt->tcp_seq = be32(p + 4);
	pkt->tcp_ack = be32(p + 8);
	pkt->tcp_flags = p[13];
	if (hlen < 20 || hlen > wire)
		return invalid(DP_BAD_TCP_HEADER, problem);
	if (hlen > avail)
		return invalid(DP_TRUNCATED_TCP, problem);
	pkt->payload = p + hlen;
	pkt->payload_len = avail - hlen;
	pkt->payload_wire_len = wire - hlen;
	return DECODE_OK;
}

static enum decode_status decode_udp(struct pa_packet *pkt, const uint8_t *p, uint32_t avail,
				     uint32_t wire, enum decode_problem *problem)
{
	if (avail >= 4) {
		pkt->sport = be16(p);
		pkt->dport = be16(p + 2);
	}
	if (wire < 8)
		return invalid(DP_BAD_UDP_LENGTH, problem);
	if (avail < 8)
		return invalid(DP_TRUNCATED_UDP, problem);
	uint32_t len = be16(p + 4);
	if (len == 0 && pkt->ip_version == 6)
		len = wire; /* jumbogram (RFC 2675): the IP layer holds the length */
	if (len < 8 || len > wire)
		return invalid(DP_BAD_UDP_LENGTH, problem);
	/* A UDP length shorter than the IP payload leaves trailing bytes that
	 * are not part of the datagram. */
	pkt->payload = p + 8;
	pkt->payload_len = (avail < len ? avail : len) - 8;
	pkt->payload_wire_len = len - 8;
	return DECODE_OK;
}

/* The transport layer at p: avail bytes captured, wire bytes per IP header. */
static enum decode_status decode_l4(struct decoder *d, struct pa_packet *pkt, const uint8_t *p,
				    uint32_t avail, uint32_t wire, int depth,
				    enum decode_problem *problem)
{
	switch (pkt->l4_proto) {
	case PROTO_TCP:
		return decode_tcp(pkt, p, avail, wire, problem);
	case PROTO_UDP:
		return decode_udp(pkt, p, avail, wire, problem);
	case PROTO_IPIP:
	case PROTO_IPV6:
		/* The flow that matters is the inner one. */
		if (depth + 1 < DECODE_MAX_TUNNEL_DEPTH)
			return decode_ip(d, pkt, p, avail, pkt->l4_proto == PROTO_IPIP ? 4 : 6,
					 depth + 1, problem);
		break;
	default:
		break;
	}
	pkt->payload = p;
	pkt->payload_len = avail;
	pkt->payload_wire_len = wire;
	return DECODE_OK;
}

/*
 * The first fragment of a datagram the capture cut short: decoded as far as
 * it goes, as a snapped packet. Its UDP length covers fragments we do not
 * have, so it is only checked for sanity, and "wire" is this fragment's share.
 */
static enum decode_status decode_first_fragment(struct pa_packet *pkt, const uint8_t *p,
						uint32_t avail, uint32_t wire,
						enum decode_problem *problem)
{
	if (pkt->l4_proto == PROTO_TCP)
		return decode_tcp(pkt, p, avail, wire, problem);
	if (pkt->l4_proto == PROTO_UDP)
		return decode_udp(pkt, p, avail, 65535, problem);
	pkt->payload = p;
	pkt->payload_len = avail;
	pkt->payload_wire_len = wire;
	return DECODE_OK;
}

/* A fragment goes to the table; a completed datagram is decoded again from
 * the decoder's buffer as if it had arrived whole. */
static enum decode_status reassemble(struct decoder *d, struct pa_packet *pkt,
				     const struct frag_input *in, int depth,
				     enum decode_problem *problem)
{
	d->stats.fragments++;
	uint32_t out_len = 0;
	bool overlap = false;
	enum frag_result r = frag_add(d->frags, in, d->reassembled, &out_len, &overlap, &d->stats);
	switch (r) {
	case FRAG_TOO_LARGE:
		return invalid(DP_FRAGMENT_TOO_LARGE, problem);
	case FRAG_DROPPED:
		return invalid(DP_FRAGMENT_EVICTED, problem);
	case FRAG_HELD:
		*problem = overlap ? DP_FRAGMENT_OVERLAP : DP_NONE;
		return DECODE_HELD;
	case FRAG_COMPLETE:
		break;
	}
	d->stats.reassembled++;
	enum decode_status st = decode_ip(d, pkt, d->reassembled, out_len, in->version, depth,
					  problem);
	pkt->reassembled = true;
	if (st != DECODE_INVALID && overlap)
		*problem = DP_FRAGMENT_OVERLAP;
	return st;
}

static enum decode_status decode_ipv4(struct decoder *d, struct pa_packet *pkt, const uint8_t *p,
				      uint32_t avail, int depth, enum decode_problem *problem)
{
	if (avail < 20)
		return invalid(DP_TRUNCATED_IPV4, problem);
	uint32_t ihl = (uint32_t)(p[0] & 0x0f) * 4;
	uint32_t total = be16(p + 2);
	if (p[0] >> 4 != 4 || ihl < 20)
		return invalid(DP_BAD_IPV4_HEADER, problem);
	if (total == 0)
		total = avail; /* segmentation offload on the capturing host */
	if (total < ihl)
		return invalid(DP_BAD_IPV4_HEADER, problem);
	if (ihl > avail)
		return invalid(DP_TRUNCATED_IPV4, problem);

	pkt->ip_version = 4;
	pkt->src = (struct pa_addr){ .family = 4 };
	pkt->dst = (struct pa_addr){ .family = 4 };
	memcpy(pkt->src.bytes, p + 12, 4);
	memcpy(pkt->dst.bytes, p + 16, 4);
	pkt->ttl = p[8];
	pkt->l4_proto = p[9];
	pkt->l3 = p;
	pkt->ip_len = total;
	pkt->l3_len = total < avail ? total : avail; /* shorter: link padding follows */
	if (total > avail)
		mark_snapped(d);

	uint16_t frag = be16(p + 6);
	bool more = frag & 0x2000;
	uint32_t offset = (uint32_t)(frag & 0x1fff) * 8;
	if (more || offset) {
		if (pkt->l3_len < total) {
			/* A cut-off fragment cannot be rebuilt, but the first one
			 * still shows the transport header and some payload. */
			d->stats.fragments++;
			if (offset != 0)
				return invalid(DP_TRUNCATED_IPV4, problem);
			return decode_first_fragment(pkt, p + ihl, pkt->l3_len - ihl,
						     total - ihl, problem);
		}
		struct frag_input in = {
			.version = 4, .proto = p[9], .src = p + 12, .dst = p + 16,
			.id = be16(p + 4), .header = p, .header_len = ihl,
			.offset = offset, .more = more,
			.data = p + ihl, .data_len = total - ihl, .ts_us = pkt->ts_us,
		};
		return reassemble(d, pkt, &in, depth, problem);
	}
	return decode_l4(d, pkt, p + ihl, pkt->l3_len - ihl, total - ihl, depth, problem);
}

static enum decode_status decode_ipv6(struct decoder *d, struct pa_packet *pkt, const uint8_t *p,
				      uint32_t avail, int depth, enum decode_problem *problem)
{
	if (avail < 40)
		return invalid(DP_TRUNCATED_IPV6, problem);
	if (p[0] >> 4 != 6)
		return invalid(DP_BAD_IPV6_HEADER, problem);
	uint32_t total = 40 + (uint32_t)be16(p + 4);
	if (total == 40 && p[6] != PROTO_NONE)
		total = avail; /* jumbogram or segmentation offload */

	pkt->ip_version = 6;
	pkt->src = (struct pa_addr){ .family = 6 };
	pkt->dst = (struct pa_addr){ .family = 6 };
	memcpy(pkt->src.bytes, p + 8, 16);
	memcpy(pkt->dst.bytes, p + 24, 16);
	pkt->ttl = p[7];
	pkt->l3 = p;
	pkt->ip_len = total;
	pkt->l3_len = total < avail ? total : avail;
	if (total > avail)
		mark_snapped(d);

	uint32_t len = pkt->l3_len;
	uint32_t off = 40, next_header_at = 6;
	uint8_t nh = p[6];
	for (int i = 0; i < MAX_IPV6_EXTENSIONS; i++) {
		pkt->l4_proto = nh;
		uint32_t hlen;
		switch (nh) {
		case PROTO_HOPOPTS:
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
		case PROTO_AH:
			if (off + 2 > total)
				return invalid(DP_BAD_IPV6_EXTENSION, problem);
			if (off + 2 > len)
				return invalid(DP_TRUNCATED_IPV6, problem);
			hlen = nh == PROTO_AH ? ((uint32_t)p[off + 1] + 2) * 4
					      : ((uint32_t)p[off + 1] + 1) * 8;
			break;
		case PROTO_FRAGMENT:
			hlen = 8;
			break;
		default: /* upper layer, ESP or no next header: the end of the chain */
			return decode_l4(d, pkt, p + off, len - off, total - off, depth, problem);
		}
		if (off + hlen > total)
			return invalid(DP_BAD_IPV6_EXTENSION, problem);
		if (off + hlen > len)
			return invalid(DP_TRUNCATED_IPV6, problem);
		if (nh == PROTO_FRAGMENT) {
			uint16_t fo = be16(p + off + 2);
			bool more = fo & 1;
			uint32_t offset = fo & 0xfff8;
			/* An atomic fragment (RFC 6946) is a whole packet. */
			if (more || offset) {
				if (len < total) {
					d->stats.fragments++;
					pkt->l4_proto = p[off];
					if (offset != 0)
						return invalid(DP_TRUNCATED_IPV6, problem);
					return decode_first_fragment(pkt, p + off + 8, len - off - 8,
								     total - off - 8, problem);
				}
				if (off > FRAG_MAX_HEADER)
					return invalid(DP_BAD_IPV6_EXTENSION, problem);
				pkt->l4_proto = p[off];
				struct frag_input in = {
					.version = 6, .proto = p[off], .src = p + 8, .dst = p + 24,
					.id = be32(p + off + 4), .header = p, .header_len = off,
					.next_header_at = next_header_at,
					.offset = offset, .more = more,
					.data = p + off + 8, .data_len = total - off - 8,
					.ts_us = pkt->ts_us,
				};
				return reassemble(d, pkt, &in, depth, problem);
			}
		}
		next_header_at = off;
		nh = p[off];
		off += hlen;
	}
	return invalid(DP_BAD_IPV6_EXTENSION, problem); /* an endless chain */
}

enum decode_status decode_ip(struct decoder *d, struct pa_packet *pkt, const uint8_t *p,
			     uint32_t avail, int version, int depth,
			     enum decode_problem *problem)
{
	if (version == 0) {
		if (avail < 1)
			return invalid(DP_TRUNCATED_IPV4, problem);
		version = p[0] >> 4;
		if (version != 4 && version != 6)
			return invalid(DP_BAD_IPV4_HEADER, problem);
	}
	/* The inner packet of a tunnel replaces the outer one entirely. */
	pkt->reassembled = false;
	pkt->sport = pkt->dport = 0;
	if (version == 4)
		return decode_ipv4(d, pkt, p, avail, depth, problem);
	return decode_ipv6(d, pkt, p, avail, depth, problem);
}
