/*
 * quic_streams.c — per-stream reassembly of one direction (quic_streams.h).
 */
#include "quic/quic_streams.h"

#include <stdlib.h>
#include <string.h>

#include "stream/tcp_stream.h"

#define CLOSED_KEPT 64

struct open_stream {
	uint64_t id;
	struct tcp_stream *ts;   /* NULL: the slot is free */
	uint64_t final_size;
	bool final_known;
	uint64_t last_use;
};

struct quic_streams {
	struct open_stream open[QUIC_STREAMS_MAX];
	uint64_t closed[CLOSED_KEPT]; /* ids of streams that ended, a ring */
	unsigned closed_next, closed_count;
	uint64_t clock;
	struct quic_stream_counts done; /* of streams already closed */
};

/* Context of one tcp_stream delivery. */
struct delivery {
	const struct quic_sink *sink;
	bool from_client;
	struct open_stream *st;
	bool fin_sent;
};

struct quic_streams *quic_streams_new(void)
{
	return pa_xcalloc(1, sizeof(struct quic_streams));
}

static void add_counts(struct quic_stream_counts *to, const struct tcp_stream *ts)
{
	const struct tcp_stream_stats *st = tcp_stream_stats(ts);
	to->delivered += st->delivered;
	/* Out-of-order bytes dropped for want of room are part of the gap the
	 * stream later skips: they were captured, so they count as truncated. */
	uint64_t dropped = st->ooo_dropped < st->gap ? st->ooo_dropped : st->gap;
	to->gap += st->gap - dropped;
	to->truncated += dropped;
}

void quic_streams_free(struct quic_streams *s)
{
	if (!s)
		return;
	for (int i = 0; i < QUIC_STREAMS_MAX; i++)
		tcp_stream_free(s->open[i].ts);
	free(s);
}

void quic_streams_counts(const struct quic_streams *s, struct quic_stream_counts *out)
{
	*out = s->done;
	for (int i = 0; i < QUIC_STREAMS_MAX; i++)
		if (s->open[i].ts)
			add_counts(out, s->open[i].ts);
}

static bool was_closed(const struct quic_streams *s, uint64_t id)
{
	for (unsigned i = 0; i < s->closed_count; i++)
		if (s->closed[i] == id)
			return true;
	return false;
}

static void on_bytes(void *ctx, const uint8_t *data, size_t len, uint64_t offset, uint64_t packet,
		     int64_t ts)
{
	struct delivery *d = ctx;
	struct open_stream *st = d->st;
	bool fin = st->final_known && offset + len >= st->final_size;
	if (d->sink && d->sink->stream)
		d->sink->stream(d->sink->ctx, d->from_client, st->id, data, len, fin, packet, ts);
	if (fin)
		d->fin_sent = true;
}

static void close_slot(struct quic_streams *s, struct open_stream *st)
{
	add_counts(&s->done, st->ts);
	tcp_stream_free(st->ts);
	s->closed[s->closed_next] = st->id;
	s->closed_next = (s->closed_next + 1) % CLOSED_KEPT;
	if (s->closed_count < CLOSED_KEPT)
		s->closed_count++;
	memset(st, 0, sizeof *st);
}

/* Flushes a stream (holes become gaps) and tells the sink it ended. */
static void flush_close(struct quic_streams *s, struct open_stream *st, bool from_client,
			const struct quic_sink *sink)
{
	struct delivery d = {sink, from_client, st, false};
	tcp_stream_flush(st->ts, on_bytes, &d);
	if (!d.fin_sent && sink && sink->stream)
		sink->stream(sink->ctx, from_client, st->id, (const uint8_t *)"", 0, true, 0, 0);
	close_slot(s, st);
}

static struct open_stream *stream_get(struct quic_streams *s, bool from_client, uint64_t id,
				      const struct quic_sink *sink)
{
	struct open_stream *free_slot = NULL, *oldest = NULL;
	for (int i = 0; i < QUIC_STREAMS_MAX; i++) {
		struct open_stream *st = &s->open[i];
		if (st->ts && st->id == id) {
			st->last_use = ++s->clock;
			return st;
		}
		if (!st->ts && !free_slot)
			free_slot = st;
		if (st->ts && (!oldest || st->last_use < oldest->last_use))
			oldest = st;
	}
	if (was_closed(s, id))
		return NULL;
	if (!free_slot) {
		s->done.evicted++;
		flush_close(s, oldest, from_client, sink);
		free_slot = oldest;
	}
	free_slot->id = id;
	free_slot->ts = tcp_stream_new(QUIC_STREAM_BUFFER);
	/* Offset 0 is the byte after the "SYN" (tcp_stream.h). */
	tcp_stream_syn(free_slot->ts, UINT32_MAX);
	free_slot->last_use = ++s->clock;
	return free_slot;
}

void quic_streams_frame(struct quic_streams *s, bool from_client, uint64_t id, uint64_t offset,
			const uint8_t *data, size_t len, bool fin, uint64_t packet, int64_t ts_us,
			const struct quic_sink *sink)
{
	struct open_stream *st = stream_get(s, from_client, id, sink);
	if (!st)
		return; /* a late copy of a stream that has ended */
	if (fin && !st->final_known) {
		st->final_known = true;
		st->final_size = offset + len;
	}
	struct delivery d = {sink, from_client, st, false};
	/* Stream offsets go up to 2^62; the 32-bit sequence space of the TCP
	 * reassembly wraps as TCP's does, which is unambiguous while a stream's
	 * out-of-order window is far below 2^31. */
	if (len)
		tcp_stream_segment(st->ts, (uint32_t)offset, data, len, packet, ts_us, on_bytes, &d);
	else if (fin && tcp_stream_offset(st->ts) >= st->final_size) {
		/* An empty STREAM frame with FIN after all the bytes arrived. */
		if (sink && sink->stream)
			sink->stream(sink->ctx, from_client, id, (const uint8_t *)"", 0, true, packet,
				     ts_us);
		d.fin_sent = true;
	}
	if (d.fin_sent)
		close_slot(s, st);
}

void quic_streams_reset(struct quic_streams *s, bool from_client, uint64_t id,
			const struct quic_sink *sink)
{
	for (int i = 0; i < QUIC_STREAMS_MAX; i++) {
		struct open_stream *st = &s->open[i];
		if (st->ts && st->id == id) {
			if (sink && sink->stream)
				sink->stream(sink->ctx, from_client, id, (const uint8_t *)"", 0, true,
					     0, 0);
			close_slot(s, st);
			return;
		}
	}
}

void quic_streams_flush(struct quic_streams *s, bool from_client, const struct quic_sink *sink)
{
	for (int i = 0; i < QUIC_STREAMS_MAX; i++)
		if (s->open[i].ts)
			flush_close(s, &s->open[i], from_client, sink);
}
