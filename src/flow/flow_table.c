/*
 * flow_table.c — bidirectional flow table.
 *
 * Hash table with chaining, keyed on the 5-tuple in canonical order (lower
 * endpoint first) so both directions find the same flow. Flows also sit on
 * one of three recency lists, each with a single timeout (TCP open, TCP
 * closed, UDP/other): the least recently seen flow of each list is at its
 * tail, so expiry only ever looks at tails, and the memory cap evicts the
 * oldest tail of the three.
 */
#include "flow/flow.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

enum lru_kind { LRU_TCP, LRU_TCP_CLOSED, LRU_OTHER, LRU_KINDS };

struct lru {
	struct flow *head, *tail;
};

struct flow_table {
	struct flow_config cfg;
	flow_end_fn on_end;
	void *ctx;
	struct flow **buckets;
	size_t nbuckets; /* power of two */
	struct lru lru[LRU_KINDS];
	struct flow_stats stats;
	uint64_t next_id;
};

const char *flow_end_reason_name(enum flow_end_reason r)
{
	static const char *const names[] = {"idle", "closed", "evicted", "end-of-input", "reused"};
	return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

const char *hostname_source_name(enum hostname_source s)
{
	static const char *const names[] = {"none", "sni", "http", "dns"};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "none";
}

double flow_rtt_server_ms(const struct flow *f)
{
	if (!f->ts_syn || !f->ts_synack || f->ts_synack < f->ts_syn)
		return -1;
	return (double)(f->ts_synack - f->ts_syn) / 1000.0;
}

double flow_rtt_client_ms(const struct flow *f)
{
	if (!f->ts_synack || !f->ts_ack || f->ts_ack < f->ts_synack)
		return -1;
	return (double)(f->ts_ack - f->ts_synack) / 1000.0;
}

/* ---- keys ---------------------------------------------------------------- */

static size_t addr_len(const struct pa_addr *a)
{
	return a->family == 4 ? 4 : 16;
}

static int endpoint_cmp(const struct pa_addr *a, uint16_t pa, const struct pa_addr *b, uint16_t pb)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	int c = memcmp(a->bytes, b->bytes, addr_len(a));
	if (c)
		return c;
	return pa == pb ? 0 : (pa < pb ? -1 : 1);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h;
}

static uint64_t hash_endpoint(uint64_t h, const struct pa_addr *a, uint16_t port)
{
	uint64_t w[2] = {0, 0};
	memcpy(w, a->bytes, addr_len(a));
	h = mix(h, w[0]);
	h = mix(h, w[1]);
	return mix(h, port);
}

/* Direction-independent hash: the endpoints are hashed in canonical order. */
static uint64_t packet_hash(const struct pa_packet *p, uint16_t vlan)
{
	uint64_t h = mix((uint64_t)p->l4_proto << 16 | vlan, p->ip_version);
	if (endpoint_cmp(&p->src, p->sport, &p->dst, p->dport) <= 0) {
		h = hash_endpoint(h, &p->src, p->sport);
		h = hash_endpoint(h, &p->dst, p->dport);
	} else {
		h = hash_endpoint(h, &p->dst, p->dport);
		h = hash_endpoint(h, &p->src, p->sport);
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 32);
}

static uint64_t flow_hash(const struct flow *f)
{
	struct pa_packet p = {.ip_version = f->src.family, .src = f->src, .dst = f->dst,
			      .sport = f->sport, .dport = f->dport, .l4_proto = f->proto};
	return packet_hash(&p, f->vlan);
}

static bool flow_matches(const struct flow *f, const struct pa_packet *p, uint16_t vlan,
			 enum pa_dir *dir)
{
	if (f->proto != p->l4_proto || f->vlan != vlan)
		return false;
	if (f->sport == p->sport && f->dport == p->dport && pa_addr_equal(&f->src, &p->src) &&
	    pa_addr_equal(&f->dst, &p->dst)) {
		*dir = PA_DIR_FROM_SRC;
		return true;
	}
	if (f->sport == p->dport && f->dport == p->sport && pa_addr_equal(&f->src, &p->dst) &&
	    pa_addr_equal(&f->dst, &p->src)) {
		*dir = PA_DIR_FROM_DST;
		return true;
	}
	return false;
}

/* ---- recency lists -------------------------------------------------------- */

static enum lru_kind lru_kind_of(const struct flow *f)
{
	if (f->proto != IPPROTO_TCP)
		return LRU_OTHER;
	bool closed = f->rst_seen || f->fin_seen == 3;
	return closed ? LRU_TCP_CLOSED : LRU_TCP;
}

static int64_t lru_timeout(const struct flow_table *t, enum lru_kind k)
{
	switch (k) {
	case LRU_TCP: return t->cfg.tcp_idle_us;
	case LRU_TCP_CLOSED: return t->cfg.tcp_closed_us;
	default: return t->cfg.udp_idle_us;
	}
}

static void lru_unlink(struct lru *l, struct flow *f)
{
	if (f->lru_prev)
		f->lru_prev->lru_next = f->lru_next;
	else
		l->head = f->lru_next;
	if (f->lru_next)
		f->lru_next->lru_prev = f->lru_prev;
	else
		l->tail = f->lru_prev;
	f->lru_prev = f->lru_next = NULL;
}

static void lru_push_head(struct lru *l, struct flow *f)
{
	f->lru_prev = NULL;
	f->lru_next = l->head;
	if (l->head)
		l->head->lru_prev = f;
	l->head = f;
	if (!l->tail)
		l->tail = f;
}

/* ---- table ---------------------------------------------------------------- */

struct flow_table *flow_table_new(const struct flow_config *cfg, flow_end_fn on_end, void *ctx)
{
	struct flow_table *t = pa_xcalloc(1, sizeof *t);
	t->cfg = *cfg;
	if (!t->cfg.tcp_idle_us)
		t->cfg.tcp_idle_us = 300 * 1000000LL;
	if (!t->cfg.udp_idle_us)
		t->cfg.udp_idle_us = 60 * 1000000LL;
	if (!t->cfg.tcp_closed_us)
		t->cfg.tcp_closed_us = 5 * 1000000LL;
	if (!t->cfg.max_flows)
		t->cfg.max_flows = FLOW_DEFAULT_MAX_FLOWS;
	t->on_end = on_end;
	t->ctx = ctx;
	t->nbuckets = 4096;
	t->buckets = pa_xcalloc(t->nbuckets, sizeof *t->buckets);
	t->next_id = 1;
	return t;
}

static void grow(struct flow_table *t)
{
	size_t n = t->nbuckets * 2;
	struct flow **b = pa_xcalloc(n, sizeof *b);
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct flow *f = t->buckets[i];
		while (f) {
			struct flow *next = f->hash_next;
			size_t j = flow_hash(f) & (n - 1);
			f->hash_next = b[j];
			b[j] = f;
			f = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

static void end_flow(struct flow_table *t, struct flow *f, enum flow_end_reason why)
{
	struct flow **pp = &t->buckets[flow_hash(f) & (t->nbuckets - 1)];
	while (*pp && *pp != f)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = f->hash_next;
	lru_unlink(&t->lru[lru_kind_of(f)], f);
	t->stats.active--;
	t->stats.ended[why]++;
	if (t->on_end)
		t->on_end(t->ctx, f, why);
	free(f->dns_name);
	free(f);
}

/* The least recently seen flow of all lists. */
static struct flow *oldest_flow(struct flow_table *t)
{
	struct flow *best = NULL;
	for (int k = 0; k < LRU_KINDS; k++) {
		struct flow *f = t->lru[k].tail;
		if (f && (!best || f->ts_last < best->ts_last))
			best = f;
	}
	return best;
}

static struct flow *create(struct flow_table *t, const struct pa_packet *p, uint16_t vlan,
			   enum pa_dir *dir)
{
	if (t->stats.active >= t->cfg.max_flows) {
		struct flow *victim = oldest_flow(t);
		if (victim)
			end_flow(t, victim, FLOW_END_EVICTED);
	}
	if (t->stats.active >= t->nbuckets)
		grow(t);

	struct flow *f = pa_xcalloc(1, sizeof *f);
	f->id = t->next_id++;
	f->proto = p->l4_proto;
	f->vlan = vlan;
	f->device_side = DEVICE_SIDE_UNKNOWN;
	f->ts_first = p->ts_us;
	f->first_packet = p->number;
	/* A SYN/ACK as the first packet: the capture started mid-handshake, and
	 * the initiator is the packet's destination. */
	bool reply_first = p->l4_proto == IPPROTO_TCP &&
			   (p->tcp_flags & (PA_TCP_SYN | PA_TCP_ACK)) == (PA_TCP_SYN | PA_TCP_ACK);
	if (reply_first) {
		f->src = p->dst, f->sport = p->dport;
		f->dst = p->src, f->dport = p->sport;
		*dir = PA_DIR_FROM_DST;
	} else {
		f->src = p->src, f->sport = p->sport;
		f->dst = p->dst, f->dport = p->dport;
		*dir = PA_DIR_FROM_SRC;
	}
	size_t b = flow_hash(f) & (t->nbuckets - 1);
	f->hash_next = t->buckets[b];
	t->buckets[b] = f;
	lru_push_head(&t->lru[lru_kind_of(f)], f);
	t->stats.created++;
	t->stats.active++;
	if (t->stats.active > t->stats.peak_active)
		t->stats.peak_active = t->stats.active;
	return f;
}

/* A fresh SYN on a connection that has finished: a new connection reusing
 * the ports, not a retransmission of the old SYN. */
static bool is_reuse(const struct flow *f, const struct pa_packet *p, enum pa_dir dir)
{
	if (f->proto != IPPROTO_TCP || (p->tcp_flags & (PA_TCP_SYN | PA_TCP_ACK)) != PA_TCP_SYN)
		return false;
	bool finished = f->rst_seen || f->fin_seen == 3;
	return finished && !(f->syn_seen[dir] && f->syn_seq[dir] == p->tcp_seq);
}

static void update_tcp(struct flow *f, const struct pa_packet *p, enum pa_dir dir)
{
	uint8_t fl = p->tcp_flags;
	if (fl & PA_TCP_SYN) {
		if (!f->syn_seen[dir]) {
			f->syn_seen[dir] = true;
			f->syn_seq[dir] = p->tcp_seq;
		}
		if (!(fl & PA_TCP_ACK) && !f->ts_syn)
			f->ts_syn = p->ts_us;
		else if ((fl & PA_TCP_ACK) && !f->ts_synack && f->ts_syn)
			f->ts_synack = p->ts_us;
	} else if ((fl & PA_TCP_ACK) && f->ts_synack && !f->ts_ack && dir == PA_DIR_FROM_SRC) {
		f->ts_ack = p->ts_us;
	}
	if (fl & PA_TCP_FIN)
		f->fin_seen |= (uint8_t)(1u << dir);
	if (fl & PA_TCP_RST)
		f->rst_seen = true;
}

struct flow *flow_table_packet(struct flow_table *t, const struct pa_packet *p,
			       enum pa_dir *dir, bool *created)
{
	uint16_t vlan = p->vlan_count ? p->vlan[0] : 0;
	size_t b = packet_hash(p, vlan) & (t->nbuckets - 1);
	struct flow *f = t->buckets[b];
	while (f && !flow_matches(f, p, vlan, dir))
		f = f->hash_next;
	*created = false;
	if (f && is_reuse(f, p, *dir)) {
		end_flow(t, f, FLOW_END_REUSED);
		f = NULL;
	}
	if (!f) {
		f = create(t, p, vlan, dir);
		*created = true;
	}

	enum lru_kind before = lru_kind_of(f);
	f->packets[*dir]++;
	f->ip_bytes[*dir] += p->ip_len;
	f->payload_bytes[*dir] += p->payload_wire_len;
	if (p->ts_us > f->ts_last)
		f->ts_last = p->ts_us;
	if (f->proto == IPPROTO_TCP)
		update_tcp(f, p, *dir);
	lru_unlink(&t->lru[before], f);
	lru_push_head(&t->lru[lru_kind_of(f)], f);
	return f;
}

void flow_table_expire(struct flow_table *t, int64_t now_us)
{
	for (int k = 0; k < LRU_KINDS; k++) {
		int64_t timeout = lru_timeout(t, (enum lru_kind)k);
		struct flow *f;
		while ((f = t->lru[k].tail) && now_us - f->ts_last > timeout)
			end_flow(t, f, k == LRU_TCP_CLOSED ? FLOW_END_CLOSED : FLOW_END_IDLE);
	}
}

void flow_table_flush(struct flow_table *t)
{
	/* Oldest first, so flows.jsonl keeps a stable, time-ordered tail. */
	struct flow *f;
	while ((f = oldest_flow(t)))
		end_flow(t, f, FLOW_END_END_OF_INPUT);
}

const struct flow_stats *flow_table_stats(const struct flow_table *t)
{
	return &t->stats;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	flow_table_flush(t);
	free(t->buckets);
	free(t);
}
