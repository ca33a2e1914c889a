/*
 * page_digest.c — the digest of a bundle without its report.html, and its
 * check against the page (page_digest.h).
 */
#include "report/page_digest.h"

#include <stdlib.h>
#include <string.h>

/* "<sha256>  <path>\n", escaped the way sha256sum does when the path holds
 * a newline or a backslash. */
static char *digest_line(const char *sha, const char *path)
{
	bool escape = strpbrk(path, "\\\n") != NULL;
	size_t len = strlen(sha) + 2 * strlen(path) + 5;
	char *line = pa_xmalloc(len), *o = line;
	if (escape)
		*o++ = '\\';
	o += sprintf(o, "%s  ", sha);
	for (const char *c = path; *c; c++) {
		if (escape && *c == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else if (escape && *c == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else {
			*o++ = *c;
		}
	}
	*o++ = '\n';
	*o = '\0';
	return line;
}

static int by_bytes(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_page(const json_t *e)
{
	const char *path = json_string_value(json_object_get(e, "path"));
	return json_is_true(json_object_get(e, "relative")) && path && !strcmp(path, PAGE_DIGEST_PAGE);
}

void page_digest_of_files(const json_t *files, char hex[PA_SHA256_HEX])
{
	size_t n = 0, i;
	const json_t *e;
	char **lines = pa_xcalloc(json_array_size(files) + 1, sizeof *lines);
	json_array_foreach(files, i, e) {
		if (is_page(e))
			continue;
		const char *sha = json_string_value(json_object_get(e, "sha256"));
		const char *path = json_string_value(json_object_get(e, "path"));
		lines[n++] = digest_line(sha ? sha : "", path ? path : "");
	}
	qsort(lines, n, sizeof *lines, by_bytes);
	struct pa_sha256 *h = pa_sha256_new();
	for (i = 0; i < n; i++) {
		pa_sha256_update(h, lines[i], strlen(lines[i]));
		free(lines[i]);
	}
	free(lines);
	pa_sha256_final(h, hex);
}

/* The 64 hex digits after marker in the page, into hex; false when the
 * marker is absent or not followed by them. */
static bool value_after(const char *page, size_t len, const char *marker, char hex[PA_SHA256_HEX])
{
	size_t m = strlen(marker);
	for (size_t i = 0; i + m + 64 <= len; i++) {
		if (memcmp(page + i, marker, m))
			continue;
		const char *v = page + i + m;
		for (size_t k = 0; k < 64; k++)
			if (!v[k] || !strchr("0123456789abcdef", v[k]))
				return false;
		memcpy(hex, v, 64);
		hex[64] = '\0';
		return true;
	}
	return false;
}

size_t page_digest_verify(const json_t *manifest, const char *page, size_t page_len, FILE *out)
{
	const char *claimed = json_string_value(json_object_get(manifest, "inputs_and_outputs_digest"));
	if (!claimed)
		return 0; /* a manifest from before the digest: nothing on the page to check */
	size_t problems = 0;
	char actual[PA_SHA256_HEX];
	page_digest_of_files(json_object_get(manifest, "files"), actual);
	if (strcmp(claimed, actual)) {
		fprintf(out, "DIGEST   manifest.json: inputs_and_outputs_digest %s is not the digest of the "
			"files it lists (%s)\n", claimed, actual);
		problems++;
	}
	if (!page) {
		fprintf(out, "DIGEST   %s: absent, but the manifest gives the digest it must carry\n",
			PAGE_DIGEST_PAGE);
		return problems + 1;
	}
	static const struct {
		const char *marker, *where;
	} copies[] = {
		{"<meta name=\"" PAGE_DIGEST_META "\" content=\"", "its <meta>"},
		{PAGE_DIGEST_SPAN, "its opening block"},
		{PAGE_DIGEST_RUNNING, "the running header of its printed pages"},
	};
	for (size_t i = 0; i < sizeof copies / sizeof copies[0]; i++) {
		char shown[PA_SHA256_HEX];
		if (!value_after(page, page_len, copies[i].marker, shown)) {
			fprintf(out, "DIGEST   %s: %s carries no digest\n", PAGE_DIGEST_PAGE, copies[i].where);
			problems++;
		} else if (strcmp(shown, actual)) {
			fprintf(out, "DIGEST   %s: %s carries %s, but the files the manifest lists digest "
				"to %s\n", PAGE_DIGEST_PAGE, copies[i].where, shown, actual);
			problems++;
		}
	}
	return problems;
}
