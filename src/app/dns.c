/*
 * dns.c — one DNS message (RFC 1035 §4): header, questions and the answer
 * section. mDNS and LLMNR use the same wire format and parse here too.
 *
 * Every byte is read through bounds-checked reads against the message length;
 * compression pointers may only point backwards and are followed at most
 * DNS_MAX_POINTER_JUMPS times, so a crafted message can neither loop nor read
 * outside itself. Names come out in presentation form, lower-cased (questions
 * also as sent, for the signature engine), without
 * the trailing dot, with bytes outside printable ASCII escaped as \DDD (as
 * dig prints them) so that later stages can treat them as text.
 */
#include <string.h>

#include "app/dns.h"

#define DNS_HEADER_LEN 12
#define DNS_MAX_POINTER_JUMPS 32
#define DNS_MAX_WIRE_NAME 255 /* RFC 1035 §2.3.4, length octets included */
#define DNS_MAX_LABEL 63

struct dns_reader {
	const uint8_t *msg;
	size_t len;
	size_t pos;
};

static bool read_u16(struct dns_reader *r, uint16_t *out)
{
	if (r->pos > r->len || r->len - r->pos < 2)
		return false;
	*out = (uint16_t)(r->msg[r->pos] << 8 | r->msg[r->pos + 1]);
	r->pos += 2;
	return true;
}

static bool read_u32(struct dns_reader *r, uint32_t *out)
{
	uint16_t hi, lo;

	if (!read_u16(r, &hi) || !read_u16(r, &lo))
		return false;
	*out = (uint32_t)hi << 16 | lo;
	return true;
}

/* Appends presentation text. A name whose presentation form outgrows the
 * buffer is cut at a whole character (never inside a \DDD escape) and
 * flagged rather than rejected: a query name stuffed with binary bytes is
 * exactly what the signature engine should still get to see. */
static void put_text(char *out, size_t *used, bool *cut, const char *text, size_t n)
{
	if (*cut || *used + n > DNS_NAME_MAX - 1) {
		*cut = true;
		return;
	}
	memcpy(out + *used, text, n);
	*used += n;
}

/* One byte of a label; a label's first byte after the first label carries
 * the separating dot with it, so a cut name never ends in a bare dot. */
static void put_label_byte(char *out, size_t *used, bool *cut, uint8_t c, bool dot_first,
			   bool lower)
{
	char buf[5], *esc = buf + dot_first;
	size_t n;

	if (lower && c >= 'A' && c <= 'Z') {
		esc[0] = (char)(c - 'A' + 'a');
		n = 1;
	} else if (c == '.' || c == '\\') {
		esc[0] = '\\';
		esc[1] = (char)c;
		n = 2;
	} else if (c < 0x21 || c > 0x7e) {
		esc[0] = '\\';
		esc[1] = (char)('0' + c / 100);
		esc[2] = (char)('0' + c / 10 % 10);
		esc[3] = (char)('0' + c % 10);
		n = 4;
	} else {
		esc[0] = (char)c;
		n = 1;
	}
	buf[0] = dot_first ? '.' : buf[0];
	put_text(out, used, cut, buf, n + dot_first);
}

/*
 * Reads the (possibly compressed) name at r->pos into out and moves r->pos
 * past the name's bytes at that position (the pointer, not its target).
 * A pointer must point before the first byte of the labels it follows (all
 * of them, since the last jump): positions only ever decrease, which alone
 * rules out loops; the jump count bounds the work on long backward chains.
 */
static bool read_name(struct dns_reader *r, char out[DNS_NAME_MAX], bool *cut, bool lower)
{
	size_t pos = r->pos, end_pos = 0, used = 0, wire = 1;
	size_t limit = r->pos; /* a pointer must point below this */
	unsigned jumps = 0, labels = 0;
	bool jumped = false;

	*cut = false;
	for (;;) {
		if (pos >= r->len)
			return false;
		uint8_t len = r->msg[pos];

		if ((len & 0xc0) == 0xc0) {
			if (pos + 1 >= r->len)
				return false;
			size_t target = (size_t)(len & 0x3f) << 8 | r->msg[pos + 1];
			if (target >= limit || ++jumps > DNS_MAX_POINTER_JUMPS)
				return false;
			limit = target;
			if (!jumped)
				end_pos = pos + 2;
			jumped = true;
			pos = target;
			continue;
		}
		if (len & 0xc0) /* 0x40 / 0x80: extended label types, obsolete */
			return false;
		if (len == 0) {
			pos++;
			break;
		}
		wire += 1u + len;
		if (wire > DNS_MAX_WIRE_NAME || r->len - pos - 1 < len)
			return false;
		for (size_t i = 0; i < len; i++)
			put_label_byte(out, &used, cut, r->msg[pos + 1 + i], i == 0 && labels > 0, lower);
		labels++;
		pos += 1u + len;
	}
	out[used] = '\0';
	r->pos = jumped ? end_pos : pos;
	return true;
}

static bool parse_question(struct dns_reader *r, const struct dns_visitor *v)
{
	struct dns_question q;
	bool cut;

	if (!read_name(r, q.name_as_sent, &cut, false) || !read_u16(r, &q.qtype) ||
	    !read_u16(r, &q.qclass))
		return false;
	/* Escapes are digits and backslashes: lower-casing the presentation
	 * form lower-cases exactly the name's letters. */
	size_t i = 0;
	for (; q.name_as_sent[i]; i++) {
		char c = q.name_as_sent[i];
		q.name[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	q.name[i] = '\0';
	q.name_cut = cut;
	if (v && v->question)
		v->question(v->ctx, &q);
	return true;
}

static bool parse_answer(struct dns_reader *r, const struct dns_visitor *v)
{
	struct dns_answer a;
	uint16_t rrclass, rdlength;
	bool cut;

	if (!read_name(r, a.name, &cut, true) || !read_u16(r, &a.type) || !read_u16(r, &rrclass) ||
	    !read_u32(r, &a.ttl) || !read_u16(r, &rdlength))
		return false;
	a.name_cut = cut;
	if (r->len - r->pos < rdlength)
		return false;
	size_t rdata_end = r->pos + rdlength;

	memset(&a.addr, 0, sizeof a.addr);
	a.target[0] = '\0';
	switch (a.type) {
	case DNS_A:
		if (rdlength != 4)
			return false;
		a.addr.family = 4;
		memcpy(a.addr.bytes, r->msg + r->pos, 4);
		break;
	case DNS_AAAA:
		if (rdlength != 16)
			return false;
		a.addr.family = 6;
		memcpy(a.addr.bytes, r->msg + r->pos, 16);
		break;
	case DNS_CNAME: {
		/* The target may point back into the message, but its own bytes
		 * must stay inside the rdata. */
		struct dns_reader rd = { .msg = r->msg, .len = rdata_end, .pos = r->pos };
		bool target_cut;

		if (!read_name(&rd, a.target, &target_cut, true))
			return false;
		a.name_cut |= target_cut;
		break;
	}
	default:
		r->pos = rdata_end;
		return true;
	}
	r->pos = rdata_end;
	if (v && v->answer)
		v->answer(v->ctx, &a);
	return true;
}

bool dns_parse(const uint8_t *msg, size_t len, struct dns_header_info *hdr,
	       const struct dns_visitor *v)
{
	struct dns_reader r = { .msg = msg, .len = len, .pos = 0 };
	struct dns_header_info h;
	uint16_t flags, nscount, arcount;

	if (!msg || len < DNS_HEADER_LEN)
		return false;
	read_u16(&r, &h.id);
	read_u16(&r, &flags);
	read_u16(&r, &h.qdcount);
	read_u16(&r, &h.ancount);
	read_u16(&r, &nscount);
	read_u16(&r, &arcount);
	h.is_response = flags & 0x8000;
	h.rcode = flags & 0x000f;
	if (hdr)
		*hdr = h;

	/* Each record needs at least 5 (question) or 11 (answer) bytes, so the
	 * loops end on the length check long before a lying count matters. */
	for (unsigned i = 0; i < h.qdcount; i++)
		if (!parse_question(&r, v))
			return false;
	for (unsigned i = 0; i < h.ancount; i++)
		if (!parse_answer(&r, v))
			return false;
	return true;
}
