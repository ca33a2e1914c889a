/* device.c — finding the test device's side of a flow. */
#include "flow/device.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "util/yaml_doc.h"

static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char sep[5];
	if (sscanf(s, "%2x%c%2x%c%2x%c%2x%c%2x%c%2x", &v[0], &sep[0], &v[1], &sep[1], &v[2],
		   &sep[2], &v[3], &sep[3], &v[4], &sep[4], &v[5]) != 11)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return true;
}

static void add_ip(struct device_addrs *out, const char *path, const yaml_node_t *n,
		   struct pa_diag *diag)
{
	const char *s = yaml_node_scalar(n);
	struct pa_addr a;
	if (!s || !pa_addr_parse(s, &a)) {
		pa_diag_error(diag, path, yaml_node_line(n), "device.ip: not an IP address: %s",
			      s ? s : "(not a scalar)");
		return;
	}
	if (out->ip_count == DEVICE_MAX_ADDRS) {
		pa_diag_error(diag, path, yaml_node_line(n), "device.ip: more than %d addresses",
			      DEVICE_MAX_ADDRS);
		return;
	}
	out->ip[out->ip_count++] = a;
}

bool device_addrs_load(const char *path, struct device_addrs *out, struct pa_diag *diag)
{
	memset(out, 0, sizeof *out);
	size_t errors = diag->errors;
	struct yaml_doc y;
	if (!yaml_doc_load(&y, path, diag))
		return false;
	yaml_node_t *dev = yaml_map_get(&y, yaml_doc_root(&y), "device");
	if (!yaml_node_is_map(dev)) {
		pa_diag_error(diag, path, yaml_node_line(yaml_doc_root(&y)),
			      "a device profile needs a 'device:' mapping with ip and/or mac");
		yaml_doc_free(&y);
		return false;
	}
	yaml_node_t *ip = yaml_map_get(&y, dev, "ip");
	if (yaml_node_is_seq(ip)) {
		for (size_t i = 0; i < yaml_seq_size(ip); i++)
			add_ip(out, path, yaml_seq_at(&y, ip, i), diag);
	} else if (ip) {
		add_ip(out, path, ip, diag);
	}
	yaml_node_t *mac = yaml_map_get(&y, dev, "mac");
	if (mac) {
		const char *s = yaml_node_scalar(mac);
		if (s && parse_mac(s, out->mac))
			out->has_mac = true;
		else
			pa_diag_error(diag, path, yaml_node_line(mac), "device.mac: not a MAC address: %s",
				      s ? s : "(not a scalar)");
	}
	if (!out->ip_count && !out->has_mac && diag->errors == errors)
		pa_diag_error(diag, path, yaml_node_line(dev), "device: needs ip and/or mac");
	out->from_profile = true;
	yaml_doc_free(&y);
	return diag->errors == errors;
}

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

/* ---- app and phone facts ---------------------------------------------------- */

bool device_facts_sha256_ok(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!isxdigit((unsigned char)s[n]))
			return false;
	return n == 64;
}

/* A text value of at most len - 1 bytes into out. */
static bool fact_text(struct yaml_doc *y, yaml_node_t *map, const char *key, const char *where,
		      char *out, size_t len, struct pa_diag *diag)
{
	yaml_node_t *n = yaml_map_get(y, map, key);
	if (!n)
		return true;
	const char *v = yaml_node_scalar(n);
	if (!v || !v[0] || strlen(v) >= len) {
		pa_diag_error(diag, y->path, yaml_node_line(n), "%s.%s must be text of 1 to %zu bytes",
			      where, key, len - 1);
		return false;
	}
	if (out)
		snprintf(out, len, "%s", v);
	return true;
}

static bool app_section(struct yaml_doc *y, yaml_node_t *app, struct device_facts *out,
			struct pa_diag *diag)
{
	if (!yaml_node_is_map(app)) {
		pa_diag_error(diag, y->path, yaml_node_line(app),
			      "'app' must be a mapping (package, version, apk_sha256)");
		return false;
	}
	bool ok = true;
	for (size_t i = 0; i < yaml_map_size(app); i++) {
		yaml_node_t *value;
		const char *k = yaml_node_scalar(yaml_map_at(y, app, i, &value));
		if (!k || (strcmp(k, "package") && strcmp(k, "version") && strcmp(k, "apk_sha256"))) {
			pa_diag_error(diag, y->path, yaml_node_line(value),
				      "unknown key '%s' in app (package, version, apk_sha256)", k ? k : "?");
			ok = false;
		}
	}
	struct device_facts scratch;
	if (!out)
		out = &scratch;
	ok = fact_text(y, app, "package", "app", out->app_package, sizeof out->app_package, diag) && ok;
	ok = fact_text(y, app, "version", "app", out->app_version, sizeof out->app_version, diag) && ok;
	yaml_node_t *h = yaml_map_get(y, app, "apk_sha256");
	if (h) {
		const char *v = yaml_node_scalar(h);
		if (!v || !device_facts_sha256_ok(v)) {
			pa_diag_error(diag, y->path, yaml_node_line(h),
				      "app.apk_sha256 must be 64 hexadecimal digits");
			ok = false;
		} else {
			for (size_t i = 0; i < 64; i++)
				out->apk_sha256[i] = (char)tolower((unsigned char)v[i]);
			out->apk_sha256[64] = 0;
		}
	}
	return ok;
}

bool device_app_section_check(struct yaml_doc *y, yaml_node_t *app, struct pa_diag *diag)
{
	return app_section(y, app, NULL, diag);
}

bool device_facts_load(const char *path, struct device_facts *out, struct pa_diag *diag)
{
	memset(out, 0, sizeof *out);
	struct yaml_doc y;
	if (!yaml_doc_load(&y, path, diag))
		return false;
	bool ok = true;
	yaml_node_t *dev = yaml_map_get(&y, yaml_doc_root(&y), "device");
	if (yaml_node_is_map(dev)) {
		ok = fact_text(&y, dev, "model", "device", out->phone_model, sizeof out->phone_model, diag) && ok;
		ok = fact_text(&y, dev, "os_version", "device", out->os_version, sizeof out->os_version, diag) && ok;
		ok = fact_text(&y, dev, "platform", "device", out->platform, sizeof out->platform, diag) && ok;
	}
	yaml_node_t *app = yaml_map_get(&y, yaml_doc_root(&y), "app");
	if (app)
		ok = app_section(&y, app, out, diag) && ok;
	yaml_doc_free(&y);
	return ok;
}
