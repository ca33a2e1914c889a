/*
 * device_side.h — which endpoint of a flow is the test device: from the
 * device profile's IP addresses and MAC, or, without a profile, the
 * endpoint with a private address (the initiator when both are private).
 *
 * The profile itself is read once, by the signature engine's parser
 * (detect/device.c), which checks every value; the pipeline copies the
 * addresses it found into a struct device_addrs.
 */
#ifndef PA_DEVICE_SIDE_H
#define PA_DEVICE_SIDE_H

#include "flow/flow.h"

#define DEVICE_MAX_ADDRS 8

struct device_addrs {
	struct pa_addr ip[DEVICE_MAX_ADDRS];
	size_t ip_count;
	uint8_t mac[6];
	bool has_mac;
	bool from_profile; /* false: guess by private addresses */
};

/* The side of a new flow the device is on; pkt is the flow's first packet
 * and dir its direction within the flow. */
enum device_side device_side_of(const struct device_addrs *d, const struct flow *f,
				const struct pa_packet *pkt, enum pa_dir dir);

#endif
