"""Planted values: the lab phone's data in every encoding the scenarios use.

A scenario writes placeholders such as "{imei:md5-lower}", "{imei#1}",
"{android_id}", "{location:gcj02}" or "{location.lat:bd09}" inside any string;
expand() replaces each with the encoded value and returns what it planted, so
the driver can write the ground truth. docs/lab.md lists the encodings.
"""
import base64
import gzip
import hashlib
import math
import re
import urllib.parse

PLACEHOLDER = re.compile(r"\{([a-z_0-9]+)(?:\.(lat|lon))?(?:#(\d+))?(?::([a-z0-9+-]+))?\}")

# Values a scenario may plant that a device profile has no key for.
EXTRA_VALUES = {
	"app_list": "com.tencent.mm,com.eg.android.AlipayGphone,com.sina.weibo,com.ss.android.ugc.aweme",
}

TEXT_ENCODINGS = ("raw", "upper", "lower", "md5-lower", "md5-upper", "sha1-lower", "sha1-upper",
		  "sha256-lower", "sha256-upper", "base64", "base64url", "url", "hex", "nosep")
LOCATION_FORMATS = ("wgs84", "gcj02", "bd09", "wgs84-lonlat", "e6")


def load_device(path):
	import yaml
	with open(path, encoding="utf-8") as f:
		doc = yaml.safe_load(f)
	values = {}
	for key, val in (doc.get("identifiers") or {}).items():
		values[key] = [str(v) for v in val] if isinstance(val, list) else [str(val)]
	values["mac"] = [str(doc["device"]["mac"])]
	loc = doc["location"]
	values["location"] = [(float(loc["lat"]), float(loc["lon"]))]
	for key, val in EXTRA_VALUES.items():
		values[key] = [val]
	return values


def encode_text(value, encoding):
	if encoding == "raw":
		return value
	if encoding == "upper":
		return value.upper()
	if encoding == "lower":
		return value.lower()
	if encoding == "nosep":
		return value.replace(":", "").replace("-", "")
	algo, _, case = encoding.partition("-")
	if algo in ("md5", "sha1", "sha256") and case in ("lower", "upper"):
		digest = hashlib.new(algo, value.encode()).hexdigest()
		return digest.upper() if case == "upper" else digest
	if encoding == "base64":
		return base64.b64encode(value.encode()).decode()
	if encoding == "base64url":
		return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")
	if encoding == "url":
		return urllib.parse.quote(value, safe="")
	if encoding == "hex":
		return value.encode().hex()
	raise ValueError("unknown encoding %r" % encoding)


# WGS-84 -> GCJ-02 (the published "Mars coordinates" transform) -> BD-09.
_A = 6378245.0
_EE = 0.00669342162296594323


def _tlat(x, y):
	r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
	r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
	r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
	r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
	return r


def _tlon(x, y):
	r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
	r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
	r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
	r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
	return r


def wgs84_to_gcj02(lat, lon):
	dlat = _tlat(lon - 105.0, lat - 35.0)
	dlon = _tlon(lon - 105.0, lat - 35.0)
	radlat = lat / 180.0 * math.pi
	magic = 1 - _EE * math.sin(radlat) ** 2
	sqrtmagic = math.sqrt(magic)
	dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
	dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
	return lat + dlat, lon + dlon


def gcj02_to_bd09(lat, lon):
	x_pi = math.pi * 3000.0 / 180.0
	z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * x_pi)
	theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * x_pi)
	return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def encode_location(latlon, fmt, part):
	"""Text of the lab coordinates in a coordinate system/format; part is
	None (both), "lat" or "lon"."""
	lat, lon = latlon
	if fmt in ("wgs84", "wgs84-lonlat"):
		t_lat, t_lon = "%.4f" % lat, "%.4f" % lon
	elif fmt == "gcj02":
		la, lo = wgs84_to_gcj02(lat, lon)
		t_lat, t_lon = "%.6f" % la, "%.6f" % lo
	elif fmt == "bd09":
		la, lo = gcj02_to_bd09(*wgs84_to_gcj02(lat, lon))
		t_lat, t_lon = "%.6f" % la, "%.6f" % lo
	elif fmt == "e6":
		t_lat, t_lon = str(round(lat * 1e6)), str(round(lon * 1e6))
	else:
		raise ValueError("unknown location format %r" % fmt)
	if part == "lat":
		return t_lat
	if part == "lon":
		return t_lon
	if fmt == "wgs84-lonlat":
		return "%s,%s" % (t_lon, t_lat)
	return "%s,%s" % (t_lat, t_lon)


class Planted:
	"""One value put into the traffic."""
	__slots__ = ("type", "value", "encoding", "text", "numeric")

	def __init__(self, type_, value, encoding, text, numeric=False):
		self.type = type_
		self.value = value        # the datum as the device profile has it
		self.encoding = encoding  # how it was written
		self.text = text          # the characters that went on the wire
		self.numeric = numeric    # a coordinate that JSON may carry as a number


def resolve(values, m):
	type_, part, index, encoding = m.group(1), m.group(2), int(m.group(3) or 0), m.group(4)
	if type_ not in values:
		raise ValueError("no value %r in the device profile" % type_)
	if index >= len(values[type_]):
		raise ValueError("%s has no value #%d" % (type_, index))
	raw = values[type_][index]
	if type_ == "location":
		fmt = encoding or "wgs84"
		text = encode_location(raw, fmt, part)
		value = "%s,%s" % ("%.4f" % raw[0], "%.4f" % raw[1])
		if part:
			value = "%.4f" % (raw[0] if part == "lat" else raw[1])
		return Planted("location", value, fmt + ("-" + part if part else ""), text, bool(part))
	encoding = encoding or "raw"
	return Planted(type_, raw, encoding, encode_text(raw, encoding))


def expand(template, values):
	"""(text, [Planted]) for a string holding placeholders."""
	planted = []

	def sub(m):
		p = resolve(values, m)
		planted.append(p)
		return p.text
	return PLACEHOLDER.sub(sub, template), planted


def gzip_bytes(data):
	# mtime=0: the same scenario gives the same bytes every run.
	return gzip.compress(data, mtime=0)
