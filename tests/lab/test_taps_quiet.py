#!/usr/bin/env python3
"""Self-test of tools/lab/taps-quiet.py's packet counting (no root): a
pcapng file still being written is counted by complete blocks only, each
block once however the writes cut it, privaudit's consent markers are not
packets of the interface, and a ring folder counts all its files."""
import importlib.util
import os
import struct
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
	"taps_quiet", os.path.join(here, "..", "..", "tools", "lab", "taps-quiet.py"))
taps_quiet = importlib.util.module_from_spec(spec)
spec.loader.exec_module(taps_quiet)


def block(btype, body):
	body += b"\0" * (-len(body) % 4)
	n = 12 + len(body)
	return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


SHB = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
IDB = block(1, struct.pack("<HHI", 1, 0, 0))


def epb(frame):
	return block(6, struct.pack("<IIIII", 0, 0, 0, len(frame), len(frame)) + frame)


ETHERNET = b"\x02" * 12 + b"\x08\x00" + b"\x45" + b"\0" * 40
# privaudit live's consent moment: raw IPv4 to 127.0.0.1, UDP, the marker text.
MARKER = b"\x45" + b"\0" * 27 + b"PRIVAUDIT-CONSENT 2026-01-01T00:00:00Z"

failures = 0


def check(what, got, want):
	global failures
	if got != want:
		failures += 1
		print("FAIL %s: counted %d, expected %d" % (what, got, want))


with tempfile.TemporaryDirectory() as d:
	path = os.path.join(d, "tap.pcapng")
	counter = taps_quiet.PcapngCounter(path)
	check("missing file", counter.update(), 0)
	data = SHB + IDB + epb(ETHERNET) + epb(MARKER) + epb(ETHERNET)
	tail = epb(ETHERNET)
	with open(path, "wb") as f:
		f.write(data + tail[:17])
	check("two frames, a marker and half a block", counter.update(), 2)
	with open(path, "ab") as f:
		f.write(tail[17:40])
	check("the block still cut", counter.update(), 2)
	with open(path, "ab") as f:
		f.write(tail[40:])
	check("the block completed", counter.update(), 3)
	check("nothing new", counter.update(), 3)

	ring = os.path.join(d, "capture")
	os.mkdir(ring)
	for i, frames in enumerate(([ETHERNET, MARKER], [ETHERNET, ETHERNET, ETHERNET])):
		with open(os.path.join(ring, "capture-%06d.pcapng" % (i + 1)), "wb") as f:
			f.write(SHB + IDB + b"".join(epb(x) for x in frames))
	tap = taps_quiet.Tap("- ns span1 %s 0" % ring)
	check("ring folder of two files", tap.written(), 4)
	with open(os.path.join(ring, "capture-000003.pcapng"), "wb") as f:
		f.write(SHB + IDB + epb(ETHERNET))
	check("a third ring file", tap.written(), 5)

print("taps-quiet counting: %s" % ("ok" if not failures else "%d failure(s)" % failures))
sys.exit(1 if failures else 0)
