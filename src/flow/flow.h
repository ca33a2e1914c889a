/*
 * flow.h — the bidirectional flow table: one record per 5-tuple (+ VLAN),
 * idle timeouts per protocol, TCP FIN/RST handling, and a cap on the number
 * of flows with counted evictions.
 *
 * A flow's "src" is its initiator: the sender of the SYN for TCP, else the
 * sender of the first packet seen. Stage state hangs off the flow (classify,
 * streams, app parsers) and is released by the flow-end callback.
 */
#ifndef PA_FLOW_H
#define PA_FLOW_H

#include "privaudit.h"

struct classify_flow;
struct geo_result;
struct flow_app; /* per-flow application-layer state, owned by the pipeline */

enum flow_end_reason {
	FLOW_END_IDLE,         /* no packet for the protocol's idle timeout */
	FLOW_END_CLOSED,       /* TCP FIN both ways or RST, then a short linger */
	FLOW_END_EVICTED,      /* the table was full: least recently seen flow ended early */
	FLOW_END_END_OF_INPUT, /* still open when the input ended */
	FLOW_END_REUSED,       /* a new SYN reused the 5-tuple of a closed connection */
};
const char *flow_end_reason_name(enum flow_end_reason r);

enum hostname_source { HOSTNAME_NONE, HOSTNAME_SNI, HOSTNAME_HTTP, HOSTNAME_DNS };
const char *hostname_source_name(enum hostname_source s);

/* Which endpoint is the test device. */
enum device_side { DEVICE_SIDE_UNKNOWN = -1, DEVICE_SIDE_SRC = 0, DEVICE_SIDE_DST = 1 };

struct flow {
	uint64_t id;            /* 1-based, in order of creation */
	struct flow *hash_next; /* bucket chain */
	struct flow *lru_prev;  /* recency list, most recent at the head */
	struct flow *lru_next;

	/* identity, initiator first */
	struct pa_addr src, dst;
	uint16_t sport, dport;
	uint8_t proto;          /* IPPROTO_* */
	uint16_t vlan;          /* outermost VLAN id, 0 = none */
	int8_t device_side;     /* enum device_side */

	/* counters, [PA_DIR_FROM_SRC] and [PA_DIR_FROM_DST] */
	uint64_t packets[2];
	uint64_t ip_bytes[2];
	uint64_t payload_bytes[2];
	int64_t ts_first, ts_last;
	uint64_t first_packet;  /* packet number of the first packet */

	/* TCP: handshake timing seen at the capture point, and closing state */
	int64_t ts_syn, ts_synack, ts_ack; /* 0 = not seen */
	uint32_t syn_seq[2];
	uint8_t fin_seen;       /* bit per direction */
	bool syn_seen[2];
	bool rst_seen;

	/* attribution (hostname from SNI/HTTP comes from classify at the end) */
	char *dns_name;         /* latest DNS answer for dst before the flow started */
	const struct geo_result *geo; /* destination's geo record (owned by geo) */

	/* stage state */
	struct classify_flow *classify;
	bool classify_done;
	struct flow_app *app;
	struct scan_flow *scan; /* the scan side's state (stage/scan_stage.c) */
};

static inline enum pa_dir flow_device_dir(const struct flow *f)
{
	return f->device_side == DEVICE_SIDE_DST ? PA_DIR_FROM_DST : PA_DIR_FROM_SRC;
}

/* Milliseconds of the two handshake halves; negative when not measured. */
double flow_rtt_server_ms(const struct flow *f); /* SYN → SYN/ACK */
double flow_rtt_client_ms(const struct flow *f); /* SYN/ACK → ACK */

struct flow_config {
	int64_t tcp_idle_us;    /* default 300 s */
	int64_t udp_idle_us;    /* default 60 s (also other L4) */
	int64_t tcp_closed_us;  /* linger after FIN both ways / RST: default 5 s */
	size_t max_flows;       /* 0 = FLOW_DEFAULT_MAX_FLOWS */
};

/* Flows held at once unless --max-flows says otherwise. A flow costs 1-3 KiB
 * with nDPI's state, so this bounds the table near 100-300 MB however many
 * distinct flows hostile traffic opens (a SYN flood from random sources),
 * far above what one phone keeps open within the idle timeouts. */
#define FLOW_DEFAULT_MAX_FLOWS 100000

struct flow_stats {
	uint64_t created;
	uint64_t active;
	uint64_t ended[5];      /* by enum flow_end_reason */
	uint64_t peak_active;
};

/* Called once for every flow that ends; the callback releases stage state.
 * The table frees the struct flow right after. */
typedef void (*flow_end_fn)(void *ctx, struct flow *f, enum flow_end_reason why);

struct flow_table;
struct flow_table *flow_table_new(const struct flow_config *cfg, flow_end_fn on_end, void *ctx);
void flow_table_free(struct flow_table *t);

/*
 * The flow of a packet, created when new (*created set). *dir says whether the
 * packet goes from the flow's src or from its dst. Updates counters, times and
 * TCP state.
 */
struct flow *flow_table_packet(struct flow_table *t, const struct pa_packet *pkt,
			       enum pa_dir *dir, bool *created);

/* End flows idle at now_us. Cheap to call per packet: it looks only at the
 * least recently seen flows. */
void flow_table_expire(struct flow_table *t, int64_t now_us);
/* End every flow (end of input). */
void flow_table_flush(struct flow_table *t);
const struct flow_stats *flow_table_stats(const struct flow_table *t);

#endif
