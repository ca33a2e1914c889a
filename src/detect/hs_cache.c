/*
 * hs_cache.c — compiled Hyperscan databases kept on disk between runs.
 *
 * Compiling the pattern database with a device profile's derived encodings
 * takes most of a second; an audit of a small capture (or each of hundreds
 * of captures in a batch) would spend most of its time there. The database
 * is a pure function of the expressions, flags, ids, mode and Hyperscan
 * version, so it is cached under the SHA-256 of exactly those, serialized
 * with hs_serialize_database. A cache entry that does not deserialize (other
 * CPU, damaged file) is ignored and rewritten; any cache failure only costs
 * the compile, never the audit.
 *
 * Location: $PRIVAUDIT_CACHE_DIR ("" turns the cache off), else
 * $XDG_CACHE_HOME/privaudit, else $HOME/.cache/privaudit.
 */
#include "detect/hs_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privaudit.h"
#include "util/atomic_file.h"
#include <openssl/evp.h>

/* Cache files larger than this are not read (a sane bound on our databases). */
#define HS_CACHE_MAX_BYTES (256u << 20)

static bool cache_dir(char *buf, size_t len)
{
	const char *own = getenv("PRIVAUDIT_CACHE_DIR");
	if (own)
		return own[0] && (size_t)snprintf(buf, len, "%s", own) < len;
	const char *xdg = getenv("XDG_CACHE_HOME");
	if (xdg && xdg[0])
		return (size_t)snprintf(buf, len, "%s/privaudit", xdg) < len;
	const char *home = getenv("HOME");
	if (home && home[0])
		return (size_t)snprintf(buf, len, "%s/.cache/privaudit", home) < len;
	return false;
}

static bool cache_key(const char *const *exprs, const unsigned *flags, const unsigned *ids,
		      unsigned n, unsigned mode, char hex[65])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(c);
		return false;
	}
	const char *version = hs_version();
	EVP_DigestUpdate(c, version, strlen(version) + 1);
	uint32_t head[2] = {mode, n};
	EVP_DigestUpdate(c, head, sizeof head);
	for (unsigned i = 0; i < n; i++) {
		uint32_t meta[2] = {flags ? flags[i] : 0, ids ? ids[i] : i};
		EVP_DigestUpdate(c, meta, sizeof meta);
		EVP_DigestUpdate(c, exprs[i], strlen(exprs[i]) + 1);
	}
	unsigned char digest[32];
	unsigned len = 0;
	bool ok = EVP_DigestFinal_ex(c, digest, &len) && len == 32;
	EVP_MD_CTX_free(c);
	for (int i = 0; ok && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return ok;
}

static hs_database_t *cache_load(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	hs_database_t *db = NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0 && (uint64_t)st.st_size <= HS_CACHE_MAX_BYTES) {
		char *buf = pa_xmalloc((size_t)st.st_size);
		if (read(fd, buf, (size_t)st.st_size) == st.st_size &&
		    hs_deserialize_database(buf, (size_t)st.st_size, &db) != HS_SUCCESS)
			db = NULL;
		free(buf);
	}
	close(fd);
	return db;
}

static void cache_store(const char *path, const hs_database_t *db)
{
	char *bytes = NULL;
	size_t len = 0;
	if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
		return;
	/* Several audits may compile the same signatures at once: each
	 * writes its own temporary. A cache that cannot be stored is only
	 * compiled again next time. */
	struct pa_error ignored;
	pa_atomic_write(path, bytes, len, PA_ATOMIC_SHARED, &ignored);
	free(bytes);
}

hs_error_t hs_cache_compile_multi(const char *const *exprs, const unsigned *flags,
				  const unsigned *ids, unsigned n, unsigned mode,
				  hs_database_t **db, hs_compile_error_t **err)
{
	char dir[4096], path[4200], key[65];
	bool cached = cache_dir(dir, sizeof dir) && cache_key(exprs, flags, ids, n, mode, key);
	if (cached) {
		snprintf(path, sizeof path, "%s/hs-%s.db", dir, key);
		*db = cache_load(path);
		if (*db) {
			*err = NULL;
			return HS_SUCCESS;
		}
	}
	hs_error_t rc = hs_compile_multi(exprs, flags, ids, n, mode, NULL, db, err);
	if (rc == HS_SUCCESS && cached && pa_mkdir_p(dir, NULL))
		cache_store(path, *db);
	return rc;
}
