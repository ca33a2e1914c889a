/*
 * coords.c — the lab point in the three datums Chinese apps use, and the
 * test "is this number (pair) the lab's location".
 *
 * WGS-84 is what GPS gives; GCJ-02 is the obfuscated datum mandated for maps
 * in mainland China (AMap, Tencent); BD-09 is Baidu's further offset of GCJ-02.
 * The conversions are the widely published forward formulas (the inverse is
 * not needed: we convert the lab point, never the observed number).
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_internal.h"

#define KRASOVSKY_A 6378245.0
#define KRASOVSKY_EE 0.00669342162296594323
#define EARTH_RADIUS_M 6371008.8
#define METERS_PER_DEGREE 111320.0

static double gcj_dlat(double x, double y)
{
	double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(fabs(x));
	r += (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) * 2.0 / 3.0;
	r += (20.0 * sin(y * M_PI) + 40.0 * sin(y / 3.0 * M_PI)) * 2.0 / 3.0;
	r += (160.0 * sin(y / 12.0 * M_PI) + 320.0 * sin(y * M_PI / 30.0)) * 2.0 / 3.0;
	return r;
}

static double gcj_dlon(double x, double y)
{
	double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(fabs(x));
	r += (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) * 2.0 / 3.0;
	r += (20.0 * sin(x * M_PI) + 40.0 * sin(x / 3.0 * M_PI)) * 2.0 / 3.0;
	r += (150.0 * sin(x / 12.0 * M_PI) + 300.0 * sin(x / 30.0 * M_PI)) * 2.0 / 3.0;
	return r;
}

void coords_wgs84_to_gcj02(double lat, double lon, double *out_lat, double *out_lon)
{
	double dlat = gcj_dlat(lon - 105.0, lat - 35.0);
	double dlon = gcj_dlon(lon - 105.0, lat - 35.0);
	double radlat = lat / 180.0 * M_PI;
	double magic = sin(radlat);
	magic = 1 - KRASOVSKY_EE * magic * magic;
	double sqrt_magic = sqrt(magic);
	dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (magic * sqrt_magic) * M_PI);
	dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrt_magic * cos(radlat) * M_PI);
	*out_lat = lat + dlat;
	*out_lon = lon + dlon;
}

void coords_gcj02_to_bd09(double lat, double lon, double *out_lat, double *out_lon)
{
	const double x_pi = M_PI * 3000.0 / 180.0;
	double z = sqrt(lon * lon + lat * lat) + 0.00002 * sin(lat * x_pi);
	double theta = atan2(lat, lon) + 0.000003 * cos(lon * x_pi);
	*out_lon = z * cos(theta) + 0.0065;
	*out_lat = z * sin(theta) + 0.006;
}

double coords_distance_m(double lat1, double lon1, double lat2, double lon2)
{
	double p1 = lat1 * M_PI / 180, p2 = lat2 * M_PI / 180;
	double dp = p2 - p1, dl = (lon2 - lon1) * M_PI / 180;
	double h = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
	return 2 * EARTH_RADIUS_M * asin(sqrt(fmin(1.0, h)));
}

bool coords_parse_number(const char *s, size_t len, double *value, int *decimals, bool *micro)
{
	char buf[24];
	size_t i = 0, n = 0;
	int dec = -1;
	if (i < len && s[i] == '-')
		buf[n++] = s[i++];
	size_t int_digits = 0;
	while (i < len && isdigit((unsigned char)s[i]) && n < sizeof buf - 1)
		buf[n++] = s[i++], int_digits++;
	if (i < len && s[i] == '.' && n < sizeof buf - 1) {
		buf[n++] = s[i++];
		dec = 0;
		while (i < len && isdigit((unsigned char)s[i]) && n < sizeof buf - 1)
			buf[n++] = s[i++], dec++;
	}
	if (int_digits == 0 || int_digits > 10 || dec == 0)
		return false;
	buf[n] = 0;
	double v = strtod(buf, NULL);
	*micro = false;
	if (dec < 0) {
		/* An integer of 7+ digits is degrees x 1e6 (AMap/Tencent style). */
		if (int_digits >= 7) {
			v /= 1e6;
			*micro = true;
			dec = 6;
		} else {
			dec = 0;
		}
	}
	*value = v;
	*decimals = dec;
	return true;
}

/* |lab - seen| explained by the writer rounding (or truncating) to `dec` decimals. */
static bool same_rounding(double lab, double seen, int dec)
{
	return fabs(lab - seen) <= pow(10.0, -dec) + 1e-9;
}

static double component_m(double lab, double seen, bool is_lon, double at_lat)
{
	double m = fabs(lab - seen) * METERS_PER_DEGREE;
	return is_lon ? m * cos(at_lat * M_PI / 180) : m;
}

/*
 * Encoding names: the datum ("e6" alone is WGS-84 micro-degrees, the GPS
 * integer form), "-lonlat" when a pair is written longitude first, "-lat" /
 * "-lon" for one coordinate alone. The lab's ground truth uses the same names.
 */
static const char *const location_names[2][3][4] = {
	{ { "wgs84", "wgs84-lonlat", "wgs84-lat", "wgs84-lon" },
	  { "gcj02", "gcj02-lonlat", "gcj02-lat", "gcj02-lon" },
	  { "bd09", "bd09-lonlat", "bd09-lat", "bd09-lon" } },
	{ { "e6", "e6-lonlat", "e6-lat", "e6-lon" },
	  { "gcj02-e6", "gcj02-e6-lonlat", "gcj02-e6-lat", "gcj02-e6-lon" },
	  { "bd09-e6", "bd09-e6-lonlat", "bd09-e6-lat", "bd09-e6-lon" } },
};

bool coords_match_lab(const struct detect_device *dev, int which, double a, int dec_a, double b,
		      int dec_b, bool micro, const char **encoding)
{
	double lat[3], lon[3];
	if (!dev->has_location || dec_a < 2 || (which == 0 && dec_b < 2))
		return false;
	lat[0] = dev->lat, lon[0] = dev->lon;
	coords_wgs84_to_gcj02(lat[0], lon[0], &lat[1], &lon[1]);
	coords_gcj02_to_bd09(lat[1], lon[1], &lat[2], &lon[2]);

	double best = INFINITY;
	int best_datum = -1, best_shape = 0;
	for (int d = 0; d < 3; d++) {
		/* shape: 0 = lat,lon; 1 = lon,lat; 2 = latitude alone; 3 = longitude alone */
		for (int shape = which == 0 ? 0 : which + 1; shape <= (which == 0 ? 1 : which + 1);
		     shape++) {
			double dist;
			bool ok;
			if (shape < 2) {
				double want_a = shape == 0 ? lat[d] : lon[d];
				double want_b = shape == 0 ? lon[d] : lat[d];
				dist = shape == 0 ? coords_distance_m(lat[d], lon[d], a, b)
						  : coords_distance_m(lat[d], lon[d], b, a);
				ok = dist <= dev->radius_m || (same_rounding(want_a, a, dec_a) &&
								 same_rounding(want_b, b, dec_b));
			} else {
				bool is_lon = shape == 3;
				double lab = is_lon ? lon[d] : lat[d];
				dist = component_m(lab, a, is_lon, lat[d]);
				ok = dist <= dev->radius_m || same_rounding(lab, a, dec_a);
			}
			if (ok && dist < best) {
				best = dist;
				best_datum = d;
				best_shape = shape;
			}
		}
	}
	if (best_datum < 0)
		return false;
	*encoding = location_names[micro][best_datum][best_shape];
	return true;
}
