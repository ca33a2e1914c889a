/*
 * hs_cache.h — hs_compile_multi with an on-disk cache of compiled databases
 * (see hs_cache.c for where and why). Same contract as hs_compile_multi with
 * the default platform.
 */
#ifndef PA_HS_CACHE_H
#define PA_HS_CACHE_H

#include <hs/hs.h>
#include <stddef.h>
#include <stdint.h>

hs_error_t hs_cache_compile_multi(const char *const *exprs, const unsigned *flags,
				  const unsigned *ids, unsigned n, unsigned mode,
				  hs_database_t **db, hs_compile_error_t **err);

/* Removes the least recently used databases from the cache folder dir until
 * they hold at most 3/4 of max_bytes and of max_files (when either is
 * exceeded), and temporaries older than an hour. Only names the cache writes
 * are touched. Runs by itself as a process stores databases; exposed for
 * tests. */
void hs_cache_trim(const char *dir, uint64_t max_bytes, size_t max_files);

#endif
