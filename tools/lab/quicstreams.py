"""QUIC stream data as tshark decrypts it, per connection and stream.

tshark (-o tls.keylog_file:KEYLOG) removes header protection, decrypts every
QUIC packet it has keys for (Initial, Handshake, 1-RTT across key updates),
follows a connection across connection IDs and migrations (its connection
number), and shows each STREAM frame's stream ID, offset and data. This
module reads that as JSON and puts each stream's bytes back in order, with
the frame number that carried every byte, so that

- tools/lab/truth.py can say which packet carried a planted value, and
- tools/lab/quic-stream-bytes.py can print the decrypted bytes per stream
  for comparison with privaudit's.

Only STREAM frames count; CRYPTO frames (the TLS handshake) are left out.
"""
import json
import subprocess
from array import array

def _pairs(items):
	"""tshark's JSON repeats keys ("quic.frame" once per frame, "quic" once
	per coalesced packet): keep every value, as a list when repeated."""
	out = {}
	for key, value in items:
		if key in out:
			if not isinstance(out[key], list) or not getattr(out[key], "_repeated", False):
				out[key] = _Repeated([out[key]])
			out[key].append(value)
		else:
			out[key] = value
	return out


class _Repeated(list):
	_repeated = True


def _all(value):
	if value is None:
		return []
	return list(value) if isinstance(value, _Repeated) else [value]


class Stream:
	"""One direction of one QUIC stream: bytes by offset, and the frame that
	carried each byte (0 where nothing arrived)."""

	def __init__(self, stream_id):
		self.stream_id = stream_id
		self.data = bytearray()
		self.owner = array("I")  # frame number per byte (bulk captures: compact)
		self.fin = None          # final size, when a FIN was seen
		self.conflicts = 0       # retransmitted bytes that differed

	def add(self, offset, data, frame, fin):
		end = offset + len(data)
		if end > len(self.data):
			grow = end - len(self.data)
			self.owner.extend(array("I", bytes(4 * grow)))
			self.data.extend(bytes(grow))
		if fin:
			self.fin = end
		if self.owner[offset:end].count(0) == len(data):
			# Bytes not seen before (the common case): copy them at once.
			self.data[offset:end] = data
			self.owner[offset:end] = array("I", [frame]) * len(data)
			return
		for i, b in enumerate(data):
			pos = offset + i
			if self.owner[pos] == 0:
				self.data[pos] = b
				self.owner[pos] = frame
			elif self.data[pos] != b:
				self.conflicts += 1

	def contiguous(self):
		"""Bytes from offset 0 up to the first hole."""
		n = self.owner.index(0) if 0 in self.owner else len(self.owner)
		return bytes(self.data[:n])

	def holes(self):
		return self.owner.count(0)


class Connection:
	def __init__(self, number):
		self.number = number
		self.client = set()      # (addr, port) the client sent from
		self.server = None       # (addr, port)
		self.version = None
		self.frames = []         # frame numbers of its packets
		self.streams = {}        # (sender "client"/"server", stream id) -> Stream

	def stream(self, sender, stream_id):
		key = (sender, stream_id)
		if key not in self.streams:
			self.streams[key] = Stream(stream_id)
		return self.streams[key]


def _hex(s):
	return bytes.fromhex(s.replace(":", "")) if s else b""


def read(capture, keylog, timeout=600):
	"""{connection number: Connection} for every QUIC connection tshark sees."""
	cmd = ["tshark", "-n", "-r", capture, "-o", "tls.keylog_file:" + keylog, "-Y", "quic && !icmp && !icmpv6",
	       "-T", "json", "-J", "frame ip ipv6 udp quic"]
	out = subprocess.run(cmd, capture_output=True, timeout=timeout)
	if out.returncode != 0:
		raise RuntimeError("tshark failed on %s: %s" % (capture, out.stderr.decode(errors="replace")[-500:]))
	packets = json.loads(out.stdout.decode(errors="replace") or "[]", object_pairs_hook=_pairs)
	conns = {}
	for pkt in packets:
		layers = pkt["_source"]["layers"]
		frame = int(layers["frame"]["frame.number"])
		ip = layers.get("ip") or layers.get("ipv6")
		if isinstance(ip, _Repeated):   # tunnelled: the outer header is not ours
			ip = ip[-1]
		src = ip.get("ip.src") or ip.get("ipv6.src")
		dst = ip.get("ip.dst") or ip.get("ipv6.dst")
		udp = layers["udp"]
		sport, dport = int(udp["udp.srcport"]), int(udp["udp.dstport"])
		number = None
		for q in _all(layers.get("quic")):
			info = q.get("QUIC Connection information") or {}
			if info.get("quic.connection.number") is not None:
				number = int(info["quic.connection.number"])
			if number is None:
				continue
			conn = conns.setdefault(number, Connection(number))
			if not conn.frames or conn.frames[-1] != frame:
				conn.frames.append(frame)
			if conn.server is None:
				# The first packet of a connection is the client's Initial;
				# the server keeps its address, the client may move.
				conn.server = (dst, dport)
			from_client = (dst, dport) == conn.server
			if from_client:
				conn.client.add((src, sport))
			if q.get("quic.version") and conn.version is None:
				conn.version = q["quic.version"]
			short = q.get("quic.short") or {}
			for f in _all(q.get("quic.frame")) + _all(short.get("quic.frame")):
				if not isinstance(f, dict):
					continue
				ftype = int(f.get("quic.frame_type", "-1"))
				if not 0x08 <= ftype <= 0x0f:
					continue
				sid = int(f["quic.stream.stream_id"])
				offset = int(f.get("quic.stream.offset", "0"))
				data = _hex(f.get("quic.stream_data", ""))
				length = int(f.get("quic.stream.length", len(data)))
				if len(data) != length:
					raise RuntimeError("frame %d: stream %d: tshark shows %d of %d bytes"
							   % (frame, sid, len(data), length))
				conn.stream("client" if from_client else "server", sid).add(
					offset, data, frame, ftype & 0x01)
	return conns
