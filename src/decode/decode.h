/*
 * decode.h — link layer → IPv4/IPv6 (+ extension headers, + fragment
 * reassembly) → TCP/UDP, into a struct pa_packet.
 *
 * Every byte is read through bounds-checked accessors; a malformed packet is
 * counted under one reason and never stops the run.
 */
#ifndef PA_DECODE_H
#define PA_DECODE_H

#include "capture/capture.h"
#include "privaudit.h"

/* Why a packet could not be (fully) decoded. Names are the report's words. */
enum decode_problem {
	DP_NONE = 0,
	DP_UNSUPPORTED_LINKTYPE, /* "unsupported-linktype" */
	DP_TRUNCATED_LINK,       /* "truncated-link" */
	DP_TRUNCATED_IPV4,       /* "truncated-ipv4" */
	DP_BAD_IPV4_HEADER,      /* "bad-ipv4-header": version, IHL, total length */
	DP_TRUNCATED_IPV6,       /* "truncated-ipv6" */
	DP_BAD_IPV6_EXTENSION,   /* "bad-ipv6-extension" */
	DP_TRUNCATED_TCP,        /* "truncated-tcp" */
	DP_BAD_TCP_HEADER,       /* "bad-tcp-header": data offset < 5 or past the packet */
	DP_TRUNCATED_UDP,        /* "truncated-udp" */
	DP_BAD_UDP_LENGTH,       /* "bad-udp-length" */
	DP_FRAGMENT_OVERLAP,     /* "fragment-overlap": conflicting overlapping fragments */
	DP_FRAGMENT_TOO_LARGE,   /* "fragment-too-large": reassembled size > 65535 */
	DP_FRAGMENT_EVICTED,     /* "fragment-evicted": incomplete datagram dropped (memory cap or timeout) */
	DP_BAD_IPV6_HEADER,      /* "bad-ipv6-header": version is not 6 */
	DP_MAX
};
const char *decode_problem_name(enum decode_problem p);

enum decode_status {
	DECODE_OK,       /* *pkt filled: an IP packet (TCP, UDP or other L4) */
	DECODE_NOT_IP,   /* ARP, LLDP, ...: counted, not an error */
	DECODE_HELD,     /* an IP fragment was stored; no packet yet */
	DECODE_INVALID,  /* malformed: *problem says why */
};
/* *problem is DP_NONE except with DECODE_INVALID, and with DECODE_HELD or
 * DECODE_OK when the fragment just added overlapped earlier ones with other
 * bytes (DP_FRAGMENT_OVERLAP: the first copy was kept). Every problem is
 * counted once in decode_stats.problems. */

struct decode_config {
	size_t frag_memory_max;   /* bytes held for incomplete datagrams; 0 = 4 MiB */
	int64_t frag_timeout_us;  /* drop incomplete datagrams older than this; 0 = 30 s */
};

struct decode_stats {
	uint64_t packets;
	uint64_t not_ip;
	uint64_t ipv4, ipv6, tcp, udp, other_l4;
	uint64_t fragments, reassembled;
	uint64_t snapped;                 /* caplen < wirelen (decoded as far as captured) */
	uint64_t problems[DP_MAX];
};

struct decoder;
struct decoder *decoder_new(const struct decode_config *cfg);
void decoder_free(struct decoder *d);

/*
 * Decode one capture record. On DECODE_OK the packet's pointers stay valid
 * until the next call (a reassembled datagram lives in the decoder). The
 * caller sets pkt->number beforehand; the decoder fills the rest.
 */
enum decode_status decode_packet(struct decoder *d, const struct capture_record *rec,
				 struct pa_packet *pkt, enum decode_problem *problem);
const struct decode_stats *decoder_stats(const struct decoder *d);

#endif
