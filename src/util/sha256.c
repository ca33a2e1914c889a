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

static void to_hex(const unsigned char md[32], char hex[PA_SHA256_HEX])
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

struct pa_sha256 {
	EVP_MD_CTX *ctx;
};

struct pa_sha256 *pa_sha256_new(void)
{
	struct pa_sha256 *h = pa_xcalloc(1, sizeof *h);
	h->ctx = EVP_MD_CTX_new();
	/* Fails only without memory: the same exit as pa_xmalloc's. */
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		fprintf(stderr, "privaudit: cannot initialise SHA-256 (libcrypto)\n");
		exit(PA_EXIT_INTERNAL);
	}
	return h;
}

void pa_sha256_update(struct pa_sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void pa_sha256_final(struct pa_sha256 *h, char hex[PA_SHA256_HEX])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_DigestFinal_ex(h->ctx, md, &mdlen);
	EVP_MD_CTX_free(h->ctx);
	free(h);
	to_hex(md, hex);
}

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
	to_hex(md, hex);
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
