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

void finding_line(const struct finding *f, char *buf, size_t len)
{
	const struct rule_info *ri = finding_rule_info(f->rule);
	char when[16];
	time_of_day(f->first_ts, when, sizeof when);
	const char *what = f->data_type[0] ? f->data_type : "contact";
	const char *who = f->hosts[0][0] && f->host_count ? f->hosts[0] : f->recipient;
	int n = snprintf(buf, len, "%s %sZ %-11s %-20s %s -> %s (%s, %s)", f->id, when,
			 finding_strength_name(f->strength), ri->id, what, who,
			 f->recipient_name[0] ? f->recipient_name : f->recipient, f->jurisdiction);
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
	if (p)
		fprintf(out, "Policy: %s (%s)\n", p->app ? p->app : "?", p->version ? p->version : "no version");
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
		fprintf(out, "  %-16s %-14s %s\n", v->promise, promise_status_name(v->status), v->why);
	}
	const struct uninspected *u = findings_uninspected(fs);
	if (u->flows)
		fprintf(out, "Not inspected: %llu flow(s) with unread upload (encrypted %llu B, gaps %llu B, truncated %llu B)\n",
			(unsigned long long)u->flows, (unsigned long long)u->encrypted_up,
			(unsigned long long)u->gap_up, (unsigned long long)u->truncated_up);
}
