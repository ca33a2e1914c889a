/*
 * diag.h — problems found in files a user edits (signatures, device profiles,
 * policies, key logs): printed as "file:line: message" the moment they are
 * found, and counted, so a loader can keep going and report every problem.
 */
#ifndef PA_DIAG_H
#define PA_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct pa_diag {
	FILE *out;       /* where messages go; NULL = count only */
	size_t errors;
	size_t warnings;
};

void pa_diag_error(struct pa_diag *d, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void pa_diag_warn(struct pa_diag *d, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
