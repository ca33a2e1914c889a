/*
 * dns.h — a DNS message parser of our own (RFC 1035, with compression
 * pointers bounded against loops) and the IP → name map built from answers.
 *
 * The map lets a flow that carries no SNI or Host header still be attributed
 * to the name the device asked for before it connected.
 */
#ifndef PA_DNS_H
#define PA_DNS_H

#include "privaudit.h"

#define DNS_NAME_MAX 256 /* presentation form, with the terminating NUL */

enum dns_rr_type { DNS_A = 1, DNS_CNAME = 5, DNS_AAAA = 28 };

struct dns_question {
	char name[DNS_NAME_MAX]; /* lower-case, no trailing dot */
	/* The same with the letters' case as sent: identifiers hidden in
	 * labels (hex, base64, digests) keep the case that tells encodings apart. */
	char name_as_sent[DNS_NAME_MAX];
	uint16_t qtype, qclass;
	bool name_cut; /* presentation form longer than DNS_NAME_MAX - 1: cut */
};

struct dns_answer {
	char name[DNS_NAME_MAX];
	uint16_t type;
	uint32_t ttl;
	struct pa_addr addr;           /* A / AAAA */
	char target[DNS_NAME_MAX];     /* CNAME */
	bool name_cut;                 /* name or target cut (see dns_question) */
};

/* Called by the parser; any may be NULL. */
struct dns_visitor {
	void *ctx;
	void (*question)(void *ctx, const struct dns_question *q);
	void (*answer)(void *ctx, const struct dns_answer *a); /* A, AAAA, CNAME only */
};

struct dns_header_info {
	uint16_t id;
	bool is_response;
	uint8_t rcode;
	uint16_t qdcount, ancount;
};

/* Parses one message (a UDP payload, or a TCP message without its 2-byte
 * length). false when malformed; the visitor may already have seen the
 * records before the damage. */
bool dns_parse(const uint8_t *msg, size_t len, struct dns_header_info *hdr,
	       const struct dns_visitor *v);

/*
 * IP → name map. For a response, each address is mapped to the name the device
 * asked for (the question, i.e. the start of a CNAME chain), so
 * "www.example.cn CNAME cdn.example.net A 1.2.3.4" maps 1.2.3.4 to
 * www.example.cn. Bounded: the oldest entries go first past max_entries.
 */
struct dns_map;
struct dns_map *dns_map_new(size_t max_entries);
void dns_map_free(struct dns_map *m);
/* Parse a response and add its answers, stamped ts_us. false when malformed. */
bool dns_map_add_response(struct dns_map *m, const uint8_t *msg, size_t len, int64_t ts_us);
void dns_map_add(struct dns_map *m, const struct pa_addr *addr, const char *name, int64_t ts_us);
/* The latest name answered for addr at or before ts_us, or NULL. Valid until the next add. */
const char *dns_map_lookup(const struct dns_map *m, const struct pa_addr *addr, int64_t ts_us);
size_t dns_map_size(const struct dns_map *m);

#endif
