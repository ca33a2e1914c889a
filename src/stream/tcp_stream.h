/*
 * tcp_stream.h — TCP reassembly for one direction of a flow: bytes are
 * delivered once, in sequence order; retransmissions and overlaps are not
 * delivered twice; out-of-order segments wait in a bounded buffer; a hole that
 * cannot be filled is skipped and reported as a gap.
 *
 * A repeat whose bytes differ from the copy delivered (a decoy, or the real
 * data after a decoy) is a conflict: a receiver may have accepted either
 * copy, so the other version is handed to a conflict callback too, with the
 * delivered bytes around it as context, once the stream has moved past it.
 */
#ifndef PA_TCP_STREAM_H
#define PA_TCP_STREAM_H

#include "privaudit.h"

/* data != NULL: len in-order bytes starting at stream offset `offset`, carried
 * by packet `packet` (timestamp ts_us).
 * data == NULL: a gap of len bytes at `offset` that will never be seen. */
typedef void (*tcp_stream_fn)(void *ctx, const uint8_t *data, size_t len, uint64_t offset,
			      uint64_t packet, int64_t ts_us);

/*
 * Another version of stream bytes: `data` holds `len` bytes starting at
 * stream offset `offset`; of them, [version_at, version_at + version_len)
 * are the bytes packet `packet` carried, the rest is context the stream
 * delivered around them (so a datum split across the version's edge is
 * whole). `first_packet` carried the copy that was delivered.
 */
struct tcp_conflict {
	const uint8_t *data;
	size_t len;
	uint64_t offset;
	size_t version_at, version_len;
	uint64_t packet;
	int64_t ts_us;
	uint64_t first_packet;
};
typedef void (*tcp_conflict_fn)(void *ctx, const struct tcp_conflict *c);

struct tcp_stream_stats {
	uint64_t delivered;      /* bytes handed to the callback */
	uint64_t gap;            /* bytes skipped (never captured) */
	uint64_t snapped;        /* bytes skipped because the snap length cut them (not in gap) */
	uint64_t retransmitted;  /* bytes seen again with the same content */
	uint64_t overlap_differs;/* bytes seen again with different content (first copy wins) */
	uint64_t conflict_packets; /* packets that carried such differing bytes */
	uint64_t ooo_dropped;    /* out-of-order bytes dropped: buffer full */
};

struct tcp_stream;

/* max_buffered: cap on out-of-order bytes held (0 = 256 KiB). */
struct tcp_stream *tcp_stream_new(size_t max_buffered);
void tcp_stream_free(struct tcp_stream *s);

/* The SYN (or SYN/ACK) of this direction: sets the initial sequence number.
 * Without it, the first data segment seen starts the stream (mid-flow pickup).
 * Data carried by the SYN itself (TCP Fast Open) starts at seq + 1: pass that
 * to tcp_stream_segment. */
void tcp_stream_syn(struct tcp_stream *s, uint32_t seq);

void tcp_stream_segment(struct tcp_stream *s, uint32_t seq, const uint8_t *data, size_t len,
			uint64_t packet, int64_t ts_us, tcp_stream_fn fn, void *ctx);
/* The same for a segment the snap length cut: wire_len bytes were sent,
 * len captured; the rest is skipped (data == NULL to fn) and counted as
 * snapped, not as a gap. */
void tcp_stream_segment_snapped(struct tcp_stream *s, uint32_t seq, const uint8_t *data,
				size_t len, size_t wire_len, uint64_t packet, int64_t ts_us,
				tcp_stream_fn fn, void *ctx);

/* Where other versions of delivered bytes go (NULL: counted only). It is
 * called with the ctx of the tcp_stream_segment/flush call that reports them. */
void tcp_stream_set_conflict_fn(struct tcp_stream *s, tcp_conflict_fn fn);

/* The other direction acknowledged up to `ack`: a receiver drops repeats of
 * bytes before it, so the history need not hold them any longer. */
void tcp_stream_ack(struct tcp_stream *s, uint32_t ack);

/* End of flow: deliver what is buffered past any holes (reporting the holes as gaps). */
void tcp_stream_flush(struct tcp_stream *s, tcp_stream_fn fn, void *ctx);

const struct tcp_stream_stats *tcp_stream_stats(const struct tcp_stream *s);
/* Out-of-order bytes held right now (the per-direction memory beyond the struct). */
size_t tcp_stream_buffered(const struct tcp_stream *s);
/* Stream offset of the next byte to be delivered (= delivered + gap bytes). */
uint64_t tcp_stream_offset(const struct tcp_stream *s);
/* Bytes of one direction's state with nothing buffered or unacknowledged
 * (memory accounting). */
size_t tcp_stream_state_size(void);

#endif
