/* sha256.c — file hashing for evidence manifests. */
#include "util/sha256.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

bool pa_sha256_file(const char *path, char hex[PA_SHA256_HEX], uint64_t *size, struct pa_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		pa_error_set(err, "%s: %s", path, strerror(errno));
		return false;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		fclose(f);
		pa_error_set(err, "%s: cannot initialise SHA-256", path);
		return false;
	}
	static __thread unsigned char buf[1 << 16];
	uint64_t total = 0;
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		EVP_DigestUpdate(ctx, buf, n);
		total += n;
	}
	bool ok = !ferror(f);
	if (!ok)
		pa_error_set(err, "%s: read error: %s", path, strerror(errno));
	fclose(f);
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
