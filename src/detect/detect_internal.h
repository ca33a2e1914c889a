/*
 * detect_internal.h — what the files of src/detect/ share: the parsed
 * signature set, the parsed device profile, the derived literals and the
 * compiled engine. Not for other stages (they use detect.h).
 */
#ifndef PA_DETECT_INTERNAL_H
#define PA_DETECT_INTERNAL_H

#include <hs/hs.h>

#include "detect/detect.h"
#include "util/yaml_doc.h"

/* Longest value the engine extracts and reports (pa_observation.value). */
#define DETECT_VALUE_MAX 255
/* Bytes of a stream kept to cut a pattern match's value out of (key + value). */
#define DETECT_HISTORY 512
/* Shortest derived literal compiled: shorter ones match by chance. */
#define DETECT_LITERAL_MIN 6

enum detect_boundary {
	DETECT_BOUNDARY_NONE,
	DETECT_BOUNDARY_DIGIT, /* value not preceded/followed by [0-9] */
	DETECT_BOUNDARY_HEX,   /* ... by [0-9A-Fa-f] */
	DETECT_BOUNDARY_ALNUM, /* ... by [0-9A-Za-z] */
	DETECT_BOUNDARY_WORD,  /* ... by [0-9A-Za-z_] */
	DETECT_BOUNDARY_TOKEN, /* followed by a delimiter: space " ' & , ; = : < > % | \ or the end */
	DETECT_BOUNDARY_CUSTOM,/* ... by the signature's own class: boundary: "[A-Za-z0-9._-]" */
};

enum detect_validator {
	DETECT_V_NONE,
	DETECT_V_IMEI,        /* Luhn + reporting-body prefix, 15 digits; 14/16 digits unchecked */
	DETECT_V_LUHN,
	DETECT_V_MEID,        /* 14 hex digits, first byte A0..FF, or 18 decimal digits */
	DETECT_V_IMSI,        /* 15 digits, MCC 460 and a mainland MNC */
	DETECT_V_ICCID,       /* 19/20 characters starting 8986 */
	DETECT_V_UUID,        /* 8-4-4-4-12 hex, not all zero */
	DETECT_V_HEX_ID,      /* hex digits, not all zero, not one repeated digit */
	DETECT_V_MAC,         /* not 02:00:00:00:00:00, all-zero, broadcast or multicast */
	DETECT_V_PHONE_CN,    /* mainland mobile number, with or without +86 */
	DETECT_V_EMAIL,
	DETECT_V_COORDINATES, /* "lat,lon" or "lon,lat" within range */
	DETECT_V_LATITUDE,    /* one number after a latitude key */
	DETECT_V_LONGITUDE,   /* one number after a longitude key */
	DETECT_V_SERIAL,      /* 6-20 letters/digits with a digit */
	DETECT_V_COUNT
};

struct detect_sig {
	char *type;              /* observation type */
	char *pattern;           /* Hyperscan regex of the value alone */
	char **context;          /* key names; non-empty = the value must follow one */
	size_t context_count;
	enum detect_boundary boundary;
	char *boundary_class;    /* DETECT_BOUNDARY_CUSTOM: the class's inside */
	enum detect_validator validator;
	bool caseless;
	char *file;              /* where it was defined, for messages */
	unsigned line;
};

struct detect_sigset {
	struct detect_sig *items;
	size_t count, cap;
};

struct detect_ident {
	char type[32];           /* identifiers: key (imei, wifi_mac, ...) */
	char value[128];
	unsigned line;
};

struct detect_device {
	char name[64];
	/* device: where the phone is on the monitored link; the pipeline
	 * uses these to tell which side of a flow is the device. */
	struct pa_addr ip[DETECT_DEVICE_MAX_IPS];
	size_t ip_count;
	uint8_t mac[6];
	bool has_mac;
	struct detect_ident *idents;
	size_t ident_count, ident_cap;
	bool has_location;
	double lat, lon, radius_m; /* WGS-84 */
};

/* One derived encoding of a device value, compiled as a literal. */
struct detect_literal {
	uint8_t *bytes;
	size_t len;
	size_t ident;            /* index into detect_device.idents */
	char encoding[40];
	const char *guard_before; /* regex class the byte before must not be in, or NULL
				     (the national phone number inside "+86...") */
	bool guard_digit_after;  /* must not precede a digit (IMEI without check digit) */
};

struct detect_engine {
	struct detect_sigset sigs;
	struct detect_device device;
	bool has_device;
	struct detect_literal *literals;
	size_t literal_count;
	hs_database_t *db;       /* stream mode: every pattern and literal, ends only */
	/* Per signature, block mode, start of match tracked (engine.c). */
	struct detect_sig_dbs {
		hs_database_t *start; /* the stream expression: where a match starts */
		hs_database_t *value; /* the value regex alone: the value in a match */
		unsigned max_width;   /* of the stream expression; UINT_MAX: unbounded */
	} *sig_dbs;
	size_t stream_size;
};

/* validators.c */
const char *detect_validator_name(enum detect_validator v);
bool detect_validator_parse(const char *name, enum detect_validator *out);
const char *detect_boundary_name(enum detect_boundary b);
bool detect_boundary_parse(const char *name, enum detect_boundary *out);
/* True when the candidate value passes. */
bool detect_validate(enum detect_validator v, const char *value, size_t len);
bool detect_luhn_ok(const char *digits, size_t len);

/* sigfile.c */
/* Appends the file's good signatures to set; counts good and bad entries. */
bool detect_sigfile_parse(struct yaml_doc *y, struct detect_sigset *set, size_t *good,
			  size_t *bad, struct pa_diag *diag);
void detect_sigset_free(struct detect_sigset *set);
/* The regex compiled into the stream database for signature s. */
char *detect_sig_expression(const struct detect_sig *s);
/* Hyperscan-compiles s alone (both forms); reports failures at its line. */
bool detect_sig_compile_check(const struct detect_sig *s, struct pa_diag *diag);

/* device.c */
/* Counts good and bad identifier/location entries, like the signature parser. */
bool detect_device_parse(struct yaml_doc *y, struct detect_device *dev, size_t *good,
			 size_t *bad, struct pa_diag *diag);
void detect_device_free(struct detect_device *dev);
/* Fills every derived encoding of the device's values; false on OOM. */
bool detect_device_literals(const struct detect_device *dev, struct detect_literal **out,
			    size_t *count);
void detect_literals_free(struct detect_literal *lits, size_t count);

/* encode.c: transforms behind the device variants. out must hold the result. */
size_t detect_base64(const uint8_t *in, size_t len, char *out, bool url_safe);
size_t detect_hex(const uint8_t *in, size_t len, char *out, bool upper);
size_t detect_url_encode(const char *in, size_t len, char *out, size_t cap, bool upper);
/* name: "md5", "sha1", "sha256"; hex digest into out (>= 129 bytes). */
bool detect_hash_hex(const char *name, const uint8_t *in, size_t len, char *out, bool upper);

/* coords.c */
void coords_wgs84_to_gcj02(double lat, double lon, double *out_lat, double *out_lon);
void coords_gcj02_to_bd09(double lat, double lon, double *out_lat, double *out_lon);
double coords_distance_m(double lat1, double lon1, double lat2, double lon2);
/*
 * A number (or pair) seen near a location key against the lab point.
 * which: 0 = a pair (a, b in either order), 1 = latitude alone (a),
 * 2 = longitude alone (a). dec_*: decimals as written (-1 = x1e6 integer,
 * already divided). Sets *encoding ("wgs84", "gcj02", "bd09", "-e6" suffix
 * for integers); true when within the radius.
 */
bool coords_match_lab(const struct detect_device *dev, int which, double a, int dec_a, double b,
		      int dec_b, bool micro, const char **encoding);
/* Parses a decimal or integer coordinate; sets decimals and whether x1e6. */
bool coords_parse_number(const char *s, size_t len, double *value, int *decimals, bool *micro);

#endif
