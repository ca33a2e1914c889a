#!/usr/bin/env python3
"""Findings end to end on the demo captures (docs/findings.md).

For each demo capture and its policy, runs `privaudit audit` with the lab
phone's profile, the lab GeoIP fixtures, the capture's key log (when
privaudit knows --keylog) and the consent moment the lab recorded, then
compares findings.jsonl with the findings derived independently from the
ground truth (expect.py): every expected (rule, recipient, data type) present
with its strength, nothing unexpected, exit code 1 with findings and 0
without. Then, on the leaky captures:

  evidence    every evidence/F*.pcapng opens with tshark and holds the
              finding's cited packets byte for byte as the input has them;
              `privaudit verify` passes, says CHANGED (exit 1) after one
              flipped byte and MISSING after a deleted file
  consent     --consent-at between two datums turns exactly the earlier ones
              into before-consent findings; a PRIVAUDIT-CONSENT datagram
              inserted into the capture at the same moment does the same
  overrides   a CIDR -> country file moves a destination in and out of the
              allowed jurisdiction
  no key log  datums inside TLS are not seen, the TLS bytes are counted as
              not inspected and the promises say not-verifiable

Exit 0 when everything matches, 1 otherwise (a missing privaudit or demo
capture too), 77 when tshark is not installed. --json FILE writes the measured numbers.
"""
import argparse
import collections
import datetime
import json
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import expect  # noqa: E402

SCENARIOS = [
	("demo-lanxin-leaky", "lanxin"),
	("demo-lanxin-clean", "lanxin"),
	("demo-lanhu-leaky", "lanhu"),
	("demo-lanhu-clean", "lanhu"),
	("demo-encodings", "lanxin"),
	("demo-encodings", "lanhu"),
]

# Differences between what the truth implies and what privaudit can know,
# each with its cause. A listed difference is reported, not failed; an
# unlisted one fails. Keyed by (rule, recipient, type) patterns: "*" matches
# anything, "dns:" recipients stand for DNS-label datums.
KNOWN = []

failures = []


def fail(msg):
	failures.append(msg)
	print("FAIL: " + msg)


def load_jsonl(path):
	with open(path) as f:
		return [json.loads(line) for line in f if line.strip()]


def parse_time(s):
	return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def iso(ts):
	return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
		"%Y-%m-%dT%H:%M:%S.%fZ")


class Env:
	def __init__(self, args):
		self.args = args
		self.src = args.source
		self.geoip = [os.path.join(self.src, "tests/data/geoip/lab-country.mmdb"),
			      os.path.join(self.src, "tests/data/geoip/lab-asn.mmdb")]
		self.device = os.path.join(self.src, "signatures/devices/lab-phone.yaml")
		self.catalogue = expect.Catalogue(os.path.join(self.src, "signatures/recipients.yaml"))
		self.geo_cache = {}

	def policy_path(self, name):
		return os.path.join(self.src, "policies", name + ".yaml")

	def audit(self, out, inputs, policy, keylog=None, consent=None, extra=()):
		shutil.rmtree(out, ignore_errors=True)
		cmd = [self.args.privaudit, "audit", "--quiet", "--policy", self.policy_path(policy),
		       "--device", self.device, "--out", out]
		for g in self.geoip:
			cmd += ["--geoip", g]
		if keylog:
			cmd += ["--keylog", keylog]
		if consent is not None:
			cmd += ["--consent-at", iso(consent)]
		cmd += list(extra) + list(inputs)
		r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
		if r.returncode not in (0, 1, 4):
			fail("%s: privaudit exited %d: %s" % (" ".join(cmd), r.returncode, r.stderr[-2000:]))
		return r.returncode

	def country(self, truth_countries, ip):
		if ip in truth_countries:
			return truth_countries[ip]
		if ip not in self.geo_cache:
			self.geo_cache[ip] = expect.geoip_country(self.geoip[0], ip)
		return self.geo_cache[ip]


class Capture:
	"""A demo capture with its truth, packets and per-flow facts."""

	def __init__(self, env, name):
		import labpcap
		self.name = name
		base = os.path.join(env.args.captures, name)
		self.path = base + ".pcapng"
		self.keylog = base + ".keylog" if os.path.exists(base + ".keylog") else None
		truth = load_jsonl(base + ".truth.jsonl")
		self.scenario = next(r for r in truth if r["record"] == "scenario")
		self.packets = labpcap.read_packets(self.path)
		self.datums = [dict(r) for r in truth if r["record"] == "datum"]
		for d in self.datums:
			d["ts"] = self.packets[d["packet"] - 1].ts
		consent = [r for r in truth if r["record"] == "consent"]
		self.consent = parse_time(consent[0]["time"]) if consent else None
		self.destinations = [(r["host"], r["ip"]) for r in truth if r["record"] == "destination"]
		self.truth_countries = {r["ip"]: r["country"] for r in truth if r["record"] == "destination"}
		self.rtt = expect.rtt_table(self.packets, labpcap.parse_l4)
		self.flow_up = collections.Counter()  # (server ip, server port, client port) -> payload up
		self.tls_flows = set()
		device = {"10.66.0.2", "fd66::2"}
		for p in self.packets:
			l4 = labpcap.parse_l4(p.data)
			if l4 is None or l4.proto != 6 or l4.src not in device:
				continue
			key = (l4.dst, l4.dport, l4.sport)
			self.flow_up[key] += len(l4.payload)
			if l4.payload[:1] == b"\x16":
				self.tls_flows.add(key)
		self.env = env
		with open(env.device) as f:
			prof = expect.yaml.safe_load(f)
		ids = prof.get("identifiers", {})
		mac = str(prof.get("device", {}).get("mac", "")).lower()
		self.twins = {"mac", "wifi_mac"} if mac and str(ids.get("wifi_mac", "")).lower() == mac \
			else set()

	def resolve_types(self, out):
		"""The lab phone's MAC and Wi-Fi MAC are one value: a datum of either
		type is read as whichever of the two the audit typed it (observations
		of the same destination and packet); the rules then follow that type."""
		path = os.path.join(out, "observations.jsonl")
		obs = load_jsonl(path) if os.path.exists(path) else []
		resolved = 0
		for d in self.datums:
			d["type"] = d.get("truth_type", d["type"])
			if d["type"] not in self.twins:
				continue
			d["truth_type"] = d["type"]
			same = [o for o in obs if o["dst_ip"] == d["dst_ip"] and o["dst_port"] == d["dst_port"]
				and o["type"] in self.twins and not o["echo"]]
			exact = [o for o in same if o["packet"] == d["packet"]]
			pick = (exact or same or [None])[0]
			if pick and pick["type"] != d["type"]:
				d["type"] = pick["type"]
				resolved += 1
		return resolved

	def rtt_of(self, d):
		return self.rtt.get((d["dst_ip"], d["dst_port"], d["src_port"]))

	def expected(self, policy_name, keylog, consent, country_of=None, threshold=65536):
		policy = expect.Policy(self.env.policy_path(policy_name))
		country_of = country_of or (lambda ip: self.env.country(self.truth_countries, ip))

		def visible(d):
			return d["protocol"] != "https" or bool(keylog)

		# Flows with no readable datum: TLS bytes up are unreadable without a key log.
		readable = {(d["dst_ip"], d["dst_port"], d["src_port"]) for d in self.datums if visible(d)}
		host_of = {ip: host for host, ip in self.destinations}
		unread = collections.Counter()
		if not keylog:
			for key in self.tls_flows - readable:
				if key[0] in host_of:
					unread[(host_of[key[0]], key[0])] = max(unread[(host_of[key[0]], key[0])],
										self.flow_up[key])
		return expect.derive(policy, self.env.catalogue, self.datums, self.destinations, country_of,
				     self.rtt_of, consent, visible, unread, threshold)


def actual_findings(out):
	path = os.path.join(out, "findings.jsonl")
	found = {}
	for f in load_jsonl(path) if os.path.exists(path) else []:
		key = (f["rule"], f["recipient"]["id"], f["data_type"] or "")
		if key in found:
			fail("%s: two findings for %s" % (out, key))
		found[key] = f
	return found


def known(key):
	for pattern, why in KNOWN:
		if all(p == "*" or p == k for p, k in zip(pattern, key)):
			return why
	return None


def audit_complete(out):
	"""report.json's own word on coverage (None without a report)."""
	try:
		with open(os.path.join(out, "report.json")) as f:
			return json.load(f).get("coverage", {}).get("complete")
	except OSError:
		return None


def compare(label, ex, found, rc, out=None):
	"""Counts and differences, failing on each unexplained one. Exit codes:
	1 with findings; without, 0 when the audit says its coverage is complete
	and 4 when something could not be verified (docs/cli.md)."""
	res = {"expected": collections.Counter(), "raised": collections.Counter(), "missing": [],
	       "extra": [], "wrong_strength": [], "known": []}
	for key, e in ex.findings.items():
		res["expected"]["%s/%s" % (key[0], e["strength"])] += 1
	for key, f in found.items():
		res["raised"]["%s/%s" % (key[0], f["strength"])] += 1
	for key, e in sorted(ex.findings.items()):
		f = found.get(key)
		if f is None:
			why = known(key)
			(res["known"] if why else res["missing"]).append({"key": key, "why": why or e["why"]})
			if not why:
				fail("%s: missing %s %s (%s)" % (label, e["strength"], key, e["why"]))
		elif f["strength"] != e["strength"] and not e["either"]:
			res["wrong_strength"].append({"key": key, "expected": e["strength"],
						      "raised": f["strength"], "reason": f["reason"]})
			fail("%s: %s is %s, expected %s (%s; privaudit: %s)" %
			     (label, key, f["strength"], e["strength"], e["why"], f["reason"]))
	for key, f in sorted(found.items()):
		if key in ex.findings:
			continue
		why = known(key)
		(res["known"] if why else res["extra"]).append(
			{"key": key, "strength": f["strength"], "why": why or f["reason"]})
		if not why:
			fail("%s: unexpected %s %s: %s" % (label, f["strength"], key, f["reason"]))
	complete = audit_complete(out) if out else True
	want_rc = 1 if found else 0 if complete else 4
	if rc != want_rc:
		fail("%s: exit code %d, expected %d" % (label, rc, want_rc))
	if not ex.findings and rc not in (0, 4):
		fail("%s: a clean capture must exit 0, or 4 when not everything was verified" % label)
	for k in ("missing", "extra", "known"):
		res[k] = [dict(x, key=list(x["key"])) for x in res[k]]
	res["expected"], res["raised"] = dict(res["expected"]), dict(res["raised"])
	return res


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("--privaudit", required=True)
	ap.add_argument("--source", required=True)
	ap.add_argument("--captures", required=True)
	ap.add_argument("--work", required=True)
	ap.add_argument("--json")
	ap.add_argument("--only", help="run only the scenario with this capture name")
	args = ap.parse_args()
	sys.path.insert(0, os.path.join(args.source, "tools/lab"))
	# The binary and the demo captures are part of the tree under test: their
	# absence is a failure. tshark is a tool of the test machine.
	if not os.access(args.privaudit, os.X_OK):
		print("FAIL: %s is not an executable privaudit" % args.privaudit)
		return 1
	missing = [c for c, _ in SCENARIOS
		   if not os.path.exists(os.path.join(args.captures, c + ".truth.jsonl"))]
	if missing:
		print("FAIL: demo captures missing from %s: %s" % (args.captures, ", ".join(missing)))
		return 1
	if not shutil.which("tshark"):
		print("SKIP: tshark not installed (Debian package tshark; tools/deps installs it)")
		return 77
	os.makedirs(args.work, exist_ok=True)
	env = Env(args)
	import extra_checks as scenarios
	report = {"runs": {}}
	captures = {}
	for name, policy in SCENARIOS:
		if args.only and args.only != name:
			continue
		cap = captures.get(name) or captures.setdefault(name, Capture(env, name))
		label = "%s+%s" % (name, policy)
		out = os.path.join(args.work, label)
		rc = env.audit(out, [cap.path], policy, keylog=cap.keylog, consent=cap.consent)
		twins = cap.resolve_types(out)
		ex = cap.expected(policy, cap.keylog, cap.consent)
		res = compare(label, ex, actual_findings(out), rc, out)
		scenarios.check_coverage(label, env, out, scenarios.load_report(out), policy, cap.consent,
					 fail, res)
		res["mac_typed_as_twin"] = twins
		scenarios.check_report(label, out, ex, cap, fail)
		scenarios.check_evidence(label, env, out, [cap.path], cap.packets, fail, res)
		report["runs"][label] = res
		print("%-28s expected %3d raised %3d  missing %d extra %d strength %d known %d" %
		      (label, len(ex.findings), sum(res["raised"].values()), len(res["missing"]),
		       len(res["extra"]), len(res["wrong_strength"]), len(res["known"])))
	if not args.only or args.only == "demo-lanxin-leaky":
		cap = captures.get("demo-lanxin-leaky") or Capture(env, "demo-lanxin-leaky")
		report["verify"] = scenarios.check_verify(env, cap, args.work, fail)
		report["consent"] = scenarios.check_consent(env, cap, args.work, fail)
	if not args.only or args.only == "demo-lanhu-leaky":
		cap = captures.get("demo-lanhu-leaky") or Capture(env, "demo-lanhu-leaky")
		report["overrides"] = scenarios.check_overrides(env, cap, args.work, fail, compare)
		report["no_keylog"] = scenarios.check_no_keylog(env, cap, args.work, fail, compare)
	report["failures"] = failures
	if args.json:
		with open(args.json, "w") as f:
			json.dump(report, f, indent=1, ensure_ascii=False, default=list)
	print("%d failure(s)" % len(failures))
	return 1 if failures else 0


if __name__ == "__main__":
	sys.exit(main())
