/*
 * quote_check.c — every clause quote of a policy file must occur in the
 * policy's source text (named by its `source:` field, looked up in SEEDS_DIR),
 * compared with all whitespace removed: source texts break lines mid-sentence
 * and the YAML quotes join them.
 *
 * usage: quote_check SEEDS_DIR POLICY.yaml...
 * exit 0 when every quote is found, 1 when one is missing, 2 on bad input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

/* Drops ASCII whitespace, U+00A0 and U+3000 (ideographic space) in place. */
static size_t strip_whitespace(char *s)
{
	size_t out = 0;
	for (size_t i = 0; s[i];) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			i++;
		} else if (c == 0xc2 && (unsigned char)s[i + 1] == 0xa0) {
			i += 2;
		} else if (c == 0xe3 && (unsigned char)s[i + 1] == 0x80 && (unsigned char)s[i + 2] == 0x80) {
			i += 3;
		} else {
			s[out++] = s[i++];
		}
	}
	s[out] = '\0';
	return out;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	size_t n;
	while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

static int check_policy(const char *seeds, const char *path)
{
	struct pa_diag diag = {.out = stderr};
	struct policy *p = policy_load(path, &diag);
	if (!p)
		return 2;
	/* The source is a bare file name: never let a policy point elsewhere. */
	if (strchr(p->source, '/')) {
		fprintf(stderr, "%s: source '%s' must be a file name in the seeds folder\n", path, p->source);
		policy_free(p);
		return 2;
	}
	char seed_path[4096];
	snprintf(seed_path, sizeof seed_path, "%s/%s", seeds, p->source);
	char *text = read_text(seed_path);
	if (!text) {
		fprintf(stderr, "%s: cannot read source text %s\n", path, seed_path);
		policy_free(p);
		return 2;
	}
	strip_whitespace(text);
	size_t missing = 0;
	for (size_t i = 0; i < p->clause_count; i++) {
		const struct policy_clause *c = &p->clauses[i];
		char *quote = strdup(c->quote);
		if (!quote || !strip_whitespace(quote) || !strstr(text, quote)) {
			fprintf(stderr, "%s:%u: clause %s: quote not found in %s\n", path, c->line, c->id,
				p->source);
			missing++;
		}
		free(quote);
	}
	printf("%s: %zu of %zu quotes found in %s\n", path, p->clause_count - missing, p->clause_count,
	       p->source);
	free(text);
	policy_free(p);
	return missing ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: quote_check SEEDS_DIR POLICY.yaml...\n");
		return 2;
	}
	int worst = 0;
	for (int i = 2; i < argc; i++) {
		int rc = check_policy(argv[1], argv[i]);
		if (rc > worst)
			worst = rc;
	}
	return worst;
}
