/*
 * variants.c — every encoding of a device value an app may send, derived
 * from the profile's plain value:
 *   text forms:  as-is, upper/lower case, separators removed or changed
 *                (MACs, UUIDs), IMEI without check digit, phone with +86 / 86 /
 *                0086;
 *   of each form: URL-encoded, hex of the ASCII, base64 and base64url at the
 *                three alignments, MD5/SHA1/SHA256 hex in both cases.
 * Names of the encodings are documented in docs/detect.md.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_internal.h"

#define FORM_MAX 160

struct form {
	char text[FORM_MAX];
	char name[24];          /* "" = as-is */
	bool guard_digit_before;
	bool guard_digit_after;
	bool guard_alnum_before; /* the "86..." form must not sit inside "+86..." */
};

struct builder {
	struct detect_literal *items;
	size_t count, cap;
	bool oom;
};

static bool is_mac_type(const char *type)
{
	return strcmp(type, "wifi_mac") == 0 || strcmp(type, "mac") == 0 ||
	       strcmp(type, "bssid") == 0 || strcmp(type, "bluetooth_mac") == 0;
}

static void add_literal(struct builder *b, size_t ident, const char *bytes, size_t len,
			const char *encoding, const struct form *f)
{
	if (len < DETECT_LITERAL_MIN)
		return;
	/* The same bytes from two derivations: the first (most direct) name wins. */
	for (size_t i = 0; i < b->count; i++)
		if (b->items[i].len == len && memcmp(b->items[i].bytes, bytes, len) == 0)
			return;
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		void *p = realloc(b->items, cap * sizeof *b->items);
		if (!p) {
			b->oom = true;
			return;
		}
		b->items = p;
		b->cap = cap;
	}
	struct detect_literal *l = &b->items[b->count];
	memset(l, 0, sizeof *l);
	l->bytes = malloc(len);
	if (!l->bytes) {
		b->oom = true;
		return;
	}
	memcpy(l->bytes, bytes, len);
	l->len = len;
	l->ident = ident;
	snprintf(l->encoding, sizeof l->encoding, "%s", encoding);
	if (f) {
		l->guard_before = f->guard_alnum_before   ? "0-9A-Za-z+"
				  : f->guard_digit_before ? "0-9"
							  : NULL;
		l->guard_digit_after = f->guard_digit_after;
	}
	b->count++;
}

/*
 * The encoding's name: the transform ("md5-lower" = lower-case hex digest,
 * "hex-upper", "url", "base64") of the raw value, or of a derived text form
 * in parentheses: "md5-lower(nosep)" is the MD5 of the MAC without colons.
 */
static void encoding_name(char *out, size_t len, const char *transform, const struct form *f)
{
	if (f->name[0])
		snprintf(out, len, "%s(%s)", transform, f->name);
	else
		snprintf(out, len, "%s", transform);
}

/*
 * base64 of the form preceded by 0, 1 or 2 unknown bytes: only the output
 * characters whose six bits all come from the form are kept, so the literal
 * matches wherever the value sits inside a longer base64 blob.
 */
static void add_base64(struct builder *b, size_t ident, const struct form *f, bool url_safe)
{
	size_t n = strlen(f->text);
	uint8_t in[FORM_MAX + 2];
	char out[(FORM_MAX + 4) / 3 * 4 + 8];
	char name[40];
	encoding_name(name, sizeof name, url_safe ? "base64url" : "base64", f);
	for (size_t k = 0; k < 3; k++) {
		memset(in, 0, k);
		memcpy(in + k, f->text, n);
		detect_base64(in, n + k, out, url_safe);
		size_t first = (8 * k + 5) / 6;     /* first char fully inside the form */
		size_t end = (8 * (k + n)) / 6;     /* one past the last full char */
		if (end > first)
			add_literal(b, ident, out + first, end - first, name, NULL);
	}
}

static void add_form_encodings(struct builder *b, size_t ident, const struct form *f)
{
	size_t n = strlen(f->text);
	char buf[FORM_MAX * 3 + 8];
	char name[40];

	add_literal(b, ident, f->text, n, f->name[0] ? f->name : "raw", f);

	size_t u = detect_url_encode(f->text, n, buf, sizeof buf, true);
	if (u && u != n) {
		encoding_name(name, sizeof name, "url", f);
		add_literal(b, ident, buf, u, name, f);
		detect_url_encode(f->text, n, buf, sizeof buf, false);
		encoding_name(name, sizeof name, "url-lowerhex", f);
		add_literal(b, ident, buf, u, name, f);
	}

	encoding_name(name, sizeof name, "hex", f);
	add_literal(b, ident, buf, detect_hex((const uint8_t *)f->text, n, buf, false), name, NULL);
	encoding_name(name, sizeof name, "hex-upper", f);
	add_literal(b, ident, buf, detect_hex((const uint8_t *)f->text, n, buf, true), name, NULL);

	add_base64(b, ident, f, false);
	add_base64(b, ident, f, true);

	static const char *const hashes[] = { "md5", "sha1", "sha256" };
	for (size_t h = 0; h < 3; h++) {
		for (int upper = 0; upper < 2; upper++) {
			if (!detect_hash_hex(hashes[h], (const uint8_t *)f->text, n, buf, upper)) {
				b->oom = true;
				return;
			}
			char transform[16];
			snprintf(transform, sizeof transform, "%s-%s", hashes[h], upper ? "upper" : "lower");
			encoding_name(name, sizeof name, transform, f);
			add_literal(b, ident, buf, strlen(buf), name, NULL);
		}
	}
}

static void set_form(struct form *f, const char *text, const char *name)
{
	memset(f, 0, sizeof *f);
	snprintf(f->text, sizeof f->text, "%s", text);
	snprintf(f->name, sizeof f->name, "%s", name);
}

static void recase(char *s, bool upper)
{
	for (; *s; s++)
		*s = (char)(upper ? toupper((unsigned char)*s) : tolower((unsigned char)*s));
}

/* Adds form, then its upper- and lower-case twins named "<name>-upper"/"-lower". */
static size_t add_cased(struct form *forms, size_t n, const char *text, const char *name)
{
	const char *cases[3] = { "", "upper", "lower" };
	for (int c = 0; c < 3; c++) {
		char t[FORM_MAX], nm[24];
		snprintf(t, sizeof t, "%s", text);
		if (c)
			recase(t, c == 1);
		if (c && strcmp(t, text) == 0)
			continue;
		snprintf(nm, sizeof nm, "%s%s%s", name, name[0] && c ? "-" : "", cases[c]);
		set_form(&forms[n++], t, nm);
	}
	return n;
}

static void replace_seps(const char *in, char *out, size_t len, char sep)
{
	size_t o = 0;
	for (; *in && o + 1 < len; in++) {
		if (*in == ':' || *in == '-') {
			if (sep)
				out[o++] = sep;
		} else {
			out[o++] = *in;
		}
	}
	out[o] = 0;
}

static size_t text_forms(const struct detect_ident *id, struct form *forms)
{
	size_t n = 0;
	const char *v = id->value;
	char t[FORM_MAX];

	if (strcmp(id->type, "phone") == 0) {
		/* national, +86, 86 and 0086: each must not sit inside a longer one */
		set_form(&forms[n], v, "");
		forms[n++].guard_digit_before = true;
		snprintf(t, sizeof t, "+86%s", v);
		set_form(&forms[n++], t, "plus86");
		snprintf(t, sizeof t, "86%s", v);
		set_form(&forms[n], t, "cc86");
		forms[n++].guard_alnum_before = true;
		snprintf(t, sizeof t, "0086%s", v);
		set_form(&forms[n], t, "intl0086");
		forms[n++].guard_digit_before = true;
		snprintf(t, sizeof t, "+86-%s", v);
		set_form(&forms[n++], t, "plus86-dash");
		snprintf(t, sizeof t, "+86 %s", v);
		set_form(&forms[n++], t, "plus86-space");
		return n;
	}
	n = add_cased(forms, n, v, "");
	if (strcmp(id->type, "imei") == 0 && strlen(v) == 15) {
		snprintf(t, sizeof t, "%.14s", v);
		set_form(&forms[n], t, "no-check-digit");
		forms[n++].guard_digit_after = true;
	}
	/* separators dropped: MACs and UUIDs, and an SSID like "LAB-AP-5G" as LABAP5G */
	if (strpbrk(v, ":-") && strcmp(id->type, "email") != 0) {
		replace_seps(v, t, sizeof t, 0);
		n = add_cased(forms, n, t, "nosep");
		if (is_mac_type(id->type)) {
			replace_seps(v, t, sizeof t, strchr(v, ':') ? '-' : ':');
			n = add_cased(forms, n, t, strchr(v, ':') ? "dash" : "colon");
		}
	} else if (is_mac_type(id->type) && strlen(v) == 12) {
		/* given without separators: derive the colon and dash forms */
		for (int s = 0; s < 2; s++) {
			size_t o = 0;
			for (size_t i = 0; i < 12; i++) {
				if (i && i % 2 == 0)
					t[o++] = s ? '-' : ':';
				t[o++] = v[i];
			}
			t[o] = 0;
			n = add_cased(forms, n, t, s ? "dash" : "colon");
		}
	}
	return n;
}

bool detect_device_literals(const struct detect_device *dev, struct detect_literal **out,
			    size_t *count)
{
	struct builder b = { 0 };
	struct form forms[16];
	for (size_t i = 0; i < dev->ident_count && !b.oom; i++) {
		size_t n = text_forms(&dev->idents[i], forms);
		for (size_t f = 0; f < n && !b.oom; f++)
			add_form_encodings(&b, i, &forms[f]);
	}
	if (b.oom) {
		detect_literals_free(b.items, b.count);
		return false;
	}
	*out = b.items;
	*count = b.count;
	return true;
}

void detect_literals_free(struct detect_literal *lits, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(lits[i].bytes);
	free(lits);
}
