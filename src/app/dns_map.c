/*
 * dns_map.c — which name did the device ask for before it talked to an
 * address? Built from every DNS response seen, asked for every new flow.
 *
 * Each address keeps a short history (newest first) of the names answered
 * for it, so a flow is attributed to the name that was current when it
 * started, not to whatever a later response said. Names are interned and
 * shared: a CDN answer with eight addresses stores its name once.
 *
 * Memory is bounded by max_entries addresses; past that, the address
 * answered least recently is forgotten. Lookups never reorder anything (they
 * take a const map), so eviction order is "least recently answered".
 */
#include <stdlib.h>
#include <string.h>

#include "app/dns.h"

#define DNS_MAP_HISTORY 4          /* names kept per address */
#define DNS_MAP_DEFAULT_ENTRIES 65536
#define DNS_MAP_MAX_ENTRIES (1u << 24)
#define DNS_MAP_CHAIN_MAX 16       /* CNAME hops followed inside one message */
#define DNS_MAP_SCRATCH_QUESTIONS 4
#define DNS_MAP_SCRATCH_CNAMES 32
#define DNS_MAP_SCRATCH_ADDRS 64
#define NO_INDEX UINT32_MAX

/* An interned name, shared by every history slot that holds it. */
struct dns_name {
	struct dns_name *next; /* in its hash bucket */
	uint32_t hash;
	uint32_t refs;
	char text[];
};

struct dns_map_entry {
	struct pa_addr addr;
	uint8_t count;                 /* history slots in use */
	uint32_t next_in_bucket;
	uint32_t older, newer;         /* answer-recency list, for eviction */
	int64_t ts[DNS_MAP_HISTORY];   /* newest first */
	struct dns_name *name[DNS_MAP_HISTORY];
};

/* What one response says, gathered by the parser's visitor before any of it
 * goes into the map (a CNAME may follow the address it explains). */
struct dns_map_scratch {
	size_t questions, cnames, addrs;
	char question[DNS_MAP_SCRATCH_QUESTIONS][DNS_NAME_MAX];
	struct {
		char owner[DNS_NAME_MAX], target[DNS_NAME_MAX];
	} cname[DNS_MAP_SCRATCH_CNAMES];
	struct {
		char owner[DNS_NAME_MAX];
		struct pa_addr addr;
	} addr[DNS_MAP_SCRATCH_ADDRS];
	size_t chain_len;
	struct {
		const char *name, *question;
	} chain[DNS_MAP_SCRATCH_QUESTIONS * (DNS_MAP_CHAIN_MAX + 1)];
};

struct dns_map {
	size_t max_entries;
	uint32_t used, allocated;      /* entries in use / allocated in `entries` */
	uint32_t bucket_mask;
	uint32_t *buckets;             /* entry index, NO_INDEX when empty */
	struct dns_map_entry *entries;
	uint32_t oldest, newest;       /* ends of the answer-recency list */

	uint32_t name_mask;
	struct dns_name **names;       /* interned names, by hash */

	struct dns_map_scratch *scratch;
};

/* FNV-1a: short keys, good enough spread, no state. */
static uint32_t hash_bytes(const void *data, size_t len, uint32_t h)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

static uint32_t hash_addr(const struct pa_addr *a)
{
	return hash_bytes(a->bytes, a->family == 4 ? 4 : 16, 2166136261u ^ a->family);
}

static bool addr_same(const struct pa_addr *a, const struct pa_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->bytes, b->bytes, a->family == 4 ? 4 : 16) == 0;
}

static uint32_t round_up_pow2(size_t n)
{
	uint32_t p = 16;

	while (p < n)
		p <<= 1;
	return p;
}

struct dns_map *dns_map_new(size_t max_entries)
{
	struct dns_map *m = pa_xcalloc(1, sizeof *m);

	if (max_entries == 0)
		max_entries = DNS_MAP_DEFAULT_ENTRIES;
	if (max_entries > DNS_MAP_MAX_ENTRIES)
		max_entries = DNS_MAP_MAX_ENTRIES;
	m->max_entries = max_entries;
	m->bucket_mask = round_up_pow2(max_entries) - 1;
	m->buckets = pa_xmalloc(((size_t)m->bucket_mask + 1) * sizeof *m->buckets);
	memset(m->buckets, 0xff, ((size_t)m->bucket_mask + 1) * sizeof *m->buckets);
	/* names: a few per address at most, usually far fewer (shared) */
	m->name_mask = round_up_pow2(max_entries) - 1;
	m->names = pa_xcalloc((size_t)m->name_mask + 1, sizeof *m->names);
	m->oldest = m->newest = NO_INDEX;
	m->scratch = pa_xmalloc(sizeof *m->scratch);
	return m;
}

void dns_map_free(struct dns_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i <= m->name_mask; i++) {
		struct dns_name *n = m->names[i];
		while (n) {
			struct dns_name *next = n->next;
			free(n);
			n = next;
		}
	}
	free(m->names);
	free(m->buckets);
	free(m->entries);
	free(m->scratch);
	free(m);
}

size_t dns_map_size(const struct dns_map *m)
{
	return m->used;
}

/* ---- interned names ---- */

static struct dns_name *name_get(struct dns_map *m, const char *text)
{
	size_t len = strlen(text);
	uint32_t h = hash_bytes(text, len, 2166136261u);
	struct dns_name **slot = &m->names[h & m->name_mask];

	for (struct dns_name *n = *slot; n; n = n->next)
		if (n->hash == h && strcmp(n->text, text) == 0) {
			n->refs++;
			return n;
		}
	struct dns_name *n = pa_xmalloc(sizeof *n + len + 1);
	n->hash = h;
	n->refs = 1;
	memcpy(n->text, text, len + 1);
	n->next = *slot;
	*slot = n;
	return n;
}

static void name_put(struct dns_map *m, struct dns_name *name)
{
	if (--name->refs > 0)
		return;
	struct dns_name **slot = &m->names[name->hash & m->name_mask];
	while (*slot != name)
		slot = &(*slot)->next;
	*slot = name->next;
	free(name);
}

/* ---- address entries ---- */

static void recency_unlink(struct dns_map *m, uint32_t i)
{
	struct dns_map_entry *e = &m->entries[i];

	if (e->older != NO_INDEX)
		m->entries[e->older].newer = e->newer;
	else
		m->oldest = e->newer;
	if (e->newer != NO_INDEX)
		m->entries[e->newer].older = e->older;
	else
		m->newest = e->older;
}

static void recency_push_newest(struct dns_map *m, uint32_t i)
{
	struct dns_map_entry *e = &m->entries[i];

	e->older = m->newest;
	e->newer = NO_INDEX;
	if (m->newest != NO_INDEX)
		m->entries[m->newest].newer = i;
	else
		m->oldest = i;
	m->newest = i;
}

static uint32_t entry_find(const struct dns_map *m, const struct pa_addr *addr)
{
	uint32_t i = m->buckets[hash_addr(addr) & m->bucket_mask];

	while (i != NO_INDEX && !addr_same(&m->entries[i].addr, addr))
		i = m->entries[i].next_in_bucket;
	return i;
}

static void bucket_unlink(struct dns_map *m, uint32_t victim)
{
	uint32_t *link = &m->buckets[hash_addr(&m->entries[victim].addr) & m->bucket_mask];

	while (*link != victim)
		link = &m->entries[*link].next_in_bucket;
	*link = m->entries[victim].next_in_bucket;
}

/* A free slot: a new one while under the cap, else the least recently
 * answered address, forgotten. */
static uint32_t entry_take_slot(struct dns_map *m)
{
	if (m->used < m->max_entries) {
		if (m->used == m->allocated) {
			size_t grow = m->allocated ? (size_t)m->allocated * 2 : 256;
			if (grow > m->max_entries)
				grow = m->max_entries;
			m->entries = pa_xrealloc(m->entries, grow * sizeof *m->entries);
			m->allocated = (uint32_t)grow;
		}
		return m->used++;
	}
	uint32_t victim = m->oldest;
	struct dns_map_entry *e = &m->entries[victim];

	recency_unlink(m, victim);
	bucket_unlink(m, victim);
	for (unsigned k = 0; k < e->count; k++)
		name_put(m, e->name[k]);
	return victim;
}

/* Puts (ts, name) into the history, kept sorted newest first. A run of the
 * same name keeps its earliest time: lookups between the two answers must
 * still see it. Timestamps normally arrive in order; merged captures may not. */
static void history_insert(struct dns_map *m, struct dns_map_entry *e, const char *text,
			   int64_t ts_us)
{
	unsigned pos = 0;

	while (pos < e->count && e->ts[pos] > ts_us)
		pos++;
	/* pos: first slot not newer than ts; e->name[pos] is the name current at ts */
	if (pos < e->count && strcmp(e->name[pos]->text, text) == 0)
		return;
	if (pos > 0 && strcmp(e->name[pos - 1]->text, text) == 0) {
		e->ts[pos - 1] = ts_us;
		return;
	}
	if (pos >= DNS_MAP_HISTORY)
		return; /* older than everything we keep */
	if (e->count == DNS_MAP_HISTORY)
		name_put(m, e->name[--e->count]);
	memmove(&e->ts[pos + 1], &e->ts[pos], (e->count - pos) * sizeof e->ts[0]);
	memmove(&e->name[pos + 1], &e->name[pos], (e->count - pos) * sizeof e->name[0]);
	e->ts[pos] = ts_us;
	e->name[pos] = name_get(m, text);
	e->count++;
}

void dns_map_add(struct dns_map *m, const struct pa_addr *addr, const char *name, int64_t ts_us)
{
	if (addr->family != 4 && addr->family != 6)
		return;
	uint32_t i = entry_find(m, addr);

	if (i == NO_INDEX) {
		i = entry_take_slot(m);
		struct dns_map_entry *e = &m->entries[i];
		uint32_t *bucket = &m->buckets[hash_addr(addr) & m->bucket_mask];

		memset(e, 0, sizeof *e);
		e->addr = *addr;
		e->next_in_bucket = *bucket;
		*bucket = i;
	} else {
		recency_unlink(m, i);
	}
	recency_push_newest(m, i);
	history_insert(m, &m->entries[i], name, ts_us);
}

const char *dns_map_lookup(const struct dns_map *m, const struct pa_addr *addr, int64_t ts_us)
{
	uint32_t i = entry_find(m, addr);

	if (i == NO_INDEX)
		return NULL;
	const struct dns_map_entry *e = &m->entries[i];
	for (unsigned k = 0; k < e->count; k++)
		if (e->ts[k] <= ts_us)
			return e->name[k]->text;
	return NULL;
}

/* ---- from a response ---- */

static void collect_question(void *ctx, const struct dns_question *q)
{
	struct dns_map_scratch *s = ctx;

	if (s->questions < DNS_MAP_SCRATCH_QUESTIONS)
		memcpy(s->question[s->questions++], q->name, DNS_NAME_MAX);
}

static void collect_answer(void *ctx, const struct dns_answer *a)
{
	struct dns_map_scratch *s = ctx;

	if (a->type == DNS_CNAME && s->cnames < DNS_MAP_SCRATCH_CNAMES) {
		memcpy(s->cname[s->cnames].owner, a->name, DNS_NAME_MAX);
		memcpy(s->cname[s->cnames].target, a->target, DNS_NAME_MAX);
		s->cnames++;
	} else if ((a->type == DNS_A || a->type == DNS_AAAA) && s->addrs < DNS_MAP_SCRATCH_ADDRS) {
		memcpy(s->addr[s->addrs].owner, a->name, DNS_NAME_MAX);
		s->addr[s->addrs].addr = a->addr;
		s->addrs++;
	}
}

/* Every name reachable from a question through the message's CNAMEs
 * (followed forwards, DNS_MAP_CHAIN_MAX hops at most, so a CNAME loop ends),
 * each with the question it started from. Computed once per response so
 * that attributing each address costs one short scan. */
static void build_chains(struct dns_map_scratch *s)
{
	s->chain_len = 0;
	for (size_t q = 0; q < s->questions; q++) {
		const char *cur = s->question[q];

		for (unsigned hop = 0; hop <= DNS_MAP_CHAIN_MAX; hop++) {
			s->chain[s->chain_len].name = cur;
			s->chain[s->chain_len].question = s->question[q];
			s->chain_len++;
			const char *next = NULL;
			for (size_t c = 0; c < s->cnames && !next; c++)
				if (strcmp(s->cname[c].owner, cur) == 0)
					next = s->cname[c].target;
			if (!next)
				break;
			cur = next;
		}
	}
}

/* The question whose chain reaches `owner`, or NULL. */
static const char *chain_start(const struct dns_map_scratch *s, const char *owner)
{
	for (size_t i = 0; i < s->chain_len; i++)
		if (strcmp(s->chain[i].name, owner) == 0)
			return s->chain[i].question;
	return NULL;
}

bool dns_map_add_response(struct dns_map *m, const uint8_t *msg, size_t len, int64_t ts_us)
{
	struct dns_map_scratch *s = m->scratch;
	struct dns_visitor v = { .ctx = s, .question = collect_question, .answer = collect_answer };
	struct dns_header_info hdr = { 0 };

	s->questions = s->cnames = s->addrs = 0;
	bool ok = dns_parse(msg, len, &hdr, &v);
	/* A response damaged after some answers still told the device those
	 * addresses; keep what parsed cleanly. */
	if (!hdr.is_response)
		return ok;
	build_chains(s);
	for (size_t i = 0; i < s->addrs; i++) {
		const char *name = chain_start(s, s->addr[i].owner);

		dns_map_add(m, &s->addr[i].addr, name ? name : s->addr[i].owner, ts_us);
	}
	return ok;
}
