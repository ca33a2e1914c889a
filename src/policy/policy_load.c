/*
 * policy_load.c — policy files (policies/NAME.yaml) into struct policy (format: policies/README.md).
 *
 * The loader walks the document once, reports every problem it meets with
 * the line of the offending node and keeps going, so one `privaudit check`
 * lists all of a file's mistakes; only at the end does it decide whether the
 * policy is usable. Clauses are read before anything that refers to them,
 * whatever their order in the file.
 */
#include "policy/policy.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "privaudit.h"
#include "util/yaml_doc.h"

/* ---- vocabulary ------------------------------------------------------------ */

/* Words shared with the signature engine: an observation's type is one of
 * these. The second half are types a policy declares that no signature
 * detects yet; they are accepted so a policy can be modelled faithfully. */
static const char *const data_types[] = {
	"imei", "meid", "imsi", "iccid", "serial", "android_id", "oaid", "gaid",
	"idfa", "idfv", "openudid", "mac", "wifi_mac", "bssid", "ssid", "phone",
	"email", "location", "cell_id", "app_list", "contacts", "ip",
	/* declared-only */
	"name", "account", "device_model", "network_state", "storage", "documents",
	"face_image", "audio_video", "call_log", "usage_log", "sensors", "health",
	"payment_account", "messages",
};

/*
 * Groups a policy may write instead of listing types; they stand for the
 * policy's own categories and are expanded on load. Their members follow
 * the policies' own text (docs/policies.md):
 *  device_id   — 设备标识符 / 唯一设备识别码: Lanxin 一(一)3 lists "IMEI,
 *                Android ID, IDFA, OpenUDID, SIM卡IMSI" under it, and names the
 *                MAC address separately, so MAC is not a member;
 *  phone_state — 读取电话状态: what READ_PHONE_STATE hands an app;
 *  geo         — 位置信息 as both policies define it: coordinates and what
 *                locates a phone ("GPS位置以及能够提供相关信息的Wi-Fi接入点、
 *                蓝牙和基站"); not called "location", which is one type;
 *  wifi        — WiFi地址 / WI-FI地址信息: the phone's Wi-Fi MAC and the AP it sees.
 */
struct type_group {
	const char *name;
	const char *members[12];
};
static const struct type_group type_groups[] = {
	{"device_id", {"imei", "meid", "imsi", "serial", "android_id", "oaid", "gaid",
		       "idfa", "idfv", "openudid", NULL}},
	{"phone_state", {"imei", "meid", "imsi", "iccid", "serial", "phone", NULL}},
	{"geo", {"location", "cell_id", "bssid", "ssid", NULL}},
	{"wifi", {"wifi_mac", "bssid", "ssid", NULL}},
};

static const char *const purposes[] = {
	"first_party", "push", "analytics", "ads", "attribution", "location", "maps",
	"payment", "social", "login", "cloud", "cdn", "crash", "voice", "screen_cast",
	"document", "face_auth", "risk", "im", "mail", "video", "other",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool in_list(const char *const *list, size_t n, const char *word)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], word))
			return true;
	return false;
}

bool policy_is_data_type(const char *word)
{
	return word && in_list(data_types, COUNT(data_types), word);
}

bool policy_is_purpose(const char *word)
{
	return word && in_list(purposes, COUNT(purposes), word);
}

static const struct type_group *type_group(const char *word)
{
	for (size_t i = 0; i < COUNT(type_groups); i++)
		if (!strcmp(type_groups[i].name, word))
			return &type_groups[i];
	return NULL;
}

const char *policy_party_kind_name(enum policy_party_kind kind)
{
	switch (kind) {
	case POLICY_PARTY_THIRD_PARTY: return "third_party";
	case POLICY_PARTY_PROCESSOR: return "processor";
	case POLICY_PARTY_MENTIONED: return "mentioned";
	}
	return "unknown";
}

/* ---- loader state and generic readers ------------------------------------- */

struct loader {
	struct yaml_doc *y;
	const char *path;
	struct pa_diag *diag;
	struct policy *p;
};

#define ERR(ld, node, ...) pa_diag_error((ld)->diag, (ld)->path, yaml_node_line(node), __VA_ARGS__)

/* Reports every key of map not in allowed[] (NULL-terminated). */
static void check_keys(struct loader *ld, const yaml_node_t *map, const char *what,
		       const char *const *allowed)
{
	yaml_check_keys(ld->y, ld->diag, map, what, allowed);
}

/* A mapping required under key of parent; NULL (reported) when missing or not a map. */
static yaml_node_t *get_map(struct loader *ld, const yaml_node_t *parent, const char *key,
			    bool required)
{
	yaml_node_t *n = yaml_map_get(ld->y, parent, key);
	if (!n) {
		if (required)
			ERR(ld, parent, "missing required '%s'", key);
		return NULL;
	}
	if (!yaml_node_is_map(n)) {
		ERR(ld, n, "'%s' must be a mapping", key);
		return NULL;
	}
	return n;
}

static yaml_node_t *get_seq(struct loader *ld, const yaml_node_t *parent, const char *key,
			    bool required)
{
	yaml_node_t *n = yaml_map_get(ld->y, parent, key);
	if (!n) {
		if (required)
			ERR(ld, parent, "missing required '%s'", key);
		return NULL;
	}
	if (!yaml_node_is_seq(n)) {
		ERR(ld, n, "'%s' must be a list", key);
		return NULL;
	}
	return n;
}

/* A copy of the scalar under key, or NULL (reported when required or not a scalar). */
static char *get_string(struct loader *ld, const yaml_node_t *map, const char *key, bool required)
{
	return yaml_get_string(ld->y, ld->diag, map, key, required);
}

static void words_add(struct policy_words *w, const char *s)
{
	w->items = pa_xrealloc(w->items, (w->count + 1) * sizeof *w->items);
	w->items[w->count++] = pa_xstrdup(s);
}

bool policy_words_have(const struct policy_words *w, const char *s)
{
	for (size_t i = 0; w && s && i < w->count; i++)
		if (!strcmp(w->items[i], s))
			return true;
	return false;
}

static void words_free(struct policy_words *w)
{
	for (size_t i = 0; i < w->count; i++)
		free(w->items[i]);
	free(w->items);
	w->items = NULL;
	w->count = 0;
}

/*
 * What a list of words must be; check() reports its own problem for one
 * item and returns false to leave it out.
 */
typedef bool (*word_check)(struct loader *ld, const yaml_node_t *item, const char *word,
			   struct policy_words *out);

/* A list of scalars (a lone scalar counts as a list of one) under key. */
static void get_words(struct loader *ld, const yaml_node_t *map, const char *key, bool required,
		      word_check check, struct policy_words *out)
{
	yaml_node_t *n = yaml_map_get(ld->y, map, key);
	if (!n) {
		if (required)
			ERR(ld, map, "missing required '%s'", key);
		return;
	}
	size_t count = yaml_node_scalar(n) ? 1 : yaml_seq_size(n);
	if (!yaml_node_scalar(n) && !yaml_node_is_seq(n)) {
		ERR(ld, n, "'%s' must be a word or a list of words", key);
		return;
	}
	if (required && !count)
		ERR(ld, n, "'%s' is empty", key);
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = yaml_node_scalar(n) ? n : yaml_seq_at(ld->y, n, i);
		const char *w = yaml_node_scalar(item);
		if (!w || !*w) {
			ERR(ld, item, "'%s': every item must be a non-empty word", key);
			continue;
		}
		if (check && !check(ld, item, w, out))
			continue;
		if (!policy_words_have(out, w))
			words_add(out, w);
	}
}

/* ---- word checks ---------------------------------------------------------- */

static bool check_clause_ref(struct loader *ld, const yaml_node_t *item, const char *word,
			     struct policy_words *out)
{
	if (policy_clause(ld->p, word))
		return true;
	ERR(ld, item, "unknown clause id '%s' (not among clauses:)", word);
	return false;
}

/* Data types: a vocabulary word, or a group expanded in place. */
static bool check_data_type(struct loader *ld, const yaml_node_t *item, const char *word,
			    struct policy_words *out)
{
	if (policy_is_data_type(word))
		return true;
	const struct type_group *g = type_group(word);
	if (g) {
		for (size_t i = 0; g->members[i]; i++)
			if (!policy_words_have(out, g->members[i]))
				words_add(out, g->members[i]);
		return false;
	}
	ERR(ld, item, "unknown data type '%s' (see policies/README.md for the vocabulary)", word);
	return false;
}

static bool check_domain(struct loader *ld, const yaml_node_t *item, const char *word,
			 struct policy_words *out)
{
	if (policy_domain_pattern_valid(word))
		return true;
	ERR(ld, item, "'%s' is not a domain pattern (lower-case name, optional leading '*.')", word);
	return false;
}

static bool check_jurisdiction(struct loader *ld, const yaml_node_t *item, const char *word,
			       struct policy_words *out)
{
	static const char *const fixed[] = {"CN", "HK", "MO", "TW"};
	if (in_list(fixed, COUNT(fixed), word))
		return true;
	if (!strncmp(word, "foreign:", 8) && strlen(word) == 10 && isupper((unsigned char)word[8]) &&
	    isupper((unsigned char)word[9]))
		return true;
	ERR(ld, item, "unknown jurisdiction '%s' (CN, HK, MO, TW or foreign:<ISO>)", word);
	return false;
}

static bool check_recipient_id(struct loader *ld, const yaml_node_t *item, const char *word,
			       struct policy_words *out)
{
	for (const char *c = word; *c; c++) {
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '-')) {
			ERR(ld, item, "recipient id '%s': lower-case letters, digits and '-' only", word);
			return false;
		}
	}
	return true;
}

static void get_refs(struct loader *ld, const yaml_node_t *map, bool required,
		     struct policy_refs *out)
{
	struct policy_words w = {0};
	get_words(ld, map, "clauses", required, check_clause_ref, &w);
	out->ids = w.items;
	out->count = w.count;
}

static void refs_free(struct policy_refs *r)
{
	struct policy_words w = {r->ids, r->count};
	words_free(&w);
	r->ids = NULL;
	r->count = 0;
}

/* YYYY-MM-DD, or absent. */
static char *get_date(struct loader *ld, const yaml_node_t *map, const char *key)
{
	char *s = get_string(ld, map, key, false);
	if (!s)
		return NULL;
	bool ok = strlen(s) == 10 && s[4] == '-' && s[7] == '-';
	for (int i = 0; ok && i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			ok = false;
	if (!ok) {
		ERR(ld, yaml_map_get(ld->y, map, key), "'%s' must be a date YYYY-MM-DD", key);
		free(s);
		return NULL;
	}
	return s;
}

/* ---- sections ------------------------------------------------------------- */

static void load_meta(struct loader *ld, const yaml_node_t *root)
{
	static const char *const keys[] = {"app", "publisher", "version", "published", "updated",
					   "effective", "source", NULL};
	yaml_node_t *m = get_map(ld, root, "policy", true);
	if (!m)
		return;
	check_keys(ld, m, "policy", keys);
	struct policy *p = ld->p;
	p->app = get_string(ld, m, "app", true);
	p->publisher = get_string(ld, m, "publisher", false);
	p->version = get_string(ld, m, "version", true);
	p->published = get_date(ld, m, "published");
	p->updated = get_date(ld, m, "updated");
	p->effective = get_date(ld, m, "effective");
	p->source = get_string(ld, m, "source", true);
}

static void load_clauses(struct loader *ld, const yaml_node_t *root)
{
	static const char *const keys[] = {"id", "section", "quote", "gloss", NULL};
	yaml_node_t *seq = get_seq(ld, root, "clauses", true);
	size_t n = yaml_seq_size(seq);
	struct policy *p = ld->p;
	p->clauses = pa_xcalloc(n, sizeof *p->clauses);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yaml_seq_at(ld->y, seq, i);
		if (!yaml_node_is_map(item)) {
			ERR(ld, item, "clauses: each clause must be a mapping (id, quote, gloss)");
			continue;
		}
		check_keys(ld, item, "clause", keys);
		struct policy_clause c = {.line = yaml_node_line(item)};
		c.id = get_string(ld, item, "id", true);
		c.section = get_string(ld, item, "section", false);
		c.quote = get_string(ld, item, "quote", true);
		c.gloss = get_string(ld, item, "gloss", true);
		const struct policy_clause *dup = c.id ? policy_clause(p, c.id) : NULL;
		if (dup)
			ERR(ld, item, "duplicate clause id '%s' (first at line %u)", c.id, dup->line);
		if (!c.id || !c.quote || dup) {
			free(c.id);
			free(c.section);
			free(c.quote);
			free(c.gloss);
			continue;
		}
		p->clauses[p->clause_count++] = c;
	}
}

static void load_gates(struct loader *ld, const yaml_node_t *consent)
{
	static const char *const keys[] = {"types", "trigger", "clauses", NULL};
	yaml_node_t *seq = get_seq(ld, consent, "permission_gated", false);
	size_t n = yaml_seq_size(seq);
	struct policy *p = ld->p;
	p->consent.gates = pa_xcalloc(n, sizeof *p->consent.gates);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yaml_seq_at(ld->y, seq, i);
		if (!yaml_node_is_map(item)) {
			ERR(ld, item, "permission_gated: each entry must be a mapping");
			continue;
		}
		check_keys(ld, item, "permission_gated", keys);
		struct policy_gate *g = &p->consent.gates[p->consent.gate_count++];
		get_words(ld, item, "types", true, check_data_type, &g->types);
		g->trigger = get_string(ld, item, "trigger", true);
		get_refs(ld, item, true, &g->clauses);
	}
}

static void load_consent(struct loader *ld, const yaml_node_t *promises)
{
	static const char *const keys[] = {"model", "clauses", "permission_gated", NULL};
	yaml_node_t *m = get_map(ld, promises, "consent", true);
	if (!m)
		return;
	check_keys(ld, m, "consent", keys);
	char *model = get_string(ld, m, "model", true);
	if (model && !strcmp(model, "use_implies_consent"))
		ld->p->consent.model = POLICY_CONSENT_USE_IMPLIES;
	else if (model && !strcmp(model, "explicit"))
		ld->p->consent.model = POLICY_CONSENT_EXPLICIT;
	else if (model)
		ERR(ld, yaml_map_get(ld->y, m, "model"),
		    "consent model '%s' unknown (use_implies_consent or explicit)", model);
	free(model);
	get_refs(ld, m, true, &ld->p->consent.clauses);
	load_gates(ld, m);
}

static void load_data_types(struct loader *ld, const yaml_node_t *promises)
{
	static const char *const keys[] = {"types", "clauses", NULL};
	yaml_node_t *seq = get_seq(ld, promises, "data_types", true);
	struct policy *p = ld->p;
	for (size_t i = 0; i < yaml_seq_size(seq); i++) {
		yaml_node_t *item = yaml_seq_at(ld->y, seq, i);
		if (!yaml_node_is_map(item)) {
			ERR(ld, item, "data_types: each entry must be a mapping (types, clauses)");
			continue;
		}
		check_keys(ld, item, "data_types", keys);
		struct policy_words types = {0};
		struct policy_refs refs = {0};
		get_words(ld, item, "types", true, check_data_type, &types);
		get_refs(ld, item, true, &refs);
		/* One entry per type; a type declared twice keeps its first clauses. */
		for (size_t t = 0; t < types.count; t++) {
			if (policy_declared_type(p, types.items[t]))
				continue;
			p->data_types = pa_xrealloc(p->data_types,
						    (p->data_type_count + 1) * sizeof *p->data_types);
			struct policy_data_type *d = &p->data_types[p->data_type_count++];
			d->type = pa_xstrdup(types.items[t]);
			d->clauses.count = refs.count;
			d->clauses.ids = pa_xcalloc(refs.count, sizeof(char *));
			for (size_t r = 0; r < refs.count; r++)
				d->clauses.ids[r] = pa_xstrdup(refs.ids[r]);
		}
		words_free(&types);
		refs_free(&refs);
	}
}

/* Every domain appears once in the whole policy, so a host has one owner. */
static void check_domain_owners(struct loader *ld, const yaml_node_t *node,
				const struct policy_words *domains, const char *owner)
{
	struct policy *p = ld->p;
	for (size_t d = 0; d < domains->count; d++) {
		const char *dom = domains->items[d];
		if (domains != &p->first_party_domains && policy_words_have(&p->first_party_domains, dom))
			ERR(ld, node, "%s: domain '%s' is already a first-party domain", owner, dom);
		for (size_t i = 0; i < p->party_count; i++)
			if (&p->parties[i].domains != domains && policy_words_have(&p->parties[i].domains, dom))
				ERR(ld, node, "%s: domain '%s' already belongs to party '%s'", owner,
				    dom, p->parties[i].id ? p->parties[i].id : "(no id)");
	}
}

static void load_parties(struct loader *ld, const yaml_node_t *promises, const char *key,
			 enum policy_party_kind kind)
{
	static const char *const keys[] = {"id", "name", "organisation", "purpose", "declared_as",
					   "privacy_policy", "domains", "recipients", "data_types",
					   "clauses", NULL};
	yaml_node_t *seq = get_seq(ld, promises, key, false);
	struct policy *p = ld->p;
	for (size_t i = 0; i < yaml_seq_size(seq); i++) {
		yaml_node_t *item = yaml_seq_at(ld->y, seq, i);
		if (!yaml_node_is_map(item)) {
			ERR(ld, item, "%s: each entry must be a mapping", key);
			continue;
		}
		check_keys(ld, item, key, keys);
		struct policy_party party = {.kind = kind, .line = yaml_node_line(item)};
		party.id = get_string(ld, item, "id", true);
		party.name = get_string(ld, item, "name", true);
		party.organisation = get_string(ld, item, "organisation", false);
		party.purpose = get_string(ld, item, "purpose", true);
		party.declared_as = get_string(ld, item, "declared_as", false);
		party.privacy_policy = get_string(ld, item, "privacy_policy", false);
		if (party.purpose && !policy_is_purpose(party.purpose))
			ERR(ld, yaml_map_get(ld->y, item, "purpose"),
			    "%s: unknown purpose '%s' (see policies/README.md)", key, party.purpose);
		get_words(ld, item, "domains", false, check_domain, &party.domains);
		get_words(ld, item, "recipients", false, check_recipient_id, &party.recipients);
		/* A declared third party's scope is its data types; a processor holds
		 * the first party's data and a mentioned party has no declared scope. */
		get_words(ld, item, "data_types", kind == POLICY_PARTY_THIRD_PARTY, check_data_type,
			  &party.data_types);
		get_refs(ld, item, true, &party.clauses);
		for (size_t j = 0; party.id && j < p->party_count; j++)
			if (p->parties[j].id && !strcmp(p->parties[j].id, party.id))
				ERR(ld, item, "duplicate party id '%s' (first at line %u)", party.id,
				    p->parties[j].line);
		p->parties = pa_xrealloc(p->parties, (p->party_count + 1) * sizeof *p->parties);
		p->parties[p->party_count++] = party;
		check_domain_owners(ld, item, &p->parties[p->party_count - 1].domains,
				    party.id ? party.id : key);
	}
}

static void load_gaps(struct loader *ld, const yaml_node_t *root)
{
	static const char *const keys[] = {"note", "clauses", NULL};
	yaml_node_t *seq = get_seq(ld, root, "gaps", false);
	size_t n = yaml_seq_size(seq);
	struct policy *p = ld->p;
	p->gaps = pa_xcalloc(n, sizeof *p->gaps);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yaml_seq_at(ld->y, seq, i);
		if (!yaml_node_is_map(item)) {
			ERR(ld, item, "gaps: each entry must be a mapping (note, clauses)");
			continue;
		}
		check_keys(ld, item, "gaps", keys);
		struct policy_gap *g = &p->gaps[p->gap_count++];
		g->note = get_string(ld, item, "note", true);
		get_refs(ld, item, false, &g->clauses);
	}
}

static void load_promises(struct loader *ld, const yaml_node_t *root)
{
	static const char *const keys[] = {"residency", "encryption", "consent", "minimum_necessary",
					   "data_types", "first_party_domains", "third_parties",
					   "processors", "mentioned_parties", NULL};
	static const char *const residency_keys[] = {"allowed", "clauses", NULL};
	static const char *const clauses_only[] = {"clauses", NULL};
	yaml_node_t *m = get_map(ld, root, "promises", true);
	if (!m)
		return;
	check_keys(ld, m, "promises", keys);
	struct policy *p = ld->p;

	yaml_node_t *res = get_map(ld, m, "residency", true);
	if (res) {
		check_keys(ld, res, "residency", residency_keys);
		get_words(ld, res, "allowed", true, check_jurisdiction, &p->residency.allowed);
		get_refs(ld, res, true, &p->residency.clauses);
	}
	yaml_node_t *enc = get_map(ld, m, "encryption", false);
	if (enc) {
		check_keys(ld, enc, "encryption", clauses_only);
		get_refs(ld, enc, true, &p->encryption.clauses);
		p->encryption.promised = p->encryption.clauses.count > 0;
	}
	load_consent(ld, m);
	yaml_node_t *minimum = get_map(ld, m, "minimum_necessary", false);
	if (minimum) {
		check_keys(ld, minimum, "minimum_necessary", clauses_only);
		get_refs(ld, minimum, true, &p->minimum_necessary);
	}
	load_data_types(ld, m);
	get_words(ld, m, "first_party_domains", true, check_domain, &p->first_party_domains);
	load_parties(ld, m, "third_parties", POLICY_PARTY_THIRD_PARTY);
	load_parties(ld, m, "processors", POLICY_PARTY_PROCESSOR);
	load_parties(ld, m, "mentioned_parties", POLICY_PARTY_MENTIONED);
}

static void *load_doc(struct yaml_doc *y, struct pa_diag *diag)
{
	const char *path = y->path;
	static const char *const keys[] = {"policy", "clauses", "promises", "gaps", NULL};
	size_t errors_before = diag->errors;
	yaml_node_t *root = yaml_doc_root(y);
	if (!yaml_node_is_map(root)) {
		pa_diag_error(diag, path, root ? yaml_node_line(root) : 1,
			      "a policy file is a mapping with policy:, clauses: and promises:");
		return NULL;
	}
	struct policy *p = pa_xcalloc(1, sizeof *p);
	p->path = pa_xstrdup(path);
	struct loader ld = {.y = y, .path = path, .diag = diag, .p = p};
	check_keys(&ld, root, "top level", keys);
	load_meta(&ld, root);
	load_clauses(&ld, root);
	load_promises(&ld, root);
	load_gaps(&ld, root);
	if (diag->errors > errors_before) {
		policy_free(p);
		return NULL;
	}
	return p;
}

struct policy *policy_load(const char *path, struct pa_diag *diag)
{
	return yaml_doc_parse(path, NULL, 0, diag, load_doc);
}

struct policy *policy_load_buffer(const char *path, const unsigned char *buf, size_t len,
				  struct pa_diag *diag)
{
	return yaml_doc_parse(path, buf, len, diag, load_doc);
}

static void party_free(struct policy_party *party)
{
	free(party->id);
	free(party->name);
	free(party->organisation);
	free(party->purpose);
	free(party->declared_as);
	free(party->privacy_policy);
	words_free(&party->domains);
	words_free(&party->recipients);
	words_free(&party->data_types);
	refs_free(&party->clauses);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->clause_count; i++) {
		free(p->clauses[i].id);
		free(p->clauses[i].section);
		free(p->clauses[i].quote);
		free(p->clauses[i].gloss);
	}
	free(p->clauses);
	words_free(&p->residency.allowed);
	refs_free(&p->residency.clauses);
	refs_free(&p->encryption.clauses);
	refs_free(&p->consent.clauses);
	for (size_t i = 0; i < p->consent.gate_count; i++) {
		words_free(&p->consent.gates[i].types);
		free(p->consent.gates[i].trigger);
		refs_free(&p->consent.gates[i].clauses);
	}
	free(p->consent.gates);
	refs_free(&p->minimum_necessary);
	for (size_t i = 0; i < p->data_type_count; i++) {
		free(p->data_types[i].type);
		refs_free(&p->data_types[i].clauses);
	}
	free(p->data_types);
	words_free(&p->first_party_domains);
	for (size_t i = 0; i < p->party_count; i++)
		party_free(&p->parties[i]);
	free(p->parties);
	for (size_t i = 0; i < p->gap_count; i++) {
		free(p->gaps[i].note);
		refs_free(&p->gaps[i].clauses);
	}
	free(p->gaps);
	free(p->app);
	free(p->publisher);
	free(p->version);
	free(p->published);
	free(p->updated);
	free(p->effective);
	free(p->source);
	free(p->path);
	free(p);
}
