/*
 * page_digest.h — the hash report.html carries in its running header.
 *
 * The manifest hashes report.html, so the page cannot hold the hash of a
 * manifest that covers it. It carries instead the SHA-256 of every other
 * file the manifest lists — "inputs_and_outputs_digest" in manifest.json
 * (docs/output.md): the manifest's "files" entries other than the page
 * itself, each as a sha256sum line "<sha256>  <path>\n", the lines sorted by
 * byte value, hashed together. An examiner can recompute it without
 * privaudit:
 *   jq -r '.files[] | select(.relative != true or .path != "report.html")
 *          | "\(.sha256)  \(.path)"' manifest.json | LC_ALL=C sort | sha256sum
 * (a path holding a newline or a backslash is written the way sha256sum
 * writes it: "\" first, then "\\" and "\n" escapes).
 *
 * The audit computes it after every other file is written and before the
 * page is; `privaudit verify` recomputes it from the manifest, whose every
 * file it checks, and fails when the manifest's value or either copy on
 * the page (the <meta> and the running header) differs.
 */
#ifndef PA_PAGE_DIGEST_H
#define PA_PAGE_DIGEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "util/sha256.h"

/* The page the digest leaves out: the bundle-relative report.html. */
#define PAGE_DIGEST_PAGE "report.html"
/* Where the page holds it (report_html.c writes, verify reads). */
#define PAGE_DIGEST_META "privaudit-inputs-and-outputs-digest"
#define PAGE_DIGEST_SPAN "<span class=\"page-digest\">"
/* The printed pages' running header: a page-margin box of the style. */
#define PAGE_DIGEST_RUNNING "@top-right{content:\""

/* The digest of a manifest "files" array (entries without a path or a
 * sha256 count as empty strings: verify refuses them anyway). */
void page_digest_of_files(const json_t *files, char hex[PA_SHA256_HEX]);

/* verify: the manifest's inputs_and_outputs_digest against its files, and
 * every copy on report.html (page: its bytes, NULL when absent). One line
 * per problem on out; returns how many. */
size_t page_digest_verify(const json_t *manifest, const char *page, size_t page_len, FILE *out);

#endif
