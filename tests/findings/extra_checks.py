"""The checks of tests/findings/check.py beyond the finding list: report.json,
the evidence bundle and `privaudit verify`, the consent moment (given and as
a marker datagram), CIDR overrides, and an audit without the key log."""
import collections
import datetime
import json
import os
import shutil
import struct
import subprocess

import expect

PROMISE_RULE = {"residency": "residency", "encryption": "encryption",
		"recipients": "undeclared-recipient", "scope": "beyond-scope",
		"data-types": "undeclared-type", "consent": "before-consent"}


def load_report(out):
	with open(os.path.join(out, "report.json")) as f:
		return json.load(f)


def load_findings(out):
	path = os.path.join(out, "findings.jsonl")
	with open(path) as f:
		return [json.loads(line) for line in f if line.strip()]


def check_report(label, out, ex, cap, fail):
	"""report.json agrees with findings.jsonl and decides the promises by its rules."""
	rep = load_report(out)
	found = load_findings(out)
	counts = collections.Counter(f["strength"] for f in found)
	fc = rep.get("finding_counts", {})
	if fc.get("conclusive") != counts["conclusive"] or fc.get("indicative") != counts["indicative"]:
		fail("%s: report.json finding_counts %s, findings.jsonl %s" % (label, fc, dict(counts)))
	if len(rep.get("findings", [])) != len(found):
		fail("%s: report.json lists %d findings, findings.jsonl %d" %
		     (label, len(rep.get("findings", [])), len(found)))
	for f in found:
		if f["rule"] == "residency" and f["data_type"]:
			geo = f.get("geo") or {}
			pl = geo.get("plausibility") or {}
			if f["strength"] == "indicative":
				# Lowered by physics: the numbers must be in the finding.
				if pl.get("verdict") != "contradicted" or pl.get("rtt_ms") is None or \
				   pl.get("bound_ms") is None or not pl["rtt_ms"] < pl["bound_ms"]:
					fail("%s: %s is an indicative residency finding without contradicting "
					     "physics: %s" % (label, f["id"], pl))
				elif "RTT" not in f["reason"] or "%.1f" % pl["rtt_ms"] not in f["reason"]:
					fail("%s: %s reason does not show the RTT: %s" % (label, f["id"], f["reason"]))
			elif pl.get("verdict") == "contradicted":
				fail("%s: %s is conclusive although physics contradicts %s" %
				     (label, f["id"], geo.get("country")))
		if not f.get("clause") or not f["clause"].get("quote"):
			fail("%s: %s quotes no clause" % (label, f["id"]))
	by_rule = collections.defaultdict(collections.Counter)
	for f in found:
		by_rule[f["rule"]][f["strength"]] += 1
	uninspected = rep.get("uninspected", {})
	unread = uninspected.get("encrypted_up", 0) + uninspected.get("gap_up", 0) + \
		uninspected.get("truncated_up", 0)
	for p in rep.get("promises", []):
		rule = PROMISE_RULE.get(p["promise"])
		if not rule:
			continue
		c, i = by_rule[rule]["conclusive"], by_rule[rule]["indicative"]
		if c:
			want = "contradicted"
		elif i:
			want = "not-verifiable"
		elif rule == "before-consent" and not rep.get("consent_at"):
			want = "not-verifiable"
		elif rule != "residency" and unread:
			want = "not-verifiable"
		else:
			want = None  # residency: kept unless unread bytes went abroad (checked elsewhere)
		if want and p["status"] != want:
			fail("%s: promise %s is %s, expected %s (%s)" % (label, p["promise"], p["status"], want,
									    p["why"]))
		if rule == "residency" and not c and not i and not unread and p["status"] != "kept":
			fail("%s: promise residency is %s with nothing against it: %s" %
			     (label, p["status"], p["why"]))
	if cap.consent is not None and not rep.get("consent_at"):
		fail("%s: report.json has no consent_at" % label)


def packet_counts(paths):
	"""{path: packets} as Wireshark's own reader (capinfos) counts them; one call."""
	out = {}
	for i in range(0, len(paths), 64):
		r = subprocess.run(["capinfos", "-c", "-M", "-T", "-r"] + paths[i:i + 64],
				   capture_output=True, text=True, timeout=300)
		for line in r.stdout.splitlines():
			parts = line.split("\t")
			if len(parts) == 2 and parts[1].strip().isdigit():
				out[parts[0]] = int(parts[1])
	return out


def check_evidence(label, env, out, inputs, packets, fail, res, tshark_files=8):
	"""Each evidence file opens with Wireshark's reader and holds the cited
	packets' bytes; the first few are also dissected by tshark."""
	import labpcap
	checked = files = 0
	found = load_findings(out)
	paths = [os.path.join(out, f["evidence"]) for f in found]
	counts = packet_counts([p for p in paths if os.path.exists(p)])
	for f, path in zip(found, paths):
		if not os.path.exists(path):
			fail("%s: %s missing" % (label, f["evidence"]))
			continue
		files += 1
		ev = labpcap.read_packets(path)
		if counts.get(path) != len(ev) or not ev:
			fail("%s: capinfos counts %s packets in %s, the file holds %d" %
			     (label, counts.get(path), path, len(ev)))
		if files <= tshark_files:
			r = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.number"],
					   capture_output=True, text=True, timeout=120)
			if r.returncode != 0 or len(r.stdout.split()) != len(ev):
				fail("%s: tshark reads %d packets of %s (rc %d), the file holds %d: %s" %
				     (label, len(r.stdout.split()), path, r.returncode, len(ev), r.stderr[-300:]))
		# The evidence keeps microseconds; the input may have nanoseconds.
		held = collections.defaultdict(list)
		for p in ev:
			held[p.data].append(p.ts)
		for n in f["packets"]:
			if not 1 <= n <= len(packets):
				fail("%s: %s cites packet %d, the input has %d" % (label, f["id"], n, len(packets)))
				continue
			p = packets[n - 1]
			if not any(abs(t - p.ts) < 2e-6 for t in held.get(p.data, [])):
				fail("%s: %s cites packet %d, which is not in %s byte for byte" %
				     (label, f["id"], n, f["evidence"]))
			checked += 1
		if not f["packets"]:
			fail("%s: %s cites no packet" % (label, f["id"]))
	res["evidence"] = {"files": files, "cited_packets_checked": checked,
			   "tshark_dissected": min(files, tshark_files)}


def verify(env, d):
	r = subprocess.run([env.args.privaudit, "verify", d], capture_output=True, text=True,
			   timeout=300)
	return r.returncode, r.stdout + r.stderr


def check_verify(env, cap, work, fail):
	"""privaudit verify: passes, then CHANGED after a flipped byte, MISSING after a
	deletion. The audit reads copies of its inputs, so that edits to the source
	tree while the test runs do not count as tampering."""
	inputs = os.path.join(work, "verify-inputs")
	shutil.rmtree(inputs, ignore_errors=True)
	os.makedirs(inputs)
	shutil.copytree(os.path.join(env.src, "signatures"), os.path.join(inputs, "signatures"))
	copies = {}
	for path in [cap.path, cap.keylog, env.policy_path("lanxin"), env.device] + env.geoip:
		if path:
			copies[path] = shutil.copy(path, inputs)
	d = os.path.join(work, "verify-copy")
	shutil.rmtree(d, ignore_errors=True)
	cmd = [env.args.privaudit, "audit", "--quiet", "--policy", copies[env.policy_path("lanxin")],
	       "--device", copies[env.device], "--signatures", os.path.join(inputs, "signatures"),
	       "--out", d]
	for g in env.geoip:
		cmd += ["--geoip", copies[g]]
	if cap.keylog:
		cmd += ["--keylog", copies[cap.keylog]]
	r = subprocess.run(cmd + [copies[cap.path]], capture_output=True, text=True, timeout=600)
	res = {"audit_rc": r.returncode}
	if r.returncode != 1:
		fail("verify: audit of the copied inputs exited %d: %s" % (r.returncode, r.stderr[-500:]))
		return res
	with open(os.path.join(d, "manifest.json")) as f:
		manifest = json.load(f)
	roles = collections.Counter(e["role"] for e in manifest["files"])
	res["manifest_roles"] = dict(roles)
	for role in ("capture", "policy", "device", "geoip", "evidence"):
		if not roles[role]:
			fail("verify: manifest.json lists no %s file: %s" % (role, dict(roles)))
	for e in manifest["files"]:
		if not e["relative"] and not os.path.isabs(e["resolved"]):
			fail("verify: %s has no absolute resolved path" % e["path"])
		if e["role"] == "geoip" and not e.get("meta"):
			fail("verify: GeoIP entry %s carries no metadata" % e["path"])
	rc, text = verify(env, d)
	res["intact"] = rc
	if rc != 0 or "0 changed, 0 missing" not in text:
		fail("verify: an intact bundle fails (rc %d): %s" % (rc, text[-500:]))
	ev = sorted(os.listdir(os.path.join(d, "evidence")))
	if len(ev) < 2:
		fail("verify: fewer than two evidence files to tamper with")
		return res
	victim = os.path.join(d, "evidence", ev[0])
	with open(victim, "r+b") as f:
		blob = bytearray(f.read())
		pos = len(blob) // 2
		blob[pos] ^= 0x01
		f.seek(0)
		f.write(blob)
	rc, text = verify(env, d)
	res["flipped"] = rc
	line = [l for l in text.splitlines() if ev[0] in l]
	if rc != 1 or not line or "CHANGED" not in line[0]:
		fail("verify: a flipped byte in %s gives rc %d: %s" % (ev[0], rc, text[-500:]))
	blob[pos] ^= 0x01
	with open(victim, "wb") as f:
		f.write(blob)
	os.unlink(os.path.join(d, "evidence", ev[1]))
	rc, text = verify(env, d)
	res["deleted"] = rc
	line = [l for l in text.splitlines() if ev[1] in l]
	if rc != 1 or not line or "MISSING" not in line[0] or "CHANGED" in text:
		fail("verify: a deleted %s gives rc %d: %s" % (ev[1], rc, text[-500:]))
	return res


# ---- consent ----------------------------------------------------------------

def pcapng_blocks(blob):
	"""[(type, bytes of the whole block)] of a little-endian pcapng file."""
	out, off = [], 0
	while off + 12 <= len(blob):
		btype, blen = struct.unpack_from("<II", blob, off)
		if blen < 12 or off + blen > len(blob):
			raise ValueError("truncated pcapng block at %d" % off)
		out.append((btype, blob[off:off + blen]))
		off += blen
	return out


def ipv4_checksum(hdr):
	s = sum(struct.unpack("!10H", hdr))
	while s >> 16:
		s = (s & 0xFFFF) + (s >> 16)
	return ~s & 0xFFFF


def consent_frame(text):
	"""Ethernet + IPv4 + UDP 127.0.0.1:9 -> 127.0.0.1:9 carrying text."""
	payload = text.encode()
	udp = struct.pack("!HHHH", 9, 9, 8 + len(payload), 0) + payload
	ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
				   bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])))
	struct.pack_into("!H", ip, 10, ipv4_checksum(bytes(ip)))
	eth = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00"
	return eth + bytes(ip) + udp


def insert_marker(src, dst, ts):
	"""Copy of the capture src with a PRIVAUDIT-CONSENT datagram at ts (seconds),
	as an Enhanced Packet Block on interface 0, before the first later packet.
	Returns the marker's packet number."""
	with open(src, "rb") as f:
		blocks = pcapng_blocks(f.read())
	tsresol = 1e-6
	for btype, b in blocks:
		if btype == 1:  # IDB: if_tsresol (option 9)
			off = 16
			while off + 4 <= len(b) - 4:
				code, length = struct.unpack_from("<HH", b, off + 0)
				if code == 0:
					break
				if code == 9:
					v = b[off + 4]
					tsresol = 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
				off += 4 + ((length + 3) & ~3)
			break
	frame = consent_frame("PRIVAUDIT-CONSENT %s" % expect_iso(ts))
	pad = (4 - len(frame) % 4) % 4
	ticks = int(round(ts / tsresol))
	blen = 32 + len(frame) + pad
	epb = struct.pack("<IIIIIII", 6, blen, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(frame),
			  len(frame)) + frame + b"\0" * pad + struct.pack("<I", blen)
	out, number, inserted = [], 0, None
	for btype, b in blocks:
		if btype == 6 and inserted is None:
			hi, lo = struct.unpack_from("<II", b, 12)
			if ((hi << 32) | lo) * tsresol > ts:
				out.append(epb)
				number += 1
				inserted = number
		if btype in (3, 6):
			number += 1
		out.append(b)
	if inserted is None:
		out.append(epb)
		inserted = number + 1
	with open(dst, "wb") as f:
		f.write(b"".join(out))
	return inserted


def expect_iso(ts):
	import datetime
	return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
		"%Y-%m-%dT%H:%M:%S.%fZ")


def before_consent(out):
	return {(f["recipient"]["id"], f["data_type"]): f["strength"] for f in load_findings(out)
		if f["rule"] == "before-consent"}


def check_consent(env, cap, work, fail):
	"""A consent moment between two datums: only the earlier ones are findings."""
	keylog = cap.keylog
	times = sorted({d["ts"] for d in cap.datums if d["protocol"] != "https" or keylog})
	# Split where both sides hold several datums, away from the lab's own moment.
	i = len(times) // 2
	moment = (times[i - 1] + times[i]) / 2
	ex = cap.expected("lanxin", keylog, moment)
	want = {(k[1], k[2]): e["strength"] for k, e in ex.findings.items() if k[0] == "before-consent"}
	everything = {(k[1], k[2]) for k in cap.expected("lanxin", keylog, None).findings if k[2]}
	res = {"moment": expect_iso(moment), "expected_before": len(want),
	       "pairs_with_data": len(everything)}
	if not want or len(want) >= len(everything):
		fail("consent: the chosen moment does not split the datums (%d of %d)" %
		     (len(want), len(everything)))
	out = os.path.join(work, "consent-at")
	env.audit(out, [cap.path], "lanxin", keylog=keylog, consent=moment)
	got = before_consent(out)
	res["raised_before_given"] = len(got)
	if got != want:
		fail("consent: --consent-at %s: before-consent findings %s, expected %s" %
		     (expect_iso(moment), sorted(got), sorted(want)))
	rep = load_report(out)
	if not rep.get("consent_at", "").startswith(expect_iso(moment)[:23]):
		fail("consent: report.json consent_at %s, given %s" % (rep.get("consent_at"),
								      expect_iso(moment)))

	marked = os.path.join(work, "consent-marker.pcapng")
	number = insert_marker(cap.path, marked, moment)
	out = os.path.join(work, "consent-marker")
	env.audit(out, [marked], "lanxin", keylog=keylog)
	got = before_consent(out)
	res["marker_packet"] = number
	res["raised_before_marker"] = len(got)
	if got != want:
		fail("consent: marker at packet %d: before-consent findings %s, expected %s" %
		     (number, sorted(got), sorted(want)))
	rep = load_report(out)
	if not rep.get("consent_at", "") or rep["consent_at"][:23] != expect_iso(moment)[:23]:
		fail("consent: marker at %s, report.json consent_at %s" % (expect_iso(moment),
									   rep.get("consent_at")))
	promise = next((p for p in rep.get("promises", []) if p["promise"] == "consent"), {})
	if promise.get("status") != "contradicted":
		fail("consent: promise with the marker is %s" % promise.get("status"))

	# Without any consent moment nothing can be before it: no finding, and the
	# promise cannot be verified.
	out = os.path.join(work, "consent-none")
	env.audit(out, [cap.path], "lanxin", keylog=keylog)
	got = before_consent(out)
	rep = load_report(out)
	promise = next((p for p in rep.get("promises", []) if p["promise"] == "consent"), {})
	res["raised_without_moment"] = len(got)
	if got or promise.get("status") != "not-verifiable":
		fail("consent: without a moment %d before-consent findings, promise %s" %
		     (len(got), promise.get("status")))
	return res


# ---- overrides and the key log ---------------------------------------------

OVERRIDES = """# lab ranges an auditor knows better than the GeoIP database
47.75.10.10/32 CN      # the Hong Kong OSS endpoint, declared mainland
2600:1f00::/32 CN      # the Firebase logging host's IPv6 range
39.156.66.20 US        # the first party's address, claimed abroad
"""


def check_overrides(env, cap, work, fail, compare):
	path = os.path.join(work, "overrides.txt")
	with open(path, "w") as f:
		f.write(OVERRIDES)
	table = {"47.75.10.10": "CN", "39.156.66.20": "US"}

	def country_of(ip):
		if ip in table:
			return table[ip]
		if ip.lower().startswith("2600:1f00:"):
			return "CN"
		return env.country(cap.truth_countries, ip)

	keylog = cap.keylog
	out = os.path.join(work, "overrides")
	rc = env.audit(out, [cap.path], "lanhu", keylog=keylog, consent=cap.consent,
		       extra=["--country-overrides", path])
	cap.resolve_types(out)
	ex = cap.expected("lanhu", keylog, cap.consent, country_of=country_of)
	found = {}
	for f in load_findings(out):
		found[(f["rule"], f["recipient"]["id"], f["data_type"] or "")] = f
	res = compare("overrides", ex, found, rc, out)
	rep = load_report(out)
	if rep.get("plausibility", {}).get("overrides") != 3:
		fail("overrides: report.json counts %s ranges, the file has 3" %
		     rep.get("plausibility", {}).get("overrides"))
	for f in found.values():
		if f["rule"] == "residency" and "first-party" == f["recipient"]["id"]:
			geo = f.get("geo") or {}
			if geo.get("source") != "override" or geo.get("country") != "US":
				fail("overrides: %s does not name the override: %s" % (f["id"], geo))
	res["residency"] = sorted("%s/%s/%s" % (k[1], k[2], f["strength"]) for k, f in found.items()
				  if k[0] == "residency")
	bad = open(os.path.join(work, "overrides-bad.txt"), "w")
	bad.write("10.0.0.0/33 CN\nnot-an-address XX\n")
	bad.close()
	r = subprocess.run([env.args.privaudit, "audit", "--quiet", "--policy", env.policy_path("lanhu"),
			    "--country-overrides", os.path.join(work, "overrides-bad.txt"),
			    "--out", os.path.join(work, "overrides-bad"), cap.path],
			   capture_output=True, text=True, timeout=300)
	res["bad_file_rc"] = r.returncode
	if r.returncode not in (2,) or "overrides-bad.txt:1" not in r.stderr or \
	   "overrides-bad.txt:2" not in r.stderr:
		fail("overrides: a bad file gives rc %d and %r" % (r.returncode, r.stderr[-400:]))
	return res


UNREAD_CAUSES = ("encrypted", "gap", "truncated", "unparsed", "conflict")


def check_coverage(label, env, out, rep, policy_name, consent, fail, res):
	"""Each promise's coverage against flows.jsonl, judged here without
	privaudit's code: the flows with unread device-side bytes that could hide
	a contradiction of the promise (docs/findings.md, "Coverage"). A promise
	with such a flow is never kept; one without is never "not verifiable"
	for coverage; the flow counts match where flows.jsonl tells them apart."""
	policy = expect.Policy(env.policy_path(policy_name))
	flows = []
	with open(os.path.join(out, "flows.jsonl")) as f:
		flows = [json.loads(line) for line in f if line.strip()]
	unread = [fl for fl in flows if fl["device_side"] != "unknown" and
		  sum((fl["inspected_up"] or {}).get(k, 0) for k in UNREAD_CAUSES)]

	def kind(fl):
		return expect.recipient(policy, env.catalogue, fl["hostname"] or "", fl["dst_ip"])[1]

	def started_before_consent(fl):
		return consent is None or \
			datetime.datetime.fromisoformat(fl["ts_start"].replace("Z", "+00:00")).timestamp() < consent

	in_scope = {
		"residency": lambda fl: expect.jurisdiction_word(fl) not in policy.allowed,
		"recipients": lambda fl: kind(fl) in ("mentioned", "catalogued", "unknown"),
		"scope": lambda fl: kind(fl) in ("third-party", "processor"),
		"data-types": lambda fl: True,
		"consent": started_before_consent,
	}
	counted = {}
	for p in rep.get("promises", []):
		name = p["promise"]
		if name not in in_scope:
			continue
		n = sum(1 for fl in unread if in_scope[name](fl))
		counted[name] = n
		cov = p.get("coverage", {})
		if n and p["status"] == "kept":
			fail("%s: promise %s kept although %d flow(s) that could contradict it were not "
			     "read" % (label, name, n))
		if cov.get("flows") != n:
			fail("%s: promise %s coverage counts %s flow(s), flows.jsonl %d" %
			     (label, name, cov.get("flows"), n))
		if cov.get("complete") and n:
			fail("%s: promise %s coverage complete with %d unread flow(s)" % (label, name, n))
	res["coverage_flows"] = counted


def check_no_keylog(env, cap, work, fail, compare):
	"""Without the key log, TLS datums stay unseen and are counted as not inspected."""
	out = os.path.join(work, "no-keylog")
	rc = env.audit(out, [cap.path], "lanhu", consent=cap.consent)
	cap.resolve_types(out)
	ex = cap.expected("lanhu", None, cap.consent)
	found = {}
	for f in load_findings(out):
		found[(f["rule"], f["recipient"]["id"], f["data_type"] or "")] = f
	res = compare("no-keylog", ex, found, rc, out)
	rep = load_report(out)
	un = rep.get("uninspected", {})
	hidden = [d for d in cap.datums if d["protocol"] == "https"]
	res["https_datums_hidden"] = len(hidden)
	res["uninspected"] = un
	if hidden and (not un.get("flows") or not un.get("encrypted_up")):
		fail("no-keylog: %d datums inside TLS, yet uninspected says %s" % (len(hidden), un))
	check_coverage("no-keylog", env, out, rep, "lanhu", cap.consent, fail, res)

	# A lower threshold turns the unreadable upload abroad into an
	# "unverified transfer abroad" (indicative residency, no data type).
	out = os.path.join(work, "no-keylog-threshold")
	rc = env.audit(out, [cap.path], "lanhu", consent=cap.consent,
		       extra=["--upload-threshold", str(UNVERIFIED_THRESHOLD)])
	ex = cap.expected("lanhu", None, cap.consent, threshold=UNVERIFIED_THRESHOLD)
	found = {}
	for f in load_findings(out):
		found[(f["rule"], f["recipient"]["id"], f["data_type"] or "")] = f
	sub = compare("no-keylog-threshold", ex, found, rc, out)
	transfers = sorted(k[1] for k in found if k[0] == "residency" and not k[2])
	res["unverified_transfers"] = transfers
	if not transfers:
		fail("no-keylog-threshold: no unverified transfer abroad with threshold %d" %
		     UNVERIFIED_THRESHOLD)
	res["threshold_run"] = {k: sub[k] for k in ("expected", "raised", "missing", "extra")}
	return res


# Below the Hong Kong OSS upload of demo-lanhu-leaky, above its small TLS flows.
UNVERIFIED_THRESHOLD = 16384
