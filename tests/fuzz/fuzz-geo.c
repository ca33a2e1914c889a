/*
 * fuzz-geo.c — geo_open() and geo_lookup() on arbitrary database files: the
 * schema probe walks the search tree and reads records of whatever file it
 * is given, and lookups read values out of them.
 * Seeds: tests/fuzz/corpus/geo/ (the fixtures of tools/make-geoip-fixtures).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "geo/geo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libmaxminddb before 1.12 leaks its data pool when MMDB_open() fails on a
 * bad metadata description (maxmind/libmaxminddb#356; Debian 12 has 1.7.1).
 * Only a failed open leaks, once per run in privaudit. */
const char *__lsan_default_suppressions(void)
{
	return "leak:libmaxminddb.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0])
		snprintf(path, sizeof path, "/tmp/fuzz-geo-%d.mmdb", (int)getpid());
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	if (size && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return 0;
	}
	fclose(f);

	struct pa_error err;
	const char *paths[] = {path};
	struct geo *g = geo_open(paths, 1, &err);
	if (!g)
		return 0;
	static const char *const addrs[] = {
		"39.156.1.1", "47.242.3.4", "1.1.1.1", "8.8.8.8", "60.246.0.1",
		"240e::1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "5.5.5.5", "2a00::1",
	};
	for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
		struct pa_addr a;
		if (!pa_addr_parse(addrs[i], &a))
			continue;
		const struct geo_result *r = geo_lookup(g, &a);
		/* Whatever the file says, the record is well formed. */
		if (strlen(r->country) > 2 || r->answer_count > GEO_MAX_DBS ||
		    strnlen(r->as_org, sizeof r->as_org) == sizeof r->as_org)
			__builtin_trap();
	}
	geo_close(g);
	return 0;
}
