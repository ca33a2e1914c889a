/*
 * hs_cache.h — hs_compile_multi with an on-disk cache of compiled databases
 * (see hs_cache.c for where and why). Same contract as hs_compile_multi with
 * the default platform.
 */
#ifndef PA_HS_CACHE_H
#define PA_HS_CACHE_H

#include <hs/hs.h>

hs_error_t hs_cache_compile_multi(const char *const *exprs, const unsigned *flags,
				  const unsigned *ids, unsigned n, unsigned mode,
				  hs_database_t **db, hs_compile_error_t **err);

#endif
