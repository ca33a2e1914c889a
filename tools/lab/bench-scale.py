#!/usr/bin/env python3
"""bench-scale.py BASE.pcapng OUT.pcapng SIZE_MB — replay a lab capture as many phones.

Copy k of the base traffic gets its own phone: IPv4 10.66.0.2 -> 10.66.<a>.<b>,
IPv6 fd66::2 -> fd66::<k+2>, MAC 8c:be:be:4a:21:07 -> 02:be:be:<k>, with IP,
TCP and UDP checksums adjusted (RFC 1624) and start times staggered, merged
in time order into one pcapng until SIZE_MB is reached. Copy 0 is the lab
phone itself, unchanged. The result has many concurrent flows from many
clients, all with real (replayed) TCP/TLS exchanges; the base key log still
decrypts every copy's TLS.
"""
import heapq
import ipaddress
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labpcap  # noqa: E402

PHONE4 = ipaddress.IPv4Address("10.66.0.2").packed
PHONE6 = ipaddress.IPv6Address("fd66::2").packed
PHONE_MAC = bytes.fromhex("8cbebe4a2107")
STAGGER = 0.037  # seconds between the starts of two copies


def csum_adjust(csum, old, new):
	"""Incremental one's-complement checksum update for old -> new bytes."""
	s = (~csum) & 0xFFFF
	for i in range(0, len(old), 2):
		s += (~((old[i] << 8) | old[i + 1])) & 0xFFFF
		s += (new[i] << 8) | new[i + 1]
	while s >> 16:
		s = (s & 0xFFFF) + (s >> 16)
	return (~s) & 0xFFFF


def rewrite(frame, k, new4, new6, new_mac):
	f = bytearray(frame)
	if f[0:6] == PHONE_MAC:
		f[0:6] = new_mac
	if f[6:12] == PHONE_MAC:
		f[6:12] = new_mac
	etype = struct.unpack_from("!H", f, 12)[0] if len(f) >= 14 else 0
	if etype == 0x0806 and len(f) >= 42:   # ARP: sender/target hardware+protocol addresses
		for off in (22, 32):
			if f[off:off + 6] == PHONE_MAC:
				f[off:off + 6] = new_mac
		for off in (28, 38):
			if f[off:off + 4] == PHONE4:
				f[off:off + 4] = new4
		return bytes(f)
	if etype == 0x0800 and len(f) >= 34:
		ihl = (f[14] & 0x0F) * 4
		proto = f[23]
		changed = False
		for off in (26, 30):
			if f[off:off + 4] == PHONE4:
				old = bytes(f[off:off + 4])
				f[off:off + 4] = new4
				ipc = struct.unpack_from("!H", f, 24)[0]
				struct.pack_into("!H", f, 24, csum_adjust(ipc, old, new4))
				l4 = 14 + ihl
				co = l4 + (16 if proto == 6 else 6)
				if proto in (6, 17) and len(f) >= co + 2 and not (struct.unpack_from("!H", f, 20)[0] & 0x1FFF):
					c = struct.unpack_from("!H", f, co)[0]
					if not (proto == 17 and c == 0):
						struct.pack_into("!H", f, co, csum_adjust(c, old, new4) or (0xFFFF if proto == 17 else 0))
				changed = True
		return bytes(f) if changed or f != frame else frame
	if etype == 0x86DD and len(f) >= 54:
		proto = f[20]
		for off in (22, 38):
			if f[off:off + 16] == PHONE6:
				old = bytes(f[off:off + 16])
				f[off:off + 16] = new6
				co = 54 + {6: 16, 17: 6, 58: 2}.get(proto, -100)
				if co >= 54 and len(f) >= co + 2:
					c = struct.unpack_from("!H", f, co)[0]
					struct.pack_into("!H", f, co, csum_adjust(c, old, new6))
		return bytes(f)
	return bytes(f)


def pcapng_writer(path):
	out = open(path, "wb")
	shb_body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
	out.write(struct.pack("<II", 0x0A0D0D0A, 12 + len(shb_body)) + shb_body + struct.pack("<I", 12 + len(shb_body)))
	idb_body = struct.pack("<HHI", 1, 0, 262144) + struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)
	out.write(struct.pack("<II", 1, 12 + len(idb_body)) + idb_body + struct.pack("<I", 12 + len(idb_body)))
	return out


def write_epb(out, ts, data):
	t = int(round(ts * 1e9))
	pad = (-len(data)) & 3
	blen = 32 + len(data) + pad
	out.write(struct.pack("<IIIIIII", 6, blen, 0, t >> 32, t & 0xFFFFFFFF, len(data), len(data)))
	out.write(data + b"\0" * pad + struct.pack("<I", blen))


def main():
	if len(sys.argv) != 4:
		print(__doc__, file=sys.stderr)
		return 2
	base = labpcap.read_packets(sys.argv[1])
	target = int(sys.argv[3]) * 1000 * 1000
	base_bytes = sum(len(p.data) + 32 for p in base)
	copies = max(1, -(-target // base_bytes))
	if copies > 60000:
		print("bench-scale: size too large for the address plan", file=sys.stderr)
		return 2
	t0 = base[0].ts

	def copy(k):
		new4 = bytes([10, 66, 1 + k // 250, 2 + k % 250])
		new6 = ipaddress.IPv6Address("fd66::%x" % (k + 2)).packed
		new_mac = bytes([0x02, 0xBE, 0xBE, (k >> 16) & 0xFF, (k >> 8) & 0xFF, k & 0xFF])
		for p in base:
			data = p.data if k == 0 else rewrite(p.data, k, new4, new6, new_mac)
			yield (p.ts - t0 + k * STAGGER + t0, k, data)

	out = pcapng_writer(sys.argv[2])
	n = written = 0
	for ts, _k, data in heapq.merge(*(copy(k) for k in range(copies))):
		write_epb(out, ts, data)
		n += 1
		written += len(data)
	out.close()
	print("bench-scale: %d copies of %d packets: %d packets, %d MB of frames"
	      % (copies, len(base), n, written // 1000000))
	return 0


if __name__ == "__main__":
	sys.exit(main())
