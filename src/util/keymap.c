/* keymap.c — string key → index map (keymap.h). */
#include "util/keymap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privaudit.h"

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static void keymap_grow(struct keymap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	struct keymap_slot *slots = pa_xcalloc(cap, sizeof *slots);
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->slots[i].key)
			continue;
		size_t j = hash_str(m->slots[i].key) & (cap - 1);
		while (slots[j].key)
			j = (j + 1) & (cap - 1);
		slots[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
}

/* The slot holding key, or NULL. */
static const struct keymap_slot *find(const struct keymap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	size_t j = hash_str(key) & (m->cap - 1);
	while (m->slots[j].key) {
		if (!strcmp(m->slots[j].key, key))
			return &m->slots[j];
		j = (j + 1) & (m->cap - 1);
	}
	return NULL;
}

size_t keymap_get(const struct keymap *m, const char *key)
{
	const struct keymap_slot *slot = find(m, key);
	return slot ? slot->value : SIZE_MAX;
}

const char *keymap_put(struct keymap *m, const char *key, size_t value)
{
	if ((m->used + 1) * 2 > m->cap)
		keymap_grow(m);
	size_t j = hash_str(key) & (m->cap - 1);
	while (m->slots[j].key) {
		if (!strcmp(m->slots[j].key, key)) {
			m->slots[j].value = value;
			return m->slots[j].key;
		}
		j = (j + 1) & (m->cap - 1);
	}
	m->slots[j].key = pa_xstrdup(key);
	m->slots[j].value = value;
	m->used++;
	return m->slots[j].key;
}

void keymap_free(struct keymap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	memset(m, 0, sizeof *m);
}
