/*
 * report_html.h — DIR/report.html: the audit for a person (an auditor, a
 * lawyer, a regulator), rendered from the report document (the very object
 * written to report.json), so a saved report.json renders the same page.
 *
 * One self-contained file: inline CSS and SVG, no script, no external asset
 * or font; readable offline and printable. Headings in Chinese and English.
 * Sections: header (app, version, phone, tester, test window, policy,
 * tool, completeness), inputs with SHA-256, verdict per promise, findings
 * with their clause quotes, destinations by jurisdiction (bar chart),
 * timeline of personal-data flows, recipients × data types, what could not
 * be inspected, GeoIP plausibility, rules and legal references, and the
 * checklist of 《App违法违规收集使用个人信息行为认定方法》. Printed (A4), every
 * page repeats a running header with the bundle digest and is numbered.
 * docs/output.md describes the page.
 *
 * Every string that may come from the capture is HTML-escaped; a hostile
 * hostname or field name shows as text and cannot add markup.
 */
#ifndef PA_REPORT_HTML_H
#define PA_REPORT_HTML_H

#include <jansson.h>
#include <stdbool.h>

#include "privaudit.h"

/* The page as a NUL-terminated string (caller frees), or NULL with err set
 * when it would exceed the size limit. An input without a recorded "sha256"
 * is hashed from its path when that file can be read. */
char *report_html_render(const json_t *report, struct pa_error *err);
/* The same page carrying the bundle digest (page_digest.h) in its running
 * header and a <meta>; NULL digest_hex: the page says it has none. */
char *report_html_render_digest(const json_t *report, const char *digest_hex,
				struct pa_error *err);

/* DIR/report.html, through a temporary name. */
bool report_html_write(const char *dir, const json_t *report, struct pa_error *err);
bool report_html_write_digest(const char *dir, const json_t *report, const char *digest_hex,
			      struct pa_error *err);

#endif
