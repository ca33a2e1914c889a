/*
 * findings_text.c — findings for a person reading a terminal: one line per
 * finding (live mode prints it the moment the finding is raised) and the
 * verdict per promise at the end of the summary.
 */
#include "report/findings_text.h"

#include <string.h>
#include <time.h>

static void time_of_day(int64_t ts_us, char *buf, size_t len)
{
	time_t t = (time_t)(ts_us / 1000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
}

/* Hostnames, recipient ids (an unknown recipient's is its hostname) and
 * names come from traffic or from files others wrote: escaped, so no byte
 * of them can move the cursor, retitle the window or reorder the line. */
void finding_line(const struct finding *f, char *buf, size_t len)
{
	const struct rule_info *ri = finding_rule_info(f->rule);
	char when[16], who[160], name[200], jur[48];
	time_of_day(f->first_ts, when, sizeof when);
	const char *what = f->data_type[0] ? f->data_type : "contact";
	pa_term_safe(f->hosts[0][0] && f->host_count ? f->hosts[0] : f->recipient, who, sizeof who);
	pa_term_safe(f->recipient_name[0] ? f->recipient_name : f->recipient, name, sizeof name);
	pa_term_safe(f->jurisdiction, jur, sizeof jur);
	int n = snprintf(buf, len, "%s %sZ %-11s %-20s %s -> %s (%s, %s)", f->id, when,
			 finding_strength_name(f->strength), ri->id, what, who, name, jur);
	if (n < 0 || (size_t)n >= len || !f->clause)
		return;
	snprintf(buf + n, len - (size_t)n, " [clause %s]", f->clause->id);
}

void findings_print(const struct findings *fs, FILE *out)
{
	size_t n = findings_count(fs);
	size_t conclusive = 0;
	for (size_t i = 0; i < n; i++)
		conclusive += findings_at(fs, i)->strength == FINDING_CONCLUSIVE;
	const struct policy *p = findings_policy(fs);
	char safe[600], safe2[160];
	if (p)
		fprintf(out, "Policy: %s (%s)\n", pa_term_safe(p->app ? p->app : "?", safe, sizeof safe),
			pa_term_safe(p->version ? p->version : "no version", safe2, sizeof safe2));
	fprintf(out, "Findings: %zu (%zu conclusive, %zu indicative)\n", n, conclusive, n - conclusive);
	char line[512];
	for (size_t i = 0; i < n; i++) {
		finding_line(findings_at(fs, i), line, sizeof line);
		fprintf(out, "  %s\n", line);
	}
	size_t promises = findings_promise_count(fs);
	if (promises)
		fprintf(out, "Promises:\n");
	for (size_t i = 0; i < promises; i++) {
		const struct promise_verdict *v = findings_promise_at(fs, i);
		fprintf(out, "  %-16s %-14s %s\n", v->promise, promise_status_name(v->status),
			pa_term_safe(v->why, safe, sizeof safe));
	}
	const struct uninspected *u = findings_uninspected(fs);
	if (u->flows)
		fprintf(out, "Not inspected: %llu flow(s) with unread upload (encrypted %llu B, gaps %llu B, "
			"truncated %llu B, unparsed %llu B, conflicting %llu B)\n",
			(unsigned long long)u->flows, (unsigned long long)u->encrypted_up,
			(unsigned long long)u->gap_up, (unsigned long long)u->truncated_up,
			(unsigned long long)u->unparsed_up, (unsigned long long)u->conflict_up);
	if (u->opaque_flows)
		fprintf(out, "Opaque: %llu flow(s), %llu B scanned raw in a format no decoder reads, "
			"over a protocol not known as encrypted\n",
			(unsigned long long)u->opaque_flows, (unsigned long long)u->opaque_up);
}
