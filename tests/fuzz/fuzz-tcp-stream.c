/*
 * fuzz-tcp-stream.c — TCP reassembly of one direction fed segments with
 * arbitrary sequence numbers, lengths and flags (SYN, data, retransmissions,
 * overlaps, wrap-around, holes), with a small out-of-order bound.
 *
 * Input: a list of records [flags:1][seq delta:4][len:1][payload:len]. Bytes
 * delivered and gaps reported must be contiguous in stream offsets, equal the
 * stream's own counters, and never exceed what was offered.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream/tcp_stream.h"

struct check {
	uint64_t next;       /* offset the next delivery must start at */
	uint64_t delivered, gap;
};

static void on_bytes(void *ctx, const uint8_t *data, size_t len, uint64_t offset, uint64_t packet,
		     int64_t ts_us)
{
	struct check *c = ctx;
	volatile uint8_t sum = 0;
	if (offset != c->next || len == 0)
		abort();
	if (data) {
		for (size_t i = 0; i < len; i++)
			sum ^= data[i];
		(void)sum;
		c->delivered += len;
	} else {
		c->gap += len;
	}
	c->next += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp_stream *s = tcp_stream_new(2048);
	struct check c = { 0 };
	uint32_t seq = 0;
	uint64_t offered = 0, packet = 0;
	size_t i = 0;
	while (i + 6 <= size) {
		uint8_t flags = data[i];
		uint32_t delta = (uint32_t)data[i + 1] << 24 | (uint32_t)data[i + 2] << 16 |
				 (uint32_t)data[i + 3] << 8 | data[i + 4];
		size_t len = data[i + 5];
		i += 6;
		if (len > size - i)
			len = size - i;
		/* small deltas (mostly forward, sometimes back) unless the top bit asks for any */
		if (!(flags & 0x80))
			delta = (uint32_t)(int32_t)(int16_t)(delta & 0xffff);
		seq += delta;
		packet++;
		if ((flags & 0x03) == 0x03) {
			tcp_stream_syn(s, seq);
		} else {
			uint8_t *piece = malloc(len ? len : 1);
			memcpy(piece, data + i, len);
			tcp_stream_segment(s, seq, piece, len, packet, 0, on_bytes, &c);
			free(piece);
			offered += len;
		}
		i += len;
		if (tcp_stream_buffered(s) > 2048 + 256)
			abort();
	}
	tcp_stream_flush(s, on_bytes, &c);
	const struct tcp_stream_stats *st = tcp_stream_stats(s);
	if (st->delivered != c.delivered || st->gap != c.gap || c.delivered > offered ||
	    tcp_stream_offset(s) != c.next)
		abort();
	tcp_stream_free(s);
	return 0;
}
