/*
 * classify_ndpi.c — classify.h on top of nDPI (Debian's 4.2 API).
 *
 * The only file that includes nDPI's headers. It follows what ndpiReader does,
 * so that our verdicts can be compared with ndpiReader's: the IP header goes
 * to ndpi_detection_process_packet; once nDPI names a protocol, packets keep
 * flowing while ndpi_extra_dissection_possible() says more metadata (SNI, JA3,
 * ALPN, certificate) may come; a flow that is still undecided when it ends (or
 * when the packet budget is spent) is given up with port/IP guessing enabled.
 *
 * The packet budget is ndpiReader's: 80 packets for TCP (telnet needs that
 * many), 24 for UDP and other L4. Past it, a long download costs nothing here.
 */
#include "classify/classify.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi_api.h>

#define CLASSIFY_MAX_TCP_PACKETS 80
#define CLASSIFY_MAX_OTHER_PACKETS 24
#define CLASSIFY_MAX_IP_LEN 65535

struct classifier {
	struct ndpi_detection_module_struct *ndpi;
	/* One scratch datagram, for the rare reassembled IPv4 packet whose
	 * header still carries fragment bits (nDPI ignores such packets). */
	uint8_t scratch[CLASSIFY_MAX_IP_LEN];
};

struct classify_flow {
	ndpi_protocol proto;     /* latest answer of nDPI */
	uint16_t packets;        /* packets fed */
	uint8_t l4_proto;
	bool detected;           /* nDPI named an application protocol */
	bool done;               /* nothing more to learn from this flow */
	struct ndpi_flow_struct ndpi;
};

struct classifier *classifier_new(struct pa_error *err)
{
	/* The flow struct is embedded, so the headers must match the library. */
	if (ndpi_detection_get_sizeof_ndpi_flow_struct() != sizeof(struct ndpi_flow_struct)) {
		pa_error_set(err, "nDPI: library %s does not match its headers (flow struct %u bytes, headers say %zu)",
			     ndpi_revision(), ndpi_detection_get_sizeof_ndpi_flow_struct(),
			     sizeof(struct ndpi_flow_struct));
		return NULL;
	}
	struct classifier *c = pa_xcalloc(1, sizeof *c);
	c->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
	if (!c->ndpi) {
		pa_error_set(err, "nDPI: cannot initialise the detection module");
		free(c);
		return NULL;
	}
	NDPI_PROTOCOL_BITMASK all;
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(c->ndpi, &all);
	ndpi_finalize_initialization(c->ndpi);
	return c;
}

void classifier_free(struct classifier *c)
{
	if (!c)
		return;
	ndpi_exit_detection_module(c->ndpi);
	free(c);
}

const char *classify_engine_version(void)
{
	return ndpi_revision();
}

size_t classify_flow_state_size(void)
{
	return sizeof(struct classify_flow);
}

static bool stack_has(const ndpi_protocol *p, uint16_t id)
{
	return p->master_protocol == id || p->app_protocol == id;
}

/* Protocols whose host_server_name nDPI takes from a TLS/QUIC/DTLS
 * ClientHello's server_name extension. */
static bool is_tls_like(const ndpi_protocol *p)
{
	return stack_has(p, NDPI_PROTOCOL_TLS) || stack_has(p, NDPI_PROTOCOL_QUIC) ||
	       stack_has(p, NDPI_PROTOCOL_DTLS) || stack_has(p, NDPI_PROTOCOL_MAIL_IMAPS) ||
	       stack_has(p, NDPI_PROTOCOL_MAIL_SMTPS) || stack_has(p, NDPI_PROTOCOL_MAIL_POPS);
}

/* Protocols whose host_server_name is the HTTP Host header. */
static bool is_http_like(const ndpi_protocol *p)
{
	return stack_has(p, NDPI_PROTOCOL_HTTP) || stack_has(p, NDPI_PROTOCOL_HTTP_CONNECT) ||
	       stack_has(p, NDPI_PROTOCOL_HTTP_PROXY);
}

/*
 * The IP datagram to hand to nDPI. nDPI drops IPv4 packets whose header says
 * "fragment" or whose total length exceeds what it is given; a reassembled
 * datagram may still carry its first fragment's header, so that header is
 * fixed in a copy. Returns the length, 0 when nDPI should not see the packet.
 */
static uint16_t datagram_for_ndpi(struct classifier *c, const struct pa_packet *pkt,
				  const uint8_t **out)
{
	uint32_t len = pkt->l3_len;
	if (!pkt->l3 || len == 0)
		return 0;
	if (len > CLASSIFY_MAX_IP_LEN)
		len = CLASSIFY_MAX_IP_LEN;
	*out = pkt->l3;
	if (pkt->ip_version != 4 || !pkt->reassembled || len < 20)
		return (uint16_t)len;

	const uint8_t *ip = pkt->l3;
	bool fragment_bits = (ip[6] & 0x3f) != 0 || ip[7] != 0;
	uint32_t total = (uint32_t)ip[2] << 8 | ip[3];
	if (!fragment_bits && total <= len)
		return (uint16_t)len;
	memcpy(c->scratch, ip, len);
	c->scratch[2] = (uint8_t)(len >> 8);
	c->scratch[3] = (uint8_t)len;
	c->scratch[6] &= 0x40; /* keep DF, clear MF and the offset */
	c->scratch[7] = 0;
	*out = c->scratch;
	return (uint16_t)len;
}

bool classify_packet(struct classifier *c, struct classify_flow **state,
		     const struct pa_packet *pkt, enum pa_dir dir)
{
	struct classify_flow *cf = *state;
	if (!cf) {
		/* One allocation per flow; nDPI's own per-flow buffers hang off it
		 * and are released by ndpi_free_flow_data in classify_finish. */
		cf = pa_xcalloc(1, sizeof *cf);
		cf->l4_proto = pkt->l4_proto;
		*state = cf;
	}
	if (cf->done)
		return false;

	const uint8_t *datagram = NULL;
	uint16_t len = datagram_for_ndpi(c, pkt, &datagram);
	if (len) {
		uint64_t ms = pkt->ts_us > 0 ? (uint64_t)pkt->ts_us / 1000 : 0;
		cf->proto = ndpi_detection_process_packet(c->ndpi, &cf->ndpi, datagram, len, ms);
		cf->packets++;
	}

	unsigned budget = cf->l4_proto == IPPROTO_TCP ? CLASSIFY_MAX_TCP_PACKETS
						      : CLASSIFY_MAX_OTHER_PACKETS;
	bool budget_spent = cf->packets >= budget;
	if (cf->proto.app_protocol != NDPI_PROTOCOL_UNKNOWN)
		cf->detected = true;
	if (budget_spent || (cf->detected && !ndpi_extra_dissection_possible(c->ndpi, &cf->ndpi)))
		cf->done = true;
	return !cf->done;
}

const char *classify_sni(const struct classify_flow *state)
{
	if (!state || !state->ndpi.host_server_name[0] || !is_tls_like(&state->proto))
		return NULL;
	return state->ndpi.host_server_name;
}

const char *classify_http_host(const struct classify_flow *state)
{
	if (!state || !state->ndpi.host_server_name[0] || !is_http_like(&state->proto))
		return NULL;
	return state->ndpi.host_server_name;
}

/* src, cut to fit, NUL-terminated ("" for NULL). */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= size)
		n = size - 1;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static void fill_risks(const struct ndpi_flow_struct *flow, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (int r = 1; r < NDPI_MAX_RISK; r++) {
		if (!NDPI_ISSET_BIT(flow->risk, r))
			continue;
		const char *name = ndpi_risk2str((ndpi_risk_enum)r);
		int n = snprintf(out + used, size - used, "%s%s", used ? "," : "", name);
		if (n < 0 || (size_t)n >= size - used) {
			out[used] = '\0'; /* drop a name that does not fit whole */
			break;
		}
		used += (size_t)n;
	}
}

static void fill_tls(const struct ndpi_flow_struct *flow, struct classify_result *out)
{
	if (flow->protos.tls_quic.ssl_version) {
		uint8_t unknown = 0;
		ndpi_ssl_version2str(out->tls_version, sizeof out->tls_version,
				     flow->protos.tls_quic.ssl_version, &unknown);
	}
	copy_str(out->alpn, sizeof out->alpn, flow->protos.tls_quic.alpn);
	copy_str(out->ja3_client, sizeof out->ja3_client, flow->protos.tls_quic.ja3_client);
	copy_str(out->ja3_server, sizeof out->ja3_server, flow->protos.tls_quic.ja3_server);
}

void classify_finish(struct classifier *c, struct classify_flow **state,
		     struct classify_result *out)
{
	memset(out, 0, sizeof *out);
	struct classify_flow *cf = *state;
	if (!cf) {
		copy_str(out->app_protocol, sizeof out->app_protocol, "Unknown");
		copy_str(out->category, sizeof out->category, "Unspecified");
		return;
	}
	*state = NULL;

	ndpi_protocol proto = cf->proto;
	if (proto.app_protocol == NDPI_PROTOCOL_UNKNOWN) {
		uint8_t guessed = 0;
		proto = ndpi_detection_giveup(c->ndpi, &cf->ndpi, 1, &guessed);
		out->guessed = guessed != 0;
	}
	cf->proto = proto;

	ndpi_protocol2name(c->ndpi, proto, out->app_protocol, sizeof out->app_protocol);
	copy_str(out->category, sizeof out->category, ndpi_category_get_name(c->ndpi, proto.category));
	copy_str(out->hostname, sizeof out->hostname, cf->ndpi.host_server_name);
	copy_str(out->sni, sizeof out->sni, classify_sni(cf));
	copy_str(out->http_host, sizeof out->http_host, classify_http_host(cf));
	out->encrypted = !out->guessed && ndpi_is_encrypted_proto(c->ndpi, proto) != 0;
	if (is_tls_like(&proto))
		fill_tls(&cf->ndpi, out);
	fill_risks(&cf->ndpi, out->risks, sizeof out->risks);

	ndpi_free_flow_data(&cf->ndpi);
	free(cf);
}
