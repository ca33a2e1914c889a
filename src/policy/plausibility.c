/*
 * plausibility.c — speed-of-light bound on where a server can be, and the
 * user's CIDR → country corrections.
 */
#include "policy/plausibility.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Reference circles: a centre (WGS-84, degrees) and a radius in km chosen so
 * that the circles together cover the country's territory, islands included
 * (over-covering only makes the bound weaker, never wrong). Centres are
 * regional capitals or geographic midpoints read off a world map; radii are
 * rounded up generously. Sources: Natural Earth admin-0 extents, checked by
 * hand. A country missing here is simply not judged.
 */
struct country_circle {
	const char iso[3];
	double lat, lon, radius_km;
};

static const struct country_circle circles[] = {
	/* Greater China */
	{"CN", 39.9, 116.4, 900}, {"CN", 31.2, 121.5, 900}, {"CN", 23.1, 113.3, 900},
	{"CN", 30.6, 104.1, 1000}, {"CN", 43.8, 87.6, 1200}, {"CN", 29.6, 91.1, 1000},
	{"CN", 45.8, 126.5, 900}, {"CN", 36.1, 103.8, 900}, {"CN", 37.5, 77.0, 700},
	{"CN", 50.5, 121.0, 700}, {"CN", 16.5, 112.0, 1000},
	{"HK", 22.3, 114.2, 60}, {"MO", 22.2, 113.55, 30},
	{"TW", 23.7, 121.0, 250}, {"TW", 25.0, 119.5, 250}, {"TW", 20.7, 116.7, 30},
	/* East and South-East Asia */
	{"JP", 35.7, 139.7, 700}, {"JP", 33.6, 130.4, 500}, {"JP", 43.1, 141.3, 500},
	{"JP", 26.2, 127.7, 500}, {"JP", 24.5, 124.0, 300}, {"JP", 27.0, 142.2, 300},
	{"KR", 36.5, 127.9, 400}, {"KP", 40.0, 127.0, 350}, {"MN", 46.9, 103.8, 1300},
	{"SG", 1.35, 103.8, 50}, {"MY", 3.1, 101.7, 600}, {"MY", 3.0, 113.5, 800},
	{"TH", 15.0, 101.0, 900}, {"VN", 16.0, 107.0, 1000}, {"PH", 12.9, 121.8, 1000},
	{"ID", -6.2, 106.8, 900}, {"ID", 0.5, 114.0, 900}, {"ID", -2.0, 121.0, 900},
	{"ID", -4.0, 136.0, 900}, {"ID", 3.6, 98.7, 900}, {"ID", -8.5, 125.0, 700},
	{"KH", 12.6, 104.9, 400}, {"LA", 18.0, 103.0, 600}, {"MM", 19.7, 96.1, 1000},
	{"BN", 4.5, 114.7, 100},
	/* South and Central Asia */
	{"IN", 28.6, 77.2, 900}, {"IN", 19.0, 73.0, 900}, {"IN", 13.0, 80.0, 900},
	{"IN", 22.5, 88.4, 900}, {"IN", 26.0, 93.0, 700}, {"IN", 34.0, 76.0, 600},
	{"IN", 11.0, 93.0, 700}, {"IN", 10.5, 72.6, 300},
	{"PK", 30.0, 70.0, 900}, {"BD", 23.7, 90.4, 400}, {"LK", 7.9, 80.8, 300},
	{"NP", 28.3, 84.1, 500}, {"KZ", 48.0, 67.0, 1400}, {"UZ", 41.4, 64.6, 700},
	/* Middle East */
	{"IL", 31.5, 35.0, 300}, {"SA", 24.0, 45.0, 1400}, {"AE", 24.4, 54.4, 400},
	{"QA", 25.3, 51.2, 150}, {"IR", 32.4, 53.7, 1200}, {"IQ", 33.2, 43.7, 700},
	{"TR", 39.0, 35.0, 900}, {"BH", 26.0, 50.5, 60}, {"KW", 29.3, 47.6, 200},
	{"OM", 21.0, 57.0, 800}, {"JO", 31.0, 36.5, 350},
	/* Russia: Kaliningrad to Chukotka */
	{"RU", 55.75, 37.6, 900}, {"RU", 59.9, 30.3, 700}, {"RU", 54.7, 20.5, 300},
	{"RU", 56.8, 60.6, 900}, {"RU", 55.0, 73.4, 900}, {"RU", 55.0, 83.0, 900},
	{"RU", 56.0, 92.9, 900}, {"RU", 52.3, 104.3, 900}, {"RU", 62.0, 129.7, 1300},
	{"RU", 48.5, 135.0, 900}, {"RU", 43.1, 131.9, 400}, {"RU", 53.0, 158.6, 900},
	{"RU", 64.7, 177.5, 900}, {"RU", 69.0, 88.0, 1300}, {"RU", 70.0, 110.0, 1400},
	{"RU", 67.0, 150.0, 1400}, {"RU", 67.0, 60.0, 1300}, {"RU", 45.0, 40.0, 700},
	{"RU", 47.0, 143.0, 700}, {"RU", 78.0, 60.0, 900}, {"RU", 79.0, 100.0, 900},
	/* Europe */
	{"GB", 52.5, -1.5, 600}, {"GB", 57.5, -4.5, 500}, {"GB", 60.3, -1.3, 200},
	{"IE", 53.3, -8.0, 300}, {"FR", 46.6, 2.4, 700}, {"FR", 42.0, 9.0, 200},
	{"DE", 51.2, 10.4, 550}, {"NL", 52.2, 5.3, 250}, {"BE", 50.6, 4.6, 200},
	{"LU", 49.8, 6.1, 60}, {"CH", 46.8, 8.2, 250}, {"AT", 47.5, 14.5, 350},
	{"IT", 44.0, 11.0, 450}, {"IT", 39.0, 15.0, 550}, {"IT", 40.0, 9.0, 250},
	{"IT", 35.5, 12.6, 100},
	{"ES", 40.4, -3.7, 650}, {"ES", 28.3, -16.0, 400}, {"ES", 35.5, -4.0, 200},
	{"PT", 39.5, -8.0, 400}, {"PT", 38.5, -28.0, 450}, {"PT", 32.7, -17.0, 150},
	{"SE", 59.3, 18.1, 550}, {"SE", 66.0, 20.0, 500},
	{"NO", 60.5, 8.5, 550}, {"NO", 69.0, 18.0, 650}, {"NO", 78.0, 16.0, 450},
	{"FI", 61.0, 25.0, 450}, {"FI", 67.0, 26.0, 450}, {"DK", 56.0, 10.0, 350},
	{"DK", 55.1, 14.9, 60}, {"IS", 64.9, -19.0, 350},
	{"PL", 52.0, 19.1, 450}, {"CZ", 49.8, 15.5, 300}, {"SK", 48.7, 19.7, 250},
	{"HU", 47.2, 19.5, 300}, {"RO", 45.9, 25.0, 400}, {"BG", 42.7, 25.5, 300},
	{"GR", 39.0, 22.0, 500}, {"GR", 35.2, 25.0, 350}, {"UA", 49.0, 31.0, 850},
	{"BY", 53.7, 28.0, 400}, {"EE", 58.6, 25.0, 250}, {"LV", 56.9, 24.6, 250},
	{"LT", 55.2, 23.9, 250}, {"SI", 46.2, 14.8, 150}, {"HR", 45.1, 15.2, 350},
	{"RS", 44.0, 21.0, 300}, {"CY", 35.0, 33.0, 150}, {"MT", 35.9, 14.4, 50},
	/* Americas */
	{"US", 40.7, -74.0, 900}, {"US", 38.9, -77.0, 900}, {"US", 33.7, -84.4, 900},
	{"US", 25.8, -80.2, 700}, {"US", 41.9, -87.6, 900}, {"US", 29.8, -95.4, 900},
	{"US", 32.8, -96.8, 900}, {"US", 39.7, -105.0, 900}, {"US", 33.4, -112.0, 900},
	{"US", 34.05, -118.2, 900}, {"US", 37.4, -122.0, 900}, {"US", 47.6, -122.3, 900},
	{"US", 45.5, -122.7, 700}, {"US", 44.9, -93.3, 900}, {"US", 44.0, -70.0, 600},
	{"US", 61.2, -149.9, 1500}, {"US", 66.0, -155.0, 1000}, {"US", 52.5, -176.0, 1300},
	{"US", 20.8, -156.3, 600},
	{"CA", 43.7, -79.4, 900}, {"CA", 45.5, -73.6, 900}, {"CA", 49.3, -123.1, 900},
	{"CA", 51.0, -114.0, 900}, {"CA", 49.9, -97.1, 900}, {"CA", 46.0, -63.0, 900},
	{"CA", 60.0, -100.0, 2500}, {"CA", 72.0, -95.0, 2000}, {"CA", 64.0, -135.0, 1200},
	{"CA", 52.0, -60.0, 1000}, {"CA", 80.0, -75.0, 900},
	{"MX", 19.4, -99.1, 1200}, {"MX", 29.0, -110.0, 900}, {"MX", 20.9, -89.6, 700},
	{"BR", -23.5, -46.6, 1000}, {"BR", -22.9, -43.2, 1000}, {"BR", -15.8, -47.9, 1300},
	{"BR", -3.1, -60.0, 1600}, {"BR", -8.0, -35.0, 1100}, {"BR", -30.0, -51.2, 900},
	{"BR", -3.8, -32.4, 100},
	{"AR", -34.6, -58.4, 1200}, {"AR", -45.0, -68.0, 1300}, {"AR", -26.0, -65.0, 900},
	{"CL", -33.4, -70.6, 1300}, {"CL", -23.6, -70.4, 1000}, {"CL", -53.0, -71.0, 1000},
	{"CL", -27.1, -109.4, 100},
	{"CO", 4.7, -74.1, 900}, {"PE", -12.0, -77.0, 1100}, {"VE", 10.5, -66.9, 900},
	/* Oceania */
	{"AU", -33.9, 151.2, 1000}, {"AU", -37.8, 145.0, 1000}, {"AU", -31.9, 115.9, 1000},
	{"AU", -27.5, 153.0, 1000}, {"AU", -12.5, 130.8, 1000}, {"AU", -25.0, 133.0, 1500},
	{"AU", -42.9, 147.3, 500}, {"AU", -16.9, 145.8, 900}, {"AU", -20.0, 118.0, 900},
	{"NZ", -41.0, 174.0, 1000},
	/* Africa */
	{"EG", 26.8, 30.8, 850}, {"ZA", -30.6, 22.9, 1000}, {"ZA", -29.0, 31.0, 450},
	{"NG", 9.1, 8.7, 850}, {"KE", 0.0, 37.9, 650}, {"MA", 31.8, -7.1, 800},
};

double great_circle_km(double lat1, double lon1, double lat2, double lon2)
{
	const double rad = M_PI / 180.0;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
	double a = sin(dlat / 2) * sin(dlat / 2) +
		   cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
	if (a > 1)
		a = 1;
	return 2 * 6371.0 * asin(sqrt(a));
}

double country_min_distance_km(const char *iso, double lat, double lon)
{
	double best = -1;
	for (size_t i = 0; iso && i < sizeof circles / sizeof circles[0]; i++) {
		if (strcmp(circles[i].iso, iso) != 0)
			continue;
		double d = great_circle_km(lat, lon, circles[i].lat, circles[i].lon) - circles[i].radius_km;
		if (d < 0)
			d = 0;
		if (best < 0 || d < best)
			best = d;
	}
	return best;
}

const char *plaus_verdict_name(enum plaus_verdict v)
{
	switch (v) {
	case PLAUS_CONSISTENT:
		return "consistent";
	case PLAUS_CONTRADICTED:
		return "contradicted";
	case PLAUS_NOT_CHECKED:
		break;
	}
	return "not-checked";
}

void plausibility_check(bool have_lab, double lab_lat, double lab_lon, double lab_radius_km,
			double rtt_ms, const char *country, struct plaus_check *out)
{
	memset(out, 0, sizeof *out);
	out->rtt_ms = rtt_ms;
	out->distance_km = -1;
	out->bound_ms = -1;
	snprintf(out->country, sizeof out->country, "%s", country ? country : "");
	if (!have_lab) {
		out->why = "no lab location in the device profile";
		return;
	}
	if (!out->country[0]) {
		out->why = "no country for the destination";
		return;
	}
	double d = country_min_distance_km(out->country, lab_lat, lab_lon);
	if (d < 0) {
		out->why = "country outside the reference table";
		return;
	}
	d -= lab_radius_km > 0 ? lab_radius_km : 0;
	if (d < 0)
		d = 0;
	out->distance_km = d;
	out->bound_ms = 2 * d / PLAUS_FIBRE_KM_PER_MS;
	if (rtt_ms < 0) {
		out->why = "no TCP handshake round trip measured";
		return;
	}
	out->verdict = rtt_ms < out->bound_ms ? PLAUS_CONTRADICTED : PLAUS_CONSISTENT;
}

void plaus_jurisdiction(const char *iso, char *out, size_t len)
{
	if (!iso || !iso[0])
		snprintf(out, len, "unknown");
	else if (!strcmp(iso, "CN") || !strcmp(iso, "HK") || !strcmp(iso, "MO") || !strcmp(iso, "TW"))
		snprintf(out, len, "%s", iso);
	else
		snprintf(out, len, "foreign:%s", iso);
}

/* ---- CIDR → country overrides -------------------------------------------- */

struct country_range {
	struct pa_addr net; /* masked */
	unsigned prefix;
	char country[3];
};

struct country_overrides {
	struct country_range *ranges;
	size_t count;
};

static bool addr_in(const struct pa_addr *a, const struct country_range *r)
{
	if (a->family != r->net.family)
		return false;
	unsigned full = r->prefix / 8, rest = r->prefix % 8;
	if (memcmp(a->bytes, r->net.bytes, full) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a->bytes[full] & mask) == r->net.bytes[full];
}

static void mask_addr(struct pa_addr *a, unsigned prefix)
{
	unsigned bytes = a->family == 4 ? 4 : 16;
	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = prefix > i * 8 ? prefix - i * 8 : 0;
		if (keep >= 8)
			continue;
		a->bytes[i] &= (uint8_t)(0xff << (8 - keep));
	}
}

/* One line: "CIDR CC". false with a message in why. */
static bool parse_range(char *line, struct country_range *r, const char **why)
{
	char *tok = strtok(line, " \t");
	char *cc = strtok(NULL, " \t");
	char *extra = strtok(NULL, " \t");
	if (!tok || !cc || extra) {
		*why = "expected 'CIDR COUNTRY' (e.g. 203.0.113.0/24 CN)";
		return false;
	}
	char *slash = strchr(tok, '/');
	long prefix = -1;
	if (slash) {
		*slash = '\0';
		char *end;
		prefix = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end) {
			*why = "bad prefix length";
			return false;
		}
	}
	if (!pa_addr_parse(tok, &r->net)) {
		*why = "not an IPv4 or IPv6 address";
		return false;
	}
	long max = r->net.family == 4 ? 32 : 128;
	if (prefix < 0)
		prefix = max;
	if (prefix > max) {
		*why = "prefix length too long for the address family";
		return false;
	}
	if (strlen(cc) != 2 || !isupper((unsigned char)cc[0]) || !isupper((unsigned char)cc[1])) {
		*why = "country must be an upper-case ISO 3166 alpha-2 code";
		return false;
	}
	r->prefix = (unsigned)prefix;
	mask_addr(&r->net, r->prefix);
	memcpy(r->country, cc, 3);
	return true;
}

struct country_overrides *country_overrides_load_buffer(const char *path, const char *buf,
							size_t len, struct pa_diag *diag)
{
	struct country_overrides *o = pa_xcalloc(1, sizeof *o);
	size_t errors = 0, cap = 0;
	unsigned lineno = 0;
	size_t pos = 0;
	while (pos < len) {
		size_t end = pos;
		while (end < len && buf[end] != '\n')
			end++;
		lineno++;
		char line[256];
		size_t n = end - pos;
		bool too_long = n >= sizeof line;
		if (!too_long) {
			memcpy(line, buf + pos, n);
			line[n] = '\0';
		}
		pos = end + 1;
		if (too_long) {
			pa_diag_error(diag, path, lineno, "line too long");
			errors++;
			continue;
		}
		if (memchr(line, '\0', n)) {
			pa_diag_error(diag, path, lineno, "NUL byte in line");
			errors++;
			continue;
		}
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = line;
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		size_t sl = strlen(s);
		while (sl && (s[sl - 1] == ' ' || s[sl - 1] == '\t' || s[sl - 1] == '\r'))
			s[--sl] = '\0';
		if (!*s)
			continue;
		struct country_range r;
		const char *why = NULL;
		if (!parse_range(s, &r, &why)) {
			pa_diag_error(diag, path, lineno, "%s", why);
			errors++;
			continue;
		}
		if (o->count == cap) {
			cap = cap ? cap * 2 : 16;
			o->ranges = pa_xrealloc(o->ranges, cap * sizeof *o->ranges);
		}
		o->ranges[o->count++] = r;
	}
	if (errors) {
		country_overrides_free(o);
		return NULL;
	}
	return o;
}

struct country_overrides *country_overrides_load(const char *path, struct pa_diag *diag)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		pa_diag_error(diag, path, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	size_t cap = 4096, len = 0;
	char *buf = pa_xmalloc(cap);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			if (cap >= (64u << 20)) {
				pa_diag_error(diag, path, 0, "file larger than 64 MiB");
				free(buf);
				fclose(f);
				return NULL;
			}
			cap *= 2;
			buf = pa_xrealloc(buf, cap);
		}
	}
	fclose(f);
	struct country_overrides *o = country_overrides_load_buffer(path, buf, len, diag);
	free(buf);
	return o;
}

const char *country_overrides_lookup(const struct country_overrides *o, const struct pa_addr *addr)
{
	const struct country_range *best = NULL;
	for (size_t i = 0; o && addr && i < o->count; i++)
		if (addr_in(addr, &o->ranges[i]) && (!best || o->ranges[i].prefix > best->prefix))
			best = &o->ranges[i];
	return best ? best->country : "";
}

size_t country_overrides_count(const struct country_overrides *o)
{
	return o ? o->count : 0;
}

void country_overrides_free(struct country_overrides *o)
{
	if (!o)
		return;
	free(o->ranges);
	free(o);
}
