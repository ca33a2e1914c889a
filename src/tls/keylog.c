/*
 * keylog.c — NSS key log parsing and the secret tables (keylog.h).
 *
 * Secrets are few (one line per connection and label) and looked up once per
 * connection, so a chained hash table of individually allocated entries is
 * enough; entries never move, so keylog_find's pointer stays valid.
 */
#include "tls/keylog.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "util/sha256.h"

#define KEYLOG_LINE_MAX 1024

struct keylog_entry {
	struct keylog_entry *next;
	struct keylog_secrets s;
};

struct session_entry {
	struct session_entry *next;
	uint8_t key[32]; /* SHA-256 of the id or ticket */
	uint8_t master[48];
};

struct keylog_source {
	char *path;       /* as given, for messages */
	char *resolved;   /* absolute (growing logs): the working folder may change */
	/* A growing log's open descriptor: live mode drops privileges after
	 * loading, and a log in a folder the new user cannot enter is still
	 * read (and hashed for the manifest) through it. -1: none yet. */
	int fd;
	off_t offset;     /* bytes consumed: always just after a newline */
	uint64_t line_no; /* lines consumed */
};

struct keylog {
	struct keylog_entry **buckets;
	size_t nbuckets;
	struct session_entry **sbuckets;
	size_t nsbuckets;
	struct keylog_source *sources;
	size_t nsources;
	struct keylog_stats stats;
	uint64_t generation;
	bool growing;
};

static const struct {
	const char *name;
	enum keylog_label label;
} label_names[] = {
	{"CLIENT_RANDOM", KEYLOG_MASTER_SECRET},
	{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", KEYLOG_CLIENT_HS_SECRET},
	{"SERVER_HANDSHAKE_TRAFFIC_SECRET", KEYLOG_SERVER_HS_SECRET},
	{"CLIENT_TRAFFIC_SECRET_0", KEYLOG_CLIENT_AP_SECRET},
	{"SERVER_TRAFFIC_SECRET_0", KEYLOG_SERVER_AP_SECRET},
	{"CLIENT_EARLY_TRAFFIC_SECRET", KEYLOG_CLIENT_EARLY_SECRET},
	{"EXPORTER_SECRET", KEYLOG_EXPORTER_SECRET},
};

const char *keylog_label_name(enum keylog_label label)
{
	for (size_t i = 0; i < sizeof(label_names) / sizeof(label_names[0]); i++)
		if (label_names[i].label == label)
			return label_names[i].name;
	return "?";
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

struct keylog *keylog_new(void)
{
	struct keylog *kl = pa_xcalloc(1, sizeof(*kl));
	kl->nbuckets = 256;
	kl->buckets = pa_xcalloc(kl->nbuckets, sizeof(*kl->buckets));
	kl->nsbuckets = 64;
	kl->sbuckets = pa_xcalloc(kl->nsbuckets, sizeof(*kl->sbuckets));
	return kl;
}

void keylog_free(struct keylog *kl)
{
	if (!kl)
		return;
	for (size_t i = 0; i < kl->nbuckets; i++) {
		struct keylog_entry *e = kl->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	for (size_t i = 0; i < kl->nsbuckets; i++) {
		struct session_entry *e = kl->sbuckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	for (size_t i = 0; i < kl->nsources; i++) {
		free(kl->sources[i].path);
		free(kl->sources[i].resolved);
		if (kl->sources[i].fd >= 0)
			close(kl->sources[i].fd);
	}
	free(kl->sources);
	free(kl->buckets);
	free(kl->sbuckets);
	free(kl);
}

static void grow_buckets(struct keylog *kl)
{
	size_t n = kl->nbuckets * 2;
	struct keylog_entry **b = pa_xcalloc(n, sizeof(*b));
	for (size_t i = 0; i < kl->nbuckets; i++) {
		struct keylog_entry *e = kl->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			size_t h = hash_bytes(e->s.client_random, KEYLOG_RANDOM_LEN) & (n - 1);
			e->next = b[h];
			b[h] = e;
		}
	}
	free(kl->buckets);
	kl->buckets = b;
	kl->nbuckets = n;
}

static struct keylog_entry *lookup(const struct keylog *kl, const uint8_t *random)
{
	size_t h = hash_bytes(random, KEYLOG_RANDOM_LEN) & (kl->nbuckets - 1);
	for (struct keylog_entry *e = kl->buckets[h]; e; e = e->next)
		if (memcmp(e->s.client_random, random, KEYLOG_RANDOM_LEN) == 0)
			return e;
	return NULL;
}

const struct keylog_secrets *keylog_find(const struct keylog *kl,
					 const uint8_t client_random[KEYLOG_RANDOM_LEN])
{
	if (!kl)
		return NULL;
	struct keylog_entry *e = lookup(kl, client_random);
	return e ? &e->s : NULL;
}

static void store(struct keylog *kl, const uint8_t *random, enum keylog_label label,
		  const uint8_t *secret, size_t len)
{
	struct keylog_entry *e = lookup(kl, random);
	if (!e) {
		if (kl->stats.randoms >= kl->nbuckets)
			grow_buckets(kl);
		e = pa_xcalloc(1, sizeof(*e));
		memcpy(e->s.client_random, random, KEYLOG_RANDOM_LEN);
		size_t h = hash_bytes(random, KEYLOG_RANDOM_LEN) & (kl->nbuckets - 1);
		e->next = kl->buckets[h];
		kl->buckets[h] = e;
		kl->stats.randoms++;
	}
	if (e->s.len[label] == len && memcmp(e->s.secret[label], secret, len) == 0)
		return; /* the same line again (re-read file, DSB repeated): no news */
	memcpy(e->s.secret[label], secret, len);
	e->s.len[label] = (uint8_t)len;
	kl->generation++;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Hex text of exactly 2*n digits into out; false on any other character. */
static bool parse_hex(const char *s, size_t slen, uint8_t *out, size_t n)
{
	if (slen != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static void bad_line(struct keylog *kl, FILE *diag, const char *name, uint64_t line_no,
		     const char *why, const char *line, size_t len)
{
	kl->stats.lines_bad++;
	if (!diag)
		return;
	/* A key log can come inside the capture (a pcapng Decryption Secrets
	 * Block): its bytes are the traffic's, escaped for the terminal. */
	char text[101], safe[420];
	size_t n = len > 100 ? 100 : len;
	memcpy(text, line, n);
	text[n] = 0;
	fprintf(diag, "%s:%llu: %s: \"%s\"\n", name, (unsigned long long)line_no, why,
		pa_term_safe(text, safe, sizeof safe));
}

/* One line without its newline. true when a secret was stored. */
static bool parse_line(struct keylog *kl, const char *name, uint64_t line_no, const char *line,
		       size_t len, FILE *diag)
{
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] == '#') {
		kl->stats.lines_ignored++;
		return false;
	}
	/* Three fields separated by blanks. */
	const char *field[3];
	size_t flen[3], nf = 0;
	while (i < len && nf < 3) {
		field[nf] = line + i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		flen[nf] = (size_t)(line + i - field[nf]);
		nf++;
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
	}
	if (nf != 3 || i != len) {
		bad_line(kl, diag, name, line_no, "expected LABEL CLIENT_RANDOM SECRET", line, len);
		return false;
	}
	int label = -1;
	for (size_t k = 0; k < sizeof(label_names) / sizeof(label_names[0]); k++)
		if (strlen(label_names[k].name) == flen[0] &&
		    memcmp(label_names[k].name, field[0], flen[0]) == 0)
			label = (int)label_names[k].label;
	if (label < 0) {
		/* "RSA" pre-master lines, future labels: not an error, not ours. */
		bool word = true;
		for (size_t k = 0; k < flen[0]; k++)
			if (!isupper((unsigned char)field[0][k]) && !isdigit((unsigned char)field[0][k]) &&
			    field[0][k] != '_')
				word = false;
		if (!word) {
			bad_line(kl, diag, name, line_no, "unknown label", line, len);
			return false;
		}
		kl->stats.lines_ignored++;
		return false;
	}
	uint8_t random[KEYLOG_RANDOM_LEN], secret[KEYLOG_SECRET_MAX];
	if (!parse_hex(field[1], flen[1], random, KEYLOG_RANDOM_LEN)) {
		bad_line(kl, diag, name, line_no, "client random is not 64 hex digits", line, len);
		return false;
	}
	size_t slen = flen[2] / 2;
	bool len_ok = label == KEYLOG_MASTER_SECRET ? slen == 48 : (slen == 32 || slen == 48);
	if (!len_ok || !parse_hex(field[2], flen[2], secret, slen)) {
		bad_line(kl, diag, name, line_no,
			 label == KEYLOG_MASTER_SECRET ? "master secret is not 96 hex digits"
						       : "secret is not 64 or 96 hex digits",
			 line, len);
		return false;
	}
	store(kl, random, (enum keylog_label)label, secret, slen);
	kl->stats.lines_good++;
	return true;
}

/* Parses the complete lines of text; returns the bytes consumed (up to and
 * including the last newline, or everything when `take_last`). */
static size_t parse_text(struct keylog *kl, const char *name, uint64_t *line_no, const char *text,
			 size_t len, bool take_last, FILE *diag, size_t *good)
{
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		if (!nl && !take_last)
			break;
		size_t end = nl ? (size_t)(nl - text) : len;
		(*line_no)++;
		if (end - pos > KEYLOG_LINE_MAX)
			bad_line(kl, diag, name, *line_no, "line too long", text + pos, end - pos);
		else if (parse_line(kl, name, *line_no, text + pos, end - pos, diag))
			(*good)++;
		pos = nl ? end + 1 : len;
	}
	return pos;
}

size_t keylog_add_text(struct keylog *kl, const char *name, const char *text, size_t len,
		       FILE *diag)
{
	uint64_t line_no = 0;
	size_t good = 0;
	parse_text(kl, name, &line_no, text, len, true, diag, &good);
	return good;
}

/* Reads the source from its offset; only complete lines are consumed, so a
 * line being written right now is read whole next time. */
/* A growing log's stream: through the kept descriptor, replaced by a new
 * one when the path now names another file (the log was rewritten under the
 * same name) and the process may still open it. */
static FILE *open_growing(struct keylog_source *src, struct pa_error *err)
{
	const char *path = src->resolved ? src->resolved : src->path;
	struct stat now, held;
	bool replaced = src->fd >= 0 && stat(path, &now) == 0 && fstat(src->fd, &held) == 0 &&
			(now.st_ino != held.st_ino || now.st_dev != held.st_dev);
	if (src->fd < 0 || replaced) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && src->fd < 0) {
			if (err)
				pa_error_set(err, "%s: %s", src->path, strerror(errno));
			return NULL;
		}
		if (fd >= 0) {
			if (src->fd >= 0)
				close(src->fd);
			src->fd = fd;
			src->offset = 0;
			src->line_no = 0;
		}
	}
	int dup_fd = dup(src->fd);
	FILE *f = dup_fd >= 0 ? fdopen(dup_fd, "rb") : NULL;
	if (!f) {
		if (dup_fd >= 0)
			close(dup_fd);
		if (err)
			pa_error_set(err, "%s: %s", src->path, strerror(errno));
	}
	return f;
}

static bool read_source(struct keylog *kl, struct keylog_source *src, FILE *diag, size_t *good,
			struct pa_error *err)
{
	FILE *f = kl->growing ? open_growing(src, err) : fopen(src->path, "rb");
	if (!f) {
		if (err && !kl->growing)
			pa_error_set(err, "%s: %s", src->path, strerror(errno));
		return false;
	}
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && st.st_size < src->offset) {
		src->offset = 0; /* truncated or replaced: start over */
		src->line_no = 0;
	}
	if (fseeko(f, src->offset, SEEK_SET) != 0) {
		fclose(f);
		return true;
	}
	char buf[16384];
	size_t have = 0, n;
	while ((n = fread(buf + have, 1, sizeof(buf) - have, f)) > 0) {
		have += n;
		size_t used = parse_text(kl, src->path, &src->line_no, buf, have, false, diag, good);
		if (used == 0 && have == sizeof(buf)) {
			/* No newline in a whole buffer: a broken line; skip it. */
			src->line_no++;
			bad_line(kl, diag, src->path, src->line_no, "line too long", buf, have);
			char *nl = NULL;
			int c;
			used = have;
			while ((c = fgetc(f)) != EOF && c != '\n')
				used++;
			if (c == '\n')
				used++;
			(void)nl;
			src->offset += (off_t)used;
			have = 0;
			continue;
		}
		src->offset += (off_t)used;
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	fclose(f);
	return true;
}

bool keylog_load_file(struct keylog *kl, const char *path, FILE *diag, struct pa_error *err)
{
	for (size_t i = 0; i < kl->nsources; i++)
		if (strcmp(kl->sources[i].path, path) == 0) {
			size_t good = 0;
			return read_source(kl, &kl->sources[i], diag, &good, err);
		}
	struct keylog_source src = {.path = pa_xstrdup(path), .fd = -1};
	if (kl->growing) {
		char abs[PATH_MAX], cwd[PATH_MAX];
		if (realpath(path, abs))
			src.resolved = pa_xstrdup(abs);
		else if (path[0] != '/' && getcwd(cwd, sizeof cwd) &&
			 snprintf(abs, sizeof abs, "%s/%s", cwd, path) < (int)sizeof abs)
			src.resolved = pa_xstrdup(abs); /* not there yet */
		else
			src.resolved = pa_xstrdup(path);
	}
	size_t good = 0;
	/* Live: apps create their key log when they first connect, which may
	 * be after the capture starts; keylog_reload() keeps looking for it. */
	bool later = kl->growing && access(path, F_OK) != 0 && errno == ENOENT;
	if (later && diag)
		fprintf(diag, "privaudit: %s: does not exist yet; read once it appears\n", path);
	if (!later && !read_source(kl, &src, diag, &good, err)) {
		free(src.path);
		free(src.resolved);
		return false;
	}
	kl->sources = pa_xrealloc(kl->sources, (kl->nsources + 1) * sizeof(*kl->sources));
	kl->sources[kl->nsources++] = src;
	return true;
}

bool keylog_hash_source(const struct keylog *kl, const char *path, struct pa_file_hash *h)
{
	for (size_t i = 0; i < kl->nsources; i++) {
		const struct keylog_source *src = &kl->sources[i];
		if (strcmp(src->path, path) != 0 || src->fd < 0)
			continue;
		memset(h, 0, sizeof *h);
		int fd = dup(src->fd);
		if (fd < 0 || lseek(fd, 0, SEEK_SET) != 0) {
			pa_error_set(&h->error, "%s: %s", path, strerror(errno));
		} else {
			h->ok = pa_sha256_fd(fd, path, h->sha256, &h->size, &h->error);
		}
		if (fd >= 0)
			close(fd);
		return true;
	}
	return false;
}

bool keylog_reachable(const struct keylog *kl, const char **unreachable)
{
	for (size_t i = 0; i < kl->nsources; i++) {
		const struct keylog_source *src = &kl->sources[i];
		if (src->fd >= 0)
			continue;
		/* Not there yet: the process must be able to open it once it is. */
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%s", src->resolved ? src->resolved : src->path);
		char *slash = strrchr(dir, '/');
		if (slash)
			*(slash == dir ? slash + 1 : slash) = 0;
		else
			snprintf(dir, sizeof dir, ".");
		if (access(dir, X_OK) != 0) {
			*unreachable = src->path;
			return false;
		}
	}
	return true;
}

size_t keylog_reload(struct keylog *kl, FILE *diag)
{
	size_t good = 0;
	for (size_t i = 0; i < kl->nsources; i++) {
		/* A stat per file is all an unchanged key log costs. */
		const struct keylog_source *src = &kl->sources[i];
		struct stat st;
		if (stat(src->resolved ? src->resolved : src->path, &st) == 0 && st.st_size == src->offset)
			continue;
		read_source(kl, &kl->sources[i], diag, &good, NULL);
	}
	return good;
}

static void session_key(const uint8_t *id, size_t id_len, uint8_t key[32])
{
	unsigned int n = 32;
	EVP_Digest(id, id_len, key, &n, EVP_sha256(), NULL);
}

void keylog_remember_session(struct keylog *kl, const uint8_t *id, size_t id_len,
			     const uint8_t master[48])
{
	if (!kl || id_len == 0)
		return;
	uint8_t key[32];
	session_key(id, id_len, key);
	size_t h = hash_bytes(key, 32) & (kl->nsbuckets - 1);
	for (struct session_entry *e = kl->sbuckets[h]; e; e = e->next)
		if (memcmp(e->key, key, 32) == 0) {
			memcpy(e->master, master, 48);
			return;
		}
	if (kl->stats.sessions >= kl->nsbuckets) {
		size_t n = kl->nsbuckets * 2;
		struct session_entry **b = pa_xcalloc(n, sizeof(*b));
		for (size_t i = 0; i < kl->nsbuckets; i++) {
			struct session_entry *e = kl->sbuckets[i], *next;
			for (; e; e = next) {
				next = e->next;
				size_t hh = hash_bytes(e->key, 32) & (n - 1);
				e->next = b[hh];
				b[hh] = e;
			}
		}
		free(kl->sbuckets);
		kl->sbuckets = b;
		kl->nsbuckets = n;
		h = hash_bytes(key, 32) & (n - 1);
	}
	struct session_entry *e = pa_xcalloc(1, sizeof(*e));
	memcpy(e->key, key, 32);
	memcpy(e->master, master, 48);
	e->next = kl->sbuckets[h];
	kl->sbuckets[h] = e;
	kl->stats.sessions++;
	kl->generation++;
}

bool keylog_find_session(const struct keylog *kl, const uint8_t *id, size_t id_len,
			 uint8_t master[48])
{
	if (!kl || id_len == 0)
		return false;
	uint8_t key[32];
	session_key(id, id_len, key);
	size_t h = hash_bytes(key, 32) & (kl->nsbuckets - 1);
	for (struct session_entry *e = kl->sbuckets[h]; e; e = e->next)
		if (memcmp(e->key, key, 32) == 0) {
			memcpy(master, e->master, 48);
			return true;
		}
	return false;
}

void keylog_set_growing(struct keylog *kl, bool growing)
{
	kl->growing = growing;
}

bool keylog_growing(const struct keylog *kl)
{
	return kl && kl->growing;
}

const struct keylog_stats *keylog_stats(const struct keylog *kl)
{
	return &kl->stats;
}

uint64_t keylog_generation(const struct keylog *kl)
{
	return kl ? kl->generation : 0;
}
