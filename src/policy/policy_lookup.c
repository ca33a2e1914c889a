/*
 * policy_lookup.c — questions the policy engine asks a loaded policy, per
 * flow or per observation, and the domain-pattern semantics shared with the
 * recipient catalogue.
 */
#include "policy/policy.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* ---- domain patterns ------------------------------------------------------ */

bool policy_domain_pattern_valid(const char *pattern)
{
	if (!pattern)
		return false;
	if (!strncmp(pattern, "*.", 2))
		pattern += 2;
	size_t len = strlen(pattern);
	if (!len || len > 253 || pattern[0] == '.' || pattern[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = pattern[i];
		if (c == '.' && pattern[i + 1] == '.')
			return false;
		if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '-' || c == '.'))
			return false;
	}
	return true;
}

size_t policy_domain_match(const char *pattern, const char *hostname)
{
	if (!pattern || !hostname)
		return 0;
	bool subdomains_only = !strncmp(pattern, "*.", 2);
	const char *base = subdomains_only ? pattern + 2 : pattern;
	size_t bl = strlen(base), hl = strlen(hostname);
	if (hl && hostname[hl - 1] == '.')
		hl--;
	if (!bl || hl < bl)
		return 0;
	if (hl == bl)
		return !subdomains_only && !strncasecmp(hostname, base, bl) ? bl : 0;
	if (hostname[hl - bl - 1] != '.' || strncasecmp(hostname + hl - bl, base, bl))
		return 0;
	return bl;
}

/* ---- lookups -------------------------------------------------------------- */

const struct policy_clause *policy_clause(const struct policy *p, const char *id)
{
	for (size_t i = 0; p && id && i < p->clause_count; i++)
		if (!strcmp(p->clauses[i].id, id))
			return &p->clauses[i];
	return NULL;
}

static size_t best_match(const struct policy_words *domains, const char *hostname)
{
	size_t best = 0;
	for (size_t i = 0; i < domains->count; i++) {
		size_t m = policy_domain_match(domains->items[i], hostname);
		if (m > best)
			best = m;
	}
	return best;
}

/* Policies list a handful of domains: a scan is cheaper than a table here;
 * per-flow attribution goes through recipients_match first. */
bool policy_is_first_party(const struct policy *p, const char *hostname)
{
	return p && hostname && best_match(&p->first_party_domains, hostname) > 0;
}

const struct policy_party *policy_party_for_host(const struct policy *p, const char *hostname)
{
	const struct policy_party *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; p && hostname && i < p->party_count; i++) {
		size_t m = best_match(&p->parties[i].domains, hostname);
		if (m > best_len) {
			best_len = m;
			best = &p->parties[i];
		}
	}
	return best;
}

const struct policy_party *policy_party_for_recipient(const struct policy *p, const char *recipient_id)
{
	for (size_t i = 0; p && recipient_id && i < p->party_count; i++)
		if (policy_words_have(&p->parties[i].recipients, recipient_id))
			return &p->parties[i];
	return NULL;
}

bool policy_party_declares(const struct policy_party *party, const char *type)
{
	return party && type && party->kind != POLICY_PARTY_MENTIONED &&
	       policy_words_have(&party->data_types, type);
}

const struct policy_data_type *policy_declared_type(const struct policy *p, const char *type)
{
	for (size_t i = 0; p && type && i < p->data_type_count; i++)
		if (!strcmp(p->data_types[i].type, type))
			return &p->data_types[i];
	return NULL;
}

bool policy_party_may_receive(const struct policy *p, const struct policy_party *party,
			      const char *type)
{
	if (!party || !type || party->kind == POLICY_PARTY_MENTIONED)
		return false;
	if (party->kind == POLICY_PARTY_PROCESSOR && !party->data_types.count)
		return policy_declared_type(p, type) != NULL;
	return policy_words_have(&party->data_types, type);
}
