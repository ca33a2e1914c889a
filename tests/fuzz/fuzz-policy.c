/*
 * fuzz-policy.c — YAML bytes into the policy loader and the recipient
 * catalogue loader (both read user-edited files), then the lookups a
 * loaded result serves.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/recipients.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pa_diag diag = {0}; /* count only */
	struct policy *p = policy_load_buffer("fuzz.yaml", data, size, &diag);
	struct recipients *r = recipients_load_buffer("fuzz.yaml", data, size, &diag);
	if (p) {
		for (size_t i = 0; i < p->party_count; i++) {
			const struct policy_party *party = &p->parties[i];
			(void)policy_party_may_receive(p, party, "imei");
			for (size_t d = 0; d < party->domains.count; d++)
				(void)policy_party_for_host(p, party->domains.items[d]);
		}
		(void)policy_is_first_party(p, "a.b.example.com");
		(void)policy_declared_type(p, "location");
	}
	if (r) {
		for (size_t i = 0; i < recipients_count(r); i++) {
			const struct recipient *rec = recipients_at(r, i);
			for (size_t d = 0; d < rec->domain_count; d++)
				(void)recipients_match(r, rec->domains[d]);
		}
		/* The fuzz input itself as a hostname, bounded. */
		char host[300];
		size_t n = size < sizeof host - 1 ? size : sizeof host - 1;
		memcpy(host, data, n);
		host[n] = '\0';
		(void)recipients_match(r, host);
		recipients_check_policy(r, p, &diag);
	}
	policy_free(p);
	recipients_free(r);
	return 0;
}
