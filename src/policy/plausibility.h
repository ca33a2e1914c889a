/*
 * plausibility.h — can a destination really be in the country GeoIP says?
 *
 * Light in fibre covers about 200 km per millisecond, so a TCP handshake
 * measured at the lab (SYN → SYN/ACK) of r ms means the server is at most
 * r · 100 km away. If even the nearest point of the claimed country is
 * farther than that, the claim is physically impossible: an anycast or CDN
 * address registered in one country and answered in another.
 *
 * The nearest point of a country is estimated conservatively from a small
 * table of reference circles (centre + radius that covers the region, several
 * per large country): distance to the country = min over its circles of
 * max(0, distance to centre − radius). A country without circles is never
 * judged. Users can correct GeoIP for address ranges they know with a
 * CIDR → country file (country_overrides_load).
 */
#ifndef PA_PLAUSIBILITY_H
#define PA_PLAUSIBILITY_H

#include <stdbool.h>

#include "privaudit.h"
#include "util/diag.h"

#define PLAUS_FIBRE_KM_PER_MS 200.0

/* Great-circle distance in km (haversine, mean Earth radius 6371 km). */
double great_circle_km(double lat1, double lon1, double lat2, double lon2);

/* Lower bound of the distance from (lat, lon) to the country; negative when
 * the table has no reference circles for it. */
double country_min_distance_km(const char *iso, double lat, double lon);

enum plaus_verdict {
	PLAUS_NOT_CHECKED,   /* no lab location, no RTT, or a country outside the table */
	PLAUS_CONSISTENT,    /* the RTT allows the claimed country */
	PLAUS_CONTRADICTED,  /* the RTT is shorter than light needs to reach the country and back */
};
const char *plaus_verdict_name(enum plaus_verdict v); /* "not-checked", "consistent", "contradicted" */

struct plaus_check {
	enum plaus_verdict verdict;
	char country[3];     /* the claimed country */
	double rtt_ms;       /* measured SYN → SYN/ACK; negative when not measured */
	double distance_km;  /* lab → nearest point of the country; negative when unknown */
	double bound_ms;     /* the shortest possible RTT: 2 · distance / (200 km/ms) */
	const char *why;     /* for not-checked: which input is missing */
};

/* lab_radius_km widens the lab point (its uncertainty) in the country's favour. */
void plausibility_check(bool have_lab, double lab_lat, double lab_lon, double lab_radius_km,
			double rtt_ms, const char *country, struct plaus_check *out);

/*
 * CIDR → country overrides, one per line: "203.0.113.0/24 CN" (IPv4 or IPv6,
 * prefix optional = a single address; '#' starts a comment). The longest
 * prefix wins. NULL after reporting every bad line to diag.
 */
struct country_overrides;
struct country_overrides *country_overrides_load(const char *path, struct pa_diag *diag);
struct country_overrides *country_overrides_load_buffer(const char *path, const char *buf,
							size_t len, struct pa_diag *diag);
/* The country for addr ("" when no range covers it). */
const char *country_overrides_lookup(const struct country_overrides *o, const struct pa_addr *addr);
size_t country_overrides_count(const struct country_overrides *o);
void country_overrides_free(struct country_overrides *o);

/* The jurisdiction word for a country (geo.h's words): CN, HK, MO, TW,
 * foreign:XX, unknown for "". */
void plaus_jurisdiction(const char *iso, char *out, size_t len);

#endif
