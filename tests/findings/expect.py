"""The findings a demo capture should produce, derived from the lab's ground
truth, the policy model and the recipient catalogue — never from privaudit's
output.

For every planted datum the truth says which type left the phone, to which
host and address, over which protocol, in which packet. From that and the
policy file this module decides, rule by rule (docs/findings.md):

  residency            the destination's jurisdiction is not allowed:
                       conclusive; indicative when the measured handshake RTT
                       is shorter than light needs to reach that country
  encryption           a cleartext protocol while the policy promises
                       encryption: conclusive
  undeclared-recipient a party only mentioned, or catalogued but not in the
                       policy: conclusive; a host nobody names: indicative;
                       a catalogued/mentioned non-CDN party contacted with no
                       personal data seen: indicative, data type ""
  beyond-scope         a declared party receiving a type outside its scope
  undeclared-type      a type the policy never mentions (or the first party
                       receiving one it does not declare): conclusive;
                       indicative for an identifier the policy does not name
                       while it names others
  before-consent       a datum earlier than the consent moment: conclusive

A finding is identified by (rule, recipient id, data type), as privaudit
deduplicates them; the strength is the strongest evidence's.
"""
import ipaddress
import re
import subprocess

import yaml

# policies/README.md: the vocabulary groups, expanded on load.
GROUPS = {
	"device_id": ["imei", "meid", "imsi", "serial", "android_id", "oaid", "gaid", "idfa", "idfv",
		      "openudid"],
	"phone_state": ["imei", "meid", "imsi", "iccid", "serial", "phone"],
	"geo": ["location", "cell_id", "bssid", "ssid"],
	"wifi": ["wifi_mac", "bssid", "ssid"],
}
VOCABULARY = set(
	"imei meid imsi iccid serial android_id oaid gaid idfa idfv openudid mac wifi_mac bssid ssid "
	"phone email location cell_id app_list contacts ip name account device_model network_state "
	"storage documents face_image audio_video call_log usage_log sensors health payment_account "
	"messages".split())
# Identifiers a policy may cover with "唯一设备标识符" without naming each one.
DEVICE_IDENTIFIERS = set(GROUPS["device_id"]) | {"aaid", "vaid"}
CLEARTEXT = {"http", "dns", "raw-tcp", "raw-udp"}

LAB = (39.9087, 116.3975)  # signatures/devices/lab-phone.yaml
FIBRE_KM_PER_MS = 200.0
# Great-circle km from the lab to the nearest point of each country the lab
# serves, measured by hand to the nearest territory (Hong Kong's northern
# border, Macao, the Matsu islands, Singapore's north shore, Attu island in
# Alaska, Tsushima, the Korean border near Sinuiju, Görlitz). Only used with
# a wide margin: privaudit's own table over-covers, so its bound is lower.
NEAREST_KM = {"CN": 0, "HK": 1940, "MO": 1980, "TW": 1550, "SG": 4460, "US": 4430, "JP": 1270,
	      "KR": 760, "DE": 7000}


def expand(words):
	out = []
	for w in words or []:
		out.extend(GROUPS.get(w, [w]))
	return set(out)


def domain_match(pattern, host):
	"""Length of the matched pattern (specificity), 0 when it does not cover host."""
	host = host.lower().rstrip(".")
	sub_only = pattern.startswith("*.")
	base = pattern[2:] if sub_only else pattern
	if host == base:
		return 0 if sub_only else len(base)
	return len(base) if host.endswith("." + base) else 0


def best(patterns, host):
	return max([domain_match(p, host) for p in patterns] or [0])


class Policy:
	def __init__(self, path):
		with open(path) as f:
			doc = yaml.safe_load(f)
		pr = doc["promises"]
		self.allowed = set(pr["residency"]["allowed"])
		self.encryption = "encryption" in pr
		self.data_types = set()
		for d in pr["data_types"]:
			self.data_types |= expand(d["types"])
		self.first_party = pr["first_party_domains"]
		self.parties = []
		for section, kind in (("third_parties", "third-party"), ("processors", "processor"),
				      ("mentioned_parties", "mentioned")):
			for p in pr.get(section) or []:
				self.parties.append({
					"id": p["id"], "kind": kind,
					"has_types": "data_types" in p,
					"types": expand(p.get("data_types")),
					"recipients": p.get("recipients") or [],
					"domains": p.get("domains") or []})
		self.mentioned_types = set(self.data_types)
		for p in self.parties:
			self.mentioned_types |= p["types"]

	def party_for_catalogue(self, cat_id):
		for p in self.parties:
			if cat_id in p["recipients"]:
				return p
		return None

	def party_for_host(self, host):
		found, length = None, 0
		for p in self.parties:
			m = best(p["domains"], host)
			if m > length:
				found, length = p, m
		return found

	def may_receive(self, party, dtype):
		if party["kind"] == "mentioned":
			return False
		if party["kind"] == "processor" and not party["has_types"]:
			return dtype in self.data_types
		return dtype in party["types"]


class Catalogue:
	def __init__(self, path):
		with open(path) as f:
			self.entries = yaml.safe_load(f)["recipients"]

	def match(self, host):
		found, length = None, 0
		for e in self.entries:
			m = best(e["domains"], host)
			if m > length:
				found, length = e, m
		return found


def without_port(host):
	"""An HTTP Host's name without its port: "a.com:8080" is the recipient a.com."""
	if host.startswith("[") and "]" in host:
		return host[1:host.index("]")]
	name, sep, port = host.rpartition(":")
	return name if sep and ":" not in name and port.isdigit() else host


def attribution_sure(policy, catalogue, host):
	"""False when who received a flow rests on a catalogue entry whose source
	was not verified (the policy's own domains did not name the host)."""
	host = without_port(host or "")
	if not host or best(policy.first_party, host):
		return True
	cat = catalogue.match(host)
	if not cat or cat.get("source_verified"):
		return True
	party = policy.party_for_catalogue(cat["id"])
	return party is not None and policy.party_for_host(host) is party


def recipient(policy, catalogue, host, ip):
	"""(id, kind, purpose) of whoever receives a flow to host/ip."""
	host = without_port(host or "")
	if not host:
		return ip, "unknown", None
	if best(policy.first_party, host):
		return "first-party", "first-party", "first_party"
	cat = catalogue.match(host)
	party = policy.party_for_catalogue(cat["id"]) if cat else None
	if party is None:
		party = policy.party_for_host(host)
	if party:
		return party["id"], party["kind"], cat["purpose"] if cat else None
	if cat:
		return cat["id"], "catalogued", cat["purpose"]
	return host, "unknown", None


def jurisdiction(country):
	if not country:
		return "unknown"
	return country if country in ("CN", "HK", "MO", "TW") else "foreign:" + country


def jurisdiction_word(record):
	"""A record's jurisdiction as the policy names it (CN, foreign:SG): the
	outputs write it as jurisdiction + jurisdiction_country (docs/output.md)."""
	j = record["jurisdiction"]
	return "foreign:" + record["jurisdiction_country"] if j == "foreign" else j


def physics(country, rtt_ms):
	"""'contradicted', 'consistent', or 'either' when too close to call."""
	if rtt_ms is None or country not in NEAREST_KM:
		return "consistent"  # not judged: the GeoIP country stands
	bound = 2 * NEAREST_KM[country] / FIBRE_KM_PER_MS
	if rtt_ms >= bound:
		return "consistent"
	if rtt_ms < 0.5 * bound:
		return "contradicted"
	return "either"


def geoip_country(mmdb, ip):
	"""The lab GeoIP fixture's country for ip, through mmdblookup (mmdb-bin)."""
	try:
		out = subprocess.run(["mmdblookup", "--file", mmdb, "--ip", ip, "country", "iso_code"],
				     capture_output=True, text=True, timeout=30).stdout
	except (OSError, subprocess.TimeoutExpired):
		return ""
	m = re.search(r'"([A-Z]{2})"', out)
	return m.group(1) if m else ""


class Expectation:
	"""Expected findings: (rule, recipient, type) -> {"strength", "why", "either"}."""

	def __init__(self):
		self.findings = {}
		self.notes = []

	def add(self, rule, rid, dtype, strength, why, either=False):
		key = (rule, rid, dtype)
		cur = self.findings.get(key)
		if cur is None:
			self.findings[key] = {"strength": strength, "why": why, "either": either}
			return
		# The strongest evidence decides; a certain conclusive beats a maybe.
		if cur["strength"] == "indicative" and strength == "conclusive":
			cur.update(strength=strength, why=why, either=either)
		elif cur["strength"] == strength:
			cur["either"] = cur["either"] and either


# A datum in a DNS query name goes to the owner of the zone queried, not to
# the resolver: the recipient is matched by the full name queried (the
# truth's hostname), and a name nobody knows is named by its zone
# (docs/findings.md, "DNS queries"). "resolver" expects the resolver's
# address instead, as privaudit did before it attributed query names.
DNS_RECIPIENT = "owner"

GENERIC_SECOND_LEVEL = {"com", "net", "org", "gov", "edu", "ac", "co"}


def query_host(name):
	"""What follows the last label of a query name that holds a ':' (a MAC
	address is data, never a host label)."""
	if ":" not in name:
		return name
	rest = name[name.rindex(":"):]
	return rest.split(".", 1)[1] if "." in rest else ""


def dns_zone(host):
	"""The registered domain of a name: the last two labels, three under a
	generic second level of a two-letter country code."""
	labels = host.lower().rstrip(".").split(".")
	n = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in GENERIC_SECOND_LEVEL else 2
	return ".".join(labels[-n:])


def undetectable(d):
	"""Datums no audit can find by design (tests/accuracy/check.py says why)."""
	enc = d["encoding"][len("gzip+"):] if d["encoding"].startswith("gzip+") else d["encoding"]
	if d["type"] == "app_list" and enc not in ("raw", "upper", "lower", "url", "base64",
						   "base64url"):
		return "app list hashed/hex: no profile value to derive it from"
	if d["type"] == "app_list" and d["protocol"] in ("raw-udp", "raw-tcp") and \
	   enc in ("base64", "base64url"):
		return "app list in base64 inside a raw payload"
	return None


def derive(policy, catalogue, datums, destinations, country_of, rtt_of, consent_ts, visible,
	   unread_up, threshold=65536):
	"""datums: truth datum records, each with "ts" (seconds) added.
	destinations: [(host, ip)] the phone contacted (truth "destination" records).
	country_of(ip) -> ISO code; rtt_of(datum) -> handshake ms or None;
	visible(datum) -> whether privaudit can read it (https needs the key log);
	unread_up: {(host, ip): device-side bytes privaudit cannot read} for flows
	without a readable datum."""
	ex = Expectation()
	with_data = set()
	for d in datums:
		if not visible(d) or undetectable(d):
			continue
		dtype, proto = d["type"], d["protocol"]
		host = d["hostname"]
		if proto == "dns" and DNS_RECIPIENT == "resolver":
			host = ""
		elif proto == "dns" and host.lower().rstrip(".").split(".")[-1] == "local":
			host = ""  # multicast DNS: the link, not a zone owner
		elif proto == "dns":
			host = query_host(host)
		rid, kind, _ = recipient(policy, catalogue, host, d["dst_ip"])
		if proto == "dns" and DNS_RECIPIENT == "owner" and kind == "unknown" and host:
			rid = dns_zone(host)
		with_data.add(rid)
		where = "%s %s to %s over %s (packet %s)" % (dtype, d["encoding"], host, proto, d["packet"])
		country = country_of(d["dst_ip"])
		jur = jurisdiction(country)
		if jur not in ("unknown",) and jur not in policy.allowed:
			verdict = physics(country, rtt_of(d))
			if verdict == "contradicted":
				ex.add("residency", rid, dtype, "indicative", where + ": RTT rules out " + country)
			else:
				ex.add("residency", rid, dtype, "conclusive", where + ": " + jur,
				       either=verdict == "either")
		if policy.encryption and proto in CLEARTEXT:
			ex.add("encryption", rid, dtype, "conclusive", where)
		sure = "conclusive" if attribution_sure(policy, catalogue, host) else "indicative"
		if kind in ("mentioned", "catalogued"):
			ex.add("undeclared-recipient", rid, dtype, sure, where + ": " + kind)
		elif kind == "unknown":
			ex.add("undeclared-recipient", rid, dtype, "indicative", where + ": nobody names it")
		if kind in ("third-party", "processor"):
			party = next(p for p in policy.parties if p["id"] == rid)
			if not policy.may_receive(party, dtype):
				ex.add("beyond-scope", rid, dtype, sure, where + ": outside its scope")
		mentioned = dtype in policy.mentioned_types
		fp_gap = kind == "first-party" and dtype not in policy.data_types
		if not mentioned or fp_gap:
			if dtype not in VOCABULARY:
				ex.add("undeclared-type", rid, dtype, "indicative", where + ": no vocabulary word")
			elif dtype in DEVICE_IDENTIFIERS and policy.data_types & DEVICE_IDENTIFIERS:
				ex.add("undeclared-type", rid, dtype, "indicative",
				       where + ": unnamed device identifier")
			else:
				ex.add("undeclared-type", rid, dtype, "conclusive", where + ": undeclared type")
		if consent_ts is not None and d["ts"] < consent_ts:
			ex.add("before-consent", rid, dtype, "conclusive", where + ": before consent")

	for host, ip in destinations:
		rid, kind, purpose = recipient(policy, catalogue, host, ip)
		if kind in ("mentioned", "catalogued") and purpose != "cdn" and rid not in with_data:
			ex.add("undeclared-recipient", rid, "", "indicative", "contacted " + host)
		jur = jurisdiction(country_of(ip))
		unread = unread_up.get((host, ip), 0)
		if jur != "unknown" and jur not in policy.allowed and unread >= threshold:
			ex.add("residency", rid, "", "indicative",
			       "unverified transfer abroad: %d unreadable bytes to %s" % (unread, host))
	return ex


def is_ip(s):
	try:
		ipaddress.ip_address(s)
		return True
	except ValueError:
		return False


def rtt_table(packets, parse_l4):
	"""{(server ip, server port, client port): SYN -> SYN/ACK ms} from a capture."""
	syn, out = {}, {}
	for p in packets:
		l4 = parse_l4(p.data)
		if l4 is None or l4.proto != 6:
			continue
		flags = l4.flags
		if flags & 0x02 and not flags & 0x10:
			syn.setdefault((l4.dst, l4.dport, l4.sport), p.ts)
		elif flags & 0x12 == 0x12:
			key = (l4.src, l4.sport, l4.dport)
			if key in syn and key not in out:
				out[key] = (p.ts - syn[key]) * 1000.0
	return out
