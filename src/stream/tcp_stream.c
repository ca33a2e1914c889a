/*
 * tcp_stream.c — reassembly of one direction of a TCP connection.
 *
 * Positions are 64-bit stream offsets (byte 0 = first byte after the SYN, or
 * the first byte seen when the capture starts mid-connection); sequence
 * numbers are only compared as signed 32-bit differences against the next
 * expected one, so wrap-around at 2^32 needs no special case.
 *
 * Policy (docs/dns-and-streams.md):
 * - bytes at the expected position go to the callback straight from the
 *   packet, uncopied;
 * - bytes ahead of it are copied into a sorted list of non-overlapping
 *   segments, bounded by max_buffered bytes and TCP_STREAM_MAX_SEGMENTS nodes;
 * - bytes seen twice: the first copy wins; the repeat is counted as
 *   retransmitted (same content) or overlap_differs (other content). Bytes
 *   already delivered are not kept, so a repeat of them is counted as
 *   retransmitted without comparison;
 * - when the buffer is full, the earliest hole is given up: reported as a gap
 *   (data == NULL) and the buffered bytes after it are delivered.
 */
#include <stdlib.h>
#include <string.h>

#include "stream/tcp_stream.h"

#define TCP_STREAM_DEFAULT_BUFFER (256u * 1024)
#define TCP_STREAM_MAX_BUFFER (1u << 30)
/* Node headers cost memory too: a flood of 1-byte segments must not hold
 * 40 bytes of bookkeeping for each byte under a byte-only cap. */
#define TCP_STREAM_MAX_SEGMENTS 1024
/* Beyond the largest window TCP can advertise (65535 << 14): not data this
 * connection can legitimately send next; dropped rather than let it force a
 * gigabyte gap. */
#define TCP_STREAM_MAX_AHEAD (1u << 30)

struct ooo_segment {
	struct ooo_segment *next;
	uint64_t offset;
	uint64_t packet;
	int64_t ts_us;
	uint32_t len;
	uint8_t data[];
};

struct tcp_stream {
	struct tcp_stream_stats stats;
	uint64_t next_offset;      /* offset of the next byte to deliver */
	struct ooo_segment *ooo;   /* sorted, non-overlapping, all past next_offset */
	uint32_t base_seq;         /* sequence number of offset 0 */
	uint32_t buffered;         /* bytes held in ooo */
	uint32_t max_buffered;
	uint16_t segments;         /* nodes in ooo */
	bool started;
};

struct tcp_stream *tcp_stream_new(size_t max_buffered)
{
	struct tcp_stream *s = pa_xcalloc(1, sizeof *s);

	if (max_buffered == 0)
		max_buffered = TCP_STREAM_DEFAULT_BUFFER;
	if (max_buffered > TCP_STREAM_MAX_BUFFER)
		max_buffered = TCP_STREAM_MAX_BUFFER;
	s->max_buffered = (uint32_t)max_buffered;
	return s;
}

void tcp_stream_free(struct tcp_stream *s)
{
	if (!s)
		return;
	while (s->ooo) {
		struct ooo_segment *next = s->ooo->next;
		free(s->ooo);
		s->ooo = next;
	}
	free(s);
}

const struct tcp_stream_stats *tcp_stream_stats(const struct tcp_stream *s)
{
	return &s->stats;
}

size_t tcp_stream_buffered(const struct tcp_stream *s)
{
	return s->buffered;
}

uint64_t tcp_stream_offset(const struct tcp_stream *s)
{
	return s->next_offset;
}

size_t tcp_stream_state_size(void)
{
	return sizeof(struct tcp_stream);
}

void tcp_stream_syn(struct tcp_stream *s, uint32_t seq)
{
	if (s->started)
		return; /* a retransmitted SYN, or one after data already seen */
	s->base_seq = seq + 1; /* the SYN itself takes one sequence number */
	s->started = true;
}

static void deliver(struct tcp_stream *s, const uint8_t *data, size_t len, uint64_t packet,
		    int64_t ts_us, tcp_stream_fn fn, void *ctx)
{
	if (len == 0)
		return;
	if (fn)
		fn(ctx, data, len, s->next_offset, packet, ts_us);
	if (data)
		s->stats.delivered += len;
	else
		s->stats.gap += len;
	s->next_offset += len;
}

/* Counts bytes seen a second time, byte by byte. */
static void count_repeat(struct tcp_stream *s, const uint8_t *first, const uint8_t *again,
			 size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (first[i] == again[i])
			s->stats.retransmitted++;
		else
			s->stats.overlap_differs++;
	}
}

static void release_head(struct tcp_stream *s)
{
	struct ooo_segment *head = s->ooo;

	s->ooo = head->next;
	s->buffered -= head->len;
	s->segments--;
	free(head);
}

/* Delivers buffered segments that now start at the expected offset. */
static void deliver_contiguous(struct tcp_stream *s, tcp_stream_fn fn, void *ctx)
{
	while (s->ooo && s->ooo->offset == s->next_offset) {
		deliver(s, s->ooo->data, s->ooo->len, s->ooo->packet, s->ooo->ts_us, fn, ctx);
		release_head(s);
	}
}

/* Gives up the earliest hole: up to the first buffered segment, or up to
 * `until` (the segment waiting to be placed) when nothing is buffered. */
static void skip_earliest_hole(struct tcp_stream *s, uint64_t until, uint64_t packet,
			       int64_t ts_us, tcp_stream_fn fn, void *ctx)
{
	if (s->ooo) {
		until = s->ooo->offset;
		packet = s->ooo->packet;
		ts_us = s->ooo->ts_us;
	}
	deliver(s, NULL, until - s->next_offset, packet, ts_us, fn, ctx);
	deliver_contiguous(s, fn, ctx);
}

/* In-order bytes [offset, offset+len) with offset == next_offset: straight
 * from the packet, except where a buffered copy came first. */
static void place_in_order(struct tcp_stream *s, const uint8_t *data, size_t len,
			   uint64_t packet, int64_t ts_us, tcp_stream_fn fn, void *ctx)
{
	uint64_t end = s->next_offset + len;

	while (s->next_offset < end) {
		uint64_t at = s->next_offset;
		const uint8_t *here = data + (len - (end - at));

		if (!s->ooo || s->ooo->offset > at) {
			uint64_t stop = s->ooo && s->ooo->offset < end ? s->ooo->offset : end;
			deliver(s, here, stop - at, packet, ts_us, fn, ctx);
			continue;
		}
		/* the head starts right here: it wins over our copy */
		struct ooo_segment *head = s->ooo;
		uint64_t head_end = head->offset + head->len;
		uint64_t overlap = (head_end < end ? head_end : end) - at;

		count_repeat(s, head->data, here, overlap);
		deliver(s, head->data, head->len, head->packet, head->ts_us, fn, ctx);
		release_head(s);
	}
	deliver_contiguous(s, fn, ctx);
}

/* Bytes of [offset, end) not yet covered by buffered segments. */
static uint64_t uncovered(const struct tcp_stream *s, uint64_t offset, uint64_t end,
			  unsigned *new_nodes)
{
	uint64_t missing = 0, cursor = offset;

	*new_nodes = 0;
	for (const struct ooo_segment *n = s->ooo; n && cursor < end; n = n->next) {
		uint64_t n_end = n->offset + n->len;
		if (n_end <= cursor)
			continue;
		if (n->offset > cursor) {
			uint64_t stop = n->offset < end ? n->offset : end;
			missing += stop - cursor;
			(*new_nodes)++;
		}
		cursor = n_end;
	}
	if (cursor < end) {
		missing += end - cursor;
		(*new_nodes)++;
	}
	return missing;
}

static struct ooo_segment *new_node(uint64_t offset, const uint8_t *data, uint64_t len,
				    uint64_t packet, int64_t ts_us)
{
	struct ooo_segment *n = pa_xmalloc(sizeof *n + len);

	n->offset = offset;
	n->len = (uint32_t)len;
	n->packet = packet;
	n->ts_us = ts_us;
	memcpy(n->data, data, len);
	return n;
}

/* Copies the parts of an early segment that fill holes in the buffer; the
 * parts already buffered are compared and counted. Caller checked the caps. */
static void place_ahead(struct tcp_stream *s, uint64_t offset, const uint8_t *data, size_t len,
			uint64_t packet, int64_t ts_us)
{
	uint64_t end = offset + len, cursor = offset;
	struct ooo_segment **link = &s->ooo;

	while (cursor < end) {
		struct ooo_segment *n = *link;

		if (n && n->offset + n->len <= cursor) {
			link = &n->next;
			continue;
		}
		if (!n || n->offset > cursor) {
			uint64_t stop = n && n->offset < end ? n->offset : end;
			struct ooo_segment *fresh = new_node(cursor, data + (cursor - offset),
							     stop - cursor, packet, ts_us);
			fresh->next = n;
			*link = fresh;
			link = &fresh->next;
			s->buffered += fresh->len;
			s->segments++;
			cursor = stop;
			continue;
		}
		uint64_t n_end = n->offset + n->len;
		uint64_t stop = n_end < end ? n_end : end;
		count_repeat(s, n->data + (cursor - n->offset), data + (cursor - offset),
			     stop - cursor);
		cursor = stop;
		link = &n->next;
	}
}

void tcp_stream_segment(struct tcp_stream *s, uint32_t seq, const uint8_t *data, size_t len,
			uint64_t packet, int64_t ts_us, tcp_stream_fn fn, void *ctx)
{
	if (len == 0 || !data)
		return;
	if (len > TCP_STREAM_MAX_AHEAD)
		len = TCP_STREAM_MAX_AHEAD; /* no IP packet is this large; keeps offsets sane */
	if (!s->started) {
		s->base_seq = seq;
		s->started = true;
	}
	for (;;) {
		uint32_t next_seq = s->base_seq + (uint32_t)s->next_offset;
		int32_t ahead = (int32_t)(seq - next_seq);

		if (ahead < 0) {
			/* starts before the expected byte: that part was delivered
			 * or given up already */
			uint64_t old = (uint64_t)-(int64_t)ahead;
			if (old >= len) {
				s->stats.retransmitted += len;
				return;
			}
			s->stats.retransmitted += old;
			data += old;
			len -= old;
			seq += (uint32_t)old;
			ahead = 0;
		}
		if (ahead == 0) {
			place_in_order(s, data, len, packet, ts_us, fn, ctx);
			return;
		}
		if ((uint32_t)ahead >= TCP_STREAM_MAX_AHEAD) {
			s->stats.ooo_dropped += len;
			return;
		}
		uint64_t offset = s->next_offset + (uint32_t)ahead;
		unsigned nodes;
		uint64_t need = uncovered(s, offset, offset + len, &nodes);

		if (s->buffered + need <= s->max_buffered &&
		    s->segments + nodes <= TCP_STREAM_MAX_SEGMENTS) {
			place_ahead(s, offset, data, len, packet, ts_us);
			return;
		}
		/* no room: give up the earliest hole and look again, the segment
		 * may now be in order or overlap what was delivered */
		skip_earliest_hole(s, offset, packet, ts_us, fn, ctx);
	}
}

void tcp_stream_flush(struct tcp_stream *s, tcp_stream_fn fn, void *ctx)
{
	while (s->ooo)
		skip_earliest_hole(s, 0, 0, 0, fn, ctx);
}
