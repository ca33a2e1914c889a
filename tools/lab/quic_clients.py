"""The lab phone's HTTP/3 client: the `quic` step (docs/lab.md).

One step is one QUIC connection from tools/lab/quic/h3client (libngtcp2,
GnuTLS, libnghttp3) to the lab's HTTP/3 server (Debian's gtlsserver, UDP
443 in the net namespace). The step's requests go one after another on that
connection, with key updates and migrations between them where the
scenario puts them:

  - quic:
      host: lanxin.cn
      version: v2draft                     # v1 (default) | v2draft
      cipher: TLS_CHACHA20_POLY1305_SHA256 # TLS 1.3 suite (default: GnuTLS's choice)
      ipv6: true
      requests:
        - {path: /a, query: {...}, headers: {...}, cookies: {...}}
        - key_update                       # the client's 1-RTT keys change
        - {path: /b, json: {...}, gzip: true}
        - migrate                          # a new local port, the connection moves
        - {path: /c, form: {...}}

Without `requests` the step itself is the one request. Request keys are the
`https` step's (path, query, headers, cookies, form, json, body, gzip,
random_bytes, pad_bytes), and `download: N` GETs a file of N random bytes
(the bench capture's downloads). `rate: 25M` paces what the client sends
(curl's --limit-rate syntax) so that bulk uploads do not outrun the capture.
HTTP/3 header names are lower case on the wire; the ground truth names
fields as HTTP/1.1 does (http.header:X-Oaid), as for HTTP/2.
"""
import json
import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "quic", "h3client.c")
PKGS = ["libngtcp2", "libngtcp2_crypto_gnutls", "libnghttp3", "gnutls", "jansson"]
IO_TIMEOUT = 90.0  # the client bounds its own plan at 60 s

# TLS 1.3 suites (IANA names) as GnuTLS priority strings.
GNUTLS_CIPHERS = {
	"TLS_AES_128_GCM_SHA256": "AES-128-GCM",
	"TLS_AES_256_GCM_SHA384": "AES-256-GCM",
	"TLS_CHACHA20_POLY1305_SHA256": "CHACHA20-POLY1305",
	"TLS_AES_128_CCM_SHA256": "AES-128-CCM",
}
VERSIONS = {"v1": "1", "v2draft": "2draft"}
# Headers HTTP/3 forbids or carries as pseudo-headers (RFC 9114, 4.2).
DROPPED_HEADERS = ("host", "connection", "keep-alive", "transfer-encoding", "upgrade")


def client_binary():
	"""Build h3client once per lab run (into LAB_RUN), from the source next
	to this file, so the lab needs no build directory."""
	out_dir = os.environ.get("LAB_RUN") or tempfile.gettempdir()
	binary = os.path.join(out_dir, "h3client")
	if os.path.exists(binary) and os.path.getmtime(binary) >= os.path.getmtime(SOURCE):
		return binary
	flags = subprocess.run(["pkg-config", "--cflags", "--libs"] + PKGS, capture_output=True, text=True)
	if flags.returncode != 0:
		raise RuntimeError("h3client needs %s (tools/deps): %s" % (", ".join(PKGS), flags.stderr.strip()))
	cc = subprocess.run(["cc", "-O2", "-Wall", "-o", binary + ".tmp", SOURCE] + flags.stdout.split(),
			    capture_output=True, text=True)
	if cc.returncode != 0:
		raise RuntimeError("cannot build h3client:\n" + cc.stderr[-3000:])
	os.rename(binary + ".tmp", binary)
	return binary


def priority(cipher):
	if not cipher:
		return None
	if cipher not in GNUTLS_CIPHERS:
		raise ValueError("quic: cipher %r is none of %s" % (cipher, ", ".join(GNUTLS_CIPHERS)))
	return ("NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+%s:-GROUP-ALL:+GROUP-X25519:"
		"+GROUP-SECP256R1:%%DISABLE_TLS13_COMPAT_MODE" % GNUTLS_CIPHERS[cipher])


def rate_bytes(text):
	"""curl's --limit-rate syntax: bytes per second, K/M/G suffixes (1024s)."""
	t = str(text).strip().upper()
	mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(t[-1:], 1)
	return int(float(t[:-1] if mult > 1 else t) * mult)


def request_specs(spec):
	"""The step's actions: request dicts, "key_update" and "migrate"."""
	reqs = spec.get("requests")
	if reqs is None:
		return [spec]
	for r in reqs:
		if isinstance(r, str) and r not in ("key_update", "migrate"):
			raise ValueError("quic: %r is neither a request nor key_update/migrate" % r)
	return reqs


def write_htdocs(path):
	"""The answer to PATH (query left out): gtlsserver serves files from
	LAB_RUN/h3www, so every request path gets a small JSON there."""
	root = os.path.join(os.environ["LAB_RUN"], "h3www")
	rel = path.split("?", 1)[0].lstrip("/") or "index.html"
	target = os.path.normpath(os.path.join(root, rel))
	if not target.startswith(root + os.sep):
		raise ValueError("quic: path %r leaves the web root" % path)
	os.makedirs(os.path.dirname(target), exist_ok=True)
	if os.path.isdir(target):
		target = os.path.join(target, "index.html")
	if not os.path.exists(target):
		with open(target, "w") as f:
			f.write('{"code":0,"result":"ok"}\n')


def download_path(size):
	"""A file of SIZE random bytes under the HTTP/3 server's root, made once
	per size; the path to request it."""
	name = "blob-%d.bin" % size
	target = os.path.join(os.environ["LAB_RUN"], "h3www", "download", name)
	if not os.path.exists(target):
		os.makedirs(os.path.dirname(target), exist_ok=True)
		with open(target + ".tmp", "wb") as f:
			left = size
			while left > 0:
				f.write(os.urandom(min(left, 1 << 20)))
				left -= 1 << 20
		os.rename(target + ".tmp", target)
	return "/download/" + name


def run(ca, keylog, host, dst, port, spec, built):
	"""One connection. BUILT is [(method, path, headers, body)] for the
	request entries, in order. Returns the client's report (h3client)."""
	actions = []
	tmp = tempfile.mkdtemp(prefix="pa-h3-")
	try:
		it = iter(built)
		for entry in request_specs(spec):
			if isinstance(entry, str):
				actions.append({entry: True})
				continue
			method, path, headers, body = next(it)
			write_htdocs(path)
			req = {"method": method, "path": path, "authority": host,
			       "headers": [[n.lower(), v] for n, v in headers if n.lower() not in DROPPED_HEADERS]}
			if body:
				name = os.path.join(tmp, "body-%d" % len(actions))
				with open(name, "wb") as f:
					f.write(body)
				req["body_file"] = name
			actions.append({"request": req})
		plan = {"addr": dst, "port": port, "sni": host, "ca": ca,
			"version": spec.get("version", "v1"), "actions": actions}
		if spec.get("version", "v1") not in VERSIONS:
			raise ValueError("quic: version is v1 or v2draft, not %r" % spec["version"])
		prio = priority(spec.get("cipher"))
		if prio:
			plan["priority"] = prio
		if spec.get("rate"):
			plan["rate"] = rate_bytes(spec["rate"])
		plan_path = os.path.join(tmp, "plan.json")
		with open(plan_path, "w") as f:
			json.dump(plan, f)
		env = dict(os.environ, SSLKEYLOGFILE=keylog)
		out = subprocess.run([client_binary(), plan_path], env=env, capture_output=True, text=True,
				     timeout=IO_TIMEOUT)
		if out.returncode != 0:
			raise RuntimeError("h3client to %s failed: %s" % (host, out.stderr[-2000:]))
		report = json.loads(out.stdout)
	finally:
		for name in os.listdir(tmp):
			os.unlink(os.path.join(tmp, name))
		os.rmdir(tmp)
	want_version = {"v1": "0x00000001", "v2draft": "0x709a50c4"}[spec.get("version", "v1")]
	if report["quic_version"] != want_version:
		raise RuntimeError("%s: negotiated QUIC %s, the scenario asked for %s"
				   % (host, report["quic_version"], want_version))
	if spec.get("cipher") and report["cipher"] != spec["cipher"]:
		raise RuntimeError("%s: negotiated %s, the scenario asked for %s"
				   % (host, report["cipher"], spec["cipher"]))
	entries = [e for e in request_specs(spec) if not isinstance(e, str)]
	for r, entry in zip(report["requests"], entries):
		if r["status"] != 200:
			raise RuntimeError("%s: HTTP/3 answer %s on stream %d" % (host, r["status"], r["stream_id"]))
		if entry.get("download") and r["response_bytes"] != int(entry["download"]):
			raise RuntimeError("%s: download of %s bytes brought %d" % (host, entry["download"],
										  r["response_bytes"]))
	return report


def quic_info(report, req):
	"""The ground truth's "quic" object of a datum."""
	version = {"0x00000001": "1", "0x709a50c4": "2draft"}.get(report["quic_version"], report["quic_version"])
	info = {"version": version, "cipher": report["cipher"], "alpn": report.get("alpn", "h3"),
		"stream_id": req["stream_id"], "key_updates": req["key_updates"],
		"migrations": req["migrations"]}
	if report.get("retry"):
		info["retry"] = True
	return info
