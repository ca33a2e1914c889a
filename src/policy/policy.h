/*
 * policy.h — an app's privacy policy as the policy engine sees it: the
 * clauses it quotes and the promises that traffic can contradict.
 *
 * The file format is specified in policies/README.md; docs/policies.md says
 * how a policy is modelled. Every promise names the clause id(s) it rests on,
 * so each finding can quote the words it contradicts.
 *
 * Rules the engine applies with these promises:
 *   residency       personal data to a jurisdiction outside promises.residency
 *   encryption      personal data in cleartext while promises.encryption holds
 *   undeclared      personal data to a party neither first party, processor nor
 *                   declared third party (mentioned parties stay undeclared)
 *   beyond scope    a declared party receiving a type not in its data_types
 *   undeclared type the first party receiving a type not in data_types
 *   before consent  personal data before the consent moment (consent.model)
 *                   or before the permission a permission_gated type needs
 *   frequency       repeated collection, against promises.minimum_necessary
 *   geolocation     destination country implausible for the RTT: residency
 */
#ifndef PA_POLICY_H
#define PA_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "util/diag.h"

/* One numbered passage of the policy, quoted verbatim from its source text. */
struct policy_clause {
	char *id;      /* as the policy numbers it: "2.5", "七.2", "三/小米" */
	char *section; /* heading it sits under, as printed (may be NULL) */
	char *quote;   /* verbatim, in the policy's language */
	char *gloss;   /* short English rendering */
	unsigned line; /* line in the policy file, for messages */
};

/* A list of clause ids a promise rests on (each id exists in clauses[]). */
struct policy_refs {
	char **ids;
	size_t count;
};

/* A list of words (data types, domains, jurisdictions, recipient ids). */
struct policy_words {
	char **items;
	size_t count;
};

/* A data type the policy says the app (first party) collects. */
struct policy_data_type {
	char *type;              /* vocabulary word: "imei", "location", ... */
	struct policy_refs clauses;
};

/* Types that the policy says are collected only after an OS permission or a
 * user action (tapping the icon, granting contacts...). */
struct policy_gate {
	struct policy_words types;
	char *trigger;           /* "location permission", "tap on microphone icon" */
	struct policy_refs clauses;
};

enum policy_party_kind {
	POLICY_PARTY_THIRD_PARTY, /* declared: listed with purpose and data types */
	POLICY_PARTY_PROCESSOR,   /* entrusted with the first party's data (cloud storage) */
	POLICY_PARTY_MENTIONED,   /* named in the text but never declared: a gap of the policy */
};

/* A party other than the first party that the policy names. */
struct policy_party {
	enum policy_party_kind kind;
	char *id;                  /* short id unique in the file: "xiaomi-push" */
	char *name;                /* as the policy names it */
	char *organisation;        /* legal entity (第三方主体) when given */
	char *purpose;             /* recipients.yaml purpose word: push, location, ... */
	char *declared_as;         /* the policy's own words for the data (may be NULL) */
	char *privacy_policy;      /* link the policy gives (may be NULL) */
	struct policy_words domains;    /* domain patterns (recipients.yaml semantics) */
	struct policy_words recipients; /* ids in signatures/recipients.yaml */
	struct policy_words data_types; /* vocabulary words, groups expanded */
	struct policy_refs clauses;
	unsigned line;
};

enum policy_consent_model {
	POLICY_CONSENT_USE_IMPLIES,   /* "by using the app you agree" */
	POLICY_CONSENT_EXPLICIT,      /* a dialog the user must accept first */
};

struct policy {
	char *path;
	char *app;
	char *publisher;
	char *version;           /* as the policy labels itself, or a date */
	char *published;         /* YYYY-MM-DD or NULL */
	char *updated;
	char *effective;
	char *source;            /* seed/source text file name the quotes come from */

	struct policy_clause *clauses;
	size_t clause_count;

	struct {
		struct policy_words allowed;  /* jurisdictions: ["CN"] */
		struct policy_refs clauses;
	} residency;
	struct {
		bool promised;
		struct policy_refs clauses;
	} encryption;
	struct {
		enum policy_consent_model model;
		struct policy_refs clauses;
		struct policy_gate *gates;
		size_t gate_count;
	} consent;
	struct policy_refs minimum_necessary;  /* clauses for frequency findings (may be empty) */

	struct policy_data_type *data_types;
	size_t data_type_count;
	struct policy_words first_party_domains;
	struct policy_party *parties;          /* third parties, processors, mentioned */
	size_t party_count;

	/* Gaps of the policy text itself (an SDK used but not listed...), kept
	 * so the report can state them next to the findings. */
	struct policy_gap {
		char *note;
		struct policy_refs clauses;
	} *gaps;
	size_t gap_count;
};

/* NULL after reporting every problem to diag as "file:line: message":
 * unknown keys, missing required fields, unknown data types or purposes,
 * duplicate clause or party ids, promises naming unknown clause ids. */
struct policy *policy_load(const char *path, struct pa_diag *diag);
/* Same from memory (tests, fuzzing); path is used in messages only. */
struct policy *policy_load_buffer(const char *path, const unsigned char *buf, size_t len,
				  struct pa_diag *diag);
void policy_free(struct policy *p);

/* Lookups. Hostnames compare case-insensitively; a trailing dot is ignored. */
const struct policy_clause *policy_clause(const struct policy *p, const char *id);
bool policy_is_first_party(const struct policy *p, const char *hostname);
/* The party whose domains cover hostname (most specific pattern wins), any kind. */
const struct policy_party *policy_party_for_host(const struct policy *p, const char *hostname);
/* The party linked to a recipients.yaml id, any kind. */
const struct policy_party *policy_party_for_recipient(const struct policy *p, const char *recipient_id);
/* A declared (third party or processor) party: is this type in its scope? */
bool policy_party_declares(const struct policy_party *party, const char *type);
/* Scope check the "beyond declared scope" rule uses: a third party's own
 * data types; a processor's data types, or the first party's when it lists
 * none (it holds the first party's data); never for a mentioned party. */
bool policy_party_may_receive(const struct policy *p, const struct policy_party *party,
			      const char *type);
/* First party: is this type among the declared data types? NULL when not. */
const struct policy_data_type *policy_declared_type(const struct policy *p, const char *type);

/* Is s one of the words of w (exact match)? */
bool policy_words_have(const struct policy_words *w, const char *s);

/* Shared vocabulary (policies/README.md): also what observations are typed as. */
bool policy_is_data_type(const char *word);
bool policy_is_purpose(const char *word);
const char *policy_party_kind_name(enum policy_party_kind kind);

/* Domain pattern semantics shared with recipients.yaml: "example.com" covers
 * the name and all names under it, "*.example.com" only names under it.
 * Returns the matched pattern's length (the specificity), 0 when no match. */
size_t policy_domain_match(const char *pattern, const char *hostname);
/* Lower-case letters, digits, '-' and '.', optional leading "*.", no empty
 * label, at most 253 characters. */
bool policy_domain_pattern_valid(const char *pattern);

#endif
