/*
 * quic_conn.c — one QUIC connection: packets, keys, frames (quic_conn.h).
 */
#include "quic/quic_conn.h"

#include <stdlib.h>
#include <string.h>

#include "quic/quic_cids.h"
#include "quic/quic_crypto.h"
#include "quic/quic_packet.h"
#include "quic/quic_streams.h"
#include "stream/tcp_stream.h"
#include "tls/keylog.h"
#include "tls/tls_handshake.h"

/* Packet number spaces (RFC 9000 12.3); 0-RTT and 1-RTT share the last. */
enum space { SP_INITIAL, SP_HANDSHAKE, SP_APP, SP_COUNT };
/* Keys by encryption level. */
enum level { LV_INITIAL, LV_0RTT, LV_HANDSHAKE, LV_1RTT, LV_COUNT };

#define CIDS_KEPT 8
#define HS_MESSAGE_MAX (64u * 1024) /* a ClientHello with post-quantum shares fits */
#define DATAGRAM_STACK 2048

/* The TLS handshake carried in one space's CRYPTO frames, one direction. */
struct crypto_stream {
	struct tcp_stream *ts;
	uint8_t *msg;        /* the handshake message under way */
	size_t have;
	bool done;           /* what we read from this stream has been read */
};

struct quic_side {
	struct quic_keys keys[LV_COUNT];
	/* 1-RTT key update: the keys of the other phase */
	struct quic_keys next, prev;
	unsigned phase;                 /* key phase of keys[LV_1RTT] */
	uint64_t phase_first_pn;        /* first packet number of the current phase */
	uint64_t largest_pn[SP_COUNT];
	bool pn_seen[SP_COUNT];
	/* Connection IDs this side is addressed by (its Source CIDs) */
	uint8_t cid[CIDS_KEPT][QUIC_CID_MAX];
	uint8_t cid_len[CIDS_KEPT];
	unsigned cids, cid_next;
	struct crypto_stream crypto[SP_COUNT];
	struct quic_streams *streams;
	uint64_t opened_bytes;
	size_t gso_len;                 /* packet size of this side's offload buffers */
};

struct quic_conn {
	struct keylog *keylog;
	struct quic_cids *cid_map;      /* where this connection's IDs are known, or NULL */
	void *cid_owner;
	struct quic_side side[2]; /* 0 client, 1 server */
	uint8_t orig_dcid[QUIC_CID_MAX];
	uint8_t orig_dcid_len;
	bool have_orig_dcid;
	uint32_t initial_version;       /* version of the Initial keys in use */
	uint32_t version;
	uint8_t client_random[32];
	bool have_random;
	uint16_t suite;
	char alpn[32];
	bool keylog_tried;              /* key log lookup made at keylog_gen */
	uint64_t keylog_gen;
	bool secret_seen;               /* the key log had secrets for this connection */
	uint64_t opened, failed, unopened, malformed, key_updates, protected_opened;
	bool unsupported_version;
};

struct quic_conn *quic_conn_new(struct keylog *kl)
{
	struct quic_conn *c = pa_xcalloc(1, sizeof *c);
	c->keylog = kl;
	for (int i = 0; i < 2; i++)
		c->side[i].streams = quic_streams_new();
	return c;
}

void quic_conn_register(struct quic_conn *c, struct quic_cids *map, void *owner)
{
	c->cid_map = map;
	c->cid_owner = owner;
	for (int i = 0; i < 2; i++)
		for (unsigned k = 0; k < c->side[i].cids; k++)
			quic_cids_put(map, c->side[i].cid[k], c->side[i].cid_len[k], owner, i);
}

void quic_conn_free(struct quic_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < 2; i++) {
		struct quic_side *s = &c->side[i];
		for (unsigned k = 0; c->cid_map && k < s->cids; k++)
			quic_cids_drop(c->cid_map, s->cid[k], s->cid_len[k], c->cid_owner);
		for (int l = 0; l < LV_COUNT; l++)
			quic_keys_clear(&s->keys[l]);
		quic_keys_clear(&s->next);
		quic_keys_clear(&s->prev);
		for (int sp = 0; sp < SP_COUNT; sp++) {
			tcp_stream_free(s->crypto[sp].ts);
			free(s->crypto[sp].msg);
		}
		quic_streams_free(s->streams);
	}
	free(c);
}

size_t quic_conn_state_size(void)
{
	return sizeof(struct quic_conn);
}

bool quic_looks_like_initial(const uint8_t *d, size_t len)
{
	if (len < 1200 || (d[0] & 0xc0) != 0xc0)
		return false;
	uint32_t v = (uint32_t)d[1] << 24 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 8 | d[4];
	return quic_version_supported(v) && quic_long_type_v1(v, (d[0] >> 4) & 3) == QUIC_PT_INITIAL;
}

/* ---- connection IDs ------------------------------------------------------- */

static void add_cid(struct quic_conn *c, struct quic_side *s, const uint8_t *cid, size_t len)
{
	for (unsigned i = 0; i < s->cids; i++)
		if (s->cid_len[i] == len && memcmp(s->cid[i], cid, len) == 0)
			return;
	if (c->cid_map) {
		if (s->cids == CIDS_KEPT) /* the oldest makes room */
			quic_cids_drop(c->cid_map, s->cid[s->cid_next], s->cid_len[s->cid_next],
				       c->cid_owner);
		quic_cids_put(c->cid_map, cid, len, c->cid_owner, s == &c->side[0] ? 0 : 1);
	}
	memcpy(s->cid[s->cid_next], cid, len);
	s->cid_len[s->cid_next] = (uint8_t)len;
	s->cid_next = (s->cid_next + 1) % CIDS_KEPT;
	if (s->cids < CIDS_KEPT)
		s->cids++;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* The length of the DCID a short header packet to side `to` carries: the
 * known CID it starts with, else the length of the latest one announced. */
static size_t short_dcid_len(const struct quic_side *to, const uint8_t *p, size_t len)
{
	for (unsigned i = 0; i < to->cids; i++)
		if (1 + (size_t)to->cid_len[i] <= len && memcmp(p + 1, to->cid[i], to->cid_len[i]) == 0)
			return to->cid_len[i];
	if (!to->cids)
		return 0;
	return to->cid_len[(to->cid_next + CIDS_KEPT - 1) % CIDS_KEPT];
}

/* ---- keys ----------------------------------------------------------------- */

static bool set_initial_keys(struct quic_conn *c, uint32_t version)
{
	uint8_t cs[32], ss[32];
	bool ok = c->have_orig_dcid &&
		  quic_initial_secrets(version, c->orig_dcid, c->orig_dcid_len, cs, ss) &&
		  quic_keys_set(&c->side[0].keys[LV_INITIAL], version, 0x1301, cs, 32) &&
		  quic_keys_set(&c->side[1].keys[LV_INITIAL], version, 0x1301, ss, 32);
	if (ok)
		c->initial_version = version;
	return ok;
}

static const uint8_t *secret_of(const struct keylog_secrets *ks, enum keylog_label l, size_t *len)
{
	*len = ks->len[l];
	return ks->len[l] ? ks->secret[l] : NULL;
}

/* Keys of a level from the key log, once the client random is known (and,
 * for the suite, the ServerHello; without it the suite is found by trying
 * which one opens the packet, see open_with). */
static void load_level(struct quic_conn *c, const struct keylog_secrets *ks, int side, int level,
		       uint32_t version)
{
	static const enum keylog_label labels[2][LV_COUNT] = {
		{0, KEYLOG_CLIENT_EARLY_SECRET, KEYLOG_CLIENT_HS_SECRET, KEYLOG_CLIENT_AP_SECRET},
		{0, 0, KEYLOG_SERVER_HS_SECRET, KEYLOG_SERVER_AP_SECRET},
	};
	struct quic_keys *k = &c->side[side].keys[level];
	if (k->ready || level == LV_INITIAL || (side == 1 && level == LV_0RTT))
		return;
	size_t len;
	const uint8_t *secret = secret_of(ks, labels[side][level], &len);
	if (!secret)
		return;
	c->secret_seen = true;
	/* 0-RTT uses the suite of the session it resumes, which this
	 * connection never names: the secret's hash length says SHA-384
	 * (AES-256-GCM) or SHA-256, taken as AES-128-GCM, the suite every
	 * QUIC stack offers first. The other levels wait for the ServerHello. */
	uint16_t suite = level == LV_0RTT ? (len == 48 ? 0x1302 : 0x1301) : c->suite;
	if (suite)
		quic_keys_set(k, version, suite, secret, len);
}

/* Looks the connection's secrets up, again whenever the key log grew. */
static void load_keys(struct quic_conn *c, uint32_t version)
{
	if (!c->have_random || !c->keylog)
		return;
	uint64_t gen = keylog_generation(c->keylog);
	bool all = true;
	for (int l = LV_0RTT; l < LV_COUNT; l++)
		all = all && c->side[0].keys[l].ready && (l == LV_0RTT || c->side[1].keys[l].ready);
	if (all || (c->keylog_tried && gen == c->keylog_gen))
		return;
	c->keylog_tried = true;
	c->keylog_gen = gen;
	const struct keylog_secrets *ks = keylog_find(c->keylog, c->client_random);
	if (!ks)
		return;
	for (int side = 0; side < 2; side++)
		for (int l = LV_0RTT; l < LV_COUNT; l++)
			load_level(c, ks, side, l, version);
}

/* ---- handshake messages in CRYPTO frames ----------------------------------- */

static void handshake_message(struct quic_conn *c, bool from_client, const uint8_t *m, size_t len)
{
	struct tls_hello hello;
	uint8_t type = m[0];
	if (from_client && type == TLS_HS_CLIENT_HELLO && !c->have_random) {
		memset(&hello, 0, sizeof hello);
		if (tls_parse_client_hello(m + 4, len - 4, &hello)) {
			memcpy(c->client_random, hello.random, 32);
			c->have_random = true;
		}
	} else if (!from_client && type == TLS_HS_SERVER_HELLO && !c->suite) {
		memset(&hello, 0, sizeof hello);
		if (tls_parse_server_hello(m + 4, len - 4, &hello) &&
		    (hello.cipher_suite >> 8) == 0x13) {
			c->suite = hello.cipher_suite;
			c->keylog_tried = false; /* the levels that waited for it */
		}
	} else if (!from_client && type == TLS_HS_ENCRYPTED_EXTENSIONS && !c->alpn[0]) {
		tls_parse_encrypted_extensions(m + 4, len - 4, c->alpn);
	}
}

struct crypto_delivery {
	struct quic_conn *c;
	bool from_client;
	struct crypto_stream *cs;
};

/* In-order CRYPTO bytes: cut into handshake messages (4-byte header). The
 * messages we read come first (ClientHello, ServerHello, then
 * EncryptedExtensions); past them the stream is no longer followed. */
static void on_crypto_bytes(void *ctx, const uint8_t *data, size_t len, uint64_t offset,
			    uint64_t packet, int64_t ts)
{
	struct crypto_delivery *d = ctx;
	struct crypto_stream *cs = d->cs;
	if (cs->done)
		return;
	if (!data) { /* a hole: message framing is lost */
		cs->done = true;
		return;
	}
	while (len && !cs->done) {
		size_t need = 4;
		if (cs->have >= 4) {
			need = 4 + ((size_t)cs->msg[1] << 16 | (size_t)cs->msg[2] << 8 | cs->msg[3]);
			if (need > HS_MESSAGE_MAX) {
				cs->done = true;
				break;
			}
		}
		if (!cs->msg)
			cs->msg = pa_xmalloc(HS_MESSAGE_MAX);
		size_t take = need - cs->have < len ? need - cs->have : len;
		memcpy(cs->msg + cs->have, data, take);
		cs->have += take;
		data += take;
		len -= take;
		if (cs->have == need && need > 4) {
			handshake_message(d->c, d->from_client, cs->msg, need);
			uint8_t type = cs->msg[0];
			cs->have = 0;
			/* Past the messages we read, this stream is done with. */
			if (type == TLS_HS_CLIENT_HELLO || type == TLS_HS_SERVER_HELLO ||
			    type == TLS_HS_ENCRYPTED_EXTENSIONS)
				cs->done = true;
		}
	}
	if (cs->done) {
		free(cs->msg);
		cs->msg = NULL;
	}
	(void)offset, (void)packet, (void)ts;
}

static void crypto_frame(struct quic_conn *c, bool from_client, enum space sp,
			 const struct quic_frame *f, uint64_t packet, int64_t ts)
{
	/* Only Initial and Handshake carry what we read. */
	if (sp == SP_APP)
		return;
	struct crypto_stream *cs = &c->side[from_client ? 0 : 1].crypto[sp];
	if (cs->done)
		return;
	if (!cs->ts) {
		cs->ts = tcp_stream_new(HS_MESSAGE_MAX);
		tcp_stream_syn(cs->ts, UINT32_MAX);
	}
	struct crypto_delivery d = {c, from_client, cs};
	if (f->offset < UINT32_MAX)
		tcp_stream_segment(cs->ts, (uint32_t)f->offset, f->data, f->len, packet, ts,
				   on_crypto_bytes, &d);
	if (cs->done) {
		tcp_stream_free(cs->ts);
		cs->ts = NULL;
	}
}

/* ---- frames ------------------------------------------------------------------ */

static void payload_frames(struct quic_conn *c, bool from_client, enum space sp,
			   const uint8_t *p, size_t len, uint64_t packet, int64_t ts,
			   const struct quic_sink *sink)
{
	struct quic_side *s = &c->side[from_client ? 0 : 1];
	size_t pos = 0;
	struct quic_frame f;
	int r;
	while ((r = quic_next_frame(p, len, &pos, &f)) == 1) {
		switch (f.type) {
		case QUIC_FRAME_CRYPTO:
			crypto_frame(c, from_client, sp, &f, packet, ts);
			break;
		case QUIC_FRAME_STREAM:
			if (sp == SP_APP)
				quic_streams_frame(s->streams, from_client, f.stream_id, f.offset, f.data,
						   f.len, f.fin, packet, ts, sink);
			break;
		case QUIC_FRAME_RESET_STREAM:
			if (sp == SP_APP)
				quic_streams_reset(s->streams, from_client, f.stream_id, sink);
			break;
		case QUIC_FRAME_NEW_CONNECTION_ID:
			add_cid(c, s, f.data, f.len);
			break;
		default:
			break;
		}
	}
	if (r < 0)
		c->malformed++;
}

/* ---- packets ---------------------------------------------------------------- */

static enum space space_of(enum quic_ptype t)
{
	return t == QUIC_PT_INITIAL ? SP_INITIAL : t == QUIC_PT_HANDSHAKE ? SP_HANDSHAKE : SP_APP;
}

/* Opens the payload with k (header protection already removed). */
static bool open_with(const struct quic_keys *k, uint64_t pn, const uint8_t *p, size_t hdr_len,
		      size_t end, uint8_t *out)
{
	return k->ready && quic_aead_open(k, pn, p, hdr_len, p + hdr_len, end - hdr_len, out);
}

/* The 1-RTT keys for a packet's key phase; a packet of the next phase that
 * opens makes it the current one (RFC 9001 section 6). */
static bool open_1rtt(struct quic_conn *c, struct quic_side *s, unsigned phase, uint64_t pn,
		      const uint8_t *p, size_t hdr_len, size_t end, uint8_t *out)
{
	struct quic_keys *cur = &s->keys[LV_1RTT];
	if (phase == s->phase)
		return open_with(cur, pn, p, hdr_len, end, out);
	if (s->prev.ready && pn < s->phase_first_pn &&
	    open_with(&s->prev, pn, p, hdr_len, end, out))
		return true;
	if (!s->next.ready && !quic_keys_update(cur, &s->next))
		return false;
	if (!open_with(&s->next, pn, p, hdr_len, end, out))
		return false;
	quic_keys_move(&s->prev, cur);
	quic_keys_move(cur, &s->next);
	s->phase = phase;
	s->phase_first_pn = pn;
	c->key_updates++;
	return true;
}

/*
 * Removes header protection and opens the packet h describes (its
 * length included). 1: opened, the plaintext frames in out; 0: the tag did
 * not verify, the header is as it was; -1: too short to be a packet.
 */
static int try_open(struct quic_conn *c, struct quic_side *s, uint8_t *p,
		    const struct quic_header *h, enum level lv, uint8_t *out, size_t *plain_len)
{
	struct quic_keys *k = &s->keys[lv];
	/* What header protection removal changes, to undo it when the
	 * packet does not open (another length may be tried). */
	uint8_t saved_first = p[0], saved_pn[4];
	size_t pn_room = h->length - h->pn_offset < 4 ? h->length - h->pn_offset : 4;
	memcpy(saved_pn, p + h->pn_offset, pn_room);
	uint64_t tpn;
	unsigned pn_len;
	if (!quic_unprotect_header(k, p, h, &tpn, &pn_len))
		return -1;
	enum space sp = space_of(h->type);
	uint64_t pn = quic_decode_pn(s->pn_seen[sp] ? s->largest_pn[sp] : 0, tpn, 8 * pn_len);
	size_t hdr_len = h->pn_offset + pn_len;
	if (h->length < hdr_len + QUIC_TAG_LEN) {
		p[0] = saved_first;
		memcpy(p + h->pn_offset, saved_pn, pn_room);
		return -1;
	}
	bool ok = lv == LV_1RTT ? open_1rtt(c, s, (p[0] >> 2) & 1, pn, p, hdr_len, h->length, out)
				: open_with(k, pn, p, hdr_len, h->length, out);
	if (!ok) {
		p[0] = saved_first;
		memcpy(p + h->pn_offset, saved_pn, pn_room);
		return 0;
	}
	if (!s->pn_seen[sp] || pn > s->largest_pn[sp])
		s->largest_pn[sp] = pn;
	s->pn_seen[sp] = true;
	*plain_len = h->length - hdr_len - QUIC_TAG_LEN;
	return 1;
}

/* Whether a short header packet to the same connection ID could start at
 * offset `at` of the packet h describes. */
static bool segment_starts_at(const uint8_t *p, const struct quic_header *h, size_t at)
{
	return at >= h->pn_offset + 4 + QUIC_SAMPLE_LEN && at + 1 + h->dcid_len <= h->length &&
	       !(p[at] & 0x80) && memcmp(p + at + 1, h->dcid, h->dcid_len) == 0;
}

/* Tries the 1-RTT packet as `seg_len` bytes long; on success h->length is cut. */
static int try_segment(struct quic_conn *c, struct quic_side *s, uint8_t *p,
		       struct quic_header *h, size_t seg_len, uint8_t *out, size_t *plain_len)
{
	if (seg_len >= h->length || !segment_starts_at(p, h, seg_len))
		return 0;
	struct quic_header seg = *h;
	seg.length = seg_len;
	int r = try_open(c, s, p, &seg, LV_1RTT, out, plain_len);
	if (r == 1)
		h->length = seg_len;
	return r == 1 ? 1 : 0;
}

/*
 * A capture taken on the sending host sees a segmentation offload
 * (UDP GSO) buffer before the kernel cuts it into datagrams: several short
 * header packets of one size back to back, where the rest of the datagram
 * is not one packet. Every place where the same DCID follows a short
 * header byte is tried as the end of the first; the size that opens is
 * remembered for the next buffers of this side.
 */
static int find_segment(struct quic_conn *c, struct quic_side *s, uint8_t *p,
			struct quic_header *h, uint8_t *out, size_t *plain_len)
{
	if (!h->dcid_len)
		return 0;
	int tries = 0;
	for (size_t at = h->pn_offset + 4 + QUIC_SAMPLE_LEN; at < h->length && tries < 16; at++) {
		if (!segment_starts_at(p, h, at))
			continue;
		tries++;
		if (try_segment(c, s, p, h, at, out, plain_len) == 1) {
			s->gso_len = at;
			return 1;
		}
	}
	return 0;
}

/* Processes the packet at the start of p (mutable: header protection is
 * removed in place); returns its length, 0 when the rest of the datagram
 * cannot be parsed. */
static size_t one_packet(struct quic_conn *c, bool from_client, uint8_t *p, size_t len,
			 uint8_t *out, uint64_t packet, int64_t ts, const struct quic_sink *sink)
{
	struct quic_side *s = &c->side[from_client ? 0 : 1];
	struct quic_side *peer = &c->side[from_client ? 1 : 0];
	struct quic_header h;
	size_t dlen = (p[0] & 0x80) ? 0 : short_dcid_len(peer, p, len);
	if (!quic_parse_header(p, len, dlen, &h)) {
		c->malformed++;
		return 0;
	}
	if (h.long_header && h.version)
		c->version = h.version;
	switch (h.type) {
	case QUIC_PT_VERSION_NEGOTIATION:
		return h.length;
	case QUIC_PT_UNKNOWN_VERSION:
		c->unsupported_version = true;
		c->unopened++;
		return h.length;
	case QUIC_PT_RETRY:
		/* The client's next Initials go to the CID the server chose:
		 * Initial keys are derived from it (RFC 9001 5.2). */
		if (!from_client && h.scid_len) {
			memcpy(c->orig_dcid, h.scid, h.scid_len);
			c->orig_dcid_len = h.scid_len;
			c->initial_version = 0;
		}
		return h.length;
	default:
		break;
	}
	if (h.long_header)
		add_cid(c, s, h.scid, h.scid_len);
	enum level lv = h.type == QUIC_PT_INITIAL	 ? LV_INITIAL
			: h.type == QUIC_PT_0RTT	 ? LV_0RTT
			: h.type == QUIC_PT_HANDSHAKE ? LV_HANDSHAKE
						       : LV_1RTT;
	if (lv == LV_INITIAL) {
		if (from_client && !c->have_orig_dcid) {
			memcpy(c->orig_dcid, h.dcid, h.dcid_len);
			c->orig_dcid_len = h.dcid_len;
			c->have_orig_dcid = true;
		}
		/* Compatible version negotiation (RFC 9368): the server may answer
		 * a v1 Initial in v2, with v2 keys from the same CID. */
		if (c->initial_version != h.version)
			set_initial_keys(c, h.version);
	} else {
		load_keys(c, h.version ? h.version : c->version);
	}
	struct quic_keys *k = &s->keys[lv];
	if (!k->ready) {
		c->unopened++;
		return h.length;
	}
	size_t plain_len;
	int r = s->gso_len && lv == LV_1RTT ? try_segment(c, s, p, &h, s->gso_len, out, &plain_len)
					    : 0;
	if (r == 0)
		r = try_open(c, s, p, &h, lv, out, &plain_len);
	if (r == 0 && lv == LV_1RTT)
		r = find_segment(c, s, p, &h, out, &plain_len);
	if (r < 0) {
		c->malformed++;
		return h.length;
	}
	if (r == 0) {
		c->failed++;
		return h.length;
	}
	c->opened++;
	if (lv != LV_INITIAL)
		c->protected_opened++;
	s->opened_bytes += h.length;
	payload_frames(c, from_client, space_of(h.type), out, plain_len, packet, ts, sink);
	return h.length;
}

size_t quic_conn_datagram(struct quic_conn *c, bool from_client, const uint8_t *data, size_t len,
			  uint64_t packet, int64_t ts_us, const struct quic_sink *sink)
{
	uint64_t opened_before = c->side[from_client ? 0 : 1].opened_bytes;
	uint8_t stack[2 * DATAGRAM_STACK];
	uint8_t *buf = len <= DATAGRAM_STACK ? stack : pa_xmalloc(2 * len);
	uint8_t *copy = buf, *out = buf + (len <= DATAGRAM_STACK ? DATAGRAM_STACK : len);
	memcpy(copy, data, len);
	size_t pos = 0;
	while (pos < len) {
		/* Zero bytes after the packets pad a datagram (RFC 9000 12.2); a
		 * short header whose protected first byte came out zero (fixed
		 * bit greased) is followed by bytes that are not all zero. */
		if (copy[pos] == 0 && all_zero(copy + pos, len - pos))
			break;
		size_t n = one_packet(c, from_client, copy + pos, len - pos, out, packet, ts_us, sink);
		if (!n)
			break;
		pos += n;
	}
	if (buf != stack)
		free(buf);
	return (size_t)(c->side[from_client ? 0 : 1].opened_bytes - opened_before);
}

void quic_conn_finish(struct quic_conn *c, const struct quic_sink *sink)
{
	for (int i = 0; i < 2; i++)
		quic_streams_flush(c->side[i].streams, i == 0, sink);
}

void quic_conn_info(const struct quic_conn *c, struct quic_info *out)
{
	memset(out, 0, sizeof *out);
	out->version = c->version;
	out->cipher_suite = c->suite;
	memcpy(out->alpn, c->alpn, sizeof out->alpn);
	out->handshake_seen = c->have_random;
	out->decrypted = c->protected_opened > 0;
	out->packets_opened = c->opened;
	out->packets_failed = c->failed;
	out->packets_unopened = c->unopened;
	out->packets_malformed = c->malformed;
	out->key_updates = c->key_updates;
	for (int i = 0; i < 2; i++) {
		struct quic_stream_counts sc;
		quic_streams_counts(c->side[i].streams, &sc);
		out->opened_bytes[i] = c->side[i].opened_bytes;
		out->stream_bytes[i] = sc.delivered;
		out->stream_gap[i] = sc.gap;
		out->stream_truncated[i] = sc.truncated;
		out->streams_evicted += sc.evicted;
	}
	if (out->decrypted)
		out->reason = NULL;
	else if (c->unsupported_version && !c->opened)
		out->reason = "unsupported-version";
	else if (!c->have_random)
		out->reason = "handshake-incomplete";
	else if (c->secret_seen && c->failed)
		out->reason = "bad-key";
	else
		out->reason = "no-key";
}
