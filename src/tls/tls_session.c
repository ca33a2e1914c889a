/*
 * tls_session.c — record layer and handshake state of one TLS connection
 * (tls_session.h): framing records out of each direction's byte stream,
 * following the handshake far enough to know the suite, the randoms and
 * when each direction changes keys, and decrypting with tls_keys.
 *
 * Memory follows what is under way: a record spanning segments is gathered
 * in a buffer of its own size, freed when it is whole (and not gathered at
 * all when no key will ever open it: it is only counted); a handshake
 * message spanning records likewise; the hellos and the TLS 1.2 master
 * secret live until the keys are known and in use; the keys of a direction
 * exist once found. OpenSSL's keyed cipher context takes about 1 KiB a
 * direction, more than the rest of an idle connection: only the sessions
 * that decrypted most recently keep theirs (tls_session_set_hot_limit); an
 * older one is parked, its keys freed and what derives them again kept with
 * the sequence numbers until its next record. An idle connection keeps its
 * counters, state flags and that.
 */
#include "tls/tls_session.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tls/tls_handshake.h"
#include "tls/tls_keys.h"

enum {
	CT_CHANGE_CIPHER_SPEC = 20,
	CT_ALERT = 21,
	CT_HANDSHAKE = 22,
	CT_APPLICATION_DATA = 23,
	CT_HEARTBEAT = 24,
};

#define HANDSHAKE_MAX 32768  /* longest handshake message we keep (hellos, tickets) */
#define PENDING_MAX 65536    /* records held while waiting for a key */
#define FAIL_GIVE_UP 16      /* consecutive failures with nothing decrypted: stop trying */
#define HOT_MAX 64           /* sessions per thread that keep their cipher contexts */

enum key_state {
	KEYS_NOT_NEEDED,  /* nothing protected seen yet */
	KEYS_READY,
	KEYS_WAITING,     /* protected records queued until the key log has the secret */
	KEYS_MISSING,     /* gave up waiting */
	KEYS_UNSUPPORTED, /* suite or version we do not decrypt */
};

struct tls_dir {
	uint8_t rec_hdr[TLS_RECORD_HEADER]; /* header of a record spanning segments */
	uint8_t hs_hdr[4];
	uint8_t hs_hdr_have;
	bool hs_skipping;     /* message too long to keep: skipped */
	bool protected;       /* records of this direction are encrypted now */
	bool app_keys;        /* TLS 1.3: application secrets in use */
	bool switch_to_app;   /* TLS 1.3: Finished seen, switch after this record */
	bool key_update;      /* TLS 1.3: KeyUpdate seen, update after this record */
	bool dead;            /* framing lost (gap, garbage): nothing more is read */
	uint32_t rec_have;    /* bytes of that record seen, header included */
	uint32_t hs_have;
	uint32_t hs_need;     /* body length of the current message */
	uint32_t fail_run;
	uint8_t *rec;         /* its header and fragment; NULL while only counted */
	uint8_t *hs;          /* a handshake message spanning records, hs_need bytes */
	struct tls_dir_keys *keys; /* NULL until the secrets are found */
};

/* What a connection needs until its keys are found and in use (or will
 * never be): the hellos to look the secrets up, the TLS 1.2 master secret
 * and ticket to remember the session, records waiting for a key. */
struct tls_setup {
	struct tls_hello client_hello;
	struct tls_hello server_hello;
	uint8_t master[48];
	bool have_master;
	uint8_t nst_ticket[TLS_TICKET_MAX];
	size_t nst_ticket_len;
	uint64_t key_generation;  /* keylog generation at the last failed look-up */
	uint8_t *pending;         /* queued records: [dir][packet 8][ts 8][len 2][record] */
	size_t pending_len, pending_cap;
	uint64_t pending_records;
};

/* What derives a decrypting session's keys again after it was parked: the
 * TLS 1.2 master secret and randoms, or each direction's TLS 1.3 traffic
 * secret in use; and where each direction's sequence numbers stood. */
struct tls_rekey {
	uint8_t material[112];    /* TLS 1.2: master 48, client random 32, server random 32;
				     TLS 1.3: secret of direction d at 48 * d */
	uint8_t secret_len[2];
	bool etm;                 /* TLS 1.2: encrypt-then-MAC */
	bool had_keys[2], ready[2];
	uint64_t seq[2];
};

struct tls_session {
	struct keylog *kl;
	struct tls_dir dir[2]; /* [0] client, [1] server */
	struct tls_setup *setup; /* NULL before the ClientHello and once done */
	struct tls_rekey *rekey; /* once the keys are found */
	bool seen_client_hello, seen_server_hello;
	bool not_tls;
	bool tls13, resumed;
	bool parked;             /* keys freed, rekey holds what derives them */
	uint8_t hot_slot;        /* 1 + index in the thread's hot table, 0 = not in it */
	const struct tls_suite *suite;
	enum key_state key_state;
	struct tls_info info;
};

/* Decrypted bytes are handed on at once, so one buffer per thread serves all. */
static _Thread_local uint8_t plaintext[TLS_MAX_CIPHERTEXT];

/* The sessions of this thread that keep their keys, with when each last
 * decrypted. */
static _Thread_local struct {
	struct tls_session *session[HOT_MAX];
	uint64_t used[HOT_MAX];
	uint64_t clock;
	size_t limit; /* 0 = HOT_MAX */
} hot;

static void park(struct tls_session *s);

void tls_session_set_hot_limit(size_t n)
{
	hot.limit = n < 1 ? 1 : n > HOT_MAX ? HOT_MAX : n;
	for (size_t i = hot.limit; i < HOT_MAX; i++)
		if (hot.session[i])
			park(hot.session[i]);
}

/* s decrypts now: it goes to (or stays in) the hot table; the session
 * unused for longest leaves it and is parked when the table is full. */
static void hot_touch(struct tls_session *s)
{
	size_t limit = hot.limit ? hot.limit : HOT_MAX;
	if (s->hot_slot) {
		hot.used[s->hot_slot - 1] = ++hot.clock;
		return;
	}
	size_t at = 0;
	for (size_t i = 0; i < limit; i++) {
		if (!hot.session[i]) {
			at = i;
			break;
		}
		if (hot.used[i] < hot.used[at])
			at = i;
	}
	if (hot.session[at])
		park(hot.session[at]);
	hot.session[at] = s;
	hot.used[at] = ++hot.clock;
	s->hot_slot = (uint8_t)(at + 1);
}

static void hot_remove(struct tls_session *s)
{
	if (s->hot_slot && hot.session[s->hot_slot - 1] == s)
		hot.session[s->hot_slot - 1] = NULL;
	s->hot_slot = 0;
}

static void keys_free(struct tls_dir *dir)
{
	if (dir->keys) {
		tls_dir_keys_clear(dir->keys);
		free(dir->keys);
		dir->keys = NULL;
	}
}

struct tls_session *tls_session_new(struct keylog *kl)
{
	struct tls_session *s = pa_xcalloc(1, sizeof(*s));
	s->kl = kl;
	return s;
}

void tls_session_free(struct tls_session *s)
{
	if (!s)
		return;
	hot_remove(s);
	for (int i = 0; i < 2; i++) {
		free(s->dir[i].rec);
		free(s->dir[i].hs);
		keys_free(&s->dir[i]);
	}
	if (s->rekey) {
		OPENSSL_cleanse(s->rekey, sizeof *s->rekey);
		free(s->rekey);
	}
	if (s->setup)
		free(s->setup->pending);
	free(s->setup);
	free(s);
}

static struct tls_setup *setup_of(struct tls_session *s)
{
	if (!s->setup)
		s->setup = pa_xcalloc(1, sizeof *s->setup);
	return s->setup;
}

/* The hellos are done with once no key will come, or once the keys are
 * known and (TLS 1.3) both directions use their application keys: a TLS 1.2
 * ticket arrives before the server's ChangeCipherSpec, and nothing after
 * that point looks at the handshake again. */
static void setup_release_if_done(struct tls_session *s)
{
	if (!s->setup)
		return;
	bool done = s->not_tls || s->key_state == KEYS_MISSING || s->key_state == KEYS_UNSUPPORTED ||
		    (s->key_state == KEYS_READY && s->dir[0].protected && s->dir[1].protected &&
		     (!s->tls13 || (s->dir[0].app_keys && s->dir[1].app_keys)));
	if (done) {
		free(s->setup->pending); /* already NULL: records wait only for a key */
		free(s->setup);
		s->setup = NULL;
	}
}

static struct tls_dir_keys *keys_of(struct tls_dir *dir)
{
	if (!dir->keys)
		dir->keys = pa_xcalloc(1, sizeof *dir->keys);
	return dir->keys;
}

/* Frees the keys (and OpenSSL's contexts) of a session out of the hot
 * table; what derives them again stays. */
static void park(struct tls_session *s)
{
	struct tls_rekey *r = s->rekey;
	hot_remove(s);
	if (!r || s->parked)
		return;
	for (int d = 0; d < 2; d++) {
		struct tls_dir_keys *k = s->dir[d].keys;
		r->had_keys[d] = k != NULL;
		if (!k)
			continue;
		r->seq[d] = k->seq;
		r->ready[d] = k->ready;
		if (s->tls13) {
			memcpy(r->material + 48 * d, k->secret, k->secret_len);
			r->secret_len[d] = k->secret_len;
		}
		keys_free(&s->dir[d]);
	}
	s->parked = true;
}

/* A parked session's next record: its keys derived again, where they were. */
static void wake(struct tls_session *s)
{
	struct tls_rekey *r = s->rekey;
	bool ok[2] = {false, false};
	if (s->tls13) {
		for (int d = 0; d < 2; d++)
			if (r->had_keys[d])
				ok[d] = tls13_set_secret(s->suite, r->material + 48 * d, r->secret_len[d],
							 keys_of(&s->dir[d]));
	} else {
		ok[0] = ok[1] = tls12_derive_keys(s->suite, r->material, r->material + 48,
						  r->material + 80, r->etm, keys_of(&s->dir[0]),
						  keys_of(&s->dir[1]));
	}
	for (int d = 0; d < 2; d++) {
		struct tls_dir_keys *k = s->dir[d].keys;
		if (!r->had_keys[d]) {
			keys_free(&s->dir[d]);
			continue;
		}
		k->seq = r->seq[d];
		k->ready = ok[d] && r->ready[d];
	}
	s->parked = false;
}

/* The keys of a session about to use them: woken if parked, marked hot. */
static void keys_in_use(struct tls_session *s)
{
	if (!s->rekey)
		return;
	if (s->parked)
		wake(s);
	hot_touch(s);
}

/* Framing is lost in this direction: nothing more will be read from it. */
static void dir_stop(struct tls_dir *dir)
{
	dir->dead = true;
	free(dir->rec);
	free(dir->hs);
	dir->rec = dir->hs = NULL;
}

bool tls_looks_like_client_hello(const uint8_t *d, size_t len)
{
	return len >= 6 && d[0] == CT_HANDSHAKE && d[1] == 3 && d[2] <= 4 &&
	       (size_t)(d[3] << 8 | d[4]) > 0 && d[5] == TLS_HS_CLIENT_HELLO;
}

/* ---- keys ---------------------------------------------------------------- */

static void remember_master(struct tls_session *s)
{
	struct tls_setup *h = s->setup;
	if (!h || !h->have_master || !s->kl)
		return;
	if (h->server_hello.session_id_len)
		keylog_remember_session(s->kl, h->server_hello.session_id,
					h->server_hello.session_id_len, h->master);
	if (h->nst_ticket_len)
		keylog_remember_session(s->kl, h->nst_ticket, h->nst_ticket_len, h->master);
}

static bool find_tls12_master(struct tls_session *s)
{
	struct tls_setup *h = s->setup;
	const struct keylog_secrets *sec = keylog_find(s->kl, h->client_hello.random);
	if (sec && sec->len[KEYLOG_MASTER_SECRET] == 48) {
		memcpy(h->master, sec->secret[KEYLOG_MASTER_SECRET], 48);
		return true;
	}
	if (!s->resumed)
		return false;
	if (keylog_find_session(s->kl, h->client_hello.session_id, h->client_hello.session_id_len,
				h->master))
		return true;
	return h->client_hello.ticket_len &&
	       keylog_find_session(s->kl, h->client_hello.ticket, h->client_hello.ticket_len,
				   h->master);
}

/* Looks the connection's secrets up; true when decryption can start. */
static bool try_keys(struct tls_session *s)
{
	struct tls_setup *h = s->setup;
	if (!s->kl || !h)
		return false;
	if (s->tls13) {
		const struct keylog_secrets *sec = keylog_find(s->kl, h->client_hello.random);
		if (!sec || !sec->len[KEYLOG_CLIENT_HS_SECRET] || !sec->len[KEYLOG_SERVER_HS_SECRET])
			return false;
		/* The application secrets may be written a moment later (live). */
		if (!sec->len[KEYLOG_CLIENT_AP_SECRET] || !sec->len[KEYLOG_SERVER_AP_SECRET])
			return false;
		bool ok = tls13_set_secret(s->suite, sec->secret[KEYLOG_CLIENT_HS_SECRET],
					   sec->len[KEYLOG_CLIENT_HS_SECRET], keys_of(&s->dir[0])) &&
			  tls13_set_secret(s->suite, sec->secret[KEYLOG_SERVER_HS_SECRET],
					   sec->len[KEYLOG_SERVER_HS_SECRET], keys_of(&s->dir[1]));
		if (ok && !s->rekey)
			s->rekey = pa_xcalloc(1, sizeof *s->rekey); /* secrets copied when parked */
		return ok;
	}
	if (!find_tls12_master(s))
		return false;
	h->have_master = true;
	bool etm = h->client_hello.encrypt_then_mac && h->server_hello.encrypt_then_mac &&
		   s->suite->kind == TLS_CIPHER_CBC;
	if (!tls12_derive_keys(s->suite, h->master, h->client_hello.random,
			       h->server_hello.random, etm, keys_of(&s->dir[0]), keys_of(&s->dir[1])))
		return false;
	remember_master(s);
	if (!s->rekey)
		s->rekey = pa_xcalloc(1, sizeof *s->rekey);
	memcpy(s->rekey->material, h->master, 48);
	memcpy(s->rekey->material + 48, h->client_hello.random, 32);
	memcpy(s->rekey->material + 80, h->server_hello.random, 32);
	s->rekey->etm = etm;
	return true;
}

/* TLS 1.3: the application secret of one direction, after its Finished. */
static void switch_to_app_keys(struct tls_session *s, int d)
{
	const struct keylog_secrets *sec = s->setup ? keylog_find(s->kl, s->setup->client_hello.random) : NULL;
	enum keylog_label label = d == 0 ? KEYLOG_CLIENT_AP_SECRET : KEYLOG_SERVER_AP_SECRET;
	s->dir[d].app_keys = true;
	if (!sec || !tls13_set_secret(s->suite, sec->secret[label], sec->len[label], keys_of(&s->dir[d])))
		keys_of(&s->dir[d])->ready = false;
}

/* ---- handshake messages ------------------------------------------------------ */

static void on_server_hello(struct tls_session *s)
{
	struct tls_hello *sh = &s->setup->server_hello;
	if (sh->hello_retry)
		return; /* the client sends a second ClientHello; wait for the real one */
	s->seen_server_hello = true;
	s->info.version = sh->version;
	s->info.cipher_suite = sh->cipher_suite;
	if (sh->alpn[0])
		memcpy(s->info.alpn, sh->alpn, sizeof(s->info.alpn));
	s->tls13 = sh->version == 0x0304;
	s->suite = tls_suite_find(sh->cipher_suite);
	if (sh->version != 0x0303 && sh->version != 0x0304) {
		s->key_state = KEYS_UNSUPPORTED;
		s->info.reason = "unsupported-version";
	} else if (!s->suite || s->suite->tls13 != s->tls13) {
		s->key_state = KEYS_UNSUPPORTED;
		s->info.reason = "unsupported-suite";
	}
	const struct tls_hello *ch = &s->setup->client_hello;
	s->resumed = !s->tls13 && sh->session_id_len && sh->session_id_len == ch->session_id_len &&
		     memcmp(sh->session_id, ch->session_id, sh->session_id_len) == 0;
	s->info.resumed = s->resumed;
	if (s->tls13) {
		/* Everything after the ServerHello is protected, both ways. */
		s->dir[0].protected = true;
		s->dir[1].protected = true;
	}
}

static void on_handshake_message(struct tls_session *s, int d, uint8_t type, const uint8_t *body,
				 size_t len, bool was_protected)
{
	const uint8_t *ticket;
	size_t ticket_len;
	switch (type) {
	case TLS_HS_CLIENT_HELLO:
		if (d == 0 && !was_protected &&
		    tls_parse_client_hello(body, len, &setup_of(s)->client_hello))
			s->seen_client_hello = true;
		break;
	case TLS_HS_SERVER_HELLO:
		if (d == 1 && !was_protected && s->seen_client_hello && s->setup &&
		    tls_parse_server_hello(body, len, &s->setup->server_hello))
			on_server_hello(s);
		break;
	case TLS_HS_ENCRYPTED_EXTENSIONS:
		if (d == 1 && s->tls13)
			tls_parse_encrypted_extensions(body, len, s->info.alpn);
		break;
	case TLS_HS_NEW_SESSION_TICKET:
		if (d == 1 && !s->tls13 && s->setup &&
		    tls_parse_new_session_ticket(body, len, &ticket, &ticket_len) &&
		    ticket_len <= TLS_TICKET_MAX) {
			memcpy(s->setup->nst_ticket, ticket, ticket_len);
			s->setup->nst_ticket_len = ticket_len;
			remember_master(s);
		}
		break;
	case TLS_HS_FINISHED:
		if (s->tls13 && was_protected && !s->dir[d].app_keys)
			s->dir[d].switch_to_app = true;
		break;
	case TLS_HS_KEY_UPDATE:
		if (s->tls13 && was_protected && s->dir[d].app_keys)
			s->dir[d].key_update = true;
		break;
	default:
		break;
	}
}

/* Handshake bytes of one direction: messages may span records and records
 * may hold several messages. Only messages up to HANDSHAKE_MAX are kept. */
static void handshake_bytes(struct tls_session *s, int d, const uint8_t *p, size_t len,
			    bool was_protected)
{
	struct tls_dir *dir = &s->dir[d];
	while (len > 0) {
		if (dir->hs_hdr_have < 4) {
			size_t n = 4 - dir->hs_hdr_have;
			if (n > len)
				n = len;
			memcpy(dir->hs_hdr + dir->hs_hdr_have, p, n);
			dir->hs_hdr_have += n;
			p += n;
			len -= n;
			if (dir->hs_hdr_have < 4)
				return;
			dir->hs_need = (uint32_t)dir->hs_hdr[1] << 16 | dir->hs_hdr[2] << 8 | dir->hs_hdr[3];
			dir->hs_have = 0;
			dir->hs_skipping = dir->hs_need > HANDSHAKE_MAX;
			/* Whole message inside this record: read it in place. */
			if (!dir->hs_skipping && len >= dir->hs_need) {
				on_handshake_message(s, d, dir->hs_hdr[0], p, dir->hs_need, was_protected);
				p += dir->hs_need;
				len -= dir->hs_need;
				dir->hs_hdr_have = 0;
				continue;
			}
			if (!dir->hs_skipping)
				dir->hs = pa_xmalloc(dir->hs_need);
		}
		size_t n = dir->hs_need - dir->hs_have;
		if (n > len)
			n = len;
		if (!dir->hs_skipping)
			memcpy(dir->hs + dir->hs_have, p, n);
		dir->hs_have += n;
		p += n;
		len -= n;
		if (dir->hs_have == dir->hs_need) {
			if (!dir->hs_skipping)
				on_handshake_message(s, d, dir->hs_hdr[0], dir->hs, dir->hs_need,
						     was_protected);
			free(dir->hs);
			dir->hs = NULL;
			dir->hs_hdr_have = 0;
		}
	}
}

/* ---- records ----------------------------------------------------------------- */

static void decrypt_record(struct tls_session *s, int d, const uint8_t *rec, size_t len,
			   uint64_t packet, int64_t ts_us, tls_plaintext_fn cb, void *ctx)
{
	struct tls_dir *dir = &s->dir[d];
	uint8_t type = rec[0];
	size_t out_len = 0;
	keys_in_use(s);
	if (!dir->keys || !dir->keys->ready ||
	    (dir->fail_run >= FAIL_GIVE_UP && s->info.records_decrypted == 0)) {
		s->info.records_failed++;
		return;
	}
	if (!tls_record_decrypt(dir->keys, &type, rec, rec + TLS_RECORD_HEADER, len, plaintext,
				&out_len)) {
		s->info.records_failed++;
		dir->fail_run++;
		return;
	}
	dir->fail_run = 0;
	s->info.records_decrypted++;
	s->info.decrypted_bytes[d] += TLS_RECORD_HEADER + len;
	s->info.decrypted = true;
	switch (type) {
	case CT_APPLICATION_DATA:
		if (out_len && cb) {
			s->info.plaintext_bytes += out_len;
			cb(ctx, d == 0, plaintext, out_len, packet, ts_us);
		}
		break;
	case CT_HANDSHAKE:
		handshake_bytes(s, d, plaintext, out_len, true);
		break;
	default:
		break;
	}
	if (dir->switch_to_app) {
		dir->switch_to_app = false;
		switch_to_app_keys(s, d);
	}
	if (dir->key_update) {
		dir->key_update = false;
		if (tls13_key_update(dir->keys))
			s->info.key_updates++;
	}
}

static void queue_record(struct tls_session *s, int d, const uint8_t *rec, size_t len,
			 uint64_t packet, int64_t ts_us)
{
	struct tls_setup *q = setup_of(s);
	size_t need = 1 + 8 + 8 + 2 + TLS_RECORD_HEADER + len;
	if (q->pending_len + need > PENDING_MAX) {
		/* Waited long enough: this connection stays undecrypted. */
		s->key_state = KEYS_MISSING;
		s->info.records_undecrypted += q->pending_records + 1;
		free(q->pending);
		q->pending = NULL;
		q->pending_len = q->pending_cap = 0;
		q->pending_records = 0;
		return;
	}
	if (q->pending_len + need > q->pending_cap) {
		size_t cap = q->pending_cap ? q->pending_cap * 2 : 4096;
		while (cap < q->pending_len + need)
			cap *= 2;
		q->pending_cap = cap < PENDING_MAX ? cap : PENDING_MAX;
		q->pending = pa_xrealloc(q->pending, q->pending_cap);
	}
	uint8_t *p = q->pending + q->pending_len;
	p[0] = (uint8_t)d;
	memcpy(p + 1, &packet, 8);
	memcpy(p + 9, &ts_us, 8);
	p[17] = (uint8_t)(len >> 8);
	p[18] = (uint8_t)len;
	memcpy(p + 19, rec, TLS_RECORD_HEADER + len);
	q->pending_len += need;
	q->pending_records++;
}

static void replay_pending(struct tls_session *s, tls_plaintext_fn cb, void *ctx)
{
	struct tls_setup *q = s->setup;
	if (!q)
		return;
	size_t pos = 0;
	while (pos + 19 <= q->pending_len) {
		const uint8_t *p = q->pending + pos;
		uint64_t packet;
		int64_t ts;
		memcpy(&packet, p + 1, 8);
		memcpy(&ts, p + 9, 8);
		size_t len = (size_t)p[17] << 8 | p[18];
		decrypt_record(s, p[0], p + 19, len, packet, ts, cb, ctx);
		pos += 19 + TLS_RECORD_HEADER + len;
	}
	free(q->pending);
	q->pending = NULL;
	q->pending_len = q->pending_cap = 0;
	q->pending_records = 0;
}

/* A protected record: decrypt now, queue it until the key is known, or count it. */
static void protected_record(struct tls_session *s, int d, const uint8_t *rec, size_t len,
			     uint64_t packet, int64_t ts_us, tls_plaintext_fn cb, void *ctx)
{
	if (s->key_state == KEYS_NOT_NEEDED ||
	    (s->key_state == KEYS_WAITING && keylog_generation(s->kl) != setup_of(s)->key_generation)) {
		if (try_keys(s)) {
			s->key_state = KEYS_READY;
			replay_pending(s, cb, ctx);
		} else if (keylog_growing(s->kl)) {
			s->key_state = KEYS_WAITING;
			setup_of(s)->key_generation = keylog_generation(s->kl);
		} else {
			s->key_state = KEYS_MISSING; /* the key log is complete: no key will come */
		}
	}
	switch (s->key_state) {
	case KEYS_READY:
		decrypt_record(s, d, rec, len, packet, ts_us, cb, ctx);
		break;
	case KEYS_WAITING:
		queue_record(s, d, rec, len, packet, ts_us);
		break;
	default:
		s->info.records_undecrypted++;
		break;
	}
}

void tls_session_retry(struct tls_session *s, tls_plaintext_fn cb, void *ctx)
{
	if (s->key_state != KEYS_WAITING || keylog_generation(s->kl) == setup_of(s)->key_generation)
		return;
	s->setup->key_generation = keylog_generation(s->kl);
	if (try_keys(s)) {
		s->key_state = KEYS_READY;
		replay_pending(s, cb, ctx);
	}
	setup_release_if_done(s);
}

/* One whole record (header + fragment of len bytes). */
static void on_record(struct tls_session *s, int d, const uint8_t *rec, size_t len,
		      uint64_t packet, int64_t ts_us, tls_plaintext_fn cb, void *ctx)
{
	struct tls_dir *dir = &s->dir[d];
	uint8_t type = rec[0];
	if (type == CT_CHANGE_CIPHER_SPEC || (!dir->protected && type != CT_APPLICATION_DATA) ||
	    (s->tls13 && type != CT_APPLICATION_DATA))
		s->info.cleartext_bytes[d] += TLS_RECORD_HEADER + len;
	if (type == CT_CHANGE_CIPHER_SPEC) {
		/* TLS 1.2: this direction is protected from the next record on.
		 * TLS 1.3: a compatibility no-op. */
		if (!s->tls13 && s->seen_server_hello) {
			dir->protected = true;
			if (s->key_state == KEYS_READY) {
				keys_in_use(s);
				if (dir->keys)
					dir->keys->seq = 0;
			}
		}
		return;
	}
	if (!dir->protected) {
		if (type == CT_HANDSHAKE)
			handshake_bytes(s, d, rec + TLS_RECORD_HEADER, len, false);
		else if (type == CT_APPLICATION_DATA)
			s->info.records_undecrypted++; /* protected data before any handshake we saw */
		return;
	}
	if (s->tls13 && type != CT_APPLICATION_DATA)
		return; /* cleartext alert during the handshake */
	protected_record(s, d, rec, len, packet, ts_us, cb, ctx);
}

static bool header_valid(const uint8_t *h)
{
	size_t len = (size_t)h[3] << 8 | h[4];
	return h[0] >= CT_CHANGE_CIPHER_SPEC && h[0] <= CT_HEARTBEAT && h[1] == 3 && h[2] <= 4 &&
	       len > 0 && len <= TLS_MAX_CIPHERTEXT;
}

/*
 * Whether the fragment of a record whose header just came in will be read.
 * Not when no key will ever open the connection (a state it never leaves)
 * and the record is not handshake in clear: it is only counted, so it need
 * not be gathered. A direction that is protected stays so.
 */
static bool fragment_needed(const struct tls_session *s, const struct tls_dir *dir, uint8_t type)
{
	bool no_key_ever = s->key_state == KEYS_MISSING || s->key_state == KEYS_UNSUPPORTED;
	return !no_key_ever || (type == CT_HANDSHAKE && !dir->protected);
}

/* Bad framing: this direction is given up; before a ClientHello, the flow. */
static void framing_lost(struct tls_session *s, struct tls_dir *dir, bool from_client)
{
	dir_stop(dir);
	if (from_client && !s->seen_client_hello)
		s->not_tls = true;
}

/* Bytes of a record that spans segments; on_record once it is whole. */
static size_t spanning_record(struct tls_session *s, int d, const uint8_t *data, size_t len,
			      uint64_t packet, int64_t ts_us, tls_plaintext_fn cb, void *ctx)
{
	struct tls_dir *dir = &s->dir[d];
	size_t used = 0;
	if (dir->rec_have < TLS_RECORD_HEADER) {
		used = TLS_RECORD_HEADER - dir->rec_have;
		if (used > len)
			used = len;
		memcpy(dir->rec_hdr + dir->rec_have, data, used);
		dir->rec_have += (uint32_t)used;
		if (dir->rec_have < TLS_RECORD_HEADER)
			return used;
		if (!header_valid(dir->rec_hdr)) {
			framing_lost(s, dir, d == 0);
			return len;
		}
		if (fragment_needed(s, dir, dir->rec_hdr[0])) {
			size_t rlen = (size_t)dir->rec_hdr[3] << 8 | dir->rec_hdr[4];
			dir->rec = pa_xmalloc(TLS_RECORD_HEADER + rlen);
			memcpy(dir->rec, dir->rec_hdr, TLS_RECORD_HEADER);
		}
		data += used;
		len -= used;
	}
	size_t rlen = (size_t)dir->rec_hdr[3] << 8 | dir->rec_hdr[4];
	size_t n = TLS_RECORD_HEADER + rlen - dir->rec_have;
	if (n > len)
		n = len;
	if (dir->rec)
		memcpy(dir->rec + dir->rec_have, data, n);
	dir->rec_have += (uint32_t)n;
	if (dir->rec_have == TLS_RECORD_HEADER + rlen) {
		/* Without a fragment on_record reads the header alone. */
		uint8_t *rec = dir->rec;
		dir->rec = NULL;
		dir->rec_have = 0;
		on_record(s, d, rec ? rec : dir->rec_hdr, rlen, packet, ts_us, cb, ctx);
		free(rec);
	}
	return used + n;
}

void tls_session_data(struct tls_session *s, bool from_client, const uint8_t *data, size_t len,
		      uint64_t packet, int64_t ts_us, tls_plaintext_fn cb, void *ctx)
{
	int d = from_client ? 0 : 1;
	struct tls_dir *dir = &s->dir[d];
	if (s->not_tls || dir->dead || len == 0)
		return;
	if (from_client && !s->seen_client_hello && dir->rec_have == 0 &&
	    s->info.records_decrypted == 0 && !tls_looks_like_client_hello(data, len) &&
	    !(len < 6 && data[0] == CT_HANDSHAKE)) {
		s->not_tls = true;
		return;
	}
	while (len > 0 && !dir->dead) {
		if (dir->rec_have == 0 && len >= TLS_RECORD_HEADER) {
			/* Fast path: whole records inside this segment are read in place. */
			if (!header_valid(data)) {
				framing_lost(s, dir, from_client);
				break;
			}
			size_t rlen = (size_t)data[3] << 8 | data[4];
			if (len >= TLS_RECORD_HEADER + rlen) {
				on_record(s, d, data, rlen, packet, ts_us, cb, ctx);
				data += TLS_RECORD_HEADER + rlen;
				len -= TLS_RECORD_HEADER + rlen;
				continue;
			}
		}
		size_t used = spanning_record(s, d, data, len, packet, ts_us, cb, ctx);
		data += used;
		len -= used;
	}
	setup_release_if_done(s);
}

void tls_session_gap(struct tls_session *s, bool from_client, size_t len)
{
	struct tls_dir *dir = &s->dir[from_client ? 0 : 1];
	if (len == 0 || dir->dead)
		return;
	dir_stop(dir);
	s->info.gap = true;
}

void tls_session_info(const struct tls_session *s, struct tls_info *info)
{
	*info = s->info;
	info->cipher_name = s->seen_server_hello
				    ? tls_suite_name(s->info.cipher_suite, info->cipher_buf,
						     sizeof(info->cipher_buf))
				    : "";
	if (info->decrypted)
		info->reason = NULL;
	else if (s->not_tls)
		info->reason = "not-tls";
	else if (s->key_state == KEYS_UNSUPPORTED)
		info->reason = s->info.reason;
	else if (s->key_state == KEYS_WAITING || s->key_state == KEYS_MISSING)
		info->reason = "no-key";
	else if (s->info.records_failed)
		info->reason = "bad-key";
	else if (s->info.gap)
		info->reason = "gap";
	else
		info->reason = "handshake-incomplete";
	if (s->key_state == KEYS_WAITING)
		info->records_undecrypted += s->setup ? s->setup->pending_records : 0; /* still queued */
}

size_t tls_session_state_size(bool decrypted)
{
	return sizeof(struct tls_session) + (decrypted ? sizeof(struct tls_rekey) : 0);
}
