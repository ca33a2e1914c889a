/*
 * handoff.h — an ordered hand-off of records from one thread to another:
 * a single-producer, single-consumer ring of variable-size records and the
 * consumer thread that runs a handler over them, in the order they were
 * committed.
 *
 * The audit uses it to split its work over two cores (docs/architecture.md):
 * the packet path (decode, flows, nDPI, reassembly, HTTP, TLS) produces the
 * records, and the consumer scans them and writes what follows. Because
 * records are handled strictly in commit order, the output does not depend
 * on thread timing.
 *
 * Without a thread (threaded = false) a committed record is handled at once,
 * on the caller's thread, by the same handler: one code path for both.
 */
#ifndef PA_HANDOFF_H
#define PA_HANDOFF_H

#include "privaudit.h"

/* Runs on the consumer for each record: type and bytes as committed. */
typedef void (*handoff_fn)(void *ctx, uint32_t type, void *rec, size_t len);

struct handoff;

/* capacity: bytes of ring (records larger than a quarter of it are carried
 * in their own allocation). Exits the process if the thread cannot start. */
struct handoff *handoff_new(size_t capacity, bool threaded, handoff_fn fn, void *ctx);

/* Room for one record of len bytes, 16-byte aligned, to fill before
 * handoff_commit(). Blocks while the ring is full. One record at a time. */
void *handoff_reserve(struct handoff *h, uint32_t type, size_t len);
/* Hands the reserved record over (threaded) or handles it now. */
void handoff_commit(struct handoff *h);
/* Reserve, copy, commit. */
void handoff_put(struct handoff *h, uint32_t type, const void *rec, size_t len);

/* Returns once every committed record has been handled. */
void handoff_drain(struct handoff *h);
/* Drains, stops the thread, frees. */
void handoff_free(struct handoff *h);

#endif
