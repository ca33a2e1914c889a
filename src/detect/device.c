/*
 * device.c — the one parser of device profiles (signatures/devices/<name>.yaml):
 * where the test phone is on the link (device: ip, mac; the pipeline decides
 * each flow's device side from them, flow/device_side.c), its real values,
 * checked one by one (a mistyped IMEI would make every audit silently miss
 * it), and its lab location. Every encoding of the values an app may send is
 * derived from them (variants.c), so the profile stays a plain list of values.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_internal.h"

enum ident_shape {
	SHAPE_IMEI,   /* 15 digits, Luhn */
	SHAPE_MEID,
	SHAPE_IMSI,
	SHAPE_ICCID,
	SHAPE_TOKEN,  /* serial: letters and digits */
	SHAPE_HEX16,  /* android_id */
	SHAPE_AD_ID,  /* oaid/vaid/aaid: UUID or 16-64 hex */
	SHAPE_UUID,   /* gaid, idfa, idfv */
	SHAPE_PHONE,
	SHAPE_MAC,
	SHAPE_TEXT,   /* ssid */
	SHAPE_EMAIL,
};

static const struct {
	const char *type;
	enum ident_shape shape;
} ident_types[] = {
	{ "imei", SHAPE_IMEI },		{ "meid", SHAPE_MEID },	      { "imsi", SHAPE_IMSI },
	{ "iccid", SHAPE_ICCID },	{ "serial", SHAPE_TOKEN },    { "android_id", SHAPE_HEX16 },
	{ "oaid", SHAPE_AD_ID },	{ "vaid", SHAPE_AD_ID },      { "aaid", SHAPE_AD_ID },
	{ "gaid", SHAPE_UUID },		{ "idfa", SHAPE_UUID },	      { "idfv", SHAPE_UUID },
	{ "phone", SHAPE_PHONE },	{ "wifi_mac", SHAPE_MAC },    { "bluetooth_mac", SHAPE_MAC },
	{ "bssid", SHAPE_MAC },		{ "ssid", SHAPE_TEXT },	      { "email", SHAPE_EMAIL },
	{ "mac", SHAPE_MAC },
};

static int ident_type_index(const char *type)
{
	for (size_t i = 0; i < sizeof ident_types / sizeof ident_types[0]; i++)
		if (strcmp(type, ident_types[i].type) == 0)
			return (int)i;
	return -1;
}

static bool charset(const char *s, const char *extra, bool hex_only)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (hex_only ? isxdigit(c) : isalnum(c))
			continue;
		if (!extra || !strchr(extra, c))
			return false;
	}
	return true;
}

static bool mac_shape(const char *v)
{
	size_t n = strlen(v);
	if (n == 12)
		return charset(v, NULL, true);
	if (n != 17)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i % 3 == 2) {
			if (v[i] != v[2] || (v[i] != ':' && v[i] != '-'))
				return false;
		} else if (!isxdigit((unsigned char)v[i])) {
			return false;
		}
	}
	return true;
}

/* The six bytes of a MAC that passed mac_shape (with or without separators). */
static bool mac_bytes(const char *v, uint8_t mac[6])
{
	size_t n = 0;
	for (const char *p = v; p[0] && p[1] && n < 6;) {
		if (!isxdigit((unsigned char)p[0])) {
			p++;
			continue;
		}
		char pair[3] = {p[0], p[1], 0};
		mac[n++] = (uint8_t)strtoul(pair, NULL, 16);
		p += 2;
	}
	return n == 6;
}

/* NULL when the value fits its type, else what is wrong. */
static const char *shape_problem(enum ident_shape shape, const char *v)
{
	size_t n = strlen(v);
	switch (shape) {
	case SHAPE_IMEI:
		if (n != 15 || !charset(v, NULL, false) || !detect_validate(DETECT_V_LUHN, v, n))
			return "IMEI must be 15 digits with a valid Luhn check digit";
		return NULL;
	case SHAPE_MEID:
		return detect_validate(DETECT_V_MEID, v, n) ? NULL
			: "MEID must be 14 hex digits starting A0-FF (or 18 decimal digits)";
	case SHAPE_IMSI:
		return n >= 14 && n <= 15 && strspn(v, "0123456789") == n ? NULL
			: "IMSI must be 14-15 digits";
	case SHAPE_ICCID:
		return n >= 18 && n <= 22 && v[0] == '8' && v[1] == '9' && charset(v, NULL, false)
			? NULL : "ICCID must be 18-22 characters starting 89";
	case SHAPE_TOKEN:
		return n >= 4 && n <= 64 && charset(v, "-_", false) ? NULL
			: "must be 4-64 letters, digits, '-' or '_'";
	case SHAPE_HEX16:
		return n == 16 && charset(v, NULL, true) ? NULL : "Android ID must be 16 hex digits";
	case SHAPE_AD_ID:
		return (detect_validate(DETECT_V_UUID, v, n) ||
			(n >= 16 && n <= 64 && charset(v, NULL, true)))
			? NULL : "must be a UUID or 16-64 hex digits";
	case SHAPE_UUID:
		return detect_validate(DETECT_V_UUID, v, n) ? NULL
			: "must be a UUID (8-4-4-4-12 hex digits, not all zero)";
	case SHAPE_PHONE:
		return detect_validate(DETECT_V_PHONE_CN, v, n) && charset(v, "+- ", false) ? NULL
			: "phone must be a mainland mobile number (11 digits, optional +86)";
	case SHAPE_MAC:
		return mac_shape(v) ? NULL : "MAC must be six hex pairs (aa:bb:cc:dd:ee:ff)";
	case SHAPE_TEXT:
		return n >= 1 && n <= 32 ? NULL : "must be 1-32 characters";
	case SHAPE_EMAIL:
		return detect_validate(DETECT_V_EMAIL, v, n) ? NULL : "not an e-mail address";
	}
	return "unknown";
}

static bool add_ident(struct detect_device *dev, struct yaml_doc *y, const char *type,
		      yaml_node_t *node, struct pa_diag *diag)
{
	const char *v = yaml_node_scalar(node);
	int t = ident_type_index(type);
	if (!v) {
		pa_diag_error(diag, y->path, yaml_node_line(node), "%s: value must be text", type);
		return false;
	}
	const char *problem = shape_problem(ident_types[t].shape, v);
	if (problem) {
		pa_diag_error(diag, y->path, yaml_node_line(node), "%s '%s': %s", type, v, problem);
		return false;
	}
	if (dev->ident_count == dev->ident_cap) {
		dev->ident_cap = dev->ident_cap ? dev->ident_cap * 2 : 16;
		dev->idents = pa_xrealloc(dev->idents, dev->ident_cap * sizeof *dev->idents);
	}
	struct detect_ident *id = &dev->idents[dev->ident_count++];
	memset(id, 0, sizeof *id);
	snprintf(id->type, sizeof id->type, "%s", type);
	/* Phone numbers are kept national: the +86 forms are derived. */
	if (ident_types[t].shape == SHAPE_PHONE) {
		size_t o = 0;
		for (const char *p = v; *p && o < sizeof id->value - 1; p++)
			if (isdigit((unsigned char)*p))
				id->value[o++] = *p;
		id->value[o] = 0;
		if (o == 13)
			memmove(id->value, id->value + 2, 12);
		else if (o == 15)
			memmove(id->value, id->value + 4, 12);
	} else {
		snprintf(id->value, sizeof id->value, "%s", v);
	}
	id->line = yaml_node_line(node);
	return true;
}

static bool parse_device_section(struct yaml_doc *y, yaml_node_t *sec, struct detect_device *dev,
				 size_t *good, size_t *bad, struct pa_diag *diag)
{
	bool ok = true;
	if (!yaml_node_is_map(sec)) {
		pa_diag_error(diag, y->path, yaml_node_line(sec), "'device' must be a mapping");
		return false;
	}
	for (size_t i = 0; i < yaml_map_size(sec); i++) {
		yaml_node_t *value;
		yaml_node_t *key = yaml_map_at(y, sec, i, &value);
		const char *k = yaml_node_scalar(key);
		const char *v = yaml_node_scalar(value);
		bool entry_ok = true;
		if (k && strcmp(k, "name") == 0) {
			if (!v || !*v) {
				pa_diag_error(diag, y->path, yaml_node_line(value), "name must be text");
				entry_ok = false;
			} else {
				snprintf(dev->name, sizeof dev->name, "%s", v);
			}
		} else if (k && strcmp(k, "platform") == 0) {
			if (!v || (strcmp(v, "android") != 0 && strcmp(v, "ios") != 0)) {
				pa_diag_error(diag, y->path, yaml_node_line(value),
					      "platform must be android or ios");
				entry_ok = false;
			}
		} else if (k && strcmp(k, "ip") == 0) {
			size_t n = v ? 1 : yaml_seq_size(value);
			if (!v && !yaml_node_is_seq(value))
				n = 0;
			if (n == 0) {
				pa_diag_error(diag, y->path, yaml_node_line(value),
					      "ip must be an address or a list of addresses");
				entry_ok = false;
			}
			for (size_t a = 0; a < n; a++) {
				yaml_node_t *item = v ? value : yaml_seq_at(y, value, a);
				struct pa_addr addr;
				const char *s = yaml_node_scalar(item);
				if (!s || !pa_addr_parse(s, &addr)) {
					pa_diag_error(diag, y->path, yaml_node_line(item),
						      "'%s' is not an IP address", s ? s : "?");
					entry_ok = false;
				} else if (dev->ip_count == DETECT_DEVICE_MAX_IPS) {
					pa_diag_error(diag, y->path, yaml_node_line(item),
						      "ip: more than %d addresses", DETECT_DEVICE_MAX_IPS);
					entry_ok = false;
				} else {
					dev->ip[dev->ip_count++] = addr;
				}
			}
		} else if (k && strcmp(k, "mac") == 0) {
			/* The MAC is both where the phone is and an identifier
			 * apps send. */
			entry_ok = add_ident(dev, y, "mac", value, diag);
			if (entry_ok)
				dev->has_mac = mac_bytes(v, dev->mac);
		} else {
			pa_diag_error(diag, y->path, yaml_node_line(key),
				      "unknown key '%s' in device (name, platform, ip, mac)",
				      k ? k : "?");
			entry_ok = false;
		}
		entry_ok ? (*good)++ : (*bad)++;
		ok = ok && entry_ok;
	}
	/* Without either, no flow could be told up from down. */
	if (ok && !dev->ip_count && !dev->has_mac) {
		pa_diag_error(diag, y->path, yaml_node_line(sec), "device: needs ip and/or mac");
		(*bad)++;
		ok = false;
	}
	return ok;
}

static bool parse_identifiers(struct yaml_doc *y, yaml_node_t *sec, struct detect_device *dev,
			      size_t *good, size_t *bad, struct pa_diag *diag)
{
	bool ok = true;
	if (!yaml_node_is_map(sec)) {
		pa_diag_error(diag, y->path, yaml_node_line(sec),
			      "'identifiers' must be a mapping of type: value");
		return false;
	}
	for (size_t i = 0; i < yaml_map_size(sec); i++) {
		yaml_node_t *value;
		yaml_node_t *key = yaml_map_at(y, sec, i, &value);
		const char *k = yaml_node_scalar(key);
		if (!k || ident_type_index(k) < 0 || strcmp(k, "mac") == 0) {
			pa_diag_error(diag, y->path, yaml_node_line(key),
				      "unknown identifier type '%s' (imei, meid, imsi, iccid, serial, "
				      "android_id, oaid, vaid, aaid, gaid, idfa, idfv, phone, "
				      "wifi_mac, bluetooth_mac, bssid, ssid, email)",
				      k ? k : "?");
			(*bad)++;
			ok = false;
			continue;
		}
		if (yaml_node_is_seq(value)) {
			if (yaml_seq_size(value) == 0) {
				pa_diag_error(diag, y->path, yaml_node_line(value), "%s: empty list", k);
				(*bad)++;
				ok = false;
			}
			for (size_t j = 0; j < yaml_seq_size(value); j++) {
				bool e = add_ident(dev, y, k, yaml_seq_at(y, value, j), diag);
				e ? (*good)++ : (*bad)++;
				ok = ok && e;
			}
		} else {
			bool e = add_ident(dev, y, k, value, diag);
			e ? (*good)++ : (*bad)++;
			ok = ok && e;
		}
	}
	return ok;
}

static bool parse_number(struct yaml_doc *y, yaml_node_t *n, const char *what, double lo,
			 double hi, double *out, struct pa_diag *diag)
{
	const char *v = yaml_node_scalar(n);
	char *end = NULL;
	double d = v ? strtod(v, &end) : 0;
	if (!v || end == v || *end || !(d >= lo && d <= hi)) {
		pa_diag_error(diag, y->path, yaml_node_line(n), "%s must be a number in [%g, %g]",
			      what, lo, hi);
		return false;
	}
	*out = d;
	return true;
}

static bool parse_location(struct yaml_doc *y, yaml_node_t *sec, struct detect_device *dev,
			   size_t *good, size_t *bad, struct pa_diag *diag)
{
	bool ok = true, has_lat = false, has_lon = false;
	dev->radius_m = 500;
	if (!yaml_node_is_map(sec)) {
		pa_diag_error(diag, y->path, yaml_node_line(sec),
			      "'location' must be a mapping (lat, lon, radius_m)");
		return false;
	}
	for (size_t i = 0; i < yaml_map_size(sec); i++) {
		yaml_node_t *value;
		yaml_node_t *key = yaml_map_at(y, sec, i, &value);
		const char *k = yaml_node_scalar(key);
		bool e;
		if (k && strcmp(k, "lat") == 0)
			e = has_lat = parse_number(y, value, "lat", -90, 90, &dev->lat, diag);
		else if (k && strcmp(k, "lon") == 0)
			e = has_lon = parse_number(y, value, "lon", -180, 180, &dev->lon, diag);
		else if (k && strcmp(k, "radius_m") == 0)
			e = parse_number(y, value, "radius_m", 1, 100000, &dev->radius_m, diag);
		else {
			pa_diag_error(diag, y->path, yaml_node_line(key),
				      "unknown key '%s' in location (lat, lon, radius_m)", k ? k : "?");
			e = false;
		}
		e ? (*good)++ : (*bad)++;
		ok = ok && e;
	}
	if (ok && !(has_lat && has_lon)) {
		pa_diag_error(diag, y->path, yaml_node_line(sec), "location needs both lat and lon");
		(*bad)++;
		ok = false;
	}
	dev->has_location = ok;
	return ok;
}

bool detect_device_parse(struct yaml_doc *y, struct detect_device *dev, size_t *good,
			 size_t *bad, struct pa_diag *diag)
{
	yaml_node_t *root = yaml_doc_root(y);
	bool ok = true, any = false;
	memset(dev, 0, sizeof *dev);
	if (!yaml_node_is_map(root)) {
		pa_diag_error(diag, y->path, yaml_node_line(root),
			      "a device profile is a mapping with device:, identifiers:, location:");
		return false;
	}
	for (size_t i = 0; i < yaml_map_size(root); i++) {
		yaml_node_t *value;
		yaml_node_t *key = yaml_map_at(y, root, i, &value);
		const char *k = yaml_node_scalar(key);
		if (k && strcmp(k, "device") == 0)
			ok = parse_device_section(y, value, dev, good, bad, diag) && ok;
		else if (k && strcmp(k, "identifiers") == 0)
			ok = parse_identifiers(y, value, dev, good, bad, diag) && ok, any = true;
		else if (k && strcmp(k, "location") == 0)
			ok = parse_location(y, value, dev, good, bad, diag) && ok, any = true;
		else {
			pa_diag_error(diag, y->path, yaml_node_line(key),
				      "unknown top-level key '%s' (device, identifiers, location)",
				      k ? k : "?");
			ok = false;
		}
	}
	if (ok && !any && dev->ident_count == 0) {
		pa_diag_error(diag, y->path, yaml_node_line(root),
			      "the profile lists no identifiers and no location");
		ok = false;
	}
	return ok;
}

void detect_device_free(struct detect_device *dev)
{
	free(dev->idents);
	memset(dev, 0, sizeof *dev);
}
