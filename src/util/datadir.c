/* datadir.c — the installed data folder next to the binary, else the source tree's. */
#include "util/datadir.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PA_DATADIR_FROM_BINDIR
#define PA_DATADIR_FROM_BINDIR "../share/privaudit"
#endif
#ifndef PA_SOURCE_SIGNATURES
#define PA_SOURCE_SIGNATURES "signatures"
#endif
#ifndef PA_SOURCE_GEOIP_DIR
#define PA_SOURCE_GEOIP_DIR "data/geoip"
#endif

static char signatures_dir[PATH_MAX + 32];
static char geoip_dir[PATH_MAX + 32];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The installed layout is recognised by its signature folder: a data
 * folder without one is not ours. */
static void resolve(void)
{
	snprintf(signatures_dir, sizeof signatures_dir, "%s", PA_SOURCE_SIGNATURES);
	snprintf(geoip_dir, sizeof geoip_dir, "%s", PA_SOURCE_GEOIP_DIR);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return;
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = 0;
	char candidate[PATH_MAX + 32], datadir[PATH_MAX];
	snprintf(candidate, sizeof candidate, "%s/%s", exe, PA_DATADIR_FROM_BINDIR);
	/* Canonical, so that the manifest names /usr/share/privaudit/..., not
	 * /usr/bin/../share/privaudit/... */
	if (!realpath(candidate, datadir))
		return;
	snprintf(candidate, sizeof candidate, "%s/signatures", datadir);
	struct stat st;
	if (stat(candidate, &st) != 0 || !S_ISDIR(st.st_mode))
		return;
	snprintf(signatures_dir, sizeof signatures_dir, "%s", candidate);
	snprintf(geoip_dir, sizeof geoip_dir, "%s/geoip", datadir);
}

const char *pa_default_signatures_dir(void)
{
	pthread_once(&once, resolve);
	return signatures_dir;
}

const char *pa_default_geoip_dir(void)
{
	pthread_once(&once, resolve);
	return geoip_dir;
}
