/*
 * geo.h — where a destination lives: country, ASN and the jurisdiction that
 * data-export law cares about, from one or several MaxMind-format databases.
 *
 * Schemas are recognised per database from its metadata and records:
 *   country.iso_code / registered_country.iso_code  (GeoLite2, GeoIP2, DB-IP)
 *   country_code                                     (ip-location-db)
 *   autonomous_system_number / _organization         (ASN databases)
 */
#ifndef PA_GEO_H
#define PA_GEO_H

#include "privaudit.h"

#define GEO_MAX_DBS 8

enum geo_schema {
	GEO_SCHEMA_COUNTRY,      /* country.iso_code (registered_country as fallback) */
	GEO_SCHEMA_COUNTRY_CODE, /* top-level country_code */
	GEO_SCHEMA_ASN,          /* autonomous_system_* only */
};

struct geo_db_info {
	char path[512];
	char database_type[64];  /* metadata database_type, e.g. "GeoLite2-Country" */
	uint64_t build_epoch;    /* metadata build_epoch */
	enum geo_schema schema;
	uint32_t ip_version;     /* 4 or 6 */
	uint64_t node_count;
	uint64_t lookup_errors;  /* lookups the library refused (damaged tree or data) */
};
const char *geo_schema_name(enum geo_schema s); /* "country", "country_code", "asn" */

/* The answer for one address. */
struct geo_result {
	char country[3];        /* ISO 3166 alpha-2 chosen, "" when none */
	char jurisdiction[16];  /* "CN", "HK", "MO", "TW", "foreign:XX", "private", "unknown" */
	uint32_t asn;           /* 0 = unknown */
	char as_org[128];
	bool conflict;          /* country databases disagreed */
	/* every country database's answer, in the order given ("" = no answer) */
	char answers[GEO_MAX_DBS][3];
	size_t answer_count;
};

/* One struct geo belongs to one thread (its cache is not locked). */
struct geo;

/* Opens every database (at most GEO_MAX_DBS). NULL with err set
 * ("FILE: not a MaxMind DB file", "FILE: no country or ASN data") on failure.
 * n == 0 gives a geo that answers only "private" / "unknown". */
struct geo *geo_open(const char *const *paths, size_t n, struct pa_error *err);
void geo_close(struct geo *g);
size_t geo_db_count(const struct geo *g);
const struct geo_db_info *geo_db(const struct geo *g, size_t i);

/*
 * Cached; the returned record stays valid until geo_close(). Never NULL.
 * Records are shared: equal answers (for different addresses too) are the
 * same record, so compare them by pointer only for "same answer".
 * IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses are
 * looked up as the IPv4 address they carry. "private" records have no answers.
 */
const struct geo_result *geo_lookup(struct geo *g, const struct pa_addr *addr);

/* Counters for the report and the tests. */
struct geo_stats {
	uint64_t lookups;         /* geo_lookup calls */
	uint64_t cache_hits;      /* answered from the address cache */
	uint64_t private_hits;    /* private/reserved: answered without a lookup */
	uint64_t distinct_results;/* records in the pool (bounded by the databases) */
};
void geo_get_stats(const struct geo *g, struct geo_stats *out);

/*
 * The database tools/fetch-geoip installs: pa_default_geoip_dir() (the
 * installed data folder's geoip/, or data/geoip/ of the source tree; see
 * util/datadir.h) + GEO_DEFAULT_DATABASE_FILE. Its path in buf when that
 * file exists, else NULL. For callers given no --geoip.
 */
#define GEO_DEFAULT_DATABASE_FILE "geo-whois-asn-country.mmdb"
const char *geo_default_database(char *buf, size_t len);

/*
 * The jurisdiction word for an ISO country code: CN → "CN"; HK/MO/TW as is
 * (outside the mainland for data-export law); other codes "foreign:XX"; empty → "unknown".
 */
void geo_jurisdiction(const char *iso, char *out, size_t len);

#endif
