#!/usr/bin/env python3
"""tls-check.py — does `privaudit audit --keylog` find every value planted
inside TLS, in the right field, flow and packet? (tests/lab, label lab)

usage: tls-check.py PRIVAUDIT SOURCE_DIR CAPTURE.pcapng [WORK_DIR]

CAPTURE.keylog and CAPTURE.truth.jsonl sit next to the capture (as
tools/lab/run-scenario writes them). Runs the audit with the lab phone's
profile, --show-values and the key log, then checks each datum of protocol
"https" against observations.jsonl:

  type (or a type with the same profile value: mac / wifi_mac), value,
  encoding, protocol "tls-decrypted", field, flow (5-tuple through
  flows.jsonl) and packet must all be equal; a url-encoded value in a query,
  form or cookie is decoded with its field and reported raw (as in
  tests/accuracy/check.py). The expected field is the
  ground truth's, in HTTP/2 spelled the way the HTTP/2 decoder names it
  (http2.query:KEY, http2.header:lower-case-name, http2.body.json:a.b).

Every TLS flow of the capture must also say in flows.jsonl that it was
decrypted with no failed record. Misses are printed with the TLS suite, HTTP
version, resumption and KeyUpdate generation that carried them and the nearest
observation, recall per suite and per field kind after that.

Observations nothing planted explains (beyond the same value again in a
containing field: whole body, cookie by name) are printed as EXTRA and fail.

Exit 0: recall 100%, every TLS flow decrypted, no EXTRA; 1: otherwise
(also when privaudit is missing or refuses --keylog: nothing is skipped).
"""
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

PHONE_ADDRS = ("10.66.0.2", "fd66::2")


def load_jsonl(path):
	with open(path, encoding="utf-8") as f:
		return [json.loads(line) for line in f if line.strip()]


def profile_values(source):
	"""type -> value list of the lab phone, for types that share a value."""
	import yaml
	with open(os.path.join(source, "signatures/devices/lab-phone.yaml"), encoding="utf-8") as f:
		doc = yaml.safe_load(f)
	values = {}
	for key, val in (doc.get("identifiers") or {}).items():
		values[key] = [str(v) for v in val] if isinstance(val, list) else [str(val)]
	values["mac"] = [str(doc["device"]["mac"])]
	return values


def expected_field(datum):
	"""The ground truth names HTTP fields as HTTP/1.1 does; the HTTP/2
	decoder reports them under http2.* with lower-case header names."""
	field = datum["field"]
	if (datum.get("tls") or {}).get("alpn") != "h2" or not field.startswith("http."):
		return field
	kind, sep, name = field.partition(":")
	kind = "http2" + kind[len("http"):]
	if kind == "http2.header":
		name = name.lower()
	return kind + sep + name


# Fields whose syntax percent-decodes their values before the engine sees them
# (as gzip is a body's): a url-encoded value there is reported raw.
DECODED_FIELDS = ("http.query:", "http.body.form:", "http.cookie:", "http.header:Cookie",
		  "http2.query:", "http2.body.form:", "http2.cookie:", "http2.header:cookie")


def encoding_matches(obs_encoding, datum):
	want = datum["encoding"]
	if obs_encoding == want:
		return True
	return want == "url" and obs_encoding == "raw" and expected_field(datum).startswith(DECODED_FIELDS)


def suite_label(datum):
	t = datum.get("tls") or {}
	label = "TLS %s %s %s" % (t.get("version", "?"), t.get("cipher", "?"),
				  "h2" if t.get("alpn") == "h2" else "h1")
	if "etm" in t:
		label += " etm" if t["etm"] else " mac-then-encrypt"
	if t.get("resumed"):
		label += " resumed-by-" + t["resumed"]
	if t.get("key_updates"):
		label += " after-%d-keyupdate%s" % (t["key_updates"], "s" if t["key_updates"] > 1 else "")
	return label


class Audit:
	def __init__(self, observations, flows, profile):
		self.obs = observations
		self.flows = {f["flow_id"]: f for f in flows}
		self.profile = profile
		self.by_tuple = {}
		for f in flows:
			if f.get("proto") == "tcp":
				self.by_tuple[(f["src_ip"], f["src_port"], f["dst_ip"], f["dst_port"])] = f

	def flow_of(self, datum):
		for src in PHONE_ADDRS:
			f = self.by_tuple.get((src, datum["src_port"], datum["dst_ip"], datum["dst_port"]))
			if f:
				return f
		return None

	def same_type(self, a, b):
		return a == b or bool(self.profile.get(a)) and self.profile.get(a) == self.profile.get(b)

	@staticmethod
	def value_matches(obs, datum):
		if datum["type"] in ("location", "app_list"):
			return obs["value"] == datum["text"]
		if datum["type"] == "phone":
			return obs["value"].lstrip("+").removeprefix("86")[-11:] == datum["value"][-11:]
		return obs["value"] == datum["value"]

	def differences(self, datum, obs, flow):
		"""What of obs differs from what the datum expects ([] = exact)."""
		wrong = []
		if not self.same_type(datum["type"], obs["type"]):
			wrong.append("type %s" % obs["type"])
		if not self.value_matches(obs, datum):
			wrong.append("value %s" % obs["value"])
		if not encoding_matches(obs["encoding"], datum):
			wrong.append("encoding %s" % obs["encoding"])
		if obs["field"] != expected_field(datum):
			wrong.append("field %s" % obs["field"])
		if obs["protocol"] != "tls-decrypted":
			wrong.append("protocol %s" % obs["protocol"])
		if flow is None or obs["flow_id"] != flow["flow_id"]:
			wrong.append("flow %s" % obs["flow_id"])
		# A datum repeated in a flow is one observation with a count and its
		# first and last packet (docs/output.md): the datum's packet must be
		# one of that range's ends or lie between them.
		first = obs.get("first_packet", obs["packet"])
		last = obs.get("last_packet", obs["packet"])
		if obs.get("count", 1) > 1:
			if not first <= datum["packet"] <= last:
				wrong.append("packets %s-%s" % (first, last))
		elif obs["packet"] != datum["packet"]:
			wrong.append("packet %s" % obs["packet"])
		if obs.get("echo"):
			wrong.append("echo")
		return wrong


def flow_tls_problems(flow):
	"""Why a TLS flow's "tls" object in flows.jsonl is not fully decrypted."""
	tls = flow.get("tls")
	if not isinstance(tls, dict):
		return ["no \"tls\" object in flows.jsonl"]
	problems = []
	if not tls.get("decrypted"):
		problems.append("not decrypted (reason %s)" % tls.get("reason"))
	for key in ("records_failed", "records_undecrypted"):
		if tls.get(key):
			problems.append("%s %s" % (key, tls[key]))
	if tls.get("gap"):
		problems.append("gap")
	return problems


def run_audit(privaudit, source, capture, keylog, out):
	cmd = [privaudit, "audit", "--device", os.path.join(source, "signatures/devices/lab-phone.yaml"),
	       "--signatures", os.path.join(source, "signatures"), "--show-values", "--quiet",
	       "--keylog", keylog, "--out", out, capture]
	r = subprocess.run(cmd, capture_output=True, text=True)
	# Exit 1 means violations found, 4 that not everything could be
	# verified (docs/cli.md); a sanitizer build also exits 1 on a finding
	# of its own, so its report on stderr counts as a failure.
	if r.returncode not in (0, 1, 4) or "Sanitizer" in r.stderr or "runtime error:" in r.stderr:
		sys.exit("privaudit exit %d: %s\n%s" % (r.returncode, " ".join(cmd), r.stderr[-3000:]))


def main():
	if len(sys.argv) not in (4, 5):
		print(__doc__, file=sys.stderr)
		return 2
	privaudit, source, capture = sys.argv[1:4]
	base = capture[:-len(".pcapng")] if capture.endswith(".pcapng") else capture
	keylog, truth_path = base + ".keylog", base + ".truth.jsonl"
	# No probing of --help for what to test: a privaudit that lost --keylog
	# (or is missing) fails the audit below, it does not narrow the check.
	if not os.access(privaudit, os.X_OK):
		print("FAIL: no privaudit binary at %s" % privaudit)
		return 1
	work = sys.argv[4] if len(sys.argv) == 5 else tempfile.mkdtemp(prefix="pa-tlscheck.")
	# privaudit refuses an output folder that is not empty: a fresh one.
	out = os.path.join(work, "audit")
	shutil.rmtree(out, ignore_errors=True)
	run_audit(privaudit, source, capture, keylog, out)

	truth = load_jsonl(truth_path)
	datums = [r for r in truth if r["record"] == "datum" and r["protocol"] == "https"]
	audit = Audit(load_jsonl(os.path.join(out, "observations.jsonl")),
		      load_jsonl(os.path.join(out, "flows.jsonl")), profile_values(source))
	if not datums:
		print("FAIL: the ground truth plants nothing inside TLS")
		return 1

	found = collections.Counter()
	planted = collections.Counter()
	by_field = collections.Counter()
	by_field_found = collections.Counter()
	used = collections.Counter()  # observation -> datums it accounted for (at most its count)
	misses = []
	for d in datums:
		flow = audit.flow_of(d)
		suite = suite_label(d)
		kind = expected_field(d).split(":", 1)[0]
		planted[suite] += 1
		by_field[kind] += 1
		hit = next((i for i, o in enumerate(audit.obs)
			    if used[i] < o.get("count", 1) and not audit.differences(d, o, flow)), None)
		if hit is not None:
			used[hit] += 1
			found[suite] += 1
			by_field_found[kind] += 1
			continue
		misses.append((d, flow))

	problems = 0
	for d, flow in misses:
		near = None
		for i, o in enumerate(audit.obs):
			if used[i] >= o.get("count", 1) or not audit.value_matches(o, d):
				continue
			w = audit.differences(d, o, flow)
			if near is None or len(w) < len(near):
				near = w
		where = "flow %s" % (flow["flow_id"] if flow else "NOT IN flows.jsonl")
		print("MISS %s: %s %s in %s (text %.40s) %s :%d packet %s; %s" % (
			suite_label(d), d["type"], d["encoding"], expected_field(d), d["text"], where,
			d["src_port"], d["packet"],
			"nearest observation differs in: " + ", ".join(near) if near else
			"no observation of this value at all"))
		problems += 1

	# Every TLS flow the phone opened: decrypted, no failed record.
	tls_flows = {}
	for d in datums:
		flow = audit.flow_of(d)
		if flow:
			tls_flows[flow["flow_id"]] = (flow, suite_label(d))
	for fid in sorted(tls_flows):
		flow, suite = tls_flows[fid]
		bad = flow_tls_problems(flow)
		if bad:
			problems += 1
			print("FLOW %d (%s :%d): %s" % (fid, suite, flow["src_port"], "; ".join(bad)))

	# Observations no datum accounts for: the same value again in a field
	# that contains a matched one (the whole body, a cookie by its name next
	# to the Cookie header) is expected; anything else in a decrypted flow
	# would be a value the planting never put there (garbage scanned).
	matched = {}
	for i in used:
		o = audit.obs[i]
		matched.setdefault((o["flow_id"], o["type"]), set()).add(o["value"])
	duplicates = 0
	for i, o in enumerate(audit.obs):
		if i in used:
			continue
		values = matched.get((o["flow_id"], o["type"]))
		if values and (o["value"] in values or o["type"] == "location"):
			duplicates += 1
			continue
		problems += 1
		print("EXTRA %s %s %s in %s flow %s packet %s value %.60s" % (
			o["source"], o["type"], o["encoding"], o["field"], o["flow_id"], o["packet"], o["value"]))

	total_found = sum(found.values())
	print("\nrecall per suite (found/planted):")
	for suite in sorted(planted):
		mark = "" if found[suite] == planted[suite] else "   <-- misses"
		print("  %-70s %3d/%-3d%s" % (suite, found[suite], planted[suite], mark))
	print("recall per field kind:")
	for kind in sorted(by_field):
		print("  %-20s %3d/%d" % (kind, by_field_found[kind], by_field[kind]))
	print("\n%s: %d of %d values planted inside TLS found (recall %.1f%%) in %d TLS flows; "
	      "%d suite/HTTP combinations; %d more observations of matched values in containing "
	      "fields; %d problems" % (
		      os.path.basename(capture), total_found, len(datums), 100.0 * total_found / len(datums),
		      len(tls_flows), len(planted), duplicates, problems))
	return 0 if problems == 0 else 1


if __name__ == "__main__":
	sys.exit(main())
