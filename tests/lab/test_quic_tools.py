#!/usr/bin/env python3
"""Self-test of the lab's QUIC ground-truth tools, no root needed.

- tools/lab/qpack.py on the worked examples of the RFCs: Huffman strings
  (RFC 7541, C.4), a literal field section and one that refers to dynamic
  table entries after the base (RFC 9204, B.1 and B.2), bad Huffman padding
  refused, HTTP/3 frames with a partial one at the end left out.
- On captures/demo-quic (QUIC v1 with a key update and a migration, and the
  provisional v2): tshark and the lab's own decryption agree on every
  stream byte and the frame that carried it
  (tools/lab/quic-stream-bytes.py --engine=both), and locating each datum
  of the committed ground truth again gives the packet it records.

Exit 0 when all hold, 1 otherwise, 77 when tshark is not installed.
"""
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
LAB = os.path.join(ROOT, "tools", "lab")
sys.path.insert(0, LAB)
import qpack  # noqa: E402

failures = []


def check(what, got, want):
	if got != want:
		failures.append("%s: got %r, want %r" % (what, got, want))


def test_qpack():
	check("Huffman www.example.com", qpack.huffman_decode(bytes.fromhex("f1e3c2e5f23a6ba0ab90f4ff")),
	      b"www.example.com")
	check("Huffman no-cache", qpack.huffman_decode(bytes.fromhex("a8eb10649cbf")), b"no-cache")
	try:
		qpack.huffman_decode(bytes.fromhex("f1e3c2e5f23a6ba0ab90f400"))   # zero padding
		failures.append("Huffman: padding of zeros accepted")
	except qpack.QpackError:
		pass
	# RFC 9204 B.1: a literal field line with a static name reference.
	empty = qpack.EncoderStream(b"")
	check("B.1 field section", qpack.field_section(bytes.fromhex("0000510b2f696e6465782e68746d6c"), empty),
	      [("literal", b"/index.html", None)])
	# RFC 9204 B.2: the encoder inserts two entries, the field section
	# refers to both after its base.
	enc = qpack.EncoderStream(bytes.fromhex(
		"3fbd01c00f7777772e6578616d706c652e636f6dc10c2f73616d706c652f70617468"))
	check("B.2 capacity", enc.capacity, 220)
	check("B.2 entries", [v for v, _ in enc.entries], [b"www.example.com", b"/sample/path"])
	check("B.2 field section", qpack.field_section(bytes.fromhex("03811011"), enc),
	      [("dynamic", b"www.example.com", 0), ("dynamic", b"/sample/path", 1)])
	# HEADERS (1) of 3 bytes, DATA (0) of 2, then a DATA frame cut short.
	check("frames", qpack.h3_frames(bytes.fromhex("0103aabbcc0002ddee0005ff")),
	      [(1, 2, 5), (0, 7, 9)])


def test_demo_capture():
	capture = os.path.join(ROOT, "captures", "demo-quic.pcapng")
	keylog = os.path.join(ROOT, "captures", "demo-quic.keylog")
	r = subprocess.run([sys.executable, os.path.join(LAB, "quic-stream-bytes.py"), "--engine=both", capture],
			   capture_output=True, text=True, timeout=600)
	if r.returncode != 0:
		failures.append("quic-stream-bytes --engine=both on demo-quic: %s" % r.stderr.strip())
	import truth
	loc = truth.Locator(capture, keylog)
	n = 0
	with open(os.path.join(ROOT, "captures", "demo-quic.truth.jsonl"), encoding="utf-8") as f:
		for line in f:
			rec = json.loads(line)
			if rec["record"] != "datum" or rec["protocol"] != "http3":
				continue
			n += 1
			packet, note = loc.locate(dict(rec, transport="udp"))
			check("demo-quic %s %s stream %d" % (rec["type"], rec["field"], rec["quic"]["stream_id"]),
			      (packet, note), (rec["packet"], None))
	if n == 0:
		failures.append("demo-quic.truth.jsonl plants nothing inside QUIC")
	versions = {json.loads(line).get("quic", {}).get("version")
		    for line in open(os.path.join(ROOT, "captures", "demo-quic.truth.jsonl"), encoding="utf-8")}
	check("demo-quic QUIC versions", sorted(v for v in versions if v), ["1", "2draft"])


def main():
	test_qpack()
	if not shutil.which("tshark"):
		for f in failures:
			print("FAIL: " + f)
		print("SKIP: tshark is not installed (tools/deps): the capture half did not run")
		return 1 if failures else 77
	test_demo_capture()
	for f in failures:
		print("FAIL: " + f)
	if failures:
		return 1
	print("PASS: qpack on the RFC examples; tshark and the lab decryption agree on demo-quic; "
	      "its ground truth relocates")
	return 0


if __name__ == "__main__":
	sys.exit(main())
