/*
 * validators.c — checks run on a candidate after Hyperscan reports it: a
 * pattern only says "looks like", the validator says "is plausibly". They
 * keep the false-positive rate of ambiguous shapes (15 digits, UUIDs, MACs)
 * down without key context.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detect/detect_internal.h"

static const char *const validator_names[DETECT_V_COUNT] = {
	[DETECT_V_NONE] = "none",
	[DETECT_V_IMEI] = "imei",
	[DETECT_V_LUHN] = "luhn",
	[DETECT_V_MEID] = "meid",
	[DETECT_V_IMSI] = "imsi",
	[DETECT_V_ICCID] = "iccid",
	[DETECT_V_UUID] = "uuid",
	[DETECT_V_HEX_ID] = "hex_id",
	[DETECT_V_MAC] = "mac",
	[DETECT_V_PHONE_CN] = "phone_cn",
	[DETECT_V_EMAIL] = "email",
	[DETECT_V_COORDINATES] = "coordinates",
	[DETECT_V_LATITUDE] = "latitude",
	[DETECT_V_LONGITUDE] = "longitude",
	[DETECT_V_SERIAL] = "serial",
};

static const char *const boundary_names[] = {
	[DETECT_BOUNDARY_NONE] = "none",
	[DETECT_BOUNDARY_DIGIT] = "digit",
	[DETECT_BOUNDARY_HEX] = "hex",
	[DETECT_BOUNDARY_ALNUM] = "alnum",
	[DETECT_BOUNDARY_WORD] = "word",
	[DETECT_BOUNDARY_TOKEN] = "token",
};

const char *detect_validator_name(enum detect_validator v)
{
	return v < DETECT_V_COUNT ? validator_names[v] : "?";
}

bool detect_validator_parse(const char *name, enum detect_validator *out)
{
	for (int i = 0; i < DETECT_V_COUNT; i++) {
		if (strcmp(name, validator_names[i]) == 0) {
			*out = (enum detect_validator)i;
			return true;
		}
	}
	return false;
}

const char *detect_boundary_name(enum detect_boundary b)
{
	return b < sizeof boundary_names / sizeof boundary_names[0] ? boundary_names[b] : "custom";
}

bool detect_boundary_parse(const char *name, enum detect_boundary *out)
{
	for (size_t i = 0; i < sizeof boundary_names / sizeof boundary_names[0]; i++) {
		if (strcmp(name, boundary_names[i]) == 0) {
			*out = (enum detect_boundary)i;
			return true;
		}
	}
	return false;
}

bool detect_luhn_ok(const char *digits, size_t len)
{
	unsigned sum = 0;
	bool twice = false;
	if (len == 0)
		return false;
	for (size_t i = len; i-- > 0;) {
		if (!isdigit((unsigned char)digits[i]))
			return false;
		unsigned d = (unsigned)(digits[i] - '0');
		if (twice) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
		twice = !twice;
	}
	return sum % 10 == 0;
}

static bool all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return len > 0;
}

/* One symbol repeated (000000000000000, ffffffffffffffff): test data, not an id. */
static bool one_symbol(const char *s, size_t len)
{
	size_t seen = 0;
	char first = 0;
	for (size_t i = 0; i < len; i++) {
		char c = (char)tolower((unsigned char)s[i]);
		if (!isxdigit((unsigned char)c))
			continue;
		if (!seen++)
			first = c;
		else if (c != first)
			return false;
	}
	return true;
}

/*
 * The first two digits of a TAC are the reporting body identifier; only a
 * handful are allocated (GSMA TS.06). Checking them removes most Luhn-valid
 * random 15-digit numbers.
 */
static bool imei_rbi_ok(const char *s)
{
	static const char *const rbi[] = { "01", "10", "30", "33", "35", "44", "45", "49",
					   "50", "51", "52", "53", "54", "86", "91", "98",
					   "99" };
	for (size_t i = 0; i < sizeof rbi / sizeof rbi[0]; i++)
		if (s[0] == rbi[i][0] && s[1] == rbi[i][1])
			return true;
	return false;
}

static bool imei_ok(const char *s, size_t len)
{
	if (!all_digits(s, len) || one_symbol(s, len))
		return false;
	if (len == 15)
		return imei_rbi_ok(s) && detect_luhn_ok(s, len);
	/* 14 digits (no check digit) or 16 (IMEISV): nothing to check but the prefix. */
	return (len == 14 || len == 16) && imei_rbi_ok(s);
}

static bool meid_ok(const char *s, size_t len)
{
	if (len == 18)
		return all_digits(s, len) && !one_symbol(s, len);
	if (len != 14 && len != 15)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	/* Hex MEIDs start with an A0..FF regional code; below that is an IMEI. */
	return toupper((unsigned char)s[0]) >= 'A' && !one_symbol(s, len);
}

/* MNCs of the mainland operators (China Mobile, Unicom, Telecom, Tietong, Broadnet). */
static bool imsi_ok(const char *s, size_t len)
{
	static const char *const mnc[] = { "00", "01", "02", "03", "04", "05", "06", "07",
					   "08", "09", "11", "15", "20" };
	if (len != 15 || !all_digits(s, len) || memcmp(s, "460", 3) != 0)
		return false;
	for (size_t i = 0; i < sizeof mnc / sizeof mnc[0]; i++)
		if (s[3] == mnc[i][0] && s[4] == mnc[i][1])
			return !one_symbol(s + 5, len - 5);
	return false;
}

static bool iccid_ok(const char *s, size_t len)
{
	if ((len != 19 && len != 20) || memcmp(s, "8986", 4) != 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return !one_symbol(s + 6, len - 6);
}

static bool uuid_ok(const char *s, size_t len)
{
	static const int dash_at[] = { 8, 13, 18, 23 };
	if (len != 36)
		return false;
	for (size_t i = 0, d = 0; i < len; i++) {
		if (d < 4 && (int)i == dash_at[d]) {
			if (s[i] != '-')
				return false;
			d++;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	/* All zero = the "limit ad tracking" value; one repeated digit = a placeholder. */
	return !one_symbol(s, len);
}

static bool hex_id_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	return len > 0 && !one_symbol(s, len);
}

static bool mac_ok(const char *s, size_t len)
{
	uint8_t b[6];
	size_t n = 0;
	for (size_t i = 0; i < len && n < 6;) {
		if (s[i] == '%' && i + 2 < len) {
			i += 3; /* %3A: an encoded separator, not hex digits */
			continue;
		}
		if (!isxdigit((unsigned char)s[i])) {
			i++;
			continue;
		}
		if (i + 1 >= len || !isxdigit((unsigned char)s[i + 1]))
			return false;
		char pair[3] = { s[i], s[i + 1], 0 };
		b[n++] = (uint8_t)strtoul(pair, NULL, 16);
		i += 2;
	}
	if (n != 6)
		return false;
	static const uint8_t placeholder[6] = { 0x02, 0, 0, 0, 0, 0 };
	if (memcmp(b, placeholder, 6) == 0)
		return false; /* what Android returns to apps without permission */
	if (b[0] & 1)
		return false; /* multicast and broadcast are not a device */
	bool zero = true;
	for (int i = 0; i < 6; i++)
		zero = zero && b[i] == 0;
	return !zero;
}

static bool phone_cn_ok(const char *s, size_t len)
{
	char digits[24];
	size_t n = 0, i = 0;
	if (len > 3 && s[0] == '%' && s[1] == '2' && (s[2] == 'B' || s[2] == 'b'))
		i = 3; /* URL-encoded '+' */
	for (; i < len; i++) {
		if (isdigit((unsigned char)s[i])) {
			if (n >= sizeof digits - 1)
				return false;
			digits[n++] = s[i];
		}
	}
	const char *d = digits;
	if (n == 15 && memcmp(d, "0086", 4) == 0)
		d += 4, n -= 4;
	else if (n == 13 && memcmp(d, "86", 2) == 0)
		d += 2, n -= 2;
	if (n != 11 || d[0] != '1' || d[1] < '3')
		return false;
	return !one_symbol(d + 3, 8);
}

static bool email_ok(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	if (!at || at == s)
		return false;
	const char *dot = NULL;
	for (const char *p = at + 1; p < s + len; p++)
		if (*p == '.')
			dot = p;
	/* A dot in the domain with a TLD after it; "x@2x.png" (image names) is not mail. */
	if (!dot || dot == at + 1 || s + len - dot < 3)
		return false;
	/* SSH algorithm names are name@domain too (RFC 4251 §6): not mailboxes. */
	static const char *const not_mail[] = { "@openssh.com", "@libssh.org", "@lysator.liu.se",
						"@ssh.com" };
	for (size_t i = 0; i < sizeof not_mail / sizeof not_mail[0]; i++) {
		size_t l = strlen(not_mail[i]);
		if ((size_t)(s + len - at) == l && strncasecmp(at, not_mail[i], l) == 0)
			return false;
	}
	static const char *const not_tld[] = { ".png", ".jpg", ".gif", ".webp", ".svg", ".js", ".css" };
	for (size_t i = 0; i < sizeof not_tld / sizeof not_tld[0]; i++) {
		size_t l = strlen(not_tld[i]);
		if ((size_t)(s + len - dot) == l && strncasecmp(dot, not_tld[i], l) == 0)
			return false;
	}
	return true;
}

/* Splits "a<sep>b" into two numbers; sep is anything that is not part of a number. */
static bool split_pair(const char *s, size_t len, double *a, double *b)
{
	size_t i = 0;
	int dec;
	bool micro;
	while (i < len && (s[i] == '-' || s[i] == '.' || isdigit((unsigned char)s[i])))
		i++;
	if (!coords_parse_number(s, i, a, &dec, &micro))
		return false;
	size_t j = i;
	while (j < len && !(s[j] == '-' || isdigit((unsigned char)s[j])))
		j++;
	/* URL-encoded separators (%2C) leave hex digits behind: skip "2C"/"7C"/"3B". */
	if (j > i && s[j - 1] == '%' && j + 2 <= len)
		j += 2;
	return j < len && coords_parse_number(s + j, len - j, b, &dec, &micro);
}

static bool coordinates_ok(const char *s, size_t len)
{
	double a, b;
	if (!split_pair(s, len, &a, &b))
		return false;
	bool lat_lon = a >= -90 && a <= 90 && b >= -180 && b <= 180;
	bool lon_lat = b >= -90 && b <= 90 && a >= -180 && a <= 180;
	/* (0,0) is "no fix", not a place. */
	return (lat_lon || lon_lat) && !(a == 0 && b == 0);
}

static bool single_ok(const char *s, size_t len, double limit)
{
	double v;
	int dec;
	bool micro;
	return coords_parse_number(s, len, &v, &dec, &micro) && v >= -limit && v <= limit && v != 0;
}

/* A hardware serial: 6-20 letters and digits with at least one digit. */
static bool serial_ok(const char *s, size_t len)
{
	bool digit = false;
	if (len < 6 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]))
			return false;
		digit = digit || isdigit((unsigned char)s[i]);
	}
	return digit && !one_symbol(s, len);
}

bool detect_validate(enum detect_validator v, const char *value, size_t len)
{
	switch (v) {
	case DETECT_V_NONE:
		return true;
	case DETECT_V_IMEI:
		return imei_ok(value, len);
	case DETECT_V_LUHN:
		return detect_luhn_ok(value, len);
	case DETECT_V_MEID:
		return meid_ok(value, len);
	case DETECT_V_IMSI:
		return imsi_ok(value, len);
	case DETECT_V_ICCID:
		return iccid_ok(value, len);
	case DETECT_V_UUID:
		return uuid_ok(value, len);
	case DETECT_V_HEX_ID:
		return hex_id_ok(value, len);
	case DETECT_V_MAC:
		return mac_ok(value, len);
	case DETECT_V_PHONE_CN:
		return phone_cn_ok(value, len);
	case DETECT_V_EMAIL:
		return email_ok(value, len);
	case DETECT_V_COORDINATES:
		return coordinates_ok(value, len);
	case DETECT_V_LATITUDE:
		return single_ok(value, len, 90);
	case DETECT_V_LONGITUDE:
		return single_ok(value, len, 180);
	case DETECT_V_SERIAL:
		return serial_ok(value, len);
	case DETECT_V_COUNT:
		break;
	}
	return false;
}

void detect_mask_value(const char *value, char *out, size_t len)
{
	if (!len)
		return;
	size_t n = strlen(value);
	size_t keep = n >= 12 ? 4 : n >= 8 ? 2 : n >= 5 ? 1 : 0;
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < len; i++)
		out[o++] = (i < keep || i >= n - keep) ? value[i] : '*';
	out[o] = 0;
}
