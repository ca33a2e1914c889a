/*
 * fuzz-quic.c — the QUIC decryptor (src/quic/): header parsing, header
 * protection, packet numbers, coalesced packets, AEAD, frames, CRYPTO and
 * STREAM reassembly, with the secrets of the seeded connections loaded
 * (tests/data/quic/NAME.keys for each corpus/quic/NAME: its datagrams), so
 * that mutations reach past the Initial packets.
 *
 * Input: chunks [u8 flags][u16 length][bytes]; flags bit 0 = from the server.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "quic/quic_conn.h"
#include "tls/keylog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink_byte;

static void on_stream(void *ctx, bool from_client, uint64_t id, const uint8_t *d, size_t len,
		      bool fin, uint64_t packet, int64_t ts)
{
	uint8_t x = (uint8_t)(id ^ from_client ^ fin ^ packet ^ (uint64_t)ts);
	for (size_t i = 0; d && i < len; i++)
		x ^= d[i];
	sink_byte = x;
}

static struct keylog *secrets(void)
{
	static struct keylog *kl;
	if (!kl) {
		kl = keylog_new();
		static const char *const names[] = {"h3-v1", "h3-v1-chacha", "h3-v2draft"};
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			char path[128];
			struct pa_error err;
			snprintf(path, sizeof path, "tests/data/quic/%s.keys", names[i]);
			if (!keylog_load_file(kl, path, NULL, &err))
				fprintf(stderr, "fuzz-quic: %s (run from the source tree)\n", err.msg);
		}
	}
	return kl;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct quic_conn *q = quic_conn_new(secrets());
	struct quic_sink sink = {on_stream, NULL};
	uint64_t packet = 1;
	while (size >= 3) {
		bool from_client = !(data[0] & 1);
		size_t n = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (n > size)
			n = size;
		quic_conn_datagram(q, from_client, data, n, packet++, 0, &sink);
		data += n;
		size -= n;
	}
	quic_conn_finish(q, &sink);
	struct quic_info info;
	quic_conn_info(q, &info);
	sink_byte = (uint8_t)info.packets_opened;
	quic_conn_free(q);
	return 0;
}
