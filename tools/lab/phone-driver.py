#!/usr/bin/env python3
"""The lab phone: runs a scenario's steps inside the phone namespace.

usage: phone-driver.py SCENARIO.yaml DEVICE.yaml CATALOGUE.tsv CA.pem KEYLOG TRUTH_RAW

Real sockets, real TLS (Python's OpenSSL; curl for HTTP/2), real DNS queries
to the lab resolver. Every planted value is appended to TRUTH_RAW (JSON Lines)
with the bytes that carried it, so tools/lab/truth.py can find its packet in the
monitor capture afterwards. Step kinds are documented in docs/lab.md.
"""
import datetime
import json
import os
import random
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plant  # noqa: E402
import quic_clients  # noqa: E402
import tls_clients  # noqa: E402

DNS_SERVER = "39.156.66.53"
USER_AGENT = "Dalvik/2.1.0 (Linux; U; Android 12; LAB-PHONE Build/SKQ1.220303.001)"
# How long one exchange may take before the step fails. Generous: on a
# loaded 2-core machine a server or curl may wait seconds for a CPU; a
# working exchange returns at once whatever this says.
IO_TIMEOUT = 30.0
# Not exported by Python's ssl module; OpenSSL 3's value.
SSL_OP_NO_ENCRYPT_THEN_MAC = 1 << 19


def now_iso(ts):
	return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Driver:
	def __init__(self, scenario, values, catalogue, ca, keylog, truth):
		self.scenario = scenario
		self.values = values
		self.catalogue = catalogue
		self.ca = ca
		self.keylog = keylog
		self.truth = truth
		self.resolved = {}     # (host, family) -> address
		self.contacted = {}    # host -> set of addresses
		self.rng = random.Random(0x1ab)

	def emit(self, record):
		self.truth.write(json.dumps(record, ensure_ascii=False) + "\n")
		self.truth.flush()

	def datum(self, p, field, protocol, host, dst, dport, sport, transport, wire, step, tls=None,
		  quic=None):
		rec = {"record": "datum", "type": p.type, "value": p.value, "encoding": p.encoding,
		       "text": p.text, "field": field, "protocol": protocol, "hostname": host,
		       "dst_ip": dst, "dst_port": dport, "src_port": sport, "transport": transport,
		       "wire_hex": wire.hex(), "step": step, "ts": time.time()}
		if tls:
			rec["tls"] = tls
		if quic:
			rec["quic"] = quic
		self.emit(rec)

	# --- DNS -----------------------------------------------------------------
	def dns_query(self, name, qtype, step):
		"""One query to the lab resolver; the addresses answered (A or AAAA)."""
		qid = self.rng.randrange(65536)
		labels = name.encode().split(b".")
		qname = b"".join(struct.pack("B", len(l)) + l for l in labels if l) + b"\0"
		if any(len(l) > 63 for l in labels):
			raise ValueError("DNS label longer than 63 bytes in %r" % name)
		query = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", qtype, 1)
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.settimeout(IO_TIMEOUT)
		s.connect((DNS_SERVER, 53))
		s.send(query)
		sport = s.getsockname()[1]
		reply = s.recv(4096)
		s.close()
		return self.parse_answers(reply, qid, qtype), sport, query

	@staticmethod
	def parse_answers(msg, qid, qtype):
		if len(msg) < 12 or struct.unpack_from("!H", msg, 0)[0] != qid:
			return []
		qd, an = struct.unpack_from("!HH", msg, 4)
		off = 12

		def skip_name(o):
			while o < len(msg):
				n = msg[o]
				if n == 0:
					return o + 1
				if n & 0xC0 == 0xC0:
					return o + 2
				o += 1 + n
			return len(msg)
		for _ in range(qd):
			off = skip_name(off) + 4
		out = []
		for _ in range(an):
			off = skip_name(off)
			if off + 10 > len(msg):
				break
			rtype, _cls, _ttl, rdlen = struct.unpack_from("!HHIH", msg, off)
			off += 10
			rdata = msg[off:off + rdlen]
			off += rdlen
			if rtype == 1 and rdlen == 4:
				out.append(socket.inet_ntop(socket.AF_INET, rdata))
			elif rtype == 28 and rdlen == 16:
				out.append(socket.inet_ntop(socket.AF_INET6, rdata))
		return out

	def resolve(self, host, ipv6=False):
		key = (host, ipv6)
		if key not in self.resolved:
			addrs, _, _ = self.dns_query(host, 28 if ipv6 else 1, None)
			if not addrs:
				raise RuntimeError("lab DNS has no %s record for %s" % ("AAAA" if ipv6 else "A", host))
			self.resolved[key] = addrs[0]
		addr = self.resolved[key]
		self.contacted.setdefault(host, set()).add(addr)
		return addr

	def step_dns(self, spec, step):
		if isinstance(spec, str):
			spec = {"name": spec}
		name, planted = plant.expand(spec["name"], self.values)
		qtype = 28 if spec.get("type", "A").upper() == "AAAA" else 1
		addrs, sport, query = self.dns_query(name, qtype, step)
		for p in planted:
			self.datum(p, "dns.qname", "dns", name, DNS_SERVER, 53, sport, "udp", p.text.encode(), step)
		if addrs:
			self.resolved.setdefault((name, qtype == 28), addrs[0])

	# --- HTTP/1.1 over TCP or TLS ---------------------------------------------
	def build_http(self, spec, host):
		"""Request bytes plus [(Planted, field, wire bytes)]."""
		plants = []
		method = spec.get("method", "GET" if not any(k in spec for k in ("form", "json", "body")) else "POST")
		path, pl = plant.expand(spec.get("path", "/"), self.values)
		plants += [(p, "http.path", p.text.encode()) for p in pl]
		query = []
		for key, tmpl in (spec.get("query") or {}).items():
			text, pl = plant.expand(str(tmpl), self.values)
			query.append("%s=%s" % (key, text))
			plants += [(p, "http.query:" + key, p.text.encode()) for p in pl]
		if query:
			path += ("&" if "?" in path else "?") + "&".join(query)
		headers = [("Host", host), ("User-Agent", USER_AGENT), ("Accept", "*/*")]
		for name, tmpl in (spec.get("headers") or {}).items():
			text, pl = plant.expand(str(tmpl), self.values)
			headers = [h for h in headers if h[0].lower() != name.lower()] + [(name, text)]
			plants += [(p, "http.header:" + name, p.text.encode()) for p in pl]
		cookies = []
		for name, tmpl in (spec.get("cookies") or {}).items():
			text, pl = plant.expand(str(tmpl), self.values)
			cookies.append("%s=%s" % (name, text))
			plants += [(p, "http.header:Cookie", p.text.encode()) for p in pl]
		if cookies:
			headers.append(("Cookie", "; ".join(cookies)))
		body, ctype, body_plants = self.build_body(spec)
		gz = bool(spec.get("gzip"))
		if gz and body:
			body = plant.gzip_bytes(body)
			headers.append(("Content-Encoding", "gzip"))
		if ctype:
			headers.append(("Content-Type", ctype))
		for p, field in body_plants:
			if gz:
				p.encoding = "gzip+" + p.encoding
			# A gzip body holds no plain copy: its last byte ends the value.
			plants.append((p, field, body if gz else p.text.encode()))
		if body or method in ("POST", "PUT"):
			headers.append(("Content-Length", str(len(body))))
		return method, path, headers, body, plants

	def build_body(self, spec):
		plants = []
		pad = "x" * int(spec.get("pad_bytes", 0))
		if "form" in spec:
			parts = ["pad=" + pad] if pad else []
			for key, tmpl in spec["form"].items():
				text, pl = plant.expand(str(tmpl), self.values)
				parts.append("%s=%s" % (key, text))
				plants += [(p, "http.body.form:" + key) for p in pl]
			return "&".join(parts).encode(), "application/x-www-form-urlencoded", plants
		if "json" in spec:
			doc = self.expand_json(spec["json"], "", plants)
			if pad:
				# Filler first: the planted values land in a later TLS record.
				doc = dict({"pad": pad}, **doc)
			return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode(), \
				"application/json; charset=utf-8", plants
		if "body" in spec:
			text, pl = plant.expand(str(spec["body"]), self.values)
			plants += [(p, "http.body") for p in pl]
			return text.encode(), spec.get("content_type", "application/octet-stream"), plants
		if "random_bytes" in spec:
			return os.urandom(int(spec["random_bytes"])), "application/octet-stream", plants
		return b"", None, plants

	def expand_json(self, node, path, plants):
		if isinstance(node, dict):
			return {k: self.expand_json(v, path + ("." if path else "") + str(k), plants)
				for k, v in node.items()}
		if isinstance(node, list):
			return [self.expand_json(v, "%s[%d]" % (path, i), plants) for i, v in enumerate(node)]
		if isinstance(node, str):
			text, pl = plant.expand(node, self.values)
			plants += [(p, "http.body.json:" + path) for p in pl]
			if len(pl) == 1 and pl[0].numeric and text == pl[0].text:
				# A coordinate travels as a JSON number: record the digits as sent.
				num = float(text) if "." in text else int(text)
				pl[0].text = json.dumps(num)
				return num
			return text
		return node

	def connect(self, host, port, spec):
		ipv6 = bool(spec.get("ipv6"))
		dst = spec.get("ip") or self.resolve(host, ipv6)
		self.contacted.setdefault(host, set()).add(dst)
		return socket.create_connection((dst, port), timeout=IO_TIMEOUT), dst

	def tls_context(self, version, alpn, spec=None):
		spec = spec or {}
		ctx = ssl.create_default_context(cafile=self.ca)
		ctx.keylog_filename = self.keylog
		v = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[str(version)]
		ctx.minimum_version = ctx.maximum_version = v
		ctx.set_alpn_protocols([alpn])
		if spec.get("ciphers"):
			ctx.set_ciphers(spec["ciphers"])
		if spec.get("etm") is False:
			ctx.options |= SSL_OP_NO_ENCRYPT_THEN_MAC
		if spec.get("resume") == "id":
			# No ticket: the server must resume from its session cache by ID.
			ctx.options |= ssl.OP_NO_TICKET
		return ctx

	def step_http(self, spec, step, scheme):
		host = spec["host"]
		tls = scheme == "https"
		if tls and (spec.get("http2") or spec.get("client") == "curl" or spec.get("download")):
			return self.step_curl(spec, step)
		if tls and spec.get("key_update"):
			return self.step_key_update(spec, step)
		port = int(spec.get("port", 443 if tls else 80))
		version = str(spec.get("tls", "1.3"))
		if spec.get("resume") and (not tls or spec["resume"] not in ("ticket", "id")
					   or version == "1.3" and spec["resume"] == "id"):
			raise ValueError("step %d: resume is ticket (TLS 1.2/1.3) or id (TLS 1.2)" % step)
		ctx = self.tls_context(version, "http/1.1", spec) if tls else None
		session = None
		# resume: a full handshake, then a second connection resuming its session.
		for attempt in range(2 if spec.get("resume") else 1):
			method, path, headers, body, plants = self.build_http(spec, host)
			head = "%s %s HTTP/1.1\r\n" % (method, path)
			head += "".join("%s: %s\r\n" % h for h in headers) + "Connection: close\r\n\r\n"
			raw, dst = self.connect(host, port, spec)
			sport = raw.getsockname()[1]
			info = None
			sock = raw
			if tls:
				sock = ctx.wrap_socket(raw, server_hostname=host, session=session)
				resumed = spec["resume"] if attempt else None
				if attempt and not sock.session_reused:
					raise RuntimeError("%s: TLS session was not resumed (%s)" % (host, spec["resume"]))
				info = tls_clients.tls_info(sock.version().replace("TLSv", ""), sock.cipher()[0],
							    sock.selected_alpn_protocol(), spec.get("etm"), resumed)
				tls_clients.expect_suite(spec, info["version"], info["cipher"], host)
			sock.sendall(head.encode() + body)
			status = self.read_response(sock)
			if tls:
				session = sock.session
			sock.close()
			proto = "https" if tls else "http"
			for p, field, wire in plants:
				self.datum(p, field, proto, host, dst, port, sport, "tcp", wire, step, info)
		return status

	@staticmethod
	def read_response(sock):
		data = b""
		try:
			while True:
				chunk = sock.recv(65536)
				if not chunk:
					break
				data += chunk
		except (ssl.SSLError, ConnectionError, socket.timeout):
			pass
		line = data.split(b"\r\n", 1)[0].decode(errors="replace")
		if " 200 " not in line + " ":
			raise RuntimeError("unexpected HTTP response %r" % line)
		return line

	def step_curl(self, spec, step):
		"""HTTPS through curl: HTTP/2 (ALPN h2) or HTTP/1.1, a chosen cipher
		or TLS 1.3 suite, or a download; keys to the same key log."""
		host = spec["host"]
		port = int(spec.get("port", 443))
		method, path, headers, body, plants = self.build_http(spec, host)
		if spec.get("download"):
			path = "/download/" + self.download_file(int(spec["download"]))
		dst = spec.get("ip") or self.resolve(host, bool(spec.get("ipv6")))
		self.contacted.setdefault(host, set()).add(dst)
		sport, info = tls_clients.curl(self.ca, self.keylog, host, port, dst, method, path,
					       headers, body, spec)
		for p, field, wire in plants:
			self.datum(p, field, "https", host, dst, port, sport, "tcp", wire, step, info)

	def download_file(self, size):
		"""A file of SIZE random bytes under the lab's web root (nginx serves
		/download/ from LAB_RUN/www), made once per size."""
		name = "blob-%d.bin" % size
		path = os.path.join(os.environ["LAB_RUN"], "www", name)
		if not os.path.exists(path):
			with open(path + ".tmp", "wb") as f:
				left = size
				while left > 0:
					f.write(os.urandom(min(left, 1 << 20)))
					left -= 1 << 20
			os.rename(path + ".tmp", path)
		return name

	def step_key_update(self, spec, step):
		"""TLS 1.3 over openssl s_client with HTTP/1.1 keep-alive: a request,
		a KeyUpdate both ways (K), a request, a KeyUpdate of the client's keys
		only (k), a last request. Every request plants its values."""
		host = spec["host"]
		port = int(spec.get("port", 443))
		if str(spec.get("tls", "1.3")) != "1.3":
			raise ValueError("step %d: key_update needs TLS 1.3" % step)
		dst = spec.get("ip") or self.resolve(host, bool(spec.get("ipv6")))
		self.contacted.setdefault(host, set()).add(dst)
		client = tls_clients.SClient(self.ca, self.keylog, host, port, dst, spec)
		sent = []
		try:
			for n, command in enumerate((None, b"K", b"k")):
				if command:
					client.command(command, n)
				method, path, headers, body, plants = self.build_http(spec, host)
				last = n == 2
				head = "%s %s HTTP/1.1\r\n" % (method, path)
				head += "".join("%s: %s\r\n" % h for h in headers)
				head += "Connection: %s\r\n\r\n" % ("close" if last else "keep-alive")
				client.send(head.encode() + body)
				client.wait_for(b'"result":"ok"', n + 1)
				sent.append((n, plants))
		finally:
			version, cipher = client.finish()
		tls_clients.expect_suite(spec, version, cipher, host)
		if client.out.count(b"KEYUPDATE") != 2:
			raise RuntimeError("%s: s_client did not send both KeyUpdates" % host)
		for updates, plants in sent:
			info = tls_clients.tls_info(version, cipher, "http/1.1", key_updates=updates)
			for p, field, wire in plants:
				self.datum(p, field, "https", host, dst, port, client.sport, "tcp", wire, step, info)

	# --- HTTP/3 over QUIC -----------------------------------------------------
	def step_quic(self, spec, step):
		"""One QUIC connection with one or more HTTP/3 requests, key updates
		and migrations between them (tools/lab/quic_clients.py)."""
		host = spec["host"]
		port = int(spec.get("port", 443))
		dst = spec.get("ip") or self.resolve(host, bool(spec.get("ipv6")))
		self.contacted.setdefault(host, set()).add(dst)
		built, plants = [], []
		for entry in quic_clients.request_specs(spec):
			if isinstance(entry, str):
				continue
			method, path, headers, body, pl = self.build_http(entry, host)
			if entry.get("download"):
				path = quic_clients.download_path(int(entry["download"]))
			built.append((method, path, headers, body))
			plants.append(pl)
		report = quic_clients.run(self.ca, self.keylog, host, dst, port, spec, built)
		for req, pl in zip(report["requests"], plants):
			info = quic_clients.quic_info(report, req)
			for p, field, wire in pl:
				self.datum(p, field, "http3", host, dst, port, req["src_port"], "udp", wire, step,
					   quic=info)

	# --- plain TCP / UDP ------------------------------------------------------
	def step_raw(self, spec, step, transport):
		host = spec["host"]
		port = int(spec["port"])
		text, planted = plant.expand(str(spec["payload"]), self.values)
		data = text.encode()
		if transport == "tcp":
			sock, dst = self.connect(host, port, spec)
			sock.sendall(data)
			sock.recv(100)
			sock.shutdown(socket.SHUT_WR)
			while sock.recv(100):
				pass
		else:
			dst = spec.get("ip") or self.resolve(host, bool(spec.get("ipv6")))
			fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
			sock = socket.socket(fam, socket.SOCK_DGRAM)
			sock.settimeout(IO_TIMEOUT)
			sock.connect((dst, port))
			sock.send(data)
			sock.recv(100)
		sport = sock.getsockname()[1]
		sock.close()
		for p in planted:
			self.datum(p, transport + ".payload", "raw-" + transport, host, dst, port, sport, transport,
				   p.text.encode(), step)

	# --- scenario -------------------------------------------------------------
	def run(self):
		sc = self.scenario
		self.emit({"record": "scenario", "name": sc["name"], "app": sc.get("app"),
			   "description": sc.get("description", "").strip(), "clean": bool(sc.get("clean")),
			   "device": "signatures/devices/lab-phone.yaml", "started": now_iso(time.time())})
		repeat = int(sc.get("repeat", 1))
		for _ in range(repeat):
			for i, step in enumerate(sc["steps"], 1):
				self.run_step(step, i)
		for host in sorted(self.contacted):
			info = self.catalogue.get(host) or self.catalogue_wildcard(host)
			for addr in sorted(self.contacted[host]):
				self.emit({"record": "destination", "host": host, "ip": addr,
					   "country": info[2] if info else None, "owner": info[3] if info else None})
		self.emit({"record": "end", "finished": now_iso(time.time())})

	def catalogue_wildcard(self, host):
		for name, info in self.catalogue.items():
			if name.startswith("*.") and host.endswith(name[1:]):
				return info
		return None

	def run_step(self, step, index):
		(kind, spec), = step.items()
		if kind == "dns":
			self.step_dns(spec, index)
		elif kind in ("http", "https"):
			self.step_http(spec, index, kind)
		elif kind in ("tcp", "udp"):
			self.step_raw(spec, index, kind)
		elif kind == "quic":
			self.step_quic(spec, index)
		elif kind == "consent":
			t = time.time()
			self.emit({"record": "consent", "time": now_iso(t), "step": index,
				   "note": (spec or {}).get("note", "user tapped agree") if isinstance(spec, dict) else spec})
		elif kind == "tls_suites":
			for sub in tls_clients.suite_steps(spec):
				self.run_step(sub, index)
		elif kind == "matrix":
			for sub in matrix_steps(spec, self.values):
				self.run_step(sub, index)
		elif kind == "sleep":
			time.sleep(float(spec))
		else:
			raise ValueError("step %d: unknown step kind %r" % (index, kind))


def matrix_steps(spec, values):
	"""Every device value in every encoding, in every field kind: the steps
	of the signature engine's recall scenario (docs/lab.md)."""
	types = spec.get("types") or [t for t in values if t != "location"]
	encodings = spec.get("encodings") or list(plant.TEXT_ENCODINGS)
	fields = spec.get("fields") or ["query", "header", "cookie", "form", "json", "gzip-json",
					"https", "http2", "tcp", "udp", "dns"]
	for enc in encodings:
		chosen = {}
		for t in types:
			for i in range(len(values[t])):
				ph = "{%s#%d:%s}" % (t, i, enc)
				text, _ = plant.expand(ph, values)
				raw, _ = plant.expand("{%s#%d}" % (t, i), values)
				# An encoding that leaves the text unchanged plants nothing new.
				if enc != "raw" and text == raw:
					continue
				chosen["%s%s" % (t, "_%d" % i if i else "")] = (ph, text)
		if not chosen:
			continue
		kv = {k: ph for k, (ph, _) in chosen.items()}
		host, shost = spec["http_host"], spec["https_host"]
		if "query" in fields:
			yield {"http": {"host": host, "path": "/q/" + enc, "query": kv}}
		if "header" in fields:
			yield {"http": {"host": host, "path": "/h/" + enc,
					"headers": {"X-Lab-" + k.replace("_", "-"): v for k, v in kv.items()}}}
		if "cookie" in fields:
			yield {"http": {"host": host, "path": "/c/" + enc, "cookies": kv}}
		if "form" in fields:
			yield {"http": {"host": host, "path": "/f/" + enc, "form": kv}}
		if "json" in fields:
			yield {"http": {"host": host, "path": "/j/" + enc, "json": {"device": kv}}}
		if "gzip-json" in fields:
			yield {"http": {"host": host, "path": "/z/" + enc, "json": {"device": kv}, "gzip": True}}
		if "https" in fields:
			yield {"https": {"host": shost, "path": "/s/" + enc, "tls": "1.2", "query": kv}}
		if "http2" in fields:
			yield {"https": {"host": shost, "path": "/s2/" + enc, "http2": True, "json": {"device": kv}}}
		if "tcp" in fields:
			yield {"tcp": {"host": spec["tcp_host"], "port": 9000,
				       "payload": "|".join("%s=%s" % kv_ for kv_ in kv.items())}}
		if "udp" in fields:
			yield {"udp": {"host": spec["udp_host"], "port": 9001,
				       "payload": "|".join("%s=%s" % kv_ for kv_ in kv.items())}}
		if "dns" in fields:
			for k, (ph, text) in chosen.items():
				if len(text) <= 63 and "." not in text and text.isascii():
					yield {"dns": "%s.%s" % (ph, spec["dns_zone"])}
	if spec.get("location", True):
		fmts = plant.LOCATION_FORMATS
		for fmt in fmts:
			host = spec["http_host"]
			yield {"http": {"host": host, "path": "/loc/" + fmt,
					"query": {"loc": "{location:%s}" % fmt}}}
			if fmt == "wgs84-lonlat":   # its parts are the wgs84 ones
				yield {"http": {"host": host, "path": "/loc/" + fmt, "form": {"pos": "{location:%s}" % fmt}}}
				continue
			yield {"http": {"host": host, "path": "/loc/" + fmt,
					"query": {"lat": "{location.lat:%s}" % fmt, "lng": "{location.lon:%s}" % fmt}}}
			yield {"http": {"host": host, "path": "/loc/" + fmt, "json": {
				"gps": {"latitude": "{location.lat:%s}" % fmt, "longitude": "{location.lon:%s}" % fmt}}}}
			yield {"http": {"host": host, "path": "/loc/" + fmt, "form": {"pos": "{location:%s}" % fmt}}}


def load_catalogue(path):
	cat = {}
	with open(path, encoding="utf-8") as f:
		for line in f:
			cols = line.split()
			if len(cols) >= 5 and not line.startswith("#"):
				cat[cols[0]] = (cols[1], cols[2], cols[3], cols[4])
	return cat


def main():
	if len(sys.argv) != 7:
		print(__doc__, file=sys.stderr)
		return 2
	import yaml
	with open(sys.argv[1], encoding="utf-8") as f:
		scenario = yaml.safe_load(f)
	values = plant.load_device(sys.argv[2])
	catalogue = load_catalogue(sys.argv[3])
	with open(sys.argv[6], "w", encoding="utf-8") as truth:
		Driver(scenario, values, catalogue, sys.argv[4], sys.argv[5], truth).run()
	return 0


if __name__ == "__main__":
	sys.exit(main())
