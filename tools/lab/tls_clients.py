"""TLS clients of the lab phone beyond Python's own: curl (HTTP/1.1 or HTTP/2,
a chosen TLS 1.2 cipher or TLS 1.3 suite) and openssl s_client (TLS 1.3
KeyUpdate in the middle of a connection), plus the tls_suites step that
expands a list of cipher suites into one HTTPS request per suite and HTTP
version (docs/lab.md, scenario tls-matrix).

Every client writes its secrets to the scenario's key log and reports what
the handshake really negotiated, so the ground truth says which suite
carried each planted value; a client that negotiates anything other than
what the scenario asked for stops the run.
"""
import os
import re
import select
import socket
import subprocess
import tempfile
import time

IO_TIMEOUT = 30.0  # per exchange; generous for a loaded machine (phone-driver.py)

# Suites whose records are MAC-then-encrypt CBC unless encrypt-then-MAC
# (RFC 7366) is negotiated; AEAD suites ignore the extension.
CBC_MARKERS = ("-SHA", "-SHA256", "-SHA384")


def is_cbc(cipher):
	return cipher is not None and "GCM" not in cipher and "CHACHA" not in cipher \
		and not cipher.startswith("TLS_") and cipher.endswith(CBC_MARKERS)


def tls_info(version, cipher, alpn, etm=None, resumed=None, key_updates=None):
	"""The ground truth's "tls" object of a datum."""
	info = {"version": version, "cipher": cipher, "alpn": alpn}
	if is_cbc(cipher):
		# OpenSSL offers and accepts encrypt-then-MAC unless told not to.
		info["etm"] = True if etm is None else bool(etm)
	if resumed:
		info["resumed"] = resumed
	if key_updates is not None:
		info["key_updates"] = key_updates
	return info


def url_addr(addr):
	return "[%s]" % addr if ":" in addr else addr


def curl(ca, keylog, host, port, dst, method, path, headers, body, spec):
	"""One request through curl. Returns (local port, tls info)."""
	version = str(spec.get("tls", "1.3"))
	h2 = bool(spec.get("http2"))
	cmd = ["curl", "-sS", "-v", "--http2" if h2 else "--http1.1", "--cacert", ca, "-X", method,
	       "-o", "/dev/null", "-w", "%{local_port} %{http_version} %{http_code}",
	       "--max-time", str(IO_TIMEOUT), "--resolve", "%s:%d:%s" % (host, port, url_addr(dst)),
	       "--tlsv" + version, "--tls-max", version]
	if spec.get("ciphers"):
		cmd += ["--ciphers", spec["ciphers"]]
	if spec.get("tls13_ciphers"):
		cmd += ["--tls13-ciphers", spec["tls13_ciphers"]]
	if spec.get("rate"):
		# Bulk transfers at a pace the capture keeps up with (no drops).
		cmd += ["--limit-rate", str(spec["rate"])]
	for name, val in headers:
		if name.lower() not in ("host", "content-length"):
			cmd += ["-H", "%s: %s" % (name, val)]
	tmp = None
	if body:
		tmp = tempfile.NamedTemporaryFile(delete=False)
		tmp.write(body)
		tmp.close()
		cmd += ["--data-binary", "@" + tmp.name]
	cmd.append("https://%s:%d%s" % (host, port, path))
	env = dict(os.environ, SSLKEYLOGFILE=keylog)
	try:
		out = subprocess.run(cmd, env=env, capture_output=True, text=True,
				     timeout=float(spec.get("timeout", IO_TIMEOUT)) + 5)
	finally:
		if tmp:
			os.unlink(tmp.name)
	fields = out.stdout.split()
	want_http = "2" if h2 else "1.1"
	if out.returncode != 0 or len(fields) != 3 or fields[1] != want_http or fields[2] != "200":
		raise RuntimeError("curl HTTP/%s to %s failed: %s %s" % (want_http, host, out.stdout,
									 out.stderr[-2000:]))
	m = re.search(r"SSL connection using TLSv([\d.]+) / (\S+)", out.stderr)
	if not m:
		raise RuntimeError("curl to %s: no TLS connection line in its trace" % host)
	expect_suite(spec, m.group(1), m.group(2), host)
	return int(fields[0]), tls_info(m.group(1), m.group(2), "h2" if h2 else "http/1.1")


def expect_suite(spec, version, cipher, host):
	"""The handshake must give what the scenario asked for."""
	want_version = str(spec.get("tls", "1.3"))
	want_cipher = spec.get("tls13_ciphers") if want_version == "1.3" else spec.get("ciphers")
	if version != want_version or (want_cipher and ":" not in want_cipher and cipher != want_cipher):
		raise RuntimeError("%s: negotiated TLS %s %s, the scenario asked for TLS %s %s"
				   % (host, version, cipher, want_version, want_cipher))


def free_port(src):
	"""A local port for a client that binds where it is told (s_client -bind)."""
	fam = socket.AF_INET6 if ":" in src else socket.AF_INET
	s = socket.socket(fam, socket.SOCK_STREAM)
	s.bind((src, 0))
	port = s.getsockname()[1]
	s.close()
	return port


def source_address(dst, port):
	fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
	s = socket.socket(fam, socket.SOCK_DGRAM)
	s.connect((dst, port))
	src = s.getsockname()[0]
	s.close()
	return src


class SClient:
	"""openssl s_client driven through its stdin: lines "K" and "k" are its
	commands for a TLS 1.3 KeyUpdate (K also asks the server to update)."""

	def __init__(self, ca, keylog, host, port, dst, spec):
		self.src = source_address(dst, port)
		self.sport = free_port(self.src)
		cmd = ["openssl", "s_client", "-connect", "%s:%d" % (url_addr(dst), port),
		       "-bind", "%s:%d" % (url_addr(self.src), self.sport), "-servername", host,
		       "-CAfile", ca, "-verify_return_error", "-tls1_3", "-alpn", "http/1.1",
		       "-keylogfile", keylog]
		if spec.get("tls13_ciphers"):
			cmd += ["-ciphersuites", spec["tls13_ciphers"]]
		self.host = host
		self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
					     stderr=subprocess.STDOUT)
		self.out = b""

	def send(self, data):
		self.proc.stdin.write(data)
		self.proc.stdin.flush()

	def command(self, letter, done):
		"""A command letter (K, k). s_client takes the first byte of each
		read of its stdin as a possible command and drops the rest of that
		read, so the letter must be read alone: write it, then wait until
		s_client has acted on it (DONE: its count of KEYUPDATE lines)
		before anything else is written."""
		self.send(letter + b"\n")
		self.wait_for(b"KEYUPDATE", done)

	def wait_for(self, pattern, count, timeout=IO_TIMEOUT):
		end = time.time() + timeout
		while self.out.count(pattern) < count:
			left = end - time.time()
			if left <= 0 or self.proc.poll() is not None and not self._readable(0):
				raise RuntimeError("s_client to %s: waited for %r x%d; output tail: %r"
						   % (self.host, pattern, count, self.out[-1500:]))
			if self._readable(min(left, 0.2)):
				chunk = os.read(self.proc.stdout.fileno(), 65536)
				if not chunk and self.proc.poll() is not None:
					continue
				self.out += chunk

	def _readable(self, timeout):
		r, _, _ = select.select([self.proc.stdout], [], [], timeout)
		return bool(r)

	def finish(self):
		try:
			self.proc.stdin.close()
		except BrokenPipeError:
			pass
		end = time.time() + IO_TIMEOUT
		while time.time() < end and self._readable(max(0.0, end - time.time())):
			chunk = os.read(self.proc.stdout.fileno(), 65536)
			if not chunk:
				break
			self.out += chunk
		if self.proc.poll() is None:
			self.proc.kill()
		self.proc.wait()
		self.proc.stdout.close()
		m = re.search(rb"New, TLSv([\d.]+), Cipher is (\S+)", self.out)
		if not m:
			raise RuntimeError("s_client to %s: no handshake summary" % self.host)
		return m.group(1).decode(), m.group(2).decode()


def suite_steps(spec):
	"""tls_suites: one https step per suite and HTTP version. Bodies alternate
	between the request's json and form so both body kinds travel in both
	HTTP versions; a suite with etm: false goes through Python's ssl (curl
	cannot switch encrypt-then-MAC off), HTTP/1.1 only."""
	request = dict(spec.get("request") or {})
	json_body = request.pop("json", None)
	form_body = request.pop("form", None)
	versions = [str(v) for v in spec.get("http", ["1.1", "2"])]
	for i, suite in enumerate(spec["suites"]):
		suite = dict(suite)
		version = str(suite.get("tls", "1.3"))
		cipher = suite.get("ciphers") or suite.get("tls13_ciphers") or "default"
		python = suite.get("etm") is False
		for j, http in enumerate(["1.1"] if python else versions):
			step = {"host": spec["host"], "tls": version}
			step.update(request)
			step.update(suite)
			tag = "h2" if http == "2" else "h1"
			if suite.get("etm") is False:
				tag += "-noetm"
			step["path"] = "%s/%s/%s/%s" % (spec.get("path", "/tls"), version, cipher, tag)
			step["http2"] = http == "2"
			if not python:
				step["client"] = "curl"
			body = json_body if (i + j) % 2 == 0 else form_body
			if body is None:
				body = json_body if json_body is not None else form_body
			if body is not None:
				step["json" if body is json_body else "form"] = body
			yield {"https": step}
