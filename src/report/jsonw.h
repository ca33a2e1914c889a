/*
 * jsonw.h — a JSON writer that appends one record straight into a growable
 * byte buffer, reused from record to record (flows.jsonl and
 * observations.jsonl write one per flow and per datum; building a jansson
 * tree for each cost a fifth of an audit).
 *
 * The writer places the commas: call jw_key() before each member of an
 * object, nothing between array elements. Strings always come out as valid
 * JSON whatever bytes go in (they come from packets): '"', '\\' and control
 * bytes are escaped, valid UTF-8 is kept as is, every invalid UTF-8 sequence
 * (stray byte, overlong form, surrogate, above U+10FFFF, cut short) becomes
 * U+FFFD, one per maximal invalid subpart as Unicode recommends.
 */
#ifndef PA_JSONW_H
#define PA_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jsonw {
	char *buf;
	size_t len, cap;
	bool comma;     /* a value or member came before: the next one needs ',' */
	unsigned depth; /* open objects and arrays, to check the record is closed */
};

void jw_init(struct jsonw *w);
void jw_free(struct jsonw *w);
/* Empties the buffer for the next record; keeps its memory. */
void jw_reset(struct jsonw *w);

void jw_object_open(struct jsonw *w);
void jw_object_close(struct jsonw *w);
void jw_array_open(struct jsonw *w);
void jw_array_close(struct jsonw *w);
/* A member's name; its value comes next. */
void jw_key(struct jsonw *w, const char *key);

/* NUL-terminated string; NULL gives null. */
void jw_string(struct jsonw *w, const char *s);
/* n bytes, NULs included (written as \u0000). */
void jw_string_len(struct jsonw *w, const char *s, size_t n);
void jw_int(struct jsonw *w, int64_t v);
void jw_uint(struct jsonw *w, uint64_t v);
void jw_bool(struct jsonw *w, bool v);
void jw_null(struct jsonw *w);
/* v rounded to `decimals` (0..9) decimal places, printed with at most that
 * many (trailing zeros dropped, one kept so it reads as a real): 145.493,
 * not 145.49299999999999. NaN and infinities give null. */
void jw_fixed(struct jsonw *w, double v, int decimals);
/* Bytes appended as they are, outside the JSON grammar (a line's '\n'). */
void jw_raw(struct jsonw *w, const char *s, size_t n);

static inline void jw_kv_string(struct jsonw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_string(w, s);
}

static inline void jw_kv_int(struct jsonw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	jw_int(w, v);
}

static inline void jw_kv_uint(struct jsonw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	jw_uint(w, v);
}

static inline void jw_kv_bool(struct jsonw *w, const char *key, bool v)
{
	jw_key(w, key);
	jw_bool(w, v);
}

static inline void jw_kv_null(struct jsonw *w, const char *key)
{
	jw_key(w, key);
	jw_null(w);
}

static inline void jw_kv_fixed(struct jsonw *w, const char *key, double v, int decimals)
{
	jw_key(w, key);
	jw_fixed(w, v, decimals);
}

#endif
