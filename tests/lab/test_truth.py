#!/usr/bin/env python3
"""Self-test of the lab's ground-truth tools (tools/lab/labpcap.py, truth.py),
no root needed: a hand-built capture in which the phone opens two
connections on the same 5-tuple (a port reused after the server closed
first, as the lab's many connections to one server sometimes do). Each
planted value must be placed in the packet of its own connection; merging
the two by 5-tuple lost the second connection's bytes and made the lab
tests fail now and then."""
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = os.path.join(HERE, "..", "..", "tools", "lab")
sys.path.insert(0, LAB)
import labpcap  # noqa: E402

PHONE, SERVER = "10.66.0.2", "52.1.10.12"


def ip4(a):
	return bytes(int(x) for x in a.split("."))


def checksum(b):
	if len(b) % 2:
		b += b"\0"
	s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
	while s >> 16:
		s = (s & 0xFFFF) + (s >> 16)
	return ~s & 0xFFFF


def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
	tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
	ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, ip4(src), ip4(dst))
	ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
	return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp


def connection(isn, body, t0):
	"""(ts, frame) of one short HTTP/1 exchange from the phone's port 40000."""
	return [
		(t0, frame(PHONE, SERVER, 40000, 80, isn, 0, 0x02)),
		(t0 + 0.01, frame(SERVER, PHONE, 80, 40000, 7000 + isn, isn + 1, 0x12)),
		(t0 + 0.02, frame(PHONE, SERVER, 40000, 80, isn + 1, 7001 + isn, 0x10)),
		(t0 + 0.03, frame(PHONE, SERVER, 40000, 80, isn + 1, 7001 + isn, 0x18, body)),
		(t0 + 0.04, frame(SERVER, PHONE, 80, 40000, 7001 + isn, isn + 1 + len(body), 0x11)),
	]


def main():
	body1 = b"POST /a HTTP/1.1\r\nHost: x\r\n\r\nimei=868034031518269"
	body2 = b"POST /b HTTP/1.1\r\nHost: x\r\n\r\nimsi=460011234567890"
	frames = connection(1000, body1, 100.0) + connection(5_000_000, body2, 101.0)
	with tempfile.TemporaryDirectory() as d:
		cap = os.path.join(d, "reuse.pcap")
		with open(cap, "wb") as f:
			f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
			for ts, fr in frames:
				f.write(struct.pack("<IIII", int(ts), int(ts % 1 * 1e6), len(fr), len(fr)) + fr)

		conns = labpcap.connections(labpcap.read_packets(cap))[(6, PHONE, 40000, SERVER, 80)]
		assert len(conns) == 2, "two connections on one 5-tuple, got %d" % len(conns)
		assert conns[0].assemble()[0] == body1 and conns[1].assemble()[0] == body2

		raw = os.path.join(d, "raw.jsonl")
		with open(raw, "w") as f:
			for n, (value, text, ts) in enumerate([("868034031518269", b"868034031518269", 100.5),
							       ("460011234567890", b"460011234567890", 101.5)]):
				f.write(json.dumps({"record": "datum", "type": "x", "value": value,
						    "encoding": "raw", "text": value, "field": "http.body",
						    "protocol": "http", "hostname": "x", "dst_ip": SERVER,
						    "dst_port": 80, "src_port": 40000, "transport": "tcp",
						    "wire_hex": text.hex(), "step": n, "ts": ts}) + "\n")
		out = subprocess.run([sys.executable, os.path.join(LAB, "truth.py"), raw, cap,
				      os.path.join(d, "none.keylog")], capture_output=True, text=True, check=True)
		packets = [json.loads(l)["packet"] for l in out.stdout.splitlines()]
		# Frames 4 and 9 carry the two bodies.
		assert packets == [4, 9], "packets %s, expected [4, 9]; %s" % (packets, out.stderr)
	print("truth: port reuse handled")
	return 0


if __name__ == "__main__":
	sys.exit(main())
