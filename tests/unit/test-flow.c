/* test-flow.c — the flow table: directions, counters, TCP state, timeouts,
 * eviction, port reuse, handshake timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <string.h>

#include "flow/flow.h"

struct ended {
	uint64_t ids[64];
	enum flow_end_reason why[64];
	size_t n;
};

static void on_end(void *ctx, struct flow *f, enum flow_end_reason why)
{
	struct ended *e = ctx;
	if (e->n < 64) {
		e->ids[e->n] = f->id;
		e->why[e->n] = why;
		e->n++;
	}
}

static struct pa_packet pkt(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			    uint8_t proto, uint8_t flags, int64_t ts_ms, uint32_t ip_len, uint32_t payload)
{
	struct pa_packet p;
	memset(&p, 0, sizeof p);
	assert_true(pa_addr_parse(src, &p.src));
	assert_true(pa_addr_parse(dst, &p.dst));
	p.ip_version = p.src.family;
	p.sport = sport;
	p.dport = dport;
	p.l4_proto = proto;
	p.tcp_flags = flags;
	p.ts_us = ts_ms * 1000;
	p.ip_len = ip_len;
	p.payload_wire_len = payload;
	return p;
}

static void test_both_directions_one_flow(void **state)
{
	struct ended e = {0};
	struct flow_config cfg = {0};
	struct flow_table *t = flow_table_new(&cfg, on_end, &e);
	enum pa_dir dir;
	bool created;

	struct pa_packet a = pkt("10.0.0.2", 40000, "39.156.66.10", 443, IPPROTO_TCP, PA_TCP_SYN, 1000, 60, 0);
	struct flow *f = flow_table_packet(t, &a, &dir, &created);
	assert_true(created);
	assert_int_equal(dir, PA_DIR_FROM_SRC);
	assert_int_equal(f->id, 1);

	struct pa_packet b = pkt("39.156.66.10", 443, "10.0.0.2", 40000, IPPROTO_TCP,
				 PA_TCP_SYN | PA_TCP_ACK, 1030, 60, 0);
	assert_ptr_equal(flow_table_packet(t, &b, &dir, &created), f);
	assert_false(created);
	assert_int_equal(dir, PA_DIR_FROM_DST);

	struct pa_packet c = pkt("10.0.0.2", 40000, "39.156.66.10", 443, IPPROTO_TCP, PA_TCP_ACK, 1031, 52, 0);
	flow_table_packet(t, &c, &dir, &created);
	struct pa_packet d = pkt("10.0.0.2", 40000, "39.156.66.10", 443, IPPROTO_TCP,
				 PA_TCP_ACK | PA_TCP_PSH, 1032, 552, 500);
	flow_table_packet(t, &d, &dir, &created);

	assert_int_equal(f->packets[PA_DIR_FROM_SRC], 3);
	assert_int_equal(f->packets[PA_DIR_FROM_DST], 1);
	assert_int_equal(f->ip_bytes[PA_DIR_FROM_SRC], 60 + 52 + 552);
	assert_int_equal(f->payload_bytes[PA_DIR_FROM_SRC], 500);
	assert_true(flow_rtt_server_ms(f) > 29.99 && flow_rtt_server_ms(f) < 30.01);
	assert_true(flow_rtt_client_ms(f) > 0.99 && flow_rtt_client_ms(f) < 1.01);

	flow_table_flush(t);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.why[0], FLOW_END_END_OF_INPUT);
	flow_table_free(t);
}

static void test_synack_first_makes_receiver_the_initiator(void **state)
{
	struct flow_config cfg = {0};
	struct flow_table *t = flow_table_new(&cfg, NULL, NULL);
	enum pa_dir dir;
	bool created;
	struct pa_packet b = pkt("39.156.66.10", 443, "10.0.0.2", 40000, IPPROTO_TCP,
				 PA_TCP_SYN | PA_TCP_ACK, 1000, 60, 0);
	struct flow *f = flow_table_packet(t, &b, &dir, &created);
	assert_int_equal(dir, PA_DIR_FROM_DST);
	assert_int_equal(f->sport, 40000);
	assert_int_equal(f->dport, 443);
	flow_table_free(t);
}

static void test_idle_timeouts_per_protocol(void **state)
{
	struct ended e = {0};
	struct flow_config cfg = {.tcp_idle_us = 300000000, .udp_idle_us = 60000000};
	struct flow_table *t = flow_table_new(&cfg, on_end, &e);
	enum pa_dir dir;
	bool created;
	struct pa_packet u = pkt("10.0.0.2", 5000, "8.8.8.8", 53, IPPROTO_UDP, 0, 0, 60, 32);
	struct pa_packet s = pkt("10.0.0.2", 40001, "8.8.8.8", 443, IPPROTO_TCP, PA_TCP_SYN, 0, 60, 0);
	flow_table_packet(t, &u, &dir, &created);
	flow_table_packet(t, &s, &dir, &created);

	flow_table_expire(t, 59 * 1000000LL);
	assert_int_equal(e.n, 0);
	flow_table_expire(t, 61 * 1000000LL);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.ids[0], 1);
	assert_int_equal(e.why[0], FLOW_END_IDLE);
	flow_table_expire(t, 301 * 1000000LL);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.ids[1], 2);
	assert_int_equal(flow_table_stats(t)->active, 0);
	flow_table_free(t);
}

static void test_fin_both_ways_then_linger_then_closed(void **state)
{
	struct ended e = {0};
	struct flow_config cfg = {.tcp_closed_us = 5000000};
	struct flow_table *t = flow_table_new(&cfg, on_end, &e);
	enum pa_dir dir;
	bool created;
	struct pa_packet p1 = pkt("10.0.0.2", 40000, "1.2.3.4", 80, IPPROTO_TCP, PA_TCP_FIN | PA_TCP_ACK, 0, 52, 0);
	struct pa_packet p2 = pkt("1.2.3.4", 80, "10.0.0.2", 40000, IPPROTO_TCP, PA_TCP_FIN | PA_TCP_ACK, 10, 52, 0);
	flow_table_packet(t, &p1, &dir, &created);
	flow_table_expire(t, 10 * 1000000LL); /* half closed: still the long TCP timeout */
	assert_int_equal(e.n, 0);
	p2.ts_us = 10 * 1000000LL;
	flow_table_packet(t, &p2, &dir, &created);
	flow_table_expire(t, 14 * 1000000LL);
	assert_int_equal(e.n, 0);
	flow_table_expire(t, 16 * 1000000LL);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.why[0], FLOW_END_CLOSED);
	flow_table_free(t);
}

static void test_new_syn_after_rst_is_a_new_flow(void **state)
{
	struct ended e = {0};
	struct flow_config cfg = {0};
	struct flow_table *t = flow_table_new(&cfg, on_end, &e);
	enum pa_dir dir;
	bool created;
	struct pa_packet syn = pkt("10.0.0.2", 40000, "1.2.3.4", 80, IPPROTO_TCP, PA_TCP_SYN, 0, 60, 0);
	syn.tcp_seq = 100;
	struct pa_packet rst = pkt("1.2.3.4", 80, "10.0.0.2", 40000, IPPROTO_TCP, PA_TCP_RST, 1, 40, 0);
	struct flow *f1 = flow_table_packet(t, &syn, &dir, &created);
	flow_table_packet(t, &rst, &dir, &created);
	/* the same SYN again is a retransmission, not a new connection */
	struct flow *again = flow_table_packet(t, &syn, &dir, &created);
	assert_ptr_equal(again, f1);
	assert_false(created);
	syn.tcp_seq = 99999;
	struct flow *f2 = flow_table_packet(t, &syn, &dir, &created);
	assert_true(created);
	assert_int_equal(f2->id, 2);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.why[0], FLOW_END_REUSED);
	flow_table_free(t);
}

static void test_cap_evicts_least_recent(void **state)
{
	struct ended e = {0};
	struct flow_config cfg = {.max_flows = 3};
	struct flow_table *t = flow_table_new(&cfg, on_end, &e);
	enum pa_dir dir;
	bool created;
	for (int i = 0; i < 5; i++) {
		struct pa_packet p = pkt("10.0.0.2", (uint16_t)(1000 + i), "1.2.3.4", 53, IPPROTO_UDP, 0, i, 60, 20);
		flow_table_packet(t, &p, &dir, &created);
	}
	assert_int_equal(flow_table_stats(t)->active, 3);
	assert_int_equal(flow_table_stats(t)->ended[FLOW_END_EVICTED], 2);
	assert_int_equal(e.ids[0], 1);
	assert_int_equal(e.ids[1], 2);
	flow_table_free(t);
}

static void test_many_flows_grow_and_find(void **state)
{
	struct flow_config cfg = {0};
	struct flow_table *t = flow_table_new(&cfg, NULL, NULL);
	enum pa_dir dir;
	bool created;
	for (int i = 0; i < 20000; i++) {
		struct pa_packet p = pkt("2001:db8::2", (uint16_t)(i % 60000 + 1), "2600:1f00::10", (uint16_t)(443 + i / 60000),
					 IPPROTO_TCP, PA_TCP_SYN, i, 80, 0);
		flow_table_packet(t, &p, &dir, &created);
		assert_true(created);
	}
	struct pa_packet back = pkt("2600:1f00::10", 443, "2001:db8::2", 12345, IPPROTO_TCP, PA_TCP_ACK, 30000, 60, 0);
	struct flow *f = flow_table_packet(t, &back, &dir, &created);
	assert_false(created);
	assert_int_equal(dir, PA_DIR_FROM_DST);
	assert_int_equal(f->sport, 12345);
	assert_int_equal(flow_table_stats(t)->active, 20000);
	flow_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_directions_one_flow),
		cmocka_unit_test(test_synack_first_makes_receiver_the_initiator),
		cmocka_unit_test(test_idle_timeouts_per_protocol),
		cmocka_unit_test(test_fin_both_ways_then_linger_then_closed),
		cmocka_unit_test(test_new_syn_after_rst_is_a_new_flow),
		cmocka_unit_test(test_cap_evicts_least_recent),
		cmocka_unit_test(test_many_flows_grow_and_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
