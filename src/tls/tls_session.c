/*
 * tls_session.c — record layer and handshake state of one TLS connection
 * (tls_session.h): framing records out of each direction's byte stream,
 * following the handshake far enough to know the suite, the randoms and
 * when each direction changes keys, and decrypting with tls_keys.
 */
#include "tls/tls_session.h"

#include <stdlib.h>
#include <string.h>

#include "tls/tls_handshake.h"
#include "tls/tls_keys.h"

enum {
	CT_CHANGE_CIPHER_SPEC = 20,
	CT_ALERT = 21,
	CT_HANDSHAKE = 22,
	CT_APPLICATION_DATA = 23,
	CT_HEARTBEAT = 24,
};

#define RECORD_BUF (TLS_RECORD_HEADER + TLS_MAX_CIPHERTEXT)
#define HANDSHAKE_MAX 32768  /* longest handshake message we keep (hellos, tickets) */
#define PENDING_MAX 65536    /* records held while waiting for a key */
#define FAIL_GIVE_UP 16      /* consecutive failures with nothing decrypted: stop trying */

enum key_state {
	KEYS_NOT_NEEDED,  /* nothing protected seen yet */
	KEYS_READY,
	KEYS_WAITING,     /* protected records queued until the key log has the secret */
	KEYS_MISSING,     /* gave up waiting */
	KEYS_UNSUPPORTED, /* suite or version we do not decrypt */
};

struct tls_dir {
	uint8_t *rec;         /* a record spanning segments (allocated on first need) */
	size_t rec_have;
	uint8_t *hs;          /* handshake message being assembled */
	size_t hs_have;
	uint8_t hs_hdr[4];
	size_t hs_hdr_have;
	size_t hs_need;       /* body length of the current message */
	bool hs_skipping;     /* message too long to keep: skipped */
	bool protected;       /* records of this direction are encrypted now */
	bool app_keys;        /* TLS 1.3: application secrets in use */
	bool switch_to_app;   /* TLS 1.3: Finished seen, switch after this record */
	bool key_update;      /* TLS 1.3: KeyUpdate seen, update after this record */
	bool dead;            /* framing lost (gap, garbage): nothing more is read */
	uint32_t fail_run;
	struct tls_dir_keys keys;
};

struct tls_session {
	struct keylog *kl;
	struct tls_dir dir[2]; /* [0] client, [1] server */
	struct tls_hello client_hello;
	struct tls_hello server_hello;
	bool seen_client_hello, seen_server_hello;
	bool not_tls;
	bool tls13, resumed;
	const struct tls_suite *suite;
	enum key_state key_state;
	uint64_t key_generation;  /* keylog generation at the last failed look-up */
	uint8_t master[48];
	bool have_master;
	uint8_t nst_ticket[TLS_TICKET_MAX];
	size_t nst_ticket_len;
	uint8_t *pending;         /* queued records: [dir][packet 8][ts 8][len 2][record] */
	size_t pending_len;
	uint64_t pending_records;
	struct tls_info info;
};

/* Decrypted bytes are handed on at once, so one buffer per thread serves all. */
static _Thread_local uint8_t plaintext[TLS_MAX_CIPHERTEXT];

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
	for (int i = 0; i < 2; i++) {
		free(s->dir[i].rec);
		free(s->dir[i].hs);
		tls_dir_keys_clear(&s->dir[i].keys);
	}
	free(s->pending);
	free(s);
}

bool tls_looks_like_client_hello(const uint8_t *d, size_t len)
{
	return len >= 6 && d[0] == CT_HANDSHAKE && d[1] == 3 && d[2] <= 4 &&
	       (size_t)(d[3] << 8 | d[4]) > 0 && d[5] == TLS_HS_CLIENT_HELLO;
}

/* ---- keys ---------------------------------------------------------------- */

static void remember_master(struct tls_session *s)
{
	if (!s->have_master || !s->kl)
		return;
	if (s->server_hello.session_id_len)
		keylog_remember_session(s->kl, s->server_hello.session_id,
					s->server_hello.session_id_len, s->master);
	if (s->nst_ticket_len)
		keylog_remember_session(s->kl, s->nst_ticket, s->nst_ticket_len, s->master);
}

static bool find_tls12_master(struct tls_session *s)
{
	const struct keylog_secrets *sec = keylog_find(s->kl, s->client_hello.random);
	if (sec && sec->len[KEYLOG_MASTER_SECRET] == 48) {
		memcpy(s->master, sec->secret[KEYLOG_MASTER_SECRET], 48);
		return true;
	}
	if (!s->resumed)
		return false;
	if (keylog_find_session(s->kl, s->client_hello.session_id, s->client_hello.session_id_len,
				s->master))
		return true;
	return s->client_hello.ticket_len &&
	       keylog_find_session(s->kl, s->client_hello.ticket, s->client_hello.ticket_len,
				   s->master);
}

/* Looks the connection's secrets up; true when decryption can start. */
static bool try_keys(struct tls_session *s)
{
	if (!s->kl)
		return false;
	if (s->tls13) {
		const struct keylog_secrets *sec = keylog_find(s->kl, s->client_hello.random);
		if (!sec || !sec->len[KEYLOG_CLIENT_HS_SECRET] || !sec->len[KEYLOG_SERVER_HS_SECRET])
			return false;
		/* The application secrets may be written a moment later (live). */
		if (!sec->len[KEYLOG_CLIENT_AP_SECRET] || !sec->len[KEYLOG_SERVER_AP_SECRET])
			return false;
		bool ok = tls13_set_secret(s->suite, sec->secret[KEYLOG_CLIENT_HS_SECRET],
					   sec->len[KEYLOG_CLIENT_HS_SECRET], &s->dir[0].keys) &&
			  tls13_set_secret(s->suite, sec->secret[KEYLOG_SERVER_HS_SECRET],
					   sec->len[KEYLOG_SERVER_HS_SECRET], &s->dir[1].keys);
		return ok;
	}
	if (!find_tls12_master(s))
		return false;
	s->have_master = true;
	if (!tls12_derive_keys(s->suite, s->master, s->client_hello.random,
			       s->server_hello.random,
			       s->client_hello.encrypt_then_mac && s->server_hello.encrypt_then_mac &&
				       s->suite->kind == TLS_CIPHER_CBC,
			       &s->dir[0].keys, &s->dir[1].keys))
		return false;
	remember_master(s);
	return true;
}

/* TLS 1.3: the application secret of one direction, after its Finished. */
static void switch_to_app_keys(struct tls_session *s, int d)
{
	const struct keylog_secrets *sec = keylog_find(s->kl, s->client_hello.random);
	enum keylog_label label = d == 0 ? KEYLOG_CLIENT_AP_SECRET : KEYLOG_SERVER_AP_SECRET;
	s->dir[d].app_keys = true;
	if (!sec || !tls13_set_secret(s->suite, sec->secret[label], sec->len[label], &s->dir[d].keys))
		s->dir[d].keys.ready = false;
}

/* ---- handshake messages ------------------------------------------------------ */

static void on_server_hello(struct tls_session *s)
{
	struct tls_hello *sh = &s->server_hello;
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
	s->resumed = !s->tls13 && sh->session_id_len &&
		     sh->session_id_len == s->client_hello.session_id_len &&
		     memcmp(sh->session_id, s->client_hello.session_id, sh->session_id_len) == 0;
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
		    tls_parse_client_hello(body, len, &s->client_hello))
			s->seen_client_hello = true;
		break;
	case TLS_HS_SERVER_HELLO:
		if (d == 1 && !was_protected && s->seen_client_hello &&
		    tls_parse_server_hello(body, len, &s->server_hello))
			on_server_hello(s);
		break;
	case TLS_HS_ENCRYPTED_EXTENSIONS:
		if (d == 1 && s->tls13)
			tls_parse_encrypted_extensions(body, len, s->info.alpn);
		break;
	case TLS_HS_NEW_SESSION_TICKET:
		if (d == 1 && !s->tls13 && tls_parse_new_session_ticket(body, len, &ticket, &ticket_len) &&
		    ticket_len <= TLS_TICKET_MAX) {
			memcpy(s->nst_ticket, ticket, ticket_len);
			s->nst_ticket_len = ticket_len;
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
			dir->hs_need = (size_t)dir->hs_hdr[1] << 16 | dir->hs_hdr[2] << 8 | dir->hs_hdr[3];
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
			if (!dir->hs_skipping && !dir->hs)
				dir->hs = pa_xmalloc(HANDSHAKE_MAX);
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
	if (!dir->keys.ready ||
	    (dir->fail_run >= FAIL_GIVE_UP && s->info.records_decrypted == 0)) {
		s->info.records_failed++;
		return;
	}
	if (!tls_record_decrypt(&dir->keys, &type, rec, rec + TLS_RECORD_HEADER, len, plaintext,
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
		if (tls13_key_update(&dir->keys))
			s->info.key_updates++;
	}
	/* Both sides encrypting with their final keys: the hello buffers are done. */
	if (s->dir[0].protected && s->dir[1].protected && (!s->tls13 || (s->dir[0].app_keys &&
									s->dir[1].app_keys))) {
		for (int i = 0; i < 2; i++)
			if (s->dir[i].hs && s->dir[i].hs_hdr_have == 0) {
				free(s->dir[i].hs);
				s->dir[i].hs = NULL;
			}
	}
}

static void queue_record(struct tls_session *s, int d, const uint8_t *rec, size_t len,
			 uint64_t packet, int64_t ts_us)
{
	size_t need = 1 + 8 + 8 + 2 + TLS_RECORD_HEADER + len;
	if (s->pending_len + need > PENDING_MAX) {
		/* Waited long enough: this connection stays undecrypted. */
		s->key_state = KEYS_MISSING;
		s->info.records_undecrypted += s->pending_records + 1;
		free(s->pending);
		s->pending = NULL;
		s->pending_len = 0;
		s->pending_records = 0;
		return;
	}
	if (!s->pending)
		s->pending = pa_xmalloc(PENDING_MAX);
	uint8_t *p = s->pending + s->pending_len;
	p[0] = (uint8_t)d;
	memcpy(p + 1, &packet, 8);
	memcpy(p + 9, &ts_us, 8);
	p[17] = (uint8_t)(len >> 8);
	p[18] = (uint8_t)len;
	memcpy(p + 19, rec, TLS_RECORD_HEADER + len);
	s->pending_len += need;
	s->pending_records++;
}

static void replay_pending(struct tls_session *s, tls_plaintext_fn cb, void *ctx)
{
	size_t pos = 0;
	while (pos + 19 <= s->pending_len) {
		const uint8_t *p = s->pending + pos;
		uint64_t packet;
		int64_t ts;
		memcpy(&packet, p + 1, 8);
		memcpy(&ts, p + 9, 8);
		size_t len = (size_t)p[17] << 8 | p[18];
		decrypt_record(s, p[0], p + 19, len, packet, ts, cb, ctx);
		pos += 19 + TLS_RECORD_HEADER + len;
	}
	free(s->pending);
	s->pending = NULL;
	s->pending_len = 0;
	s->pending_records = 0;
}

/* A protected record: decrypt now, queue it until the key is known, or count it. */
static void protected_record(struct tls_session *s, int d, const uint8_t *rec, size_t len,
			     uint64_t packet, int64_t ts_us, tls_plaintext_fn cb, void *ctx)
{
	if (s->key_state == KEYS_NOT_NEEDED ||
	    (s->key_state == KEYS_WAITING && keylog_generation(s->kl) != s->key_generation)) {
		if (try_keys(s)) {
			s->key_state = KEYS_READY;
			replay_pending(s, cb, ctx);
		} else if (keylog_growing(s->kl)) {
			s->key_state = KEYS_WAITING;
			s->key_generation = keylog_generation(s->kl);
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
	if (s->key_state != KEYS_WAITING || keylog_generation(s->kl) == s->key_generation)
		return;
	s->key_generation = keylog_generation(s->kl);
	if (try_keys(s)) {
		s->key_state = KEYS_READY;
		replay_pending(s, cb, ctx);
	}
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
			if (s->key_state == KEYS_READY)
				dir->keys.seq = 0;
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
	while (len > 0) {
		if (dir->rec_have == 0 && len >= TLS_RECORD_HEADER) {
			/* Fast path: whole records inside this segment are read in place. */
			if (!header_valid(data)) {
				dir->dead = true;
				if (from_client && !s->seen_client_hello)
					s->not_tls = true;
				return;
			}
			size_t rlen = (size_t)data[3] << 8 | data[4];
			if (len >= TLS_RECORD_HEADER + rlen) {
				on_record(s, d, data, rlen, packet, ts_us, cb, ctx);
				data += TLS_RECORD_HEADER + rlen;
				len -= TLS_RECORD_HEADER + rlen;
				continue;
			}
		}
		if (!dir->rec)
			dir->rec = pa_xmalloc(RECORD_BUF);
		size_t want = TLS_RECORD_HEADER;
		if (dir->rec_have >= TLS_RECORD_HEADER)
			want += (size_t)dir->rec[3] << 8 | dir->rec[4];
		size_t n = want - dir->rec_have;
		if (n > len)
			n = len;
		memcpy(dir->rec + dir->rec_have, data, n);
		dir->rec_have += n;
		data += n;
		len -= n;
		if (dir->rec_have == TLS_RECORD_HEADER && !header_valid(dir->rec)) {
			dir->dead = true;
			if (from_client && !s->seen_client_hello)
				s->not_tls = true;
			return;
		}
		if (dir->rec_have >= TLS_RECORD_HEADER &&
		    dir->rec_have == TLS_RECORD_HEADER + ((size_t)dir->rec[3] << 8 | dir->rec[4])) {
			on_record(s, d, dir->rec, dir->rec_have - TLS_RECORD_HEADER, packet, ts_us, cb,
				  ctx);
			dir->rec_have = 0;
		}
	}
}

void tls_session_gap(struct tls_session *s, bool from_client, size_t len)
{
	struct tls_dir *dir = &s->dir[from_client ? 0 : 1];
	if (len == 0 || dir->dead)
		return;
	dir->dead = true;
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
		info->records_undecrypted += s->pending_records; /* still queued */
}
