/*
 * handoff.c — single-producer, single-consumer record ring and its consumer
 * thread.
 *
 * head and tail count bytes since the start (never wrapped); the ring
 * position is the count modulo the capacity. The producer writes records at
 * head and publishes them by storing head (release); the consumer reads up
 * to the head it loaded (acquire) and frees space by storing tail (release).
 * A record that does not fit before the end of the ring is preceded by a pad
 * record that fills the rest, so every record is contiguous.
 *
 * Sleeping: a side that finds nothing to do sets its waiting flag, then
 * checks again under the mutex before waiting; the other side, after
 * publishing, takes the mutex and signals only when the flag is set. Both
 * flag and position accesses are sequentially consistent, so one of the two
 * always sees the other: no wake-up is lost, and a busy pipeline never
 * touches the mutex.
 *
 * Wake-ups are batched: a sleeping side is woken once the other has moved
 * a slice of the ring (WAKE_SLICE), not after every record, since each
 * wake-up is a system call; waking a consumer for each small record cost the
 * packet path a tenth of its time. Whoever is about to wait wakes the other
 * side first, and a consumer that runs dry always wakes a waiting producer,
 * so neither can wait on the other.
 */
#include "stage/handoff.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/thread.h"

#define ALIGN 16u
#define TYPE_PAD UINT32_MAX

struct record_header {
	uint32_t type;
	uint32_t external; /* the payload is a pointer to the record's own allocation */
	uint64_t len;      /* bytes of the record as reserved */
};

struct handoff {
	handoff_fn fn;
	void *ctx;
	bool threaded;

	/* direct mode: one reusable record */
	uint8_t *direct;
	size_t direct_cap;
	uint32_t direct_type;
	size_t direct_len;

	/* threaded mode */
	uint8_t *ring;
	size_t cap;
	_Atomic uint64_t head;      /* published by the producer */
	_Atomic uint64_t tail;      /* released by the consumer */
	uint64_t pending;           /* producer: head including the reserved record */
	uint64_t space_needed;      /* producer: bytes it waits for */
	uint64_t woken_at;          /* producer: head when it last woke the consumer */
	uint64_t wake_slice;        /* bytes moved before the other side is woken */
	_Atomic bool stop;
	_Atomic bool consumer_waiting;
	_Atomic bool producer_waiting;
	pthread_mutex_t lock;
	pthread_cond_t consumer_wake;
	pthread_cond_t producer_wake;
	pthread_t thread;
};

static size_t round_up(size_t n)
{
	return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

static void wake(struct handoff *h, _Atomic bool *waiting, pthread_cond_t *cond)
{
	if (atomic_load(waiting)) {
		pthread_mutex_lock(&h->lock);
		pthread_cond_signal(cond);
		pthread_mutex_unlock(&h->lock);
	}
}

/* Sleeps until ready(h) holds; the other side wakes us after each change. */
static void wait_until(struct handoff *h, _Atomic bool *waiting, pthread_cond_t *cond,
		       bool (*ready)(struct handoff *))
{
	if (ready(h))
		return;
	pthread_mutex_lock(&h->lock);
	atomic_store(waiting, true);
	while (!ready(h))
		pthread_cond_wait(cond, &h->lock);
	atomic_store(waiting, false);
	pthread_mutex_unlock(&h->lock);
}

/* ---- consumer --------------------------------------------------------------- */

static bool has_work(struct handoff *h)
{
	return atomic_load(&h->head) != atomic_load(&h->tail) || atomic_load(&h->stop);
}

static void *consume(void *arg)
{
	struct handoff *h = arg;
	uint64_t tail = atomic_load(&h->tail), woken_at = tail;
	for (;;) {
		wait_until(h, &h->consumer_waiting, &h->consumer_wake, has_work);
		uint64_t head = atomic_load(&h->head);
		if (head == tail && atomic_load(&h->stop))
			break;
		while (tail != head) {
			struct record_header *r = (struct record_header *)(h->ring + tail % h->cap);
			uint8_t *payload = (uint8_t *)(r + 1);
			size_t size;
			if (r->type == TYPE_PAD) {
				size = r->len;
			} else if (r->external) {
				void *own;
				memcpy(&own, payload, sizeof own);
				h->fn(h->ctx, r->type, own, r->len);
				free(own);
				size = sizeof *r + ALIGN;
			} else {
				h->fn(h->ctx, r->type, payload, r->len);
				size = sizeof *r + round_up(r->len);
			}
			tail += size;
			atomic_store(&h->tail, tail);
			if (tail - woken_at >= h->wake_slice) {
				wake(h, &h->producer_waiting, &h->producer_wake);
				woken_at = tail;
			}
		}
		/* Ran dry (for now): a producer waiting to drain must hear it. */
		wake(h, &h->producer_waiting, &h->producer_wake);
		woken_at = tail;
	}
	return NULL;
}

/* ---- producer --------------------------------------------------------------- */

struct handoff *handoff_new(size_t capacity, bool threaded, handoff_fn fn, void *ctx)
{
	struct handoff *h = pa_xcalloc(1, sizeof *h);
	h->fn = fn;
	h->ctx = ctx;
	h->threaded = threaded;
	if (!threaded)
		return h;
	h->cap = round_up(capacity < 64 * ALIGN ? 64 * ALIGN : capacity);
	h->ring = pa_xmalloc(h->cap);
	h->wake_slice = h->cap / 32;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->consumer_wake, NULL);
	pthread_cond_init(&h->producer_wake, NULL);
	int rc = pa_thread_start(&h->thread, consume, h, "privaudit-scan");
	if (rc != 0) {
		fprintf(stderr, "privaudit: cannot start a thread: %s\n", strerror(rc));
		exit(3);
	}
	return h;
}

static bool has_space(struct handoff *h)
{
	return h->cap - (h->pending - atomic_load(&h->tail)) >= h->space_needed;
}

/* Before the producer waits: a consumer asleep over unannounced records
 * must start on them, or both would wait. */
static void wake_consumer(struct handoff *h)
{
	wake(h, &h->consumer_waiting, &h->consumer_wake);
	h->woken_at = h->pending;
}

/* Waits until `need` bytes are free at h->pending. */
static void wait_for_space(struct handoff *h, uint64_t need)
{
	h->space_needed = need;
	if (has_space(h))
		return;
	wake_consumer(h);
	wait_until(h, &h->producer_waiting, &h->producer_wake, has_space);
}

void *handoff_reserve(struct handoff *h, uint32_t type, size_t len)
{
	if (!h->threaded) {
		if (len > h->direct_cap) {
			h->direct_cap = len > 2 * h->direct_cap ? len : 2 * h->direct_cap;
			free(h->direct);
			h->direct = pa_xmalloc(h->direct_cap ? h->direct_cap : 1);
		}
		h->direct_type = type;
		h->direct_len = len;
		return h->direct;
	}
	bool external = len > h->cap / 4;
	size_t need = sizeof(struct record_header) + (external ? ALIGN : round_up(len));
	h->pending = atomic_load(&h->head);
	size_t contiguous = h->cap - h->pending % h->cap;
	if (need > contiguous) {
		wait_for_space(h, contiguous);
		struct record_header *pad = (struct record_header *)(h->ring + h->pending % h->cap);
		pad->type = TYPE_PAD;
		pad->len = contiguous;
		h->pending += contiguous;
	}
	wait_for_space(h, need);
	struct record_header *r = (struct record_header *)(h->ring + h->pending % h->cap);
	r->type = type;
	r->external = external;
	r->len = len;
	h->pending += need;
	if (!external)
		return r + 1;
	void *own = pa_xmalloc(len ? len : 1);
	memcpy(r + 1, &own, sizeof own);
	return own;
}

void handoff_commit(struct handoff *h)
{
	if (!h->threaded) {
		h->fn(h->ctx, h->direct_type, h->direct, h->direct_len);
		return;
	}
	atomic_store(&h->head, h->pending);
	if (h->pending - h->woken_at >= h->wake_slice)
		wake_consumer(h);
}

void handoff_put(struct handoff *h, uint32_t type, const void *rec, size_t len)
{
	void *p = handoff_reserve(h, type, len);
	if (len)
		memcpy(p, rec, len);
	handoff_commit(h);
}

static bool drained(struct handoff *h)
{
	return atomic_load(&h->tail) == atomic_load(&h->head);
}

void handoff_drain(struct handoff *h)
{
	if (!h->threaded || drained(h))
		return;
	wake_consumer(h);
	wait_until(h, &h->producer_waiting, &h->producer_wake, drained);
}

void handoff_free(struct handoff *h)
{
	if (!h)
		return;
	if (h->threaded) {
		handoff_drain(h);
		atomic_store(&h->stop, true);
		pthread_mutex_lock(&h->lock);
		pthread_cond_signal(&h->consumer_wake);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->thread, NULL);
		pthread_mutex_destroy(&h->lock);
		pthread_cond_destroy(&h->consumer_wake);
		pthread_cond_destroy(&h->producer_wake);
		free(h->ring);
	}
	free(h->direct);
	free(h);
}
