/*
 * keymap.h — a string-keyed hash map from a key to an index into the
 * caller's own array (open addressing, FNV-1a, grows at half full). The
 * map copies its keys; what an index means is the caller's business.
 */
#ifndef PA_KEYMAP_H
#define PA_KEYMAP_H

#include <stddef.h>

struct keymap_slot {
	char *key;
	size_t value;
};

struct keymap {
	struct keymap_slot *slots;
	size_t cap, used;
};

size_t keymap_get(const struct keymap *m, const char *key); /* SIZE_MAX when absent */
/* Sets key's index; returns the key as the map holds it (valid until keymap_free). */
const char *keymap_put(struct keymap *m, const char *key, size_t value);
void keymap_free(struct keymap *m);

#endif
