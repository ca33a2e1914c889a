/*
 * scan.c — running the compiled database over fields and flow streams, and
 * turning Hyperscan's (id, from, to) reports into observations.
 *
 * A field scan is a short stream too (the field's key name, "=", then the
 * value), on a Hyperscan stream kept in the scratch and reset after each
 * field: one database, one code path, and key context for free.
 *
 * Pattern matches cover key context and boundary bytes; the value is cut back
 * out by scanning the matched window with the value-only database (a second
 * scratch, so it may run inside the match callback). The window's bytes come
 * from the current chunk or the last DETECT_HISTORY bytes kept per stream.
 *
 * Device literals of one value overlap (hex of the IMEI without check digit
 * is a prefix of hex of the IMEI; base64 of the national phone number sits in
 * base64 of "+86..."): their matches wait in a small queue until the stream
 * has moved past the longest literal, and a match inside a longer match of
 * any device value is dropped, so each datum is reported once, in its most
 * complete encoding.
 *
 * Pattern matches wait the same way: a pattern that can grow (an app list,
 * one package more at each comma) reports at every possible end, and the
 * queue keeps only the longest value from one start; a pattern value inside a
 * device literal's bytes (a serial-shaped run inside base64 of the serial) is
 * the device value seen again and is dropped.
 *
 * Memory: a raw stream lives as long as its flow, mostly idle, so it holds
 * only what the next chunk can still need, sized to use: the last bytes (at
 * most DETECT_HISTORY, a window's length), the packets that carried them, and
 * a queue of waiting matches that exists only while something waits.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_internal.h"

#define PACKET_MAP 16
#define PENDING_MAX 8
#define PATTERN_PENDING_MAX 4
#define DEVICE_SPANS 8
#define WINDOW_MAX (DETECT_HISTORY)
#define START_WINDOW 64 /* first try of pattern_start */

struct pending {
	uint32_t literal;
	uint64_t start, end; /* stream offsets of the literal's bytes */
	uint64_t packet;
	int64_t ts_us;
};

/* A pattern observation waiting for a longer match from the same start. */
struct pattern_pending {
	unsigned sig;
	uint64_t start, end; /* stream offsets of the value */
	struct pa_observation obs;
};

/* A device literal reported lately; seq: its rank among all reported. */
struct device_span {
	uint64_t start, end;
	uint64_t seq;
};

/* Matches waiting and device literals reported lately: allocated with the
 * first of them, freed once nothing is left (detect_stream.queue). */
struct detect_queue {
	struct pending pending[PENDING_MAX];
	size_t pending_count;
	struct pattern_pending patterns[PATTERN_PENDING_MAX];
	size_t pattern_count;
	/* The last DEVICE_SPANS reported (older ones count no more), less those
	 * that end too early to hold any value still to come. */
	struct device_span spans[DEVICE_SPANS];
	size_t span_count;
	uint64_t spans_reported;
};

/* The chunk that ended at stream offset `end` came in packet `packet`. */
struct packet_mark {
	uint64_t end;
	uint64_t packet;
	int64_t ts_us;
};

struct detect_stream {
	const struct detect_engine *engine;
	hs_stream_t *hs;
	const char *protocol;
	const char *field;
	bool from_device;
	bool decoded_base64;  /* a field decoded from base64 ("x+base64"): patterns saw it encoded */
	bool keep_buffers;    /* the field scanner's stream: buffers stay at full size */
	uint16_t history_len; /* bytes held just before `offset` */
	uint16_t history_cap;
	uint8_t packet_count, packet_cap;
	uint64_t offset;      /* stream offset of the current chunk's first byte */
	uint64_t value_floor; /* values ending at or before this are key prefix */
	uint8_t *history;
	/* The last PACKET_MAP chunks, oldest first, less those wholly before
	 * the bytes a window may still reach (they are never asked for). */
	struct packet_mark *packets;
	struct detect_queue *queue; /* NULL while nothing waits */
};

struct detect_scratch {
	hs_scratch_t *hs;
	hs_scratch_t *value_hs;
	struct detect_stream field; /* the field scanner's stream */
	size_t max_literal;
};

/* One scan call: what the callback needs besides the stream. */
struct scan_call {
	struct detect_stream *s;
	struct detect_scratch *scratch;
	const uint8_t *chunk;
	size_t chunk_len;
	detect_sink_fn sink;
	void *ctx;
	size_t reported;
	/* value search inside a window */
	unsigned want_id;
	unsigned long long best_from, best_to;
	bool best_found;
	/* start-of-match search (pattern_start) */
	unsigned long long start_want_end, start_from;
	bool start_found;
};

static size_t max_literal_len(const struct detect_engine *e)
{
	size_t m = 0;
	for (size_t i = 0; i < e->literal_count; i++)
		if (e->literals[i].len > m)
			m = e->literals[i].len;
	return m;
}

struct detect_scratch *detect_scratch_alloc(const struct detect_engine *e)
{
	struct detect_scratch *sc = calloc(1, sizeof *sc);
	if (!sc)
		return NULL;
	/* One stream serves every field of the thread: its buffers stay. */
	sc->field.keep_buffers = true;
	sc->field.history = pa_xmalloc(DETECT_HISTORY);
	sc->field.history_cap = DETECT_HISTORY;
	sc->field.packets = pa_xmalloc(PACKET_MAP * sizeof *sc->field.packets);
	sc->field.packet_cap = PACKET_MAP;
	sc->field.queue = pa_xcalloc(1, sizeof *sc->field.queue);
	bool ok = true;
	/* One scratch serves every signature's block databases. */
	for (size_t i = 0; i < e->sigs.count; i++)
		ok = ok && hs_alloc_scratch(e->sig_dbs[i].start, &sc->value_hs) == HS_SUCCESS &&
		     hs_alloc_scratch(e->sig_dbs[i].value, &sc->value_hs) == HS_SUCCESS;
	if (!ok || hs_alloc_scratch(e->db, &sc->hs) != HS_SUCCESS ||
	    hs_open_stream(e->db, 0, &sc->field.hs) != HS_SUCCESS) {
		detect_scratch_free(sc);
		return NULL;
	}
	sc->field.engine = e;
	sc->max_literal = max_literal_len(e);
	return sc;
}

void detect_scratch_free(struct detect_scratch *sc)
{
	if (!sc)
		return;
	if (sc->field.hs)
		hs_close_stream(sc->field.hs, sc->hs, NULL, NULL);
	hs_free_scratch(sc->hs);
	hs_free_scratch(sc->value_hs);
	free(sc->field.history);
	free(sc->field.packets);
	free(sc->field.queue);
	free(sc);
}

/* Bytes [from, to) of the stream into out; false when no longer held. */
static bool window_bytes(const struct scan_call *c, uint64_t from, uint64_t to, uint8_t *out)
{
	const struct detect_stream *s = c->s;
	if (to - from > WINDOW_MAX || from + s->history_len < s->offset ||
	    to > s->offset + c->chunk_len)
		return false;
	if (from < s->offset) { /* the part still in the history */
		size_t n = (size_t)((to < s->offset ? to : s->offset) - from);
		memcpy(out, s->history + s->history_len - (s->offset - from), n);
		out += n;
		from += n;
	}
	if (from < to)
		memcpy(out, c->chunk + (from - s->offset), (size_t)(to - from));
	return true;
}

static int byte_at(const struct scan_call *c, uint64_t o)
{
	uint8_t b;
	return window_bytes(c, o, o + 1, &b) ? b : -1;
}

/* The packet that carried stream offset o. */
static void packet_of(const struct detect_stream *s, uint64_t o, uint64_t *packet, int64_t *ts)
{
	*packet = 0, *ts = 0;
	for (size_t i = s->packet_count; i-- > 0;) {
		*packet = s->packets[i].packet;
		*ts = s->packets[i].ts_us;
		if (i == 0 || o >= s->packets[i - 1].end)
			return; /* o is in this chunk (or older than the map: oldest known) */
	}
}

static struct detect_queue *queue_of(struct detect_stream *s)
{
	if (!s->queue)
		s->queue = pa_xcalloc(1, sizeof *s->queue);
	return s->queue;
}

/* An idle stream holds no queue. */
static void queue_release_if_empty(struct detect_stream *s)
{
	struct detect_queue *q = s->queue;
	if (q && !s->keep_buffers && !q->pending_count && !q->pattern_count && !q->span_count) {
		free(q);
		s->queue = NULL;
	}
}

/* ---- pattern matches ------------------------------------------------------ */

static void pattern_drop(struct detect_queue *q, size_t i)
{
	memmove(&q->patterns[i], &q->patterns[i + 1],
		(q->pattern_count - i - 1) * sizeof q->patterns[0]);
	q->pattern_count--;
}

/*
 * Inside the bytes of a device literal reported or queued: the device's own
 * value seen again. Two bytes of slack on each side: a base64 literal stops
 * short of the characters that mix the value's bits with its neighbours'.
 */
#define SPAN_SLACK 2

static bool within(uint64_t start, uint64_t end, uint64_t span_start, uint64_t span_end)
{
	return start + SPAN_SLACK >= span_start && end <= span_end + SPAN_SLACK;
}

static bool inside_device_span(const struct detect_queue *q, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < q->pending_count; i++)
		if (within(start, end, q->pending[i].start, q->pending[i].end))
			return true;
	for (size_t i = 0; i < q->span_count; i++)
		if (within(start, end, q->spans[i].start, q->spans[i].end))
			return true;
	return false;
}

static void pattern_emit(struct scan_call *c, size_t i)
{
	struct detect_queue *q = c->s->queue;
	struct pattern_pending *p = &q->patterns[i];
	if (!inside_device_span(q, p->start, p->end)) {
		c->sink(c->ctx, &p->obs);
		c->reported++;
	}
	pattern_drop(q, i);
}

/* Emits the queued pattern matches no longer match can extend (all when final). */
static void pattern_flush(struct scan_call *c, bool final)
{
	struct detect_stream *s = c->s;
	struct detect_queue *q = s->queue;
	uint64_t seen = s->offset + c->chunk_len;
	for (size_t i = 0; q && i < q->pattern_count;) {
		if (final || q->patterns[i].end + WINDOW_MAX <= seen)
			pattern_emit(c, i);
		else
			i++;
	}
}

static void emit(struct scan_call *c, unsigned sig, const char *source, const char *encoding,
		 const char *value, size_t value_len, uint64_t value_end)
{
	struct detect_stream *s = c->s;
	struct detect_queue *q = queue_of(s);
	uint64_t start = value_end - value_len;
	for (size_t i = 0; i < q->pattern_count; i++) {
		struct pattern_pending *p = &q->patterns[i];
		if (p->sig != sig)
			continue;
		if (p->start <= start && value_end <= p->end)
			return; /* part of a longer value already queued */
		if (p->start == start && value_end > p->end) {
			pattern_drop(q, i); /* the same value, grown */
			break;
		}
	}
	if (q->pattern_count == PATTERN_PENDING_MAX)
		pattern_emit(c, 0);
	struct pattern_pending *p = &q->patterns[q->pattern_count++];
	struct pa_observation *obs = &p->obs;
	p->sig = sig;
	p->start = start;
	p->end = value_end;
	memset(obs, 0, sizeof *obs);
	obs->type = s->engine->sigs.items[sig].type;
	obs->source = source;
	obs->encoding = encoding;
	obs->protocol = s->protocol;
	snprintf(obs->field, sizeof obs->field, "%s", s->field ? s->field : "");
	packet_of(s, value_end ? value_end - 1 : 0, &obs->packet, &obs->ts_us);
	obs->echo = !s->from_device;
	if (value_len > DETECT_VALUE_MAX)
		value_len = DETECT_VALUE_MAX;
	memcpy(obs->value, value, value_len);
	obs->value[value_len] = 0;
}

/* ---- device literals -------------------------------------------------- */

static void emit_literal(struct scan_call *c, const struct pending *p)
{
	const struct detect_engine *e = c->s->engine;
	const struct detect_literal *l = &e->literals[p->literal];
	const struct detect_ident *id = &e->device.idents[l->ident];
	struct pa_observation obs;
	memset(&obs, 0, sizeof obs);
	obs.type = id->type;
	obs.source = "device";
	obs.encoding = l->encoding;
	obs.protocol = c->s->protocol;
	snprintf(obs.field, sizeof obs.field, "%s", c->s->field ? c->s->field : "");
	obs.packet = p->packet;
	obs.ts_us = p->ts_us;
	obs.echo = !c->s->from_device;
	snprintf(obs.value, sizeof obs.value, "%s", id->value);
	c->sink(c->ctx, &obs);
	c->reported++;
	/* Only the last DEVICE_SPANS reported count: the one before them goes. */
	struct detect_queue *q = c->s->queue; /* p waited in it */
	uint64_t seq = q->spans_reported++;
	if (q->span_count && q->spans[0].seq + DEVICE_SPANS <= seq) {
		memmove(&q->spans[0], &q->spans[1], (q->span_count - 1) * sizeof q->spans[0]);
		q->span_count--;
	}
	q->spans[q->span_count++] = (struct device_span){p->start, p->end, seq};
}

static void pending_drop(struct detect_queue *q, size_t i)
{
	memmove(&q->pending[i], &q->pending[i + 1], (q->pending_count - i - 1) * sizeof q->pending[0]);
	q->pending_count--;
}

/* Emits the queued matches no later literal can still contain (all when final). */
static void pending_flush(struct scan_call *c, bool final)
{
	struct detect_stream *s = c->s;
	struct detect_queue *q = s->queue;
	uint64_t seen = s->offset + c->chunk_len;
	for (size_t i = 0; q && i < q->pending_count;) {
		if (final || q->pending[i].end + c->scratch->max_literal <= seen) {
			emit_literal(c, &q->pending[i]);
			pending_drop(q, i);
		} else {
			i++;
		}
	}
}

static void on_literal(struct scan_call *c, uint32_t lit, unsigned long long to)
{
	struct detect_stream *s = c->s;
	const struct detect_literal *l = &s->engine->literals[lit];
	uint64_t end = to;
	/* "(?:[^0-9]|$)" ended the match one byte late unless it hit the end. */
	if (l->guard_digit_after) {
		int b = byte_at(c, to - 1);
		if (b < 0 || !isdigit(b))
			end = to - 1;
	}
	if (end < l->len || end <= s->value_floor)
		return;
	uint64_t start = end - l->len;
	struct detect_queue *q = queue_of(s);
	/* Any device literal inside a longer one is part of it: the two IMEIs'
	 * base64 without check digit differ only in bits a cut edge drops. */
	for (size_t i = 0; i < q->pending_count;) {
		struct pending *p = &q->pending[i];
		if (p->start <= start && end <= p->end)
			return; /* inside a longer encoding already queued */
		if (start <= p->start && p->end <= end) {
			pending_drop(q, i);
			continue;
		}
		i++;
	}
	if (q->pending_count == PENDING_MAX) {
		emit_literal(c, &q->pending[0]);
		pending_drop(q, 0);
	}
	struct pending *p = &q->pending[q->pending_count++];
	p->literal = lit;
	p->start = start;
	p->end = end;
	packet_of(s, end - 1, &p->packet, &p->ts_us);
}

/* ---- pattern signatures --------------------------------------------------- */

static int on_value(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		    void *ctx)
{
	(void)id; /* the signature's own value database: always want_id */
	struct scan_call *c = ctx;
	unsigned long long len = to - from, best = c->best_to - c->best_from;
	if (!c->best_found || len > best || (len == best && to > c->best_to)) {
		c->best_from = from;
		c->best_to = to;
		c->best_found = true;
	}
	return 0;
}

static void normalize(const char *in, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 1 < cap; i++)
		if (isalnum((unsigned char)in[i]))
			out[o++] = (char)tolower((unsigned char)in[i]);
	out[o] = 0;
}

/* The pattern found one of the device's own values: the device match reports it. */
static bool is_device_value(const struct detect_engine *e, const char *v, size_t len)
{
	char a[DETECT_VALUE_MAX + 1], b[160];
	normalize(v, len, a, sizeof a);
	size_t an = strlen(a);
	for (size_t i = 0; i < e->device.ident_count; i++) {
		normalize(e->device.idents[i].value, strlen(e->device.idents[i].value), b, sizeof b);
		size_t bn = strlen(b);
		/* the IMEI without its check digit is the same datum */
		if (strcmp(e->device.idents[i].type, "imei") == 0 && an + 1 == bn &&
		    memcmp(a, b, an) == 0)
			return true;
		if (bn == 0 || an < bn || strcmp(a + an - bn, b) != 0)
			continue;
		if (an == bn || (an == bn + 2 && memcmp(a, "86", 2) == 0) ||
		    (an == bn + 4 && memcmp(a, "0086", 4) == 0))
			return true;
	}
	return false;
}

static void on_location(struct scan_call *c, const struct detect_sig *sig, const char *v,
			size_t len, uint64_t value_end)
{
	const struct detect_engine *e = c->s->engine;
	double a = 0, b = 0;
	int dec_a = 0, dec_b = 0;
	bool micro_a = false, micro_b = false;
	size_t i = 0;
	while (i < len && (v[i] == '-' || v[i] == '.' || isdigit((unsigned char)v[i])))
		i++;
	if (!coords_parse_number(v, i, &a, &dec_a, &micro_a))
		return;
	int which = sig->validator == DETECT_V_LATITUDE ? 1 : sig->validator == DETECT_V_LONGITUDE ? 2 : 0;
	if (which == 0) {
		size_t j = i;
		while (j < len && !(v[j] == '-' || isdigit((unsigned char)v[j])))
			j++;
		if (j > i && v[j - 1] == '%' && j + 2 <= len)
			j += 2;
		if (j >= len || !coords_parse_number(v + j, len - j, &b, &dec_b, &micro_b))
			return;
	}
	const char *encoding;
	if (e->device.has_location &&
	    coords_match_lab(&e->device, which, a, dec_a, b, dec_b, micro_a || micro_b, &encoding)) {
		emit(c, c->want_id, "device", encoding, v, len, value_end);
		return;
	}
	/* A lone number is not a location on its own; a pair in range is. */
	if (which == 0 && dec_a >= 2 && dec_b >= 2)
		emit(c, c->want_id, "pattern", micro_a ? "e6" : "decimal", v, len, value_end);
}

static int on_start(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		    void *ctx)
{
	(void)id, (void)flags;
	struct scan_call *c = ctx;
	if (to == c->start_want_end && (!c->start_found || from < c->start_from)) {
		c->start_from = from;
		c->start_found = true;
	}
	return 0;
}

/*
 * Where the match of signature id that ends at stream offset `to` starts:
 * its leftmost start, as HS_FLAG_SOM_LEFTMOST would have reported it, and
 * the match's bytes in window. The signature's start database runs over
 * the bytes just before `to`: START_WINDOW of them, then four times more
 * while needed, up to what a match could span (the expression's maximum
 * width, at most WINDOW_MAX, no further back than the history). A start
 * found at the window's first byte when the stream goes on before it may
 * be only the block scan's own start of data (the `^` of a boundary): the
 * window grows; at full size such a match is longer than a window and
 * dropped, as the stream scan with start of match dropped it.
 */
static bool pattern_start(struct scan_call *c, unsigned id, uint64_t to, uint8_t *window,
			  uint64_t *from)
{
	const struct detect_sig_dbs *d = &c->s->engine->sig_dbs[id];
	const struct detect_stream *s = c->s;
	uint64_t oldest = s->offset - s->history_len;
	uint64_t width = d->max_width < WINDOW_MAX ? d->max_width : WINDOW_MAX;
	uint64_t reach = to - oldest < width ? to - oldest : width;
	for (uint64_t span = reach < START_WINDOW ? reach : START_WINDOW;; span *= 4) {
		if (span > reach)
			span = reach;
		uint64_t ws = to - span;
		if (!window_bytes(c, ws, to, window))
			return false;
		c->start_want_end = span;
		c->start_found = false;
		if (hs_scan(d->start, (const char *)window, (unsigned)span, 0,
			    c->scratch->value_hs, on_start, c) != HS_SUCCESS)
			return false;
		bool cut = c->start_from == 0 && ws > 0 && d->max_width > span;
		if (c->start_found && !cut) {
			*from = ws + c->start_from;
			break;
		}
		/* Not found in a cut window may be found in a longer one. */
		if (span == reach)
			return false;
	}
	if (c->start_from)
		memmove(window, window + c->start_from, (size_t)(to - *from));
	return true;
}

static void on_pattern(struct scan_call *c, unsigned id, unsigned long long to)
{
	const struct detect_engine *e = c->s->engine;
	const struct detect_sig *sig = &e->sigs.items[id];
	uint8_t window[WINDOW_MAX];
	uint64_t from;
	if (!pattern_start(c, id, to, window, &from))
		return;
	c->want_id = id;
	c->best_found = false;
	if (hs_scan(e->sig_dbs[id].value, (const char *)window, (unsigned)(to - from), 0,
		    c->scratch->value_hs, on_value, c) != HS_SUCCESS || !c->best_found)
		return;
	const char *v = (const char *)window + c->best_from;
	size_t len = (size_t)(c->best_to - c->best_from);
	uint64_t value_end = from + c->best_to;
	if (value_end <= c->s->value_floor || !detect_validate(sig->validator, v, len))
		return;
	if (sig->validator == DETECT_V_COORDINATES || sig->validator == DETECT_V_LATITUDE ||
	    sig->validator == DETECT_V_LONGITUDE) {
		on_location(c, sig, v, len, value_end);
		return;
	}
	if (e->has_device && is_device_value(e, v, len))
		return;
	emit(c, id, "pattern", c->s->decoded_base64 ? "base64" : "raw", v, len, value_end);
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		    void *ctx)
{
	(void)from; /* always 0: the stream database tracks ends only */
	struct scan_call *c = ctx;
	const struct detect_engine *e = c->s->engine;
	if (id < e->sigs.count)
		on_pattern(c, id, to);
	else
		on_literal(c, (uint32_t)(id - e->sigs.count), to);
	return 0;
}

/* ---- streams ---------------------------------------------------------------- */

static void remember_packet(struct detect_stream *s, uint64_t end, uint64_t packet, int64_t ts)
{
	if (s->packet_count == PACKET_MAP) {
		memmove(&s->packets[0], &s->packets[1], (PACKET_MAP - 1) * sizeof s->packets[0]);
		s->packet_count--;
	}
	if (s->packet_count == s->packet_cap) {
		unsigned cap = s->packet_cap ? s->packet_cap * 2u : 2u;
		s->packet_cap = (uint8_t)(cap < PACKET_MAP ? cap : PACKET_MAP);
		s->packets = pa_xrealloc(s->packets, s->packet_cap * sizeof *s->packets);
	}
	s->packets[s->packet_count++] = (struct packet_mark){end, packet, ts};
}

/* After a chunk: keep its last bytes for windows that start before the next
 * one, in a buffer grown as the stream grows, up to DETECT_HISTORY. */
static void keep_history(struct detect_stream *s, const uint8_t *data, size_t len)
{
	size_t want = s->history_len + len < DETECT_HISTORY ? s->history_len + len : DETECT_HISTORY;
	if (want > s->history_cap) {
		size_t cap = (want + 63) & ~(size_t)63;
		s->history_cap = (uint16_t)(cap < DETECT_HISTORY ? cap : DETECT_HISTORY);
		s->history = pa_xrealloc(s->history, s->history_cap);
	}
	if (len >= DETECT_HISTORY) {
		memcpy(s->history, data + len - DETECT_HISTORY, DETECT_HISTORY);
		s->history_len = DETECT_HISTORY;
	} else {
		size_t keep = s->history_len + len > DETECT_HISTORY ? DETECT_HISTORY - len
								     : s->history_len;
		memmove(s->history, s->history + s->history_len - keep, keep);
		memcpy(s->history + keep, data, len);
		s->history_len = (uint16_t)(keep + len);
	}
	s->offset += len;
}

/*
 * Forgets what no match from the next chunk on can ask for. A window reaches
 * back at most WINDOW_MAX bytes before the chunk it ends in, and a value or
 * literal is placed by the packet of its last byte, inside that reach: older
 * chunks of the packet map are never looked up. A pattern value still to come
 * (or still queued) ends inside the reach too, so a device span that ends
 * before it cannot hold one. What is forgotten could not change any result.
 */
static void forget_unreachable(struct detect_stream *s)
{
	uint64_t reach = s->offset > WINDOW_MAX ? s->offset - WINDOW_MAX : 0;
	size_t old = 0;
	while (old + 1 < s->packet_count && s->packets[old].end <= reach)
		old++;
	if (old) {
		s->packet_count -= (uint8_t)old;
		memmove(&s->packets[0], &s->packets[old], s->packet_count * sizeof s->packets[0]);
	}
	if (!s->keep_buffers && s->packet_cap > 2 && s->packet_count * 4u <= s->packet_cap) {
		s->packet_cap /= 2;
		s->packets = pa_xrealloc(s->packets, s->packet_cap * sizeof *s->packets);
	}
	struct detect_queue *q = s->queue;
	if (q) {
		size_t n = 0;
		for (size_t i = 0; i < q->span_count; i++)
			if (q->spans[i].end + SPAN_SLACK > reach)
				q->spans[n++] = q->spans[i];
		q->span_count = n;
		queue_release_if_empty(s);
	}
}

static void feed(struct scan_call *c, const uint8_t *data, size_t len)
{
	c->chunk = data;
	c->chunk_len = len;
	hs_scan_stream(c->s->hs, (const char *)data, (unsigned)len, 0, c->scratch->hs, on_match, c);
	pending_flush(c, false);
	pattern_flush(c, false);
	keep_history(c->s, data, len);
	forget_unreachable(c->s);
	c->chunk = NULL;
	c->chunk_len = 0;
}

/* End of data: end-anchored matches, then everything still queued. */
static void finish(struct scan_call *c)
{
	hs_reset_stream(c->s->hs, 0, c->scratch->hs, on_match, c);
	pending_flush(c, true);
	pattern_flush(c, true);
}

static void stream_reset_state(struct detect_stream *s)
{
	s->offset = 0;
	s->value_floor = 0;
	s->history_len = 0;
	s->packet_count = 0;
	if (s->queue)
		s->queue->pending_count = s->queue->pattern_count = s->queue->span_count = 0;
}

struct detect_stream *detect_stream_open(const struct detect_engine *e,
					 const struct pa_field_ref *ref, bool from_device)
{
	struct detect_stream *s = pa_xcalloc(1, sizeof *s);
	if (hs_open_stream(e->db, 0, &s->hs) != HS_SUCCESS) {
		free(s);
		return NULL;
	}
	s->engine = e;
	s->protocol = ref->protocol;
	s->field = ref->field;
	s->from_device = from_device;
	return s;
}

size_t detect_stream_scan(struct detect_stream *s, struct detect_scratch *scratch,
			  const uint8_t *data, size_t len, uint64_t packet, int64_t ts_us,
			  detect_sink_fn sink, void *ctx)
{
	struct scan_call c = { .s = s, .scratch = scratch, .sink = sink, .ctx = ctx };
	/* Hyperscan takes unsigned lengths: feed huge chunks in slices. */
	while (len) {
		size_t part = len > (1u << 30) ? (1u << 30) : len;
		remember_packet(s, s->offset + part, packet, ts_us);
		feed(&c, data, part);
		data += part;
		len -= part;
	}
	return c.reported;
}

size_t detect_stream_gap(struct detect_stream *s, struct detect_scratch *scratch,
			 detect_sink_fn sink, void *ctx)
{
	struct scan_call c = { .s = s, .scratch = scratch, .sink = sink, .ctx = ctx };
	finish(&c);
	/* Offsets restart; nothing before the gap may join what follows. */
	s->history_len = 0;
	s->offset = 0;
	s->packet_count = 0;
	if (s->queue)
		s->queue->span_count = 0;
	queue_release_if_empty(s);
	return c.reported;
}

size_t detect_stream_close(struct detect_stream *s, struct detect_scratch *scratch,
			   detect_sink_fn sink, void *ctx)
{
	size_t n = 0;
	if (!s)
		return 0;
	if (scratch && sink) {
		struct scan_call c = { .s = s, .scratch = scratch, .sink = sink, .ctx = ctx };
		hs_close_stream(s->hs, scratch->hs, on_match, &c);
		pending_flush(&c, true);
		pattern_flush(&c, true);
		n = c.reported;
	} else {
		hs_close_stream(s->hs, NULL, NULL, NULL);
	}
	free(s->history);
	free(s->packets);
	free(s->queue);
	free(s);
	return n;
}

size_t detect_stream_idle_size(const struct detect_engine *e)
{
	/* A chunk of 512 bytes or more leaves two packet marks at most in reach
	 * (the buffer's smallest size). */
	return sizeof(struct detect_stream) + e->stream_size + DETECT_HISTORY +
	       2 * sizeof(struct packet_mark);
}

/* "http.query:imei" -> "imei"; "http.json:data.dev[0].imei" -> "imei". */
static size_t field_key(const char *field, char *out, size_t cap)
{
	const char *k = field ? strrchr(field, ':') : NULL;
	if (!k)
		return 0;
	k++;
	const char *dot = strrchr(k, '.');
	if (dot)
		k = dot + 1;
	size_t n = 0;
	/* "imei+base64" (the value decoded from base64) keeps the key "imei" */
	for (; *k && *k != '[' && *k != '+' && n + 2 < cap; k++) {
		if (!(isalnum((unsigned char)*k) || *k == '_' || *k == '-'))
			return 0;
		out[n++] = *k;
	}
	if (n == 0)
		return 0;
	out[n++] = '=';
	return n;
}

size_t detect_scan_field(const struct detect_engine *e, struct detect_scratch *scratch,
			 const struct pa_field_ref *ref, bool from_device, const uint8_t *data,
			 size_t len, detect_sink_fn sink, void *ctx)
{
	struct detect_stream *s = &scratch->field;
	struct scan_call c = { .s = s, .scratch = scratch, .sink = sink, .ctx = ctx };
	char key[80];
	stream_reset_state(s);
	s->protocol = ref->protocol;
	s->field = ref->field;
	s->from_device = from_device;
	s->decoded_base64 = ref->field && strstr(ref->field, "+base64") != NULL;
	size_t key_len = field_key(ref->field, key, sizeof key);
	remember_packet(s, UINT64_MAX, ref->packet, ref->ts_us);
	if (key_len) {
		feed(&c, (const uint8_t *)key, key_len);
		s->value_floor = key_len;
	}
	while (len) {
		size_t part = len > (1u << 30) ? (1u << 30) : len;
		feed(&c, data, part);
		data += part;
		len -= part;
	}
	finish(&c);
	return c.reported;
}
