#!/usr/bin/env python3
"""The evidence bundle end to end (tests/bundle/tests.cmake).

Each case audits a demo capture into a folder of its own, then changes the
folder or its manifest the way a mistake or an attacker would, and checks the
exact exit code and message of `privaudit audit` and `privaudit verify`.
Exit 0 when every case passes, 1 when one fails, 77 when the demo captures
or openssl are missing.
"""
import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys

failures = []

# The clean capture audited without a consent moment: no violation, but the
# consent promise cannot be verified (exit 4, docs/cli.md). Either means the
# run itself succeeded, which is all these cases ask of it.
NO_VIOLATION = (0, 4)


def fail(case, msg):
	failures.append("%s: %s" % (case, msg))
	print("FAIL %s: %s" % (case, msg))


class Env:
	def __init__(self, args):
		self.bin = args.privaudit
		self.src = args.source
		self.work = args.work
		cap = os.path.join(self.src, "captures")
		self.leaky = os.path.join(cap, "demo-lanxin-leaky.pcapng")
		self.leaky_keylog = os.path.join(cap, "demo-lanxin-leaky.keylog")
		self.clean = os.path.join(cap, "demo-lanxin-clean.pcapng")
		self.policy = os.path.join(self.src, "policies", "lanxin.yaml")
		self.device = os.path.join(self.src, "signatures", "devices", "lab-phone.yaml")
		geo = os.path.join(self.src, "tests", "data", "geoip")
		self.geoip = [os.path.join(geo, "lab-country.mmdb"), os.path.join(geo, "lab-asn.mmdb")]

	def audit(self, out, capture=None, extra=(), limit_bytes=None):
		"""privaudit audit of capture (the leaky one) into out; (rc, stdout, stderr)."""
		capture = capture or self.leaky
		cmd = [self.bin, "audit", "--policy", self.policy, "--device", self.device, "--out", out]
		for g in self.geoip:
			cmd += ["--geoip", g]
		if capture == self.leaky:
			cmd += ["--keylog", self.leaky_keylog]
		cmd += list(extra) + [capture]

		def limit():
			# A full disk as a file-size limit: writes past it fail with
			# EFBIG (SIGXFSZ ignored, as a disk that is full would not kill).
			signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
			resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
		r = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
				   preexec_fn=limit if limit_bytes else None)
		return r.returncode, r.stdout, r.stderr

	def verify(self, d, *opts):
		r = subprocess.run([self.bin, "verify"] + list(opts) + [d], capture_output=True, text=True,
				   timeout=60)
		return r.returncode, r.stdout + r.stderr

	def fresh(self, name):
		d = os.path.join(self.work, name)
		shutil.rmtree(d, ignore_errors=True)
		return d


def load_manifest(d):
	with open(os.path.join(d, "manifest.json")) as f:
		return json.load(f)


def save_manifest(d, m):
	with open(os.path.join(d, "manifest.json"), "w") as f:
		json.dump(m, f, indent=1)


def expect_verify(env, case, d, rc_want, lines, *opts):
	"""verify d: exit rc_want and every line of lines (regular expressions) in its output."""
	try:
		rc, text = env.verify(d, *opts)
	except subprocess.TimeoutExpired:
		fail(case, "verify did not finish within 60 s")
		return ""
	if rc != rc_want:
		fail(case, "verify exit %d, expected %d: %s" % (rc, rc_want, text[-800:]))
	for want in lines:
		if not re.search(want, text, re.M):
			fail(case, "verify output lacks /%s/: %s" % (want, text[-800:]))
	return text


def sha256(path):
	with open(path, "rb") as f:
		return hashlib.sha256(f.read()).hexdigest()


# ---- cases ------------------------------------------------------------------

def case_stale_folder(env):
	"""A leaky audit, then a clean one into the same folder: refused without
	--replace; with it, not one file of the first run is left or listed."""
	case = "stale-folder"
	d = env.fresh("stale")
	rc, out, err = env.audit(d)
	if rc != 1:
		fail(case, "leaky audit exit %d: %s" % (rc, err[-500:]))
		return
	evidence = sorted(os.listdir(os.path.join(d, "evidence")))
	if not evidence:
		fail(case, "the leaky audit wrote no evidence")
	if not re.search(r"^bundle: .*manifest\.json SHA-256 %s$" % sha256(os.path.join(d, "manifest.json")),
			 out, re.M):
		fail(case, "the summary does not print the manifest's hash: %s" % out[-300:])
	before = os.listdir(d)
	rc, out, err = env.audit(d, env.clean)
	if rc != 2 or "not empty (an earlier audit's output?); give --replace" not in err:
		fail(case, "a non-empty --out: exit %d, %s" % (rc, err[-300:]))
	if sorted(os.listdir(d)) != sorted(before):
		fail(case, "the refused run changed the folder: %s" % os.listdir(d))
	rc, out, err = env.audit(d, env.clean, ["--replace"])
	if rc not in NO_VIOLATION:
		fail(case, "clean audit with --replace exit %d: %s" % (rc, err[-500:]))
		return
	if os.path.exists(os.path.join(d, "evidence")):
		fail(case, "the earlier evidence is still there: %s" % os.listdir(os.path.join(d, "evidence")))
	if [n for n in os.listdir(d) if n.startswith(".partial-")]:
		fail(case, "a staging folder is left behind")
	m = load_manifest(d)
	paths = [e["path"] for e in m["files"]]
	if [p for p in paths if p.startswith("evidence/")]:
		fail(case, "the manifest lists evidence of the earlier run: %s" % paths)
	outputs = sorted(p for p in paths if not p.startswith("/") and "/" not in p and
			 next(e for e in m["files"] if e["path"] == p)["relative"])
	if outputs != sorted(["findings.jsonl", "flows.jsonl", "observations.jsonl", "report.html",
			      "report.json"]):
		fail(case, "outputs listed: %s" % outputs)
	n = len(m["files"])
	expect_verify(env, case, d, 0, [r"^%d ok, 0 changed, 0 missing, 0 unlisted, 0 refused" % n])
	# Any file under the bundle that the run did not write fails it.
	os.makedirs(os.path.join(d, "evidence"))
	with open(os.path.join(d, "evidence", "mydata.txt"), "w") as f:
		f.write("not from this run\n")
	expect_verify(env, case, d, 1, [r"^UNLISTED evidence/mydata\.txt: not produced by the run the manifest describes$",
					r"1 unlisted"])
	# --replace never empties a folder that is not an audit's output.
	other = env.fresh("not-a-bundle")
	os.makedirs(other)
	with open(os.path.join(other, "thesis.tex"), "w") as f:
		f.write("x")
	rc, out, err = env.audit(other, env.clean, ["--replace"])
	if rc != 2 or "holds no manifest.json or report.json: not replacing" not in err:
		fail(case, "--replace on a folder that is no bundle: exit %d, %s" % (rc, err[-300:]))
	if os.listdir(other) != ["thesis.tex"]:
		fail(case, "the foreign folder was changed: %s" % os.listdir(other))


def case_full_disk(env):
	"""A write that fails (EFBIG past a file-size limit) is never hidden: exit 3,
	no manifest, the earlier bundle left exactly as it was."""
	case = "full-disk"
	d = env.fresh("fulldisk")
	rc, out, err = env.audit(d, env.clean)
	if rc not in NO_VIOLATION:
		fail(case, "first audit exit %d: %s" % (rc, err[-300:]))
		return
	old_manifest = sha256(os.path.join(d, "manifest.json"))
	old_html = sha256(os.path.join(d, "report.html"))
	# report.json and report.html of the leaky capture exceed 40 kB; the
	# streamed outputs stay below.
	rc, out, err = env.audit(d, extra=["--replace"], limit_bytes=40000)
	if rc != 3:
		fail(case, "audit on a full disk exit %d (expected 3): %s" % (rc, err[-500:]))
	if not re.search(r"report\.(json|html): cannot write: File too large", err):
		fail(case, "the failed write is not reported: %s" % err[-500:])
	if "the outputs are incomplete; %s is left as it was" % d not in err:
		fail(case, "stderr does not say the folder was left as it was: %s" % err[-500:])
	if sha256(os.path.join(d, "manifest.json")) != old_manifest or \
	   sha256(os.path.join(d, "report.html")) != old_html:
		fail(case, "the earlier bundle was changed by the failed run")
	staging = [n for n in os.listdir(d) if n.startswith(".partial-")]
	if len(staging) != 1:
		fail(case, "no staging folder kept for inspection: %s" % os.listdir(d))
	elif os.path.exists(os.path.join(d, staging[0], "manifest.json")):
		fail(case, "a manifest was written for incomplete outputs")
	# The leftover is visible to verify: the folder is not one run's any more.
	expect_verify(env, case, d, 1, [r"^UNLISTED \.partial-\w+/\S+: not produced by the run"])
	# Into a new folder: nothing certified at all.
	d2 = env.fresh("fulldisk-new")
	rc, out, err = env.audit(d2, limit_bytes=40000)
	if rc != 3 or os.path.exists(os.path.join(d2, "manifest.json")):
		fail(case, "full disk into a new folder: exit %d, manifest %s" %
		     (rc, os.path.exists(os.path.join(d2, "manifest.json"))))
	expect_verify(env, case, d2, 1, [r"manifest\.json: No such file or directory"])
	# Run again once there is room: --replace clears what the failed run left.
	rc, out, err = env.audit(d2, env.clean, ["--replace"])
	if rc not in NO_VIOLATION or [n for n in os.listdir(d2) if n.startswith(".partial-")]:
		fail(case, "rerun after a failed run: exit %d, left %s, %s" % (rc, os.listdir(d2), err[-300:]))
	expect_verify(env, case, d2, 0, [r" 0 unlisted, 0 refused"])


def case_tampered(env):
	"""A manifest entry removed together with its evidence file: the finding
	that cites it fails verify. A changed and a deleted file too."""
	case = "tampered"
	d = env.fresh("tampered")
	rc, out, err = env.audit(d)
	if rc != 1:
		fail(case, "audit exit %d: %s" % (rc, err[-300:]))
		return
	expect_verify(env, case, d, 0, [r" 0 changed, 0 missing, 0 unlisted, 0 refused, 0 finding\(s\) without evidence"])
	m = load_manifest(d)
	victim = "evidence/F0001.pcapng"
	m["files"] = [e for e in m["files"] if e["path"] != victim]
	save_manifest(d, m)
	os.unlink(os.path.join(d, victim))
	with open(os.path.join(d, "findings.jsonl")) as f:
		line = next(i for i, l in enumerate(f, 1) if json.loads(l)["id"] == "F0001")
	expect_verify(env, case, d, 1, [
		r"^BAD      findings\.jsonl:%d: finding F0001 cites evidence/F0001\.pcapng, which is not in the manifest$" % line,
		r" 1 finding\(s\) without evidence"])
	# One flipped byte, and one listed file gone.
	ev = sorted(os.listdir(os.path.join(d, "evidence")))
	p = os.path.join(d, "evidence", ev[0])
	with open(p, "r+b") as f:
		f.seek(40)
		b = f.read(1)
		f.seek(40)
		f.write(bytes([b[0] ^ 1]))
	os.unlink(os.path.join(d, "report.html"))
	expect_verify(env, case, d, 1, [r"^CHANGED  evidence/%s \(sha256 " % re.escape(ev[0]),
					r"^MISSING  report\.html$"])


def case_page_digest(env):
	"""report.html prints the digest of every other file the manifest lists
	(inputs_and_outputs_digest, docs/output.md): recomputable without
	privaudit, and verify fails when the page or the manifest carries
	another value, even with the page's own hash updated in the manifest."""
	case = "page-digest"
	d = env.fresh("page-digest")
	rc, out, err = env.audit(d)
	if rc != 1:
		fail(case, "audit exit %d: %s" % (rc, err[-300:]))
		return
	expect_verify(env, case, d, 0, [r" 0 digest problem\(s\)$"])
	m = load_manifest(d)
	lines = sorted("%s  %s\n" % (e["sha256"], e["path"]) for e in m["files"]
		       if not (e.get("relative") and e["path"] == "report.html"))
	digest = hashlib.sha256("".join(lines).encode()).hexdigest()
	if m.get("inputs_and_outputs_digest") != digest:
		fail(case, "manifest digest %r, recomputed %s" % (m.get("inputs_and_outputs_digest"), digest))
		return
	page_path = os.path.join(d, "report.html")
	with open(page_path, encoding="utf-8") as f:
		page = f.read()
	copies = ['<meta name="privaudit-inputs-and-outputs-digest" content="%s">' % digest,
		  '<span class="page-digest">%s</span>' % digest, '@top-right{content:"%s"' % digest]
	for c in copies:
		if page.count(c) != 1:
			fail(case, "report.html holds %d copies of %r" % (page.count(c), c))
			return

	def forge(text, only=None):
		"""The page with the digest replaced (in one copy, or all), and the
		manifest's entry for it updated as a forger would."""
		forged = text
		for c in copies if only is None else [copies[only]]:
			forged = forged.replace(c, c.replace(digest, "0" * 64))
		with open(page_path, "w", encoding="utf-8") as f:
			f.write(forged)
		mm = load_manifest(d)
		for e in mm["files"]:
			if e["path"] == "report.html" and e.get("relative"):
				e["sha256"] = sha256(page_path)
				e["size"] = os.path.getsize(page_path)
		save_manifest(d, mm)
		return mm

	forge(page)
	zeros = "0" * 64
	expect_verify(env, case + " page", d, 1, [
		r"^ok       report\.html$",
		r"^DIGEST   report\.html: its <meta> carries %s, but the files the manifest lists digest to %s$" % (zeros, digest),
		r"^DIGEST   report\.html: its opening block carries %s" % zeros,
		r"^DIGEST   report\.html: the running header of its printed pages carries %s" % zeros,
		r" 0 changed, .* 3 digest problem\(s\)$"])
	forge(page, only=2)
	expect_verify(env, case + " running header", d, 1, [
		r"^DIGEST   report\.html: the running header of its printed pages carries %s" % zeros,
		r" 1 digest problem\(s\)$"])
	# The manifest claiming the forged value too: it is not the digest of its files.
	mm = forge(page)
	mm["inputs_and_outputs_digest"] = zeros
	save_manifest(d, mm)
	expect_verify(env, case + " manifest", d, 1, [
		r"^DIGEST   manifest\.json: inputs_and_outputs_digest %s is not the digest of the files it lists \(%s\)$" % (zeros, digest)])


def case_hostile(env):
	"""Manifests written to make verify read outside the bundle, or block."""
	case = "hostile"
	d = env.fresh("hostile-base")
	rc, out, err = env.audit(d, env.clean)
	if rc not in NO_VIOLATION:
		fail(case, "audit exit %d: %s" % (rc, err[-300:]))
		return
	base = load_manifest(d)
	entry = dict(next(e for e in base["files"] if e["path"] == "report.json"))

	def with_entries(name, entries, prepare=None):
		h = env.fresh("hostile-" + name)
		shutil.copytree(d, h, symlinks=True)
		m = json.loads(json.dumps(base))
		m["files"] += entries
		save_manifest(h, m)
		if prepare:
			prepare(h)
		return h

	def rel(path, **kw):
		e = dict(entry, path=path)
		e.update(kw)
		return e

	h = with_entries("dotdot", [rel("../../etc/hostname")])
	expect_verify(env, case + " ../", h, 1,
		      [r"^REFUSED  \.\./\.\./etc/hostname: a '\.\.' component: it leaves the bundle$"])
	h = with_entries("inner-dotdot", [rel("evidence/../../x")])
	expect_verify(env, case + " inner ../", h, 1,
		      [r"^REFUSED  evidence/\.\./\.\./x: a '\.\.' component: it leaves the bundle$"])
	h = with_entries("absolute", [rel("/etc/hostname")])
	expect_verify(env, case + " absolute", h, 1,
		      [r"^REFUSED  /etc/hostname: an absolute path: it leaves the bundle$"])
	h = with_entries("symlink", [rel("hostname")],
			 lambda h: os.symlink("/etc/hostname", os.path.join(h, "hostname")))
	expect_verify(env, case + " symlink", h, 1, [r"^REFUSED  hostname: a symbolic link$"])
	h = with_entries("symlinked-folder", [rel("etc/hostname")],
			 lambda h: os.symlink("/etc", os.path.join(h, "etc")))
	expect_verify(env, case + " symlinked folder", h, 1, [r"^REFUSED  etc/hostname: a symbolic link$"])
	h = with_entries("fifo", [rel("pipe")], lambda h: os.mkfifo(os.path.join(h, "pipe")))
	expect_verify(env, case + " FIFO", h, 1, [r"^REFUSED  pipe: not a regular file \(a FIFO\)$"])
	h = with_entries("dev-zero-input", [dict(entry, path="/dev/zero", relative=False,
						 resolved="/dev/zero", role="capture")])
	expect_verify(env, case + " /dev/zero", h, 1, [r"^REFUSED  /dev/zero: not a regular file$"])
	h = with_entries("missing", [rel("evidence/F0009.pcapng")])
	expect_verify(env, case + " missing", h, 1, [r"^MISSING  evidence/F0009\.pcapng$"])
	h = with_entries("twice", [rel("report.json")])
	expect_verify(env, case + " listed twice", h, 1, [r"^REFUSED  report\.json: listed twice$"])
	h = with_entries("unlisted", [], lambda h: open(os.path.join(h, "extra.bin"), "w").close())
	expect_verify(env, case + " unlisted", h, 1,
		      [r"^UNLISTED extra\.bin: not produced by the run the manifest describes$"])
	h = with_entries("no-hash", [{"path": "x", "relative": True}])
	expect_verify(env, case + " entry without hash", h, 1,
		      [r"^REFUSED  manifest entry \d+: no path, size or sha256$"])
	h = env.fresh("hostile-not-json")
	shutil.copytree(d, h)
	with open(os.path.join(h, "manifest.json"), "w") as f:
		f.write("{\"files\": [\n")
	expect_verify(env, case + " damaged manifest", h, 1, [r"manifest\.json:\d+: cannot read the manifest"])
	rc, text = env.verify(os.path.join(env.work, "no-such-folder"))
	if rc != 2 or "not a folder" not in text:
		fail(case, "verify of a missing folder: exit %d, %s" % (rc, text))


def openssl(*args, cwd=None):
	r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, cwd=cwd, timeout=60)
	if r.returncode != 0:
		raise RuntimeError("openssl %s: %s" % (" ".join(args), r.stderr[-500:]))
	return r.stdout


TSA_CNF = """[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = privaudit test
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {serial}
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[ v3_tsa ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
"""


def make_keys(env):
	"""Signing keys and a time-stamping authority (CA + TSA certificate)."""
	k = env.fresh("keys")
	os.makedirs(k)
	cnf = os.path.join(k, "tsa.cnf")
	with open(cnf, "w") as f:
		f.write(TSA_CNF.format(serial=os.path.join(k, "serial")))
	with open(os.path.join(k, "serial"), "w") as f:
		f.write("01\n")
	openssl("genpkey", "-algorithm", "ed25519", "-out", "ed25519.key", cwd=k)
	openssl("genpkey", "-algorithm", "ed25519", "-out", "other.key", cwd=k)
	openssl("pkey", "-in", "other.key", "-pubout", "-out", "other.pub", cwd=k)
	openssl("genpkey", "-algorithm", "SM2", "-out", "sm2.key", cwd=k)
	openssl("pkey", "-in", "sm2.key", "-pubout", "-out", "sm2.pub", cwd=k)
	openssl("genpkey", "-algorithm", "X25519", "-out", "x25519.key", cwd=k)
	openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
		"-days", "2", "-subj", "/CN=privaudit test CA", "-config", cnf, "-extensions", "v3_ca", cwd=k)
	openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
		"-subj", "/CN=privaudit test TSA", "-config", cnf, cwd=k)
	openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
		"-out", "tsa.crt", "-days", "2", "-extfile", cnf, "-extensions", "v3_tsa", cwd=k)
	openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key", "-out",
		"other-ca.crt", "-days", "2", "-subj", "/CN=another CA", "-config", cnf, "-extensions",
		"v3_ca", cwd=k)
	return k


def ts_reply(k, d, query=None):
	"""The local TSA answers d's time-stamp request into d/manifest.json.tsr."""
	openssl("ts", "-reply", "-config", os.path.join(k, "tsa.cnf"), "-queryfile",
		query or os.path.join(d, "manifest.json.tsq"), "-signer", os.path.join(k, "tsa.crt"),
		"-inkey", os.path.join(k, "tsa.key"), "-out", os.path.join(d, "manifest.json.tsr"))


def case_signed(env, k):
	case = "signed"
	d = env.fresh("signed-ed25519")
	rc, out, err = env.audit(d, extra=["--sign-key", os.path.join(k, "ed25519.key"), "--operator", "Wang Li"])
	if rc != 1:
		fail(case, "signed audit exit %d: %s" % (rc, err[-300:]))
		return
	m = load_manifest(d)
	fp = m.get("signature", {}).get("public_key_sha256", "")
	if m.get("signature", {}).get("algorithm") != "ed25519" or len(fp) != 64:
		fail(case, "the manifest does not name the key: %s" % m.get("signature"))
	if m["provenance"]["operator"] != "Wang Li":
		fail(case, "operator not recorded: %s" % m["provenance"]["operator"])
	if "signed; time-stamp request in manifest.json.tsq" not in out:
		fail(case, "the summary does not mention the signature: %s" % out[-300:])
	# openssl itself accepts the signature and the request.
	try:
		openssl("pkeyutl", "-verify", "-rawin", "-in", "manifest.json", "-sigfile", "manifest.json.sig",
			"-pubin", "-inkey", "manifest.pub.pem", cwd=d)
		text = openssl("ts", "-query", "-in", "manifest.json.tsq", "-text", cwd=d)
		if sha256(os.path.join(d, "manifest.json")) not in text.replace(" ", "").replace(":", "").replace("\n", "").lower() \
		   and "Nonce" not in text:
			fail(case, "the time-stamp request does not carry the manifest's hash: %s" % text)
	except RuntimeError as e:
		fail(case, str(e))
	expect_verify(env, case, d, 0, [
		r"^ok       manifest\.json\.sig: manifest\.json signed \(ed25519\) by the key with SHA-256 %s" % fp])
	pub = os.path.join(d, "manifest.pub.pem")
	expect_verify(env, case + " --key", d, 0, [r"\(the key given\)$"], "--key", pub)
	expect_verify(env, case + " other key", d, 1, [
		r"^BAD      manifest\.json\.sig: signed by the key \w+, but the manifest names the key %s$" % fp],
		"--key", os.path.join(k, "other.pub"))

	# Time-stamped by the local authority.
	ts_reply(k, d)
	expect_verify(env, case + " tsr", d, 0, [
		r"^ok       manifest\.json\.tsr: manifest\.json time-stamped \d{14}Z \(TSA certificate chain checked\)$"],
		"--tsa-ca", os.path.join(k, "ca.crt"))
	expect_verify(env, case + " tsr without CA", d, 0, [
		r"^ok       manifest\.json\.tsr: .*signature checked against the certificate in the reply"])
	expect_verify(env, case + " tsr other CA", d, 1, [r"^BAD      manifest\.json\.tsr: .*certificate verify error"],
		      "--tsa-ca", os.path.join(k, "other-ca.crt"))

	# A manifest changed after signing: the signature no longer matches
	# (and nothing else is wrong with the folder).
	t = env.fresh("signed-tampered")
	shutil.copytree(d, t)
	with open(os.path.join(t, "manifest.json")) as f:
		text = f.read()
	with open(os.path.join(t, "manifest.json"), "w") as f:
		f.write(text.replace('"Wang Li"', '"Li Wang"'))
	expect_verify(env, case + " tampered", t, 1, [
		r"^BAD      manifest\.json\.sig: the signature does not match manifest\.json$",
		r"^BAD      manifest\.json\.tsq: not a time-stamp request for this manifest\.json$"])
	# A time-stamp reply for another request.
	t2 = env.fresh("signed-other-tsr")
	shutil.copytree(d, t2)
	other_q = os.path.join(env.work, "other.tsq")
	with open(os.path.join(env.work, "other.data"), "w") as f:
		f.write("another document\n")
	openssl("ts", "-query", "-data", os.path.join(env.work, "other.data"), "-sha256", "-cert", "-out", other_q)
	ts_reply(k, t2, other_q)
	expect_verify(env, case + " foreign tsr", t2, 1, [r"^BAD      manifest\.json\.tsr: "],
		      "--tsa-ca", os.path.join(k, "ca.crt"))
	# The signature removed while the manifest says it is signed.
	t3 = env.fresh("signed-sig-removed")
	shutil.copytree(d, t3)
	os.unlink(os.path.join(t3, "manifest.json.sig"))
	expect_verify(env, case + " signature removed", t3, 1, [
		r"^BAD      manifest\.json\.sig: the manifest says it is signed, but the signature cannot be read"])

	# SM2 (SM3, default identity): verify, and openssl agrees.
	s = env.fresh("signed-sm2")
	rc, out, err = env.audit(s, env.clean, ["--sign-key", os.path.join(k, "sm2.key")])
	if rc not in NO_VIOLATION:
		fail(case, "SM2 audit exit %d: %s" % (rc, err[-300:]))
		return
	expect_verify(env, case + " sm2", s, 0, [r"^ok       manifest\.json\.sig: manifest\.json signed \(sm2\)"],
		      "--key", os.path.join(k, "sm2.pub"))
	try:
		openssl("dgst", "-sm3", "-verify", os.path.join(k, "sm2.pub"), "-sigopt", "distid:1234567812345678",
			"-signature", "manifest.json.sig", "manifest.json", cwd=s)
	except RuntimeError as e:
		fail(case, "openssl does not accept the SM2 signature: %s" % e)

	# A key that cannot sign is refused before anything is written.
	x = env.fresh("signed-x25519")
	rc, out, err = env.audit(x, env.clean, ["--sign-key", os.path.join(k, "x25519.key")])
	if rc != 2 or "a X25519 key cannot sign" not in err or os.path.exists(x) and os.listdir(x):
		fail(case, "X25519 key: exit %d, %s" % (rc, err[-300:]))


def case_portable(env):
	"""--bundle-inputs, the bundle moved elsewhere; verify --inputs for inputs
	that moved; residency facts and provenance."""
	case = "portable"
	inputs = env.fresh("moved-inputs-src")
	os.makedirs(inputs)
	cap = shutil.copy(env.leaky, inputs)
	d = env.fresh("portable")
	rc, out, err = env.audit(d, cap, ["--bundle-inputs", "--keylog", env.leaky_keylog,
					   "--app-package", "com.lanxin.app", "--app-version", "7.3.1",
					   "--apk-sha256", "ab" * 32, "--phone-model", "Pixel 7",
					   "--os-version", "Android 14"])
	if rc != 1:
		fail(case, "audit exit %d: %s" % (rc, err[-300:]))
		return
	m = load_manifest(d)
	prov = m["provenance"]
	for lib in ("ndpi", "hyperscan", "openssl", "libmaxminddb", "libpcap"):
		if not prov["libraries"].get(lib):
			fail(case, "no %s version in the provenance" % lib)
	if not re.fullmatch(r"[0-9a-f]{40}|unknown", prov["privaudit"]["build"]["commit"]):
		fail(case, "build commit: %s" % prov["privaudit"]["build"])
	if prov["app"]["package"] != {"value": "com.lanxin.app", "from": "command line"} or \
	   prov["phone"]["model"]["value"] != "Pixel 7" or prov["app"]["apk_sha256"]["value"] != "ab" * 32:
		fail(case, "app/phone facts: %s %s" % (prov["app"], prov["phone"]))
	if prov["capture"]["mode"] != "files" or prov["capture"]["files"][0]["path"] != cap:
		fail(case, "capture provenance: %s" % prov["capture"])
	with open(os.path.join(d, "report.json")) as f:
		report = json.load(f)
	if report.get("provenance", {}).get("libraries") != prov["libraries"]:
		fail(case, "report.json lacks the provenance")
	# Identifier values stay masked outside the copied inputs (flows.jsonl
	# is left out: it quotes hostnames as seen, and a DNS name may carry one).
	with open(env.device) as f:
		imei = re.search(r"imei: \[\"(\d+)\"", f.read()).group(1)
	for name in ("observations.jsonl", "findings.jsonl", "report.json", "report.html", "manifest.json"):
		with open(os.path.join(d, name), errors="replace") as f:
			if imei in f.read():
				fail(case, "%s shows the IMEI unmasked" % name)
	# Residency findings carry the destination's facts.
	with open(os.path.join(d, "findings.jsonl")) as f:
		res = [json.loads(l) for l in f if json.loads(l)["rule"] == "residency"]
	if not res:
		fail(case, "no residency finding in the leaky capture")
	for r in res:
		g = r["geo"] or {}
		if not g.get("ip") or "answers" not in g or "conflict" not in g or "asn" not in g:
			fail(case, "residency finding %s lacks ip/asn/answers/conflict: %s" % (r["id"], g))
	# Moved bundle, inputs gone from their places: the copies verify.
	moved = env.fresh("portable-moved")
	shutil.move(d, moved)
	shutil.rmtree(inputs)
	expect_verify(env, case + " moved", moved, 0, [r"^ok       %s at .*/inputs/capture/demo-lanxin-leaky\.pcapng$" % re.escape(cap)])
	with open(os.path.join(moved, "inputs", "policy", "lanxin.yaml"), "a") as f:
		f.write("# edited\n")
	expect_verify(env, case + " edited copy", moved, 1, [r"^CHANGED  inputs/policy/lanxin\.yaml ",
							     r"^CHANGED  .*policies/lanxin\.yaml "])

	# Without copies: inputs that moved are found with --inputs.
	src = env.fresh("moved-inputs")
	os.makedirs(src)
	cap = shutil.copy(env.clean, src)
	d = env.fresh("inputs-moved")
	rc, out, err = env.audit(d, cap)
	if rc not in NO_VIOLATION:
		fail(case, "audit exit %d: %s" % (rc, err[-300:]))
		return
	elsewhere = env.fresh("moved-inputs-elsewhere")
	shutil.move(src, elsewhere)
	expect_verify(env, case + " inputs moved", d, 1, [r"^MISSING  %s" % re.escape(cap)])
	expect_verify(env, case + " --inputs", d, 0, [r"^ok       %s at %s/demo-lanxin-clean\.pcapng$" %
						      (re.escape(cap), re.escape(elsewhere))], "--inputs", elsewhere)


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--privaudit", required=True)
	ap.add_argument("--source", required=True)
	ap.add_argument("--work", required=True)
	args = ap.parse_args()
	env = Env(args)
	if not os.path.exists(env.leaky) or not shutil.which("openssl"):
		print("SKIP: demo captures or openssl missing")
		return 77
	os.makedirs(env.work, exist_ok=True)
	case_stale_folder(env)
	case_full_disk(env)
	case_tampered(env)
	case_page_digest(env)
	case_hostile(env)
	case_signed(env, make_keys(env))
	case_portable(env)
	if failures:
		print("%d failure(s)" % len(failures))
		return 1
	print("PASS: stale folder, full disk, tampered and hostile manifests, the page's digest, signatures, time-stamp, portable bundle")
	return 0


if __name__ == "__main__":
	sys.exit(main())
