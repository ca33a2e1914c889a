/*
 * evidence.c — one pcapng per finding that a second examiner can check with
 * standard tools alone (docs/findings.md, "Evidence files").
 *
 * Two passes over the inputs. The first decodes from the first packet up to
 * the last one any finding needs, and notes for every cited flow its packets
 * (up to the last cited one), the TLS client random of its ClientHello, and
 * the latest DNS answer before the flow that gave one of its addresses. The
 * second copies the chosen records into the evidence files, a batch of
 * findings at a time so the number of open files stays bounded however many
 * findings there are.
 *
 * Why whole flows up to the cited packet: TLS record decryption needs the
 * handshake and the sequence number of the cited record (TLS 1.2 CBC/GCM and
 * TLS 1.3 count every record of a direction), and TCP reassembly needs every
 * segment, so a reader that is given only the cited packets sees "Application
 * Data". With the flow's packets and a Decryption Secrets Block holding that
 * session's key log lines, Wireshark and tshark decrypt the file by itself.
 */
#include "report/evidence.h"

#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/dns.h"
#include "capture/pcapng_writer.h"
#include "decode/decode.h"
#include "tls/keylog.h"
#include "util/atomic_file.h"

#define EVIDENCE_BATCH 32
#define SECRETS_TLS_KEY_LOG 0x544c534bu /* DSB secrets type "TLSK": NSS key log text */
#define DNS_PORT 53

/* Why a packet is in an evidence file, strongest first (said in its comment). */
enum packet_role {
	ROLE_CITED,   /* the finding cites it */
	ROLE_DNS,     /* the DNS answer that gave the recipient's address */
	ROLE_FLOW,    /* earlier packet of a cited flow: handshake, TLS records, TCP segments */
	ROLE_TAIL,    /* later packet of a cited flow: the rest of a message cut by the cited packet */
};

/* A packet of a cited flow, as pass 1 saw it. */
struct flow_packet {
	uint64_t number;
	uint32_t caplen;
	int64_t ts_us;
};

struct packet_list {
	struct flow_packet *items; /* ascending numbers */
	size_t count, cap;
};

static void list_add(struct packet_list *l, uint64_t n, uint32_t caplen, int64_t ts_us)
{
	if (l->count == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->items = pa_xrealloc(l->items, l->cap * sizeof *l->items);
	}
	l->items[l->count++] = (struct flow_packet){n, caplen, ts_us};
}

/* Index of packet n in l, or -1. */
static ptrdiff_t list_find(const struct packet_list *l, uint64_t n)
{
	size_t lo = 0, hi = l->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->items[mid].number == n)
			return (ptrdiff_t)mid;
		if (l->items[mid].number < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Whether the tail after a cited packet at last_ts, which holds `bytes`
 * so far, still takes a packet (EVIDENCE_TAIL_BYTES / EVIDENCE_TAIL_US). */
static bool in_tail(int64_t last_ts, uint64_t bytes, const struct flow_packet *p)
{
	return bytes + p->caplen <= EVIDENCE_TAIL_BYTES && p->ts_us - last_ts <= EVIDENCE_TAIL_US;
}

struct flow_request {
	const struct finding_flow *flow;
	uint64_t last_needed;          /* the highest packet any finding cites overall */
	struct packet_list packets;    /* the flow's packets from first_packet to the tail's end */
	size_t last_index;             /* in packets: the last one up to last_needed */
	uint64_t tail_bytes;           /* captured bytes of the flow after last_needed so far */
	bool done;                     /* nothing more to collect */
	bool have_random;
	uint8_t client_random[KEYLOG_RANDOM_LEN];
	/* TLS 1.2 resumption: the ClientHello's session ticket and the
	 * ServerHello's session id, by which the audit found the master
	 * secret of a session whose own client random has no key log line. */
	uint8_t *ticket;
	size_t ticket_len;
	uint8_t session_id[32];
	size_t session_id_len;
	bool have_server_hello;
	uint64_t dns_packet;           /* latest DNS answer before the flow naming one of its ends */
	char dns_addr[64];             /* the address that answer gave */
};

/* The packets of one finding's file, each with its role. */
struct packet_pick {
	uint64_t number;
	enum packet_role role;
	uint64_t flow_id;
	const char *detail; /* ROLE_DNS: the address named */
};

struct packet_set {
	struct packet_pick *picks;
	size_t count, cap;
	char *secrets;      /* NSS key log lines of the finding's TLS sessions, or NULL */
	size_t secrets_len;
	size_t sessions;    /* client randoms with secrets */
};

static void set_add(struct packet_set *s, uint64_t n, enum packet_role role, uint64_t flow_id,
		    const char *detail)
{
	if (!n)
		return;
	if (s->count == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->picks = pa_xrealloc(s->picks, s->cap * sizeof *s->picks);
	}
	s->picks[s->count++] = (struct packet_pick){n, role, flow_id, detail};
}

static int cmp_pick(const void *a, const void *b)
{
	const struct packet_pick *x = a, *y = b;
	if (x->number != y->number)
		return x->number < y->number ? -1 : 1;
	return (int)x->role - (int)y->role;
}

/* Sort; one entry per packet, keeping its strongest role. */
static void set_finish(struct packet_set *s)
{
	if (!s->count)
		return;
	qsort(s->picks, s->count, sizeof *s->picks, cmp_pick);
	size_t k = 1;
	for (size_t i = 1; i < s->count; i++)
		if (s->picks[i].number != s->picks[k - 1].number)
			s->picks[k++] = s->picks[i];
	s->count = k;
}

static const struct packet_pick *set_find(const struct packet_set *s, uint64_t n)
{
	size_t lo = 0, hi = s->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->picks[mid].number == n)
			return &s->picks[mid];
		if (s->picks[mid].number < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool same_flow(const struct finding_flow *f, const struct pa_packet *p)
{
	if (p->l4_proto != f->proto)
		return false;
	/* Both orientations in full: on loopback both ends share the address. */
	if (p->sport == f->sport && p->dport == f->dport && pa_addr_equal(&p->src, &f->src) &&
	    pa_addr_equal(&p->dst, &f->dst))
		return true;
	return p->sport == f->dport && p->dport == f->sport && pa_addr_equal(&p->src, &f->dst) &&
	       pa_addr_equal(&p->dst, &f->src);
}

/* A TLS handshake record of the given type at the start of a TCP payload:
 * its body after the version (record header 5, handshake header 4,
 * version 2 bytes) and the bytes captured of it. */
static const uint8_t *hello_body(const struct pa_packet *p, uint8_t type, size_t *len)
{
	const uint8_t *b = p->payload;
	if (p->l4_proto != IPPROTO_TCP || p->payload_len < 11 + KEYLOG_RANDOM_LEN)
		return NULL;
	if (b[0] != 0x16 || b[1] != 0x03 || b[5] != type)
		return NULL;
	*len = p->payload_len - 11;
	return b + 11;
}

/* The SessionTicket extension (35) of a ClientHello body, if captured whole
 * in this segment: random, session id, cipher suites, compression methods,
 * then the extensions. */
static void client_hello_ticket(struct flow_request *r, const uint8_t *b, size_t len)
{
	size_t pos = KEYLOG_RANDOM_LEN;
	if (pos + 1 > len)
		return;
	pos += 1 + b[pos];
	if (pos + 2 > len)
		return;
	pos += 2 + ((size_t)b[pos] << 8 | b[pos + 1]);
	if (pos + 1 > len)
		return;
	pos += 1 + b[pos];
	if (pos + 2 > len)
		return;
	size_t end = pos + 2 + ((size_t)b[pos] << 8 | b[pos + 1]);
	pos += 2;
	if (end > len)
		end = len;
	while (pos + 4 <= end) {
		unsigned type = (unsigned)b[pos] << 8 | b[pos + 1];
		size_t ext_len = (size_t)b[pos + 2] << 8 | b[pos + 3];
		pos += 4;
		if (pos + ext_len > end)
			return;
		if (type == 35 && ext_len) {
			r->ticket = pa_xmalloc(ext_len);
			memcpy(r->ticket, b + pos, ext_len);
			r->ticket_len = ext_len;
			return;
		}
		pos += ext_len;
	}
}

/* What the flow's TLS handshake tells about its session, from the packets
 * of the flow as they come. */
static void note_tls(struct flow_request *r, const struct pa_packet *p)
{
	size_t len;
	const uint8_t *b;
	if (!r->have_random && (b = hello_body(p, 1, &len))) {
		memcpy(r->client_random, b, KEYLOG_RANDOM_LEN);
		r->have_random = true;
		client_hello_ticket(r, b, len);
	} else if (r->have_random && !r->have_server_hello && (b = hello_body(p, 2, &len))) {
		r->have_server_hello = true;
		size_t id_len = len > KEYLOG_RANDOM_LEN ? b[KEYLOG_RANDOM_LEN] : 0;
		if (id_len <= sizeof r->session_id && KEYLOG_RANDOM_LEN + 1 + id_len <= len) {
			memcpy(r->session_id, b + KEYLOG_RANDOM_LEN + 1, id_len);
			r->session_id_len = id_len;
		}
	}
}

struct dns_scan {
	struct flow_request *req;
	size_t nreq;
	uint64_t number;
};

/* An A/AAAA answer: the latest one before a cited flow that gives one of
 * its addresses is the answer that named the recipient. */
static void on_dns_answer(void *ctx, const struct dns_answer *a)
{
	struct dns_scan *s = ctx;
	if (a->type != DNS_A && a->type != DNS_AAAA)
		return;
	for (size_t i = 0; i < s->nreq; i++) {
		struct flow_request *r = &s->req[i];
		if (s->number >= r->flow->first_packet)
			continue;
		if (!pa_addr_equal(&a->addr, &r->flow->dst) && !pa_addr_equal(&a->addr, &r->flow->src))
			continue;
		r->dns_packet = s->number;
		pa_addr_str(&a->addr, r->dns_addr, sizeof r->dns_addr);
	}
}

static void note_dns(struct flow_request *req, size_t nreq, const struct pa_packet *p)
{
	if (p->l4_proto != IPPROTO_UDP || p->sport != DNS_PORT || !p->payload_len)
		return;
	struct dns_scan s = {req, nreq, p->number};
	struct dns_visitor v = {.ctx = &s, .answer = on_dns_answer};
	struct dns_header_info h;
	dns_parse(p->payload, p->payload_len, &h, &v);
}

/* Takes the packet at number into r when pass 1 still wants it: the
 * flow's packets up to the last one any finding cites, then its tail (see
 * evidence.h), and at least its first EVIDENCE_CONTEXT_PACKETS. */
static bool take(struct flow_request *r, uint64_t number, const struct capture_record *rec)
{
	struct packet_list *l = &r->packets;
	if (number <= r->last_needed || l->count < EVIDENCE_CONTEXT_PACKETS) {
		list_add(l, number, rec->caplen, rec->ts_us);
		if (number <= r->last_needed)
			r->last_index = l->count - 1;
		return true;
	}
	struct flow_packet p = {number, rec->caplen, rec->ts_us};
	if (!l->count || !in_tail(l->items[r->last_index].ts_us, r->tail_bytes, &p))
		return false;
	list_add(l, number, rec->caplen, rec->ts_us);
	r->tail_bytes += rec->caplen;
	return true;
}

/* Pass 1 is done with r once its tail is over and its context complete. */
static bool request_done(const struct flow_request *r, uint64_t number, int64_t ts_us)
{
	const struct packet_list *l = &r->packets;
	if (number <= r->last_needed || l->count < EVIDENCE_CONTEXT_PACKETS)
		return false;
	return r->tail_bytes >= EVIDENCE_TAIL_BYTES ||
	       ts_us - l->items[r->last_index].ts_us > EVIDENCE_TAIL_US;
}

/* Pass 1: every requested flow's packets, TLS client random and DNS answer. */
static void find_context(struct flow_request *req, size_t nreq, char *const *inputs, size_t n)
{
	size_t open = nreq;
	struct decoder *dec = decoder_new(&(struct decode_config){0});
	uint64_t number = 0;
	for (size_t fi = 0; fi < n && open; fi++) {
		struct pa_error err;
		struct capture_file *cf = capture_file_open(inputs[fi], &err);
		if (!cf)
			continue;
		struct capture_record rec;
		while (open && capture_file_next(cf, &rec, &err) == CAPTURE_RECORD) {
			number++;
			for (size_t i = 0; i < nreq; i++)
				if (!req[i].done && request_done(&req[i], number, rec.ts_us)) {
					req[i].done = true;
					open--;
				}
			struct pa_packet pkt;
			enum decode_problem why;
			pkt.number = number;
			if (decode_packet(dec, &rec, &pkt, &why) != DECODE_OK)
				continue;
			note_dns(req, nreq, &pkt);
			for (size_t i = 0; i < nreq; i++) {
				struct flow_request *r = &req[i];
				if (r->done || number < r->flow->first_packet || !same_flow(r->flow, &pkt) ||
				    !take(r, number, &rec))
					continue;
				note_tls(r, &pkt);
			}
		}
		capture_file_close(cf);
	}
	decoder_free(dec);
}

static struct flow_request *request_for(struct flow_request *req, size_t nreq, uint64_t flow_id)
{
	for (size_t i = 0; i < nreq; i++)
		if (req[i].flow->id == flow_id)
			return &req[i];
	return NULL;
}

static bool make_dir(const char *path, struct pa_error *err)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		pa_error_set(err, "%s: cannot create folder: %s", path, strerror(errno));
		return false;
	}
	return true;
}

static void hex(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

static void add_line(struct packet_set *s, const char *label, const char *rhex,
		     const uint8_t *secret, size_t len)
{
	char shex[2 * KEYLOG_SECRET_MAX + 1];
	hex(shex, secret, len);
	char line[64 + 2 * KEYLOG_RANDOM_LEN + sizeof shex];
	int n = snprintf(line, sizeof line, "%s %s %s\n", label, rhex, shex);
	s->secrets = pa_xrealloc(s->secrets, s->secrets_len + (size_t)n + 1);
	memcpy(s->secrets + s->secrets_len, line, (size_t)n + 1);
	s->secrets_len += (size_t)n;
}

/* The key log lines of the flow's TLS session appended to s: every line
 * known for its client random; for a resumed TLS 1.2 session without one,
 * a CLIENT_RANDOM line with the master secret the audit found by its
 * ticket or session id. */
static void add_session_secrets(struct packet_set *s, const struct keylog *kl,
				const struct flow_request *r)
{
	if (!kl || !r->have_random)
		return;
	char rhex[2 * KEYLOG_RANDOM_LEN + 1];
	hex(rhex, r->client_random, KEYLOG_RANDOM_LEN);
	if (s->secrets && strstr(s->secrets, rhex))
		return; /* the same session cited twice */
	const struct keylog_secrets *ks = keylog_find(kl, r->client_random);
	uint8_t master[48];
	if (ks) {
		for (int label = 0; label < KEYLOG_LABEL_COUNT; label++)
			if (ks->len[label])
				add_line(s, keylog_label_name((enum keylog_label)label), rhex,
					 ks->secret[label], ks->len[label]);
	} else if ((r->ticket_len && keylog_find_session(kl, r->ticket, r->ticket_len, master)) ||
		   (r->session_id_len && keylog_find_session(kl, r->session_id, r->session_id_len, master))) {
		add_line(s, keylog_label_name(KEYLOG_MASTER_SECRET), rhex, master, sizeof master);
	} else {
		return;
	}
	s->sessions++;
}

/* The packets of finding f: those it cites; for each flow it cites, the
 * flow's packets up to the last one cited in that flow (its first few when
 * none is) and the DNS answer that named it; and the flow's TLS secrets. */
static void choose_packets(const struct finding *f, struct flow_request *req, size_t nreq,
			   const struct keylog *kl, struct packet_set *s)
{
	for (size_t k = 0; k < f->packet_count; k++)
		set_add(s, f->packets[k], ROLE_CITED, 0, NULL);
	for (size_t k = 0; k < f->flow_count; k++) {
		const struct flow_request *r = request_for(req, nreq, f->flows[k]);
		if (!r)
			continue;
		const struct packet_list *l = &r->packets;
		ptrdiff_t last = -1;
		for (size_t j = 0; j < f->packet_count; j++) {
			ptrdiff_t at = list_find(l, f->packets[j]);
			if (at > last)
				last = at;
		}
		size_t j = 0;
		if (last < 0) {
			for (; j < l->count && j < EVIDENCE_CONTEXT_PACKETS; j++)
				set_add(s, l->items[j].number, ROLE_FLOW, r->flow->id, NULL);
		} else {
			for (; j <= (size_t)last; j++)
				set_add(s, l->items[j].number, ROLE_FLOW, r->flow->id, NULL);
			uint64_t bytes = 0;
			for (; j < l->count && in_tail(l->items[last].ts_us, bytes, &l->items[j]); j++) {
				bytes += l->items[j].caplen;
				set_add(s, l->items[j].number, ROLE_TAIL, r->flow->id, NULL);
			}
		}
		if (r->dns_packet)
			set_add(s, r->dns_packet, ROLE_DNS, r->flow->id, r->dns_addr);
		add_session_secrets(s, kl, r);
	}
	set_finish(s);
}

/* "F0002: cited packet; original capture.pcapng packet 57 (audit packet 1057)" */
static void packet_comment(char *buf, size_t len, const char *finding_id,
			   const struct packet_pick *p, const char *input, uint64_t in_file)
{
	char what[160];
	switch (p->role) {
	case ROLE_CITED:
		snprintf(what, sizeof what, "packet cited by the finding");
		break;
	case ROLE_DNS:
		snprintf(what, sizeof what, "DNS answer that gave %s (flow %llu)", p->detail,
			 (unsigned long long)p->flow_id);
		break;
	case ROLE_FLOW:
		snprintf(what, sizeof what, "earlier packet of cited flow %llu (handshake, records, segments)",
			 (unsigned long long)p->flow_id);
		break;
	case ROLE_TAIL:
		snprintf(what, sizeof what, "later packet of cited flow %llu (rest of the message)",
			 (unsigned long long)p->flow_id);
		break;
	}
	snprintf(buf, len, "privaudit %s: %s; original %s packet %llu (audit packet %llu)", finding_id,
		 what, input, (unsigned long long)in_file, (unsigned long long)p->number);
}

struct batch_file {
	struct pcapng_writer w;
	const struct packet_set *set;
	const char *id;
	char path[4200], tmp[4200 + 8]; /* tmp: DIR/.NAME.tmp */
};

/* Pass 2 for findings [first, last): copy their packets. */
static bool write_batch(const struct findings *fs, const struct packet_set *sets, size_t first,
			size_t last, char *const *inputs, size_t n, const char *evdir,
			struct evidence_stats *st, struct pa_error *err)
{
	struct batch_file files[EVIDENCE_BATCH];
	uint64_t max_needed = 0;
	bool ok = true;
	size_t opened = 0;
	for (size_t i = first; i < last; i++) {
		struct batch_file *b = &files[i - first];
		memset(b, 0, sizeof *b);
		const struct finding *f = findings_at(fs, i);
		b->set = &sets[i];
		b->id = f->id;
		snprintf(b->path, sizeof b->path, "%s/%s.pcapng", evdir, f->id);
		pa_atomic_tmp_name(b->path, 0, b->tmp, sizeof b->tmp);
		if (!pcapng_writer_open(&b->w, b->tmp, "privaudit " PA_VERSION " evidence", err)) {
			ok = false;
			break;
		}
		opened++;
		/* Before any packet: a reader has the keys when the first
		 * encrypted record comes. */
		if (b->set->secrets_len)
			pcapng_writer_secrets(&b->w, SECRETS_TLS_KEY_LOG, (const uint8_t *)b->set->secrets,
					      b->set->secrets_len);
		if (b->set->count && b->set->picks[b->set->count - 1].number > max_needed)
			max_needed = b->set->picks[b->set->count - 1].number;
	}
	uint64_t number = 0;
	for (size_t fi = 0; ok && fi < n && number < max_needed; fi++) {
		struct pa_error rerr;
		struct capture_file *cf = capture_file_open(inputs[fi], &rerr);
		if (!cf)
			continue;
		struct capture_record rec;
		uint64_t in_file = 0;
		while (number < max_needed && capture_file_next(cf, &rec, &rerr) == CAPTURE_RECORD) {
			number++;
			in_file++;
			for (size_t k = 0; k < opened; k++) {
				const struct packet_pick *p = set_find(files[k].set, number);
				if (!p)
					continue;
				char comment[PCAPNG_COMMENT_MAX];
				packet_comment(comment, sizeof comment, files[k].id, p, inputs[fi], in_file);
				if (pcapng_writer_packet_comment(&files[k].w, &rec, comment))
					st->packets++;
			}
		}
		capture_file_close(cf);
	}
	for (size_t k = 0; k < opened; k++) {
		struct batch_file *b = &files[k];
		uint64_t written = b->w.packets;
		if (!pcapng_writer_close(&b->w)) {
			if (ok)
				pa_error_set(err, "%s: write failed: %s", b->tmp, strerror(b->w.errno_saved));
			ok = false;
		}
		ok = pa_atomic_rename(b->tmp, b->path, ok, err);
		if (!ok)
			continue;
		st->files++;
		st->tls_sessions += b->set->sessions;
		if (written < b->set->count)
			st->missing += b->set->count - written;
	}
	return ok;
}

bool evidence_write(const struct findings *fs, char *const *inputs, size_t n,
		    const struct keylog *keylog, const char *dir, struct evidence_stats *st,
		    struct pa_error *err)
{
	memset(st, 0, sizeof *st);
	size_t count = findings_count(fs);
	char evdir[4096];
	snprintf(evdir, sizeof evdir, "%s/evidence", dir);
	if (!make_dir(evdir, err))
		return false;
	if (!count)
		return true;

	/* The flows findings cite, each once, with the highest packet needed. */
	struct flow_request *req = NULL;
	size_t nreq = 0, capreq = 0;
	for (size_t i = 0; i < count; i++) {
		const struct finding *f = findings_at(fs, i);
		uint64_t last_cited = 0;
		for (size_t k = 0; k < f->packet_count; k++)
			if (f->packets[k] > last_cited)
				last_cited = f->packets[k];
		for (size_t k = 0; k < f->flow_count; k++) {
			const struct finding_flow *ff = findings_flow(fs, f->flows[k]);
			if (!ff)
				continue;
			struct flow_request *r = request_for(req, nreq, ff->id);
			if (!r) {
				if (nreq == capreq) {
					capreq = capreq ? capreq * 2 : 32;
					req = pa_xrealloc(req, capreq * sizeof *req);
				}
				r = &req[nreq++];
				*r = (struct flow_request){.flow = ff};
			}
			if (last_cited > r->last_needed)
				r->last_needed = last_cited;
		}
	}
	find_context(req, nreq, inputs, n);

	struct packet_set *sets = pa_xcalloc(count, sizeof *sets);
	for (size_t i = 0; i < count; i++)
		choose_packets(findings_at(fs, i), req, nreq, keylog, &sets[i]);
	bool ok = true;
	for (size_t first = 0; ok && first < count; first += EVIDENCE_BATCH) {
		size_t last = first + EVIDENCE_BATCH < count ? first + EVIDENCE_BATCH : count;
		ok = write_batch(fs, sets, first, last, inputs, n, evdir, st, err);
	}
	for (size_t i = 0; i < count; i++) {
		free(sets[i].picks);
		free(sets[i].secrets);
	}
	free(sets);
	for (size_t i = 0; i < nreq; i++) {
		free(req[i].packets.items);
		free(req[i].ticket);
	}
	free(req);
	return ok;
}
