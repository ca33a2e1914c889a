/*
 * quic-streams.c — the decrypted QUIC stream bytes of a capture, for the
 * cross-check against tshark (crosscheck.py): every UDP datagram to or
 * from the server port goes through one quic_conn (src/quic/) with the key
 * log, and what each stream delivered in order is printed as one line per
 * stream and direction: "<stream id> <c|s> <hex>".
 *
 * Usage: quic-streams --keylog FILE --port N CAPTURE
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "decode/decode.h"
#include "quic/quic_conn.h"
#include "tls/keylog.h"

#define MAX_STREAMS 256

struct stream_text {
	uint64_t id;
	bool from_client;
	uint8_t *data;
	size_t len;
};

static struct stream_text streams[MAX_STREAMS];
static size_t nstreams;
static uint64_t holes;

static void on_stream(void *ctx, bool from_client, uint64_t id, const uint8_t *data, size_t len,
		      bool fin, uint64_t packet, int64_t ts)
{
	(void)ctx, (void)fin, (void)packet, (void)ts;
	if (!data) {
		holes += len;
		return;
	}
	struct stream_text *s = NULL;
	for (size_t i = 0; i < nstreams; i++)
		if (streams[i].id == id && streams[i].from_client == from_client)
			s = &streams[i];
	if (!s) {
		if (nstreams == MAX_STREAMS)
			return;
		s = &streams[nstreams++];
		s->id = id;
		s->from_client = from_client;
	}
	if (!len)
		return;
	s->data = pa_xrealloc(s->data, s->len + len);
	memcpy(s->data + s->len, data, len);
	s->len += len;
}

int main(int argc, char **argv)
{
	const char *keylog = NULL, *capture = NULL;
	unsigned port = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--keylog") && i + 1 < argc)
			keylog = argv[++i];
		else if (!strcmp(argv[i], "--port") && i + 1 < argc)
			port = (unsigned)atoi(argv[++i]);
		else
			capture = argv[i];
	}
	if (!keylog || !capture || !port) {
		fprintf(stderr, "usage: quic-streams --keylog FILE --port N CAPTURE\n");
		return 2;
	}
	struct pa_error err;
	struct keylog *kl = keylog_new();
	if (!keylog_load_file(kl, keylog, stderr, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	struct capture_file *cf = capture_file_open(capture, &err);
	if (!cf) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	struct quic_conn *q = quic_conn_new(kl);
	struct quic_sink sink = {on_stream, NULL};
	struct decoder *dec = decoder_new(NULL);
	struct capture_record rec;
	uint64_t number = 0;
	while (capture_file_next(cf, &rec, &err) == CAPTURE_RECORD) {
		struct pa_packet pkt;
		enum decode_problem problem;
		memset(&pkt, 0, sizeof pkt);
		pkt.number = ++number;
		if (decode_packet(dec, &rec, &pkt, &problem) != DECODE_OK ||
		    pkt.l4_proto != IPPROTO_UDP || (pkt.sport != port && pkt.dport != port))
			continue;
		quic_conn_datagram(q, pkt.dport == port, pkt.payload, pkt.payload_len, pkt.number,
				   pkt.ts_us, &sink);
	}
	quic_conn_finish(q, &sink);
	struct quic_info info;
	quic_conn_info(q, &info);
	for (size_t i = 0; i < nstreams; i++) {
		printf("%llu %c ", (unsigned long long)streams[i].id, streams[i].from_client ? 'c' : 's');
		for (size_t k = 0; k < streams[i].len; k++)
			printf("%02x", streams[i].data[k]);
		printf("\n");
		free(streams[i].data);
	}
	fprintf(stderr, "packets opened %llu failed %llu undecrypted %llu, key updates %llu, holes %llu\n",
		(unsigned long long)info.packets_opened, (unsigned long long)info.packets_failed,
		(unsigned long long)info.packets_unopened, (unsigned long long)info.key_updates,
		(unsigned long long)holes);
	quic_conn_free(q);
	decoder_free(dec);
	capture_file_close(cf);
	keylog_free(kl);
	return info.packets_failed ? 1 : 0;
}
