/*
 * fuzz-keylog.c — the NSS key log parser (tls/keylog.c): the input as text
 * (a pcapng Decryption Secrets Block's path), then as a file read in two
 * steps (a key log growing under a live capture, re-read from where it
 * stopped), then look-ups of randoms and session ids taken from the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls/keylog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keylog *kl = keylog_new();
	keylog_add_text(kl, "fuzz", (const char *)data, size, NULL);

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz-keylog.%d", (int)getpid());
	FILE *f = fopen(path, "wb");
	if (f) {
		size_t half = size / 2;
		fwrite(data, 1, half, f);
		fflush(f);
		struct pa_error err;
		keylog_load_file(kl, path, NULL, &err);
		fwrite(data + half, 1, size - half, f);
		fclose(f);
		keylog_reload(kl, NULL);
		keylog_reload(kl, NULL);
	}

	if (size >= KEYLOG_RANDOM_LEN) {
		const struct keylog_secrets *s = keylog_find(kl, data);
		if (s && s->len[KEYLOG_MASTER_SECRET] == 48)
			keylog_remember_session(kl, data, size < 40 ? size : 40,
						s->secret[KEYLOG_MASTER_SECRET]);
		uint8_t master[48];
		keylog_find_session(kl, data, size < 40 ? size : 40, master);
	}
	const struct keylog_stats *st = keylog_stats(kl);
	if (st->lines_good < st->randoms)
		abort(); /* every random came from a good line */
	keylog_free(kl);
	return 0;
}
