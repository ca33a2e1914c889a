/*
 * report_html_internal.h — what the parts of report.html share: an output
 * buffer that escapes every string it did not write itself, readers for the
 * report document that never trust its shape, and the number formats.
 *
 * Every string in report.json may come from the capture (hostnames, field
 * names, values) and so from whoever sent the packets: it goes out only
 * through h_text() and its relatives, never through h_raw() or h_fmt().
 */
#ifndef PA_REPORT_HTML_INTERNAL_H
#define PA_REPORT_HTML_INTERNAL_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "privaudit.h"

/* The page is built in memory and written at once; it never grows past this. */
#define HTML_MAX_BYTES (256u << 20)

struct html {
	char *buf;
	size_t len, cap;
	bool overflow; /* HTML_MAX_BYTES reached: the page is abandoned */
};

/* Trusted markup (string literals of this module). */
void h_raw(struct html *h, const char *s);
/* Trusted format: only numbers and literals may go through %s here. */
void h_fmt(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Untrusted text: HTML-escaped; invalid UTF-8 becomes U+FFFD, control and
 * bidirectional-override characters are shown as \xNN / \uNNNN so they can
 * neither break the markup nor reorder what the reader sees. NULL: nothing. */
void h_text(struct html *h, const char *s);
/* At most max_chars characters, then "…" (the full text goes in a title). */
void h_text_trunc(struct html *h, const char *s, size_t max_chars);
/* h_text, or a dash when s is NULL or empty. */
void h_text_or_dash(struct html *h, const char *s);
/* <tag>text</tag> with an optional trusted class. */
void h_elem(struct html *h, const char *tag, const char *cls, const char *text);

/* Readers: NULL / 0 / fallback when the key is missing or of another type. */
const json_t *j_get(const json_t *o, const char *dotted_path);
const char *j_str(const json_t *o, const char *dotted_path);
uint64_t j_u64(const json_t *o, const char *dotted_path);
/* A number (integer or real), or fallback when missing or null. */
double j_num(const json_t *o, const char *dotted_path, double fallback);
size_t j_len(const json_t *o, const char *dotted_path); /* array size, 0 if not an array */
/* o's jurisdiction as one word for a reader ("CN", "foreign:SG", "private"):
 * "jurisdiction" joined with "jurisdiction_country" when that names another
 * country; a report.json written before the split has the word itself.
 * NULL when o has none. */
const char *j_jurisdiction(const json_t *o, char *buf, size_t len);
/* An object's keys in byte order (caller frees the array, not the keys):
 * the page must not depend on the order a document was built or saved in. */
const char **j_sorted_keys(const json_t *o, size_t *n);

/* Formats into buf and returns it. */
const char *fmt_count(uint64_t v, char *buf, size_t len);    /* "1,234,567" */
const char *fmt_duration(int64_t us, char *buf, size_t len); /* "243.7 ms", "4 min 12 s" */
/* "2026-11-23T15:20:23.956181Z" (optionally without fraction) → µs since the epoch. */
bool parse_iso_time(const char *s, int64_t *us);

/* Characters (UTF-8 code points) in s, counting each invalid byte as one. */
size_t utf8_chars(const char *s);

/* Sections drawn as SVG (report_html_svg.c). */
void html_destinations_chart(struct html *h, const json_t *report);
void html_timeline(struct html *h, const json_t *report);

/* Display name of a recipient id, from the findings that name it (else the id). */
const char *recipient_display_name(const json_t *report, const char *id);

/* Sections (report_html_sections.c). */
void html_section_inputs(struct html *h, const json_t *report);
void html_section_destinations(struct html *h, const json_t *report);
void html_section_timeline(struct html *h, const json_t *report);
void html_section_matrix(struct html *h, const json_t *report);
void html_section_uninspected(struct html *h, const json_t *report);
void html_section_plausibility(struct html *h, const json_t *report);
void html_section_rules(struct html *h, const json_t *report);
/* The checklist of 认定方法 with this audit's result per item (report_html_checklist.c). */
void html_section_checklist(struct html *h, const json_t *report);
/* How many of its items the audit shows violated; *items: how many there are. */
size_t html_checklist_violated(const json_t *report, size_t *items);

/* Bilingual words (report_html_words.c). A data type: Chinese and English
 * name and its id. A finding's reason and a promise's verdict in Chinese,
 * from the facts the document holds (the English sentence is "reason"/"why"). */
void h_data_type(struct html *h, const char *type);
void h_finding_reason_zh(struct html *h, const json_t *report, const json_t *finding);
void h_promise_why_zh(struct html *h, const json_t *report, const json_t *promise);

#endif
