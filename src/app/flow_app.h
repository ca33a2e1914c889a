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
#include "tls/tls_session.h"

struct keylog;

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
	/* Every decoded field before scanning (tests, debugging); NULL: none. */
	void (*field_tap)(void *ctx, const struct flow *f, const struct pa_field_ref *ref,
			  const uint8_t *value, size_t len);
	void *field_tap_ctx;
};

#define APP_ECHO_SCAN_DEFAULT 65536

enum app_kind { APP_UNDECIDED, APP_HTTP1, APP_TLS, APP_DNS, APP_RAW };
const char *app_kind_name(enum app_kind k);

/* Bytes of one direction, by what happened to them. */
struct app_bytes {
	uint64_t scanned;    /* decoded (or raw) bytes run through the signature engine */
	uint64_t encrypted;  /* TLS/QUIC or other ciphertext not decrypted */
	uint64_t gap;        /* never captured (holes in the TCP stream) */
	uint64_t truncated;  /* cut by the snap length, or beyond a decoder's bound */
	uint64_t unscanned;  /* towards the device, past the echo-scan bound: decoded, not scanned */
};

struct flow_app_info {
	enum app_kind kind;
	struct app_bytes bytes[2]; /* by enum pa_dir */
	char http_host[256];       /* Host of the latest HTTP request, "" when none */
	bool tls_seen;             /* kind is APP_TLS: tls below is filled */
	struct tls_info tls;       /* version, suite, ALPN, records, why not decrypted */
	const char *tls_app;       /* what the plaintext was decoded as: "http", "http2", "raw", NULL */
};

/* A TCP segment of the flow: reassembled in sequence order per direction
 * (stream/), the in-order bytes handed to the decoder the initiator's first
 * bytes chose (TLS, then HTTP/1 or HTTP/2 inside; HTTP/1; DNS; raw). */
void flow_app_tcp_segment(struct app_context *ac, struct flow *f, enum pa_dir dir,
			  const struct pa_packet *pkt);
/* A UDP datagram of the flow: a DNS message, or a raw datagram. */
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

/* Flushes streams (reporting what they still hold), fills *info, frees the state. */
void flow_app_end(struct app_context *ac, struct flow *f, struct flow_app_info *info);
/* The latest HTTP Host seen in the flow, or NULL (valid until flow_app_end). */
const char *flow_app_http_host(const struct flow *f);

#endif
