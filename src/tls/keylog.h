/*
 * keylog.h — TLS secrets in the NSS key log format (SSLKEYLOGFILE), as
 * written by browsers, curl, OpenSSL and interception proxies:
 *
 *     # comment
 *     CLIENT_RANDOM <64 hex client random> <96 hex master secret>      TLS 1.2
 *     CLIENT_HANDSHAKE_TRAFFIC_SECRET <64 hex> <64 or 96 hex>          TLS 1.3
 *     SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT_TRAFFIC_SECRET_0,
 *     SERVER_TRAFFIC_SECRET_0, (EXPORTER_SECRET, CLIENT_EARLY_TRAFFIC_SECRET)
 *
 * Secrets are kept by client random. Files may be loaded several times and
 * re-read as they grow (live capture with an app still writing its log);
 * pcapng Decryption Secrets Blocks arrive as text through keylog_add_text.
 * Master secrets of full TLS 1.2 handshakes are also remembered by session
 * id and ticket, so a resumed connection whose own line is missing still
 * decrypts.
 */
#ifndef PA_KEYLOG_H
#define PA_KEYLOG_H

#include <stdio.h>

#include "privaudit.h"
#include "util/hasher.h"

#define KEYLOG_RANDOM_LEN 32
#define KEYLOG_SECRET_MAX 48 /* SHA-384 is the largest TLS hash we decrypt */

enum keylog_label {
	KEYLOG_MASTER_SECRET,     /* CLIENT_RANDOM: TLS 1.2 and earlier */
	KEYLOG_CLIENT_HS_SECRET,  /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
	KEYLOG_SERVER_HS_SECRET,  /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
	KEYLOG_CLIENT_AP_SECRET,  /* CLIENT_TRAFFIC_SECRET_0 */
	KEYLOG_SERVER_AP_SECRET,  /* SERVER_TRAFFIC_SECRET_0 */
	KEYLOG_CLIENT_EARLY_SECRET,
	KEYLOG_EXPORTER_SECRET,
	KEYLOG_LABEL_COUNT
};

/* The secrets known for one client random. len[label] == 0: not known. */
struct keylog_secrets {
	uint8_t client_random[KEYLOG_RANDOM_LEN];
	uint8_t secret[KEYLOG_LABEL_COUNT][KEYLOG_SECRET_MAX];
	uint8_t len[KEYLOG_LABEL_COUNT];
};

struct keylog_stats {
	uint64_t lines_good;     /* secrets stored */
	uint64_t lines_bad;      /* malformed: reported with file:line */
	uint64_t lines_ignored;  /* comments, blank lines, labels we have no use for */
	uint64_t randoms;        /* distinct client randoms */
	uint64_t sessions;       /* master secrets remembered by session id / ticket */
};

struct keylog;

struct keylog *keylog_new(void);
void keylog_free(struct keylog *kl);

/*
 * Reads a key log file and remembers it for keylog_reload. Bad lines are
 * reported on `diag` (NULL = silently) as "FILE:LINE: message" and counted;
 * the rest of the file is still read. false (err set) only when the file
 * cannot be read at all.
 */
bool keylog_load_file(struct keylog *kl, const char *path, FILE *diag, struct pa_error *err);
/* Reads what was appended to every loaded file since the last read (a
 * truncated file is read again from its start). Returns new secrets stored. */
size_t keylog_reload(struct keylog *kl, FILE *diag);
/* Key log text from elsewhere (a pcapng Decryption Secrets Block); `name`
 * prefixes messages. A last line without newline is taken too. Returns good lines. */
size_t keylog_add_text(struct keylog *kl, const char *name, const char *text, size_t len,
		       FILE *diag);

/* The secrets of a client random, NULL when none. Valid until keylog_free. */
const struct keylog_secrets *keylog_find(const struct keylog *kl,
					 const uint8_t client_random[KEYLOG_RANDOM_LEN]);

/* TLS 1.2 resumption: the master secret of an earlier full handshake by its
 * session id (1..32 bytes) or session ticket (any length, kept as a hash). */
void keylog_remember_session(struct keylog *kl, const uint8_t *id, size_t id_len,
			     const uint8_t master[48]);
bool keylog_find_session(const struct keylog *kl, const uint8_t *id, size_t id_len,
			 uint8_t master[48]);

/* A growing key log (live capture: files re-read while the app writes them)
 * makes sessions hold protected records a while for a secret still to come;
 * a complete one (offline audit) lets them count such records at once. */
void keylog_set_growing(struct keylog *kl, bool growing);
bool keylog_growing(const struct keylog *kl);

/* A growing log (live) is read through a descriptor opened while loading,
 * so it stays readable after the process drops its privileges. The hash of
 * the loaded file `path` through that descriptor, for the manifest: false
 * when no descriptor is held (then hash it by path). */
bool keylog_hash_source(const struct keylog *kl, const char *path, struct pa_file_hash *h);
/* Whether every loaded log that does not exist yet could still be opened by
 * this process when it appears (its folder can be entered); false with
 * *unreachable set to the first that cannot. */
bool keylog_reachable(const struct keylog *kl, const char **unreachable);

const struct keylog_stats *keylog_stats(const struct keylog *kl);
/* Bumped on every new secret: sessions waiting for a key retry only when it moved. */
uint64_t keylog_generation(const struct keylog *kl);

/* Helpers shared by the key log and the pcapng secrets path. */
const char *keylog_label_name(enum keylog_label label);

#endif
