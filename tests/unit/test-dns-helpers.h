/* test-dns-helpers.h — shared by test-dns.c and test-dns-map.c: DNS messages
 * loaded from tests/data/dns/NAME.hex (payloads exported by tshark) or built
 * byte by byte, and a visitor that records what the parser reported. */
#ifndef TEST_DNS_HELPERS_H
#define TEST_DNS_HELPERS_H

#include <stdio.h>
#include <string.h>

#include "app/dns.h"

struct msg {
	uint8_t b[4096];
	size_t n;
};

static inline void load_hex(const char *name, struct msg *m)
{
	char path[512];
	int c, hi = -1;

	snprintf(path, sizeof path, "%s/dns/%s", PA_TEST_DATA, name);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	m->n = 0;
	while ((c = fgetc(f)) != EOF) {
		int v;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			assert_true(m->n < sizeof m->b);
			m->b[m->n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	fclose(f);
	assert_true(m->n >= 12);
}

static inline void put8(struct msg *m, uint8_t v)
{
	assert_true(m->n < sizeof m->b);
	m->b[m->n++] = v;
}

static inline void put16(struct msg *m, uint16_t v)
{
	put8(m, (uint8_t)(v >> 8));
	put8(m, (uint8_t)v);
}

static inline void put32(struct msg *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

static inline void put_raw(struct msg *m, const void *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		put8(m, ((const uint8_t *)data)[i]);
}

/* "a.b.c" as uncompressed labels with the root byte. */
static inline void put_name(struct msg *m, const char *dotted)
{
	while (*dotted) {
		const char *dot = strchr(dotted, '.');
		size_t len = dot ? (size_t)(dot - dotted) : strlen(dotted);
		put8(m, (uint8_t)len);
		put_raw(m, dotted, len);
		dotted += len + (dot ? 1 : 0);
	}
	put8(m, 0);
}

static inline void put_header(struct msg *m, uint16_t flags, uint16_t qd, uint16_t an)
{
	put16(m, 0x4242);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, 0);
	put16(m, 0);
}

static inline void put_rr_head(struct msg *m, uint16_t owner_ptr, uint16_t type, uint16_t rdlength)
{
	put16(m, (uint16_t)(0xc000 | owner_ptr));
	put16(m, type);
	put16(m, 1);
	put32(m, 300);
	put16(m, rdlength);
}

/* a.example CNAME b.example, b.example CNAME c.example, c.example A 192.0.2.7,
 * c.example AAAA 2001:db8::7 — every name after the question compressed. */
static inline void build_chain_response(struct msg *m)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };

	put_header(m, 0x8180, 1, 4);
	put_name(m, "a.example"); /* at 12; "example" at 14 */
	put16(m, DNS_A);
	put16(m, 1);
	put_rr_head(m, 12, DNS_CNAME, 4);
	size_t b_at = m->n;
	put8(m, 1);
	put8(m, 'b');
	put16(m, 0xc000 | 14);
	put_rr_head(m, (uint16_t)b_at, DNS_CNAME, 4);
	size_t c_at = m->n;
	put8(m, 1);
	put8(m, 'C'); /* case folded */
	put16(m, 0xc000 | 14);
	put_rr_head(m, (uint16_t)c_at, DNS_A, 4);
	put32(m, 0xc0000207);
	put_rr_head(m, (uint16_t)c_at, DNS_AAAA, 16);
	put_raw(m, v6, 16);
}

struct seen {
	struct dns_question q[40];
	size_t nq;
	struct dns_answer a[16];
	size_t na;
	struct dns_visitor v;
};

static inline void seen_question(void *ctx, const struct dns_question *q)
{
	struct seen *s = ctx;
	if (s->nq < 40)
		s->q[s->nq++] = *q;
}

static inline void seen_answer(void *ctx, const struct dns_answer *a)
{
	struct seen *s = ctx;
	if (s->na < 16)
		s->a[s->na++] = *a;
}

static inline struct seen *seen_visitor(struct seen *s)
{
	s->v.ctx = s;
	s->v.question = seen_question;
	s->v.answer = seen_answer;
	return s;
}

/* Text of an address; four rotating buffers so one assert can use two. */
static inline const char *addr_text(const struct pa_addr *a)
{
	static char buf[4][64];
	static unsigned next;
	char *out = buf[next++ % 4];
	return pa_addr_str(a, out, 64);
}

static inline struct pa_addr addr_of(const char *text)
{
	struct pa_addr a;
	assert_true(pa_addr_parse(text, &a));
	return a;
}

#endif
