/*
 * decode_internal.h — what the decoder's files share: the decoder object,
 * big-endian accessors, the IP layer entry point and the fragment table.
 * Not for other stages: they use decode.h.
 */
#ifndef PA_DECODE_INTERNAL_H
#define PA_DECODE_INTERNAL_H

#include "decode/decode.h"

/* Longest IPv6 unfragmentable part (header + extension headers before the
 * fragment header) we keep; longer ones are counted as bad-ipv6-extension. */
#define FRAG_MAX_HEADER 512
/* A reassembled datagram: header plus at most 65535 bytes of payload. */
#define FRAG_OUT_MAX (FRAG_MAX_HEADER + 65535)
/* IP-in-IP nesting we follow before treating the rest as an opaque payload. */
#define DECODE_MAX_TUNNEL_DEPTH 4

struct frag_table;

struct decoder {
	struct decode_config cfg;
	struct decode_stats stats;
	struct frag_table *frags;
	bool snapped_counted; /* this packet already counted as snapped */
	uint8_t reassembled[FRAG_OUT_MAX];
};

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Decode an IP packet at p (avail bytes captured). version is 4 or 6 when the
 * link layer said which, 0 to go by the first nibble. depth counts IP-in-IP
 * levels already decoded.
 */
enum decode_status decode_ip(struct decoder *d, struct pa_packet *pkt, const uint8_t *p,
			     uint32_t avail, int version, int depth,
			     enum decode_problem *problem);

/* One fragment as the IP layer found it. */
struct frag_input {
	uint8_t version;
	uint8_t proto;          /* IPv4 protocol / IPv6 fragment header's next header */
	const uint8_t *src, *dst; /* 4 or 16 bytes */
	uint32_t id;
	const uint8_t *header;  /* IPv4 header, or IPv6 header + unfragmentable part */
	uint32_t header_len;
	uint32_t next_header_at; /* IPv6: offset in header of the byte naming the fragment header */
	uint32_t offset;        /* of data in the original datagram's payload, in bytes */
	bool more;              /* more fragments follow */
	const uint8_t *data;
	uint32_t data_len;
	int64_t ts_us;
};

enum frag_result {
	FRAG_HELD,      /* stored, datagram incomplete */
	FRAG_COMPLETE,  /* datagram complete: *out_len bytes at out, header first */
	FRAG_TOO_LARGE, /* would exceed 65535 bytes: the datagram was dropped */
	FRAG_DROPPED,   /* this fragment's datagram was evicted (memory cap, too many
			 * pieces); the caller counts it as fragment-evicted */
};

struct frag_table *frag_table_new(size_t memory_max, int64_t timeout_us);
void frag_table_free(struct frag_table *t);
/* Adds a fragment. Conflicting overlaps and the eviction of other datagrams
 * are counted in stats; *overlap tells the caller this fragment conflicted. */
enum frag_result frag_add(struct frag_table *t, const struct frag_input *in, uint8_t *out,
			  uint32_t *out_len, bool *overlap, struct decode_stats *stats);
/* Drops datagrams older than the timeout relative to now (counted). */
void frag_expire(struct frag_table *t, int64_t now_us, struct decode_stats *stats);
size_t frag_table_memory(const struct frag_table *t);
size_t frag_table_count(const struct frag_table *t);

#endif
