/*
 * fuzz-decode.c — one frame: the first byte picks the link type, the rest is
 * the frame. One decoder lives across inputs so that fragments from earlier
 * inputs meet later ones, as they would in a capture.
 */
#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"
#include "decode/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int link_types[] = {
	PA_LINKTYPE_ETHERNET, PA_LINKTYPE_LINUX_SLL, PA_LINKTYPE_LINUX_SLL2, PA_LINKTYPE_RAW,
	PA_LINKTYPE_IPV4, PA_LINKTYPE_IPV6, PA_LINKTYPE_NULL, PA_LINKTYPE_LOOP, 12, 14, 9,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct decoder *dec;
	static int64_t now;
	if (!dec) {
		struct decode_config cfg = { .frag_memory_max = 256 * 1024 };
		dec = decoder_new(&cfg);
	}
	if (size < 1)
		return 0;
	struct capture_record rec = {
		.ts_us = now += 1000,
		.caplen = (uint32_t)(size - 1),
		.wirelen = (uint32_t)(size - 1) + (data[0] & 0x80 ? 100 : 0),
		.linktype = link_types[(data[0] & 0x7f) % (sizeof link_types / sizeof link_types[0])],
		.data = data + 1,
	};
	struct pa_packet pkt = { .number = 1 };
	enum decode_problem problem;
	volatile unsigned sum = 0;
	if (decode_packet(dec, &rec, &pkt, &problem) == DECODE_OK) {
		/* touch the edges of every region the packet claims */
		if (pkt.payload_len)
			sum += pkt.payload[0] + pkt.payload[pkt.payload_len - 1];
		if (pkt.l3_len)
			sum += pkt.l3[0] + pkt.l3[pkt.l3_len - 1];
		if (pkt.src_mac)
			sum += pkt.src_mac[5];
		if (pkt.dst_mac)
			sum += pkt.dst_mac[5];
	}
	(void)sum;
	return 0;
}
