/* diag.c — file:line messages for user-edited files. */
#include "util/diag.h"

#include <stdarg.h>

static void emit(struct pa_diag *d, const char *kind, const char *file, unsigned line,
		 const char *fmt, va_list ap)
{
	if (!d->out)
		return;
	if (line)
		fprintf(d->out, "%s:%u: %s", file, line, kind);
	else
		fprintf(d->out, "%s: %s", file, kind);
	vfprintf(d->out, fmt, ap);
	fputc('\n', d->out);
}

void pa_diag_error(struct pa_diag *d, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(d, "", file, line, fmt, ap);
	va_end(ap);
	d->errors++;
}

void pa_diag_warn(struct pa_diag *d, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(d, "warning: ", file, line, fmt, ap);
	va_end(ap);
	d->warnings++;
}
