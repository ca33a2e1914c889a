/* sha256.h — SHA-256 of files (OpenSSL EVP), as lower-case hex, for manifests. */
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

#endif
