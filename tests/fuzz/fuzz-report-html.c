/*
 * fuzz-report-html.c — bytes as a report document (report.json, the file
 * `privaudit report DIR` reads): render the page. Beyond not crashing, the
 * page must hold no markup the document asked for: the renderer writes no
 * <script>, <img>, <iframe> or <a href="http"> itself, so any of them is text
 * that escaped escaping, and every <svg>/<section> it opens is closed.
 * Inputs are hashed from their paths only when readable: the fuzzer's
 * paths are not files.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *report = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	if (!report)
		return 0;
	struct pa_error err;
	char *page = report_html_render(report, &err);
	json_decref(report);
	if (!page)
		return 0;
	if (strstr(page, "<script") || strstr(page, "<img") || strstr(page, "<iframe") ||
	    strstr(page, "href=\"http") || strstr(page, "<a href=\"j"))
		abort();
	if (count(page, "<svg ") != count(page, "</svg>") ||
	    count(page, "<section ") != count(page, "</section>") ||
	    count(page, "<section ") != 10)
		abort();
	free(page);
	return 0;
}
