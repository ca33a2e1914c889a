/*
 * flow_app.h — the application layer of one flow: TCP reassembly per
 * direction, the choice of decoder (HTTP/1, DNS, TLS, raw), and the signature
 * engine over what the decoders produce. Observations go to one callback.
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

struct detect_engine;
struct detect_scratch;
struct dns_map;
struct keylog;

typedef void (*observation_fn)(void *ctx, const struct flow *f, const struct pa_observation *obs);

/* Shared by every flow of an audit. */
struct app_context {
	const struct detect_engine *detect; /* NULL: decode only, no scanning */
	struct detect_scratch *scratch;
	observation_fn observation;
	void *ctx;
	struct dns_map *dns;                /* DNS answers seen are added here */
	size_t max_body;                    /* bound on a decoded HTTP body (0 = 1 MiB) */
	struct keylog *keylog;              /* TLS secrets; NULL: TLS is parsed, not decrypted */
	/* Every decoded field before scanning (tests, debugging); NULL: none. */
	void (*field_tap)(void *ctx, const struct flow *f, const struct pa_field_ref *ref,
			  const uint8_t *value, size_t len);
	void *field_tap_ctx;
};

enum app_kind { APP_UNDECIDED, APP_HTTP1, APP_TLS, APP_DNS, APP_RAW };
const char *app_kind_name(enum app_kind k);

/* Bytes of one direction, by what happened to them. */
struct app_bytes {
	uint64_t scanned;    /* decoded (or raw) bytes run through the signature engine */
	uint64_t encrypted;  /* TLS/QUIC or other ciphertext not decrypted */
	uint64_t gap;        /* never captured (holes in the TCP stream) */
	uint64_t truncated;  /* cut by the snap length, or beyond a decoder's bound */
};

struct flow_app_info {
	enum app_kind kind;
	struct app_bytes bytes[2]; /* by enum pa_dir */
	char http_host[256];       /* Host of the latest HTTP request, "" when none */
	bool tls_seen;             /* kind is APP_TLS: tls below is filled */
	struct tls_info tls;       /* version, suite, ALPN, records, why not decrypted */
	const char *tls_app;       /* what the plaintext was decoded as: "http", "http2", "raw", NULL */
};

void flow_app_packet(struct app_context *ac, struct flow *f, enum pa_dir dir,
		     const struct pa_packet *pkt);
/* Flushes streams (reporting what they still hold), fills *info, frees the state. */
void flow_app_end(struct app_context *ac, struct flow *f, struct flow_app_info *info);
/* The latest HTTP Host seen in the flow, or NULL (valid until flow_app_end). */
const char *flow_app_http_host(const struct flow *f);

#endif
