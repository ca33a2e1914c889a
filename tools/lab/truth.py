#!/usr/bin/env python3
"""truth.py TRUTH_RAW MONITOR.pcapng KEYLOG > NAME.truth.jsonl

Turns the driver's raw record of planted values into the scenario's ground
truth: for each datum, the 1-based number of the packet in the monitor capture
that holds the value's last byte (docs/lab.md, "Ground truth").

Cleartext TCP: the phone's byte stream of that connection is rebuilt and the
value's bytes located in it. UDP: the datagram holding them. Inside TLS: tshark
decrypts with the key log and the value is looked for in the decrypted,
decompressed data of the connection's packets (HPACK-decoded headers for
HTTP/2); the packet reported is the one that completed the TLS record.
Inside QUIC (HTTP/3): tshark decrypts the QUIC packets with the key log and
the request's stream is read back (tools/lab/quicstreams.py, qpack.py; for
a QUIC version tshark does not know, the lab's own decryption,
tools/lab/quicdecrypt.py); a
value in the request head (path, query, header, cookie) belongs to the
packet that completed the HEADERS frame holding it, or the later packet
that completed the QPACK encoder instruction its field line refers to; a
value in the body, to the packet holding its last byte (for a gzip body,
the body's last byte).
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labpcap  # noqa: E402
import qpack  # noqa: E402
import quicdecrypt  # noqa: E402
import quicstreams  # noqa: E402

PHONE_ADDRS = ("10.66.0.2", "fd66::2")
INTERNAL = ("wire_hex", "transport", "ts")


class Locator:
	def __init__(self, capture, keylog):
		self.capture = capture
		self.keylog = keylog
		self.packets = labpcap.read_packets(capture)
		self.connections = labpcap.connections(self.packets)
		self.assembled = {}
		self.cursor = {}
		self.decrypted = None
		self.quic = None
		self.quic_lab = None

	def upstream(self, rec):
		"""(key, Stream) of the phone's side of the connection that carried
		rec: of several connections on one 5-tuple (a port reused), the last
		one opened before the driver recorded the datum."""
		proto = 6 if rec["transport"] == "tcp" else 17
		for src in PHONE_ADDRS:
			key = (proto, src, rec["src_port"], rec["dst_ip"], rec["dst_port"])
			conns = self.connections.get(key)
			if not conns:
				continue
			ts = rec.get("ts")
			i = len(conns) - 1
			while i > 0 and ts is not None and conns[i].first_ts > ts:
				i -= 1
			return key + (i,), conns[i]
		return None, None

	def locate(self, rec):
		"""(packet number or None, note or None)."""
		if rec["protocol"] == "http3":
			return self.locate_quic(rec)
		key, st = self.upstream(rec)
		if st is None:
			return None, "flow not in the capture"
		wire = bytes.fromhex(rec["wire_hex"])
		if rec["transport"] == "udp":
			for number, payload in st.datagrams:
				if wire in payload:
					return number, None
			return None, "value not found in the flow's datagrams"
		if rec["protocol"] == "https":
			return self.locate_tls(key, rec["text"].encode())
		if key not in self.assembled:
			self.assembled[key] = st.assemble()
		data, owners = self.assembled[key]
		# Values appear in the order the driver wrote them; a cursor keeps two
		# identical values in one request apart. Gzip bodies share their bytes.
		start = self.cursor.get(key, 0)
		pos = data.find(wire, start)
		if pos < 0:
			pos = data.find(wire)
		if pos < 0:
			return None, "value not found in the connection's bytes"
		end = pos + len(wire) - 1
		self.cursor[key] = pos + len(wire)
		return owners[end] or None, None if owners[end] else "bytes missing from the capture"

	def locate_tls(self, key, text):
		if self.decrypted is None:
			self.decrypted = decrypted_by_frame(self.capture, self.keylog)
		frames = self.flow_frames(key)
		# The same value sent again on one connection (requests on a kept-alive
		# TLS connection) is the next occurrence: search after the last one.
		start = self.cursor.get((key, text), 0)
		for number in sorted(frames):
			if number < start:
				continue
			if text in self.decrypted.get(number, b""):
				self.cursor[(key, text)] = number + 1
				return number, None
		for number in sorted(frames):
			if text in self.decrypted.get(number, b""):
				return number, None
		return None, "not found in the decrypted data (key log missing or tshark cannot decode)"

	@staticmethod
	def carried(conns, rec):
		for conn in conns.values():
			if conn.server == (rec["dst_ip"], rec["dst_port"]) and \
					any(port == rec["src_port"] for _, port in conn.client) and conn.streams:
				return conn
		return None

	def quic_connection(self, rec):
		"""The decrypted connection that carried rec: tshark's, else (a QUIC
		version tshark 4.0 does not know) the lab decryption's."""
		if self.quic is None:
			try:
				self.quic = quicstreams.read(self.capture, self.keylog)
			except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
				print("truth.py: %s" % e, file=sys.stderr)
				self.quic = {}
		conn = self.carried(self.quic, rec)
		if conn is None:
			if self.quic_lab is None:
				self.quic_lab = quicdecrypt.read(self.capture, self.keylog)
			conn = self.carried(self.quic_lab, rec)
		return conn

	def locate_quic(self, rec):
		conn = self.quic_connection(rec)
		if conn is None:
			return None, "QUIC connection not in the capture or not decrypted by tshark"
		sid = rec["quic"]["stream_id"]
		stream = conn.streams.get(("client", sid))
		if stream is None:
			return None, "request stream %d not in the decrypted data" % sid
		data = stream.contiguous()
		frames = qpack.h3_frames(data)
		text = rec["text"].encode()
		if rec["field"].startswith("http.body"):
			# DATA frame payloads, in order, with each byte's stream offset.
			body, offsets = bytearray(), []
			for ftype, start, end in frames:
				if ftype == 0:
					body += data[start:end]
					offsets.extend(range(start, end))
			if rec["encoding"].startswith("gzip+"):
				if not offsets:
					return None, "no DATA frame on stream %d" % sid
				return stream.owner[offsets[-1]], None
			pos = bytes(body).find(text)
			if pos < 0:
				return None, "value not found in the body on stream %d" % sid
			return stream.owner[offsets[pos + len(text) - 1]], None
		enc_stream = self.encoder_stream(conn)
		for ftype, start, end in frames:
			if ftype != 1:
				continue
			try:
				lines = qpack.field_section(data[start:end], enc_stream)
			except qpack.QpackError as e:
				return None, "field section on stream %d: %s" % (sid, e)
			for kind, value, index in lines:
				if text not in value:
					continue
				packet = stream.owner[end - 1]
				if kind == "dynamic":
					enc_stream_data = conn.streams[("client", self.encoder_stream_id(conn))]
					packet = max(packet, enc_stream_data.owner[enc_stream.entries[index][1] - 1])
				return packet, None
		return None, "value not found in the request head on stream %d" % sid

	@staticmethod
	def encoder_stream_id(conn):
		"""The client's QPACK encoder stream: its unidirectional stream of type 0x02."""
		for (sender, sid), st in conn.streams.items():
			if sender == "client" and sid % 4 == 2 and st.data[:1] == b"\x02":
				return sid
		return None

	def encoder_stream(self, conn):
		sid = self.encoder_stream_id(conn)
		if sid is None:
			return qpack.EncoderStream(b"")
		return qpack.EncoderStream(conn.streams[("client", sid)].contiguous())

	def flow_frames(self, key):
		"""The packets of the phone's side of that connection."""
		return set(self.connections[key[:5]][key[5]].numbers)


HEX_LINE = re.compile(r"^([0-9a-f]{4,})  ((?:[0-9a-f]{2} ?)+)")
SOURCE_LINE = re.compile(r"^(.+) \((\d+) bytes\):$")


def decrypted_by_frame(capture, keylog):
	"""{frame number: bytes of every data source except the raw frame}, from
	`tshark -x` with the key log (decrypted TLS, HTTP/2 headers, bodies)."""
	cmd = ["tshark", "-n", "-r", capture, "-o", "tls.keylog_file:" + keylog, "-x", "-P",
	       "-T", "text", "-o", "gui.column.format:\"No.\",\"%m\""]
	try:
		out = subprocess.run(cmd, capture_output=True, timeout=300).stdout.decode(errors="replace")
	except (OSError, subprocess.TimeoutExpired):
		return {}
	result = {}
	frame = None
	source = None
	for line in out.splitlines():
		if line.strip().isdigit() and not HEX_LINE.match(line):
			frame = int(line.strip())
			source = "Frame"
			continue
		m = SOURCE_LINE.match(line)
		if m:
			source = m.group(1)
			continue
		m = HEX_LINE.match(line)
		if m and frame is not None and source != "Frame":
			result.setdefault(frame, bytearray()).extend(bytes.fromhex(m.group(2).replace(" ", "")))
	return {k: bytes(v) for k, v in result.items()}


def main():
	if len(sys.argv) != 4:
		print(__doc__, file=sys.stderr)
		return 2
	raw_path, capture, keylog = sys.argv[1:]
	with open(raw_path, encoding="utf-8") as f:
		records = [json.loads(line) for line in f if line.strip()]
	loc = Locator(capture, keylog)
	missing = 0
	for rec in records:
		if rec.get("record") == "datum":
			rec["packet"], note = loc.locate(rec)
			if note:
				rec["packet_note"] = note
				missing += 1
			for k in INTERNAL:
				rec.pop(k, None)
		elif rec.get("record") == "scenario":
			rec["capture"] = os.path.basename(capture)
			rec["keylog"] = os.path.basename(keylog)
		print(json.dumps(rec, ensure_ascii=False))
	if missing:
		print("truth.py: %d planted values have no packet number (see packet_note)" % missing, file=sys.stderr)
	return 0


if __name__ == "__main__":
	sys.exit(main())
