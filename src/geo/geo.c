/*
 * geo.c — country, ASN and jurisdiction of an address from MaxMind-format
 * databases (libmaxminddb), with a bounded per-address cache.
 *
 * Memory: answers are interned — each distinct result (country, answers,
 * ASN, ...) is stored once in a pool that lives until geo_close(), so every
 * pointer handed out stays valid however many addresses come and go, and
 * the pool's size is bounded by what the databases can say, not by the
 * traffic. The address cache in front of it is a fixed-size set-associative
 * table that simply overwrites old entries.
 */
#include "geo/geo.h"
#include "util/datadir.h"

#include <ctype.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>


#define CACHE_WAYS 4
#define CACHE_SETS 16384 /* x 4 ways = 65536 addresses */
#define POOL_CHUNK 256
#define PROBE_MAX_NODES 20000 /* search-tree nodes visited when probing */
#define PROBE_MAX_RECORDS 64  /* data records examined when probing */

struct cache_entry {
	struct pa_addr addr; /* family 0 = empty slot */
	const struct geo_result *result;
};

struct cache_set {
	struct cache_entry way[CACHE_WAYS];
	uint8_t next_victim;
};

struct pool_chunk {
	struct pool_chunk *next;
	size_t used;
	struct geo_result rec[POOL_CHUNK];
};

struct geo_database {
	MMDB_s mmdb;
	struct geo_db_info info;
	bool is_country; /* answers a country (schema country or country_code) */
	bool has_asn;    /* records carry autonomous_system_number */
};

struct geo {
	struct geo_database db[GEO_MAX_DBS];
	size_t db_count;
	size_t country_db_count;

	struct cache_set *cache; /* CACHE_SETS sets */

	/* interned results: chunks + open-addressing index (power of two) */
	struct pool_chunk *chunks;
	const struct geo_result **intern;
	size_t intern_size;
	size_t intern_used;

	const struct geo_result *private_result; /* the one record for "private" */
	struct geo_stats stats;
};

const char *geo_schema_name(enum geo_schema s)
{
	switch (s) {
	case GEO_SCHEMA_COUNTRY:
		return "country";
	case GEO_SCHEMA_COUNTRY_CODE:
		return "country_code";
	case GEO_SCHEMA_ASN:
		return "asn";
	}
	return "?";
}

void geo_jurisdiction(const char *iso, char *out, size_t len)
{
	if (!iso || !iso[0]) {
		snprintf(out, len, "unknown");
		return;
	}
	/* Mainland China is "CN"; Hong Kong, Macao and Taiwan have their own
	 * data-export regimes and count as outside the mainland. */
	if (strcmp(iso, "CN") == 0 || strcmp(iso, "HK") == 0 || strcmp(iso, "MO") == 0 ||
	    strcmp(iso, "TW") == 0)
		snprintf(out, len, "%s", iso);
	else
		snprintf(out, len, "foreign:%s", iso);
}

/* ---- reading values out of records ---- */

/* A two-letter code at path, upper-cased; false when absent or malformed. */
static bool entry_iso_code(MMDB_entry_s *entry, char out[3], const char *const *path)
{
	MMDB_entry_data_s data;
	if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
	    data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size != 2)
		return false;
	char a = data.utf8_string[0], b = data.utf8_string[1];
	if (!isalpha((unsigned char)a) || !isalpha((unsigned char)b))
		return false;
	out[0] = (char)toupper((unsigned char)a);
	out[1] = (char)toupper((unsigned char)b);
	out[2] = '\0';
	return true;
}

static bool entry_country(enum geo_schema schema, MMDB_entry_s *entry, char out[3])
{
	static const char *const iso[] = {"country", "iso_code", NULL};
	static const char *const registered[] = {"registered_country", "iso_code", NULL};
	static const char *const code[] = {"country_code", NULL};

	if (schema == GEO_SCHEMA_COUNTRY)
		return entry_iso_code(entry, out, iso) || entry_iso_code(entry, out, registered);
	if (schema == GEO_SCHEMA_COUNTRY_CODE)
		return entry_iso_code(entry, out, code);
	return false;
}

static uint32_t entry_asn(MMDB_entry_s *entry, char *org, size_t org_len)
{
	static const char *const number_path[] = {"autonomous_system_number", NULL};
	static const char *const org_path[] = {"autonomous_system_organization", NULL};
	MMDB_entry_data_s data;
	uint64_t number = 0;

	if (MMDB_aget_value(entry, &data, number_path) != MMDB_SUCCESS || !data.has_data)
		return 0;
	switch (data.type) {
	case MMDB_DATA_TYPE_UINT16:
		number = data.uint16;
		break;
	case MMDB_DATA_TYPE_UINT32:
		number = data.uint32;
		break;
	case MMDB_DATA_TYPE_UINT64:
		number = data.uint64;
		break;
	case MMDB_DATA_TYPE_INT32:
		number = data.int32 > 0 ? (uint64_t)data.int32 : 0;
		break;
	default:
		return 0;
	}
	if (number == 0 || number > UINT32_MAX)
		return 0;
	if (org && MMDB_aget_value(entry, &data, org_path) == MMDB_SUCCESS && data.has_data &&
	    data.type == MMDB_DATA_TYPE_UTF8_STRING) {
		size_t n = data.data_size < org_len - 1 ? data.data_size : org_len - 1;
		memcpy(org, data.utf8_string, n);
		org[n] = '\0';
		/* Organisation names end up in JSON and HTML: no control bytes. */
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)org[i] < 0x20 || org[i] == 0x7f)
				org[i] = ' ';
	}
	return (uint32_t)number;
}

/* ---- opening: schema from metadata, else from a sample of records ---- */

/* Does the metadata's database_type contain this word (case-insensitive,
 * delimited by non-alphanumerics)? "GeoLite2-ASN" has "asn". */
static bool type_has_word(const char *type, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = type; (p = strcasestr(p, word)) != NULL; p++) {
		bool starts = p == type || !isalnum((unsigned char)p[-1]);
		bool ends = !isalnum((unsigned char)p[wl]);
		if (starts && ends)
			return true;
	}
	return false;
}

enum schema_hint { HINT_UNCLEAR, HINT_COUNTRY, HINT_ASN };

/* The databases whose names say what they hold: MaxMind's and DB-IP's. */
static enum schema_hint schema_from_type(const char *type)
{
	bool known_family = strncasecmp(type, "GeoIP2-", 7) == 0 ||
			    strncasecmp(type, "GeoLite2-", 9) == 0 ||
			    strncasecmp(type, "DBIP-", 5) == 0;
	if (!known_family)
		return type_has_word(type, "asn") ? HINT_ASN : HINT_UNCLEAR;
	if (strcasestr(type, "Country") || strcasestr(type, "City") ||
	    strcasestr(type, "Enterprise") || strcasestr(type, "Location"))
		return HINT_COUNTRY;
	if (type_has_word(type, "ASN") || type_has_word(type, "ISP"))
		return HINT_ASN;
	return HINT_UNCLEAR;
}

struct probe_counts {
	size_t records, iso_code, country_code, asn;
};

static void probe_record(MMDB_entry_s *entry, struct probe_counts *c)
{
	char iso[3];

	c->records++;
	if (entry_country(GEO_SCHEMA_COUNTRY, entry, iso))
		c->iso_code++;
	if (entry_country(GEO_SCHEMA_COUNTRY_CODE, entry, iso))
		c->country_code++;
	if (entry_asn(entry, NULL, 0))
		c->asn++;
}

/* Walks the search tree depth-first (bounded) and looks at the first data
 * records it meets. */
static void probe_records(struct geo_database *d, struct probe_counts *c)
{
	uint32_t stack[256];
	size_t depth = 0, visited = 0;

	memset(c, 0, sizeof *c);
	if (d->mmdb.metadata.node_count == 0)
		return;
	stack[depth++] = 0;
	while (depth && visited < PROBE_MAX_NODES && c->records < PROBE_MAX_RECORDS) {
		uint32_t number = stack[--depth];
		MMDB_search_node_s node;
		visited++;
		if (MMDB_read_node(&d->mmdb, number, &node) != MMDB_SUCCESS)
			continue;
		/* Right first on the stack so the left (lower addresses) is read first. */
		uint64_t records[2] = {node.right_record, node.left_record};
		uint8_t types[2] = {node.right_record_type, node.left_record_type};
		MMDB_entry_s entries[2] = {node.right_record_entry, node.left_record_entry};
		for (int i = 0; i < 2; i++) {
			if (types[i] == MMDB_RECORD_TYPE_DATA)
				probe_record(&entries[i], c);
			else if (types[i] == MMDB_RECORD_TYPE_SEARCH_NODE &&
				 depth < sizeof stack / sizeof stack[0] && records[i] <= UINT32_MAX)
				stack[depth++] = (uint32_t)records[i];
		}
	}
}

static bool detect_schema(struct geo_database *d, const char *path, struct pa_error *err)
{
	enum schema_hint hint = schema_from_type(d->info.database_type);
	struct probe_counts c;

	probe_records(d, &c);
	d->has_asn = c.asn > 0 || hint == HINT_ASN;
	if (hint == HINT_COUNTRY) {
		d->info.schema = GEO_SCHEMA_COUNTRY;
	} else if (hint == HINT_ASN) {
		d->info.schema = GEO_SCHEMA_ASN;
	} else if (c.iso_code > 0 && c.iso_code >= c.country_code) {
		d->info.schema = GEO_SCHEMA_COUNTRY;
	} else if (c.country_code > 0) {
		d->info.schema = GEO_SCHEMA_COUNTRY_CODE;
	} else if (c.asn > 0) {
		d->info.schema = GEO_SCHEMA_ASN;
	} else {
		pa_error_set(err, "%s: no country or ASN data (database_type %s)", path,
			     d->info.database_type[0] ? d->info.database_type : "(none)");
		return false;
	}
	d->is_country = d->info.schema != GEO_SCHEMA_ASN;
	return true;
}

static bool open_database(struct geo_database *d, const char *path, struct pa_error *err)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		pa_error_set(err, "%s: cannot open: %s", path, strerror(errno));
		return false;
	}
	if (S_ISDIR(st.st_mode)) {
		pa_error_set(err, "%s: is a directory, not a MaxMind DB file", path);
		return false;
	}
	if (st.st_size == 0) { /* libmaxminddb reports this as an I/O error */
		pa_error_set(err, "%s: not a MaxMind DB file (empty file)", path);
		return false;
	}
	int status = MMDB_open(path, MMDB_MODE_MMAP, &d->mmdb);
	if (status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) {
		pa_error_set(err, "%s: cannot open: %s (%s)", path, MMDB_strerror(status),
			     strerror(errno));
		return false;
	}
	if (status == MMDB_OUT_OF_MEMORY_ERROR) {
		pa_error_set(err, "%s: out of memory opening the database", path);
		return false;
	}
	if (status != MMDB_SUCCESS) {
		pa_error_set(err, "%s: not a MaxMind DB file (%s)", path, MMDB_strerror(status));
		return false;
	}

	const MMDB_metadata_s *m = &d->mmdb.metadata;
	snprintf(d->info.path, sizeof d->info.path, "%s", path);
	snprintf(d->info.database_type, sizeof d->info.database_type, "%s",
		 m->database_type ? m->database_type : "");
	d->info.build_epoch = m->build_epoch;
	d->info.ip_version = m->ip_version;
	d->info.node_count = m->node_count;
	if (!detect_schema(d, path, err)) {
		MMDB_close(&d->mmdb);
		return false;
	}
	return true;
}

/* ---- interning pool ---- */

static uint64_t hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void intern_grow(struct geo *g)
{
	size_t size = g->intern_size ? g->intern_size * 2 : 256;
	const struct geo_result **table = pa_xcalloc(size, sizeof *table);
	for (size_t i = 0; i < g->intern_size; i++) {
		const struct geo_result *r = g->intern[i];
		if (!r)
			continue;
		size_t j = hash_bytes(r, sizeof *r) & (size - 1);
		while (table[j])
			j = (j + 1) & (size - 1);
		table[j] = r;
	}
	free(g->intern);
	g->intern = table;
	g->intern_size = size;
}

/* The pooled copy of r (which must be zero-initialised, padding included,
 * so that equal answers compare equal byte for byte). */
static const struct geo_result *intern(struct geo *g, const struct geo_result *r)
{
	if ((g->intern_used + 1) * 2 > g->intern_size)
		intern_grow(g);
	size_t mask = g->intern_size - 1;
	size_t j = hash_bytes(r, sizeof *r) & mask;
	for (; g->intern[j]; j = (j + 1) & mask)
		if (memcmp(g->intern[j], r, sizeof *r) == 0)
			return g->intern[j];

	if (!g->chunks || g->chunks->used == POOL_CHUNK) {
		struct pool_chunk *c = pa_xmalloc(sizeof *c);
		c->next = g->chunks;
		c->used = 0;
		g->chunks = c;
	}
	struct geo_result *stored = &g->chunks->rec[g->chunks->used++];
	memcpy(stored, r, sizeof *r);
	g->intern[j] = stored;
	g->intern_used++;
	g->stats.distinct_results++;
	return stored;
}

/* ---- public ---- */

struct geo *geo_open(const char *const *paths, size_t n, struct pa_error *err)
{
	if (n > GEO_MAX_DBS) {
		pa_error_set(err, "at most %d GeoIP databases (%zu given)", GEO_MAX_DBS, n);
		return NULL;
	}
	struct geo *g = pa_xcalloc(1, sizeof *g);
	for (size_t i = 0; i < n; i++) {
		if (!open_database(&g->db[i], paths[i], err)) {
			geo_close(g);
			return NULL;
		}
		g->db_count++;
		if (g->db[i].is_country)
			g->country_db_count++;
	}
	g->cache = pa_xcalloc(CACHE_SETS, sizeof *g->cache);

	struct geo_result priv;
	memset(&priv, 0, sizeof priv);
	snprintf(priv.jurisdiction, sizeof priv.jurisdiction, "private");
	g->private_result = intern(g, &priv);
	return g;
}

void geo_close(struct geo *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->db_count; i++)
		MMDB_close(&g->db[i].mmdb);
	while (g->chunks) {
		struct pool_chunk *next = g->chunks->next;
		free(g->chunks);
		g->chunks = next;
	}
	free(g->intern);
	free(g->cache);
	free(g);
}

size_t geo_db_count(const struct geo *g)
{
	return g ? g->db_count : 0;
}

const struct geo_db_info *geo_db(const struct geo *g, size_t i)
{
	return g && i < g->db_count ? &g->db[i].info : NULL;
}

void geo_get_stats(const struct geo *g, struct geo_stats *out)
{
	*out = g->stats;
}

/*
 * The address the databases should be asked about: IPv4-mapped IPv6
 * (::ffff:a.b.c.d) and NAT64 well-known-prefix addresses (64:ff9b::a.b.c.d,
 * RFC 6052) reach an IPv4 host, and not every database aliases them.
 */
static struct pa_addr normalise(const struct pa_addr *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	struct pa_addr out;
	memset(&out, 0, sizeof out);
	out.family = a->family;
	if (a->family == 4) {
		memcpy(out.bytes, a->bytes, 4);
	} else if (a->family == 6) {
		if (memcmp(a->bytes, mapped, 12) == 0 || memcmp(a->bytes, nat64, 12) == 0) {
			out.family = 4;
			memcpy(out.bytes, a->bytes + 12, 4);
		} else {
			memcpy(out.bytes, a->bytes, 16);
		}
	}
	return out;
}

static void ask_databases(struct geo *g, const struct pa_addr *a, struct geo_result *r)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const struct sockaddr *sa;

	if (a->family == 4) {
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, a->bytes, 4);
		sa = (const struct sockaddr *)&sin;
	} else {
		memset(&sin6, 0, sizeof sin6);
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, a->bytes, 16);
		sa = (const struct sockaddr *)&sin6;
	}

	for (size_t i = 0; i < g->db_count; i++) {
		struct geo_database *d = &g->db[i];
		char *answer = d->is_country ? r->answers[r->answer_count++] : NULL;
		int mmdb_error = MMDB_SUCCESS;
		MMDB_lookup_result_s found = MMDB_lookup_sockaddr(&d->mmdb, sa, &mmdb_error);

		/* An IPv6 address in an IPv4-only database is simply not covered. */
		if (mmdb_error == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR || !found.found_entry) {
			continue;
		} else if (mmdb_error != MMDB_SUCCESS) {
			d->info.lookup_errors++;
			continue;
		}
		if (answer)
			entry_country(d->info.schema, &found.entry, answer);
		if (d->has_asn && r->asn == 0)
			r->asn = entry_asn(&found.entry, r->as_org, sizeof r->as_org);
	}

	for (size_t i = 0; i < r->answer_count; i++) {
		const char *answer = r->answers[i];
		if (!answer[0])
			continue;
		if (!r->country[0])
			memcpy(r->country, answer, 3);
		else if (strcmp(r->country, answer) != 0)
			r->conflict = true;
	}
	geo_jurisdiction(r->country, r->jurisdiction, sizeof r->jurisdiction);
}

static uint64_t addr_hash(const struct pa_addr *a)
{
	return hash_bytes(a->bytes, a->family == 4 ? 4 : 16) ^ a->family;
}

const struct geo_result *geo_lookup(struct geo *g, const struct pa_addr *addr)
{
	static const struct pa_addr unset;
	struct pa_addr a = normalise(addr ? addr : &unset);
	g->stats.lookups++;
	if (pa_addr_is_private(&a)) {
		g->stats.private_hits++;
		return g->private_result;
	}

	struct cache_set *set = &g->cache[addr_hash(&a) & (CACHE_SETS - 1)];
	for (int w = 0; w < CACHE_WAYS; w++) {
		if (set->way[w].addr.family && pa_addr_equal(&set->way[w].addr, &a)) {
			g->stats.cache_hits++;
			return set->way[w].result;
		}
	}

	struct geo_result r;
	memset(&r, 0, sizeof r);
	if (a.family != 4 && a.family != 6) {
		/* An unset address: nothing to ask, and nothing worth caching. */
		geo_jurisdiction("", r.jurisdiction, sizeof r.jurisdiction);
		return intern(g, &r);
	}
	ask_databases(g, &a, &r);
	const struct geo_result *stored = intern(g, &r);

	struct cache_entry *victim = &set->way[set->next_victim];
	set->next_victim = (uint8_t)((set->next_victim + 1) % CACHE_WAYS);
	victim->addr = a;
	victim->result = stored;
	return stored;
}

const char *geo_default_database(char *buf, size_t len)
{
	struct stat st;
	snprintf(buf, len, "%s/%s", pa_default_geoip_dir(), GEO_DEFAULT_DATABASE_FILE);
	if (stat(buf, &st) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	return buf;
}
