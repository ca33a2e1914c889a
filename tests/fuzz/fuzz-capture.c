/*
 * fuzz-capture.c — bytes as a capture file: open from memory, read every
 * record, decode every record. Secrets blocks go to a callback that reads
 * every byte, so an out-of-bounds length shows.
 */
#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"
#include "decode/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_secrets(void *ctx, uint32_t type, const uint8_t *p, size_t len)
{
	unsigned *sum = ctx;
	for (size_t i = 0; i < len; i++)
		*sum += p[i];
	*sum += type;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct decoder *dec;
	if (!dec) {
		struct decode_config cfg = { .frag_memory_max = 256 * 1024 };
		dec = decoder_new(&cfg);
	}
	struct pa_error err;
	struct capture_file *cf = capture_file_open_memory(data, size, "fuzz", &err);
	if (!cf)
		return 0;
	unsigned sum = 0;
	capture_file_on_secrets(cf, read_secrets, &sum);
	struct capture_record rec;
	struct pa_packet pkt = { 0 };
	enum decode_problem problem;
	uint64_t n = 0;
	while (capture_file_next(cf, &rec, &err) == CAPTURE_RECORD) {
		pkt.number = ++n;
		if (decode_packet(dec, &rec, &pkt, &problem) == DECODE_OK && pkt.payload_len)
			sum += pkt.payload[pkt.payload_len - 1] + pkt.l3[pkt.l3_len - 1];
	}
	capture_file_close(cf);
	return (int)(sum & 0);
}
