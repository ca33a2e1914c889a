/*
 * fuzz-dns.c — the DNS message parser and the IP → name map fed arbitrary
 * bytes. The map persists across inputs (bounded to a few entries) so that
 * eviction and history paths run too; every parsed name is checked to be
 * NUL-terminated printable text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/dns.h"

static void check_name(const char *name)
{
	size_t len = strnlen(name, DNS_NAME_MAX);

	if (len >= DNS_NAME_MAX)
		abort();
	for (size_t i = 0; i < len; i++)
		if (name[i] < 0x21 || name[i] > 0x7e || (name[i] >= 'A' && name[i] <= 'Z'))
			abort();
}

static void on_question(void *ctx, const struct dns_question *q)
{
	check_name(q->name);
	/* The name as sent differs from the lower-case one in letter case only. */
	for (size_t i = 0;; i++) {
		char c = q->name_as_sent[i];
		if ((c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c) != q->name[i])
			abort();
		if (!c)
			break;
	}
}

static void on_answer(void *ctx, const struct dns_answer *a)
{
	check_name(a->name);
	if (a->type == DNS_CNAME)
		check_name(a->target);
	else if (a->addr.family != 4 && a->addr.family != 6)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_map *map;
	static int64_t ts;
	struct dns_visitor v = { .question = on_question, .answer = on_answer };
	struct dns_header_info hdr;

	if (!map)
		map = dns_map_new(8);
	bool parsed = dns_parse(data, size, &hdr, &v);
	bool mapped = dns_map_add_response(map, data, size, ++ts);
	if (parsed != mapped || dns_map_size(map) > 8)
		abort();
	/* the header's bytes end up as an address: lookups hit real entries */
	if (size >= 4) {
		struct pa_addr a = { .family = 4 };
		memcpy(a.bytes, data, 4);
		const char *name = dns_map_lookup(map, &a, ts);
		if (name)
			check_name(name);
	}
	return 0;
}
