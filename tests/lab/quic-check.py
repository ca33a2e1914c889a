#!/usr/bin/env python3
"""quic-check.py — does `privaudit audit --keylog` read what the lab sent over
QUIC: every value planted in HTTP/3 in the right field, flow and packet,
and the same decrypted stream bytes as tshark? (tests/lab, labels lab, quic)

usage: quic-check.py PRIVAUDIT SOURCE_DIR CAPTURE.pcapng [WORK_DIR]

CAPTURE.keylog and CAPTURE.truth.jsonl sit next to the capture (as
tools/lab/run-scenario writes them). Runs the audit with the lab phone's
profile, --show-values and the key log, then:

recall   each datum of protocol "http3" must have an observation with the
         same type (or one with the same profile value), value, encoding,
         field (spelled http3.*, header names lower case, as HTTP/3 sends
         them), protocol "quic-decrypted", flow and packet. A migrated
         connection may be one flow or several: the datum's flow is the
         one with its source port. Misses are printed with the QUIC version,
         suite, key update generation, migrations and stream that carried
         them; recall per version x suite and per field kind after that.
flows    every QUIC flow of the capture must say in flows.jsonl's "quic"
         object that it was decrypted, with no packets_failed,
         packets_undecrypted (or packets_unopened) or packets_malformed.
bytes    per connection and direction, the STREAM bytes privaudit delivered
         in order ("quic".stream_bytes of its flows) must equal the
         decrypted stream bytes of tools/lab/quic-stream-bytes.py (tshark,
         or the lab's own decryption for a version tshark does not know);
         where a flow lists its streams ("quic".streams: id, sender,
         bytes, sha256), each stream's digest must be equal too.
extra    observations in QUIC flows that no planted value explains fail.

Exit 0: all of the above hold; 1: otherwise; 77 (skipped): this privaudit
decrypts no QUIC at all (no flow with a decrypted "quic" object and no
quic-decrypted observation) — it is judged by what the audit did, never by
its --help, and turns on by itself once QUIC decryption lands.
"""
import collections
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name, path):
	spec = importlib.util.spec_from_file_location(name, path)
	mod = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(mod)
	return mod


tls_check = load("tls_check", os.path.join(HERE, "tls-check.py"))


def expected_field(datum):
	"""The ground truth names fields as HTTP/1.1 does; the HTTP/3 decoder
	reports them under http3.* with lower-case header names."""
	field = datum["field"]
	if not field.startswith("http."):
		return field
	kind, sep, name = field.partition(":")
	kind = "http3" + kind[len("http"):]
	if kind == "http3.header":
		name = name.lower()
	return kind + sep + name


DECODED = tuple("http3" + f[len("http"):] if not f.startswith("http2") else f
		for f in tls_check.DECODED_FIELDS if f.startswith("http.")) + ("http3.header:cookie",)


def encoding_matches(obs_encoding, datum):
	"""Equal, or where the bytes cannot tell them apart (the conventions of
	tests/accuracy/check.py): a gzip body is undone before scanning, so the
	encoding is what was done to the value itself; unpadded base64url with
	neither '-' nor '_' is the same text as base64; a percent-encoded value
	in a query, form or cookie is decoded with its field."""
	want = datum["encoding"]
	if want.startswith("gzip+"):
		want = want[len("gzip+"):]
	if obs_encoding == want:
		return True
	if want == "base64url" and obs_encoding == "base64" and not any(ch in datum["text"] for ch in "-_"):
		return True
	return want == "url" and obs_encoding == "raw" and expected_field(datum).startswith(DECODED)


def label(datum):
	q = datum.get("quic") or {}
	s = "QUIC %s %s" % (q.get("version", "?"), q.get("cipher", "?"))
	if q.get("key_updates"):
		s += " after-%d-keyupdate%s" % (q["key_updates"], "s" if q["key_updates"] > 1 else "")
	if q.get("migrations"):
		s += " after-%d-migration%s" % (q["migrations"], "s" if q["migrations"] > 1 else "")
	if q.get("retry"):
		s += " after-retry"
	return s


class Audit(tls_check.Audit):
	def __init__(self, observations, flows, profile):
		super().__init__(observations, flows, profile)
		self.udp = {}
		for f in flows:
			if f.get("proto") == "udp":
				self.udp[(f["src_ip"], f["src_port"], f["dst_ip"], f["dst_port"])] = f

	def flow_of(self, datum):
		for src in tls_check.PHONE_ADDRS:
			f = self.udp.get((src, datum["src_port"], datum["dst_ip"], datum["dst_port"]))
			if f:
				return f
		return None

	def differences(self, datum, obs, flow):
		wrong = []
		if not self.same_type(datum["type"], obs["type"]):
			wrong.append("type %s" % obs["type"])
		if not self.value_matches(obs, datum):
			wrong.append("value %s" % obs["value"])
		if not encoding_matches(obs["encoding"], datum):
			wrong.append("encoding %s" % obs["encoding"])
		if obs["field"] != expected_field(datum):
			wrong.append("field %s" % obs["field"])
		if obs["protocol"] != "quic-decrypted":
			wrong.append("protocol %s" % obs["protocol"])
		if flow is None or obs["flow_id"] != flow["flow_id"]:
			wrong.append("flow %s" % obs["flow_id"])
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


def quic_flows(flows):
	return [f for f in flows if f.get("proto") == "udp" and isinstance(f.get("quic"), dict)]


def flow_problems(flow):
	q = flow["quic"]
	out = []
	if not q.get("decrypted"):
		out.append("not decrypted (reason %s)" % q.get("reason"))
	for key in ("packets_failed", "packets_undecrypted", "packets_unopened", "packets_malformed"):
		if q.get(key):
			out.append("%s %s" % (key, q[key]))
	return out


def reference_streams(source, capture):
	"""tools/lab/quic-stream-bytes.py's rows: the decrypted bytes per stream."""
	r = subprocess.run([sys.executable, os.path.join(source, "tools/lab/quic-stream-bytes.py"), capture],
			   capture_output=True, text=True, timeout=900)
	if r.returncode != 0:
		sys.exit("FAIL: quic-stream-bytes.py: %s" % r.stderr[-2000:])
	return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def endpoint(ip, port):
	return ("[%s]:%d" if ":" in ip else "%s:%d") % (ip, port)


def check_bytes(rows, flows):
	"""Per connection and direction, privaudit's in-order STREAM bytes
	against the reference; per stream where privaudit lists its streams."""
	problems = 0
	conns = collections.defaultdict(list)
	for row in rows:
		conns[row["connection"]].append(row)
	for number in sorted(conns):
		rs = conns[number]
		server, clients = rs[0]["server"], set(rs[0]["client"])
		mine = [f for f in flows if endpoint(f["dst_ip"], f["dst_port"]) == server
			and endpoint(f["src_ip"], f["src_port"]) in clients]
		where = "connection %d (%s %s, %s)" % (number, rs[0]["engine"], rs[0]["version"], server)
		if not mine:
			print("BYTES %s: no QUIC flow in flows.jsonl" % where)
			problems += 1
			continue
		missing = [f["flow_id"] for f in mine if not isinstance(f["quic"].get("stream_bytes"), list)]
		if missing:
			print("BYTES %s: the \"quic\" object of flow%s %s has no stream_bytes ([from the client, "
			      "from the server]: STREAM bytes delivered in order), nothing to compare with the "
			      "reference" % (where, "s" if len(missing) > 1 else "", ", ".join(map(str, missing))))
			problems += 1
			continue
		for i, sender in enumerate(("client", "server")):
			want = sum(r["bytes"] for r in rs if r["sender"] == sender)
			# The counts are the connection's: after a migration every flow
			# of the connection reports the same, growing totals.
			got = max(f["quic"]["stream_bytes"][i] for f in mine)
			if want != got:
				print("BYTES %s from the %s: privaudit %d stream bytes, reference %d" % (
					where, sender, got, want))
				problems += 1
		listed = [s for f in mine for s in (f["quic"].get("streams") or [])]
		if listed:
			ref = {(r["sender"], r["stream_id"]): r for r in rs}
			seen = {}
			for s in listed:
				key = (s.get("sender"), s.get("id"))
				seen[key] = s
				r = ref.get(key)
				if r is None or s.get("sha256") != r["sha256"] or s.get("bytes") != r["bytes"]:
					print("BYTES %s %s stream %s: privaudit %s bytes sha256 %s, reference %s" % (
						where, key[0], key[1], s.get("bytes"), s.get("sha256"),
						"%d bytes sha256 %s" % (r["bytes"], r["sha256"]) if r else "has no such stream"))
					problems += 1
			for key in sorted(set(ref) - set(seen)):
				print("BYTES %s %s stream %d: missing from privaudit's streams" % (where, key[0], key[1]))
				problems += 1
	return problems, len(conns)


def main():
	if len(sys.argv) not in (4, 5):
		print(__doc__, file=sys.stderr)
		return 2
	privaudit, source, capture = sys.argv[1:4]
	base = capture[:-len(".pcapng")] if capture.endswith(".pcapng") else capture
	keylog, truth_path = base + ".keylog", base + ".truth.jsonl"
	if not os.access(privaudit, os.X_OK):
		print("FAIL: no privaudit binary at %s" % privaudit)
		return 1
	work = sys.argv[4] if len(sys.argv) == 5 else tempfile.mkdtemp(prefix="pa-quiccheck.")
	out = os.path.join(work, "audit")
	shutil.rmtree(out, ignore_errors=True)
	tls_check.run_audit(privaudit, source, capture, keylog, out)
	truth = tls_check.load_jsonl(truth_path)
	datums = [r for r in truth if r["record"] == "datum" and r["protocol"] == "http3"]
	if not datums:
		print("FAIL: the ground truth plants nothing inside QUIC")
		return 1
	flows = tls_check.load_jsonl(os.path.join(out, "flows.jsonl"))
	audit = Audit(tls_check.load_jsonl(os.path.join(out, "observations.jsonl")), flows,
		      tls_check.profile_values(source))
	qflows = quic_flows(flows)
	if not any(f["quic"].get("decrypted") for f in qflows) and \
			not any(o["protocol"] == "quic-decrypted" for o in audit.obs):
		print("SKIP: this privaudit decrypts no QUIC (no flow of flows.jsonl has a decrypted "
		      "\"quic\" object, no observation is quic-decrypted); %d values planted inside QUIC "
		      "wait for it" % len(datums))
		return 77

	found, planted = collections.Counter(), collections.Counter()
	kinds, kinds_found = collections.Counter(), collections.Counter()
	used = collections.Counter()
	misses = []
	for d in datums:
		flow = audit.flow_of(d)
		lab, kind = label(d), expected_field(d).split(":", 1)[0]
		planted[lab] += 1
		kinds[kind] += 1
		hit = next((i for i, o in enumerate(audit.obs)
			    if used[i] < o.get("count", 1) and not audit.differences(d, o, flow)), None)
		if hit is None:
			misses.append((d, flow))
			continue
		used[hit] += 1
		found[lab] += 1
		kinds_found[kind] += 1
	problems = 0
	for d, flow in misses:
		near = None
		for i, o in enumerate(audit.obs):
			if used[i] >= o.get("count", 1) or not audit.value_matches(o, d):
				continue
			w = audit.differences(d, o, flow)
			if near is None or len(w) < len(near):
				near = w
		print("MISS %s stream %s: %s %s in %s (text %.40s) flow %s :%d packet %s; %s" % (
			label(d), d["quic"]["stream_id"], d["type"], d["encoding"], expected_field(d), d["text"],
			flow["flow_id"] if flow else "NOT IN flows.jsonl", d["src_port"], d["packet"],
			"nearest observation differs in: " + ", ".join(near) if near else
			"no observation of this value at all"))
		problems += 1

	for f in qflows:
		bad = flow_problems(f)
		if bad:
			problems += 1
			print("FLOW %d (:%d -> %s:%d): %s" % (f["flow_id"], f["src_port"], f["dst_ip"], f["dst_port"],
							   "; ".join(bad)))

	byte_problems, nconn = check_bytes(reference_streams(source, capture), qflows)
	problems += byte_problems

	matched = {}
	for i in used:
		o = audit.obs[i]
		matched.setdefault((o["flow_id"], o["type"]), set()).add(o["value"])
	qids = {f["flow_id"] for f in qflows}
	duplicates = 0
	for i, o in enumerate(audit.obs):
		if i in used or o["flow_id"] not in qids:
			continue
		values = matched.get((o["flow_id"], o["type"]))
		if values and (o["value"] in values or o["type"] == "location"):
			duplicates += 1
			continue
		problems += 1
		print("EXTRA %s %s %s in %s flow %s packet %s value %.60s" % (
			o["source"], o["type"], o["encoding"], o["field"], o["flow_id"], o["packet"], o["value"]))

	total = sum(found.values())
	print("\nrecall per QUIC version x suite x key updates x migrations (found/planted):")
	for lab in sorted(planted):
		mark = "" if found[lab] == planted[lab] else "   <-- misses"
		print("  %-75s %3d/%-3d%s" % (lab, found[lab], planted[lab], mark))
	print("recall per field kind:")
	for kind in sorted(kinds):
		print("  %-20s %3d/%d" % (kind, kinds_found[kind], kinds[kind]))
	print("\n%s: %d of %d values planted inside QUIC found (recall %.1f%%) in %d QUIC flows; stream "
	      "bytes compared on %d connections; %d more observations of matched values in containing "
	      "fields; %d problems" % (os.path.basename(capture), total, len(datums),
				       100.0 * total / len(datums), len(qflows), nconn, duplicates, problems))
	return 0 if problems == 0 else 1


if __name__ == "__main__":
	sys.exit(main())
