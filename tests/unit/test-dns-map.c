/* test-dns-map.c — the IP → name map: attribution to the question at the
 * start of a CNAME chain, the latest name answered at or before a time,
 * history and eviction bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "app/dns.h"
#include "test-dns-helpers.h"

static const char *lookup(const struct dns_map *m, const char *addr, int64_t ts)
{
	struct pa_addr a = addr_of(addr);
	return dns_map_lookup(m, &a, ts);
}

static void add(struct dns_map *m, const char *addr, const char *name, int64_t ts)
{
	struct pa_addr a = addr_of(addr);
	dns_map_add(m, &a, name, ts);
}

static void test_real_chain_maps_to_question(void **state)
{
	struct dns_map *m = dns_map_new(0);
	struct msg msg;

	load_hex("android-captive-cname.hex", &msg);
	assert_true(dns_map_add_response(m, msg.b, msg.n, 1000));
	assert_int_equal(dns_map_size(m), 2);
	assert_string_equal(lookup(m, "17.253.53.201", 1000), "captive.apple.com");
	assert_string_equal(lookup(m, "17.253.53.208", 5000), "captive.apple.com");
	assert_null(lookup(m, "17.253.53.201", 999)); /* asked before the answer */
	assert_null(lookup(m, "17.253.53.209", 5000));
	dns_map_free(m);
}

static void test_crafted_chain_and_aaaa(void **state)
{
	struct dns_map *m = dns_map_new(0);
	struct msg msg = { 0 };

	build_chain_response(&msg);
	assert_true(dns_map_add_response(m, msg.b, msg.n, 10));
	assert_string_equal(lookup(m, "192.0.2.7", 10), "a.example");
	assert_string_equal(lookup(m, "2001:db8::7", 10), "a.example");
	/* the same bytes as IPv4 and IPv6 are different addresses */
	assert_null(lookup(m, "::ffff:192.0.2.7", 10));
	dns_map_free(m);
}

/* The A record's owner is not reached from the question: its own name. */
static void test_unfollowable_chain_uses_owner(void **state)
{
	struct dns_map *m = dns_map_new(0);
	struct msg msg = { 0 };

	put_header(&msg, 0x8180, 1, 2);
	put_name(&msg, "asked.example");
	put16(&msg, DNS_A);
	put16(&msg, 1);
	/* asked.example CNAME elsewhere.example, but the A is for other.example */
	put_rr_head(&msg, 12, DNS_CNAME, 19);
	put_name(&msg, "elsewhere.example");
	size_t other = msg.n;
	put_name(&msg, "other.example");
	put16(&msg, DNS_A);
	put16(&msg, 1);
	put32(&msg, 60);
	put16(&msg, 4);
	put32(&msg, 0xc6336401); /* 198.51.100.1 */
	assert_true(other > 12);
	assert_true(dns_map_add_response(m, msg.b, msg.n, 5));
	assert_string_equal(lookup(m, "198.51.100.1", 5), "other.example");
	dns_map_free(m);
}

/* A CNAME loop inside the message must not hang the chain walk. */
static void test_cname_loop(void **state)
{
	struct dns_map *m = dns_map_new(0);
	struct msg msg = { 0 };

	put_header(&msg, 0x8180, 1, 3);
	put_name(&msg, "x.example");
	put16(&msg, DNS_A);
	put16(&msg, 1);
	put_rr_head(&msg, 12, DNS_CNAME, 11);
	size_t y = msg.n;
	put_name(&msg, "y.example");
	put_rr_head(&msg, (uint16_t)y, DNS_CNAME, 2);
	put16(&msg, 0xc000 | 12); /* y CNAME x */
	put_name(&msg, "z.example");
	put16(&msg, DNS_A);
	put16(&msg, 1);
	put32(&msg, 60);
	put16(&msg, 4);
	put32(&msg, 0xcb007105); /* 203.0.113.5 */
	assert_true(dns_map_add_response(m, msg.b, msg.n, 1));
	assert_string_equal(lookup(m, "203.0.113.5", 1), "z.example");
	dns_map_free(m);
}

/* mDNS announcement: no question at all. */
static void test_mdns_owner_names(void **state)
{
	struct dns_map *m = dns_map_new(0);
	struct msg msg;

	load_hex("mdns-iphone.hex", &msg);
	assert_true(dns_map_add_response(m, msg.b, msg.n, 7));
	assert_int_equal(dns_map_size(m), 5);
	assert_string_equal(lookup(m, "65.50.124.125", 7), "cs-iphone.local");
	assert_string_equal(lookup(m, "2607:f1e8:41b6:3901:da9e:3fff:fe65:955a", 7),
			    "cs-iphone.local");
	dns_map_free(m);
}

static void test_queries_and_damage_add_nothing(void **state)
{
	struct dns_map *m = dns_map_new(0);
	struct msg msg;

	load_hex("dnscat-query.hex", &msg);
	assert_true(dns_map_add_response(m, msg.b, msg.n, 1));
	assert_int_equal(dns_map_size(m), 0);

	load_hex("malformed-long-name.hex", &msg);
	assert_false(dns_map_add_response(m, msg.b, msg.n, 1));
	assert_int_equal(dns_map_size(m), 0);

	assert_false(dns_map_add_response(m, msg.b, 5, 1));
	assert_int_equal(dns_map_size(m), 0);
	dns_map_free(m);
}

/* A response cut after its first answer still told the device that address. */
static void test_truncated_response_keeps_clean_answers(void **state)
{
	struct dns_map *m = dns_map_new(0);
	struct msg msg;

	load_hex("tcpdump-over-tcp.hex", &msg);
	assert_false(dns_map_add_response(m, msg.b + 2, 12 + 21 + 16 + 5, 3));
	assert_int_equal(dns_map_size(m), 1);
	assert_string_equal(lookup(m, "192.139.46.66", 3), "www.tcpdump.org");
	assert_null(lookup(m, "198.199.88.104", 3));
	dns_map_free(m);
}

static void test_latest_at_or_before(void **state)
{
	struct dns_map *m = dns_map_new(0);

	add(m, "192.0.2.1", "first.example", 100);
	add(m, "192.0.2.1", "second.example", 200);
	assert_null(lookup(m, "192.0.2.1", 99));
	assert_string_equal(lookup(m, "192.0.2.1", 100), "first.example");
	assert_string_equal(lookup(m, "192.0.2.1", 199), "first.example");
	assert_string_equal(lookup(m, "192.0.2.1", 200), "second.example");
	assert_string_equal(lookup(m, "192.0.2.1", 100000), "second.example");

	/* the first name answered again: current from 300 on, second still at 250 */
	add(m, "192.0.2.1", "first.example", 300);
	assert_string_equal(lookup(m, "192.0.2.1", 250), "second.example");
	assert_string_equal(lookup(m, "192.0.2.1", 300), "first.example");
	assert_string_equal(lookup(m, "192.0.2.1", 150), "first.example");

	/* a repeat of the current name changes nothing */
	add(m, "192.0.2.1", "first.example", 400);
	assert_string_equal(lookup(m, "192.0.2.1", 350), "first.example");
	assert_string_equal(lookup(m, "192.0.2.1", 250), "second.example");
	assert_int_equal(dns_map_size(m), 1);
	dns_map_free(m);
}

/* Merged captures may hand answers out of time order. */
static void test_out_of_order_answers(void **state)
{
	struct dns_map *m = dns_map_new(0);

	add(m, "192.0.2.2", "late.example", 200);
	add(m, "192.0.2.2", "early.example", 100);
	assert_string_equal(lookup(m, "192.0.2.2", 150), "early.example");
	assert_string_equal(lookup(m, "192.0.2.2", 250), "late.example");
	/* the same name answered earlier than recorded: its run starts earlier */
	add(m, "192.0.2.2", "late.example", 180);
	assert_string_equal(lookup(m, "192.0.2.2", 185), "late.example");
	assert_string_equal(lookup(m, "192.0.2.2", 150), "early.example");
	dns_map_free(m);
}

/* Four names per address, newest first: the oldest falls out. */
static void test_history_bound(void **state)
{
	struct dns_map *m = dns_map_new(0);
	char name[32];

	for (int i = 1; i <= 6; i++) {
		snprintf(name, sizeof name, "n%d.example", i);
		add(m, "2001:db8::1", name, i * 10);
	}
	assert_null(lookup(m, "2001:db8::1", 25)); /* n2 forgotten */
	assert_string_equal(lookup(m, "2001:db8::1", 30), "n3.example");
	assert_string_equal(lookup(m, "2001:db8::1", 45), "n4.example");
	assert_string_equal(lookup(m, "2001:db8::1", 60), "n6.example");
	/* older than everything kept: not recorded */
	add(m, "2001:db8::1", "ancient.example", 1);
	assert_null(lookup(m, "2001:db8::1", 5));
	dns_map_free(m);
}

/* max_entries addresses; the one answered least recently goes first. */
static void test_eviction_bound(void **state)
{
	struct dns_map *m = dns_map_new(4);
	char addr[32];

	for (int i = 1; i <= 4; i++) {
		snprintf(addr, sizeof addr, "10.0.0.%d", i);
		add(m, addr, "x.example", i);
	}
	add(m, "10.0.0.1", "again.example", 10); /* 10.0.0.2 is now the oldest */
	add(m, "10.0.0.5", "y.example", 11);
	assert_int_equal(dns_map_size(m), 4);
	assert_null(lookup(m, "10.0.0.2", 100));
	assert_string_equal(lookup(m, "10.0.0.1", 100), "again.example");
	assert_string_equal(lookup(m, "10.0.0.3", 100), "x.example");
	assert_string_equal(lookup(m, "10.0.0.5", 100), "y.example");

	/* a long run stays at the bound and keeps the newest */
	for (int i = 0; i < 1000; i++) {
		snprintf(addr, sizeof addr, "10.1.%d.%d", i / 256, i % 256);
		add(m, addr, i % 2 ? "odd.example" : "even.example", 100 + i);
	}
	assert_int_equal(dns_map_size(m), 4);
	assert_string_equal(lookup(m, "10.1.3.231", 5000), "odd.example");   /* i = 999 */
	assert_string_equal(lookup(m, "10.1.3.228", 5000), "even.example");  /* i = 996 */
	assert_null(lookup(m, "10.1.3.227", 5000));                          /* i = 995 */
	assert_null(lookup(m, "10.0.0.1", 5000));
	dns_map_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_chain_maps_to_question),
		cmocka_unit_test(test_crafted_chain_and_aaaa),
		cmocka_unit_test(test_unfollowable_chain_uses_owner),
		cmocka_unit_test(test_cname_loop),
		cmocka_unit_test(test_mdns_owner_names),
		cmocka_unit_test(test_queries_and_damage_add_nothing),
		cmocka_unit_test(test_truncated_response_keeps_clean_answers),
		cmocka_unit_test(test_latest_at_or_before),
		cmocka_unit_test(test_out_of_order_answers),
		cmocka_unit_test(test_history_bound),
		cmocka_unit_test(test_eviction_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
