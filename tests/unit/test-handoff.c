/* test-handoff.c — the record ring between the packet path and the scan thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "stage/handoff.h"

struct seen {
	uint64_t next_seq;   /* sequence number expected next */
	uint64_t bytes;
	bool bad;            /* a record out of order or with the wrong bytes */
};

/* Record = sequence number, then len - 8 bytes each equal to (seq + i) & 0xff. */
static void check_record(void *ctx, uint32_t type, void *rec, size_t len)
{
	struct seen *s = ctx;
	uint64_t seq;
	if (len < sizeof seq) {
		s->bad = true;
		return;
	}
	memcpy(&seq, rec, sizeof seq);
	if (seq != s->next_seq || type != (uint32_t)(seq % 7))
		s->bad = true;
	const uint8_t *p = (const uint8_t *)rec + sizeof seq;
	for (size_t i = 0; i < len - sizeof seq; i++)
		if (p[i] != (uint8_t)(seq + i))
			s->bad = true;
	s->next_seq++;
	s->bytes += len;
}

static size_t produce(struct handoff *h, uint64_t seq, size_t len)
{
	uint8_t *r = handoff_reserve(h, (uint32_t)(seq % 7), len);
	memcpy(r, &seq, sizeof seq);
	for (size_t i = 0; i < len - sizeof seq; i++)
		r[sizeof seq + i] = (uint8_t)(seq + i);
	handoff_commit(h);
	return len;
}

static void run(bool threaded, size_t capacity, uint64_t records)
{
	struct seen s = {0};
	struct handoff *h = handoff_new(capacity, threaded, check_record, &s);
	uint64_t rng = 88172645463325252ull, bytes = 0;
	for (uint64_t seq = 0; seq < records; seq++) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17; /* xorshift64 */
		size_t len = 8 + rng % 600;
		if (rng % 1000 == 0)
			len = 8 + capacity / 2 + rng % capacity; /* past a quarter: own allocation */
		bytes += produce(h, seq, len);
		if (seq % 50000 == 0) { /* a drain in the middle leaves nothing behind */
			handoff_drain(h);
			assert_int_equal(s.next_seq, seq + 1);
		}
	}
	handoff_drain(h);
	assert_false(s.bad);
	assert_int_equal(s.next_seq, records);
	assert_int_equal(s.bytes, bytes);
	handoff_free(h);
}

static void test_direct_handles_at_commit(void **state)
{
	(void)state;
	struct seen s = {0};
	struct handoff *h = handoff_new(4096, false, check_record, &s);
	produce(h, 0, 100);
	assert_int_equal(s.next_seq, 1); /* handled before commit returned */
	produce(h, 1, 10000);
	assert_int_equal(s.next_seq, 2);
	assert_false(s.bad);
	handoff_free(h);
	run(false, 4096, 20000);
}

static void test_threaded_keeps_order_across_wraps(void **state)
{
	(void)state;
	/* A small ring: it wraps thousands of times and the producer waits. */
	run(true, 8192, 200000);
	run(true, 1 << 20, 200000);
}

static void test_free_drains(void **state)
{
	(void)state;
	struct seen s = {0};
	struct handoff *h = handoff_new(4096, true, check_record, &s);
	for (uint64_t seq = 0; seq < 1000; seq++)
		produce(h, seq, 64);
	handoff_free(h); /* must hand over all 1000 first */
	assert_int_equal(s.next_seq, 1000);
	assert_false(s.bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_direct_handles_at_commit),
		cmocka_unit_test(test_threaded_keeps_order_across_wraps),
		cmocka_unit_test(test_free_drains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
