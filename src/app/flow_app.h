/*
 * flow_app.h — the application layer of one flow: TCP reassembly per
 * direction, the choice of decoder (HTTP/1, DNS, TLS, raw) and the
 * dispatch of the flow's bytes to it. It is one step of the packet path
 * that pipeline.c runs; what the decoders produce leaves through a
 * struct app_sink the pipeline provides (DNS answers to the DNS map,
 * fields and raw streams to the hand-off to the scan thread), so this
 * folder knows neither the DNS map's owner nor the scan stage.
 *
 * What could not be inspected is counted per direction, so the report can
 * say what it did not see: encrypted bytes, bytes lost in capture gaps,
 * bytes cut short by the snap length.
 *
 * TLS flows are decrypted when the key log holds their secrets (tls/): the
 * plaintext goes to HTTP/1 or HTTP/2 (by ALPN, else by its first bytes) and
 * the signature engine like cleartext, with protocol "tls-decrypted". Bytes
 * of records that decrypted are not counted as encrypted; the rest are.
 */
#ifndef PA_FLOW_APP_H
#define PA_FLOW_APP_H

#include "flow/flow.h"
#include "privaudit.h"
#include "quic/quic_conn.h"
#include "tls/tls_session.h"

struct keylog;
struct quic_cids;

/*
 * Where a flow's application layer sends what it found. Every member may
 * be NULL (not wanted). from_device: the bytes travel from the device.
 */
struct app_sink {
	/* A DNS response seen (UDP or TCP): its answers name addresses. */
	void (*dns_response)(void *ctx, const uint8_t *msg, size_t len, int64_t ts_us);
	/* One decoded field (ref->field is the caller's; copy it to keep it). */
	void (*field)(void *ctx, struct flow *f, const struct pa_field_ref *ref, bool from_device,
		      const uint8_t *value, size_t len);
	/* The next bytes of a raw stream no decoder understands (protocol and
	 * field are literals). */
	void (*stream)(void *ctx, struct flow *f, enum pa_dir dir, const char *protocol,
		       const char *field, bool from_device, const uint8_t *data, size_t len,
		       uint64_t packet, int64_t ts_us);
	/* Bytes of direction dir's raw stream that will never be seen. */
	void (*gap)(void *ctx, struct flow *f, enum pa_dir dir);
	void *ctx;
};

/* Shared by every flow of an audit. */
struct app_context {
	struct app_sink sink;               /* where fields, streams, gaps, DNS answers go */
	size_t max_body;                    /* bound on a decoded HTTP body (0 = 1 MiB) */
	/* Bytes towards the device scanned per flow (echoes only): 0 = the
	 * default, APP_ECHO_SCAN_DEFAULT; UINT64_MAX = all of them. */
	uint64_t echo_scan_limit;
	struct keylog *keylog;              /* TLS secrets; NULL: TLS is parsed, not decrypted */
	/* Connection IDs of the audit's QUIC connections (made on the first;
	 * flow_app_context_release frees it): a flow that continues a
	 * connection on a new address is found by them. */
	struct quic_cids *quic_cids;
	/* Every decoded field before scanning (tests, debugging); NULL: none. */
	void (*field_tap)(void *ctx, const struct flow *f, const struct pa_field_ref *ref,
			  const uint8_t *value, size_t len);
	void *field_tap_ctx;
};

#define APP_ECHO_SCAN_DEFAULT 65536

/* APP_HTTP2: cleartext HTTP/2 with prior knowledge (h2c, gRPC without TLS).
 * APP_QUIC: a UDP flow that began with a QUIC Initial (quic/, docs/quic.md). */
enum app_kind { APP_UNDECIDED, APP_HTTP1, APP_TLS, APP_DNS, APP_RAW, APP_HTTP2, APP_QUIC };
const char *app_kind_name(enum app_kind k);

/*
 * Bytes of one direction, by what happened to them. `payload` is every
 * distinct byte position of the direction's stream (a TCP sequence number
 * counts once however often it was sent; a UDP datagram counts whole),
 * including bytes the snap length cut. Each is accounted exactly once:
 *
 *   scanned + unscanned + encrypted + gap + truncated = payload
 *
 * `unparsed` is a part of `scanned`; `conflict`, `bad_checksum` and
 * `retransmitted` count repeats and extra versions of positions already in
 * `payload`, so they stand outside the sum. Unread (could not be inspected)
 * is encrypted + gap + truncated.
 */
struct app_bytes {
	uint64_t payload;    /* distinct stream bytes sent in this direction */
	uint64_t scanned;    /* decoded (or raw) bytes run through the signature engine */
	uint64_t encrypted;  /* TLS/QUIC or other ciphertext not decrypted */
	uint64_t gap;        /* never captured (holes in the TCP stream) */
	uint64_t truncated;  /* cut by the snap length, or beyond a decoder's bound */
	uint64_t unscanned;  /* towards the device, past the echo-scan bound: decoded, not scanned */
	uint64_t unparsed;   /* of scanned: a decoder could not parse them, scanned as raw bytes */
	/* Bytes that arrived again at a stream offset already seen, with
	 * other content: an evasion sign (a receiver may have kept either
	 * version). Every version was scanned; `conflict_packets` counts
	 * the packets that carried a differing copy. */
	uint64_t conflict;
	uint64_t conflict_packets;
	/* Bytes of TCP segments whose checksum is wrong (a receiver drops
	 * them), scanned as a version of their own; 0 when the capture was
	 * taken on the sending host (checksum offload, see docs/output.md). */
	uint64_t bad_checksum;
	uint64_t retransmitted; /* bytes sent again with the same content */
};

/* A packet whose bytes differ from the copy of the same stream bytes that
 * was delivered (by first_packet; 0 when no longer known). */
struct app_conflict {
	uint64_t packet;
	uint64_t first_packet;
	uint8_t dir;        /* enum pa_dir */
	bool bad_checksum;  /* packet had a wrong TCP checksum (first_packet 0) */
};
#define APP_CONFLICTS_KEPT 8

struct flow_app_info {
	enum app_kind kind;
	struct app_bytes bytes[2]; /* by enum pa_dir */
	struct app_conflict conflicts[APP_CONFLICTS_KEPT]; /* the first ones */
	unsigned conflict_count; /* kept in conflicts[] */
	char http_host[256];       /* Host of the latest HTTP request, "" when none */
	bool tls_seen;             /* kind is APP_TLS: tls below is filled */
	struct tls_info tls;       /* version, suite, ALPN, records, why not decrypted */
	const char *tls_app;       /* what the plaintext was decoded as: "http", "http2", "raw", NULL */
	bool quic_seen;            /* kind is APP_QUIC: quic below is filled */
	struct quic_info quic;     /* version, suite, packets, why not decrypted */
	const char *quic_app;      /* what the streams were decoded as: "http3", "raw", NULL */
	uint64_t quic_first_flow;  /* the flow that began the connection (this one, or the
				    * flow a migrated connection came from) */
	uint64_t quic_stream_gap[2]; /* by enum pa_dir: stream bytes never captured */
};

/* A TCP segment of the flow: reassembled in sequence order per direction
 * (stream/), the in-order bytes handed to the decoder the initiator's first
 * bytes chose (TLS, then HTTP/1 or HTTP/2 inside; HTTP/1; DNS; raw). */
void flow_app_tcp_segment(struct app_context *ac, struct flow *f, enum pa_dir dir,
			  const struct pa_packet *pkt);
/* A UDP datagram of the flow: a DNS message, a QUIC datagram (decrypted
 * with the key log when it has the secrets, then HTTP/3), or a raw datagram. */
void flow_app_udp_datagram(struct app_context *ac, struct flow *f, enum pa_dir dir,
			   const struct pa_packet *pkt);
/*
 * Bytes of application-layer state an idle flow holds in fixed-size parts,
 * by kind (report.json "memory"): what a flow costs between messages, less
 * allocator overhead and the variable parts (HTTP Host text, HPACK tables,
 * OpenSSL's cipher contexts) and anything in flight. tools/flow-memory
 * measures the whole.
 */
struct flow_app_sizes {
	size_t udp;           /* UDP (DNS too): counters only */
	size_t tcp;           /* TCP: counters and reassembly state (raw streams) */
	size_t http;          /* HTTP/1 between requests */
	size_t tls;           /* TLS not decrypted */
	size_t tls_decrypted; /* TLS decrypted, HTTP/1 inside */
};
void flow_app_state_sizes(struct flow_app_sizes *out);

/* After the last flow has ended: what the context holds for all flows. */
void flow_app_context_release(struct app_context *ac);

/* Flushes streams (reporting what they still hold), fills *info, frees the state. */
void flow_app_end(struct app_context *ac, struct flow *f, struct flow_app_info *info);
/* The latest HTTP Host seen in the flow, or NULL (valid until flow_app_end). */
const char *flow_app_http_host(const struct flow *f);

#endif
