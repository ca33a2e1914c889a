/* sha256.h — SHA-256 of files and of byte streams (OpenSSL EVP), as lower-case
 * hex, for manifests. */
#ifndef PA_SHA256_H
#define PA_SHA256_H

#include "privaudit.h"

#define PA_SHA256_HEX 65 /* 64 hex digits + NUL */

/* false with err set ("FILE: No such file or directory") when unreadable. */
bool pa_sha256_file(const char *path, char hex[PA_SHA256_HEX], uint64_t *size, struct pa_error *err);

/* The same over an open descriptor, read from where it stands to its end;
 * name is used in messages ("NAME: read error: ..."). */
bool pa_sha256_fd(int fd, const char *name, char hex[PA_SHA256_HEX], uint64_t *size,
		  struct pa_error *err);

/* A running SHA-256 over bytes as they are produced (outputs hashed while
 * they are written, instead of read back at the end). */
struct pa_sha256;
struct pa_sha256 *pa_sha256_new(void);
void pa_sha256_update(struct pa_sha256 *h, const void *data, size_t len);
/* The digest of everything updated so far, as hex; frees h. */
void pa_sha256_final(struct pa_sha256 *h, char hex[PA_SHA256_HEX]);

#endif
