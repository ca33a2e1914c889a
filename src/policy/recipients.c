/*
 * recipients.c — the recipient catalogue: loading (with file:line problems)
 * and the per-flow hostname lookup.
 *
 * Every domain pattern is a key in one open-addressing hash table. A key
 * holds two slots: the entry matching the name itself ("example.com") and
 * the entry matching names under it ("example.com" or "*.example.com").
 * A lookup walks the hostname's suffixes from the full name to the last
 * label; the first hit is the most specific pattern.
 */
#include "policy/recipients.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/policy.h"
#include "privaudit.h"
#include "util/yaml_doc.h"

#define HOSTNAME_MAX 253

struct slot {
	char *key;          /* lower-case domain without "*." ; NULL = empty */
	int32_t self;       /* entry index matching the name itself, -1 none */
	int32_t under;      /* entry index matching names under it, -1 none */
	unsigned self_line, under_line;
};

struct recipients {
	char *path;
	struct recipient *items;
	size_t count;
	struct slot *slots;
	size_t slot_mask;   /* slot count - 1 (a power of two) */
};

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static struct slot *slot_find(const struct recipients *r, const char *key, bool insert)
{
	if (!r->slots)
		return NULL;
	for (size_t i = hash_name(key) & r->slot_mask;; i = (i + 1) & r->slot_mask) {
		struct slot *s = &r->slots[i];
		if (!s->key) {
			if (!insert)
				return NULL;
			s->key = pa_xstrdup(key);
			return s;
		}
		if (!strcmp(s->key, key))
			return s;
	}
}

/* ---- lookup --------------------------------------------------------------- */

/* hostname lower-cased into name (HOSTNAME_MAX + 1 bytes), without a
 * trailing dot or ":port"; false when it is not a DNS name. */
static bool normal_name(const char *hostname, char *name)
{
	size_t len = 0;
	for (const char *c = hostname; *c && *c != ':'; c++) {
		if (len == HOSTNAME_MAX)
			return false; /* not a DNS name: nobody's pattern */
		name[len++] = (char)tolower((unsigned char)*c);
	}
	while (len && name[len - 1] == '.')
		len--;
	name[len] = '\0';
	return len > 0;
}

/* The entry for a normalised name, and where in it the pattern that
 * matched starts. */
static const struct recipient *match_at(const struct recipients *r, const char *name, size_t *at)
{
	const struct slot *s = slot_find(r, name, false);
	if (s && s->self >= 0) {
		*at = 0;
		return &r->items[s->self];
	}
	for (size_t i = 0; name[i]; i++) {
		if (name[i] != '.' || !name[i + 1])
			continue;
		s = slot_find(r, name + i + 1, false);
		if (s && s->under >= 0) {
			*at = i + 1;
			return &r->items[s->under];
		}
	}
	return NULL;
}

const struct recipient *recipients_match(const struct recipients *r, const char *hostname)
{
	char name[HOSTNAME_MAX + 1];
	size_t at;
	if (!r || !hostname || !r->slots || !normal_name(hostname, name))
		return NULL;
	return match_at(r, name, &at);
}

/* Second-level labels under which country-code domains are registered
 * (example.com.cn, example.co.uk): the zone then has three labels. */
static bool generic_second_level(const char *label, size_t len)
{
	static const char *const generic[] = {"com", "net", "org", "gov", "edu", "ac", "co", NULL};
	for (size_t i = 0; generic[i]; i++)
		if (strlen(generic[i]) == len && !memcmp(generic[i], label, len))
			return true;
	return false;
}

bool recipients_link_local(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	while (n && name[n - 1] == '.')
		n--;
	return n >= 5 && !strncasecmp(name + n - 5, "local", 5) && (n == 5 || name[n - 6] == '.');
}

const char *recipients_query_host(const char *query_name)
{
	const char *colon = query_name ? strrchr(query_name, ':') : NULL;
	if (!colon)
		return query_name ? query_name : "";
	const char *dot = strchr(colon, '.');
	return dot ? dot + 1 : "";
}

const char *recipients_zone(const struct recipients *r, const char *query_name, char *out, size_t n)
{
	query_name = recipients_query_host(query_name);
	char name[HOSTNAME_MAX + 1];
	if (!query_name || !normal_name(query_name, name)) {
		snprintf(out, n, "%s", query_name ? query_name : "");
		return out;
	}
	size_t at;
	if (r && r->slots && match_at(r, name, &at)) {
		snprintf(out, n, "%s", name + at);
		return out;
	}
	/* The registered domain: the last two labels, three under a generic
	 * second level of a two-letter country code. */
	size_t len = strlen(name), dots[3] = {0}, found = 0;
	for (size_t i = len; i-- > 0 && found < 3;)
		if (name[i] == '.')
			dots[found++] = i;
	size_t start;
	if (found < 2) {
		start = 0;
	} else {
		start = dots[1] + 1;
		bool cc = len - dots[0] - 1 == 2;
		if (cc && generic_second_level(name + dots[1] + 1, dots[0] - dots[1] - 1))
			start = found == 3 ? dots[2] + 1 : 0;
	}
	snprintf(out, n, "%s", name + start);
	return out;
}

const char *recipients_host_without_port(const char *host, char *out, size_t n)
{
	if (!host)
		host = "";
	size_t len = strlen(host);
	if (host[0] == '[') {
		const char *close = strchr(host, ']');
		if (close && (!close[1] || close[1] == ':'))
			len = (size_t)(close - host - 1), host++;
	} else {
		const char *colon = strchr(host, ':');
		/* One ':' followed by digits only is a port; more than one is an
		 * IPv6 literal, and anything else is not a port to drop. */
		if (colon && !strchr(colon + 1, ':') && colon[1] &&
		    strspn(colon + 1, "0123456789") == strlen(colon + 1))
			len = (size_t)(colon - host);
	}
	snprintf(out, n, "%.*s", (int)len, host);
	return out;
}

const struct recipient *recipients_find(const struct recipients *r, const char *id)
{
	for (size_t i = 0; r && id && i < r->count; i++)
		if (!strcmp(r->items[i].id, id))
			return &r->items[i];
	return NULL;
}

size_t recipients_count(const struct recipients *r)
{
	return r ? r->count : 0;
}

const struct recipient *recipients_at(const struct recipients *r, size_t i)
{
	return r && i < r->count ? &r->items[i] : NULL;
}

size_t recipients_check_policy(const struct recipients *r, const struct policy *p,
			       struct pa_diag *diag)
{
	size_t missing = 0;
	for (size_t i = 0; r && p && i < p->party_count; i++) {
		const struct policy_party *party = &p->parties[i];
		for (size_t j = 0; j < party->recipients.count; j++) {
			if (recipients_find(r, party->recipients.items[j]))
				continue;
			pa_diag_error(diag, p->path, party->line,
				      "party '%s': recipient '%s' is not in the catalogue (%s)",
				      party->id, party->recipients.items[j], r->path);
			missing++;
		}
	}
	return missing;
}

/* ---- loading -------------------------------------------------------------- */

struct loader {
	struct yaml_doc *y;
	const char *path;
	struct pa_diag *diag;
	struct recipients *r;
};

#define ERR(ld, node, ...) pa_diag_error((ld)->diag, (ld)->path, yaml_node_line(node), __VA_ARGS__)

static char *get_string(struct loader *ld, const yaml_node_t *map, const char *key, bool required)
{
	return yaml_get_string(ld->y, ld->diag, map, key, required);
}

static void check_keys(struct loader *ld, const yaml_node_t *map)
{
	static const char *const allowed[] = {"id",     "organisation", "sdk",        "country",
					      "purpose", "domains",     "note",       "source",
					      "source_url", "source_verified", NULL};
	yaml_check_keys(ld->y, ld->diag, map, "recipient", allowed);
}

static bool valid_id(const char *id)
{
	for (const char *c = id; *c; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '-'))
			return false;
	return *id != '\0';
}

static bool valid_country(const char *c)
{
	return strlen(c) == 2 && isupper((unsigned char)c[0]) && isupper((unsigned char)c[1]);
}

/* Registers one pattern for entry index idx; reports a domain given twice. */
static void add_pattern(struct loader *ld, const yaml_node_t *node, const char *pattern, size_t idx)
{
	bool under_only = !strncmp(pattern, "*.", 2);
	struct slot *s = slot_find(ld->r, under_only ? pattern + 2 : pattern, true);
	unsigned line = yaml_node_line(node);
	if (s->under >= 0 || (!under_only && s->self >= 0)) {
		unsigned first = s->under >= 0 ? s->under_line : s->self_line;
		int32_t owner = s->under >= 0 ? s->under : s->self;
		ERR(ld, node, "domain '%s' already belongs to '%s' (line %u)", pattern,
		    ld->r->items[owner].id ? ld->r->items[owner].id : "?", first);
		return;
	}
	s->under = (int32_t)idx;
	s->under_line = line;
	if (!under_only) {
		s->self = (int32_t)idx;
		s->self_line = line;
	}
}

static const char *pattern_base(const char *pattern)
{
	return strncmp(pattern, "*.", 2) ? pattern : pattern + 2;
}

/* A pattern that another pattern of the same entry already covers changes
 * no lookup: it hides a mistake (a host meant for another entry, or a
 * domain list never pruned), so the catalogue refuses it. */
static void check_redundant(struct loader *ld, const yaml_node_t *seq, const struct recipient *rec)
{
	for (size_t i = 0; i < rec->domain_count; i++) {
		const char *base = pattern_base(rec->domains[i]);
		for (size_t j = 0; j < rec->domain_count; j++) {
			const char *wider = rec->domains[j];
			if (i == j || !strcmp(pattern_base(wider), base) ||
			    !policy_domain_match(wider, base))
				continue;
			ERR(ld, yaml_seq_at(ld->y, seq, i),
			    "domain '%s' of '%s' is already covered by its '%s'", rec->domains[i],
			    rec->id ? rec->id : "?", wider);
			break;
		}
	}
}

static void load_domains(struct loader *ld, const yaml_node_t *map, struct recipient *rec, size_t idx)
{
	yaml_node_t *seq = yaml_map_get(ld->y, map, "domains");
	if (!seq) {
		ERR(ld, map, "missing required 'domains'");
		return;
	}
	if (!yaml_node_is_seq(seq) || !yaml_seq_size(seq)) {
		ERR(ld, seq, "'domains' must be a non-empty list of domain patterns");
		return;
	}
	size_t n = yaml_seq_size(seq);
	rec->domains = pa_xcalloc(n, sizeof *rec->domains);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yaml_seq_at(ld->y, seq, i);
		const char *d = yaml_node_scalar(item);
		if (!policy_domain_pattern_valid(d)) {
			ERR(ld, item, "'%s' is not a domain pattern (lower-case name, optional leading '*.')",
			    d ? d : "(not a word)");
			continue;
		}
		add_pattern(ld, item, d, idx);
		rec->domains[rec->domain_count++] = pa_xstrdup(d);
	}
	if (rec->domain_count == n)
		check_redundant(ld, seq, rec);
}

/* source_verified: true needs the document's address (a reader must be
 * able to open what the entry rests on). */
static void load_source(struct loader *ld, const yaml_node_t *map, struct recipient *rec)
{
	rec->source = get_string(ld, map, "source", true);
	rec->source_url = get_string(ld, map, "source_url", false);
	yaml_node_t *v = yaml_map_get(ld->y, map, "source_verified");
	const char *word = yaml_node_scalar(v);
	if (!v)
		ERR(ld, map, "missing required 'source_verified' (true once the source was read)");
	else if (!word || (strcmp(word, "true") && strcmp(word, "false")))
		ERR(ld, v, "'source_verified' must be true or false");
	else
		rec->source_verified = !strcmp(word, "true");
	if (rec->source_url && strncmp(rec->source_url, "https://", 8) &&
	    strncmp(rec->source_url, "http://", 7))
		ERR(ld, yaml_map_get(ld->y, map, "source_url"),
		    "source_url '%s' must be an http(s):// address", rec->source_url);
	if (rec->source_verified && !rec->source_url)
		ERR(ld, v, "'%s': a verified source needs its source_url",
		    rec->id ? rec->id : "?");
}

static void load_entry(struct loader *ld, const yaml_node_t *map)
{
	struct recipients *r = ld->r;
	size_t idx = r->count;
	struct recipient *rec = &r->items[r->count++];
	rec->line = yaml_node_line(map);
	check_keys(ld, map);
	rec->id = get_string(ld, map, "id", true);
	rec->organisation = get_string(ld, map, "organisation", true);
	rec->sdk = get_string(ld, map, "sdk", true);
	rec->country = get_string(ld, map, "country", true);
	rec->purpose = get_string(ld, map, "purpose", true);
	rec->note = get_string(ld, map, "note", false);
	load_source(ld, map, rec);
	if (rec->id && !valid_id(rec->id))
		ERR(ld, yaml_map_get(ld->y, map, "id"),
		    "id '%s': lower-case letters, digits and '-' only", rec->id);
	for (size_t i = 0; rec->id && i < idx; i++)
		if (r->items[i].id && !strcmp(r->items[i].id, rec->id))
			ERR(ld, map, "duplicate recipient id '%s' (first at line %u)", rec->id,
			    r->items[i].line);
	if (rec->country && !valid_country(rec->country))
		ERR(ld, yaml_map_get(ld->y, map, "country"),
		    "country '%s' must be an ISO 3166 alpha-2 code (CN, US...)", rec->country);
	if (rec->purpose && !policy_is_purpose(rec->purpose))
		ERR(ld, yaml_map_get(ld->y, map, "purpose"),
		    "unknown purpose '%s' (see signatures/recipients.yaml header)", rec->purpose);
	load_domains(ld, map, rec, idx);
}

static size_t pattern_total(struct yaml_doc *y, const yaml_node_t *seq)
{
	size_t total = 0;
	for (size_t i = 0; i < yaml_seq_size(seq); i++)
		total += yaml_seq_size(yaml_map_get(y, yaml_seq_at(y, seq, i), "domains"));
	return total;
}

static void *load_doc(struct yaml_doc *y, struct pa_diag *diag)
{
	const char *path = y->path;
	size_t errors_before = diag->errors;
	yaml_node_t *root = yaml_doc_root(y);
	yaml_node_t *seq = yaml_map_get(y, root, "recipients");
	if (!yaml_node_is_map(root) || yaml_map_size(root) != 1 || !yaml_node_is_seq(seq)) {
		pa_diag_error(diag, path, root ? yaml_node_line(root) : 1,
			      "a recipient catalogue is a mapping with one key, 'recipients:', holding a list");
		return NULL;
	}
	struct recipients *r = pa_xcalloc(1, sizeof *r);
	r->path = pa_xstrdup(path);
	size_t n = yaml_seq_size(seq);
	r->items = pa_xcalloc(n, sizeof *r->items);
	size_t slots = 16;
	while (slots < 2 * pattern_total(y, seq) + 1)
		slots *= 2;
	r->slots = pa_xcalloc(slots, sizeof *r->slots);
	r->slot_mask = slots - 1;
	for (size_t i = 0; i < slots; i++)
		r->slots[i].self = r->slots[i].under = -1;

	struct loader ld = {.y = y, .path = path, .diag = diag, .r = r};
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yaml_seq_at(y, seq, i);
		if (!yaml_node_is_map(item)) {
			ERR(&ld, item, "recipients: each entry must be a mapping");
			continue;
		}
		load_entry(&ld, item);
	}
	if (diag->errors > errors_before) {
		recipients_free(r);
		return NULL;
	}
	return r;
}

struct recipients *recipients_load(const char *path, struct pa_diag *diag)
{
	return yaml_doc_parse(path, NULL, 0, diag, load_doc);
}

struct recipients *recipients_load_buffer(const char *path, const unsigned char *buf, size_t len,
					  struct pa_diag *diag)
{
	return yaml_doc_parse(path, buf, len, diag, load_doc);
}

void recipients_free(struct recipients *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++) {
		struct recipient *rec = &r->items[i];
		free(rec->id);
		free(rec->organisation);
		free(rec->sdk);
		free(rec->country);
		free(rec->purpose);
		free(rec->note);
		free(rec->source);
		free(rec->source_url);
		for (size_t j = 0; j < rec->domain_count; j++)
			free(rec->domains[j]);
		free(rec->domains);
	}
	free(r->items);
	for (size_t i = 0; r->slots && i <= r->slot_mask; i++)
		free(r->slots[i].key);
	free(r->slots);
	free(r->path);
	free(r);
}

/* ---- privaudit check ------------------------------------------------------ */

enum policy_file_kind policy_file_kind(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return POLICY_FILE_OTHER;
	char line[512];
	enum policy_file_kind kind = POLICY_FILE_OTHER;
	while (kind == POLICY_FILE_OTHER && fgets(line, sizeof line, f)) {
		if (!strncmp(line, "policy:", 7))
			kind = POLICY_FILE_POLICY;
		else if (!strncmp(line, "recipients:", 11))
			kind = POLICY_FILE_RECIPIENTS;
	}
	fclose(f);
	return kind;
}

bool policy_check_file(const char *path, const char *catalogue, struct pa_diag *diag)
{
	size_t errors_before = diag->errors;
	if (policy_file_kind(path) == POLICY_FILE_RECIPIENTS) {
		struct recipients *r = recipients_load(path, diag);
		recipients_free(r);
		return r != NULL;
	}
	struct policy *p = policy_load(path, diag);
	if (p && catalogue) {
		struct recipients *r = recipients_load(catalogue, diag);
		recipients_check_policy(r, p, diag);
		recipients_free(r);
	}
	policy_free(p);
	return p && diag->errors == errors_before;
}
