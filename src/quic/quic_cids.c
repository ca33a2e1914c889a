/*
 * quic_cids.c — connection ID → owner, a chained hash table (quic_cids.h).
 */
#include "quic/quic_cids.h"

#include <stdlib.h>
#include <string.h>

#include "quic/quic_packet.h"

#define BUCKETS 4096

struct cid_entry {
	struct cid_entry *next;
	void *owner;
	uint8_t side;
	uint8_t len;
	uint8_t cid[QUIC_CID_MAX];
};

struct quic_cids {
	struct cid_entry *bucket[BUCKETS];
	size_t count;
	unsigned len_used[QUIC_CID_MAX + 1]; /* entries by ID length */
};

static size_t hash(const uint8_t *cid, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ cid[i]) * 16777619u;
	return (h ^ (uint32_t)len) % BUCKETS;
}

struct quic_cids *quic_cids_new(void)
{
	return pa_xcalloc(1, sizeof(struct quic_cids));
}

void quic_cids_free(struct quic_cids *m)
{
	if (!m)
		return;
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct cid_entry *e = m->bucket[b], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	free(m);
}

static struct cid_entry **slot(const struct quic_cids *m, const uint8_t *cid, size_t len)
{
	struct cid_entry **p = (struct cid_entry **)&m->bucket[hash(cid, len)];
	for (; *p; p = &(*p)->next)
		if ((*p)->len == len && memcmp((*p)->cid, cid, len) == 0)
			break;
	return p;
}

void quic_cids_put(struct quic_cids *m, const uint8_t *cid, size_t len, void *owner, int side)
{
	/* Zero-length IDs name no connection: every such peer shares them. */
	if (!len || len > QUIC_CID_MAX)
		return;
	struct cid_entry **p = slot(m, cid, len);
	if (*p) {
		(*p)->owner = owner; /* a later connection reusing an ID wins */
		(*p)->side = (uint8_t)side;
		return;
	}
	struct cid_entry *e = pa_xcalloc(1, sizeof *e);
	e->owner = owner;
	e->side = (uint8_t)side;
	e->len = (uint8_t)len;
	memcpy(e->cid, cid, len);
	*p = e;
	m->count++;
	m->len_used[len]++;
}

void quic_cids_drop(struct quic_cids *m, const uint8_t *cid, size_t len, const void *owner)
{
	if (!m || !len || len > QUIC_CID_MAX)
		return;
	struct cid_entry **p = slot(m, cid, len);
	if (!*p || (*p)->owner != owner)
		return;
	struct cid_entry *e = *p;
	*p = e->next;
	free(e);
	m->count--;
	m->len_used[len]--;
}

void *quic_cids_find_short(const struct quic_cids *m, const uint8_t *p, size_t len, int *side)
{
	if (!m || !len || (p[0] & 0x80))
		return NULL;
	for (size_t l = 1; l <= QUIC_CID_MAX && l < len; l++) {
		if (!m->len_used[l])
			continue;
		struct cid_entry **e = slot(m, p + 1, l);
		if (*e) {
			*side = (*e)->side;
			return (*e)->owner;
		}
	}
	return NULL;
}

size_t quic_cids_count(const struct quic_cids *m)
{
	return m ? m->count : 0;
}
