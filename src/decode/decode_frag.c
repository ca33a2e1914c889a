/*
 * decode_frag.c — IPv4 and IPv6 fragment reassembly.
 *
 * Datagrams are keyed by (version, src, dst, id, protocol). Each keeps the
 * byte ranges it has received; fragments may come in any order, and where a
 * fragment overlaps bytes already held the first copy wins (as the receiving
 * host most likely did); a conflicting overlap is counted because it is how
 * evasion looks. Memory is bounded: the bytes held by all incomplete datagrams
 * stay under a cap, and datagrams older than a timeout are dropped, oldest
 * first, each drop counted as fragment-evicted.
 *
 * Allocation happens per datagram (fragments are rare), never per packet.
 */
#include "decode/decode_internal.h"

#include <stdlib.h>
#include <string.h>

#define FRAG_BUCKETS 1024
/* Distinct received pieces a datagram may have; more is a fragment flood
 * aimed at the reassembler, and the datagram is dropped. */
#define FRAG_MAX_RANGES 64
#define FRAG_DATA_STEP 2048

struct frag_range {
	uint32_t start, end;
};

struct frag_datagram {
	struct frag_datagram *hash_next;
	struct frag_datagram *older, *newer; /* age list */
	uint32_t bucket;

	uint8_t version, proto;
	uint8_t src[16], dst[16];
	uint32_t id;
	int64_t first_ts;

	uint32_t total;   /* payload length, known once the last fragment came */
	bool have_last;
	bool have_header;
	uint16_t header_len, next_header_at;
	uint8_t header[FRAG_MAX_HEADER];

	uint8_t *data;
	uint32_t data_cap;
	uint32_t n_ranges;
	struct frag_range ranges[FRAG_MAX_RANGES];
};

struct frag_table {
	size_t memory_max, memory;
	int64_t timeout_us;
	size_t count;
	struct frag_datagram *oldest, *newest;
	struct frag_datagram *buckets[FRAG_BUCKETS];
};

struct frag_table *frag_table_new(size_t memory_max, int64_t timeout_us)
{
	struct frag_table *t = pa_xcalloc(1, sizeof *t);
	t->memory_max = memory_max;
	t->timeout_us = timeout_us;
	return t;
}

static size_t datagram_memory(const struct frag_datagram *g)
{
	return sizeof *g + g->data_cap;
}

static void datagram_remove(struct frag_table *t, struct frag_datagram *g)
{
	struct frag_datagram **pp = &t->buckets[g->bucket];
	while (*pp != g)
		pp = &(*pp)->hash_next;
	*pp = g->hash_next;
	if (g->older)
		g->older->newer = g->newer;
	else
		t->oldest = g->newer;
	if (g->newer)
		g->newer->older = g->older;
	else
		t->newest = g->older;
	t->memory -= datagram_memory(g);
	t->count--;
	free(g->data);
	free(g);
}

void frag_table_free(struct frag_table *t)
{
	if (!t)
		return;
	while (t->oldest)
		datagram_remove(t, t->oldest);
	free(t);
}

size_t frag_table_memory(const struct frag_table *t)
{
	return t->memory;
}

size_t frag_table_count(const struct frag_table *t)
{
	return t->count;
}

static void evict(struct frag_table *t, struct frag_datagram *g, struct decode_stats *stats)
{
	stats->problems[DP_FRAGMENT_EVICTED]++;
	datagram_remove(t, g);
}

void frag_expire(struct frag_table *t, int64_t now_us, struct decode_stats *stats)
{
	/* Timestamps come from files and may be anything: no signed overflow. */
	int64_t age;
	while (t->oldest && !__builtin_sub_overflow(now_us, t->oldest->first_ts, &age) &&
	       age > t->timeout_us)
		evict(t, t->oldest, stats);
}

static uint32_t key_hash(const struct frag_input *in)
{
	size_t alen = in->version == 4 ? 4 : 16;
	uint32_t h = 2166136261u ^ in->version ^ (uint32_t)in->proto << 8;
	for (size_t i = 0; i < alen; i++)
		h = (h ^ in->src[i] ^ (uint32_t)in->dst[i] << 8) * 16777619u;
	h = (h ^ in->id) * 16777619u;
	return (h ^ h >> 15) % FRAG_BUCKETS;
}

static struct frag_datagram *lookup(struct frag_table *t, const struct frag_input *in,
				    uint32_t bucket)
{
	size_t alen = in->version == 4 ? 4 : 16;
	for (struct frag_datagram *g = t->buckets[bucket]; g; g = g->hash_next)
		if (g->version == in->version && g->proto == in->proto && g->id == in->id &&
		    memcmp(g->src, in->src, alen) == 0 && memcmp(g->dst, in->dst, alen) == 0)
			return g;
	return NULL;
}

/* Make room for grow more bytes by dropping the oldest other datagrams;
 * false when even that is not enough. */
static bool make_room(struct frag_table *t, size_t grow, const struct frag_datagram *keep,
		      struct decode_stats *stats)
{
	while (t->memory + grow > t->memory_max) {
		struct frag_datagram *victim = t->oldest;
		if (victim == keep)
			victim = victim->newer;
		if (!victim)
			return false;
		evict(t, victim, stats);
	}
	return true;
}

static struct frag_datagram *create(struct frag_table *t, const struct frag_input *in,
				    uint32_t bucket, struct decode_stats *stats)
{
	if (!make_room(t, sizeof(struct frag_datagram), NULL, stats))
		return NULL;
	struct frag_datagram *g = pa_xcalloc(1, sizeof *g);
	size_t alen = in->version == 4 ? 4 : 16;
	g->version = in->version;
	g->proto = in->proto;
	memcpy(g->src, in->src, alen);
	memcpy(g->dst, in->dst, alen);
	g->id = in->id;
	g->first_ts = in->ts_us;
	g->bucket = bucket;
	g->hash_next = t->buckets[bucket];
	t->buckets[bucket] = g;
	g->older = t->newest;
	if (t->newest)
		t->newest->newer = g;
	else
		t->oldest = g;
	t->newest = g;
	t->memory += datagram_memory(g);
	t->count++;
	return g;
}

static bool ensure_data(struct frag_table *t, struct frag_datagram *g, uint32_t end,
			struct decode_stats *stats)
{
	if (end <= g->data_cap)
		return true;
	uint32_t cap = (end + FRAG_DATA_STEP - 1) / FRAG_DATA_STEP * FRAG_DATA_STEP;
	if (!make_room(t, cap - g->data_cap, g, stats))
		return false;
	g->data = pa_xrealloc(g->data, cap);
	t->memory += cap - g->data_cap;
	g->data_cap = cap;
	return true;
}

/* Copy [start, end) where nothing is held yet; compare where something is.
 * Returns true when an overlap brought different bytes. */
static bool merge_bytes(struct frag_datagram *g, uint32_t start, uint32_t end,
			const uint8_t *src)
{
	bool conflict = false;
	uint32_t at = start;
	for (uint32_t i = 0; i < g->n_ranges && at < end; i++) {
		const struct frag_range *r = &g->ranges[i];
		if (r->end <= at)
			continue;
		if (r->start >= end)
			break;
		if (r->start > at)
			memcpy(g->data + at, src + (at - start), r->start - at);
		uint32_t o_start = r->start > at ? r->start : at;
		uint32_t o_end = r->end < end ? r->end : end;
		if (memcmp(g->data + o_start, src + (o_start - start), o_end - o_start) != 0)
			conflict = true;
		at = o_end;
	}
	if (at < end)
		memcpy(g->data + at, src + (at - start), end - at);
	return conflict;
}

/* Record [start, end) as held, keeping the ranges sorted and merged. */
static bool add_range(struct frag_datagram *g, uint32_t start, uint32_t end)
{
	uint32_t i = 0;
	while (i < g->n_ranges && g->ranges[i].end < start)
		i++;
	uint32_t j = i;
	while (j < g->n_ranges && g->ranges[j].start <= end) {
		if (g->ranges[j].start < start)
			start = g->ranges[j].start;
		if (g->ranges[j].end > end)
			end = g->ranges[j].end;
		j++;
	}
	if (j == i) { /* a new range between others */
		if (g->n_ranges == FRAG_MAX_RANGES)
			return false;
		memmove(&g->ranges[i + 1], &g->ranges[i], (g->n_ranges - i) * sizeof g->ranges[0]);
		g->n_ranges++;
	} else if (j > i + 1) { /* it bridged several */
		memmove(&g->ranges[i + 1], &g->ranges[j], (g->n_ranges - j) * sizeof g->ranges[0]);
		g->n_ranges -= j - i - 1;
	}
	g->ranges[i] = (struct frag_range){ start, end };
	return true;
}

static uint32_t build_datagram(const struct frag_datagram *g, uint8_t *out)
{
	memcpy(out, g->header, g->header_len);
	memcpy(out + g->header_len, g->data, g->total);
	uint32_t len = g->header_len + g->total;
	if (g->version == 4) {
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		out[6] &= 0x40; /* keep DF, clear MF and the offset */
		out[7] = 0;
		out[10] = out[11] = 0;
		uint32_t sum = 0;
		for (uint32_t i = 0; i < g->header_len; i += 2)
			sum += be16(out + i);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		out[10] = (uint8_t)(~sum >> 8);
		out[11] = (uint8_t)~sum;
	} else {
		uint32_t payload = len - 40;
		out[4] = (uint8_t)(payload >> 8);
		out[5] = (uint8_t)payload;
		out[g->next_header_at] = g->proto; /* the fragment header is gone */
	}
	return len;
}

enum frag_result frag_add(struct frag_table *t, const struct frag_input *in, uint8_t *out,
			  uint32_t *out_len, bool *overlap, struct decode_stats *stats)
{
	*overlap = false;
	uint32_t bucket = key_hash(in);
	struct frag_datagram *g = lookup(t, in, bucket);
	uint64_t end = (uint64_t)in->offset + in->data_len;
	/* IPv4 counts its header in the 65535; IPv6 counts its extension headers. */
	uint64_t size = in->version == 4 ? in->header_len + end : in->header_len - 40 + end;
	if (size > 65535 || in->header_len > FRAG_MAX_HEADER) {
		if (g)
			datagram_remove(t, g);
		return FRAG_TOO_LARGE;
	}
	if (!g && !(g = create(t, in, bucket, stats)))
		return FRAG_DROPPED;

	uint32_t start = in->offset;
	uint32_t stop = (uint32_t)end;
	if (g->have_last && stop > g->total) {
		/* bytes past the end another fragment announced */
		*overlap = true;
		stop = start < g->total ? g->total : start;
	}
	if (!in->more) {
		bool beyond = g->n_ranges && g->ranges[g->n_ranges - 1].end > stop;
		if ((g->have_last && g->total != stop) || beyond) {
			*overlap = true; /* a second, different end: the first one stays */
		} else {
			g->have_last = true;
			g->total = stop;
		}
	}
	if (stop > start) {
		if (!ensure_data(t, g, stop, stats)) {
			datagram_remove(t, g);
			return FRAG_DROPPED;
		}
		if (merge_bytes(g, start, stop, in->data))
			*overlap = true;
		if (!add_range(g, start, stop)) {
			datagram_remove(t, g);
			return FRAG_DROPPED;
		}
	}
	if (in->offset == 0 && !g->have_header) {
		memcpy(g->header, in->header, in->header_len);
		g->header_len = (uint16_t)in->header_len;
		g->next_header_at = (uint16_t)in->next_header_at;
		g->have_header = true;
	}
	if (*overlap)
		stats->problems[DP_FRAGMENT_OVERLAP]++;

	if (!g->have_last || !g->have_header || g->n_ranges != 1 || g->ranges[0].start != 0 ||
	    g->ranges[0].end != g->total)
		return FRAG_HELD;
	*out_len = build_datagram(g, out);
	datagram_remove(t, g);
	return FRAG_COMPLETE;
}
