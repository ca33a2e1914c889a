#!/usr/bin/env python3
"""taps-quiet.py TAPS --phone NS --net NS [--router NS] [--timeout S] [--settle S]
— returns once the lab has gone quiet: every packet the phone will still
exchange has been exchanged and every tap has written every packet its
interface carried. Then the taps can be stopped without losing a frame.

A tap writes with a delay of its own: dumpcap hands packets over in blocks
(TPACKET_V3, up to a block timeout) and flushes its file about every 0.5 s,
privaudit live writes its evidence ring after each block. Meanwhile the
router's delay forwarder may hold the phone's last frames for up to a round
trip, and the server's answer to them (FIN, ACK) is still to come. A fixed
pause before stopping guesses at all of that; on a loaded machine the guess
is wrong now and then, and one tap ends up with a frame the other lacks.

TAPS (written by tools/lab/lab-env.sh) has one line per tap:
    PID NS DEV PATH BASELINE
PATH is a pcapng file, or a folder of capture-*.pcapng files (privaudit
live's evidence ring); BASELINE is the device's rx+tx packet count read once
the tap was capturing. The lab is quiet when, at once:
  1. each tap's PATH holds at least as many packets as its device has
     carried since BASELINE (a frame captured between the tap's start and
     the baseline read makes it more, never less);
  2. the phone namespace has no TCP connection that still expects a packet
     (only TIME-WAIT, or none), and the server namespace neither towards the
     phone, nor a datagram its servers have not read yet;
  3. the router's delay forwarder has written back every packet it read
     (its TUN device dly0 shows as many packets written as read);
and all of that still holds, with no device counter or tap count changed,
after --settle seconds (a frame inside the kernel between two counters,
or waiting for the forwarder to be scheduled, shows up in that time).
Each condition is waited for, never a fixed time; --timeout (default 120 s)
bounds the whole wait, and running out of it fails loudly with everything
still pending.

Exit 0 when quiet (one summary line on stderr unless LAB_QUIET is set),
1 on timeout (what was awaited on stderr), 2 on bad usage.
"""
import argparse
import glob
import json
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labpcap  # noqa: E402

PHONE_ADDRS = ("10.66.0.2", "fd66::2")
# TCP states after which a connection sends nothing more: TIME-WAIT only
# waits out old duplicates. Every other state still expects a segment.
FINAL_TCP_STATES = ("TIME-WAIT", "LISTEN", "CLOSED", "UNCONN")


class PcapngCounter:
	"""Counts the packets of a pcapng file that is still being written:
	reads only what was added since the last call and counts only complete
	blocks, so a block cut in half by the writer is counted once it is whole."""

	def __init__(self, path):
		self.path = path
		self.offset = 0
		self.count = 0
		self.endian = "<"

	def update(self):
		try:
			with open(self.path, "rb") as f:
				f.seek(self.offset)
				data = f.read()
		except FileNotFoundError:
			return self.count
		off = 0
		while off + 12 <= len(data):
			btype = struct.unpack_from(self.endian + "I", data, off)[0]
			if btype == 0x0A0D0D0A:
				bom = data[off + 8:off + 12]
				self.endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
			blen = struct.unpack_from(self.endian + "I", data, off + 4)[0]
			if blen < 12 or off + blen > len(data):
				break
			if btype == 6 and not labpcap.is_consent_marker(data[off + 28:off + blen - 4]):
				self.count += 1
			elif btype in (2, 3):  # obsolete packet block, simple packet block
				self.count += 1
			off += blen
		self.offset += off
		return self.count


class Tap:
	def __init__(self, line):
		pid, self.ns, self.dev, self.path, base = line.split()
		self.pid = None if pid == "-" else int(pid)
		self.baseline = int(base)
		self.counters = {}

	@property
	def name(self):
		return "%s/%s" % (self.ns, self.dev)

	def written(self):
		if os.path.isdir(self.path):
			for f in sorted(glob.glob(os.path.join(self.path, "capture-*.pcapng"))):
				self.counters.setdefault(f, PcapngCounter(f))
		else:
			self.counters.setdefault(self.path, PcapngCounter(self.path))
		return sum(c.update() for c in self.counters.values())


def run(cmd):
	r = subprocess.run(cmd, capture_output=True, text=True)
	if r.returncode != 0:
		raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
	return r.stdout


def link_stats(ns, dev):
	"""stats64 of one device in a namespace (rx/tx packets, dropped)."""
	j = json.loads(run(["ip", "-n", ns, "-s", "-j", "link", "show", "dev", dev]))
	return j[0]["stats64"]


def link_packets(ns, dev):
	s = link_stats(ns, dev)
	return s["rx"]["packets"] + s["tx"]["packets"]


def sockets(ns, proto):
	"""(state, recv-q, send-q, local, peer) of every TCP or UDP socket in NS."""
	out = []
	for line in run(["ss", "-N", ns, "-H", "-n", "-a", "-t" if proto == "tcp" else "-u"]).splitlines():
		f = line.split()
		if len(f) >= 5:
			out.append((f[0], int(f[1]), int(f[2]), f[3], f[4]))
	return out


def involves_phone(addr):
	host = addr.rsplit(":", 1)[0].strip("[]")
	return host in PHONE_ADDRS


def snapshot(args, taps):
	"""What is still pending right now (empty: quiet), and every number that
	must stay unchanged over the settle time."""
	pending, numbers = [], {}
	for tap in taps:
		carried = link_packets(tap.ns, tap.dev) - tap.baseline
		written = tap.written()
		numbers[tap.name] = (carried, written)
		if written < carried:
			pending.append("tap %s has written %d of the %d packets its device carried"
				       % (tap.name, written, carried))
	for state, recvq, sendq, local, peer in sockets(args.phone, "tcp"):
		if state not in FINAL_TCP_STATES or sendq:
			pending.append("phone TCP %s -> %s is %s (send queue %d)" % (local, peer, state, sendq))
	for state, recvq, sendq, local, peer in sockets(args.net, "tcp"):
		if involves_phone(peer) and (state not in FINAL_TCP_STATES or sendq):
			pending.append("server TCP %s -> %s is %s (send queue %d)" % (local, peer, state, sendq))
	for state, recvq, sendq, local, peer in sockets(args.net, "udp"):
		if recvq or sendq:
			pending.append("server UDP %s holds %d unread, %d unsent bytes" % (local, recvq, sendq))
	if args.router:
		numbers["router rt-ph"] = link_packets(args.router, "rt-ph")
		if not args.no_forwarder:
			s = link_stats(args.router, "dly0")
			# TUN: tx = handed to the forwarder, rx = written back by it.
			read, back = s["tx"]["packets"], s["rx"]["packets"] + s["rx"]["dropped"]
			numbers["forwarder"] = (read, back)
			if read != back:
				pending.append("the delay forwarder holds %d packet(s)" % (read - back))
	return pending, numbers


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	ap.add_argument("taps")
	ap.add_argument("--phone", required=True, help="the phone's namespace")
	ap.add_argument("--net", required=True, help="the servers' namespace")
	ap.add_argument("--router", help="the router's namespace (mirror and delay forwarder)")
	ap.add_argument("--no-forwarder", action="store_true", help="the lab runs without latency")
	ap.add_argument("--timeout", type=float, default=120.0)
	ap.add_argument("--settle", type=float, default=0.5)
	args = ap.parse_args()
	with open(args.taps, encoding="utf-8") as f:
		taps = [Tap(line) for line in f if line.strip()]
	if not taps:
		print("taps-quiet: no tap listed in %s" % args.taps, file=sys.stderr)
		return 2
	start = time.monotonic()
	deadline = start + args.timeout
	quiet_since, quiet_numbers, polls = None, None, 0
	while True:
		polls += 1
		pending, numbers = snapshot(args, taps)
		now = time.monotonic()
		if pending or numbers != quiet_numbers:
			quiet_since, quiet_numbers = (None, None) if pending else (now, numbers)
		elif now - quiet_since >= args.settle:
			break
		if now >= deadline:
			print("lab: waited %.0f s for the lab to go quiet; still pending:" % args.timeout,
			      file=sys.stderr)
			for p in pending or ["counters still changing: %s" % numbers]:
				print("  " + p, file=sys.stderr)
			return 1
		time.sleep(0.05)
	if not os.environ.get("LAB_QUIET"):
		taps_text = ", ".join("%s %d packets" % (t.name, numbers[t.name][1]) for t in taps)
		fwd = numbers.get("forwarder")
		print("lab: quiet after %.2f s (%d polls): %s%s" % (
			time.monotonic() - start, polls, taps_text,
			"; forwarder passed %d packets" % fwd[0] if fwd else ""), file=sys.stderr)
	return 0


if __name__ == "__main__":
	sys.exit(main())
