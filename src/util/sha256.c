/* sha256.c — file hashing for evidence manifests. */
#include "util/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Large reads: a capture of hundreds of MB is hashed in a few hundred
 * system calls. Small files get a buffer of their own size. */
#define SHA256_CHUNK (1u << 20)

bool pa_sha256_fd(int fd, const char *name, char hex[PA_SHA256_HEX], uint64_t *size,
		  struct pa_error *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		pa_error_set(err, "%s: cannot initialise SHA-256", name);
		return false;
	}
	struct stat st;
	size_t cap = SHA256_CHUNK;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size < cap)
		cap = (size_t)st.st_size + 1; /* + 1: the read that sees the end */
	unsigned char *buf = pa_xmalloc(cap);
	uint64_t total = 0;
	bool ok = true;
	for (;;) {
		ssize_t n = read(fd, buf, cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pa_error_set(err, "%s: read error: %s", name, strerror(errno));
			ok = false;
		}
		if (n <= 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		total += (uint64_t)n;
	}
	free(buf);
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (size)
		*size = total;
	return ok;
}

bool pa_sha256_file(const char *path, char hex[PA_SHA256_HEX], uint64_t *size, struct pa_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pa_error_set(err, "%s: %s", path, strerror(errno));
		return false;
	}
	bool ok = pa_sha256_fd(fd, path, hex, size, err);
	close(fd);
	return ok;
}
