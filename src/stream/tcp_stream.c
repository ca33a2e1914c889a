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
 * - bytes seen twice: the first copy is delivered; the repeat is counted
 *   as retransmitted (same content) or overlap_differs (other content).
 *   Delivered bytes the receiver has not acknowledged yet are kept (the
 *   history), so a repeat of them is compared too; once acknowledged, a
 *   receiver would drop a repeat, which is then counted as retransmitted
 *   (and unchecked) without comparison;
 * - a repeat with other content is another version a receiver may have
 *   accepted (the first copy may have been a decoy that never reached it):
 *   it waits in a bounded list until the stream has delivered CONTEXT bytes
 *   past it, then goes to the conflict callback with the delivered bytes
 *   around it, so a datum that straddles its edges is whole in one buffer;
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
/* Delivered bytes on either side of another version, so that a datum split
 * across its edge is seen whole; also what the history keeps before the
 * acknowledged point. */
#define TCP_STREAM_CONTEXT 64
/* Other versions waiting for their context: beyond these, the oldest is
 * reported at once with whatever context there is. */
#define TCP_STREAM_MAX_VERSIONS 32
#define TCP_STREAM_MAX_VERSION_BYTES (256u * 1024)

struct ooo_segment {
	struct ooo_segment *next;
	uint64_t offset;
	uint64_t packet;
	int64_t ts_us;
	uint64_t first_packet; /* versions: the packet whose copy was delivered */
	uint32_t len;
	uint32_t snapped;      /* bytes the snap length cut right after these */
	uint8_t data[];
};

/* Delivered bytes [base, next_offset) not acknowledged yet, plus CONTEXT
 * bytes before the first of them while any is unacknowledged; freed once
 * everything delivered is acknowledged. */
#define CARRIERS 4
struct tcp_history {
	uint64_t base;
	uint32_t cap;          /* bytes[] */
	uint32_t carrier_next;
	struct { uint64_t end, packet; } carriers[CARRIERS]; /* latest deliveries, ring */
	uint8_t bytes[];
};

/* Other versions waiting for their context, in arrival order. */
struct tcp_versions {
	struct ooo_segment *list;
	uint32_t bytes;
	uint16_t count;
	uint64_t last_packet; /* the latest packet counted in conflict_packets */
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
	/* Both NULL on most connections between exchanges: an idle flow
	 * pays two pointers for them. */
	struct tcp_history *hist;
	struct tcp_versions *ver;
	tcp_conflict_fn conflict_fn;
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

static void free_list(struct ooo_segment *n)
{
	while (n) {
		struct ooo_segment *next = n->next;
		free(n);
		n = next;
	}
}

void tcp_stream_free(struct tcp_stream *s)
{
	if (!s)
		return;
	free_list(s->ooo);
	if (s->ver)
		free_list(s->ver->list);
	free(s->ver);
	free(s->hist);
	free(s);
}

void tcp_stream_set_conflict_fn(struct tcp_stream *s, tcp_conflict_fn fn)
{
	s->conflict_fn = fn;
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

static uint64_t hist_len(const struct tcp_stream *s)
{
	return s->hist ? s->next_offset - s->hist->base : 0;
}

/* Keeps delivered bytes for comparison with later copies. Past the cap
 * (an acknowledgement never seen, a one-sided capture) the oldest go. */
static void hist_append(struct tcp_stream *s, const uint8_t *data, size_t len, uint64_t packet)
{
	uint64_t end = s->next_offset + len; /* next_offset has not advanced yet */
	uint64_t have = hist_len(s);
	uint64_t cap = s->max_buffered;
	if (len >= cap) {
		data += len - cap;
		len = cap;
		have = 0;
	} else if (have + len > cap) {
		uint64_t drop = have + len - cap;
		memmove(s->hist->bytes, s->hist->bytes + drop, have - drop);
		have -= drop;
	}
	if (!s->hist || have + len > s->hist->cap) {
		uint64_t want = s->hist && s->hist->cap >= 1024 ? s->hist->cap : 1024;
		while (want < have + len)
			want *= 2;
		if (want > cap)
			want = cap;
		bool fresh = !s->hist;
		s->hist = pa_xrealloc(s->hist, sizeof *s->hist + want);
		if (fresh)
			memset(s->hist, 0, sizeof *s->hist);
		s->hist->cap = (uint32_t)want;
	}
	struct tcp_history *h = s->hist;
	memcpy(h->bytes + have, data, len);
	h->base = end - (have + len);
	h->carriers[h->carrier_next].end = end;
	h->carriers[h->carrier_next].packet = packet;
	h->carrier_next = (h->carrier_next + 1) % CARRIERS;
}

static void hist_clear(struct tcp_stream *s)
{
	free(s->hist);
	s->hist = NULL;
}

/* The packet that delivered stream offset `at`, 0 when no longer known. */
static uint64_t carrier_of(const struct tcp_stream *s, uint64_t at)
{
	uint64_t best = 0, best_end = UINT64_MAX;
	if (!s->hist)
		return 0;
	for (unsigned i = 0; i < CARRIERS; i++) {
		uint64_t end = s->hist->carriers[i].end;
		if (s->hist->carriers[i].packet && end > at && end < best_end) {
			best_end = end;
			best = s->hist->carriers[i].packet;
		}
	}
	return best;
}

static void report_versions(struct tcp_stream *s, bool all, void *ctx);

static void deliver(struct tcp_stream *s, const uint8_t *data, size_t len, uint64_t packet,
		    int64_t ts_us, tcp_stream_fn fn, void *ctx)
{
	if (len == 0)
		return;
	if (!data) /* versions before the hole get no context after it */
		report_versions(s, true, ctx);
	if (fn)
		fn(ctx, data, len, s->next_offset, packet, ts_us);
	if (data) {
		hist_append(s, data, len, packet);
		s->stats.delivered += len;
	} else {
		hist_clear(s);
		s->stats.gap += len;
	}
	s->next_offset += len;
	if (s->ver && s->ver->list)
		report_versions(s, false, ctx);
}

/* A part cut by the snap length: skipped like a hole, counted apart. */
static void skip_snapped(struct tcp_stream *s, size_t len, uint64_t packet, int64_t ts_us,
			 tcp_stream_fn fn, void *ctx)
{
	uint64_t gap_before = s->stats.gap;
	deliver(s, NULL, len, packet, ts_us, fn, ctx);
	s->stats.gap = gap_before;
	s->stats.snapped += len;
}

/* Copies the delivered bytes of [from, to) that the history still holds
 * and that touch `to` (going back) into out; returns how many. */
static size_t context_before(const struct tcp_stream *s, uint64_t to, size_t max, uint8_t *out)
{
	if (!s->hist || to <= s->hist->base || to > s->next_offset)
		return 0;
	uint64_t from = to - s->hist->base > max ? to - max : s->hist->base;
	memcpy(out, s->hist->bytes + (from - s->hist->base), to - from);
	return (size_t)(to - from);
}

static size_t context_after(const struct tcp_stream *s, uint64_t from, size_t max, uint8_t *out)
{
	if (!s->hist || from < s->hist->base || from >= s->next_offset)
		return 0;
	uint64_t to = s->next_offset - from > max ? from + max : s->next_offset;
	memcpy(out, s->hist->bytes + (from - s->hist->base), to - from);
	return (size_t)(to - from);
}

static void report_one(struct tcp_stream *s, struct ooo_segment *v, void *ctx)
{
	if (!s->conflict_fn)
		return;
	uint8_t *buf = pa_xmalloc(v->len + 2 * TCP_STREAM_CONTEXT);
	size_t before = context_before(s, v->offset, TCP_STREAM_CONTEXT, buf);
	memcpy(buf + before, v->data, v->len);
	size_t after = context_after(s, v->offset + v->len, TCP_STREAM_CONTEXT,
				     buf + before + v->len);
	struct tcp_conflict c = {
		.data = buf,
		.len = before + v->len + after,
		.offset = v->offset - before,
		.version_at = before,
		.version_len = v->len,
		.packet = v->packet,
		.ts_us = v->ts_us,
		.first_packet = v->first_packet,
	};
	s->conflict_fn(ctx, &c);
	free(buf);
}

/* Hands waiting versions to the conflict callback: those the stream has
 * delivered CONTEXT bytes past, or all of them. */
static void report_versions(struct tcp_stream *s, bool all, void *ctx)
{
	if (!s->ver)
		return;
	struct ooo_segment **link = &s->ver->list;
	while (*link) {
		struct ooo_segment *v = *link;
		if (!all && v->offset + v->len + TCP_STREAM_CONTEXT > s->next_offset) {
			link = &v->next;
			continue;
		}
		*link = v->next;
		s->ver->bytes -= v->len;
		s->ver->count--;
		report_one(s, v, ctx);
		free(v);
	}
}

static struct ooo_segment *new_node(uint64_t offset, const uint8_t *data, uint64_t len,
				    uint64_t packet, int64_t ts_us);

/* Another copy of [offset, offset+len) differs from the one delivered or
 * buffered (by `first_packet`): count it and keep it to scan. */
static void add_version(struct tcp_stream *s, uint64_t offset, const uint8_t *data, size_t len,
			uint64_t packet, int64_t ts_us, uint64_t first_packet, void *ctx)
{
	if (!s->ver)
		s->ver = pa_xcalloc(1, sizeof *s->ver);
	struct tcp_versions *w = s->ver;
	if (packet != w->last_packet) {
		s->stats.conflict_packets++;
		w->last_packet = packet;
	}
	while (w->list && (w->count >= TCP_STREAM_MAX_VERSIONS ||
			   w->bytes + len > TCP_STREAM_MAX_VERSION_BYTES)) {
		struct ooo_segment *oldest = w->list;
		w->list = oldest->next;
		w->bytes -= oldest->len;
		w->count--;
		report_one(s, oldest, ctx);
		free(oldest);
	}
	if (len > TCP_STREAM_MAX_VERSION_BYTES)
		len = TCP_STREAM_MAX_VERSION_BYTES;
	struct ooo_segment *v = new_node(offset, data, len, packet, ts_us);
	v->first_packet = first_packet;
	v->next = NULL;
	struct ooo_segment **link = &w->list;
	while (*link)
		link = &(*link)->next;
	*link = v;
	w->bytes += v->len;
	w->count++;
}

/* Compares a repeat with the copy that came first, byte by byte; differing
 * bytes make the repeat (from its first to its last differing byte)
 * another version. */
static void count_repeat(struct tcp_stream *s, const uint8_t *first, const uint8_t *again,
			 size_t len, uint64_t offset, uint64_t packet, int64_t ts_us,
			 uint64_t first_packet, void *ctx)
{
	size_t lo = len, hi = 0;
	for (size_t i = 0; i < len; i++) {
		if (first[i] == again[i]) {
			s->stats.retransmitted++;
			continue;
		}
		s->stats.overlap_differs++;
		if (lo == len)
			lo = i;
		hi = i + 1;
	}
	if (lo < hi)
		add_version(s, offset + lo, again + lo, hi - lo, packet, ts_us, first_packet, ctx);
}

/* A repeat of bytes already delivered: compared with the history where it
 * still holds them. */
static void repeat_of_delivered(struct tcp_stream *s, uint64_t offset, const uint8_t *data,
				size_t len, uint64_t packet, int64_t ts_us, void *ctx)
{
	uint64_t end = offset + len;
	uint64_t from = s->hist && s->hist->base > offset ? s->hist->base : offset;
	if (!s->hist || from >= end) {
		s->stats.retransmitted += len;
		return;
	}
	s->stats.retransmitted += from - offset;
	count_repeat(s, s->hist->bytes + (from - s->hist->base), data + (from - offset), end - from, from,
		     packet, ts_us, carrier_of(s, from), ctx);
}

void tcp_stream_ack(struct tcp_stream *s, uint32_t ack)
{
	if (!s->started || !s->hist)
		return;
	uint32_t next_seq = s->base_seq + (uint32_t)s->next_offset;
	int32_t behind = (int32_t)(next_seq - ack);
	if (behind < 0 || (uint64_t)behind > s->next_offset)
		return; /* acknowledges what was not delivered, or nonsense */
	bool waiting = s->ver && s->ver->list;
	if (behind == 0 && !waiting) {
		/* All acknowledged: a receiver drops any repeat now. */
		hist_clear(s);
		return;
	}
	uint64_t acked = s->next_offset - (uint64_t)behind;
	/* Keep CONTEXT bytes before the unacknowledged ones, for a version of
	 * those that straddles the acknowledged point, and before waiting versions. */
	uint64_t keep_from = acked > TCP_STREAM_CONTEXT ? acked - TCP_STREAM_CONTEXT : 0;
	for (const struct ooo_segment *v = waiting ? s->ver->list : NULL; v; v = v->next)
		if (v->offset < keep_from + TCP_STREAM_CONTEXT)
			keep_from = v->offset > TCP_STREAM_CONTEXT ? v->offset - TCP_STREAM_CONTEXT : 0;
	struct tcp_history *h = s->hist;
	if (keep_from <= h->base)
		return;
	uint64_t keep = s->next_offset - keep_from;
	memmove(h->bytes, h->bytes + (keep_from - h->base), keep);
	h->base = keep_from;
	if (h->cap > 1024 && keep <= h->cap / 4) {
		uint32_t cap = keep < 1024 ? 1024 : (uint32_t)keep;
		s->hist = pa_xrealloc(h, sizeof *h + cap);
		s->hist->cap = cap;
	}
}

/* After a buffered segment the snap length cut: its missing tail, up to
 * where the next buffered bytes start. */
static void skip_snapped_tail(struct tcp_stream *s, uint32_t snapped, uint64_t packet,
			      int64_t ts_us, tcp_stream_fn fn, void *ctx)
{
	if (s->ooo && s->ooo->offset < s->next_offset + snapped)
		snapped = (uint32_t)(s->ooo->offset - s->next_offset);
	if (snapped)
		skip_snapped(s, snapped, packet, ts_us, fn, ctx);
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
		uint32_t snapped = s->ooo->snapped;
		uint64_t packet = s->ooo->packet;
		int64_t ts_us = s->ooo->ts_us;
		deliver(s, s->ooo->data, s->ooo->len, packet, ts_us, fn, ctx);
		release_head(s);
		skip_snapped_tail(s, snapped, packet, ts_us, fn, ctx);
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

		count_repeat(s, head->data, here, overlap, at, packet, ts_us, head->packet, ctx);
		uint32_t snapped = head->snapped;
		uint64_t head_packet = head->packet;
		int64_t head_ts = head->ts_us;
		deliver(s, head->data, head->len, head_packet, head_ts, fn, ctx);
		release_head(s);
		skip_snapped_tail(s, snapped, head_packet, head_ts, fn, ctx);
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
	n->first_packet = 0;
	n->snapped = 0;
	n->next = NULL;
	memcpy(n->data, data, len);
	return n;
}

/* Copies the parts of an early segment that fill holes in the buffer; the
 * parts already buffered are compared and counted. Caller checked the caps. */
static struct ooo_segment *place_ahead(struct tcp_stream *s, uint64_t offset,
				       const uint8_t *data, size_t len, uint64_t packet,
				       int64_t ts_us, void *ctx)
{
	uint64_t end = offset + len, cursor = offset;
	struct ooo_segment **link = &s->ooo, *last = NULL;

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
			last = fresh;
			continue;
		}
		uint64_t n_end = n->offset + n->len;
		uint64_t stop = n_end < end ? n_end : end;
		count_repeat(s, n->data + (cursor - n->offset), data + (cursor - offset),
			     stop - cursor, cursor, packet, ts_us, n->packet, ctx);
		cursor = stop;
		link = &n->next;
	}
	/* the node holding the segment's last byte, when it is a new one */
	return last && last->offset + last->len == end ? last : NULL;
}

void tcp_stream_segment(struct tcp_stream *s, uint32_t seq, const uint8_t *data, size_t len,
			uint64_t packet, int64_t ts_us, tcp_stream_fn fn, void *ctx)
{
	tcp_stream_segment_snapped(s, seq, data, len, len, packet, ts_us, fn, ctx);
}

void tcp_stream_segment_snapped(struct tcp_stream *s, uint32_t seq, const uint8_t *data,
				size_t len, size_t wire_len, uint64_t packet, int64_t ts_us,
				tcp_stream_fn fn, void *ctx)
{
	if (len == 0 || !data)
		return;
	if (len > TCP_STREAM_MAX_AHEAD)
		len = TCP_STREAM_MAX_AHEAD; /* no IP packet is this large; keeps offsets sane */
	size_t snapped = wire_len > len && wire_len - len < TCP_STREAM_MAX_AHEAD ? wire_len - len : 0;
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
			uint64_t old_offset = s->next_offset - old;
			if (old > s->next_offset) { /* before the stream began */
				s->stats.retransmitted += old < len ? old : len;
			} else {
				repeat_of_delivered(s, old_offset, data, old < len ? old : len, packet,
						    ts_us, ctx);
			}
			if (old >= len) {
				/* the cut tail may reach past what was delivered */
				if (snapped && old < len + snapped)
					skip_snapped(s, len + snapped - old, packet, ts_us, fn, ctx);
				return;
			}
			data += old;
			len -= old;
			seq += (uint32_t)old;
			ahead = 0;
		}
		if (ahead == 0) {
			place_in_order(s, data, len, packet, ts_us, fn, ctx);
			if (snapped)
				skip_snapped_tail(s, (uint32_t)snapped, packet, ts_us, fn, ctx);
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
			struct ooo_segment *tail = place_ahead(s, offset, data, len, packet, ts_us, ctx);
			if (tail)
				tail->snapped = (uint32_t)snapped;
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
	report_versions(s, true, ctx);
}
