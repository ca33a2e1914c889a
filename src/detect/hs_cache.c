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
 *
 * Bounded: every signature and every device profile makes databases of its
 * own, so a cache never cleaned grows with each signature folder and profile
 * ever audited (tens of thousands of files). A hit marks its file as used
 * (its modification time); after a process has stored a database it trims
 * the cache (and again every HS_CACHE_TRIM_EVERY stores), removing the
 * least recently used databases until at most
 * $PRIVAUDIT_CACHE_MAX_BYTES (default 256 MiB) and HS_CACHE_MAX_FILES files
 * remain, and temporaries that writers left behind more than an hour ago.
 */
#include "detect/hs_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "privaudit.h"
#include "util/atomic_file.h"
#include <openssl/evp.h>

/* Cache files larger than this are not read (a sane bound on our databases). */
#define HS_CACHE_MAX_BYTES (256u << 20)
/* What the cache may hold in all, unless $PRIVAUDIT_CACHE_MAX_BYTES says. */
#define HS_CACHE_DEFAULT_TOTAL_BYTES (256ull << 20)
#define HS_CACHE_MAX_FILES 4096
#define HS_CACHE_TRIM_EVERY 512
/* A temporary older than this belongs to a writer that died. */
#define HS_CACHE_STALE_TMP_SECONDS 3600

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

struct cache_entry {
	char name[71];
	off_t size;
	struct timespec used;
};

static int by_least_recently_used(const void *a, const void *b)
{
	const struct cache_entry *x = a, *y = b;
	if (x->used.tv_sec != y->used.tv_sec)
		return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
	if (x->used.tv_nsec != y->used.tv_nsec)
		return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

static uint64_t cache_total_bound(void)
{
	const char *v = getenv("PRIVAUDIT_CACHE_MAX_BYTES");
	if (v && v[0]) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(v, &end, 10);
		if (!errno && !*end)
			return n;
	}
	return HS_CACHE_DEFAULT_TOTAL_BYTES;
}

/* Only files this cache writes are ever removed: hs-<64 hex>.db and their
 * temporaries (.hs-<hex>.db.<pid>.tmp). */
static bool cache_file_name(const char *name, bool *temporary)
{
	*temporary = name[0] == '.';
	const char *p = name + *temporary;
	if (strncmp(p, "hs-", 3) != 0 || strspn(p + 3, "0123456789abcdef") != 64 ||
	    strncmp(p + 67, ".db", 3) != 0)
		return false;
	return *temporary ? strlen(p + 70) > 4 && !strcmp(p + strlen(p) - 4, ".tmp") : p[70] == '\0';
}

void hs_cache_trim(const char *dir, uint64_t max_bytes, size_t max_files)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct cache_entry *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t total = 0;
	time_t now = time(NULL);
	char path[4200];
	struct dirent *e;
	while ((e = readdir(d))) {
		bool temporary;
		struct stat st;
		if (!cache_file_name(e->d_name, &temporary) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (temporary) {
			if (now - st.st_mtime > HS_CACHE_STALE_TMP_SECONDS)
				unlinkat(dirfd(d), e->d_name, 0);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			v = pa_xrealloc(v, cap * sizeof *v);
		}
		memcpy(v[n].name, e->d_name, 71); /* hs-<64 hex>.db and its NUL: cache_file_name */
		v[n].size = st.st_size;
		v[n].used = st.st_mtim;
		total += (uint64_t)st.st_size;
		n++;
	}
	/* Down to 3/4 of the bounds, so the next stores do not trim again at once. */
	if (total > max_bytes || n > max_files) {
		uint64_t bytes_goal = max_bytes - max_bytes / 4;
		size_t files_goal = max_files - max_files / 4;
		qsort(v, n, sizeof *v, by_least_recently_used);
		size_t left = n;
		for (size_t i = 0; i < n && (total > bytes_goal || left > files_goal); i++) {
			snprintf(path, sizeof path, "%s/%s", dir, v[i].name);
			if (unlink(path) == 0 || errno == ENOENT) { /* another audit may trim too */
				total -= (uint64_t)v[i].size;
				left--;
			}
		}
	}
	free(v);
	closedir(d);
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
			/* Used now: the trim removes the least recently used first. */
			utimensat(AT_FDCWD, path, NULL, 0);
			*err = NULL;
			return HS_SUCCESS;
		}
	}
	hs_error_t rc = hs_compile_multi(exprs, flags, ids, n, mode, NULL, db, err);
	if (rc == HS_SUCCESS && cached && pa_mkdir_p(dir, NULL)) {
		cache_store(path, *db);
		/* After the first store of a process and every HS_CACHE_TRIM_EVERY
		 * more: a large signature folder stores thousands of databases in
		 * one run, and each trim reads the whole folder. */
		static unsigned stores;
		if (__atomic_fetch_add(&stores, 1, __ATOMIC_RELAXED) % HS_CACHE_TRIM_EVERY == 0)
			hs_cache_trim(dir, cache_total_bound(), HS_CACHE_MAX_FILES);
	}
	return rc;
}
