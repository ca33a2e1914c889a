/* live.h — `privaudit live`: auditing a mirror port as traffic happens. */
#ifndef PA_LIVE_H
#define PA_LIVE_H

#include "cli.h"

/* Runs until SIGINT/SIGTERM; returns the audit's exit code (enum pa_exit). */
int live_run(const struct live_options *lo, struct audit_config *cfg);

#endif
