/*
 * device.h — which endpoint of a flow is the test device: from the device
 * profile's IP addresses and MAC, or, without a profile, the endpoint with a
 * private address (the initiator when both are private).
 */
#ifndef PA_DEVICE_H
#define PA_DEVICE_H

#include "flow/flow.h"
#include "util/diag.h"
#include "util/yaml_doc.h"

#define DEVICE_MAX_ADDRS 8

struct device_addrs {
	struct pa_addr ip[DEVICE_MAX_ADDRS];
	size_t ip_count;
	uint8_t mac[6];
	bool has_mac;
	bool from_profile; /* false: guess by private addresses */
};

/*
 * Facts about the app and the phone an audit records (manifest.json,
 * report.json): from the command line (device_facts_arg, borrowed strings)
 * or the device profile (device.model, device.os_version, and a top-level
 * app: {package, version, apk_sha256}); the command line wins.
 */
struct device_facts_arg {
	const char *app_package, *app_version, *apk_sha256, *phone_model, *os_version;
};
struct device_facts {
	char app_package[160], app_version[64], apk_sha256[65], phone_model[96], os_version[64];
	char platform[16];
};
/* 64 hexadecimal digits. */
bool device_facts_sha256_ok(const char *s);
/* Reads the facts of a device profile (absent ones stay ""); false after
 * reporting a malformed one (file:line) to diag. */
bool device_facts_load(const char *path, struct device_facts *out, struct pa_diag *diag);
/* Checks a profile's app: section (package, version, apk_sha256): the
 * signature engine's profile check calls it. */
bool device_app_section_check(struct yaml_doc *y, yaml_node_t *app, struct pa_diag *diag);

/* Reads the `device:` section (ip, mac) of a device profile. false after
 * reporting problems to diag. The identifiers are the signature engine's. */
bool device_addrs_load(const char *path, struct device_addrs *out, struct pa_diag *diag);

/* The side of a new flow the device is on; pkt is the flow's first packet
 * and dir its direction within the flow. */
enum device_side device_side_of(const struct device_addrs *d, const struct flow *f,
				const struct pa_packet *pkt, enum pa_dir dir);

#endif
