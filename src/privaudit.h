/*
 * privaudit.h — the few plain records that pipeline stages pass to each other.
 *
 * Stages (capture → decode → flow → classify/dns/stream → app → detect → geo →
 * policy → report) own their state; they meet only through these structs.
 * Nothing here depends on a third-party header.
 */
#ifndef PRIVAUDIT_H
#define PRIVAUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PA_VERSION "0.1.0"

/* Exit codes: the command-line contract in docs/cli.md. */
enum pa_exit {
	PA_EXIT_CLEAN = 0,    /* no violation found */
	PA_EXIT_FINDINGS = 1, /* at least one conclusive or indicative finding */
	PA_EXIT_USAGE = 2,    /* bad usage or bad input file (a damaged capture too) */
	PA_EXIT_INTERNAL = 3, /* internal error (out of memory, bug) */
	PA_EXIT_UNVERIFIED = 4, /* no violation found, but something could not be verified */
};

/* An error message a function hands back to its caller, who decides how to
 * print it. Messages about files read "file:line: what is wrong". */
struct pa_error {
	char msg[512];
};

/* An IP address. IPv4 lives in bytes[0..3], the rest zero. */
struct pa_addr {
	uint8_t family; /* 4 or 6; 0 = unset */
	uint8_t bytes[16];
};

/* Direction inside a flow: from the initiator (src) or from the responder. */
enum pa_dir {
	PA_DIR_FROM_SRC = 0,
	PA_DIR_FROM_DST = 1,
};

/*
 * One decoded packet. Filled by the decoder, read by every later stage, valid
 * only while the pipeline handles this packet (pointers point into the capture
 * buffer or the decoder's reassembly buffer).
 */
struct pa_packet {
	/* capture */
	uint64_t number;      /* 1-based, across the whole input timeline */
	int64_t ts_us;        /* microseconds since the Unix epoch */
	uint32_t caplen;      /* bytes captured */
	uint32_t wirelen;     /* bytes on the wire */
	int linktype;         /* LINKTYPE_* of the record's interface */
	const uint8_t *frame; /* caplen bytes, from the link header */

	/* link */
	const uint8_t *src_mac; /* 6 bytes, or NULL when the link has none */
	const uint8_t *dst_mac;
	uint16_t vlan[2];   /* outermost first */
	uint8_t vlan_count; /* tags seen (may exceed 2; only 2 kept) */

	/* network (the innermost IP header the decoder understood) */
	uint8_t ip_version;  /* 4 or 6 */
	struct pa_addr src;
	struct pa_addr dst;
	const uint8_t *l3;   /* IP header; reassembled datagram when reassembled */
	uint32_t l3_len;     /* bytes available from l3 */
	uint32_t ip_len;     /* IP length per header (header + payload): byte counters */
	uint8_t l4_proto;    /* IPPROTO_TCP, IPPROTO_UDP, ... */
	uint8_t ttl;         /* IPv4 TTL / IPv6 hop limit */
	bool reassembled;    /* built from several IP fragments */

	/* transport (TCP/UDP; ports 0 otherwise) */
	uint16_t sport;
	uint16_t dport;
	uint8_t tcp_flags;   /* TH_SYN, TH_ACK, ... */
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	const uint8_t *payload; /* L4 payload as captured */
	uint32_t payload_len;   /* bytes available at payload */
	uint32_t payload_wire_len; /* payload length per headers (>= payload_len when snapped) */
};

#define PA_TCP_FIN 0x01
#define PA_TCP_SYN 0x02
#define PA_TCP_RST 0x04
#define PA_TCP_PSH 0x08
#define PA_TCP_ACK 0x10

/* Where in a flow a field's bytes came from, for observations. */
struct pa_field_ref {
	const char *protocol; /* "http", "http2", "dns", "raw-tcp", "raw-udp", "tls-decrypted" */
	const char *field;    /* "http.query:imei", "http.header:Cookie", "dns.qname", "tcp.payload" */
	enum pa_dir dir;      /* which side sent these bytes */
	uint64_t packet;      /* packet number holding the last byte of the field */
	int64_t ts_us;        /* that packet's timestamp */
	/* DNS: the name asked for. A datum inside it goes to the owner of the
	 * queried zone, not to the resolver the flow reaches (NULL otherwise). */
	const char *query_name;
};

/* One datum seen in a flow: the unit of evidence (docs/observations.md). */
struct pa_observation {
	const char *type;     /* "imei", "android_id", "location", ... */
	const char *source;   /* "pattern" or "device" */
	const char *encoding; /* "raw", "md5-lower", "base64", "url", ... */
	const char *protocol; /* copied from the field ref */
	char field[160];
	uint64_t flow_id;
	uint64_t packet;
	int64_t ts_us;
	bool echo;            /* seen in data towards the device: an echo, not a leak */
	bool in_query_name;   /* found in a DNS query name: the hostname that comes with
			       * it is that name, not the flow's recipient */
	char value[256];      /* the matched datum, unmasked; output masks it */
};

/* Helpers everybody uses (src/util/util.c). */
void pa_error_set(struct pa_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void *pa_xmalloc(size_t n);
void *pa_xcalloc(size_t n, size_t size);
void *pa_xrealloc(void *p, size_t n);
char *pa_xstrdup(const char *s);
/* mkdir -p: dir and any missing parent (0755). false with err set naming the
 * folder that could not be made; an existing non-folder is an error too. */
bool pa_mkdir_p(const char *dir, struct pa_error *err);
/* Length (2..4) of the well-formed UTF-8 sequence at s (first byte >= 0x80),
 * or 0 with *bad = the length of its maximal invalid subpart. */
size_t pa_utf8_seq(const unsigned char *s, const unsigned char *end, size_t *bad);
/* s when it is valid UTF-8; else a copy in out (n >= 4 bytes) with every
 * invalid sequence replaced by U+FFFD, cut at a whole character. Text from
 * packets (hostnames) goes through this before it keys a JSON object:
 * jansson refuses invalid UTF-8 and the entry would vanish. */
const char *pa_utf8_clean(const char *s, char *out, size_t n);
/* s made safe to print on a terminal, in out (n bytes, cut at a whole
 * character or escape): control bytes (ESC, BEL, CR, ...), DEL and invalid
 * UTF-8 as \xHH, a backslash as \\, C1 controls and bidirectional
 * overrides, embeddings, isolates and marks (U+202E, ...) as \u{XXXX}. Every
 * string taken from traffic goes through this before a terminal sees it. */
const char *pa_term_safe(const char *s, char *out, size_t n);
/* Text of an address ("192.0.2.1", "2001:db8::1") into buf (>= 46 bytes). */
const char *pa_addr_str(const struct pa_addr *a, char *buf, size_t len);
/* Parse "192.0.2.1" or "2001:db8::1"; true on success. */
bool pa_addr_parse(const char *s, struct pa_addr *out);
bool pa_addr_equal(const struct pa_addr *a, const struct pa_addr *b);
/* RFC 1918, CGNAT, loopback, link-local, ULA, multicast, reserved, unspecified. */
bool pa_addr_is_private(const struct pa_addr *a);
/* A byte count for people, in decimal units: "9903 B", "30.4 KB",
 * "1.2 MB", "3.05 GB" (the summary on stdout and report.html alike). */
const char *pa_bytes_str(uint64_t bytes, char *buf, size_t len);
/* ISO-8601 UTC with microseconds into buf (>= 32 bytes). */
const char *pa_time_str(int64_t ts_us, char *buf, size_t len);

#endif
