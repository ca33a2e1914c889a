/*
 * quic_streams.h — reassembly of one direction's QUIC STREAM frames:
 * one stream/tcp_stream per open stream (bounded out-of-order buffer,
 * retransmissions delivered once, holes reported as gaps), at most
 * QUIC_STREAMS_MAX open at once (the least recently used one is flushed
 * and closed to make room). A stream closes once its final size is
 * reached; its id is remembered so late retransmissions are not taken for
 * a new stream.
 */
#ifndef PA_QUIC_STREAMS_H
#define PA_QUIC_STREAMS_H

#include "quic/quic_conn.h"

struct quic_streams;

struct quic_stream_counts {
	uint64_t delivered, gap, truncated, evicted;
};

struct quic_streams *quic_streams_new(void);
void quic_streams_free(struct quic_streams *s);

/* A STREAM frame's bytes at offset; fin: offset + len is the final size. */
void quic_streams_frame(struct quic_streams *s, bool from_client, uint64_t id, uint64_t offset,
			const uint8_t *data, size_t len, bool fin, uint64_t packet, int64_t ts_us,
			const struct quic_sink *sink);
/* RESET_STREAM: the sender abandons the stream; what arrived in order was
 * delivered, the rest never will be (not a capture gap). */
void quic_streams_reset(struct quic_streams *s, bool from_client, uint64_t id,
			const struct quic_sink *sink);
/* End of the flow: every open stream delivers what it holds. */
void quic_streams_flush(struct quic_streams *s, bool from_client, const struct quic_sink *sink);
void quic_streams_counts(const struct quic_streams *s, struct quic_stream_counts *out);

#endif
