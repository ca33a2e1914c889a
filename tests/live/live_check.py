#!/usr/bin/env python3
"""live_check.py — checks of a `privaudit live` run for tests/live/live-test.sh.

  ring-vs-phone RINGDIR PHONE.pcapng
      the ring files, in order, hold exactly the frames of the capture taken
      inside the phone: same count, same bytes (as a multiset), none twice;
      the consent marker packets privaudit adds are set aside and counted,
      and so is link control (ARP, ICMPv6 ND/MLD: the kernels send it on
      their own timers, also before the phone's tap starts or after it
      stopped, as tools/lab/compare-captures explains)
  manifest RINGDIR [--current FILE]
      every closed ring file is listed once in manifest.jsonl with its size,
      SHA-256 and packet count, packet numbers run on from file to file; only
      FILE (the file being written when the run was killed) may be unlisted
  latency STAMPED FINDINGS.jsonl STOP_TIME
      every finding reached stdout before STOP_TIME (while capturing, not
      when the capture stopped) and not before the packet that raised it;
      how long after that packet is measured and reported (median, worst),
      not bounded: on a loaded machine any bound would be a guess
  all-shown STAMPED SUMMARY [--wait SECONDS]
      every finding of an audit's summary (privaudit audit's stdout) is on
      the live stdout; with --wait, polls until it is, failing after
      SECONDS with the findings still missing
  same-findings LIVE_OUT OFFLINE_OUT
      both findings.jsonl hold the same findings (rule, strength, data type,
      recipient, jurisdiction, first seen, count)
  shown-in STAMPED OFFLINE_SUMMARY
      every finding line shown live is in the offline audit's summary
Exit 0 when the check holds, 1 with the reasons on stdout otherwise.
"""
import collections
import glob
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "lab"))
import labpcap  # noqa: E402



def ring_files(ringdir):
	return sorted(glob.glob(os.path.join(ringdir, "capture-*.pcapng")))


def ring_vs_phone(ringdir, phone_path):
	files = ring_files(ringdir)
	ring, markers, control = [], 0, [0, 0]
	for path in files:
		for p in labpcap.read_packets(path):
			if labpcap.is_consent_marker(p.data):
				markers += 1
			elif labpcap.is_link_control(p.data):
				control[0] += 1
			else:
				ring.append(p.data)
	phone = []
	for p in labpcap.read_packets(phone_path):
		if labpcap.is_link_control(p.data):
			control[1] += 1
		else:
			phone.append(p.data)
	a, b = collections.Counter(phone), collections.Counter(ring)
	missing, extra = a - b, b - a
	print("ring files: %d  ring packets: %d (+%d consent markers)  phone packets: %d  missing in ring: %d  "
	      "extra in ring: %d  (link control left out: ring %d, phone %d)"
	      % (len(files), len(ring), markers, len(phone), sum(missing.values()), sum(extra.values()),
		 control[0], control[1]))
	for frame, n in list(missing.items())[:10]:
		print("  missing x%d: %s" % (n, labpcap.describe(frame)))
	for frame, n in list(extra.items())[:10]:
		print("  extra   x%d: %s" % (n, labpcap.describe(frame)))
	return 0 if phone and not missing and not extra and len(ring) == len(phone) else 1


def sha256(path):
	h = hashlib.sha256()
	with open(path, "rb") as f:
		h.update(f.read())
	return h.hexdigest()


def manifest(ringdir, current=None):
	problems = []
	path = os.path.join(ringdir, "manifest.jsonl")
	lines = []
	if os.path.exists(path):
		with open(path, encoding="utf-8") as f:
			lines = [json.loads(line) for line in f if line.strip()]
	listed = {}
	next_number = None
	for m in lines:
		if m.get("deleted"):
			continue
		name = m["file"]
		if name in listed:
			problems.append("%s listed twice" % name)
		listed[name] = m
		full = os.path.join(ringdir, name)
		if not os.path.exists(full):
			problems.append("%s listed but missing" % name)
			continue
		if sha256(full) != m["sha256"]:
			problems.append("%s: SHA-256 differs from the manifest" % name)
		if os.path.getsize(full) != m["bytes"]:
			problems.append("%s: %d bytes, manifest says %d" % (name, os.path.getsize(full), m["bytes"]))
		packets = len(labpcap.read_packets(full))
		if packets != m["packets"]:
			problems.append("%s: %d packets, manifest says %d" % (name, packets, m["packets"]))
		first, last = m["packet_numbers"]
		if next_number is not None and first != next_number:
			problems.append("%s: packet numbers start at %d, expected %d" % (name, first, next_number))
		if last - first + 1 != m["packets"] + m.get("packets_lost", 0):
			problems.append("%s: numbers %d..%d for %d packets" % (name, first, last, m["packets"]))
		next_number = last + 1
	for full in ring_files(ringdir):
		name = os.path.basename(full)
		if name not in listed and name != current:
			problems.append("%s is not in the manifest" % name)
	if current and current in listed:
		problems.append("%s (being written) is in the manifest" % current)
	print("manifest: %d closed file(s) checked, hashes and packet counts %s"
	      % (len(listed), "match" if not problems else "DIFFER"))
	for p in problems:
		print("  " + p)
	return 1 if problems or not listed else 0


def read_stamped(path):
	out = []
	with open(path, encoding="utf-8") as f:
		for line in f:
			ts, _, text = line.rstrip("\n").partition("\t")
			out.append((float(ts), text))
	return out


def finding_lines(stamped):
	"""(arrival, id, text without the id) of each 'finding ...' stdout line."""
	out = []
	for ts, text in stamped:
		if text.startswith("finding "):
			parts = text[len("finding "):].split(None, 1)
			out.append((ts, parts[0], parts[1] if len(parts) > 1 else ""))
	return out


def iso_to_epoch(s):
	import datetime
	return datetime.datetime.strptime(s.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def latency(stamped, findings_path, stop_time):
	findings = {}
	with open(findings_path, encoding="utf-8") as f:
		for line in f:
			j = json.loads(line)
			findings[j["id"]] = j
	shown = finding_lines(read_stamped(stamped))
	delays, late, at_end = [], [], []
	for arrival, fid, text in shown:
		f = findings.get(fid)
		if f is None:
			late.append("%s shown but not in findings.jsonl" % fid)
			continue
		if arrival >= stop_time:
			at_end.append(fid)
			continue
		# The packet that raised it: its last observation when the finding
		# needs several, else the first (first_seen).
		raised = iso_to_epoch(f["first_seen"])
		obs = [iso_to_epoch(o["ts"]) for o in f.get("observations", [])]
		if obs:
			raised = max(t for t in obs if t <= arrival) if any(t <= arrival for t in obs) else raised
		d = arrival - raised
		delays.append(d)
		# Both times come from the same clock (packet time stamps and the
		# stamper's are CLOCK_REALTIME): shown before its packet means the
		# finding names the wrong packet.
		if d < -0.5:
			late.append("%s shown %.3f s before its packet: %s" % (fid, -d, text))
	live_ids = {fid for _, fid, _ in shown}
	unshown = [fid for fid in findings if fid not in live_ids]
	delays.sort()
	spread = "median %.3f s, worst %.3f s after the packet" % (
		delays[len(delays) // 2], delays[-1]) if delays else "none"
	print("findings: %d in findings.jsonl, %d shown while capturing (%s), %d shown at the end%s, %d never shown"
	      % (len(findings), len(shown) - len(at_end), spread, len(at_end),
		 " (%s)" % ", ".join(at_end) if at_end else "", len(unshown)))
	for p in late:
		print("  " + p)
	for fid in unshown:
		print("  never shown: %s" % fid)
	for fid in at_end:
		print("  shown only when the capture stopped: %s" % fid)
	return 1 if late or unshown or at_end or not shown else 0


def finding_key(j):
	rec = j.get("recipient") or {}
	return (j["rule"], j["strength"], j.get("data_type"), rec.get("id") or rec.get("name"),
		j.get("jurisdiction"), j.get("jurisdiction_country"), j.get("first_seen"), j.get("count"))


def same_findings(a_dir, b_dir):
	def load(d):
		with open(os.path.join(d, "findings.jsonl"), encoding="utf-8") as f:
			return collections.Counter(finding_key(json.loads(line)) for line in f)
	a, b = load(a_dir), load(b_dir)
	print("findings: live %d, offline over the ring %d, only live %d, only offline %d"
	      % (sum(a.values()), sum(b.values()), sum((a - b).values()), sum((b - a).values())))
	for k in (a - b):
		print("  only live:    %s" % (k,))
	for k in (b - a):
		print("  only offline: %s" % (k,))
	return 0 if a == b and a else 1


def summary_findings(summary_path):
	"""The finding lines of privaudit audit's summary ("F0001 text"), as text."""
	with open(summary_path, encoding="utf-8") as f:
		offline = []
		for line in f:
			parts = line.strip().split(None, 1)
			if len(parts) == 2 and parts[0].startswith("F") and parts[0][1:].isdigit():
				offline.append(" ".join(parts[1].split()))
	return offline


def all_shown(stamped, summary_path, wait=None):
	import time
	expected = collections.Counter(summary_findings(summary_path))
	deadline = time.monotonic() + (wait or 0)
	while True:
		shown = collections.Counter(" ".join(text.split()) for _, _, text in
					    finding_lines(read_stamped(stamped)))
		missing = expected - shown
		if not missing and expected:
			print("all %d findings of the audit shown live" % sum(expected.values()))
			return 0
		if time.monotonic() >= deadline:
			break
		time.sleep(0.1)
	print("findings of the audit shown live: %d of %d%s" % (
		sum((expected - missing).values()), sum(expected.values()),
		" after waiting %.0f s" % wait if wait else ""))
	for text in missing:
		print("  not shown live: %s" % text)
	return 1


def shown_in(stamped, summary_path):
	offline = set(summary_findings(summary_path))
	shown = finding_lines(read_stamped(stamped))
	missing = [(fid, text) for _, fid, text in shown if " ".join(text.split()) not in offline]
	print("findings shown live before the kill: %d, found again offline: %d" % (len(shown), len(shown) - len(missing)))
	for fid, text in missing:
		print("  not found offline: %s %s" % (fid, text))
	return 1 if missing or not shown else 0


def main(argv):
	if len(argv) < 2:
		print(__doc__, file=sys.stderr)
		return 2
	cmd, args = argv[1], argv[2:]
	if cmd == "ring-vs-phone":
		return ring_vs_phone(*args)
	if cmd == "manifest":
		current = None
		if "--current" in args:
			i = args.index("--current")
			current = args[i + 1]
			args = args[:i] + args[i + 2:]
		return manifest(args[0], current)
	if cmd == "latency":
		return latency(args[0], args[1], float(args[2]))
	if cmd == "all-shown":
		wait = float(args[args.index("--wait") + 1]) if "--wait" in args else None
		return all_shown(args[0], args[1], wait)
	if cmd == "same-findings":
		return same_findings(*args)
	if cmd == "shown-in":
		return shown_in(*args)
	print(__doc__, file=sys.stderr)
	return 2


if __name__ == "__main__":
	sys.exit(main(sys.argv))
