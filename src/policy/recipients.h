/*
 * recipients.h — the recipient catalogue (signatures/recipients.yaml): which
 * organisation and SDK a hostname belongs to, the company's home country and
 * the purpose of the service. Called once per flow with the flow's hostname
 * (SNI > HTTP Host > DNS answer).
 *
 * Domain patterns: "example.com" matches the name and every name under it,
 * "*.example.com" only names under it; the most specific (longest) pattern
 * wins. Matching hashes each label-boundary suffix of the hostname, longest
 * first: cost grows with the number of labels, not with the catalogue.
 */
#ifndef PA_RECIPIENTS_H
#define PA_RECIPIENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/diag.h"

struct policy;

struct recipient {
	char *id;           /* "xiaomi-push": what policies link to */
	char *organisation; /* company behind the endpoint */
	char *sdk;          /* SDK or service name */
	char *country;      /* company's home country, ISO 3166 alpha-2 */
	char *purpose;      /* push, analytics, ads, ... (policy_is_purpose) */
	char *note;         /* what an auditor should know, or NULL */
	char *source;       /* the public document behind the entry: its title */
	char *source_url;   /* where that document is published, or NULL */
	bool source_verified; /* the document was read and names this organisation
			       * and these hosts (or the vendor's own domains):
			       * only then does a finding rest on the entry alone */
	char **domains;
	size_t domain_count;
	unsigned line;      /* in the catalogue file */
};

struct recipients;

/* NULL after reporting every problem as "file:line: message": unknown keys,
 * missing fields, bad country/purpose/domain pattern, duplicate id or domain,
 * a pattern its own entry already covers, a verified source without a URL. */
struct recipients *recipients_load(const char *path, struct pa_diag *diag);
struct recipients *recipients_load_buffer(const char *path, const unsigned char *buf, size_t len,
					  struct pa_diag *diag);
void recipients_free(struct recipients *r);

/* The entry whose pattern covers hostname most specifically, or NULL.
 * Case-insensitive; a trailing dot and a ":port" suffix are ignored. */
const struct recipient *recipients_match(const struct recipients *r, const char *hostname);
const struct recipient *recipients_find(const struct recipients *r, const char *id);
/* host without a ":port" (an HTTP Host value, RFC 9110 §7.2): "a.com:8080"
 * and "a.com" name the same recipient. "[v6]:port" gives the address inside
 * the brackets; a bare IPv6 literal (more than one ':') is left whole. Into
 * out; returns out. */
const char *recipients_host_without_port(const char *host, char *out, size_t n);
/* The zone whose owner receives what a DNS query for query_name carries:
 * the catalogue's pattern that matches it (r may be NULL), else its
 * registered domain (the last two labels, three under com/net/org/gov/edu/
 * ac/co of a two-letter country code). Lower case, in out. */
/* The part of a DNS query name that can name a host: what follows the last
 * label holding a ':' (a MAC address, an IPv6 literal — data, never a host
 * label, and not a port either). */
const char *recipients_query_host(const char *query_name);
/* A name under .local (multicast DNS, RFC 6762): no zone has an owner; what
 * it carries goes to whoever listens on the link. */
bool recipients_link_local(const char *name);
const char *recipients_zone(const struct recipients *r, const char *query_name, char *out, size_t n);
size_t recipients_count(const struct recipients *r);
const struct recipient *recipients_at(const struct recipients *r, size_t i);

/* Reports (as errors, at the policy's lines) every recipient id a policy
 * links to that the catalogue does not hold; returns how many. */
size_t recipients_check_policy(const struct recipients *r, const struct policy *p,
			       struct pa_diag *diag);

/* What `privaudit check` calls for a file this module owns. */
enum policy_file_kind {
	POLICY_FILE_OTHER,      /* not a policy nor a catalogue: someone else's file */
	POLICY_FILE_POLICY,     /* top-level key "policy:" */
	POLICY_FILE_RECIPIENTS, /* top-level key "recipients:" */
};
/* Sniffs the top-level keys (without a full parse). */
enum policy_file_kind policy_file_kind(const char *path);
/* Loads path as its kind and reports every problem; a policy is also checked
 * against the catalogue when catalogue is not NULL (its recipient ids must
 * exist there). true when the file is usable. */
bool policy_check_file(const char *path, const char *catalogue, struct pa_diag *diag);

#endif
