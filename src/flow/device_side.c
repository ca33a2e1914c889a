/* device_side.c — finding the test device's side of a flow. */
#include "flow/device_side.h"

#include <string.h>

static bool is_device_ip(const struct device_addrs *d, const struct pa_addr *a)
{
	for (size_t i = 0; i < d->ip_count; i++)
		if (pa_addr_equal(&d->ip[i], a))
			return true;
	return false;
}

enum device_side device_side_of(const struct device_addrs *d, const struct flow *f,
				const struct pa_packet *pkt, enum pa_dir dir)
{
	if (d && d->from_profile) {
		if (is_device_ip(d, &f->src))
			return DEVICE_SIDE_SRC;
		if (is_device_ip(d, &f->dst))
			return DEVICE_SIDE_DST;
		if (d->has_mac && pkt->src_mac && pkt->dst_mac) {
			/* The packet's sender is the flow's src when dir is FROM_SRC. */
			bool sender_is_device = memcmp(pkt->src_mac, d->mac, 6) == 0;
			bool receiver_is_device = memcmp(pkt->dst_mac, d->mac, 6) == 0;
			if (sender_is_device || receiver_is_device) {
				bool src_is_device = (dir == PA_DIR_FROM_SRC) == sender_is_device;
				return src_is_device ? DEVICE_SIDE_SRC : DEVICE_SIDE_DST;
			}
		}
		return DEVICE_SIDE_UNKNOWN;
	}
	/* No profile: the phone is the endpoint on the private side of the link. */
	bool src_private = pa_addr_is_private(&f->src);
	bool dst_private = pa_addr_is_private(&f->dst);
	if (src_private)
		return DEVICE_SIDE_SRC;
	if (dst_private)
		return DEVICE_SIDE_DST;
	return DEVICE_SIDE_UNKNOWN;
}
