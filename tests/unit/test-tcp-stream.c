/* test-tcp-stream.c — reassembly of one TCP direction: exactly which bytes,
 * stream offsets and packet numbers reach the callback for in-order,
 * reversed, overlapping, retransmitted and wrapped segments, gaps forced by
 * the buffer cap, flush with holes and mid-stream pickup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "stream/tcp_stream.h"

struct event {
	bool gap;
	uint64_t offset, packet;
	size_t len;
	int64_t ts;
	const uint8_t *ptr;
	char text[64];
};

struct record {
	struct event ev[64];
	size_t n;
	char all[4096]; /* the stream as delivered, gaps as '~' */
	size_t all_len;
	uint64_t base; /* stream offset of all[0] */
	/* conflicts reported: the last one's buffer, and how many */
	size_t conflicts;
	char conflict[256];
	struct tcp_conflict last;
};

static void on_conflict(void *ctx, const struct tcp_conflict *c)
{
	struct record *r = ctx;
	r->conflicts++;
	r->last = *c;
	size_t keep = c->len < sizeof r->conflict - 1 ? c->len : sizeof r->conflict - 1;
	memcpy(r->conflict, c->data, keep);
	r->conflict[keep] = '\0';
	r->last.data = NULL; /* valid during the call only */
}

static void on_bytes(void *ctx, const uint8_t *data, size_t len, uint64_t offset,
		     uint64_t packet, int64_t ts_us)
{
	struct record *r = ctx;

	assert_true(r->n < 64);
	struct event *e = &r->ev[r->n++];
	e->gap = data == NULL;
	e->offset = offset;
	e->packet = packet;
	e->len = len;
	e->ts = ts_us;
	e->ptr = data;
	size_t keep = len < sizeof e->text - 1 ? len : sizeof e->text - 1;
	if (data)
		memcpy(e->text, data, keep);
	else
		memset(e->text, '~', keep);
	e->text[keep] = '\0';
	assert_int_equal(offset, r->base + r->all_len); /* contiguous, gaps included */
	for (size_t i = 0; i < len && r->all_len < sizeof r->all - 1; i++)
		r->all[r->all_len++] = data ? (char)data[i] : '~';
	r->all[r->all_len] = '\0';
}

static void seg(struct tcp_stream *s, uint32_t seq, const char *text, uint64_t packet,
		struct record *r)
{
	tcp_stream_segment(s, seq, (const uint8_t *)text, strlen(text), packet,
			   (int64_t)packet * 1000, on_bytes, r);
}

static void expect(const struct record *r, size_t i, uint64_t offset, const char *text,
		   uint64_t packet)
{
	assert_true(i < r->n);
	assert_false(r->ev[i].gap);
	assert_int_equal(r->ev[i].offset, offset);
	assert_string_equal(r->ev[i].text, text);
	assert_int_equal(r->ev[i].len, strlen(text));
	assert_int_equal(r->ev[i].packet, packet);
	assert_int_equal(r->ev[i].ts, (int64_t)packet * 1000);
}

static void expect_gap(const struct record *r, size_t i, uint64_t offset, size_t len,
		       uint64_t packet)
{
	assert_true(i < r->n);
	assert_true(r->ev[i].gap);
	assert_int_equal(r->ev[i].offset, offset);
	assert_int_equal(r->ev[i].len, len);
	assert_int_equal(r->ev[i].packet, packet);
}

static void test_in_order_uncopied(void **state)
{
	struct tcp_stream *s = tcp_stream_new(0);
	struct record r = { 0 };
	const char *hello = "hello", *world = " world";

	tcp_stream_syn(s, 1000);
	seg(s, 1001, hello, 1, &r);
	seg(s, 1006, world, 2, &r);
	assert_int_equal(r.n, 2);
	expect(&r, 0, 0, "hello", 1);
	expect(&r, 1, 5, " world", 2);
	assert_ptr_equal(r.ev[0].ptr, hello);
	assert_ptr_equal(r.ev[1].ptr, world);
	assert_int_equal(tcp_stream_stats(s)->delivered, 11);
	assert_int_equal(tcp_stream_offset(s), 11);
	assert_int_equal(tcp_stream_buffered(s), 0);
	tcp_stream_free(s);
}

static void test_reversed(void **state)
{
	struct tcp_stream *s = tcp_stream_new(0);
	struct record r = { 0 };

	tcp_stream_syn(s, 0);
	seg(s, 7, "ghi", 3, &r);
	seg(s, 4, "def", 2, &r);
	assert_int_equal(r.n, 0);
	assert_int_equal(tcp_stream_buffered(s), 6);
	seg(s, 1, "abc", 1, &r);
	assert_int_equal(r.n, 3);
	expect(&r, 0, 0, "abc", 1);
	expect(&r, 1, 3, "def", 2);
	expect(&r, 2, 6, "ghi", 3);
	assert_int_equal(tcp_stream_buffered(s), 0);
	assert_int_equal(tcp_stream_stats(s)->delivered, 9);
	tcp_stream_free(s);
}

static void test_overlap_and_retransmission(void **state)
{
	struct tcp_stream *s = tcp_stream_new(0);
	struct record r = { 0 };

	tcp_stream_syn(s, 0);
	seg(s, 1, "abcdef", 1, &r);
	seg(s, 4, "defghi", 2, &r);   /* three old bytes, three new */
	seg(s, 1, "abcdef", 3, &r);   /* all old */
	seg(s, 7, "ghi", 4, &r);      /* all old */
	assert_int_equal(r.n, 2);
	expect(&r, 0, 0, "abcdef", 1);
	expect(&r, 1, 6, "ghi", 2);
	const struct tcp_stream_stats *st = tcp_stream_stats(s);
	assert_int_equal(st->delivered, 9);
	assert_int_equal(st->retransmitted, 3 + 6 + 3);
	assert_int_equal(st->overlap_differs, 0);
	tcp_stream_free(s);
}

/* Buffered first, then other bytes for the same place: the first copy wins. */
static void test_differing_overlap_first_wins(void **state)
{
	struct tcp_stream *s = tcp_stream_new(0);
	struct record r = { 0 };

	tcp_stream_syn(s, 0);
	seg(s, 11, "XYZ", 2, &r);         /* offsets 10..12, buffered */
	seg(s, 10, "9xyzW", 3, &r);       /* 9 ahead, then three differing, then W */
	assert_int_equal(r.n, 0);
	assert_int_equal(tcp_stream_stats(s)->overlap_differs, 3);
	assert_int_equal(tcp_stream_buffered(s), 5);
	/* the buffer holds "9" (p3), "XYZ" (p2), "W" (p3); now the in-order
	 * bytes arrive, overlapping all but "W" with partly other content */
	seg(s, 1, "012345678!XYq", 4, &r);
	assert_int_equal(r.n, 4);
	expect(&r, 0, 0, "012345678", 4);
	expect(&r, 1, 9, "9", 3);
	expect(&r, 2, 10, "XYZ", 2);
	expect(&r, 3, 13, "W", 3);
	assert_string_equal(r.all, "0123456789XYZW");
	const struct tcp_stream_stats *st = tcp_stream_stats(s);
	/* "!" vs "9" differs; "XY" same; "q" vs "Z" differs */
	assert_int_equal(st->overlap_differs, 3 + 2);
	assert_int_equal(st->retransmitted, 2);
	assert_int_equal(st->delivered, 14);
	tcp_stream_free(s);
}

static void test_wraparound(void **state)
{
	struct tcp_stream *s = tcp_stream_new(0);
	struct record r = { 0 };

	tcp_stream_syn(s, 0xfffffffd); /* first data byte at 0xfffffffe */
	seg(s, 0xfffffffe, "ab", 1, &r);
	seg(s, 0x00000002, "ef", 3, &r);
	seg(s, 0x00000000, "cd", 2, &r);
	seg(s, 0xffffffff, "bc", 4, &r); /* old, across the wrap */
	assert_int_equal(r.n, 3);
	expect(&r, 0, 0, "ab", 1);
	expect(&r, 1, 2, "cd", 2);
	expect(&r, 2, 4, "ef", 3);
	assert_int_equal(tcp_stream_stats(s)->retransmitted, 2);
	tcp_stream_free(s);
}

/* Offsets keep counting past 4 GiB although sequence numbers wrap. */
static void test_offset_beyond_4gib(void **state)
{
	struct tcp_stream *s = tcp_stream_new(16);
	struct record r = { 0 };
	static uint8_t chunk[65536];

	tcp_stream_syn(s, 41);
	uint32_t seq = 42;
	for (unsigned i = 0; i < 65537; i++) { /* 65537 * 64 KiB > 4 GiB */
		tcp_stream_segment(s, seq, chunk, sizeof chunk, i, 0, NULL, NULL);
		seq += sizeof chunk;
	}
	assert_int_equal(tcp_stream_offset(s), 65537ull * 65536);
	r.base = 65537ull * 65536;
	seg(s, seq, "tail", 99, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].offset, 65537ull * 65536);
	assert_int_equal(tcp_stream_stats(s)->retransmitted, 0);
	tcp_stream_free(s);
}

static void test_gap_when_buffer_full(void **state)
{
	struct tcp_stream *s = tcp_stream_new(8);
	struct record r = { 0 };

	tcp_stream_syn(s, 0);
	seg(s, 11, "abcde", 2, &r);       /* offsets 10..14 */
	assert_int_equal(r.n, 0);
	seg(s, 21, "fghij", 3, &r);       /* 5 more would exceed 8 */
	assert_int_equal(r.n, 2);
	expect_gap(&r, 0, 0, 10, 2);
	expect(&r, 1, 10, "abcde", 2);
	assert_int_equal(tcp_stream_buffered(s), 5);
	/* the lost bytes arrive late: old now */
	seg(s, 1, "0123456789", 1, &r);
	assert_int_equal(r.n, 2);
	tcp_stream_flush(s, on_bytes, &r);
	assert_int_equal(r.n, 4);
	expect_gap(&r, 2, 15, 5, 3);
	expect(&r, 3, 20, "fghij", 3);
	const struct tcp_stream_stats *st = tcp_stream_stats(s);
	assert_int_equal(st->gap, 15);
	assert_int_equal(st->delivered, 10);
	assert_int_equal(st->retransmitted, 10);
	assert_int_equal(tcp_stream_buffered(s), 0);
	tcp_stream_free(s);
}

/* A segment bigger than the whole buffer, ahead of a hole. */
static void test_segment_larger_than_buffer(void **state)
{
	struct tcp_stream *s = tcp_stream_new(4);
	struct record r = { 0 };

	tcp_stream_syn(s, 100);
	seg(s, 104, "abcdefgh", 7, &r);
	assert_int_equal(r.n, 2);
	expect_gap(&r, 0, 0, 3, 7);
	expect(&r, 1, 3, "abcdefgh", 7);
	tcp_stream_free(s);
}

static void test_flush_with_holes(void **state)
{
	struct tcp_stream *s = tcp_stream_new(0);
	struct record r = { 0 };

	tcp_stream_syn(s, 0);
	seg(s, 1, "ab", 1, &r);
	seg(s, 6, "fg", 3, &r);
	seg(s, 12, "lm", 5, &r);
	seg(s, 8, "h", 4, &r);
	tcp_stream_flush(s, on_bytes, &r);
	assert_string_equal(r.all, "ab~~~fgh~~~lm");
	assert_int_equal(r.n, 6);
	expect(&r, 0, 0, "ab", 1);
	expect_gap(&r, 1, 2, 3, 3);
	expect(&r, 2, 5, "fg", 3);
	expect(&r, 3, 7, "h", 4);
	expect_gap(&r, 4, 8, 3, 5);
	expect(&r, 5, 11, "lm", 5);
	assert_int_equal(tcp_stream_stats(s)->gap, 6);
	/* after a flush, the stream goes on where it stopped */
	seg(s, 14, "n", 6, &r);
	expect(&r, 6, 13, "n", 6);
	tcp_stream_free(s);
}

static void test_mid_stream_pickup(void **state)
{
	struct tcp_stream *s = tcp_stream_new(0);
	struct record r = { 0 };

	seg(s, 5000, "abc", 1, &r);
	seg(s, 4990, "0123456789", 2, &r); /* before the start: old */
	seg(s, 4998, "xxabcdef", 3, &r);   /* five old bytes, then "def" */
	tcp_stream_syn(s, 4000);           /* too late to matter */
	seg(s, 5006, "g", 4, &r);
	assert_int_equal(r.n, 3);
	expect(&r, 0, 0, "abc", 1);
	expect(&r, 1, 3, "def", 3);
	expect(&r, 2, 6, "g", 4);
	assert_int_equal(tcp_stream_stats(s)->retransmitted, 15);
	tcp_stream_free(s);
}

static void test_syn_retransmitted_and_empty_segments(void **state)
{
	struct tcp_stream *s = tcp_stream_new(0);
	struct record r = { 0 };

	tcp_stream_syn(s, 10);
	tcp_stream_syn(s, 500); /* a second SYN does not move the start */
	tcp_stream_segment(s, 11, (const uint8_t *)"", 0, 1, 0, on_bytes, &r);
	seg(s, 11, "ok", 2, &r);
	assert_int_equal(r.n, 1);
	expect(&r, 0, 0, "ok", 2);
	tcp_stream_free(s);
}

/* Not a byte this connection could send next: dropped, no giant gap. */
static void test_far_ahead_dropped(void **state)
{
	struct tcp_stream *s = tcp_stream_new(16);
	struct record r = { 0 };

	tcp_stream_syn(s, 0);
	seg(s, 1u + (1u << 30), "zz", 1, &r);
	assert_int_equal(r.n, 0);
	assert_int_equal(tcp_stream_stats(s)->ooo_dropped, 2);
	assert_int_equal(tcp_stream_buffered(s), 0);
	seg(s, 1, "a", 2, &r);
	expect(&r, 0, 0, "a", 2);
	tcp_stream_free(s);
}

/* Many tiny out-of-order segments hit the node cap before the byte cap. */
static void test_segment_count_cap(void **state)
{
	struct tcp_stream *s = tcp_stream_new(0);
	struct record r = { 0 };

	tcp_stream_syn(s, 0);
	for (uint32_t k = 0; k < 1024; k++)  /* offsets 1, 3, 5, ... */
		seg(s, 2 + 2 * k, "x", 10 + k, &r);
	assert_int_equal(r.n, 0);
	assert_int_equal(tcp_stream_buffered(s), 1024);
	seg(s, 2 + 2 * 1024, "y", 5000, &r);
	assert_int_equal(r.n, 2);
	expect_gap(&r, 0, 0, 1, 10);
	expect(&r, 1, 1, "x", 10);
	assert_int_equal(tcp_stream_buffered(s), 1024);
	tcp_stream_flush(s, NULL, NULL); /* 2048 callbacks: only the counters */
	assert_int_equal(tcp_stream_stats(s)->gap, 1025);
	assert_int_equal(tcp_stream_stats(s)->delivered, 1025);
	tcp_stream_free(s);
}

/* Random cuts, order and duplicates of one known stream: whatever the cap,
 * every delivered byte is the original byte at its offset; with room enough
 * nothing is lost, and after flush delivered + gap covers the whole stream. */
struct checker {
	const uint8_t *original;
	uint64_t next, delivered, gap;
};

static void check_bytes(void *ctx, const uint8_t *data, size_t len, uint64_t offset,
			uint64_t packet, int64_t ts_us)
{
	struct checker *c = ctx;

	assert_int_equal(offset, c->next);
	if (data) {
		assert_memory_equal(data, c->original + offset, len);
		c->delivered += len;
	} else {
		c->gap += len;
	}
	c->next += len;
}

static void test_random_segmentation(void **state)
{
	static uint8_t original[20000];
	uint32_t rng = 12345;
	const size_t caps[] = { 1 << 20, 3000, 200 };
	uint64_t gaps_with_small_cap = 0;

#define NEXT_RANDOM() (rng = rng * 1103515245u + 12345u, rng >> 8)
	for (size_t i = 0; i < sizeof original; i++)
		original[i] = (uint8_t)NEXT_RANDOM();
	for (size_t round = 0; round < 60; round++) {
		size_t cap = caps[round % 3];
		struct tcp_stream *s = tcp_stream_new(cap);
		struct checker c = { .original = original };
		uint32_t isn = (uint32_t)NEXT_RANDOM() * 256u; /* wraps in some rounds */
		struct { uint32_t start, len; } cuts[600];
		size_t ncuts = 0, pos = 0;

		while (pos < sizeof original && ncuts < 600) {
			uint32_t len = 1 + NEXT_RANDOM() % 400;
			if (pos + len > sizeof original)
				len = (uint32_t)(sizeof original - pos);
			cuts[ncuts].start = (uint32_t)pos;
			cuts[ncuts].len = len;
			ncuts++;
			pos += len;
		}
		/* local shuffles: TCP reorders a little, not everything */
		for (size_t k = 0; k + 1 < ncuts; k++) {
			size_t j = k + NEXT_RANDOM() % 4;
			if (j < ncuts) {
				__typeof__(cuts[0]) t = cuts[k];
				cuts[k] = cuts[j];
				cuts[j] = t;
			}
		}
		tcp_stream_syn(s, isn);
		for (size_t k = 0; k < ncuts; k++) {
			uint32_t start = cuts[k].start, len = cuts[k].len;
			tcp_stream_segment(s, isn + 1 + start, original + start, len, k, 0,
					   check_bytes, &c);
			if (NEXT_RANDOM() % 5 == 0) { /* retransmission, maybe widened */
				uint32_t extra = NEXT_RANDOM() % 50;
				if (start + len + extra > sizeof original)
					extra = 0;
				tcp_stream_segment(s, isn + 1 + start, original + start, len + extra,
						   k, 0, check_bytes, &c);
			}
		}
		tcp_stream_flush(s, check_bytes, &c);
		assert_int_equal(c.next, sizeof original);
		assert_int_equal(c.delivered + c.gap, sizeof original);
		assert_int_equal(tcp_stream_stats(s)->delivered, c.delivered);
		assert_int_equal(tcp_stream_stats(s)->overlap_differs, 0);
		if (cap == 1 << 20)
			assert_int_equal(c.gap, 0);
		if (cap == 200)
			gaps_with_small_cap += c.gap;
		assert_int_equal(tcp_stream_buffered(s), 0);
		tcp_stream_free(s);
	}
	assert_true(gaps_with_small_cap > 0); /* the cap path really ran */
#undef NEXT_RANDOM
}


/* A decoy delivered first, the real copy after at the same sequence number:
 * the real bytes are another version, reported with the delivered bytes
 * before them and the packets of both copies. */
static void test_conflict_after_delivery(void **state)
{
	(void)state;
	struct tcp_stream *s = tcp_stream_new(0);
	struct record r = {0};
	tcp_stream_set_conflict_fn(s, on_conflict);
	tcp_stream_syn(s, 99);
	seg(s, 100, "GET /?imei=111111 HTTP", 1, &r);
	seg(s, 100, "GET /?imei=222222 HTTP", 2, &r);
	assert_int_equal(r.conflicts, 0); /* waits for context after it */
	tcp_stream_flush(s, on_bytes, &r);
	assert_int_equal(r.conflicts, 1);
	assert_string_equal(r.conflict, "GET /?imei=222222 HTTP");
	assert_int_equal(r.last.offset, 0);
	assert_int_equal(r.last.version_at, 11);
	assert_int_equal(r.last.version_len, 6);
	assert_int_equal(r.last.packet, 2);
	assert_int_equal(r.last.first_packet, 1);
	assert_string_equal(r.all, "GET /?imei=111111 HTTP");
	const struct tcp_stream_stats *st = tcp_stream_stats(s);
	assert_int_equal(st->overlap_differs, 6);
	assert_int_equal(st->retransmitted, 16);
	assert_int_equal(st->conflict_packets, 1);
	tcp_stream_free(s);
}

/* Once the receiver acknowledged bytes it drops any repeat of them: no
 * history is kept, nothing is compared. */
static void test_acknowledged_not_compared(void **state)
{
	(void)state;
	struct tcp_stream *s = tcp_stream_new(0);
	struct record r = {0};
	tcp_stream_set_conflict_fn(s, on_conflict);
	tcp_stream_syn(s, 99);
	seg(s, 100, "abcdef", 1, &r);
	tcp_stream_ack(s, 106);
	seg(s, 100, "uvwxyz", 2, &r);
	tcp_stream_flush(s, on_bytes, &r);
	assert_int_equal(r.conflicts, 0);
	assert_int_equal(tcp_stream_stats(s)->retransmitted, 6);
	assert_int_equal(tcp_stream_stats(s)->overlap_differs, 0);
	tcp_stream_free(s);
}

/* Two copies of a second half wait out of order; the first half comes
 * last. The later copy is reported with the first half as context. */
static void test_conflict_out_of_order(void **state)
{
	(void)state;
	struct tcp_stream *s = tcp_stream_new(0);
	struct record r = {0};
	tcp_stream_set_conflict_fn(s, on_conflict);
	tcp_stream_syn(s, 99);
	seg(s, 106, "BBBB", 1, &r);
	seg(s, 106, "CCCC", 2, &r);
	seg(s, 100, "AAAAAA", 3, &r);
	assert_string_equal(r.all, "AAAAAABBBB");
	tcp_stream_flush(s, on_bytes, &r);
	assert_int_equal(r.conflicts, 1);
	assert_string_equal(r.conflict, "AAAAAACCCC");
	assert_int_equal(r.last.version_at, 6);
	assert_int_equal(r.last.packet, 2);
	assert_int_equal(r.last.first_packet, 1);
	tcp_stream_free(s);
}

/* The snap length cut a segment: the missing tail is skipped like a hole
 * but counted as snapped, not as a gap. */
static void test_snapped_tail(void **state)
{
	(void)state;
	struct tcp_stream *s = tcp_stream_new(0);
	struct record r = {0};
	tcp_stream_syn(s, 99);
	tcp_stream_segment_snapped(s, 100, (const uint8_t *)"abc", 3, 10, 1, 1000, on_bytes, &r);
	seg(s, 110, "xyz", 2, &r);
	tcp_stream_flush(s, on_bytes, &r);
	assert_string_equal(r.all, "abc~~~~~~~xyz");
	assert_int_equal(tcp_stream_stats(s)->snapped, 7);
	assert_int_equal(tcp_stream_stats(s)->gap, 0);
	tcp_stream_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_uncopied),
		cmocka_unit_test(test_reversed),
		cmocka_unit_test(test_overlap_and_retransmission),
		cmocka_unit_test(test_differing_overlap_first_wins),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_offset_beyond_4gib),
		cmocka_unit_test(test_gap_when_buffer_full),
		cmocka_unit_test(test_segment_larger_than_buffer),
		cmocka_unit_test(test_flush_with_holes),
		cmocka_unit_test(test_mid_stream_pickup),
		cmocka_unit_test(test_syn_retransmitted_and_empty_segments),
		cmocka_unit_test(test_far_ahead_dropped),
		cmocka_unit_test(test_segment_count_cap),
		cmocka_unit_test(test_random_segmentation),
		cmocka_unit_test(test_conflict_after_delivery),
		cmocka_unit_test(test_acknowledged_not_compared),
		cmocka_unit_test(test_conflict_out_of_order),
		cmocka_unit_test(test_snapped_tail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
