/* test-dns.c — the DNS message parser: real messages taken from the shared
 * captures (names and addresses as tshark shows them) and crafted damage:
 * compression loops, pointers past the end, long labels and names, short
 * rdata, escaping of unprintable bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "app/dns.h"
#include "test-dns-helpers.h"

/* ---- real messages ---- */

static void test_cname_chain_android(void **state)
{
	struct msg m;
	struct seen s = { 0 };
	struct dns_header_info h;

	load_hex("android-captive-cname.hex", &m);
	assert_true(dns_parse(m.b, m.n, &h, &seen_visitor(&s)->v));
	assert_int_equal(h.id, 0xfba6);
	assert_true(h.is_response);
	assert_int_equal(h.rcode, 0);
	assert_int_equal(h.qdcount, 1);
	assert_int_equal(h.ancount, 5);
	assert_int_equal(s.nq, 1);
	assert_string_equal(s.q[0].name, "captive.apple.com");
	assert_int_equal(s.q[0].qtype, DNS_A);
	assert_int_equal(s.q[0].qclass, 1);
	assert_int_equal(s.na, 5);
	assert_int_equal(s.a[0].type, DNS_CNAME);
	assert_string_equal(s.a[0].name, "captive.apple.com");
	assert_string_equal(s.a[0].target, "captive-cidr.origin-apple.com.akadns.net");
	assert_string_equal(s.a[1].target, "captive-cdn.origin-apple.com.akadns.net");
	assert_string_equal(s.a[2].name, "captive-cdn.origin-apple.com.akadns.net");
	assert_string_equal(s.a[2].target, "captive.g.aaplimg.com");
	assert_int_equal(s.a[3].type, DNS_A);
	assert_string_equal(s.a[3].name, "captive.g.aaplimg.com");
	assert_string_equal(addr_text(&s.a[3].addr), "17.253.53.201");
	assert_string_equal(addr_text(&s.a[4].addr), "17.253.53.208");
}

/* type ANY: NS, MX and SOA answers are skipped by rdlength, the one A kept. */
static void test_any_skips_other_types(void **state)
{
	struct msg m;
	struct seen s = { 0 };
	struct dns_header_info h;

	load_hex("v6-itojun-any.hex", &m);
	assert_true(dns_parse(m.b, m.n, &h, &seen_visitor(&s)->v));
	assert_int_equal(h.ancount, 6);
	assert_string_equal(s.q[0].name, "itojun.org");
	assert_int_equal(s.q[0].qtype, 255);
	assert_int_equal(s.na, 1);
	assert_int_equal(s.a[0].type, DNS_A);
	assert_string_equal(s.a[0].name, "itojun.org");
	assert_string_equal(addr_text(&s.a[0].addr), "210.160.95.97");
}

static void test_aaaa(void **state)
{
	struct msg m;
	struct seen s = { 0 };

	load_hex("v6-kiwi-aaaa.hex", &m);
	assert_true(dns_parse(m.b, m.n, NULL, &seen_visitor(&s)->v));
	assert_int_equal(s.q[0].qtype, DNS_AAAA);
	assert_int_equal(s.na, 2);
	assert_int_equal(s.a[0].type, DNS_AAAA);
	assert_int_equal(s.a[0].addr.family, 6);
	assert_string_equal(addr_text(&s.a[0].addr), "3ffe:501:410:0:2c0:dfff:fe47:33e");
	assert_string_equal(addr_text(&s.a[1].addr), "3ffe:501:410:100:5254:ff:feda:48bf");
}

/* mDNS: no question, owner names in mixed case, cache-flush bit in the class. */
static void test_mdns_lower_case(void **state)
{
	struct msg m;
	struct seen s = { 0 };
	struct dns_header_info h;

	load_hex("mdns-iphone.hex", &m);
	assert_true(dns_parse(m.b, m.n, &h, &seen_visitor(&s)->v));
	assert_int_equal(h.qdcount, 0);
	assert_int_equal(s.nq, 0);
	assert_int_equal(s.na, 5); /* 1 A + 4 AAAA; the 4 PTR skipped */
	assert_string_equal(s.a[0].name, "cs-iphone.local");
	assert_string_equal(addr_text(&s.a[0].addr), "65.50.124.125");
	assert_string_equal(addr_text(&s.a[1].addr), "fe80::da9e:3fff:fe65:955a");
	assert_string_equal(addr_text(&s.a[4].addr), "fec0::c:da9e:3fff:fe65:955a");
}

/* DNS over TCP: the message after its 2-byte length prefix. */
static void test_over_tcp(void **state)
{
	struct msg m;
	struct seen s = { 0 };
	struct dns_header_info h;

	load_hex("tcpdump-over-tcp.hex", &m);
	assert_int_equal(m.n, 226);
	assert_int_equal(m.b[0] << 8 | m.b[1], 224);
	assert_true(dns_parse(m.b + 2, m.n - 2, &h, &seen_visitor(&s)->v));
	assert_int_equal(h.id, 0x4319);
	assert_string_equal(s.q[0].name, "www.tcpdump.org");
	assert_int_equal(s.na, 2); /* the additional section's addresses are not answers */
	assert_string_equal(addr_text(&s.a[0].addr), "192.139.46.66");
	assert_string_equal(addr_text(&s.a[1].addr), "198.199.88.104");
	assert_int_equal(s.a[0].ttl, 60);
	/* cut anywhere before the end of the answers: malformed */
	for (size_t cut = 0; cut < 12 + 21 + 2 * 16; cut++)
		assert_false(dns_parse(m.b + 2, cut, NULL, NULL));
	/* authority and additional sections are not read */
	assert_true(dns_parse(m.b + 2, 12 + 21 + 2 * 16, NULL, NULL));
}

/* Bytes 1, 2, 3 inside a label: printed as dig and tshark print them. */
static void test_unprintable_escaped(void **state)
{
	struct msg m;
	struct seen s = { 0 };

	load_hex("invalid-chars.hex", &m);
	assert_true(dns_parse(m.b, m.n, NULL, &seen_visitor(&s)->v));
	assert_string_equal(s.q[0].name, "www.allyourbasesare\\001\\002\\003ongto.cn");
	assert_string_equal(s.a[0].name, "www.allyourbasesare\\001\\002\\003ongto.cn");
	assert_string_equal(addr_text(&s.a[0].addr), "19.185.141.241");
}

/* A dnscat2 tunnel query: data hidden in a 60-byte label, type MX. */
static void test_tunnel_query(void **state)
{
	struct msg m;
	struct seen s = { 0 };
	struct dns_header_info h;

	load_hex("dnscat-query.hex", &m);
	assert_true(dns_parse(m.b, m.n, &h, &seen_visitor(&s)->v));
	assert_false(h.is_response);
	assert_int_equal(h.id, 0x9913);
	assert_int_equal(s.q[0].qtype, 15);
	assert_string_equal(s.q[0].name,
			    "b73f01a621c362010a57656c636f6d6520746f20646e7363617021205468."
			    "6520666c61672069732062656c6f772c20686176652066756e21210a."
			    "skullseclabs.org");
}

/* The second question's name runs past 255 bytes: malformed, but the first
 * question was already visited. */
static void test_real_name_too_long(void **state)
{
	struct msg m;
	struct seen s = { 0 };

	load_hex("malformed-long-name.hex", &m);
	assert_false(dns_parse(m.b, m.n, NULL, &seen_visitor(&s)->v));
	assert_int_equal(s.nq, 1);
	assert_string_equal(s.q[0].name, "www.xt.com");
	assert_int_equal(s.na, 0);
}

/* ---- crafted ---- */

static void test_pointer_to_itself(void **state)
{
	struct msg m = { 0 };

	put_header(&m, 0x8000, 1, 0);
	put16(&m, 0xc00c); /* the name at 12 points to 12 */
	put16(&m, 1);
	put16(&m, 1);
	assert_false(dns_parse(m.b, m.n, NULL, NULL));
}

static void test_pointer_forward_and_past_end(void **state)
{
	struct msg m = { 0 };

	put_header(&m, 0x8000, 1, 0);
	put16(&m, 0xc00e); /* forward, to 14 */
	put16(&m, 0xc00c); /* which would point back: a two-pointer loop */
	put16(&m, 1);
	assert_false(dns_parse(m.b, m.n, NULL, NULL));

	struct msg p = { 0 };
	put_header(&p, 0x8000, 1, 0);
	put16(&p, 0xc3ff); /* far past the end */
	put16(&p, 1);
	put16(&p, 1);
	assert_false(dns_parse(p.b, p.n, NULL, NULL));

	/* a label, then a pointer back to that label: "a.a.a..." */
	struct msg self = { 0 };
	put_header(&self, 0x8000, 1, 0);
	put8(&self, 1);
	put8(&self, 'a');
	put16(&self, 0xc00c);
	put16(&self, 1);
	put16(&self, 1);
	assert_false(dns_parse(self.b, self.n, NULL, NULL));

	struct msg half = { 0 };
	put_header(&half, 0x8000, 1, 0);
	put8(&half, 0xc0); /* pointer cut after its first byte */
	assert_false(dns_parse(half.b, half.n, NULL, NULL));
}

/* Question k points to question k-1: k-1 jumps. 32 are allowed, 33 not. */
static void test_pointer_chain_bound(void **state)
{
	for (unsigned questions = 33; questions <= 34; questions++) {
		struct msg m = { 0 };
		struct seen s = { 0 };
		size_t prev;

		put_header(&m, 0x0000, (uint16_t)questions, 0);
		prev = m.n;
		put_name(&m, "deep.example");
		put16(&m, 1);
		put16(&m, 1);
		for (unsigned k = 2; k <= questions; k++) {
			size_t here = m.n;
			put16(&m, (uint16_t)(0xc000 | prev));
			put16(&m, 1);
			put16(&m, 1);
			prev = here;
		}
		bool ok = dns_parse(m.b, m.n, NULL, &seen_visitor(&s)->v);
		if (questions == 33) {
			assert_true(ok);
			assert_int_equal(s.nq, 33);
			assert_string_equal(s.q[32].name, "deep.example");
		} else {
			assert_false(ok);
			assert_int_equal(s.nq, 33);
		}
	}
}

static void test_label_lengths(void **state)
{
	char label63[64], name[300];
	struct msg m = { 0 };
	struct seen s = { 0 };

	memset(label63, 'x', 63);
	label63[63] = '\0';
	put_header(&m, 0, 1, 0);
	put_name(&m, label63);
	put16(&m, 1);
	put16(&m, 1);
	assert_true(dns_parse(m.b, m.n, NULL, &seen_visitor(&s)->v));
	assert_string_equal(s.q[0].name, label63);

	/* 0x40 in the length byte: 64 is no label length (an obsolete label type) */
	struct msg l64 = { 0 };
	put_header(&l64, 0, 1, 0);
	put8(&l64, 64);
	for (int i = 0; i < 64; i++)
		put8(&l64, 'x');
	put8(&l64, 0);
	put16(&l64, 1);
	put16(&l64, 1);
	assert_false(dns_parse(l64.b, l64.n, NULL, NULL));

	/* 63+63+63+61 bytes of labels: 255 on the wire, the limit */
	snprintf(name, sizeof name, "%s.%s.%s.%.61s", label63, label63, label63, label63);
	struct msg max = { 0 };
	struct seen s2 = { 0 };
	put_header(&max, 0, 1, 0);
	put_name(&max, name);
	put16(&max, 1);
	put16(&max, 1);
	assert_true(dns_parse(max.b, max.n, NULL, &seen_visitor(&s2)->v));
	assert_int_equal(strlen(s2.q[0].name), 253);
	assert_false(s2.q[0].name_cut);

	/* one byte more: 256 */
	snprintf(name, sizeof name, "%s.%s.%s.%.62s", label63, label63, label63, label63);
	struct msg over = { 0 };
	put_header(&over, 0, 1, 0);
	put_name(&over, name);
	put16(&over, 1);
	put16(&over, 1);
	assert_false(dns_parse(over.b, over.n, NULL, NULL));
}

/* Uppercase folded; dot, backslash, space and 0xff escaped like dig. */
static void test_escaping(void **state)
{
	static const uint8_t label[] = { 'A', ' ', 'b', '.', 'c', '\\', 'D', 0xff };
	struct msg m = { 0 };
	struct seen s = { 0 };

	put_header(&m, 0, 1, 0);
	put8(&m, sizeof label);
	put_raw(&m, label, sizeof label);
	put_name(&m, "Example.COM");
	put16(&m, 1);
	put16(&m, 1);
	assert_true(dns_parse(m.b, m.n, NULL, &seen_visitor(&s)->v));
	assert_string_equal(s.q[0].name, "a\\032b\\.c\\\\d\\255.example.com");
}

/* Binary labels whose escaped form outgrows the buffer: cut at a whole
 * escape, flagged, still delivered. The root name is the empty string. */
static void test_presentation_cut(void **state)
{
	struct msg m = { 0 };
	struct seen s = { 0 };
	uint8_t binary[63];

	memset(binary, 0x01, sizeof binary);
	put_header(&m, 0, 2, 0);
	for (int i = 0; i < 3; i++) {
		put8(&m, 63);
		put_raw(&m, binary, 63);
	}
	put8(&m, 0);
	put16(&m, 1);
	put16(&m, 1);
	put8(&m, 0); /* root */
	put16(&m, 2);
	put16(&m, 1);
	assert_true(dns_parse(m.b, m.n, NULL, &seen_visitor(&s)->v));
	assert_int_equal(s.nq, 2);
	assert_true(s.q[0].name_cut);
	size_t len = strlen(s.q[0].name);
	assert_true(len <= DNS_NAME_MAX - 1);
	assert_int_equal(len % 4, 0); /* only whole "\001" escapes: 63 of them */
	assert_int_equal(len, 63 * 4);
	assert_memory_equal(s.q[0].name, "\\001\\001", 8);
	assert_string_equal(s.q[1].name, "");
	assert_false(s.q[1].name_cut);
}

static void test_short_rdata(void **state)
{
	struct msg m = { 0 };

	/* rdlength 4, two bytes present */
	put_header(&m, 0x8180, 0, 1);
	put_name(&m, "a.example");
	put16(&m, DNS_A);
	put16(&m, 1);
	put32(&m, 60);
	put16(&m, 4);
	put16(&m, 0x0102);
	assert_false(dns_parse(m.b, m.n, NULL, NULL));

	/* A with rdlength 5 */
	struct msg five = { 0 };
	put_header(&five, 0x8180, 0, 1);
	put_name(&five, "a.example");
	put16(&five, DNS_A);
	put16(&five, 1);
	put32(&five, 60);
	put16(&five, 5);
	put32(&five, 0x01020304);
	put8(&five, 5);
	assert_false(dns_parse(five.b, five.n, NULL, NULL));

	/* CNAME whose target runs past its rdlength */
	struct msg cn = { 0 };
	put_header(&cn, 0x8180, 0, 1);
	put_name(&cn, "a.example");
	put16(&cn, DNS_CNAME);
	put16(&cn, 1);
	put32(&cn, 60);
	put16(&cn, 3);
	put_name(&cn, "b.example");
	assert_false(dns_parse(cn.b, cn.n, NULL, NULL));

	/* an unknown type's rdata is skipped, but must be there */
	struct msg txt = { 0 };
	put_header(&txt, 0x8180, 0, 1);
	put_name(&txt, "a.example");
	put16(&txt, 16);
	put16(&txt, 1);
	put32(&txt, 60);
	put16(&txt, 10);
	put32(&txt, 0);
	assert_false(dns_parse(txt.b, txt.n, NULL, NULL));
	put32(&txt, 0);
	put16(&txt, 0);
	assert_true(dns_parse(txt.b, txt.n, NULL, NULL));
}

static void test_crafted_chain_with_pointers(void **state)
{
	struct msg m = { 0 };
	struct seen s = { 0 };

	build_chain_response(&m);
	assert_true(dns_parse(m.b, m.n, NULL, &seen_visitor(&s)->v));
	assert_int_equal(s.na, 4);
	assert_string_equal(s.a[0].name, "a.example");
	assert_string_equal(s.a[0].target, "b.example");
	assert_string_equal(s.a[1].target, "c.example");
	assert_string_equal(s.a[2].name, "c.example");
	assert_string_equal(addr_text(&s.a[2].addr), "192.0.2.7");
	assert_string_equal(addr_text(&s.a[3].addr), "2001:db8::7");
}

static void test_header_only_and_short(void **state)
{
	static const uint8_t empty_response[12] = { 0x12, 0x34, 0x81, 0x83 };
	struct dns_header_info h;

	assert_true(dns_parse(empty_response, 12, &h, NULL));
	assert_int_equal(h.id, 0x1234);
	assert_true(h.is_response);
	assert_int_equal(h.rcode, 3);
	assert_false(dns_parse(empty_response, 11, &h, NULL));
	assert_false(dns_parse(NULL, 0, &h, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cname_chain_android),
		cmocka_unit_test(test_any_skips_other_types),
		cmocka_unit_test(test_aaaa),
		cmocka_unit_test(test_mdns_lower_case),
		cmocka_unit_test(test_over_tcp),
		cmocka_unit_test(test_unprintable_escaped),
		cmocka_unit_test(test_tunnel_query),
		cmocka_unit_test(test_real_name_too_long),
		cmocka_unit_test(test_pointer_to_itself),
		cmocka_unit_test(test_pointer_forward_and_past_end),
		cmocka_unit_test(test_pointer_chain_bound),
		cmocka_unit_test(test_label_lengths),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_presentation_cut),
		cmocka_unit_test(test_short_rdata),
		cmocka_unit_test(test_crafted_chain_with_pointers),
		cmocka_unit_test(test_header_only_and_short),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
