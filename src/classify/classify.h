/*
 * classify.h — application protocol, category, hostname and TLS facts from
 * nDPI. classify_ndpi.c is the only file that includes nDPI's headers.
 */
#ifndef PA_CLASSIFY_H
#define PA_CLASSIFY_H

#include "privaudit.h"

/* What nDPI concluded about a flow, filled when the flow ends. */
struct classify_result {
	char app_protocol[64]; /* "TLS.Google", "HTTP", "DNS", "Unknown" (master.app as ndpiReader prints it) */
	char category[32];     /* "Web", "Network", ... */
	char hostname[256];    /* nDPI's host_server_name ("" when none) */
	char sni[256];         /* TLS/QUIC client-requested server name ("" when none) */
	char http_host[256];   /* HTTP Host header nDPI saw ("" when none) */
	char tls_version[16];  /* "TLSv1.2", "TLSv1.3" ("" when not TLS) */
	char alpn[64];         /* client's ALPN list as nDPI has it, "," separated */
	char ja3_client[33];
	char ja3_server[33];
	char risks[512];       /* nDPI risk names, "," separated */
	bool guessed;          /* nDPI gave up and guessed (e.g. by port) */
	bool encrypted;        /* nDPI knows the protocol as encrypted (TLS, QUIC, DTLS, ...):
				* bytes no decoder read are ciphertext, not an unknown cleartext */
};

struct classifier;
struct classify_flow; /* per-flow nDPI state, allocated on the first packet */

struct classifier *classifier_new(struct pa_error *err);
void classifier_free(struct classifier *c);

/*
 * Feed one packet of the flow (in capture order). *state is allocated on first
 * use. Returns true while nDPI still wants packets (detection or metadata
 * extraction not finished); the caller stops feeding once it returns false.
 */
bool classify_packet(struct classifier *c, struct classify_flow **state,
		     const struct pa_packet *pkt, enum pa_dir dir);

/* SNI or HTTP Host as soon as nDPI has seen it (NULL before). */
const char *classify_sni(const struct classify_flow *state);
const char *classify_http_host(const struct classify_flow *state);

/* End of the flow: give up detection if undecided, fill *out, free *state. */
void classify_finish(struct classifier *c, struct classify_flow **state,
		     struct classify_result *out);

/* Bytes of nDPI state per flow (for the memory accounting in the bench):
 * the wrapper's per-flow struct, which embeds nDPI's flow struct. */
size_t classify_flow_state_size(void);

/* nDPI's revision string (e.g. "4.2.0"), for the report's list of the
 * versions of every engine and database used. */
const char *classify_engine_version(void);

#endif
